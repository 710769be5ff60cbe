//! The compiled filter, run by the interpreter, against `Policy::verdict`.

use super::gen::Rng;
use super::*;
use crate::policy::{MAX_CLAUSES, MAX_CMPS};

/// `samples` random syscalls against the filter of `p`; how many ran.
pub fn agree(p: &Policy, arch: &Arch, rng: &mut Rng, samples: usize) -> usize {
    let prog = compile(p, arch, &Protect::none()).unwrap_or_else(|e| panic!("{e:?} for {p:?}"));
    interp::check(&prog).unwrap();
    for _ in 0..samples {
        let d = rng.syscall(arch, p);
        let want = ret_value(p.verdict(arch, &d));
        let got = interp::run(&prog, &d).unwrap();
        if got != want {
            panic!(
                "{d:?}: filter {got:#x}, policy {want:#x}\n{p:?}\n{}",
                listing(&prog, arch)
            );
        }
    }
    samples
}

/// `agree` for the filter of `p` compiled under `pr`, against
/// `verdict_guarded`: half the syscalls are the guarded ones.
pub fn agree_protected(
    p: &Policy,
    arch: &Arch,
    pr: &Protect,
    rng: &mut Rng,
    samples: usize,
) -> usize {
    let prog = compile(p, arch, pr).unwrap_or_else(|e| panic!("{e:?} for {p:?}"));
    interp::check(&prog).unwrap();
    let mut g = Guards::default();
    assert!(protect::guards(p, arch, pr, &mut g));
    for _ in 0..samples {
        let d = if rng.chance(50) {
            rng.guarded_syscall(arch, pr)
        } else {
            rng.syscall(arch, p)
        };
        let want = ret_value(p.verdict_guarded(arch, &d, &g));
        let got = interp::run(&prog, &d).unwrap();
        if got != want {
            panic!(
                "{d:?}: filter {got:#x}, policy {want:#x}\n{pr:?}\n{p:?}\n{}",
                listing(&prog, arch)
            );
        }
    }
    samples
}

#[test]
fn random_policies_and_contexts_agree_with_verdict() {
    let mut cases = 0;
    for arch in [&X86_64, &AARCH64] {
        let mut rng = Rng::new(arch.audit as u64 ^ 12);
        for i in 0..600 {
            let n = rng.pick(&[0, 1, 5, 20, 60, 150]);
            let p = rng.policy(arch, n, if i % 3 == 0 { 0 } else { 40 });
            let pr = rng.protect();
            cases += agree_protected(&p, arch, &pr, &mut rng, 60);
        }
    }
    assert!(cases >= 70_000);
}

#[test]
fn random_policies_agree_with_verdict() {
    let mut cases = 0;
    for arch in [&X86_64, &AARCH64] {
        let mut rng = Rng::new(arch.audit as u64);
        for i in 0..1500 {
            let n = rng.pick(&[0, 1, 2, 5, 20, 60, 150]);
            let p = rng.policy(arch, n, if i % 3 == 0 { 0 } else { 40 });
            cases += agree(&p, arch, &mut rng, 30);
        }
    }
    println!("{cases} cases");
    assert!(cases >= 80_000);
}

/// An ABI bit other than x32's is tested with `jset`.
#[test]
fn other_abi_bits() {
    let mut rng = Rng::new(3);
    for bit in [1 << 31, 1 << 20, 1, 0x4000_0001] {
        let arch = Arch {
            x32_bit: bit,
            ..X86_64
        };
        for _ in 0..200 {
            let n = rng.pick(&[0, 3, 30]);
            let p = rng.policy(&arch, n, 30);
            agree(&p, &arch, &mut rng, 30);
        }
    }
}

#[test]
fn a_rule_for_every_syscall() {
    for arch in [&X86_64, &AARCH64] {
        let mut rng = Rng::new(7);
        let mut p = Policy::new();
        p.default = Action::Kill;
        let mut nrs: Vec<u32> = arch.syscalls().map(|s| s.1).collect();
        nrs.sort_unstable();
        for nr in nrs {
            let mut r = rule(nr, rng.action());
            if rng.chance(20) {
                r.cond = rng.cond(&mut p);
                r.otherwise = rng.action();
            }
            p.rules.push(r).unwrap();
        }
        let prog = compile(&p, arch, &Protect::none()).unwrap();
        println!(
            "{}: {} rules, {} instructions",
            arch.name,
            p.rules.len(),
            prog.len()
        );
        agree(&p, arch, &mut rng, 20_000);
    }
}

/// Many conditional rules: the clauses are shared, as the pools are
/// smaller than the rules times their conditions.
pub fn many_conditions(arch: &Arch, rng: &mut Rng, rules: usize) -> Policy<'static> {
    let mut p = Policy::new();
    p.default = Action::Allow;
    while p.clauses.len() < 150 {
        let m = 1 + rng.below(2);
        rng.clause(&mut p, m);
    }
    let mut nrs: Vec<u32> = arch.syscalls().map(|s| s.1).collect();
    nrs.sort_unstable();
    nrs.truncate(rules);
    for nr in nrs {
        let len = 1 + rng.below(2) as u16;
        let start = rng.below(p.clauses.len() - 2) as u16;
        let r = Rule {
            cond: Some(Span { start, len }),
            otherwise: Action::Errno(1),
            ..rule(nr, Action::Allow)
        };
        p.rules.push(r).unwrap();
    }
    p
}

#[test]
fn three_hundred_conditional_rules() {
    for arch in [&X86_64, &AARCH64] {
        let mut rng = Rng::new(300);
        let p = many_conditions(arch, &mut rng, 300);
        let prog = compile(&p, arch, &Protect::none()).unwrap();
        println!(
            "{}: {} rules, {} instructions",
            arch.name,
            p.rules.len(),
            prog.len()
        );
        assert!(prog.len() > 1000, "long enough to need far jumps");
        agree(&p, arch, &mut rng, 20_000);
    }
}

#[test]
fn absurd_policies_are_too_long() {
    for arch in [&X86_64, &AARCH64] {
        let mut p = Policy::new();
        for i in 0..MAX_CMPS {
            p.cmps
                .push(Cmp {
                    arg: (i % 6) as u8,
                    op: Op::Ne,
                    value: i as u64,
                })
                .unwrap();
        }
        for i in 0..MAX_CLAUSES {
            p.clauses
                .push(Span {
                    start: (2 * i) as u16,
                    len: 2,
                })
                .unwrap();
        }
        let cond = Some(Span {
            start: 0,
            len: MAX_CLAUSES as u16,
        });
        for (_, nr) in arch.syscalls().take(400) {
            let _ = p.rules.push(Rule {
                cond,
                otherwise: Action::Kill,
                ..rule(nr, Action::Allow)
            });
        }
        p.rules.sort_unstable_by_key(|r| r.nr);
        assert_eq!(
            compile(&p, arch, &Protect::none()),
            Err(CompileError::TooLong)
        );
    }
}

#[test]
fn broken_policies_are_errors() {
    let arch = &X86_64;
    let mut p = Policy::new();
    p.rules.push(rule(5, Action::Allow)).unwrap();
    p.rules.push(rule(3, Action::Allow)).unwrap();
    assert_eq!(
        compile(&p, arch, &Protect::none()),
        Err(CompileError::Invalid)
    );
    p.rules[1].nr = 5;
    assert_eq!(
        compile(&p, arch, &Protect::none()),
        Err(CompileError::Invalid)
    );
    p.rules.pop();
    p.rules[0].cond = Some(Span { start: 0, len: 1 });
    assert_eq!(
        compile(&p, arch, &Protect::none()),
        Err(CompileError::Invalid)
    );
    p.clauses.push(Span { start: 0, len: 2 }).unwrap();
    assert_eq!(
        compile(&p, arch, &Protect::none()),
        Err(CompileError::Invalid)
    );
    p.cmps
        .push(Cmp {
            arg: 6,
            op: Op::Eq,
            value: 0,
        })
        .unwrap();
    p.cmps
        .push(Cmp {
            arg: 0,
            op: Op::Eq,
            value: 0,
        })
        .unwrap();
    assert_eq!(
        compile(&p, arch, &Protect::none()),
        Err(CompileError::Invalid)
    );
    p.cmps[0].arg = 5;
    assert!(compile(&p, arch, &Protect::none()).is_ok());
}

/// Policies no parser would make: rules at the ends of the number space,
/// empty conditions, clauses of nothing, actions equal on both sides.
#[test]
fn odd_policies_never_panic() {
    let mut rng = Rng::new(99);
    let mut compiled = 0;
    for _ in 0..3000 {
        let arch = rng.pick(&[&X86_64, &AARCH64]);
        let mut p = Policy::new();
        p.default = rng.action();
        for _ in 0..rng.below(20) {
            let _ = p.cmps.push(rng.cmp());
        }
        for _ in 0..rng.below(10) {
            let start = rng.below(p.cmps.len() + 1) as u16;
            let len = rng.below(p.cmps.len() + 1 - start as usize) as u16;
            let _ = p.clauses.push(Span { start, len });
        }
        let mut nrs: Vec<u32> = (0..rng.below(12))
            .map(|_| {
                let r = rng.next() as u32;
                rng.pick(&[0, 1, u32::MAX, u32::MAX - 1, 59, 221, 322, 281, r])
            })
            .collect();
        nrs.sort_unstable();
        nrs.dedup();
        for nr in nrs {
            let mut r = rule(nr, rng.action());
            if rng.chance(60) {
                let start = rng.below(p.clauses.len() + 1) as u16;
                let len = rng.below(p.clauses.len() + 1 - start as usize) as u16;
                r.cond = Some(Span { start, len });
                r.otherwise = if rng.chance(20) {
                    r.action
                } else {
                    rng.action()
                };
            }
            p.rules.push(r).unwrap();
        }
        agree(&p, arch, &mut rng, 30);
        compiled += 1;
    }
    assert_eq!(compiled, 3000);
}
