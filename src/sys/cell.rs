//! Memory that lives outside the stack: a `static` handed out once.
//!
//! vigil has no heap. Large tables (policies, file text) kept on the stack
//! cost their whole size in resident memory as soon as their frame is
//! entered (the stack probes touch every page of a frame). In a zeroed
//! `static` (`.bss`) only the pages actually written become resident.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A `static` whose contents one caller may borrow mutably, once.
///
/// Give it an all-zero initial value so that it lands in `.bss` and costs
/// nothing in the binary (anything else puts the whole value in `.data`).
pub struct Once<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through the single `&mut` that `take`
// hands out, so sharing the `Once` itself between threads is sound when
// the value may move between threads.
unsafe impl<T: Send> Sync for Once<T> {}

impl<T> Once<T> {
    pub const fn new(value: T) -> Self {
        Once {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The contents, the first time; `None` ever after.
    // The `&mut` from a shared `&'static self` is the point: the flag makes
    // it unique.
    #[allow(clippy::mut_from_ref)]
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: `taken` was false and is now true for good, so this is
        // the only reference to the value there will ever be.
        Some(unsafe { &mut *self.value.get() })
    }
}
