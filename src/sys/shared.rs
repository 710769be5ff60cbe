//! One page shared between vigil and the processes it forks afterwards.

use super::Result;

/// Words in the page `shared` maps.
pub const SHARED_WORDS: usize = 4096 / 8;

static SHARED: core::sync::atomic::AtomicPtr<core::sync::atomic::AtomicU64> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// One page of zeroed words shared with every process forked after the
/// first call (`MAP_SHARED | MAP_ANONYMOUS`): how vigil and its workers
/// see each other's state without a message per event. Mapped once.
pub fn shared() -> Result<&'static [core::sync::atomic::AtomicU64]> {
    use core::sync::atomic::{AtomicU64, Ordering};
    let mut p = SHARED.load(Ordering::Relaxed);
    if p.is_null() {
        use rustix::mm::{mmap_anonymous, MapFlags, ProtFlags};
        // SAFETY: a fresh anonymous mapping; no address is given, so
        // nothing existing is replaced.
        let addr = unsafe {
            mmap_anonymous(
                core::ptr::null_mut(),
                4096,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
            )?
        };
        p = addr as *mut AtomicU64;
        SHARED.store(p, Ordering::Relaxed);
    }
    // SAFETY: the page is mapped for the life of the process (never
    // unmapped), zero-filled, 8-byte aligned, and only ever accessed
    // through atomics, from this process and the ones it forks.
    Ok(unsafe { core::slice::from_raw_parts(p, SHARED_WORDS) })
}
