//! What vigil adds to every policy it parses, so that the policy a user
//! naturally writes holds against an attacker (README, "Safety model"):
//!
//! - **Equivalents.** A paths block restricts a kind of file operation, not
//!   one syscall: every call of the same kind that the policy does not name
//!   gets the same rule, where the monitor emulates it, or a denial, where
//!   it does not (a path check on a call the kernel then runs is no check).
//!   A rule on `mkdir` does not spread to `open`: kinds are narrow.
//! - **Bypasses.** With a paths block that can deny, the calls that go
//!   around path rules entirely fail (io_uring, file handles, mounts and
//!   namespaces, `userfaultfd`, fanotify, acting through another process,
//!   kernel code), unless the policy names them.
//! - **The machine.** Every policy denies `reboot` and `kexec_*` unless it
//!   names them: they end PID 1's machine behind its back.
//!
//! Nothing is added where the policy already keeps the call from running
//! (a `default errno` policy gets nothing for the calls it does not name):
//! vigil only ever narrows a policy. Pure: a policy in, the same policy
//! with rules added (each marked `Origin::Added`) out, run at the end of
//! every parse, so that the filter and the monitor see the same rules.
//! The monitor's own protection, which depends on who vigil is, is added
//! when the filter is compiled (`protect`).

use super::{
    Action, Cmp, Error, ErrorKind, Errors, Guard, Op, Origin, PathRule, Policy, Reply, Rule, Span,
};
use crate::arch::Arch;
use crate::words::{self, messages};
// The same on every arch: the host's values serve both arches' filters.
use linux_raw_sys::general::{CLONE_NEWNS, CLONE_NEWUSER};

/// `EPERM`: what most of vigil's added rules fail with.
pub const EPERM: u16 = 1;
/// `ENOSYS`: for calls a program must take as missing (io_uring, clone3), so that it falls back.
pub const ENOSYS: u16 = 38;
/// `EOPNOTSUPP`: for `name_to_handle_at`, as on a filesystem without file handles.
pub const EOPNOTSUPP: u16 = 95;

/// Kinds of file operation by path: (what they do, members, also). A paths
/// block on one member applies to every member the policy does not name;
/// `also` are calls that can do the same from another side (`truncate` is
/// an `open` with `O_TRUNC`, `mknod` creates files as `open` does, an ACL
/// changes a mode), which get it too, without spreading it back (a rule on
/// `truncate` alone restricts no `open`). Both arches' names: a call an
/// arch lacks is skipped.
pub const KINDS: [(&str, &str, &str); 10] = [
    (
        "open or create files",
        "open openat openat2 creat",
        "mknod mknodat truncate acct uselib",
    ),
    (
        "create device nodes, FIFOs and sockets",
        "mknod mknodat",
        "",
    ),
    ("truncate files", "truncate", ""),
    ("make directories", "mkdir mkdirat", ""),
    ("remove files and directories", "unlink unlinkat rmdir", ""),
    ("rename", "rename renameat renameat2", ""),
    ("make hard links", "link linkat", ""),
    ("make symlinks", "symlink symlinkat", ""),
    (
        "change modes",
        "chmod fchmodat fchmodat2",
        "setxattr lsetxattr setxattrat removexattr lremovexattr removexattrat file_setattr",
    ),
    ("change owners", "chown lchown fchownat", ""),
];

/// The calls the monitor emulates under a paths rule (`notify::emulate`; a
/// test there checks that the two lists agree). Under a paths rule any
/// other call is only checked, then run by the kernel, which re-reads its
/// path: so an added rule for one of those is a denial.
pub const EMULATED: &str = "open openat openat2 creat mkdir mkdirat unlink unlinkat rmdir \
    rename renameat renameat2 link linkat symlink symlinkat chmod fchmodat fchmodat2 chown \
    lchown fchownat truncate mknod mknodat";

/// Is `name` emulated under a paths rule?
pub fn emulated(name: &str) -> bool {
    words::find(EMULATED, name).is_some()
}

/// How an added rule refuses its call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deny {
    /// Always, with this errno.
    Errno(u16),
    /// With EPERM when `arg & bits` (32 bits) has any bit set: (arg, bits).
    AnyBit(u8, u32),
    /// With EPERM when the low 32 bits of the argument are one of these.
    OneOf(u8, &'static [u32]),
}

/// `_IO(0xAA, 0x00)`: a userfaultfd from `/dev/userfaultfd`.
const USERFAULTFD_IOC_NEW: u32 = 0xaa00;
const PTRACE_ATTACH: u32 = 16;
const PTRACE_SEIZE: u32 = 0x4206;

messages! {
    /// Why a bypass is denied.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Bypass {
        /// io_uring: its operations run in the kernel, past any filter.
        IoUring = "io_uring operations never pass through seccomp",
        /// File handles: opened by inode number, with no path.
        FileHandles = "file handles open files by inode number, with no path to check",
        /// Mounts, chroots and namespaces: they change what a path names.
        Mounts = "mounts, chroots and namespaces change what a path names",
        /// clone3: its flags are in memory, out of a filter's reach.
        Clone3 = "its flags are in memory, where a filter cannot check them for CLONE_NEWNS and CLONE_NEWUSER (C libraries fall back to clone)",
        /// userfaultfd: a fault that can stall vigil's read of a path.
        Userfaults = "a page that faults at the target's will can freeze vigil while it reads a path",
        /// fanotify: it hands out fds of files others open.
        Fanotify = "fanotify hands out descriptors of the files other processes open",
        /// Another process's files, memory and syscalls.
        OtherProcess = "another process's files, memory and syscalls are not under this policy",
        /// Kernel modules, kexec and raw I/O ports.
        Kernel = "kernel code and raw I/O ports reach any file",
    }
}

/// What goes around path rules entirely: (calls, how, why).
pub const BYPASS: [(&str, Deny, Bypass); 13] = [
    (
        "io_uring_setup io_uring_enter io_uring_register",
        Deny::Errno(ENOSYS),
        Bypass::IoUring,
    ),
    (
        "name_to_handle_at",
        Deny::Errno(EOPNOTSUPP),
        Bypass::FileHandles,
    ),
    ("open_by_handle_at", Deny::Errno(EPERM), Bypass::FileHandles),
    (
        "mount umount2 pivot_root chroot move_mount open_tree open_tree_attr fsopen fsmount \
        fspick mount_setattr setns quotactl quotactl_fd",
        Deny::Errno(EPERM),
        Bypass::Mounts,
    ),
    (
        "unshare",
        Deny::AnyBit(0, CLONE_NEWNS | CLONE_NEWUSER),
        Bypass::Mounts,
    ),
    (
        "clone",
        Deny::AnyBit(0, CLONE_NEWNS | CLONE_NEWUSER),
        Bypass::Mounts,
    ),
    ("clone3", Deny::Errno(ENOSYS), Bypass::Clone3),
    ("userfaultfd", Deny::Errno(EPERM), Bypass::Userfaults),
    (
        "ioctl",
        Deny::OneOf(1, &[USERFAULTFD_IOC_NEW]),
        Bypass::Userfaults,
    ),
    ("fanotify_init", Deny::Errno(EPERM), Bypass::Fanotify),
    (
        "pidfd_getfd process_vm_readv process_vm_writev",
        Deny::Errno(EPERM),
        Bypass::OtherProcess,
    ),
    (
        "ptrace",
        Deny::OneOf(0, &[PTRACE_ATTACH, PTRACE_SEIZE]),
        Bypass::OtherProcess,
    ),
    (
        "init_module finit_module bpf iopl ioperm",
        Deny::Errno(EPERM),
        Bypass::Kernel,
    ),
];

/// What every policy denies unless it names them.
pub const MACHINE: &str = "reboot kexec_load kexec_file_load";

/// Why vigil added a rule or a guard, as `Origin::Added` and `Guard::why`
/// keep it (a byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The paths rule of its kind (`KINDS[k]`), emulated.
    Same(u8),
    /// Denied: its kind (`KINDS[k]`) has a paths rule the monitor cannot
    /// apply to it.
    Denied(u8),
    /// A bypass of path rules.
    Bypass(Bypass),
    /// A machine-wide call.
    Machine,
}

impl Why {
    /// The reason as the byte `Origin::Added` and `Guard::why` hold.
    pub fn code(self) -> u8 {
        match self {
            Why::Same(k) => k,
            Why::Denied(k) => 0x40 | k,
            Why::Bypass(b) => 0x80 | b as u8,
            Why::Machine => 0xc0,
        }
    }

    /// The reason `code` (from `code`) stands for.
    pub fn of(code: u8) -> Why {
        match code >> 6 {
            0 => Why::Same(code & 0x3f),
            1 => Why::Denied(code & 0x3f),
            // No code `code` makes is past the last bypass.
            2 => Bypass::nth((code & 0x3f) as usize).map_or(Why::Machine, Why::Bypass),
            _ => Why::Machine,
        }
    }

    /// Why, in words (without the rule itself).
    pub fn text(self) -> &'static str {
        match self {
            Why::Same(k) | Why::Denied(k) => KINDS.get(k as usize).map_or("", |k| k.0),
            Why::Bypass(b) => b.template().0,
            Why::Machine => "they end or replace the machine behind PID 1's back",
        }
    }
}

/// The paths block of `r`, if it is one that can deny something: a block
/// that allows `/` and denies nothing restricts nothing, and adds nothing.
pub fn restricting(p: &Policy, r: &Rule) -> Option<(u16, u16, u16)> {
    if r.cond.is_some() {
        return None;
    }
    let Some(Reply::Paths {
        start,
        len,
        otherwise,
    }) = p.reply(r.action)
    else {
        return None;
    };
    let rules = block(p, start, len);
    let opens_all = rules.iter().any(|x| x.prefix == "/" && x.deny.is_none());
    let denies = rules.iter().any(|x| x.deny.is_some());
    (denies || !opens_all).then_some((start, len, otherwise))
}

fn block<'p, 'a>(p: &'p Policy<'a>, start: u16, len: u16) -> &'p [PathRule<'a>] {
    let end = (start as usize + len as usize).min(p.paths.len());
    p.paths.get(start as usize..end).unwrap_or(&[])
}

/// The rule that governs a kind: its action and place.
#[derive(Clone, Copy)]
struct Governing {
    action: Action,
    block: (u16, u16, u16),
    line: u32,
    col: u32,
}

/// Add vigil's rules to `p` (see the module documentation). Errors: two
/// different paths blocks on calls of one kind, full tables.
pub fn apply<'a>(p: &mut Policy<'a>, arch: &Arch, errors: &mut Errors<'a>) {
    let mut governs: [Option<Governing>; KINDS.len()] = [None; KINDS.len()];
    for (k, kind) in KINDS.iter().enumerate() {
        // The first block written governs; a different one later is an
        // error there.
        for conflicts in [false, true] {
            for m in words(kind.1) {
                let Some(r) = arch.nr(m).and_then(|nr| p.rule(nr)) else {
                    continue;
                };
                let Some(b) = restricting(p, r) else {
                    continue;
                };
                match governs[k] {
                    Some(g) if conflicts && !same_block(p, g.block, b) => errors.push(Error {
                        line: r.line,
                        col: r.col,
                        kind: ErrorKind::KindConflict(kind.0),
                        token: m,
                        other_line: g.line,
                    }),
                    Some(g) if conflicts || g.line <= r.line => {}
                    _ => {
                        governs[k] = Some(Governing {
                            action: r.action,
                            block: b,
                            line: r.line,
                            col: r.col,
                        })
                    }
                }
            }
        }
    }
    // Members first, then `also`: a kind's own rule wins over one that
    // reaches a call from another kind.
    for also in [false, true] {
        for (k, kind) in KINDS.iter().enumerate() {
            let Some(g) = governs[k] else { continue };
            for m in words(if also { kind.2 } else { kind.1 }) {
                add_equivalent(p, arch, m, g, k as u8, errors);
            }
        }
    }

    // The first paths block that can deny, where the bypass notes point.
    let mut first: Option<(u32, u32)> = None;
    for r in &p.rules {
        if restricting(p, r).is_some() && first.is_none_or(|f| (r.line, r.col) < f) {
            first = Some((r.line, r.col));
        }
    }
    if let Some((line, col)) = first {
        for &(names, deny, why) in &BYPASS {
            for n in words(names) {
                add_denial(p, arch, n, deny, Why::Bypass(why), (line, col), errors);
            }
        }
    }
    for n in words(MACHINE) {
        add_denial(p, arch, n, Deny::Errno(EPERM), Why::Machine, (0, 0), errors);
    }
}

/// The rule whose paths block governs kind `KINDS[k]`: the first written
/// of its members' that can deny (`apply` refuses a different one).
pub fn governing<'p>(p: &'p Policy, arch: &Arch, k: usize) -> Option<&'p Rule> {
    let mut best: Option<&Rule> = None;
    for m in words(KINDS.get(k)?.1) {
        if let Some(r) = arch.nr(m).and_then(|nr| p.rule(nr)) {
            if restricting(p, r).is_some() && best.is_none_or(|b| r.line < b.line) {
                best = Some(r);
            }
        }
    }
    best
}

/// Two paths blocks with the same rules and the same `otherwise`.
fn same_block(p: &Policy, a: (u16, u16, u16), b: (u16, u16, u16)) -> bool {
    a.2 == b.2 && block(p, a.0, a.1) == block(p, b.0, b.1)
}

fn words(list: &str) -> impl Iterator<Item = &str> {
    list.split(' ').filter(|w| !w.is_empty())
}

/// May vigil add a rule for `nr`? Not if the policy names it, nor if vigil
/// already did, nor where the call cannot run anyway.
fn open_to_us(p: &Policy, nr: u32) -> bool {
    let named = p
        .rule(nr)
        .is_some_and(|r| matches!(r.origin, Origin::Named | Origin::Added(_)));
    !named && p.may_run(nr)
}

/// Give `name` the rule of its kind's governing paths block `g`.
fn add_equivalent<'a>(
    p: &mut Policy<'a>,
    arch: &Arch,
    name: &'static str,
    g: Governing,
    kind: u8,
    errors: &mut Errors<'a>,
) {
    let Some(nr) = arch.nr(name) else { return };
    if !open_to_us(p, nr) {
        return;
    }
    let (action, why) = if emulated(name) {
        (g.action, Why::Same(kind))
    } else {
        (Action::Errno(g.block.2), Why::Denied(kind))
    };
    let mut r = Rule::plain(nr, action);
    r.origin = Origin::Added(why.code());
    (r.line, r.col) = (g.line, g.col);
    set_rule(p, r, name, errors);
}

/// Deny `name` as `deny` says, where the policy lets it run.
fn add_denial<'a>(
    p: &mut Policy<'a>,
    arch: &Arch,
    name: &'static str,
    deny: Deny,
    why: Why,
    (line, col): (u32, u32),
    errors: &mut Errors<'a>,
) {
    let Some(nr) = arch.nr(name) else { return };
    if !open_to_us(p, nr) {
        return;
    }
    let (arg, values, any_bit) = match deny {
        Deny::Errno(e) => {
            let mut r = Rule::plain(nr, Action::Errno(e));
            r.origin = Origin::Added(why.code());
            (r.line, r.col) = (line, col);
            set_rule(p, r, name, errors);
            return;
        }
        Deny::AnyBit(arg, bits) => (arg, bits, true),
        Deny::OneOf(arg, _) => (arg, 0, false),
    };
    // One clause per bit or per value: `arg & bit == bit`, `arg & M32 == v`.
    let c0 = p.clauses.len();
    let mut ok = true;
    let mut push = |p: &mut Policy, mask: u32, value: u32| {
        let k = p.cmps.len() as u16;
        ok &= p
            .cmps
            .push(Cmp {
                arg,
                op: Op::MaskedEq(mask as u64),
                value: value as u64,
            })
            .is_ok()
            && p.clauses.push(Span { start: k, len: 1 }).is_ok();
    };
    if any_bit {
        for bit in (0..32).map(|b| 1u32 << b).filter(|b| values & b != 0) {
            push(p, bit, bit);
        }
    } else if let Deny::OneOf(_, list) = deny {
        for &v in list {
            push(p, u32::MAX, v);
        }
    }
    if !ok {
        errors.push(Error {
            line: line.max(1),
            col: col.max(1),
            kind: ErrorKind::TooMany("conditions (with those vigil adds)"),
            token: name,
            other_line: 0,
        });
        return;
    }
    let guard = Guard {
        nr,
        cond: Span {
            start: c0 as u16,
            len: (p.clauses.len() - c0) as u16,
        },
        errno: EPERM,
        why: why.code(),
    };
    if p.guards.push(guard).is_err() {
        // MAX_POLICY_GUARDS covers every guard `BYPASS` has (tested).
        errors.push(Error {
            line: line.max(1),
            col: col.max(1),
            kind: ErrorKind::TooMany("guards"),
            token: name,
            other_line: 0,
        });
        return;
    }
    if p.rule(nr).is_none() {
        let mut r = Rule::plain(nr, p.default);
        r.origin = Origin::Added(why.code());
        (r.line, r.col) = (line, col);
        set_rule(p, r, name, errors);
    }
}

/// Put `r` in place of the rule for its syscall, or insert it in order.
fn set_rule<'a>(p: &mut Policy<'a>, r: Rule, name: &'static str, errors: &mut Errors<'a>) {
    match p.rules.binary_search_by_key(&r.nr, |x| x.nr) {
        Ok(i) => p.rules[i] = r,
        Err(i) => {
            if p.rules.insert(i, r).is_err() {
                errors.push(Error {
                    line: r.line.max(1),
                    col: r.col.max(1),
                    kind: ErrorKind::TooMany("rules"),
                    token: name,
                    other_line: 0,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
