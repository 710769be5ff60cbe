use super::*;
use crate::policy::parse;
use crate::tables::{AARCH64, X86_64};

/// The policy a user naturally writes (issue 12): everything allowed, the
/// file calls decided by path.
const NATURAL: &str = "default allow
open?, openat, creat?, mkdir?, mkdirat, unlink?, unlinkat, rmdir?, rename?, renameat, renameat2, link?, linkat, symlink?, symlinkat: notify paths {
    allow /srv/data
    otherwise errno EACCES
}
";

fn nr(arch: &Arch, name: &str) -> u32 {
    arch.nr(name)
        .unwrap_or_else(|| panic!("{name} on {}", arch.name))
}

fn act(p: &Policy, arch: &Arch, name: &str, args: [u64; 6]) -> Action {
    p.action(nr(arch, name), &args)
}

fn why(p: &Policy, arch: &Arch, name: &str) -> Option<Why> {
    match p.rule(nr(arch, name))?.origin {
        Origin::Added(c) => Some(Why::of(c)),
        _ => None,
    }
}

const A0: [u64; 6] = [0; 6];
const EACCES: u16 = 13;

#[test]
fn natural_policy_closes_the_escapes() {
    for arch in [&X86_64, &AARCH64] {
        let p = parse(NATURAL, arch).unwrap();
        let paths = p.rule(nr(arch, "openat")).unwrap().action;
        assert!(matches!(paths, Action::Notify(_)));
        // 1: openat2 gets openat's paths rule (the monitor emulates it,
        // resolve flags and all).
        assert_eq!(act(&p, arch, "openat2", A0), paths);
        assert_eq!(why(&p, arch, "openat2"), Some(Why::Same(0)));
        // 2: io_uring.
        for n in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
            assert_eq!(act(&p, arch, n, A0), Action::Errno(ENOSYS), "{n}");
            assert_eq!(why(&p, arch, n), Some(Why::Bypass(Bypass::IoUring)));
        }
        // 3: file handles.
        assert_eq!(act(&p, arch, "open_by_handle_at", A0), Action::Errno(EPERM));
        assert_eq!(
            act(&p, arch, "name_to_handle_at", A0),
            Action::Errno(EOPNOTSUPP)
        );
        // 4: mknod and truncate do what open does: the same paths rule,
        // emulated.
        for n in ["mknodat", "truncate"] {
            assert_eq!(act(&p, arch, n, A0), paths, "{n}");
            assert_eq!(why(&p, arch, n), Some(Why::Same(0)));
        }
        // Mode and owner changes are not restricted: the user named none.
        for n in [
            "fchmodat",
            "fchownat",
            "setxattr",
            "utimensat",
            "newfstatat",
        ] {
            assert_eq!(act(&p, arch, n, A0), Action::Allow, "{n}");
        }
        // Mounts and namespaces.
        for n in [
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "setns",
            "fsopen",
            "open_tree",
        ] {
            assert_eq!(act(&p, arch, n, A0), Action::Errno(EPERM), "{n}");
        }
        assert_eq!(act(&p, arch, "clone3", A0), Action::Errno(ENOSYS));
        for flags in [0x2_0000u64, 0x1000_0000, 0x1002_0011, 0xffff_ffff_1000_0000] {
            let a = [flags, 0, 0, 0, 0, 0];
            assert_eq!(
                act(&p, arch, "clone", a),
                Action::Errno(EPERM),
                "{flags:#x}"
            );
            assert_eq!(act(&p, arch, "unshare", a), Action::Errno(EPERM));
        }
        // Threads, forks and other namespaces still work.
        for flags in [0x11u64, 0x3d0f00, 0x4000_0000, 0x0800_0000] {
            let a = [flags, 0, 0, 0, 0, 0];
            assert_eq!(act(&p, arch, "clone", a), Action::Allow, "{flags:#x}");
            assert_eq!(act(&p, arch, "unshare", a), Action::Allow);
        }
        // userfaultfd, both ways.
        assert_eq!(act(&p, arch, "userfaultfd", A0), Action::Errno(EPERM));
        assert_eq!(
            act(&p, arch, "ioctl", [3, 0xaa00, 0, 0, 0, 0]),
            Action::Errno(EPERM)
        );
        assert_eq!(
            act(&p, arch, "ioctl", [3, 0x1_0000_aa00, 0, 0, 0, 0]),
            Action::Errno(EPERM),
            "ioctl's request is 32 bits"
        );
        assert_eq!(
            act(&p, arch, "ioctl", [1, 0x5401, 0, 0, 0, 0]),
            Action::Allow
        );
        // Acting through another process.
        for n in [
            "fanotify_init",
            "pidfd_getfd",
            "process_vm_writev",
            "finit_module",
        ] {
            assert_eq!(act(&p, arch, n, A0), Action::Errno(EPERM), "{n}");
        }
        assert_eq!(
            act(&p, arch, "ptrace", [16, 9, 0, 0, 0, 0]),
            Action::Errno(EPERM)
        );
        assert_eq!(
            act(&p, arch, "ptrace", [0x4206, 9, 0, 0, 0, 0]),
            Action::Errno(EPERM)
        );
        assert_eq!(act(&p, arch, "ptrace", [0, 0, 0, 0, 0, 0]), Action::Allow);
        // The machine.
        for n in ["reboot", "kexec_load", "kexec_file_load"] {
            assert_eq!(act(&p, arch, n, A0), Action::Errno(EPERM), "{n}");
            assert_eq!(why(&p, arch, n), Some(Why::Machine));
        }
        // What the user wrote is untouched.
        let r = p.rule(nr(arch, "mkdirat")).unwrap();
        assert_eq!((r.origin, r.line), (Origin::Named, 2));
    }
    // x86_64's legacy calls: creat and mknod are emulated, so they get
    // openat's rule; uselib is not, so it is denied.
    let p = parse(NATURAL, &X86_64).unwrap();
    let paths = p.rule(nr(&X86_64, "openat")).unwrap().action;
    assert_eq!(act(&p, &X86_64, "mknod", A0), paths);
    assert_eq!(act(&p, &X86_64, "uselib", A0), Action::Errno(EACCES));
    assert_eq!(act(&p, &X86_64, "iopl", A0), Action::Errno(EPERM));
}

#[test]
fn equivalents_of_one_named_call() {
    let text = "default allow\nopenat: notify paths {\n    allow /tmp\n}\n";
    for arch in [&X86_64, &AARCH64] {
        let p = parse(text, arch).unwrap();
        let openat = p.rule(nr(arch, "openat")).unwrap();
        if arch.name == "x86_64" {
            for n in ["open", "creat"] {
                let r = p.rule(nr(arch, n)).unwrap();
                assert_eq!(r.action, openat.action, "{n}: the same paths rule");
                assert_eq!(r.origin, Origin::Added(Why::Same(0).code()));
                assert_eq!((r.line, r.col), (openat.line, openat.col));
            }
        }
        assert_eq!(act(&p, arch, "openat2", A0), openat.action);
        assert_eq!(act(&p, arch, "mknodat", A0), openat.action);
        // Other kinds are not restricted by an open rule.
        for n in [
            "mkdirat",
            "unlinkat",
            "renameat2",
            "linkat",
            "symlinkat",
            "fchmodat",
        ] {
            assert_eq!(act(&p, arch, n, A0), Action::Allow, "{n}");
        }
    }
}

#[test]
fn a_mkdir_rule_does_not_restrict_open() {
    let text = "default allow\nmkdirat: notify paths {\n    allow /tmp\n}\n";
    for arch in [&X86_64, &AARCH64] {
        let p = parse(text, arch).unwrap();
        for n in ["openat", "openat2", "mknodat", "truncate", "unlinkat"] {
            assert_eq!(act(&p, arch, n, A0), Action::Allow, "{n}");
            assert!(p.rule(nr(arch, n)).is_none(), "{n}");
        }
        if arch.name == "x86_64" {
            let mkdir = p.rule(nr(arch, "mkdir")).unwrap();
            assert_eq!(mkdir.action, p.rule(nr(arch, "mkdirat")).unwrap().action);
        }
        // The bypasses are closed all the same.
        assert_eq!(act(&p, arch, "io_uring_setup", A0), Action::Errno(ENOSYS));
    }
}

#[test]
fn named_calls_are_the_policys() {
    let text = "default allow\n\
        openat: notify paths {\n    allow /tmp\n}\n\
        mknodat, io_uring_setup, mount, reboot: allow\n\
        clone: allow\n\
        truncate: errno EROFS\n";
    for arch in [&X86_64, &AARCH64] {
        let p = parse(text, arch).unwrap();
        for n in ["mknodat", "io_uring_setup", "mount", "reboot", "clone"] {
            let r = p.rule(nr(arch, n)).unwrap();
            assert_eq!(
                (r.action, r.origin, p.guard(r.nr)),
                (Action::Allow, Origin::Named, None)
            );
        }
        assert_eq!(
            act(&p, arch, "clone", [0x1000_0000, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(act(&p, arch, "truncate", A0), Action::Errno(30));
        // Not named: still added.
        assert_eq!(act(&p, arch, "io_uring_enter", A0), Action::Errno(ENOSYS));
    }
}

#[test]
fn group_rules_get_guards_and_replacements() {
    let text = "default errno EPERM\n@system-service: allow\n\
        openat: notify paths {\n    allow /tmp\n}\n";
    for arch in [&X86_64, &AARCH64] {
        let p = parse(text, arch).unwrap();
        let clone = p.rule(nr(arch, "clone")).unwrap();
        assert_eq!((clone.action, clone.origin), (Action::Allow, Origin::Group));
        assert_eq!(
            p.guard(clone.nr).unwrap().why,
            Why::Bypass(Bypass::Mounts).code()
        );
        assert_eq!(
            act(&p, arch, "clone", [0x2_0000, 0, 0, 0, 0, 0]),
            Action::Errno(EPERM)
        );
        assert_eq!(act(&p, arch, "clone", [0x11, 0, 0, 0, 0, 0]), Action::Allow);
        // @file-system's truncate and mknodat: the block's paths rule.
        let paths = p.rule(nr(arch, "openat")).unwrap().action;
        assert_eq!(act(&p, arch, "truncate", A0), paths);
        assert_eq!(act(&p, arch, "mknodat", A0), paths);
        // Denied by default already: nothing added.
        for n in ["io_uring_setup", "mount", "reboot", "userfaultfd"] {
            assert!(p.rule(nr(arch, n)).is_none(), "{n}");
        }
    }
}

#[test]
fn a_deny_default_policy_gets_nothing_it_denies_already() {
    let text = "default errno EPERM\nread, write, exit_group: allow\n\
        openat: notify paths {\n    allow /tmp\n}\n";
    for arch in [&X86_64, &AARCH64] {
        let p = parse(text, arch).unwrap();
        let added: Vec<_> = p
            .rules
            .iter()
            .filter(|r| matches!(r.origin, Origin::Added(_)) || p.guard(r.nr).is_some())
            .collect();
        assert!(added.is_empty(), "{added:?}");
        // An emulated equivalent the default denies stays denied: vigil
        // never widens a policy.
        if arch.name == "x86_64" {
            assert!(p.rule(nr(arch, "creat")).is_none());
        }
    }
}

#[test]
fn blocks_that_deny_nothing_add_nothing() {
    let text = "default allow\nopenat: notify paths {\n    allow /\n}\n";
    for arch in [&X86_64, &AARCH64] {
        let p = parse(text, arch).unwrap();
        assert_eq!(act(&p, arch, "openat2", A0), Action::Allow);
        assert_eq!(act(&p, arch, "io_uring_setup", A0), Action::Allow);
        // Only the machine-wide calls.
        assert_eq!(act(&p, arch, "reboot", A0), Action::Errno(EPERM));
        let with_deny = "default allow\nopenat: notify paths {\n    allow /\n    deny /root\n}\n";
        let p = parse(with_deny, arch).unwrap();
        let paths = p.rule(nr(arch, "openat")).unwrap().action;
        assert_eq!(act(&p, arch, "openat2", A0), paths);
    }
}

#[test]
fn every_policy_denies_the_machine_calls() {
    for arch in [&X86_64, &AARCH64] {
        let p = parse("default allow\n", arch).unwrap();
        assert_eq!(p.rules.len(), 3);
        for r in &p.rules {
            assert_eq!(r.action, Action::Errno(EPERM));
            assert_eq!((r.origin, r.line), (Origin::Added(Why::Machine.code()), 0));
        }
        // The shipped default names them itself.
        let shipped = include_str!("../../../../policy/default.policy");
        let p = parse(shipped, arch).unwrap();
        assert!(p.rules.iter().all(|r| r.origin == Origin::Named));
    }
}

#[test]
fn one_kind_one_block() {
    let text = "default allow\n\
        mkdirat: notify paths {\n    allow /tmp\n}\n\
        mkdir?: notify paths {\n    allow /run\n}\n";
    let e = parse(text, &X86_64).unwrap_err();
    assert_eq!(e.list.len(), 1);
    let e = e.list[0];
    assert_eq!((e.line, e.col, e.token, e.other_line), (5, 1, "mkdir", 2));
    assert_eq!(e.kind, ErrorKind::KindConflict("make directories"));
    // aarch64 has no mkdir: no conflict there.
    assert!(parse(text, &AARCH64).is_ok());
    // Two blocks that say the same are one rule.
    let same = "default allow\n\
        mkdirat: notify paths {\n    allow /tmp\n}\n\
        mkdir?: notify paths {\n    allow /tmp\n}\n";
    assert!(parse(same, &X86_64).is_ok());
}

#[test]
fn tables_name_real_calls() {
    let exists = |n: &str| X86_64.nr(n).is_some() || AARCH64.nr(n).is_some();
    let mut members: Vec<&str> = Vec::new();
    for (what, m, also) in KINDS {
        assert!(!what.is_empty());
        for n in words(m) {
            assert!(exists(n), "{n}");
            assert!(!members.contains(&n), "{n} in two kinds");
            members.push(n);
            // Every member takes a path: it can be under a paths block.
            assert!(!crate::policy::groups::path_args(n).is_empty(), "{n}");
        }
        for n in words(also) {
            assert!(exists(n), "{n}");
        }
    }
    for n in words(EMULATED) {
        assert!(exists(n), "{n}");
        assert!(members.contains(&n), "{n} is emulated but of no kind");
    }
    for (names, deny, why) in BYPASS {
        for n in words(names) {
            assert!(exists(n), "{n}");
        }
        assert!(!Why::Bypass(why).text().is_empty());
        if let Deny::AnyBit(a, _) | Deny::OneOf(a, _) = deny {
            assert!(a < 6);
        }
    }
    let guards = BYPASS.iter().filter(|b| !matches!(b.1, Deny::Errno(_)));
    assert!(guards.count() <= crate::policy::MAX_POLICY_GUARDS);
    // A rule stays small: PID 1 keeps up to 24 policies of 480.
    assert!(core::mem::size_of::<crate::policy::Rule>() <= 28);
    for n in words(MACHINE) {
        assert!(X86_64.nr(n).is_some() && AARCH64.nr(n).is_some(), "{n}");
    }
    for w in [
        Why::Same(3),
        Why::Denied(9),
        Why::Bypass(Bypass::Kernel),
        Why::Machine,
    ] {
        assert_eq!(Why::of(w.code()), w);
        assert!(!w.text().is_empty());
    }
    // Every bypass is the reason of some call, and its code says which.
    for b in (0..).map_while(Bypass::nth) {
        assert_eq!(Why::of(Why::Bypass(b).code()), Why::Bypass(b));
        assert!(BYPASS.iter().any(|e| e.2 == b), "{b:?}");
    }
}
