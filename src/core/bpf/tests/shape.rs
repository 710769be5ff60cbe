//! The filter's shape: what the kernel's action cache makes of it, how many
//! instructions a syscall runs through.

use super::diff::many_conditions;
use super::gen::Rng;
use super::*;

/// The kernel's `seccomp_is_const_allow` (kernel/seccomp.c), written from
/// its description: follow the filter with only `nr` and `arch` known; give
/// up on anything else.
fn const_allow(prog: &[Insn], arch: u32, nr: u32) -> bool {
    let mut a = 0u32;
    let mut pc = 0usize;
    while let Some(i) = prog.get(pc) {
        let k = i.k;
        match i.code {
            c if c == LD | W | ABS => match k {
                OFF_NR => a = nr,
                OFF_ARCH => a = arch,
                _ => return false,
            },
            c if c == RET | K => return k == RET_ALLOW,
            c if c == JMP | JA => pc += k as usize,
            c if c == JMP | JEQ | K
                || c == JMP | JGE | K
                || c == JMP | JGT | K
                || c == JMP | JSET | K =>
            {
                let taken = match c & 0xf0 {
                    JEQ => a == k,
                    JGE => a >= k,
                    JGT => a > k,
                    _ => a & k != 0,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            c if c == ALU | AND | K => a &= k,
            _ => return false,
        }
        pc += 1;
    }
    panic!("ran off the end");
}

/// Is `nr` allowed without a condition, by its rule or by the default?
fn plainly_allowed(p: &Policy, arch: &Arch, nr: u32) -> bool {
    if arch.forced_notify.contains(&nr) {
        return false;
    }
    match p.rule(nr) {
        None => p.default == Action::Allow,
        Some(r) => r.action == Action::Allow && r.cond.is_none() && p.guard(nr).is_none(),
    }
}

#[test]
fn always_allowed_syscalls_are_cacheable() {
    let mut rng = Rng::new(5);
    for arch in [&X86_64, &AARCH64] {
        for i in 0..200 {
            let n = rng.pick(&[10, 50, 200]);
            let mut p = rng.policy(arch, n, 30);
            if i % 2 == 0 {
                p.default = Action::Allow;
            }
            if i == 0 {
                p = many_conditions(arch, &mut rng, 300);
            }
            let prog = compile(&p, arch, &Protect::none()).unwrap();
            let (mut cached, mut conditional) = (0, 0);
            for nr in 0..600 {
                let plain = plainly_allowed(&p, arch, nr);
                let emulated = const_allow(&prog, arch.audit, nr);
                assert!(
                    !plain || emulated,
                    "nr {nr} not cached\n{}",
                    listing(&prog, arch)
                );
                if emulated {
                    // Then no argument may make a difference.
                    for _ in 0..20 {
                        let mut d = rng.syscall(arch, &p);
                        (d.nr, d.arch) = (nr as i32, arch.audit);
                        assert_eq!(p.verdict(arch, &d), Ret::Allow, "nr {nr}: {d:?}");
                    }
                }
                cached += emulated as usize;
                conditional += p.rule(nr).is_some_and(|r| r.cond.is_some()) as usize;
            }
            assert!(
                i % 2 == 1 || cached > 0 || p.rules.len() > 300,
                "{cached} {conditional}"
            );
            // Another arch, and x32, never pass.
            assert!(!const_allow(&prog, arch.audit ^ 1, 0));
            if arch.x32_bit != 0 {
                assert!(!const_allow(&prog, arch.audit, arch.x32_bit));
            }
        }
    }
}

/// The most instructions any syscall number runs through, for syscalls with
/// a constant outcome and for those with an argument check.
fn worst_paths(p: &Policy, arch: &Arch, rng: &mut Rng) -> (usize, usize) {
    let prog = compile(p, arch, &Protect::none()).unwrap();
    let (mut constant, mut checked) = (0, 0);
    let mut nrs: Vec<u32> = (0..1100).collect();
    nrs.extend([u32::MAX, 0x4000_0000, 0x3fff_ffff, 0x8000_0000]);
    for nr in nrs {
        let is_cond =
            p.rule(nr).is_some_and(|r| r.cond.is_some()) && !arch.forced_notify.contains(&nr);
        for _ in 0..if is_cond { 50 } else { 1 } {
            let mut d = rng.syscall(arch, p);
            (d.nr, d.arch) = (nr as i32, arch.audit);
            let (_, n) = interp::run_counted(&prog, &d).unwrap();
            let worst = if is_cond { &mut checked } else { &mut constant };
            *worst = (*worst).max(n);
        }
    }
    (constant, checked)
}

#[test]
fn dispatch_is_logarithmic() {
    let mut rng = Rng::new(11);
    for arch in [&X86_64, &AARCH64] {
        for n in [0, 1, 10, 100, 300, 1000] {
            let p = rng.policy(arch, n, 0);
            let (constant, _) = worst_paths(&p, arch, &mut rng);
            let intervals = 2 * p.rules.len() + 5;
            let log = usize::BITS - intervals.leading_zeros();
            println!(
                "{}: {} rules: worst path {constant}",
                arch.name,
                p.rules.len()
            );
            // 4 header, the tree, a stepping stone or two, the ret.
            assert!(
                constant <= 4 + log as usize + 3,
                "{constant} for {} rules",
                p.rules.len()
            );
        }
        let p = many_conditions(arch, &mut rng, 300);
        let (constant, checked) = worst_paths(&p, arch, &mut rng);
        println!(
            "{}: 300 conditional rules: worst path {constant}, with argument checks {checked}",
            arch.name
        );
        // Two clauses of two comparisons are at most 20 instructions.
        assert!(checked <= 16 + 20, "{checked}");
    }
}

/// The numbers the brief asks for in the report.
#[test]
fn report_path_lengths() {
    let mut rng = Rng::new(100);
    for arch in [&X86_64, &AARCH64] {
        let mut p = rng.policy(arch, 140, 0);
        p.rules.truncate(100);
        p.default = Action::Kill;
        let prog = compile(&p, arch, &Protect::none()).unwrap();
        let (constant, _) = worst_paths(&p, arch, &mut rng);
        let d = SyscallData {
            nr: 5000,
            arch: arch.audit,
            args: [0; 6],
        };
        let (_, default) = interp::run_counted(&prog, &d).unwrap();
        println!(
            "{}: {} rules, {} instructions, worst path {constant}, default path {default}",
            arch.name,
            p.rules.len(),
            prog.len()
        );
    }
}

/// The bench's realistic policy (section 2 of `vigil-bench`), as written.
#[path = "../../../../tests/bench/src/policy.rs"]
#[allow(dead_code)]
mod bench_policy;

/// The worst and mean number of instructions over every syscall number
/// 0-511 with the bench's argument vectors, and the path of getppid.
fn bench_paths(prog: &[Insn], arch: &Arch) -> (usize, f64, usize) {
    let samples = bench_policy::arg_samples();
    let (mut worst, mut sum, mut n) = (0, 0, 0);
    for nr in 0..512 {
        for a in &samples {
            let (_, k) = interp::run_counted(prog, &data(arch, nr, *a)).unwrap();
            worst = worst.max(k);
            sum += k;
            n += 1;
        }
    }
    let getppid = arch.nr("getppid").unwrap();
    let (_, g) = interp::run_counted(prog, &data(arch, getppid, [0; 6])).unwrap();
    (worst, sum as f64 / n as f64, g)
}

/// What vigil's protection costs the bench's policy: the guarded calls it
/// allows (fcntl, kill, wait4, ...) get an argument check; getppid, the
/// hot path, stays cacheable and no longer.
#[test]
fn protection_keeps_the_bench_hot_path() {
    let text = bench_policy::vigil_text();
    let arch = &X86_64;
    let p = crate::policy::parse(&text, arch).unwrap();
    let getppid = arch.nr("getppid").unwrap();
    let mut run = Protect::pid1(&[4242]);
    run.pgrps.push(4242).unwrap();
    let mut rows = Vec::new();
    for (what, pr) in [
        ("unprotected (before)", Protect::none()),
        ("PID 1", Protect::pid1(&[])),
        ("vigil run", run),
    ] {
        let prog = compile(&p, arch, &pr).unwrap();
        assert!(const_allow(&prog, arch.audit, getppid), "{what}");
        let (worst, mean, g) = bench_paths(&prog, arch);
        println!(
            "bench policy, {what}: {} instructions, worst path {worst}, mean {mean:.1}, getppid {g}",
            prog.len()
        );
        rows.push((worst, g));
    }
    // getppid's path (run only on its first call: cached after) and the
    // worst path grow by at most one level of the search tree.
    for &(worst, g) in &rows[1..] {
        assert!(g <= rows[0].1 + 1, "{rows:?}");
        assert!(worst <= rows[0].0 + 4, "{rows:?}");
    }
}
