//! The kernel's verifier and the kernel's answers: filters loaded in a
//! forked child, which reports by its exit code. Here rather than beside
//! the compiler: loading a filter takes `unsafe` and libc, which the
//! language core (`src/core`) forbids.

use vigil::arch::Arch;
use vigil::bpf::insn::{JA, JMP};
use vigil::bpf::{compile, disasm, Insn};
use vigil::out::Sink;
use vigil::policy::protect::Protect;
use vigil::policy::{Action, Cmp, Op, Policy, Rule, Span};
use vigil::tables::native;

/// A rule on `nr` with no condition.
fn rule(nr: u32, action: Action) -> Rule {
    Rule {
        otherwise: Action::Allow,
        ..Rule::plain(nr, action)
    }
}

/// `prog` disassembled, for a failure's message.
fn listing(prog: &[Insn], arch: &Arch) -> String {
    struct Text(Vec<u8>);
    impl Sink for Text {
        fn put(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }
    let mut t = Text(Vec::new());
    disasm(prog, arch, &mut t);
    String::from_utf8(t.0).unwrap()
}

/// xorshift64*: the same filter on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

/// A policy of `rules` conditional rules over 150 clauses of one or two
/// comparisons, each of any operator and 64-bit value: long enough that the
/// compiler needs far jumps.
fn many_conditions(arch: &Arch, rng: &mut Rng, rules: usize) -> Policy<'static> {
    let mut p = Policy::new();
    p.default = Action::Allow;
    while p.clauses.len() < 150 {
        let start = p.cmps.len() as u16;
        let len = 1 + rng.below(2) as u16;
        for _ in 0..len {
            let value = (rng.below(1 << 16) as u64) << (16 * rng.below(4));
            let op = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge][rng.below(6)];
            let op = match rng.below(7) {
                6 => Op::MaskedEq(value | 0xff),
                _ => op,
            };
            let arg = rng.below(6) as u8;
            p.cmps.push(Cmp { arg, op, value }).unwrap();
        }
        p.clauses.push(Span { start, len }).unwrap();
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

/// Load `prog` in a child, run `check` there, return the child's exit code:
/// 100 and 101 mean the kernel refused the filter.
fn in_child(prog: &[Insn], check: fn() -> i32) -> i32 {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: the child only makes syscalls and exits; it allocates nothing
    // and takes no locks another thread could hold.
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let code = if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                100
            } else if libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &fprog)
                != 0
            {
                101
            } else {
                check()
            };
            libc::_exit(code);
        }
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        assert!(libc::WIFEXITED(status), "child died: status {status:#x}");
        libc::WEXITSTATUS(status)
    }
}

/// `getppid(arg)`: its result, or minus its errno.
fn getppid(arg: u64) -> i64 {
    // SAFETY: getppid takes no pointers.
    unsafe {
        let r = libc::syscall(libc::SYS_getppid, arg);
        if r == -1 {
            -(*libc::__errno_location() as i64)
        } else {
            r
        }
    }
}

fn getpid() -> i64 {
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_getpid) }
}

/// What the child checks: `getppid(7)` fails with 42, plain `getppid` and
/// `getpid` work.
fn check_getppid() -> i32 {
    if getppid(7) != -42 {
        return 1;
    }
    if getppid(0) <= 0 {
        return 2;
    }
    if getpid() <= 0 {
        return 3;
    }
    0
}

#[test]
fn kernel_runs_a_small_filter() {
    let arch = native();
    let mut p = Policy::new();
    p.default = Action::Allow;
    let nr = arch.nr("getppid").unwrap();
    p.rules.push(rule(nr, Action::Errno(42))).unwrap();
    let prog = compile(&p, arch, &Protect::none()).unwrap();
    fn always_42() -> i32 {
        match (getppid(0), getppid(7), getpid()) {
            (-42, -42, pid) if pid > 0 => 0,
            _ => 1,
        }
    }
    assert_eq!(in_child(&prog, always_42), 0, "\n{}", listing(&prog, arch));
}

#[test]
fn kernel_takes_a_long_filter() {
    let arch = native();
    let mut rng = Rng(42u64.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut p = many_conditions(arch, &mut rng, 300);
    // What the child needs must work; getppid is checked on its argument.
    let s = p.cmps.len() as u16;
    p.cmps
        .push(Cmp {
            arg: 0,
            op: Op::Eq,
            value: 7,
        })
        .unwrap();
    let clause = p.clauses.len() as u16;
    p.clauses.push(Span { start: s, len: 1 }).unwrap();
    for name in ["exit", "exit_group", "getpid", "getppid"] {
        let nr = arch.nr(name).unwrap();
        let r = p.rules.iter_mut().find(|r| r.nr == nr).unwrap();
        (r.action, r.cond, r.otherwise) = (Action::Allow, None, Action::Allow);
        if name == "getppid" {
            (r.action, r.cond) = (
                Action::Errno(42),
                Some(Span {
                    start: clause,
                    len: 1,
                }),
            );
        }
    }
    let prog = compile(&p, arch, &Protect::none()).unwrap();
    assert!(prog.len() > 1000, "{}", prog.len());
    assert!(
        prog.iter().any(|i| i.code == JMP | JA),
        "no far jumps to test"
    );
    assert_eq!(
        in_child(&prog, check_getppid),
        0,
        "\n{}",
        listing(&prog, arch)
    );
}
