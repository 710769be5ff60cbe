//! Filesystem credentials of vigil's (single) thread, switched around an
//! emulated path syscall so that the kernel checks the target's rights.

use super::{nr, syscall, Result};

/// `setfsuid(2)` (<https://man7.org/linux/man-pages/man2/setfsuid.2.html>):
/// returns the previous fsuid whatever happens; pass `u32::MAX` to only read
/// it. The call cannot report failure, so `switch` checks by reading back.
// Raw: rustix has no setfsuid or setfsgid.
pub fn setfsuid(uid: u32) -> u32 {
    // SAFETY: integer argument only.
    unsafe { syscall(nr::__NR_setfsuid, [uid as usize, 0, 0, 0, 0, 0]).unwrap_or(0) as u32 }
}

/// `setfsgid(2)` (<https://man7.org/linux/man-pages/man2/setfsgid.2.html>),
/// the same contract as `setfsuid`.
pub fn setfsgid(gid: u32) -> u32 {
    // SAFETY: integer argument only.
    unsafe { syscall(nr::__NR_setfsgid, [gid as usize, 0, 0, 0, 0, 0]).unwrap_or(0) as u32 }
}

/// `getgroups(2)` (<https://man7.org/linux/man-pages/man2/getgroups.2.html>)
/// into `buf`: how many there are (EINVAL if more than fit).
// Raw: rustix's `getgroups` returns a `Vec` (alloc only).
pub fn getgroups(buf: &mut [u32]) -> Result<usize> {
    // SAFETY: buf is writable for buf.len() gid_t.
    unsafe {
        syscall(
            nr::__NR_getgroups,
            [buf.len(), buf.as_mut_ptr() as usize, 0, 0, 0, 0],
        )
    }
}

/// `setgroups(2)` (<https://man7.org/linux/man-pages/man2/setgroups.2.html>)
/// of this thread only (the raw syscall; libc would broadcast it).
pub fn setgroups(groups: &[u32]) -> Result<()> {
    // SAFETY: `Gid` is `#[repr(transparent)]` over the kernel's gid_t, a
    // u32: the same elements, the same length, the same lifetime.
    let gids = unsafe { core::slice::from_raw_parts(groups.as_ptr().cast(), groups.len()) };
    rustix::thread::set_thread_groups(gids)
}
