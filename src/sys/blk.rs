//! What booting a real root needs from the kernel beyond rustix: the
//! kernel's uevent socket (to wait for a disk without sleeping blind) and
//! the device-mapper ioctls (to set up dm-verity).

use super::{nr, syscall, Errno, Result};

/// A `NETLINK_KOBJECT_UEVENT` socket bound to the kernel's broadcast
/// group: readable whenever a device comes or goes. Non-blocking and
/// close-on-exec.
pub fn uevent_socket() -> Result<i32> {
    const AF_NETLINK: usize = 16;
    const SOCK_DGRAM: usize = 2;
    const SOCK_NONBLOCK: usize = 0o4000;
    const SOCK_CLOEXEC: usize = 0o2000000;
    const NETLINK_KOBJECT_UEVENT: usize = 15;
    // SAFETY: socket(2) takes integers only.
    let fd = unsafe {
        syscall(
            nr::__NR_socket,
            [
                AF_NETLINK,
                SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                NETLINK_KOBJECT_UEVENT,
                0,
                0,
                0,
            ],
        )?
    } as i32;
    // struct sockaddr_nl: family, pad, pid 0 (the kernel picks), groups 1.
    let mut addr = [0u8; 12];
    addr[..2].copy_from_slice(&(AF_NETLINK as u16).to_ne_bytes());
    addr[8..].copy_from_slice(&1u32.to_ne_bytes());
    // SAFETY: addr is a valid sockaddr_nl of its length, only read.
    let r = unsafe {
        syscall(
            nr::__NR_bind,
            [fd as usize, addr.as_ptr() as usize, addr.len(), 0, 0, 0],
        )
    };
    match r {
        Ok(_) => Ok(fd),
        Err(e) => {
            super::proc::close(fd);
            Err(e)
        }
    }
}

/// `struct dm_ioctl` and what follows it, in one aligned buffer that the
/// kernel reads and writes: `dm` sets its `data_size` to the whole
/// buffer, so the kernel never goes past it.
#[repr(C, align(8))]
pub struct DmBuf(pub [u8; DM_BUF]);

pub const DM_BUF: usize = 4096;
/// `sizeof(struct dm_ioctl)`.
pub const DM_IOCTL_SIZE: usize = 312;

impl Default for DmBuf {
    fn default() -> Self {
        DmBuf([0; DM_BUF])
    }
}

/// The device-mapper commands vigil uses (`DM_*_CMD`).
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub enum DmCmd {
    Version = 0,
    DevCreate = 3,
    DevRemove = 4,
    DevSuspend = 6,
    TableLoad = 9,
}

/// One device-mapper ioctl on the control device `fd`
/// (`/dev/mapper/control`), with `buf` as its `struct dm_ioctl`.
pub fn dm(fd: i32, cmd: DmCmd, buf: &mut DmBuf) -> Result<()> {
    // _IOWR(0xfd, cmd, struct dm_ioctl): the generic encoding of both arches.
    let req = 0xC000_0000 | (DM_IOCTL_SIZE as u32) << 16 | 0xfd << 8 | cmd as u32;
    buf.0[12..16].copy_from_slice(&(DM_BUF as u32).to_ne_bytes());
    // SAFETY: buf is DM_BUF bytes, 8-aligned, and its data_size says
    // DM_BUF: the kernel reads and writes within it only.
    unsafe {
        syscall(
            nr::__NR_ioctl,
            [
                fd as usize,
                req as usize,
                buf.0.as_mut_ptr() as usize,
                0,
                0,
                0,
            ],
        )
        .map(drop)
    }
}

/// `mknodat(AT_FDCWD, path, S_IFBLK | 0600, makedev(major, minor))`.
pub fn mknod_block(path: &core::ffi::CStr, major: u32, minor: u32) -> Result<()> {
    // The kernel's `new_encode_dev` layout of a dev_t.
    let dev = (minor as u64 & 0xff)
        | (major as u64 & 0xfff) << 8
        | (minor as u64 & !0xff) << 12
        | (major as u64 & !0xfff) << 32;
    // SAFETY: path is NUL-terminated and only read.
    unsafe {
        syscall(
            nr::__NR_mknodat,
            [
                linux_raw_sys::general::AT_FDCWD as usize,
                path.as_ptr() as usize,
                0o060600,
                dev as usize,
                0,
                0,
            ],
        )
        .map(drop)
    }
}

/// Is this errno "the device is not there (yet)"?
pub fn absent(e: Errno) -> bool {
    matches!(e, Errno::NOENT | Errno::NXIO | Errno::NODEV)
}
