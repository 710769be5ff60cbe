//! `seccomp(2)` and the user-notification ioctls (seccomp_unotify(2)).

use super::{nr, syscall, Result};
use linux_raw_sys::ptrace as s;
use rustix::fd::{AsRawFd, BorrowedFd};

// The ioctl numbers are not in linux-raw-sys: _IOWR/_IOW('!', n, size),
// the same generic encoding on x86_64 and aarch64.
const NOTIF_RECV: u32 = 0xc050_2100;
const NOTIF_SEND: u32 = 0xc018_2101;
const NOTIF_ID_VALID: u32 = 0x4008_2102;
const NOTIF_ADDFD: u32 = 0x4018_2103;
const NOTIF_SET_FLAGS: u32 = 0x4008_2104;

pub const FLAG_NEW_LISTENER: u32 = s::SECCOMP_FILTER_FLAG_NEW_LISTENER;
pub const FLAG_WAIT_KILLABLE_RECV: u32 = s::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
pub const FLAG_TSYNC_ESRCH: u32 = s::SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
pub const USER_NOTIF_FLAG_CONTINUE: u32 = s::SECCOMP_USER_NOTIF_FLAG_CONTINUE;
pub const USER_NOTIF_FD_SYNC_WAKE_UP: u64 = s::SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP as u64;
pub const ADDFD_FLAG_SEND: u32 = s::SECCOMP_ADDFD_FLAG_SEND;

/// `struct seccomp_notif`, with `seccomp_data` inlined.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Notif {
    pub id: u64,
    pub pid: u32,
    pub flags: u32,
    pub nr: i32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

/// `struct seccomp_notif_resp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct Resp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// `struct seccomp_notif_addfd`.
#[repr(C)]
struct AddFd {
    id: u64,
    flags: u32,
    srcfd: u32,
    newfd: u32,
    newfd_flags: u32,
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`: the listener fd when
/// `flags` has `FLAG_NEW_LISTENER`, else 0.
///
/// `prog` is read by the kernel as `struct sock_filter`s, so `T` must be
/// laid out as one (`#[repr(C)]` u16 code, u8 jt, u8 jf, u32 k, as
/// `bpf::Insn` is). The syscall layer knows no program type: it checks at
/// compile time that `T` has sock_filter's size and alignment, which keeps
/// the kernel's read inside `prog`; the field order is `T`'s own promise.
pub fn set_filter<T: Copy>(prog: &[T], flags: u32) -> Result<i32> {
    const {
        assert!(
            size_of::<T>() == size_of::<s::sock_filter>()
                && align_of::<T>() == align_of::<s::sock_filter>(),
            "a filter instruction is not sock_filter-sized",
        )
    };
    let fprog = s::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut s::sock_filter,
    };
    // SAFETY: fprog points to prog.len() elements of sock_filter's size
    // (checked above), which the kernel only reads, and copies before
    // returning.
    unsafe {
        syscall(
            nr::__NR_seccomp,
            [
                s::SECCOMP_SET_MODE_FILTER as usize,
                flags as usize,
                &fprog as *const _ as usize,
                0,
                0,
                0,
            ],
        )
        .map(|fd| fd as i32)
    }
}

/// Does the kernel know `flags` for `SECCOMP_SET_MODE_FILTER`? Asked with
/// no program: the kernel checks the flags (EINVAL) before it reads the
/// program (EFAULT), so nothing is installed either way.
/// [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html)
pub fn filter_flags_known(flags: u32) -> bool {
    // SAFETY: a NULL program pointer: the kernel fails to copy it and
    // returns before touching anything of this process.
    let r = unsafe {
        syscall(
            nr::__NR_seccomp,
            [
                s::SECCOMP_SET_MODE_FILTER as usize,
                flags as usize,
                0,
                0,
                0,
                0,
            ],
        )
    };
    r == Err(super::Errno::FAULT)
}

/// `seccomp(SECCOMP_GET_NOTIF_SIZES)`: (notif, resp, data) sizes.
pub fn notif_sizes() -> Result<(u16, u16, u16)> {
    let mut sz = [0u16; 3];
    // SAFETY: sz is a writable struct seccomp_notif_sizes.
    unsafe {
        syscall(
            nr::__NR_seccomp,
            [
                s::SECCOMP_GET_NOTIF_SIZES as usize,
                0,
                sz.as_mut_ptr() as usize,
                0,
                0,
                0,
            ],
        )?;
    }
    Ok((sz[0], sz[1], sz[2]))
}

/// `ioctl(2)` on a listener.
///
/// # Safety
/// `arg` is what `req` takes: a pointer to the struct `req` names, valid
/// for the kernel's read (and write, for `NOTIF_RECV`) of it, or for
/// `NOTIF_SET_FLAGS` the flags themselves.
unsafe fn ioctl(fd: BorrowedFd<'_>, req: u32, arg: usize) -> Result<usize> {
    // SAFETY: fd is open (borrowed); `arg` is the caller's promise.
    unsafe {
        syscall(
            nr::__NR_ioctl,
            [fd.as_raw_fd() as usize, req as usize, arg, 0, 0, 0],
        )
    }
}

/// `SECCOMP_IOCTL_NOTIF_RECV`. The buffer is zeroed first, as the kernel
/// requires.
pub fn recv(fd: BorrowedFd<'_>, n: &mut Notif) -> Result<()> {
    *n = Notif::default();
    // SAFETY: a writable struct seccomp_notif.
    unsafe { ioctl(fd, NOTIF_RECV, n as *mut Notif as usize).map(drop) }
}

/// `SECCOMP_IOCTL_NOTIF_SEND`.
pub fn send(fd: BorrowedFd<'_>, id: u64, val: i64, error: i32, flags: u32) -> Result<()> {
    let r = Resp {
        id,
        val,
        error,
        flags,
    };
    // SAFETY: a readable struct seccomp_notif_resp.
    unsafe { ioctl(fd, NOTIF_SEND, &r as *const Resp as usize).map(drop) }
}

/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: is the notification still pending?
pub fn id_valid(fd: BorrowedFd<'_>, id: u64) -> bool {
    id_check(fd, id).is_ok()
}

/// `SECCOMP_IOCTL_NOTIF_ID_VALID` with its error: ENOENT means "a listener,
/// but no such pending id"; ENOTTY means "not a listener".
pub fn id_check(fd: BorrowedFd<'_>, id: u64) -> Result<()> {
    // SAFETY: a readable u64.
    unsafe { ioctl(fd, NOTIF_ID_VALID, &id as *const u64 as usize).map(drop) }
}

/// `SECCOMP_IOCTL_NOTIF_ADDFD`: install a copy of `src` in the target; with
/// `ADDFD_FLAG_SEND` this also answers the notification with the new fd
/// (the target's number, not one of ours).
pub fn addfd(
    fd: BorrowedFd<'_>,
    id: u64,
    src: BorrowedFd<'_>,
    newfd_flags: u32,
    flags: u32,
) -> Result<i32> {
    let a = AddFd {
        id,
        flags,
        srcfd: src.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags,
    };
    // SAFETY: a readable struct seccomp_notif_addfd, naming an open fd.
    unsafe { ioctl(fd, NOTIF_ADDFD, &a as *const AddFd as usize).map(|v| v as i32) }
}

/// Does the kernel know `SECCOMP_IOCTL_NOTIF_ADDFD` with `flags`? Asked
/// with no fd to add (-1) and no pending id: EBADF says it checked that far.
pub fn addfd_known(fd: BorrowedFd<'_>, flags: u32) -> bool {
    let a = AddFd {
        id: 0,
        flags,
        srcfd: u32::MAX,
        newfd: 0,
        newfd_flags: 0,
    };
    // SAFETY: a readable struct seccomp_notif_addfd; its fd -1 is refused.
    unsafe { ioctl(fd, NOTIF_ADDFD, &a as *const AddFd as usize) == Err(super::Errno::BADF) }
}

/// `SECCOMP_IOCTL_NOTIF_SET_FLAGS` (6.6+).
pub fn set_flags(fd: BorrowedFd<'_>, flags: u64) -> Result<()> {
    // SAFETY: this request takes the flags by value.
    unsafe { ioctl(fd, NOTIF_SET_FLAGS, flags as usize).map(drop) }
}
