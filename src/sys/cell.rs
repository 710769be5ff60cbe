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

/// A `static` value that one caller at a time may borrow mutably: a
/// try-lock, never a wait. A second borrow while the first is alive (only
/// re-entrancy can do that in single-threaded vigil) gets `None`.
pub struct Shared<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached inside `with`, while `busy` is held,
// so there is never more than one reference to it.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    pub const fn new(value: T) -> Self {
        Shared {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// `f` on the value, unless it is borrowed already.
    pub fn with<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self.busy.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: `busy` was false and stays true until `f` returns, so
        // this is the only reference to the value meanwhile.
        let r = f(unsafe { &mut *self.value.get() });
        self.busy.store(false, Ordering::Release);
        Some(r)
    }
}
