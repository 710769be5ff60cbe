//! How the monitor reaches a target: vigil's `/proc` (opened once, before a
//! worker enters a service's mount namespace and root, where `/proc` may be
//! missing or another pid namespace's), and the target's memory
//! (`process_vm_readv`, or a `/proc/TID/mem` fd vigil opened for a worker
//! that may not read it itself).

use core::sync::atomic::{AtomicBool, Ordering};

use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};

use crate::out::{Buf, Sink};
use crate::sys::cell::Shared;
use crate::sys::fd::Kept;
use crate::sys::{self, Errno};

/// vigil's `/proc` as an O_PATH fd, once opened.
static PROC: Kept = Kept::new();
/// `/proc` was looked for (`PROC` empty: it is missing).
static PROC_TRIED: AtomicBool = AtomicBool::new(false);
/// The target's memory for the job at hand, or `None`: `process_vm_readv`.
static MEM: Shared<Option<OwnedFd>> = Shared::new(None);

/// Open `/proc` now (a worker does, before it leaves vigil's root). The
/// one opened before stays open: the worker's `close_all_but` closes it.
pub fn open_proc() {
    PROC_TRIED.store(true, Ordering::Relaxed);
    if let Ok(fd) = rustix::fs::open(
        c"/proc",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        PROC.set(fd);
    }
}

/// vigil's `/proc`; ENOENT where there is none (a mount namespace without
/// it): the callers fail closed.
pub fn proc() -> Result<BorrowedFd<'static>, Errno> {
    if !PROC_TRIED.load(Ordering::Relaxed) {
        open_proc();
    }
    PROC.get().ok_or(Errno::NOENT)
}

/// vigil's `/proc`, if open (a worker keeps it).
pub fn proc_fd() -> Option<BorrowedFd<'static>> {
    PROC.get()
}

/// Read the target's memory through `mem` (a `/proc/TID/mem` fd) from now
/// on; `None`: through `process_vm_readv` (and `mem` before is closed).
pub fn set_mem(mem: Option<OwnedFd>) {
    let _ = MEM.with(|m| *m = mem);
}

/// Read `buf.len()` bytes or fewer at `addr` in `pid`'s memory.
pub fn read(pid: i32, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    MEM.with(|mem| match mem {
        None => sys::read_remote(pid, addr, buf),
        Some(fd) => loop {
            match rustix::io::pread(&*fd, &mut *buf, addr) {
                Err(Errno::INTR) => {}
                // Unmapped memory reads as EIO through /proc/TID/mem.
                Err(Errno::IO) => return Err(Errno::FAULT),
                r => return r,
            }
        },
    })
    .unwrap_or(Err(Errno::FAULT))
}

/// `TID/WHAT` under vigil's `/proc`, e.g. `42/cwd`.
pub fn rel(tid: u32, what: &str) -> Buf<48> {
    let mut b = Buf::<48>::new();
    b.u(tid as u64).s("/").s(what);
    b
}

/// Open `rel` (a path under vigil's `/proc`, magic links followed: that
/// is vigil's own lookup) with `flags`.
pub fn open(rel: &[u8], flags: OFlags) -> Result<OwnedFd, Errno> {
    let mut b = [0u8; 64];
    let c = sys::nul_terminated(rel, &mut b)?;
    rustix::fs::openat(proc()?, c, flags | OFlags::CLOEXEC, Mode::empty())
}

/// `readlinkat` of `rel` under vigil's `/proc`: the length in `buf`.
pub fn readlink(rel: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
    let mut b = [0u8; 64];
    let c = sys::nul_terminated(rel, &mut b)?;
    rustix::fs::readlinkat_raw(proc()?, c, &mut *buf)
}

/// What identifies a directory: its mount, device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Id {
    pub mnt: u64,
    pub dev: u64,
    pub ino: u64,
}

/// The identity of what `fd` (and `path` from it, magic links followed)
/// names. Without STATX_MNT_ID (before 5.8) the mount is left 0 on both
/// sides of a comparison: device and inode still have to agree.
pub fn id_at(fd: BorrowedFd, path: &core::ffi::CStr) -> Result<Id, Errno> {
    use rustix::fs::{AtFlags, StatxFlags};
    let flags = if path.is_empty() {
        AtFlags::EMPTY_PATH
    } else {
        AtFlags::empty()
    };
    let st = rustix::fs::statx(fd, path, flags, StatxFlags::INO | StatxFlags::MNT_ID)?;
    let mnt = if st.stx_mask & StatxFlags::MNT_ID.bits() != 0 {
        st.stx_mnt_id
    } else {
        0
    };
    Ok(Id {
        mnt,
        dev: (st.stx_dev_major as u64) << 32 | st.stx_dev_minor as u64,
        ino: st.stx_ino,
    })
}

/// The identity of `rel` under vigil's `/proc` (e.g. `42/root`, or a
/// namespace link `42/ns/mnt`, whose inode names the namespace).
pub fn id_of(rel: &[u8]) -> Result<Id, Errno> {
    let mut b = [0u8; 64];
    let c = sys::nul_terminated(rel, &mut b)?;
    id_at(proc()?, c)
}
