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

use super::path::{self, Path, PATH_MAX};
use crate::out::{Buf, Sink};
use crate::sys::{self, Errno};

/// The kernel's limit on symlinks followed in one lookup.
const MAX_LINKS: usize = 40;

/// The target's root as vigil sees it: an open fd, and its path in
/// vigil's root ("/" unless the target is chrooted) into `path`.
pub fn root(pid: u32, path: &mut Path) -> Result<OwnedFd, Errno> {
    let mut link = Buf::<48>::new();
    link.s("/proc/").u(pid as u64).s("/root");
    let fd = open_dir_path(link.as_bytes())?;
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

/// Locate `raw` (the target's path) from `start`, following a final
/// symlink when `follow`; the entry's physical path in the target's root
/// (`root`, at `root_path` in vigil's), for the policy, goes to `path`.
pub fn locate(
    root: &OwnedFd,
    root_path: &[u8],
    start: &OwnedFd,
    raw: &[u8],
    follow: bool,
    path: &mut Path,
) -> Result<Entry, Errno> {
    if raw.is_empty() {
        return Err(Errno::NOENT);
    }
    let mut cur = Path::new();
    cur.put(raw);
    // The directory a relative `cur` is resolved from, once a relative
    // symlink has been followed.
    let mut base: Option<OwnedFd> = None;
    for _ in 0..=MAX_LINKS {
        let p = cur.as_bytes();
        let abs = p.first() == Some(&b'/');
        let trimmed = trim_slashes(p);
        let (dir, name): (&[u8], &[u8]) = match trimmed.iter().rposition(|&b| b == b'/') {
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
        let from = base.as_ref().unwrap_or(start);
        let dirfd = open_dir(if abs { root } else { from }, dir, abs)?;
        if follow && name != b"." {
            let mut target = [0u8; PATH_MAX];
            let mut nb = [0u8; 257];
            let cn = sys::nul_terminated(name, &mut nb)?;
            match rustix::fs::readlinkat_raw(&dirfd, cn, &mut target[..]) {
                Ok(n) => {
                    if n >= PATH_MAX || n == 0 {
                        return Err(Errno::NAMETOOLONG);
                    }
                    cur.clear();
                    cur.put(&target[..n]);
                    base = Some(dirfd);
                    continue;
                }
                // Not a symlink, or nothing there yet: this is the entry.
                Err(Errno::INVAL) | Err(Errno::NOENT) => {}
                Err(e) => return Err(e),
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

/// Drop trailing slashes ("a/b//" names "a/b"), keeping a lone "/".
fn trim_slashes(p: &[u8]) -> &[u8] {
    let mut end = p.len();
    while end > 1 && p[end - 1] == b'/' {
        end -= 1;
    }
    &p[..end]
}

/// Open directory `dir` from `from` as an O_PATH fd. From the root, with
/// RESOLVE_IN_ROOT. Falls back to plain openat where openat2 is missing
/// (before 5.6): still safe, since the policy is checked on the physical
/// path of what was opened, only less faithful for chrooted targets and
/// `/proc/self` (which would then be vigil).
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn open_dir(from: &OwnedFd, dir: &[u8], in_root: bool) -> Result<OwnedFd, Errno> {
    let mut b = [0u8; PATH_MAX + 1];
    let c = sys::nul_terminated(dir, &mut b)?;
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut resolve = ResolveFlags::NO_MAGICLINKS;
    if in_root {
        resolve |= ResolveFlags::IN_ROOT;
    }
    match rustix::fs::openat2(from, c, flags, Mode::empty(), resolve) {
        Err(Errno::NOSYS) => rustix::fs::openat(from, c, flags, Mode::empty()),
        // openat2 retries internally on rename races but may give up.
        Err(Errno::AGAIN) => rustix::fs::openat(from, c, flags, Mode::empty()),
        r => r,
    }
}

/// Open a /proc magic link to a directory (vigil's own lookup: following
/// it is the point).
fn open_dir_path(path: &[u8]) -> Result<OwnedFd, Errno> {
    let mut b = [0u8; 64];
    let c = sys::nul_terminated(path, &mut b)?;
    rustix::fs::open(
        c,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The kernel's name for what `fd` refers to, in vigil's root, made
/// relative to `root` (the target's root in vigil's, "/" if the same).
// Size: `root` stripped on the way, not with a second path buffer and a
// copy of it (measured).
pub fn fd_path(fd: &impl AsFd, root: &[u8], out: &mut Path) -> Result<(), Errno> {
    let mut link = Buf::<48>::new();
    link.s("/proc/self/fd/").u(fd.as_fd().as_raw_fd() as u64);
    let mut buf = [0u8; PATH_MAX];
    let n = sys::readlink(link.as_bytes(), &mut buf)?;
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
            locate(&self.root, rp, &self.cwd, raw, follow, &mut p)?;
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
