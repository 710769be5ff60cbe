//! One `mount(2)` and one `umount2(2)` for every caller (boot, the
//! sandbox, shutdown): rustix's generic helpers would be instantiated once
//! per argument type and per helper.

use rustix::mount::{MountFlags, UnmountFlags};

use crate::sys::{nul_terminated, Errno, PATH_MAX};

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
    // Size: NUL-terminated here, once, not by rustix's nested generic
    // closures (measured). Its limits: PATH_MAX each, as rustix's.
    let mut b = [0u8; 3 * PATH_MAX];
    let (b0, rest) = b.split_at_mut(PATH_MAX);
    let (b1, b2) = rest.split_at_mut(PATH_MAX);
    let (src, target, fstype) = (
        nul_terminated(src, b0)?,
        nul_terminated(target, b1)?,
        nul_terminated(fstype, b2)?,
    );
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
    let mut b = [0u8; PATH_MAX];
    rustix::mount::unmount(nul_terminated(target, &mut b)?, flags)
}
