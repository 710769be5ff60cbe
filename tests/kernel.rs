//! The kernel's verifier and the kernel's answers: filters loaded in a
//! forked child, which reports by its exit code.

use super::diff::many_conditions;
use super::gen::Rng;
use super::*;
use crate::tables::native;

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
    let mut rng = Rng::new(42);
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
