//! Giving back pages that stay resident after their use: stack pages a
//! deep start-up left, and the whole pages of a buffer that has emptied.

/// The page size vigil assumes (4 KiB on both arches' Debian kernels).
pub const PAGE: usize = 4096;
/// Most bytes one call gives back: far less than the gap Linux keeps
/// between the stack and the mappings below it (the stack's rlimit, at
/// least 128 MiB), so that the range never reaches one of them.
const MAX_BYTES: usize = 4 << 20;

/// `madvise(MADV_DONTNEED)` on up to `bytes` (at most 4 MiB) of stack
/// below the caller's frame: pages that start-up frames touched and that a
/// long-lived loop above them will never use again stop counting as
/// resident (touching them later just faults in zeroed pages again).
#[inline(never)]
pub fn release_stack_below(bytes: usize) {
    let marker = 0u8;
    let here = core::hint::black_box(&marker) as *const u8 as usize;
    // One page of margin below this frame (and any red zone under it).
    let end = (here & !(PAGE - 1)).saturating_sub(PAGE);
    let start = end.saturating_sub(bytes.min(MAX_BYTES) & !(PAGE - 1));
    // SAFETY: [start, end) lies below the live part of the stack: no Rust
    // object lives there (vigil is single-threaded and runs no signal
    // handlers), and the stack is the only mapping within reach below it
    // (`MAX_BYTES`). Unmapped parts of the range only make the call say
    // ENOMEM.
    unsafe { dont_need(start, end) }
}

/// `madvise(MADV_DONTNEED)` on the whole pages inside `buf`: they stop
/// counting as resident, and what they held is gone (a later read finds
/// zeros, or the file's bytes in a file-backed mapping). For a large
/// buffer in `.bss` that filled up once and is empty again.
pub fn release(buf: &mut [u8]) {
    let at = buf.as_mut_ptr() as usize;
    let start = (at + PAGE - 1) & !(PAGE - 1);
    let end = (at + buf.len()) & !(PAGE - 1);
    // SAFETY: [start, end) lies inside `buf`, which the caller lends us
    // exclusively; any bytes are valid `u8`s, so whatever the pages hold
    // afterwards breaks no invariant. Where the kernel refuses (a locked
    // mapping), nothing changes.
    unsafe { dont_need(start, end) }
}

/// `madvise(MADV_DONTNEED)` on the pages from `start` to `end` (page
/// addresses; nothing if `end` is not above `start`).
///
/// # Safety
/// No live object may be in the range, or only ones for which any bytes
/// (zeros, or a file's) are valid and which no one else may read meanwhile.
unsafe fn dont_need(start: usize, end: usize) {
    if start >= end {
        return;
    }
    // SAFETY: the caller's promise above.
    let _ = unsafe {
        rustix::mm::madvise(
            start as *mut core::ffi::c_void,
            end - start,
            rustix::mm::Advice::LinuxDontNeed,
        )
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn release_zeroes_the_whole_pages_inside_and_nothing_else() {
        let mut v = std::vec![7u8; 5 * super::PAGE];
        super::release(&mut v[100..]);
        let at = v.as_ptr() as usize + 100;
        let first = (at + super::PAGE - 1) & !(super::PAGE - 1);
        let from = first - v.as_ptr() as usize;
        assert!(v[..from].iter().all(|&b| b == 7));
        let to = from + ((v.len() - from) & !(super::PAGE - 1));
        assert!(to > from);
        assert!(v[from..to].iter().all(|&b| b == 0));
        assert!(v[to..].iter().all(|&b| b == 7));
    }
}
