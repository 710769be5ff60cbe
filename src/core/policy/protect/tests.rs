use super::*;
use crate::policy::parse;
use crate::tables::{AARCH64, X86_64};

fn nr(arch: &Arch, name: &str) -> u32 {
    arch.nr(name).unwrap()
}

fn built(text: &str, arch: &Arch, pr: &Protect) -> Guards {
    let p = parse(text, arch).unwrap();
    let mut g = Guards::default();
    assert!(guards(&p, arch, pr, &mut g));
    g
}

fn run_ctx() -> Protect {
    let mut p = Protect::default();
    p.pids.push(4242).unwrap();
    p.pgrps.push(4000).unwrap();
    p.uid = 1000;
    p.broadcast = true;
    p
}

fn a(x0: u64, x1: u64, x2: u64) -> [u64; 6] {
    [x0, x1, x2, 0, 0, 0]
}

const SIGTERM: u64 = 15;

#[test]
fn pid1_cannot_be_signalled_any_way() {
    for arch in [&X86_64, &AARCH64] {
        let g = built("default allow\n", arch, &Protect::pid1(&[]));
        let deny = |name: &str, args| g.check(nr(arch, name), &args);
        // The README's old rule compared all 64 bits: the kernel reads 32.
        assert_eq!(deny("kill", a(1, SIGTERM, 0)), Some(EPERM));
        assert_eq!(deny("kill", a(0x1_0000_0001, SIGTERM, 0)), Some(EPERM));
        assert_eq!(
            deny("kill", a(0xffff_ffff_0000_0001, SIGTERM, 0)),
            Some(EPERM)
        );
        assert_eq!(deny("kill", a(2, SIGTERM, 0)), None);
        // kill(-1) never reaches PID 1.
        assert_eq!(deny("kill", a(u64::MAX, SIGTERM, 0)), None);
        assert_eq!(deny("kill", a(0, SIGTERM, 0)), None);
        assert_eq!(deny("tkill", a(1, SIGTERM, 0)), Some(EPERM));
        assert_eq!(deny("tgkill", a(1, 1, SIGTERM)), Some(EPERM));
        assert_eq!(deny("tgkill", a(7, 1, SIGTERM)), Some(EPERM));
        assert_eq!(deny("tgkill", a(7, 8, SIGTERM)), None);
        assert_eq!(deny("rt_sigqueueinfo", a(1, 10, 0)), Some(EPERM));
        assert_eq!(deny("rt_tgsigqueueinfo", a(1, 1, 10)), Some(EPERM));
        assert_eq!(deny("pidfd_open", a(1, 0, 0)), Some(EPERM));
        assert_eq!(deny("pidfd_open", a(99, 0, 0)), None);
        // A /proc/1 directory fd is a pidfd to it: refused outright,
        // ENOSYS so that programs fall back to kill.
        assert_eq!(deny("pidfd_send_signal", a(3, SIGTERM, 0)), Some(ENOSYS));
        // A pidfd of PID 1 also comes from a fanotify event for a file PID
        // 1 opened: no taking its descriptors with one.
        assert_eq!(deny("pidfd_getfd", a(3, 5, 0)), Some(EPERM));
        // fcntl: F_SETOWN to PID 1 (or its group), F_SETOWN_EX always.
        assert_eq!(deny("fcntl", a(3, 8, 1)), Some(EPERM));
        assert_eq!(deny("fcntl", a(3, 8, 0x1_0000_0001)), Some(EPERM));
        assert_eq!(deny("fcntl", a(3, 8, u32::MAX as u64)), Some(EPERM));
        assert_eq!(deny("fcntl", a(3, 0x1_0000_0008, 1)), Some(EPERM));
        assert_eq!(deny("fcntl", a(3, 8, 77)), None);
        assert_eq!(deny("fcntl", a(3, 15, 0x7fff_0000)), Some(EPERM));
        assert_eq!(deny("fcntl", a(3, 10, 15)), None, "F_SETSIG alone");
        assert_eq!(
            deny("fcntl", a(3, 4, 0x2000)),
            None,
            "F_SETFL O_ASYNC alone"
        );
        assert_eq!(deny("ioctl", a(3, 0x8901, 0x7fff_0000)), Some(EPERM));
        assert_eq!(deny("ioctl", a(3, 0x8902, 0x7fff_0000)), Some(EPERM));
        assert_eq!(deny("ioctl", a(1, 0x5401, 0x7fff_0000)), None);
        // Tracing, memory, limits, priorities.
        assert_eq!(deny("ptrace", a(0x4206, 1, 0)), Some(EPERM));
        assert_eq!(deny("ptrace", a(16, 0x1_0000_0001, 0)), Some(EPERM));
        assert_eq!(deny("ptrace", a(16, 5, 0)), None);
        for n in [
            "process_vm_readv",
            "process_vm_writev",
            "prlimit64",
            "sched_setattr",
            "sched_setscheduler",
            "sched_setparam",
            "sched_setaffinity",
            "migrate_pages",
            "move_pages",
        ] {
            assert_eq!(deny(n, a(1, 0, 0)), Some(EPERM), "{n}");
            assert_eq!(deny(n, a(0, 0, 0)), None, "{n} on itself");
        }
        assert_eq!(deny("perf_event_open", a(0x7fff_0000, 1, 0)), Some(EPERM));
        assert_eq!(deny("perf_event_open", a(0x7fff_0000, 0, 0)), None);
        assert_eq!(deny("setpriority", a(0, 1, 19)), Some(EPERM));
        assert_eq!(deny("setpriority", a(2, 0, 19)), Some(EPERM), "all of root");
        assert_eq!(deny("setpriority", a(0, 0, 19)), None);
        assert_eq!(deny("setpriority", a(2, 1000, 19)), None);
        assert_eq!(deny("ioprio_set", a(1, 1, 0)), Some(EPERM));
        assert_eq!(deny("ioprio_set", a(3, 0, 0)), Some(EPERM));
        assert_eq!(deny("ioprio_set", a(1, 0, 0)), None);
        for name in GUARDED.split(' ') {
            assert!(g.item(nr(arch, name)).is_some(), "{name}");
        }
    }
}

#[test]
fn vigil_run_is_protected_by_its_own_pid() {
    for arch in [&X86_64, &AARCH64] {
        let g = built("default allow\n", arch, &run_ctx());
        let deny = |name: &str, args| g.check(nr(arch, name), &args);
        assert_eq!(deny("kill", a(4242, 9, 0)), Some(EPERM));
        assert_eq!(deny("kill", a(1, 9, 0)), None);
        // kill(-1) reaches vigil when it is not the namespace's init.
        assert_eq!(deny("kill", a(u64::MAX, 9, 0)), Some(EPERM));
        assert_eq!(deny("kill", a((-4000i64) as u64, 9, 0)), Some(EPERM));
        assert_eq!(deny("kill", a((-4000i64 as u32) as u64, 9, 0)), Some(EPERM));
        assert_eq!(deny("fcntl", a(3, 8, (-4000i64) as u64)), Some(EPERM));
        assert_eq!(deny("fcntl", a(3, 8, (-4242i64) as u64)), Some(EPERM));
        assert_eq!(deny("setpriority", a(1, 4000, 19)), Some(EPERM));
        assert_eq!(deny("setpriority", a(2, 1000, 19)), Some(EPERM));
        assert_eq!(deny("ioprio_set", a(2, 4000, 0)), Some(EPERM));
        assert_eq!(deny("ptrace", a(0x4206, 4242, 0)), Some(EPERM));
        assert_eq!(deny("ptrace", a(0x4206, 1, 0)), None);
    }
}

#[test]
fn its_own_pid_namespace_needs_none() {
    for arch in [&X86_64, &AARCH64] {
        let mut pr = Protect::pid1(&[]);
        pr.own_pid_ns = true;
        let g = built("default allow\n", arch, &pr);
        assert!(g.items.is_empty());
        let g = built("default allow\n", arch, &Protect::none());
        assert!(g.items.is_empty());
    }
}

#[test]
fn only_where_the_call_can_run() {
    let text = "default errno EPERM\nread, write, kill, fcntl: allow\n\
        ptrace: notify errno ENOSYS\nprlimit64: allow if arg0 == 0\n\
        pidfd_send_signal, pidfd_getfd: allow\n";
    for arch in [&X86_64, &AARCH64] {
        let g = built(text, arch, &Protect::pid1(&[]));
        let names: std::vec::Vec<&str> = g.items.iter().map(|i| arch.name(i.nr).unwrap()).collect();
        // pidfd_send_signal and pidfd_getfd are named: the policy's calls.
        assert_eq!(names, {
            let mut v = vec!["kill", "fcntl", "prlimit64"];
            v.sort_by_key(|n| nr(arch, n));
            v
        });
    }
}

/// Refused outright, whatever the policy's default, unless named; naming
/// one opens that one only.
#[test]
fn pidfds_are_refused_unless_named() {
    for arch in [&X86_64, &AARCH64] {
        let g = built("default allow\n", arch, &run_ctx());
        assert_eq!(g.check(nr(arch, "pidfd_getfd"), &a(3, 5, 0)), Some(EPERM));
        assert_eq!(
            g.check(nr(arch, "pidfd_send_signal"), &a(3, 0, 0)),
            Some(ENOSYS)
        );
        let g = built("default allow\npidfd_getfd: allow\n", arch, &run_ctx());
        assert_eq!(g.check(nr(arch, "pidfd_getfd"), &a(3, 5, 0)), None);
        assert_eq!(
            g.check(nr(arch, "pidfd_send_signal"), &a(3, 0, 0)),
            Some(ENOSYS)
        );
    }
}

#[test]
fn guards_fit_their_tables() {
    let mut pr = Protect::default();
    for i in 0..MAX_PIDS as u32 {
        pr.pids.push(100 + i).unwrap();
    }
    for i in 0..MAX_PGRPS as u32 {
        pr.pgrps.push(200 + i).unwrap();
    }
    pr.uid = 1000;
    pr.broadcast = true;
    for arch in [&X86_64, &AARCH64] {
        let g = built("default allow\n", arch, &pr);
        assert!(g.items.windows(2).all(|w| w[0].nr < w[1].nr));
        for pid in 100..104u64 {
            assert_eq!(g.check(nr(arch, "kill"), &a(pid, 9, 0)), Some(EPERM));
        }
        assert_eq!(
            g.check(nr(arch, "fcntl"), &a(3, 8, (-201i64) as u64)),
            Some(EPERM)
        );
    }
    assert_eq!(Protect::pid1(&[7, 8, 9, 10, 11]).pids.len(), MAX_PIDS);
    assert!(Protect::pid1(&[7]).broadcast);
    assert!(!Protect::pid1(&[]).broadcast);
}
