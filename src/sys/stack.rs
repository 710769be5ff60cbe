//! Giving back stack pages that a deep start-up left resident.

const PAGE: usize = 4096;
/// Most bytes one call gives back: far less than the gap Linux keeps
/// between the stack and the mappings below it (the stack's rlimit, at
/// least 128 MiB), so that the range never reaches one of them.
const MAX_BYTES: usize = 4 << 20;

/// `madvise(MADV_DONTNEED)` on up to `bytes` (at most 4 MiB) of stack
/// below the caller's frame: pages that start-up frames touched and that a
/// long-lived loop above them will never use again stop counting as
/// resident (touching them later just faults in zeroed pages again).
#[inline(never)]
pub fn release_below(bytes: usize) {
    let marker = 0u8;
    let here = core::hint::black_box(&marker) as *const u8 as usize;
    // One page of margin below this frame (and any red zone under it).
    let end = (here & !(PAGE - 1)).saturating_sub(PAGE);
    let start = end.saturating_sub(bytes.min(MAX_BYTES) & !(PAGE - 1));
    if start >= end {
        return;
    }
    // SAFETY: [start, end) lies below the live part of the stack: no Rust
    // object lives there (vigil is single-threaded and runs no signal
    // handlers), and the stack is the only mapping within reach below it
    // (`MAX_BYTES`).
    // Unmapped parts of the range only make the call say ENOMEM.
    let _ = unsafe {
        rustix::mm::madvise(
            start as *mut core::ffi::c_void,
            end - start,
            rustix::mm::Advice::LinuxDontNeed,
        )
    };
}
