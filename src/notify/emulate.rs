//! Emulated path syscalls: when a `paths` rule allows one of the calls
//! below, the monitor performs it itself, as the target, and answers with
//! the result; the kernel never runs the target's own call (no CONTINUE),
//! so the target cannot change what the call does after the monitor looked.
//! This runs in the service's worker (`worker`), in the service's mount
//! namespace and root as vigil set them up.
//!
//! Steps, in order: read the path strings (and `openat2`'s `open_how`,
//! once); NOTIF_ID_VALID; open the target's root, cwd/dirfd and read its
//! credentials from /proc, and refuse (EXDEV, logged) a target whose mount
//! namespace or root is no longer the one it started with, or whose
//! starting directory is not where its path names it in them; NOTIF_ID_VALID
//! (the pid was still ours when /proc was read); take on its fs ids,
//! groups, umask and capabilities; locate every path (`resolve`) and check
//! the policy on the physical paths (a rename or link also may not move
//! anything across a rule, and a device node is never made); NOTIF_ID_VALID;
//! do the operation (in the Landlock actor if the service has Landlock
//! rules); answer (an opened fd goes in with ADDFD, atomically with the
//! answer where the kernel has ADDFD_FLAG_SEND).

use core::sync::atomic::{AtomicU64, Ordering};

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, ResolveFlags};
use rustix::process::{Gid, Uid};

use super::decide::{self, Decision};
use super::path::{self, Path};
use super::reach::{self, Id};
use super::resolve::{self, Entry, How};
use super::target::{self, Creds};
use super::{actor, describe, probe, Served};
use crate::arch::Arch;
use crate::log;
use crate::out::{Buf, Sink};
use crate::policy::{groups, Policy};
use crate::sys::seccomp::{self, Notif};
use crate::sys::{self, Errno, PATH_MAX};
use linux_raw_sys::general as g;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    Open,
    Mkdir,
    Unlink,
    Rename,
    Link,
    Symlink,
    Chmod,
    Chown,
    Truncate,
    Mknod,
}

/// Every `Op`, by its number (for the actor's messages).
pub const OPS: [Op; 10] = [
    Op::Open,
    Op::Mkdir,
    Op::Unlink,
    Op::Rename,
    Op::Link,
    Op::Symlink,
    Op::Chmod,
    Op::Chown,
    Op::Truncate,
    Op::Mknod,
];

/// One call's operation and its register arguments.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub op: Op,
    pub flags: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// truncate's length, mknod's device.
    pub arg: u64,
    /// openat2's RESOLVE_* flags.
    pub resolve: u64,
    /// Follow a symlink in the last component of path 0 / path 1.
    pub follow: [bool; 2],
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
/// registers hold flags, mode, uid, gid and the extra argument (truncate's
/// length, mknod's device); plus flags it always has. `openat2`'s flags,
/// mode and resolve flags are in memory (`read_how`).
// Size: those flags fit a u16.
const SPECS: [([u8; 9], Op, [u8; 5], u16); 25] = [
    (*b"open\0\0\0\0\0", Op::Open, [1, 2, NO, NO, NO], 0),
    (*b"openat\0\0\0", Op::Open, [2, 3, NO, NO, NO], 0),
    (*b"openat2\0\0", Op::Open, [NO; 5], 0),
    (*b"creat\0\0\0\0", Op::Open, [NO, 1, NO, NO, NO], CREAT),
    (*b"mkdir\0\0\0\0", Op::Mkdir, [NO, 1, NO, NO, NO], 0),
    (*b"mkdirat\0\0", Op::Mkdir, [NO, 2, NO, NO, NO], 0),
    (*b"unlink\0\0\0", Op::Unlink, [NO; 5], 0),
    (*b"rmdir\0\0\0\0", Op::Unlink, [NO; 5], RMDIR),
    (*b"unlinkat\0", Op::Unlink, [2, NO, NO, NO, NO], 0),
    (*b"rename\0\0\0", Op::Rename, [NO; 5], 0),
    (*b"renameat\0", Op::Rename, [NO; 5], 0),
    (*b"renameat2", Op::Rename, [4, NO, NO, NO, NO], 0),
    (*b"link\0\0\0\0\0", Op::Link, [NO; 5], 0),
    (*b"linkat\0\0\0", Op::Link, [4, NO, NO, NO, NO], 0),
    (*b"symlink\0\0", Op::Symlink, [NO; 5], 0),
    (*b"symlinkat", Op::Symlink, [NO; 5], 0),
    (*b"chmod\0\0\0\0", Op::Chmod, [NO, 1, NO, NO, NO], 0),
    (*b"fchmodat\0", Op::Chmod, [NO, 2, NO, NO, NO], 0),
    (*b"fchmodat2", Op::Chmod, [3, 2, NO, NO, NO], 0),
    (*b"chown\0\0\0\0", Op::Chown, [NO, NO, 1, 2, NO], 0),
    (*b"lchown\0\0\0", Op::Chown, [NO, NO, 1, 2, NO], LCHOWN),
    (*b"fchownat\0", Op::Chown, [4, NO, 2, 3, NO], 0),
    (*b"truncate\0", Op::Truncate, [NO, NO, NO, NO, 1], 0),
    (*b"mknod\0\0\0\0", Op::Mknod, [NO, 1, NO, NO, 2], 0),
    (*b"mknodat\0\0", Op::Mknod, [NO, 2, NO, NO, 3], 0),
];

fn spec(name: &str, a: &[u64; 6]) -> Option<Spec> {
    let n = name.as_bytes();
    let (_, op, regs, always) = SPECS.iter().find(|(k, ..)| {
        n.len() <= k.len() && k[..n.len()] == *n && k.get(n.len()).is_none_or(|&c| c == 0)
    })?;
    let r = |i: usize| a.get(regs[i] as usize).map_or(0, |&v| v);
    let mut s = Spec {
        op: *op,
        flags: *always as u32 | r(0) as u32,
        mode: r(1) as u32,
        uid: r(2) as u32,
        gid: r(3) as u32,
        arg: r(4),
        resolve: 0,
        follow: [false; 2],
    };
    s.follow[0] = follows(&s);
    Some(s)
}

/// Does the call follow a symlink in its (first) path's last component?
fn follows(s: &Spec) -> bool {
    let nofollow = s.flags & g::AT_SYMLINK_NOFOLLOW != 0;
    match s.op {
        // O_CREAT|O_EXCL never follows; O_NOFOLLOW is left to the kernel.
        Op::Open => {
            s.flags & g::O_NOFOLLOW == 0
                && s.flags & (g::O_CREAT | g::O_EXCL) != g::O_CREAT | g::O_EXCL
        }
        Op::Link => s.flags & g::AT_SYMLINK_FOLLOW != 0,
        Op::Chmod | Op::Chown => !nofollow,
        Op::Truncate => true,
        _ => false,
    }
}

/// `openat2`'s `struct open_how` (arguments 2 and 3), read once into our
/// memory and checked as the kernel checks it, into `s`.
fn read_how(n: &Notif, s: &mut Spec) -> Result<(), Errno> {
    // OPEN_HOW_SIZE_VER0; a larger struct must be zero beyond what we know.
    let size = n.args[3];
    if size < 24 {
        return Err(Errno::INVAL);
    }
    if size > 4096 {
        return Err(Errno::TOOBIG);
    }
    let mut b = [0u8; 4096];
    let b = &mut b[..size as usize];
    let mut got = 0;
    while got < b.len() {
        match reach::read(n.pid as i32, n.args[2] + got as u64, &mut b[got..])? {
            0 => return Err(Errno::FAULT),
            k => got += k,
        }
    }
    if b[24..].iter().any(|&x| x != 0) {
        return Err(Errno::TOOBIG);
    }
    let word = |i: usize| u64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
    let (flags, mode, res) = (word(0), word(8), word(16));
    let known = ResolveFlags::all().bits();
    let beneath_in_root = (ResolveFlags::BENEATH | ResolveFlags::IN_ROOT).bits();
    let creating = flags & (g::O_CREAT | g::__O_TMPFILE) as u64 != 0;
    let path_only = (g::O_PATH | g::O_DIRECTORY | g::O_NOFOLLOW | g::O_CLOEXEC) as u64;
    if flags & !((OPEN_FLAGS | g::O_CLOEXEC) as u64) != 0
        || res & !known != 0
        || res & beneath_in_root == beneath_in_root
        || (creating && mode & !0o7777 != 0)
        || (!creating && mode != 0)
        || (flags & g::O_PATH as u64 != 0 && flags & !path_only != 0)
    {
        return Err(Errno::INVAL);
    }
    if res & ResolveFlags::CACHED.bits() != 0 {
        // "Not from the cache alone": the caller retries without the flag.
        return Err(Errno::AGAIN);
    }
    s.flags = flags as u32;
    s.mode = mode as u32;
    s.resolve = res;
    s.follow[0] = follows(s);
    Ok(())
}

/// The worker's own mount namespace and root, which are the service's as
/// vigil set them up: (namespace, root) identities, 0 until known.
static HOME: [AtomicU64; 6] = [const { AtomicU64::new(0) }; 6];

/// Note the namespace and root this process serves from (a worker, once
/// it entered its service's).
pub fn remember_home() -> Result<(), Errno> {
    let ns = reach::id_of(b"self/ns/mnt")?;
    let root = reach::id_at(rustix::fs::CWD, c"/")?;
    for (slot, v) in HOME
        .iter()
        .zip([ns.mnt, ns.dev, ns.ino, root.mnt, root.dev, root.ino])
    {
        slot.store(v, Ordering::Relaxed);
    }
    Ok(())
}

fn home() -> Result<(Id, Id), Errno> {
    if HOME[2].load(Ordering::Relaxed) == 0 {
        remember_home()?;
    }
    let v = |i: usize| HOME[i].load(Ordering::Relaxed);
    Ok((
        Id {
            mnt: v(0),
            dev: v(1),
            ino: v(2),
        },
        Id {
            mnt: v(3),
            dev: v(4),
            ino: v(5),
        },
    ))
}

/// Serve one notification of an emulated syscall under a paths rule.
// Stack: out of line, its path buffers and those of `read_paths` are not
// one frame that every path notification touches whole.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn serve(
    fd: BorrowedFd<'_>,
    n: &Notif,
    name: &str,
    policy: &Policy,
    arch: &Arch,
    who: &str,
    rules: (u16, u16, u16),
) -> Served {
    let Some(mut s) = spec(name, &n.args) else {
        return send(fd, n.id, Err(Errno::NOSYS));
    };
    let mut paths = [Path::new(), Path::new()];
    let mut link_target = Path::new();
    let args = groups::path_args(name);
    let np = args.len().min(2);
    let mut res = read_all(n, s, args, &mut paths, &mut link_target);
    if res.is_ok() && name == "openat2" {
        res = read_how(n, &mut s);
    }
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
        &s,
        args,
        &mut paths[..np],
        &mut root_path,
        &mut creds,
        &mut start,
    );
    let root = match seen {
        Ok(r) => r,
        Err(refusal) => {
            // A target killed meanwhile (its /proc entry gone, ENOENT or
            // ESRCH) is no failure of vigil's: nothing to say or answer.
            if !seccomp::id_valid(fd, n.id) {
                return Served::Gone;
            }
            // vigil cannot see the target (no /proc, out of fds, ...), or
            // the target is not where it started: the call fails closed,
            // and says so whatever the decision log.
            let (e, why) = match refusal {
                Refusal::Target(e) => return send(fd, n.id, Err(e)),
                Refusal::Proc(e) => (e, "cannot read the target's root or credentials in /proc: "),
                Refusal::Moved(why) => (Errno::XDEV, why),
            };
            let mut l = log::about(log::Level::Error, who);
            l.s("pid ").u(n.pid as u64).s(" ").s(name).s(": ").s(why);
            log::errno(&mut l, e);
            l.s(": denied");
            l.end();
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
        let how = How {
            follow: s.follow[i],
            resolve: ResolveFlags::from_bits_retain(s.resolve),
        };
        match resolve::locate(&root, rp, from, raw, how, &mut phys[i]) {
            Ok(e) => found[i] = Some(e),
            Err(e) => {
                drop(worn);
                // Say why only where the target may look: elsewhere the
                // rule's own answer, not whether something exists.
                // openat2 with BENEATH or IN_ROOT never looked outside its
                // dirfd, which the target holds already: its errors say
                // nothing new. EXDEV is the answer to an escape openat2
                // was told to refuse (those and NO_XDEV), not a secret.
                let confined = s.resolve & ANCHORED != 0;
                let xdev = s.resolve & (ANCHORED | ResolveFlags::NO_XDEV.bits()) != 0;
                let d = if confined {
                    Decision::Continue
                } else {
                    lexical(n, args, &paths[..np], policy, rules)
                };
                let d = if d == Decision::Continue && (e != Errno::XDEV || xdev) {
                    Err(e)
                } else {
                    Err(errno_of(d, rules.2))
                };
                return send(fd, n.id, d);
            }
        }
    }
    let views: [&[u8]; 2] = [phys[0].as_bytes(), phys[1].as_bytes()];
    let mut d = decide::by_paths(policy, rules.0, rules.1, rules.2, &views[..np]);
    let mut why = "";
    if d == Decision::Continue {
        if let Some(e) = refused(policy, &s, &views[..np]) {
            (d, why) = e;
        }
    }
    if policy.log_decisions {
        let mut l = log::about(log::Level::Info, who);
        describe(&mut l, n, arch, d, &views[..np]);
        l.s(if d == Decision::Continue {
            " (emulated)"
        } else {
            why
        });
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
    let r = if actor::active() {
        actor::perform(&s, &found, link_target.as_bytes(), &creds)
    } else {
        perform(&s, &found, link_target.as_bytes())
    };
    drop(worn);
    match r {
        Ok(Some(file)) => install(fd, n.id, file, s.flags & g::O_CLOEXEC),
        Ok(None) => send(fd, n.id, Ok(0)),
        Err(e) => send(fd, n.id, Err(e)),
    }
}

/// What the paths rule allowed but vigil still refuses: a rename or link
/// that would move something across a rule, and device nodes (a device
/// node in an allowed directory is the whole device, whatever the rules
/// say about paths). The decision and the reason for the log.
fn refused(policy: &Policy, s: &Spec, phys: &[&[u8]]) -> Option<(Decision, &'static str)> {
    match (s.op, phys) {
        (Op::Rename | Op::Link, [from, to]) => decide::moves_across(policy, from, to)
            .map(|e| (Decision::Errno(e), " (it would move a path across a rule)")),
        (Op::Mknod, _) => {
            let kind = s.mode & g::S_IFMT;
            let device = kind == g::S_IFBLK || (kind == g::S_IFCHR && s.arg != 0);
            device.then_some((
                Decision::Errno(Errno::PERM.raw_os_error() as u16),
                " (a device node)",
            ))
        }
        _ => None,
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
    }
    if s.op == Op::Symlink {
        path::read_cstr(n.pid as i32, n.args[0], link_target)?;
    }
    Ok(())
}

/// openat2's flags that confine a lookup to its dirfd.
const ANCHORED: u64 = ResolveFlags::BENEATH.bits() | ResolveFlags::IN_ROOT.bits();

/// Why `look` gave up.
enum Refusal {
    /// vigil's own view of the target in /proc failed.
    Proc(Errno),
    /// The target's fault (a bad dirfd, ...): the errno is its answer.
    Target(Errno),
    /// The target is no longer in the mount namespace or root it started
    /// in, or starts from a directory outside them: why.
    Moved(&'static str),
}

/// Open from /proc what vigil needs of the target: its root (returned,
/// its path into `root_path`), its credentials and, for relative paths
/// (and openat2's IN_ROOT and NO_XDEV), the cwd or dirfd they start from;
/// and check that the target is where it started (its mount namespace and
/// root are the worker's, which are the service's as vigil set it up), and
/// that a starting directory is the directory its path names there.
// Size: filled in place; returned by value, these were copied; and plain
// arguments, not one struct of them (measured).
fn look(
    n: &Notif,
    s: &Spec,
    args: &[groups::PathArg],
    paths: &mut [Path],
    root_path: &mut Path,
    creds: &mut Creds,
    start: &mut [Option<OwnedFd>; 2],
) -> Result<OwnedFd, Refusal> {
    let (ns, home_root) = home().map_err(Refusal::Proc)?;
    let here = reach::id_of(reach::rel(n.pid, "ns/mnt").as_bytes()).map_err(Refusal::Proc)?;
    if here != ns {
        return Err(Refusal::Moved(
            "its mount namespace is not the one it started with: ",
        ));
    }
    let root = resolve::root(n.pid, root_path).map_err(Refusal::Proc)?;
    if reach::id_at(root.as_fd(), c"").map_err(Refusal::Proc)? != home_root {
        return Err(Refusal::Moved("its root is not the one it started with: "));
    }
    creds.read(n.pid).map_err(Refusal::Proc)?;
    // The target names its own /proc entry: make it the target's, not the
    // worker's, by its pid in its own pid namespace (whose /proc a service
    // with `namespaces pid` has mounted).
    for p in paths.iter_mut() {
        for own in [&b"/proc/self"[..], b"/proc/thread-self"] {
            let b = p.as_bytes();
            if b.starts_with(own) && matches!(b.get(own.len()), None | Some(b'/')) {
                let mut q = Path::new();
                // No NSpid line (before 4.1): one pid namespace.
                let pid = if creds.pid == 0 { n.pid } else { creds.pid };
                q.s("/proc/").u(pid as u64).put(&b[own.len()..]);
                *p = q;
            }
        }
    }
    let anchored = ResolveFlags::IN_ROOT | ResolveFlags::NO_XDEV;
    let need_start = s.resolve & anchored.bits() != 0;

    for ((pa, raw), start) in args.iter().zip(paths).zip(start) {
        if need_start || raw.as_bytes().first() != Some(&b'/') {
            let dirfd = pa.dirfd.map(|d| n.args[d as usize]);
            let dir = resolve::start(n.pid, dirfd).map_err(Refusal::Target)?;
            match resolve::in_place(&dir, &root, root_path.as_bytes()) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Refusal::Moved(
                        "its dirfd or cwd is not the one its path names: ",
                    ))
                }
                Err(e) => return Err(Refusal::Target(e)),
            }
            *start = Some(dir);
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

/// Run the operation on the located entries (as the target: the caller
/// wears its credentials); an opened file for open.
pub fn perform(
    s: &Spec,
    e: &[Option<Entry>; 2],
    link_target: &[u8],
) -> Result<Option<OwnedFd>, Errno> {
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
            let mut tb = [0u8; PATH_MAX + 1];
            let t = sys::nul_terminated(link_target, &mut tb)?;
            rustix::fs::symlinkat(t, &a.dir, name)
        }
        Op::Chmod | Op::Chown => {
            if s.flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
                return Err(Errno::INVAL);
            }
            attrs(a, name, s)
        }
        Op::Truncate => truncate(a, name, s.arg),
        Op::Mknod => {
            let kind = match s.mode & g::S_IFMT {
                0 => g::S_IFREG,
                k => k,
            };
            // `refused` keeps device nodes out (a whiteout, a char device
            // 0:0, is none); the kernel refuses unknown kinds.
            let t = FileType::from_raw_mode(kind);
            rustix::fs::mknodat(&a.dir, name, t, mode(s.mode), s.arg)
        }
    }?;
    Ok(None)
}

fn mode(m: u32) -> Mode {
    Mode::from_raw_mode(m & 0o7777)
}

fn open(a: &Entry, name: &core::ffi::CStr, s: &Spec) -> Result<OwnedFd, Errno> {
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
    // openat2's own NO_XDEV and NO_SYMLINKS hold for the last step too.
    let theirs = ResolveFlags::NO_XDEV | ResolveFlags::NO_SYMLINKS;
    let mut rf = ResolveFlags::NO_MAGICLINKS | (ResolveFlags::from_bits_retain(s.resolve) & theirs);
    if s.follow[0] {
        rf |= ResolveFlags::NO_SYMLINKS;
    }
    // Never block in open (a FIFO without a peer, a lease): open
    // non-blocking, then clear the flag if the target did not ask for it.
    // Costs: a FIFO opened for writing with no reader fails with ENXIO
    // instead of waiting.
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
    if f & g::O_PATH != 0 {
        return substitute(file);
    }
    if !nb.is_empty() && f & g::O_NONBLOCK == 0 {
        // F_SETFL sets exactly these; the rest of the flags stay.
        let settable = g::O_APPEND | g::FASYNC | g::O_DIRECT | g::O_NOATIME;
        rustix::fs::fcntl_setfl(&file, OFlags::from_bits_retain(f & settable))?;
    }
    Ok(file)
}

/// What the target gets for an O_PATH open: seccomp's ADDFD cannot hand
/// over an O_PATH descriptor (EBADF), so the same directory or regular
/// file, reopened read-only (the read permission is checked as for any
/// open). Other kinds (a FIFO, a device) cannot be opened without acting
/// on them: EOPNOTSUPP.
fn substitute(file: OwnedFd) -> Result<OwnedFd, Errno> {
    let kind = rustix::fs::fstat(&file)?.st_mode & g::S_IFMT;
    if kind != g::S_IFDIR && kind != g::S_IFREG {
        return Err(Errno::OPNOTSUPP);
    }
    reopen(&file, OFlags::RDONLY | OFlags::NOCTTY | OFlags::NONBLOCK)
}

/// The entry itself as an O_PATH fd, refusing a symlink swapped in after
/// `locate` followed (or not) the last component: as if it were a loop.
fn pinned(a: &Entry, name: &core::ffi::CStr, follow: bool) -> Result<(OwnedFd, u32), Errno> {
    let of = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let f = rustix::fs::openat(&a.dir, name, of, Mode::empty())?;
    let kind = rustix::fs::fstat(&f)?.st_mode & g::S_IFMT;
    if kind == g::S_IFLNK && follow {
        return Err(Errno::LOOP);
    }
    Ok((f, kind))
}

/// `f` (an O_PATH fd) reopened through vigil's /proc: the same inode,
/// with a full permission check for `flags`.
fn reopen(f: &OwnedFd, flags: OFlags) -> Result<OwnedFd, Errno> {
    let mut p = Buf::<48>::new();
    p.s("self/fd/").u(f.as_raw_fd() as u64);
    reach::open(p.as_bytes(), flags)
}

/// chmod and chown through an O_PATH fd of the entry itself, so that
/// nothing is followed after the check.
fn attrs(a: &Entry, name: &core::ffi::CStr, s: &Spec) -> Result<(), Errno> {
    let (f, kind) = pinned(a, name, s.follow[0])?;
    if s.op == Op::Chown {
        let id = |v: u32| (v != u32::MAX).then_some(v);
        let (u, gr) = (id(s.uid).map(Uid::from_raw), id(s.gid).map(Gid::from_raw));
        return rustix::fs::chownat(&f, c"", u, gr, AtFlags::EMPTY_PATH);
    }
    if kind == g::S_IFLNK {
        // Linux has no modes on symlinks.
        return Err(Errno::OPNOTSUPP);
    }
    // chmod needs a real path; /proc/self/fd/N reaches exactly this inode.
    let mut p = Buf::<48>::new();
    p.s("self/fd/").u(f.as_raw_fd() as u64);
    let mut b = [0u8; 48];
    let c = sys::nul_terminated(p.as_bytes(), &mut b)?;
    rustix::fs::chmodat(reach::proc()?, c, mode(s.mode), AtFlags::empty())
}

/// truncate(2): opened for writing (the permission truncate needs) and
/// cut with ftruncate. Only regular files, as truncate itself.
fn truncate(a: &Entry, name: &core::ffi::CStr, len: u64) -> Result<(), Errno> {
    let (f, kind) = pinned(a, name, true)?;
    if kind == g::S_IFDIR {
        return Err(Errno::ISDIR);
    }
    if kind != g::S_IFREG || (len as i64) < 0 {
        return Err(Errno::INVAL);
    }
    // Non-blocking: a lease on the file gives EAGAIN, not a wait.
    let w = reopen(&f, OFlags::WRONLY | OFlags::NONBLOCK | OFlags::NOCTTY)?;
    rustix::fs::ftruncate(&w, len)
}

/// Put `file` into the target as the answer.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn install(fd: BorrowedFd<'_>, id: u64, file: OwnedFd, cloexec: u32) -> Served {
    // Added and answered at once where the kernel can (5.14): the target
    // cannot be interrupted in between and leak an fd it never hears of.
    // Before, if it is interrupted between ADDFD and SEND, the new fd
    // stays in its table unannounced.
    let at_once = probe::has(probe::ADDFD_SEND);
    let flags = if at_once { seccomp::ADDFD_FLAG_SEND } else { 0 };
    // Size: one ADDFD call for both ways (measured).
    match seccomp::addfd(fd, id, file.as_fd(), cloexec, flags) {
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

fn send(fd: BorrowedFd<'_>, id: u64, r: Result<i64, Errno>) -> Served {
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
        assert!(!handles("stat") && !handles("execve") && !handles("utimensat"));
        assert!(handles("openat2") && handles("truncate") && handles("mknodat"));
        assert!(handles("fchmodat2") && !handles("ftruncate"));
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
        // truncate follows, and takes its length; mknodat its device.
        let t = spec("truncate", &[0, 77, 0, 0, 0, 0]).unwrap();
        assert!(t.follow[0] && t.arg == 77 && t.op == Op::Truncate);
        let m = spec("mknodat", &[0, 0, 0o10644, 0x801, 0, 0]).unwrap();
        assert!(!m.follow[0] && m.arg == 0x801 && m.mode == 0o10644);
    }
}
