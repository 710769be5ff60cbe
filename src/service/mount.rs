//! One `mount(2)` and one `umount2(2)` for every caller (boot, the
//! sandbox, shutdown): rustix's generic helpers would be instantiated once
//! per argument type and per helper.

use rustix::mount::{MountFlags, UnmountFlags};

use crate::sys::Errno;

/// `mount(2)` with raw `MS_*` flags. Bind mounts, remounts and propagation
/// changes take the same call: the kernel ignores what they do not use.
#[inline(never)]
pub fn mount(
    src: &[u8],
    target: &[u8],
    fstype: &[u8],
    flags: u32,
    data: Option<&core::ffi::CStr>,
) -> Result<(), Errno> {
    rustix::mount::mount(
        src,
        target,
        fstype,
        MountFlags::from_bits_retain(flags),
        data,
    )
}

#[inline(never)]
pub fn unmount(target: &[u8], flags: UnmountFlags) -> Result<(), Errno> {
    rustix::mount::unmount(target, flags)
}
