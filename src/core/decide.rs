//! What vigil answers to a notification: a pure function of the policy,
//! the syscall's registers and, for path rules, the paths it names.

use crate::arch::Arch;
use crate::policy::{Action, PathRule, Policy, Reply};

/// The answer to one notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Emulate: the syscall returns this value.
    Return(i64),
    /// Fail with this errno.
    Errno(u16),
    /// Let the kernel run it (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
    Continue,
    /// Kill the target (a `kill` rule on a syscall the filter had to notify).
    Kill,
    /// Send SIGSYS, as `trap` would have, then fail with ENOSYS.
    Trap,
}

/// The first step: decide from registers alone, or ask for the paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Decided from the registers.
    Done(Decision),
    /// Read the syscall's path arguments, then call `by_paths`.
    Paths {
        /// The first of the block's rules in `Policy::paths`.
        start: u16,
        /// How many rules the block has.
        len: u16,
        /// The errno when no rule matches a path.
        otherwise: u16,
    },
}

/// Decide from registers. `handover` is set for the first notification of
/// a fresh service: its own `execve`, which always continues.
pub fn by_registers(
    policy: &Policy,
    arch: &Arch,
    nr: u32,
    args: &[u64; 6],
    handover: bool,
) -> Step {
    if handover && arch.forced_notify.contains(&nr) {
        return Step::Done(Decision::Continue);
    }
    match policy.action(nr, args) {
        // Only the forced-notify syscalls reach vigil with these.
        Action::Allow | Action::Log => Step::Done(Decision::Continue),
        Action::Errno(e) => Step::Done(Decision::Errno(e)),
        Action::Kill => Step::Done(Decision::Kill),
        Action::Trap => Step::Done(Decision::Trap),
        Action::Notify(i) => match policy.replies.get(i as usize) {
            Some(Reply::Return(v)) => Step::Done(Decision::Return(*v)),
            Some(Reply::Errno(e)) => Step::Done(Decision::Errno(*e)),
            Some(Reply::Continue) => Step::Done(Decision::Continue),
            Some(Reply::Paths {
                start,
                len,
                otherwise,
            }) => Step::Paths {
                start: *start,
                len: *len,
                otherwise: *otherwise,
            },
            // A parser bug, not a target's doing: refuse rather than allow.
            None => Step::Done(Decision::Errno(1)),
        },
    }
}

/// Decide a paths rule: every path must be allowed by its longest matching
/// prefix; the first refusal decides the errno.
pub fn by_paths(
    policy: &Policy,
    start: u16,
    len: u16,
    otherwise: u16,
    paths: &[&[u8]],
) -> Decision {
    let end = (start as usize + len as usize).min(policy.paths.len());
    let rules = &policy.paths[(start as usize).min(end)..end];
    for p in paths {
        match PathRule::best(rules, p) {
            Some(PathRule { deny: None, .. }) => {}
            Some(PathRule { deny: Some(e), .. }) => return Decision::Errno(*e),
            None => return Decision::Errno(otherwise),
        }
    }
    Decision::Continue
}

/// May a rename or link move `from` to `to`? It must not change what any
/// paths block of the policy says about what moves: both places get the
/// same verdict (allowed or not) from every block, and no prefix of a
/// block that says otherwise lies inside either of them (renaming `/a/sub`
/// while `deny /a/sub/private` stands would move the denied directory out
/// from under its rule). The errno to refuse with, if not.
pub fn moves_across(policy: &Policy, from: &[u8], to: &[u8]) -> Option<u16> {
    for r in &policy.replies {
        let Reply::Paths {
            start,
            len,
            otherwise,
        } = *r
        else {
            continue;
        };
        let end = (start as usize + len as usize).min(policy.paths.len());
        let rules = &policy.paths[(start as usize).min(end)..end];
        let verdict = |p: &[u8]| match by_paths(policy, start, len, otherwise, &[p]) {
            Decision::Errno(e) => Some(e),
            _ => None,
        };
        let (vf, vt) = (verdict(from), verdict(to));
        if vf.is_some() != vt.is_some() {
            return vf.or(vt);
        }
        for (p, v) in [(from, vf), (to, vt)] {
            for rule in rules {
                if lies_within(rule.prefix, p) && rule.deny.is_some() != v.is_some() {
                    return rule.deny.or(v);
                }
            }
        }
    }
    None
}

/// Does `prefix` cover something at or beneath `path` (so that moving
/// `path` moves it)?
pub fn lies_within(prefix: &str, path: &[u8]) -> bool {
    let r = prefix.as_bytes();
    let r = match r.strip_suffix(b"/") {
        Some(t) if !t.is_empty() => t,
        _ => r,
    };
    path == b"/" || r == path || (r.starts_with(path) && r.get(path.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{PathRule, Rule};
    use crate::tables::X86_64;

    fn policy() -> Policy<'static> {
        let mut p = Policy::new();
        p.default = Action::Allow;
        p.replies.push(Reply::Return(4242)).unwrap();
        p.replies
            .push(Reply::Paths {
                start: 0,
                len: 2,
                otherwise: 95,
            })
            .unwrap();
        p.paths
            .push(PathRule {
                prefix: "/tmp/",
                deny: None,
            })
            .unwrap();
        p.paths
            .push(PathRule {
                prefix: "/tmp/no",
                deny: Some(13),
            })
            .unwrap();
        let rule = Rule::plain;
        p.rules.push(rule(59, Action::Errno(1))).unwrap(); // execve
        p.rules.push(rule(83, Action::Notify(1))).unwrap(); // mkdir
        p.rules.push(rule(110, Action::Notify(0))).unwrap(); // getppid
        p
    }

    #[test]
    fn registers() {
        let p = policy();
        let a = [0; 6];
        assert_eq!(
            by_registers(&p, &X86_64, 110, &a, false),
            Step::Done(Decision::Return(4242))
        );
        assert_eq!(
            by_registers(&p, &X86_64, 59, &a, true),
            Step::Done(Decision::Continue)
        );
        assert_eq!(
            by_registers(&p, &X86_64, 59, &a, false),
            Step::Done(Decision::Errno(1))
        );
        assert_eq!(
            by_registers(&p, &X86_64, 322, &a, false),
            Step::Done(Decision::Continue)
        );
        assert!(matches!(
            by_registers(&p, &X86_64, 83, &a, false),
            Step::Paths { .. }
        ));
    }

    #[test]
    fn moves_that_change_a_verdict_are_refused() {
        let mut p = policy();
        // allow /tmp/, deny /tmp/no (13), otherwise 95.
        assert_eq!(moves_across(&p, b"/tmp/a", b"/tmp/b"), None);
        // /tmp/x holds /tmp/x... no rule beneath: fine. /tmp holds /tmp/no.
        assert_eq!(moves_across(&p, b"/tmp/sub", b"/tmp/sub2"), None);
        assert!(lies_within("/tmp/no", b"/tmp") && lies_within("/tmp/no", b"/"));
        assert!(lies_within("/tmp/no", b"/tmp/no") && lies_within("/tmp/no/", b"/tmp/no"));
        assert!(!lies_within("/tmp/no", b"/tmp/n") && !lies_within("/tmp", b"/tmp/no"));
        // Denied on one side, allowed on the other.
        assert_eq!(moves_across(&p, b"/tmp/no/x", b"/tmp/x"), Some(13));
        assert_eq!(moves_across(&p, b"/etc/x", b"/tmp/x"), Some(95));
        // A second block that allows /tmp/no: a rename it allows still may
        // not move what the first block denies.
        p.paths
            .push(PathRule {
                prefix: "/",
                deny: None,
            })
            .unwrap();
        p.replies
            .push(Reply::Paths {
                start: 2,
                len: 1,
                otherwise: 1,
            })
            .unwrap();
        assert_eq!(moves_across(&p, b"/tmp/no/x", b"/tmp/x"), Some(13));
        assert_eq!(moves_across(&p, b"/tmp/a", b"/tmp/b"), None);
    }

    #[test]
    fn paths() {
        let p = policy();
        assert_eq!(by_paths(&p, 0, 2, 95, &[b"/tmp/x"]), Decision::Continue);
        assert_eq!(by_paths(&p, 0, 2, 95, &[b"/tmp/no/x"]), Decision::Errno(13));
        assert_eq!(by_paths(&p, 0, 2, 95, &[b"/etc/x"]), Decision::Errno(95));
        assert_eq!(
            by_paths(&p, 0, 2, 95, &[b"/tmp/a", b"/etc/b"]),
            Decision::Errno(95)
        );
        // Out-of-range spans never panic.
        assert_eq!(by_paths(&p, 9, 9, 95, &[b"/tmp/a"]), Decision::Errno(95));
    }
}
