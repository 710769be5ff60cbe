//! Find the directory entry a target's path names, the way the kernel
//! would for the target, and name it physically.
//!
//! vigil opens the starting point from `/proc/PID` (the target's root for
//! an absolute path, its cwd or dirfd for a relative one), resolves every
//! component but the last with `openat2(RESOLVE_NO_MAGICLINKS)` (plus
//! `RESOLVE_IN_ROOT` from the root, so `..` and absolute symlinks stay in
//! the target's root), and keeps the parent directory open. The policy is
//! then checked on the *kernel's* name of that directory (`/proc/self/fd`)
//! plus the last component, and the operation runs on the open directory:
//! no later change of the target's memory, of a symlink or of a `..` can
//! move the operation somewhere else than what was checked.
//!
//! When the final component is to be followed (open without O_NOFOLLOW,
//! chmod, chown), a symlink there is read and resolved again, up to 40
//! times like the kernel; the operation itself then refuses to follow a
//! symlink in the last step, so swapping one in afterwards gives ELOOP.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::path::{self, Path};
use super::reach;
use crate::out::{Buf, Sink};
use crate::sys::PATH_MAX;
use crate::sys::{self, Errno};

/// The kernel's limit on symlinks followed in one lookup.
const MAX_LINKS: usize = 40;

/// The target's root as vigil sees it: an open fd, and its path in
/// vigil's root ("/" unless the target is chrooted) into `path`.
pub fn root(pid: u32, path: &mut Path) -> Result<OwnedFd, Errno> {
    let fd = open_dir_path(reach::rel(pid, "root").as_bytes())?;
    fd_path(&fd, b"/", path)?;
    Ok(fd)
}

/// The directory a relative path starts from: the target's cwd (dirfd
/// `None` or AT_FDCWD) or its open fd, reopened by vigil as an O_PATH fd.
pub fn start(pid: u32, dirfd: Option<u64>) -> Result<OwnedFd, Errno> {
    let mut link = Buf::<48>::new();
    path::start_link(&mut link, pid, dirfd)?;
    match open_dir_path(link.as_bytes()) {
        // No such fd in the target.
        Err(Errno::NOENT) if dirfd.is_some() => Err(Errno::BADF),
        r => r,
    }
}

/// A located entry: an open parent directory and a name in it.
pub struct Entry {
    pub dir: OwnedFd,
    /// One component, no slash; "." when the path names a directory itself.
    pub name: Buf<256>,
}

impl Entry {
    /// `name` NUL-terminated for the *at syscalls.
    pub fn cname<'a>(&self, buf: &'a mut [u8; 257]) -> &'a CStr {
        sys::nul_terminated(self.name.as_bytes(), buf).unwrap_or(c".")
    }
}

/// How to locate a path: whether to follow a symlink in its last
/// component, and `openat2`'s RESOLVE_* flags, honoured as the kernel would.
#[derive(Clone, Copy, Debug)]
pub struct How {
    pub follow: bool,
    pub resolve: ResolveFlags,
}

/// Locate `raw` (the target's path) from `start`, following a final
/// symlink when `how.follow`; the entry's physical path in the target's
/// root (`root`, at `root_path` in the monitor's), for the policy, goes to
/// `path`.
///
/// A final symlink is read here and its target resolved again, the way the
/// kernel would: from the link's directory (a relative target: the walk
/// starts over from `start` with the link's directory part in front, so
/// that `RESOLVE_BENEATH` and `RESOLVE_IN_ROOT` keep meaning "beneath the
/// dirfd"), or from the root (an absolute one). Following it checks what
/// the kernel checks when it follows: `nosymfollow` mounts (ELOOP) and
/// `fs.protected_symlinks` (EACCES for a link in a sticky world-writable
/// directory whose owner is neither the follower nor the directory's).
pub fn locate(
    root: &OwnedFd,
    root_path: &[u8],
    start: &OwnedFd,
    raw: &[u8],
    how: How,
    path: &mut Path,
) -> Result<Entry, Errno> {
    if raw.is_empty() {
        return Err(Errno::NOENT);
    }
    let r = how.resolve;
    let beneath = r.contains(ResolveFlags::BENEATH);
    let in_root = r.contains(ResolveFlags::IN_ROOT);
    // Passed to every lookup; the kernel enforces them.
    let each = r & (ResolveFlags::NO_XDEV | ResolveFlags::NO_SYMLINKS);
    let follow = how.follow && !r.contains(ResolveFlags::NO_SYMLINKS);
    // Absolute paths start at the target's root, or with IN_ROOT at the
    // dirfd; relative ones at the dirfd, with its BENEATH or IN_ROOT.
    let (abs_from, abs_flags) = if in_root {
        (start, ResolveFlags::IN_ROOT)
    } else {
        (root, ResolveFlags::IN_ROOT)
    };
    let rel_flags = r & (ResolveFlags::BENEATH | ResolveFlags::IN_ROOT);
    let mut cur = Path::new();
    cur.put(raw);
    for _ in 0..=MAX_LINKS {
        let p = cur.as_bytes();
        let abs = p.first() == Some(&b'/');
        if abs && beneath {
            return Err(Errno::XDEV);
        }
        if abs && r.contains(ResolveFlags::NO_XDEV) && !in_root {
            // Jumping to the root crosses a mount unless the root is on
            // the dirfd's.
            let mnt = |f: &OwnedFd| reach::id_at(f.as_fd(), c"").map(|i| i.mnt);
            if mnt(root)? != mnt(start)? {
                return Err(Errno::XDEV);
            }
        }
        let trimmed = trim_slashes(p);
        let split = trimmed.iter().rposition(|&b| b == b'/');
        let (dir, name): (&[u8], &[u8]) = match split {
            Some(i) => (&trimmed[..i + 1], &trimmed[i + 1..]),
            None if abs => (b"/", b"."),
            None => (b".", trimmed),
        };
        // "x/.." and "x/." name directories: open them whole.
        let (dir, name): (&[u8], &[u8]) = if name == b".." || name == b"." {
            (trimmed, b".")
        } else {
            (dir, name)
        };
        if name.len() > 255 {
            return Err(Errno::NAMETOOLONG);
        }
        let dirfd = if abs {
            open_dir(abs_from, dir, abs_flags | each)?
        } else {
            open_dir(start, dir, rel_flags | each)?
        };
        if follow && name != b"." {
            let mut target = [0u8; PATH_MAX];
            if let Some(n) = final_link(&dirfd, name, r, &mut target)? {
                let t = &target[..n];
                let mut next = Path::new();
                if t.first() != Some(&b'/') {
                    if let Some(i) = split {
                        next.put(&trimmed[..i + 1]);
                    }
                }
                if next.len() + t.len() >= PATH_MAX {
                    return Err(Errno::NAMETOOLONG);
                }
                next.put(t);
                cur = next;
                continue;
            }
        }
        fd_path(&dirfd, root_path, path)?;
        if name != b"." {
            if path.as_bytes() != b"/" {
                path.s("/");
            }
            path.put(name);
        }
        let mut e = Entry {
            dir: dirfd,
            name: Buf::new(),
        };
        e.name.put(name);
        return Ok(e);
    }
    Err(Errno::LOOP)
}

/// `ST_NOSYMFOLLOW` in `statfs`'s flags (5.10+).
const ST_NOSYMFOLLOW: u64 = 0x2000;

/// If `name` in `dir` is a symlink the caller may follow, its target into
/// `buf` (the length); `None` if it is no symlink or is not there.
fn final_link(
    dir: &OwnedFd,
    name: &[u8],
    resolve: ResolveFlags,
    buf: &mut [u8; PATH_MAX],
) -> Result<Option<usize>, Errno> {
    let mut nb = [0u8; 257];
    let cn = sys::nul_terminated(name, &mut nb)?;
    // Most names are no symlinks: one call says so.
    match rustix::fs::readlinkat_raw(dir, cn, &mut buf[..1]) {
        // Not a symlink, or nothing there yet (a creation): the entry.
        Err(Errno::INVAL) | Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    let of = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let link = match rustix::fs::openat(dir, cn, of, Mode::empty()) {
        Ok(f) => f,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let st = rustix::fs::fstat(&link)?;
    if st.st_mode & 0o170000 != 0o120000 {
        return Ok(None);
    }
    let fs = rustix::fs::fstatfs(&link)?;
    if fs.f_flags as u64 & ST_NOSYMFOLLOW != 0 {
        return Err(Errno::LOOP);
    }
    // openat2's NO_MAGICLINKS: procfs links are the magic ones.
    if resolve.contains(ResolveFlags::NO_MAGICLINKS)
        && fs.f_type as u32 == linux_raw_sys::general::PROC_SUPER_MAGIC
    {
        return Err(Errno::LOOP);
    }
    if protected_symlinks() {
        let d = rustix::fs::fstat(dir)?;
        let sticky_open = 0o1000 | 0o002;
        let fsuid = crate::sys::creds::setfsuid(u32::MAX);
        if d.st_mode & sticky_open == sticky_open && st.st_uid != fsuid && d.st_uid != st.st_uid {
            return Err(Errno::ACCESS);
        }
    }
    let n = rustix::fs::readlinkat_raw(&link, c"", &mut buf[..])?;
    if n >= PATH_MAX || n == 0 {
        return Err(Errno::NAMETOOLONG);
    }
    Ok(Some(n))
}

/// `fs.protected_symlinks` (read each time a final symlink is followed:
/// it can change at any time).
fn protected_symlinks() -> bool {
    let Ok(f) = reach::open(b"sys/fs/protected_symlinks", OFlags::RDONLY) else {
        // Unknown: assume the kernel's protection is on (the safe side).
        return true;
    };
    let mut b = [0u8; 4];
    matches!(rustix::io::read(&f, &mut b), Ok(n) if n > 0 && b[0] != b'0')
}

/// Is `dir` (a target's cwd or dirfd) the directory its physical path
/// names from `root` (the target's root, at `root_path`), on the same
/// mount? Not when it lies in another mount namespace (an fd passed in
/// from one), outside the root, or under a mount made since.
pub fn in_place(dir: &OwnedFd, root: &OwnedFd, root_path: &[u8]) -> Result<bool, Errno> {
    let mut p = Path::new();
    match fd_path(dir, root_path, &mut p) {
        Ok(()) => {}
        Err(Errno::XDEV) => return Ok(false),
        Err(e) => return Err(e),
    }
    let there = match open_dir(
        root,
        p.as_bytes(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS,
    ) {
        Ok(f) => f,
        // A directory since deleted ("/x (deleted)"): as the kernel says.
        Err(Errno::NOENT) => return Err(Errno::NOENT),
        Err(_) => return Ok(false),
    };
    Ok(reach::id_at(dir.as_fd(), c"")? == reach::id_at(there.as_fd(), c"")?)
}

/// Drop trailing slashes ("a/b//" names "a/b"), keeping a lone "/".
fn trim_slashes(p: &[u8]) -> &[u8] {
    let mut end = p.len();
    while end > 1 && p[end - 1] == b'/' {
        end -= 1;
    }
    &p[..end]
}

/// Open directory `dir` from `from` as an O_PATH fd, never through a
/// magic link, with `resolve` (RESOLVE_IN_ROOT from the root). Falls back
/// to plain openat where openat2 is missing (before 5.6): still safe,
/// since the policy is checked on the physical path of what was opened;
/// but `resolve` then means nothing, so a call that asked for it fails.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn open_dir(from: &OwnedFd, dir: &[u8], resolve: ResolveFlags) -> Result<OwnedFd, Errno> {
    let mut b = [0u8; PATH_MAX + 1];
    let c = sys::nul_terminated(dir, &mut b)?;
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let strict = resolve & !ResolveFlags::IN_ROOT;
    match rustix::fs::openat2(
        from,
        c,
        flags,
        Mode::empty(),
        resolve | ResolveFlags::NO_MAGICLINKS,
    ) {
        Err(e @ (Errno::NOSYS | Errno::AGAIN)) if !strict.is_empty() => Err(e),
        Err(Errno::NOSYS) => rustix::fs::openat(from, c, flags, Mode::empty()),
        // openat2 retries internally on rename races but may give up.
        Err(Errno::AGAIN) => rustix::fs::openat(from, c, flags, Mode::empty()),
        r => r,
    }
}

/// Open a magic link to a directory under vigil's /proc (vigil's own
/// lookup: following it is the point).
fn open_dir_path(rel: &[u8]) -> Result<OwnedFd, Errno> {
    reach::open(rel, OFlags::PATH | OFlags::DIRECTORY)
}

/// The kernel's name for what `fd` refers to, in vigil's root, made
/// relative to `root` (the target's root in vigil's, "/" if the same).
// Size: `root` stripped on the way, not with a second path buffer and a
// copy of it (measured).
pub fn fd_path(fd: &impl AsFd, root: &[u8], out: &mut Path) -> Result<(), Errno> {
    let mut link = Buf::<48>::new();
    link.s("self/fd/").u(fd.as_fd().as_raw_fd() as u64);
    let mut buf = [0u8; PATH_MAX];
    let n = reach::readlink(link.as_bytes(), &mut buf)?;
    // Unreachable from our root ("(unreachable)/..." or "anon_inode:...").
    if n == 0 || buf[0] != b'/' || n >= PATH_MAX {
        return Err(Errno::XDEV);
    }
    let mut p = &buf[..n];
    if root != b"/" {
        let r = root.len();
        if !(p.starts_with(root) && (p.len() == r || p[r] == b'/')) {
            return Err(Errno::XDEV);
        }
        p = if p.len() == r { b"/" } else { &p[r..] };
    }
    out.clear();
    out.put(p);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Here {
        root: OwnedFd,
        root_path: Path,
        cwd: OwnedFd,
    }

    impl Here {
        fn new() -> Here {
            let me = std::process::id();
            let mut root_path = Path::new();
            let root = root(me, &mut root_path).unwrap();
            let cwd = start(me, None).unwrap();
            Here {
                root,
                root_path,
                cwd,
            }
        }

        /// The physical path `raw` names.
        fn locate(&self, raw: &[u8], follow: bool) -> Result<String, Errno> {
            let mut p = Path::new();
            let rp = self.root_path.as_bytes();
            let how = How {
                follow,
                resolve: ResolveFlags::empty(),
            };
            locate(&self.root, rp, &self.cwd, raw, how, &mut p)?;
            Ok(p.as_str().to_string())
        }
    }

    #[test]
    fn locates_through_dotdot_and_symlinks() {
        let d = std::env::temp_dir().join(format!("vigil-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::os::unix::fs::symlink("a/b", d.join("l")).unwrap();
        std::os::unix::fs::symlink("/etc", d.join("a/etc")).unwrap();
        let h = Here::new();
        let ds = d.to_str().unwrap();
        let e = h.locate(format!("{ds}/l/x").as_bytes(), false).unwrap();
        assert_eq!(e, format!("{ds}/a/b/x"));
        let e = h
            .locate(format!("{ds}/a/b/../../l/").as_bytes(), true)
            .unwrap();
        assert_eq!(e, format!("{ds}/a/b"));
        // The final symlink is followed only when asked.
        let e = h.locate(format!("{ds}/a/etc").as_bytes(), true).unwrap();
        assert_eq!(e, "/etc");
        let e = h.locate(format!("{ds}/a/etc").as_bytes(), false).unwrap();
        assert_eq!(e, format!("{ds}/a/etc"));
        let e = h
            .locate(format!("{ds}/a/etc/passwd").as_bytes(), false)
            .unwrap();
        assert_eq!(e, "/etc/passwd");
        let e = h.locate(b"/", false).unwrap();
        assert_eq!(e, "/");
        assert_eq!(
            h.locate(format!("{ds}/nope/x").as_bytes(), false).err(),
            Some(Errno::NOENT)
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
