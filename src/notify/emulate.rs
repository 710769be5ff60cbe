//! Emulated path syscalls: when a `paths` rule allows one of the calls
//! below, vigil performs it itself, as the target, and answers with the
//! result; the kernel never runs the target's own call (no CONTINUE), so
//! the target cannot change what the call does after vigil looked.
//!
//! Steps, in order: read the path strings; NOTIF_ID_VALID; open the
//! target's root, cwd/dirfd and read its credentials from /proc;
//! NOTIF_ID_VALID (the pid was still ours when /proc was read); take on its
//! fs ids, groups and umask; locate every path (`resolve`) and check the
//! policy on the physical paths; NOTIF_ID_VALID; do the operation; answer
//! (an opened fd goes in with ADDFD, atomically with the answer where the
//! kernel has ADDFD_FLAG_SEND).

use rustix::fd::{AsRawFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, ResolveFlags};
use rustix::process::{Gid, Uid};

use super::decide::{self, Decision};
use super::path::{self, Path};
use super::resolve::{self, Entry};
use super::target::{self, Creds};
use super::{describe, probe, Served};
use crate::arch::Arch;
use crate::log;
use crate::out::{Buf, Sink};
use crate::policy::{groups, Policy};
use crate::sys::seccomp::{self, Notif};
use crate::sys::{self, Errno};
use linux_raw_sys::general as g;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Open,
    Mkdir,
    Unlink,
    Rename,
    Link,
    Symlink,
    Chmod,
    Chown,
}

/// One call's operation and its register arguments.
#[derive(Clone, Copy, Debug)]
struct Spec {
    op: Op,
    flags: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    /// Follow a symlink in the last component of path 0 / path 1.
    follow: [bool; 2],
}

/// Is `name` emulated when a paths rule allows it?
pub fn handles(name: &str) -> bool {
    spec(name, &[0; 6]).is_some()
}

/// No register: the field stays 0.
const NO: u8 = 6;

/// creat's flags, as open's, and rmdir's and lchown's, as unlinkat's and
/// fchownat's.
const CREAT: u16 = (g::O_CREAT | g::O_WRONLY | g::O_TRUNC) as u16;
const RMDIR: u16 = g::AT_REMOVEDIR as u16;
const LCHOWN: u16 = g::AT_SYMLINK_NOFOLLOW as u16;
const _: () = assert!(CREAT as u32 == g::O_CREAT | g::O_WRONLY | g::O_TRUNC);
const _: () = assert!(RMDIR as u32 == g::AT_REMOVEDIR);
const _: () = assert!(LCHOWN as u32 == g::AT_SYMLINK_NOFOLLOW);

/// Per emulated call: its name (NUL-padded), operation, and which
/// registers hold flags, mode, uid and gid; plus flags it always has.
// Size: those flags fit a u16, and so each entry 16 bytes, not 20.
const SPECS: [([u8; 9], Op, [u8; 4], u16); 21] = [
    (*b"open\0\0\0\0\0", Op::Open, [1, 2, NO, NO], 0),
    (*b"openat\0\0\0", Op::Open, [2, 3, NO, NO], 0),
    (*b"creat\0\0\0\0", Op::Open, [NO, 1, NO, NO], CREAT),
    (*b"mkdir\0\0\0\0", Op::Mkdir, [NO, 1, NO, NO], 0),
    (*b"mkdirat\0\0", Op::Mkdir, [NO, 2, NO, NO], 0),
    (*b"unlink\0\0\0", Op::Unlink, [NO; 4], 0),
    (*b"rmdir\0\0\0\0", Op::Unlink, [NO; 4], RMDIR),
    (*b"unlinkat\0", Op::Unlink, [2, NO, NO, NO], 0),
    (*b"rename\0\0\0", Op::Rename, [NO; 4], 0),
    (*b"renameat\0", Op::Rename, [NO; 4], 0),
    (*b"renameat2", Op::Rename, [4, NO, NO, NO], 0),
    (*b"link\0\0\0\0\0", Op::Link, [NO; 4], 0),
    (*b"linkat\0\0\0", Op::Link, [4, NO, NO, NO], 0),
    (*b"symlink\0\0", Op::Symlink, [NO; 4], 0),
    (*b"symlinkat", Op::Symlink, [NO; 4], 0),
    (*b"chmod\0\0\0\0", Op::Chmod, [NO, 1, NO, NO], 0),
    (*b"fchmodat\0", Op::Chmod, [NO, 2, NO, NO], 0),
    (*b"fchmodat2", Op::Chmod, [3, 2, NO, NO], 0),
    (*b"chown\0\0\0\0", Op::Chown, [NO, NO, 1, 2], 0),
    (*b"lchown\0\0\0", Op::Chown, [NO, NO, 1, 2], LCHOWN),
    (*b"fchownat\0", Op::Chown, [4, NO, 2, 3], 0),
];

fn spec(name: &str, a: &[u64; 6]) -> Option<Spec> {
    let n = name.as_bytes();
    let (_, op, regs, always) = SPECS.iter().find(|(k, ..)| {
        n.len() <= k.len() && k[..n.len()] == *n && k.get(n.len()).is_none_or(|&c| c == 0)
    })?;
    let r = |i: usize| a.get(regs[i] as usize).map_or(0, |&v| v as u32);
    let mut s = Spec {
        op: *op,
        flags: *always as u32 | r(0),
        mode: r(1),
        uid: r(2),
        gid: r(3),
        follow: [false; 2],
    };
    let nofollow = s.flags & g::AT_SYMLINK_NOFOLLOW != 0;
    s.follow[0] = match s.op {
        // O_CREAT|O_EXCL never follows; O_NOFOLLOW is left to the kernel.
        Op::Open => {
            s.flags & g::O_NOFOLLOW == 0
                && s.flags & (g::O_CREAT | g::O_EXCL) != g::O_CREAT | g::O_EXCL
        }
        Op::Link => s.flags & g::AT_SYMLINK_FOLLOW != 0,
        Op::Chmod | Op::Chown => !nofollow,
        _ => false,
    };
    Some(s)
}

/// Serve one notification of an emulated syscall under a paths rule.
// Stack: out of line, its path buffers and those of `read_paths` are not
// one frame that every path notification touches whole.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn serve(
    fd: i32,
    n: &Notif,
    name: &str,
    policy: &Policy,
    arch: &Arch,
    who: &str,
    rules: (u16, u16, u16),
) -> Served {
    let Some(s) = spec(name, &n.args) else {
        return send(fd, n.id, Err(Errno::NOSYS));
    };
    let mut paths = [Path::new(), Path::new()];
    let mut link_target = Path::new();
    let args = groups::path_args(name);
    let np = args.len().min(2);
    let res = read_all(n, s, args, &mut paths, &mut link_target);
    // Trust nothing read from a pid that may have been reused meanwhile.
    if !seccomp::id_valid(fd, n.id) {
        return Served::Gone;
    }
    if let Err(e) = res {
        return send(fd, n.id, Err(e));
    }
    let mut root_path = Path::new();
    let mut creds = Creds::zeroed();
    let mut start: [Option<OwnedFd>; 2] = [None, None];
    let seen = look(
        n,
        args,
        &paths[..np],
        &mut root_path,
        &mut creds,
        &mut start,
    );
    let root = match seen {
        Ok(r) => r,
        Err((e, proc_failed)) => {
            // A target killed meanwhile (its /proc entry gone, ENOENT or
            // ESRCH) is no failure of vigil's: nothing to say or answer.
            if !seccomp::id_valid(fd, n.id) {
                return Served::Gone;
            }
            // vigil cannot see the target (no /proc, out of fds, ...): the
            // call fails closed, and says so whatever the decision log.
            if proc_failed {
                let mut l = log::about(log::Level::Error, who);
                l.s("pid ").u(n.pid as u64).s(" ").s(name);
                l.s(": cannot read the target's root or credentials in /proc: ");
                log::errno(&mut l, e);
                l.s(": denied");
                l.end();
            }
            return send(fd, n.id, Err(e));
        }
    };
    if !seccomp::id_valid(fd, n.id) {
        return Served::Gone;
    }
    let worn = match target::wear(&creds) {
        Ok(w) => w,
        Err(e) => return send(fd, n.id, Err(e)),
    };
    let mut found: [Option<Entry>; 2] = [None, None];
    let mut phys = [Path::new(), Path::new()];
    for i in 0..np {
        let from = start[i].as_ref().unwrap_or(&root);
        let (raw, rp) = (paths[i].as_bytes(), root_path.as_bytes());
        match resolve::locate(&root, rp, from, raw, s.follow[i], &mut phys[i]) {
            Ok(e) => found[i] = Some(e),
            Err(e) => {
                drop(worn);
                // Say why only where the target may look: elsewhere the
                // rule's own answer, not whether something exists.
                let d = lexical(n, args, &paths[..np], policy, rules);
                let d = if d == Decision::Continue && e != Errno::XDEV {
                    Err(e)
                } else {
                    Err(errno_of(d, rules.2))
                };
                return send(fd, n.id, d);
            }
        }
    }
    let views: [&[u8]; 2] = [phys[0].as_bytes(), phys[1].as_bytes()];
    let d = decide::by_paths(policy, rules.0, rules.1, rules.2, &views[..np]);
    if policy.log_decisions {
        let mut l = log::about(log::Level::Info, who);
        describe(&mut l, n, arch, d, &views[..np]);
        if d == Decision::Continue {
            l.s(" (emulated)");
        }
        l.end();
    }
    if d != Decision::Continue {
        drop(worn);
        return send(fd, n.id, Err(errno_of(d, rules.2)));
    }
    // The last moment the target can still be found gone before the
    // effect: after this, the effect happens even if it dies now.
    if !seccomp::id_valid(fd, n.id) {
        return Served::Gone;
    }
    let r = perform(s, &found, link_target.as_bytes());
    drop(worn);
    match r {
        Ok(Some(file)) => install(fd, n.id, file, s.flags & g::O_CLOEXEC),
        Ok(None) => send(fd, n.id, Ok(0)),
        Err(e) => send(fd, n.id, Err(e)),
    }
}

fn errno_of(d: Decision, otherwise: u16) -> Errno {
    match d {
        Decision::Errno(e) => Errno::from_raw_os_error(e as i32),
        _ => Errno::from_raw_os_error(otherwise as i32),
    }
}

/// The rule's verdict on the paths as written (no symlinks followed).
fn lexical(
    n: &Notif,
    args: &[groups::PathArg],
    raw: &[Path],
    policy: &Policy,
    rules: (u16, u16, u16),
) -> Decision {
    let mut abs = [Path::new(), Path::new()];
    for ((pa, raw), abs) in args.iter().zip(raw).zip(&mut abs) {
        let dirfd = pa.dirfd.map(|d| n.args[d as usize]);
        if path::absolute(n.pid as i32, dirfd, raw.as_bytes(), abs).is_err() {
            return Decision::Errno(rules.2);
        }
    }
    let views: [&[u8]; 2] = [abs[0].as_bytes(), abs[1].as_bytes()];
    decide::by_paths(policy, rules.0, rules.1, rules.2, &views[..raw.len()])
}

fn read_all(
    n: &Notif,
    s: Spec,
    args: &[groups::PathArg],
    paths: &mut [Path; 2],
    link_target: &mut Path,
) -> Result<(), Errno> {
    for (pa, out) in args.iter().zip(paths) {
        path::read_cstr(n.pid as i32, n.args[pa.path as usize], out)?;
        // The target names its own /proc entry: make it the target's,
        // not vigil's.
        for own in [&b"/proc/self"[..], b"/proc/thread-self"] {
            let p = out.as_bytes();
            if p.starts_with(own) && matches!(p.get(own.len()), None | Some(b'/')) {
                let mut q = Path::new();
                q.s("/proc/").u(n.pid as u64).put(&p[own.len()..]);
                *out = q;
            }
        }
    }
    if s.op == Op::Symlink {
        path::read_cstr(n.pid as i32, n.args[0], link_target)?;
    }
    Ok(())
}

/// Open from /proc what vigil needs of the target: its root (returned,
/// its path into `root_path`), its credentials and, for relative paths,
/// the cwd or dirfd they start from. The error says whether it was vigil's
/// own view of the target's /proc entries that failed (not a bad dirfd of
/// the target's).
// Size: filled in place; returned by value, these were copied; and plain
// arguments, not one struct of them (measured).
fn look(
    n: &Notif,
    args: &[groups::PathArg],
    paths: &[Path],
    root_path: &mut Path,
    creds: &mut Creds,
    start: &mut [Option<OwnedFd>; 2],
) -> Result<OwnedFd, (Errno, bool)> {
    let root = resolve::root(n.pid, root_path).map_err(|e| (e, true))?;
    creds.read(n.pid).map_err(|e| (e, true))?;
    for ((pa, raw), start) in args.iter().zip(paths).zip(start) {
        if raw.as_bytes().first() != Some(&b'/') {
            let dirfd = pa.dirfd.map(|d| n.args[d as usize]);
            *start = Some(resolve::start(n.pid, dirfd).map_err(|e| (e, false))?);
        }
    }
    Ok(root)
}

/// Open flags the kernel knows (openat2 refuses others; openat ignores them).
const OPEN_FLAGS: u32 = g::O_ACCMODE
    | g::O_CREAT
    | g::O_EXCL
    | g::O_NOCTTY
    | g::O_TRUNC
    | g::O_APPEND
    | g::O_NONBLOCK
    | g::O_DSYNC
    | g::FASYNC
    | g::O_DIRECT
    | g::O_LARGEFILE
    | g::O_DIRECTORY
    | g::O_NOFOLLOW
    | g::O_NOATIME
    | g::O_SYNC
    | g::O_PATH
    | g::O_TMPFILE;

/// Run the operation on the located entries; an opened file for open.
fn perform(s: Spec, e: &[Option<Entry>; 2], link_target: &[u8]) -> Result<Option<OwnedFd>, Errno> {
    let a = e[0].as_ref().ok_or(Errno::INVAL)?;
    let mut nb = [0u8; 257];
    let name = a.cname(&mut nb);
    let second = || e[1].as_ref().ok_or(Errno::INVAL);
    let mut nb2 = [0u8; 257];
    // Size: every arm but open ends in one `Ok(None)` (measured).
    match s.op {
        Op::Open => return open(a, name, s).map(Some),
        Op::Mkdir => rustix::fs::mkdirat(&a.dir, name, mode(s.mode)),
        Op::Unlink => {
            if s.flags & !g::AT_REMOVEDIR != 0 {
                return Err(Errno::INVAL);
            }
            let f = AtFlags::from_bits_retain(s.flags);
            rustix::fs::unlinkat(&a.dir, name, f)
        }
        Op::Rename => {
            let b = second()?;
            let f = RenameFlags::from_bits_retain(s.flags);
            rustix::fs::renameat_with(&a.dir, name, &b.dir, b.cname(&mut nb2), f)
        }
        Op::Link => {
            if s.flags & !(g::AT_SYMLINK_FOLLOW | g::AT_EMPTY_PATH) != 0 {
                return Err(Errno::INVAL);
            }
            let b = second()?;
            // A final symlink was already followed by `locate` if asked.
            rustix::fs::linkat(&a.dir, name, &b.dir, b.cname(&mut nb2), AtFlags::empty())
        }
        Op::Symlink => {
            let mut tb = [0u8; path::PATH_MAX + 1];
            let t = sys::nul_terminated(link_target, &mut tb)?;
            rustix::fs::symlinkat(t, &a.dir, name)
        }
        Op::Chmod | Op::Chown => {
            if s.flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
                return Err(Errno::INVAL);
            }
            attrs(a, name, s)
        }
    }?;
    Ok(None)
}

fn mode(m: u32) -> Mode {
    Mode::from_raw_mode(m & 0o7777)
}

fn open(a: &Entry, name: &core::ffi::CStr, s: Spec) -> Result<OwnedFd, Errno> {
    let mut f = s.flags & OPEN_FLAGS;
    if f & g::O_PATH != 0 {
        // What openat keeps of O_PATH's company.
        f &= g::O_PATH | g::O_DIRECTORY | g::O_NOFOLLOW;
    } else {
        // vigil, PID 1 and session leader, must never gain a tty.
        f |= g::O_NOCTTY | g::O_LARGEFILE;
    }
    let m = if f & (g::O_CREAT | g::__O_TMPFILE) != 0 {
        mode(s.mode)
    } else {
        Mode::empty()
    };
    // vigil's copy is always close-on-exec; the target's follows its flag.
    let of = OFlags::from_bits_retain((f & !g::O_CLOEXEC) | g::O_CLOEXEC);
    // `locate` followed any final symlink: refuse one swapped in since.
    let mut rf = ResolveFlags::NO_MAGICLINKS;
    if s.follow[0] {
        rf |= ResolveFlags::NO_SYMLINKS;
    }
    // Never block vigil's one thread in open (a FIFO without a peer, a
    // lease): open non-blocking, then clear the flag if the target did not
    // ask for it. Costs: a FIFO opened for writing with no reader fails
    // with ENXIO instead of waiting.
    let nb = if f & g::O_PATH == 0 {
        OFlags::NONBLOCK
    } else {
        OFlags::empty()
    };
    let file = match rustix::fs::openat2(&a.dir, name, of | nb, m, rf) {
        Err(Errno::NOSYS) => {
            let nf = if s.follow[0] {
                OFlags::NOFOLLOW
            } else {
                OFlags::empty()
            };
            rustix::fs::openat(&a.dir, name, of | nb | nf, m)
        }
        r => r,
    }?;
    if !nb.is_empty() && f & g::O_NONBLOCK == 0 {
        let fl = rustix::fs::fcntl_getfl(&file)?;
        rustix::fs::fcntl_setfl(&file, fl & !OFlags::NONBLOCK)?;
    }
    Ok(file)
}

/// chmod and chown through an O_PATH fd of the entry itself, so that
/// nothing is followed after the check.
fn attrs(a: &Entry, name: &core::ffi::CStr, s: Spec) -> Result<(), Errno> {
    let of = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let f = rustix::fs::openat(&a.dir, name, of, Mode::empty())?;
    let is_link = rustix::fs::fstat(&f)?.st_mode & 0o170000 == 0o120000;
    if is_link && s.follow[0] {
        // Swapped in after `locate` looked: as if it were a loop.
        return Err(Errno::LOOP);
    }
    if s.op == Op::Chown {
        let id = |v: u32| (v != u32::MAX).then_some(v);
        let (u, gr) = (id(s.uid).map(Uid::from_raw), id(s.gid).map(Gid::from_raw));
        return rustix::fs::chownat(&f, c"", u, gr, AtFlags::EMPTY_PATH);
    }
    if is_link {
        // Linux has no modes on symlinks.
        return Err(Errno::OPNOTSUPP);
    }
    // chmod needs a real path; /proc/self/fd/N reaches exactly this inode.
    let mut p = Buf::<48>::new();
    p.s("/proc/self/fd/").u(f.as_raw_fd() as u64);
    let mut b = [0u8; 48];
    let c = sys::nul_terminated(p.as_bytes(), &mut b)?;
    rustix::fs::chmodat(rustix::fs::CWD, c, mode(s.mode), AtFlags::empty())
}

/// Put `file` into the target as the answer.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn install(fd: i32, id: u64, file: OwnedFd, cloexec: u32) -> Served {
    // Added and answered at once where the kernel can (5.14): the target
    // cannot be interrupted in between and leak an fd it never hears of.
    // Before, if it is interrupted between ADDFD and SEND, the new fd
    // stays in its table unannounced.
    let at_once = probe::has(probe::ADDFD_SEND);
    let flags = if at_once { seccomp::ADDFD_FLAG_SEND } else { 0 };
    // Size: one ADDFD call for both ways (measured).
    match seccomp::addfd(fd, id, file.as_raw_fd(), cloexec, flags) {
        Ok(_) if at_once => Served::Answered,
        Ok(newfd) => send(fd, id, Ok(newfd as i64)),
        Err(Errno::NOENT) => Served::Gone,
        // No ADDFD at all (before 5.9): vigil cannot hand over an fd.
        Err(Errno::INVAL) if !at_once => send(fd, id, Err(Errno::NOSYS)),
        // EMFILE (the target's RLIMIT_NOFILE) and friends: the
        // notification is still pending, answer with the error.
        Err(e) => send(fd, id, Err(e)),
    }
}

fn send(fd: i32, id: u64, r: Result<i64, Errno>) -> Served {
    let (val, err) = match r {
        Ok(v) => (v, 0),
        Err(e) => (0, -e.raw_os_error()),
    };
    super::reply(fd, id, val, err, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy layer decides which added equivalents may be emulated
    /// (`policy::harden::EMULATED`): it must know exactly these.
    #[test]
    fn the_policy_knows_what_is_emulated() {
        use crate::tables::{AARCH64, X86_64};
        for (name, _) in X86_64.syscalls().chain(AARCH64.syscalls()) {
            assert_eq!(
                handles(name),
                crate::policy::harden::emulated(name),
                "{name}: update policy::harden::EMULATED"
            );
        }
    }

    #[test]
    fn specs() {
        let mut a = [0u64; 6];
        assert!(handles("openat") && handles("rmdir") && handles("fchownat"));
        assert!(!handles("stat") && !handles("execve") && !handles("openat2"));
        a[2] = (g::O_CREAT | g::O_EXCL) as u64;
        assert!(!spec("openat", &a).unwrap().follow[0]);
        a[2] = g::O_CREAT as u64;
        assert!(spec("openat", &a).unwrap().follow[0]);
        assert!(spec("chown", &a).unwrap().follow[0]);
        assert!(!spec("lchown", &a).unwrap().follow[0]);
        a[4] = g::AT_SYMLINK_NOFOLLOW as u64;
        assert!(!spec("fchownat", &a).unwrap().follow[0]);
        a[4] = g::AT_SYMLINK_FOLLOW as u64;
        assert!(spec("linkat", &a).unwrap().follow[0]);
        assert_eq!(spec("rmdir", &a).unwrap().flags, g::AT_REMOVEDIR);
    }
}
