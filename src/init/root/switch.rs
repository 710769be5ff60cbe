//! switch_root as busybox does it, each step checked: only as PID 1 on an
//! initramfs (ramfs or tmpfs) root, only to a new root on another device;
//! `/dev`, `/proc`, `/sys` and `/run` moved into it; the initramfs's files
//! deleted without crossing into another filesystem (they are RAM); then
//! the new root moved over `/`, `chroot` and `chdir`.

use linux_raw_sys::general as g;

use crate::log;
use crate::out::{Buf, Sink};
use crate::service::mount::{mount, unmount};
use crate::sys::{self, Errno};

/// Where the new root is mounted before the switch (dracut's and
/// systemd's name).
pub const NEW_ROOT: &str = "/sysroot";

/// The mounts that move into the new root (busybox and systemd move these).
const MOVED: [&str; 4] = ["/dev", "/proc", "/sys", "/run"];

const RAMFS_MAGIC: u64 = 0x8584_58f6;
const TMPFS_MAGIC: u64 = 0x0102_1994;

/// Refuse unless PID 1 on an initramfs root with the new root mounted on
/// another device. Nothing is changed yet.
pub fn preflight() -> Result<(), &'static str> {
    if !rustix::process::getpid().is_init() {
        return Err("not PID 1");
    }
    let fs = rustix::fs::statfs(&b"/"[..]).map_err(|_| "cannot statfs /")?;
    let magic = fs.f_type as u64;
    if magic != RAMFS_MAGIC && magic != TMPFS_MAGIC {
        return Err("/ is not an initramfs (ramfs or tmpfs)");
    }
    let root = rustix::fs::stat(&b"/"[..]).map_err(|_| "cannot stat /")?;
    let new = rustix::fs::stat(NEW_ROOT.as_bytes()).map_err(|_| "cannot stat the new root")?;
    if root.st_dev == new.st_dev {
        return Err("the new root is not a mount on another device");
    }
    Ok(())
}

/// Move the kernel filesystems in, free the initramfs, and enter the new
/// root. After an error here the machine is half-switched: the caller
/// must not try to go on as before.
#[inline(never)]
pub fn switch(table: &[u8]) -> Result<(), (&'static str, Errno)> {
    for m in MOVED {
        if !crate::init::boot::is_mounted(table, m) {
            continue;
        }
        let mut to = Buf::<64>::new();
        to.s(NEW_ROOT).s(m);
        let exists = rustix::fs::stat(to.as_bytes()).is_ok()
            || rustix::fs::mkdir(to.as_bytes(), rustix::fs::Mode::from_raw_mode(0o755)).is_ok();
        if !exists {
            // A read-only root without the directory: it does without.
            let mut l = log::start(log::Level::Warn);
            l.s("root: the new root has no ")
                .s(m)
                .s(" and it cannot be made: detached");
            l.end();
            let _ = unmount(m.as_bytes(), rustix::mount::UnmountFlags::DETACH);
            continue;
        }
        mount(m.as_bytes(), to.as_bytes(), b"", g::MS_MOVE, None)
            .map_err(|e| ("moving a kernel filesystem", e))?;
    }
    // Anything else the initramfs had mounted (its /tmp) is let go.
    for line in table.split(|&b| b == b'\n').rev() {
        let Some(target) = line.split(|&b| b == b' ').nth(1) else {
            continue;
        };
        let keep = target == b"/"
            || MOVED
                .iter()
                .chain(&[NEW_ROOT])
                .any(|m| under(target, m.as_bytes()));
        if !keep {
            let mut p = Buf::<256>::new();
            crate::init::shutdown::unescape(target, &mut p);
            let _ = unmount(p.as_bytes(), rustix::mount::UnmountFlags::DETACH);
        }
    }
    let root_dev = rustix::fs::stat(&b"/"[..])
        .map_err(|e| ("stat /", e))?
        .st_dev;
    let dir = sys::open(
        b"/",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
    )
    .map_err(|e| ("opening /", e))?;
    let mut n = 0u64;
    delete_tree(dir, root_dev, 0, &mut n);
    sys::proc::close(dir);
    let mut l = log::start(log::Level::Debug);
    l.s("root: deleted ").u(n).s(" initramfs entries");
    l.end();
    sys::chdir(NEW_ROOT.as_bytes()).map_err(|e| ("chdir to the new root", e))?;
    mount(b".", b"/", b"", g::MS_MOVE, None).map_err(|e| ("moving the new root over /", e))?;
    rustix::process::chroot(c".").map_err(|e| ("chroot", e))?;
    rustix::process::chdir(c"/").map_err(|e| ("chdir /", e))?;
    Ok(())
}

/// Is `path` `dir` or below it?
fn under(path: &[u8], dir: &[u8]) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/')
}

/// Deepest directory level deleted (an initramfs is shallow; deeper ones
/// are left, they only cost memory).
const MAX_DEPTH: u32 = 32;

/// Delete everything under the directory `dir` that is on device `dev`,
/// not following symlinks nor entering other filesystems (mount points,
/// the new root).
fn delete_tree(dir: i32, dev: u64, depth: u32, n: &mut u64) {
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); 1024];
    // One pass: ramfs and tmpfs keep their place in a directory across
    // deletions.
    let mut it = rustix::fs::RawDir::new(sys::borrow(dir), &mut buf);
    while let Some(Ok(e)) = it.next() {
        let name = e.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let Ok(st) = rustix::fs::statat(
            sys::borrow(dir),
            name,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        ) else {
            continue;
        };
        if st.st_dev != dev {
            continue;
        }
        let is_dir = st.st_mode & 0o170000 == 0o040000;
        if is_dir {
            if depth >= MAX_DEPTH {
                continue;
            }
            let Ok(sub) = rustix::fs::openat(
                sys::borrow(dir),
                name,
                rustix::fs::OFlags::RDONLY
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::NOFOLLOW
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            ) else {
                continue;
            };
            use rustix::fd::AsRawFd;
            delete_tree(sub.as_raw_fd(), dev, depth + 1, n);
        }
        let flags = if is_dir {
            rustix::fs::AtFlags::REMOVEDIR
        } else {
            rustix::fs::AtFlags::empty()
        };
        // A directory that still holds a mount point stays.
        if rustix::fs::unlinkat(sys::borrow(dir), name, flags).is_ok() {
            *n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn under() {
        assert!(super::under(b"/run/vigil", b"/run"));
        assert!(super::under(b"/run", b"/run"));
        assert!(!super::under(b"/running", b"/run"));
    }
}
