//! File descriptors held in `static`s (the console, kmsg, vigil's `/proc`,
//! a worker's actor socket), and stderr.

use core::sync::atomic::{AtomicI32, Ordering};
use rustix::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};

/// An fd kept for the rest of the process in a `static`. Once stored it is
/// never closed by this process's own code (exit closes it; so does a
/// forked worker's `close_all_but` where it does not keep it, but then
/// nothing in that worker reaches it any more), so a borrow of it is good
/// for `'static`.
pub struct Kept(AtomicI32);

impl Default for Kept {
    fn default() -> Self {
        Self::new()
    }
}

impl Kept {
    /// Holding nothing yet.
    pub const fn new() -> Self {
        Kept(AtomicI32::new(-1))
    }

    /// Holding fd 2 (see `stderr`).
    pub const fn stderr() -> Self {
        Kept(AtomicI32::new(2))
    }

    /// Keep `fd` here from now on. The fd held before, if any, is not
    /// closed: a borrow of it may still be in use.
    pub fn set(&self, fd: OwnedFd) {
        self.0.store(fd.into_raw_fd(), Ordering::Relaxed);
    }

    /// The fd held, if any.
    pub fn get(&self) -> Option<BorrowedFd<'static>> {
        match self.0.load(Ordering::Relaxed) {
            -1 => None,
            // SAFETY: an fd `set` gave up ownership of, never closed since
            // (see the type), or fd 2 (see `stderr`).
            fd => Some(unsafe { BorrowedFd::borrow_raw(fd) }),
        }
    }
}

/// Fd 2: the stderr vigil was started with, or what `fill_std` put there
/// (PID 1: the console it made fds 0-2). vigil never closes it, and
/// replaces it only with `dup2`, which keeps the number open throughout.
pub fn stderr() -> BorrowedFd<'static> {
    // SAFETY: as above; rustix's own `stdio::stderr` rests on the same
    // promise.
    unsafe { rustix::stdio::stderr() }
}

/// Fd 1, on the same terms as `stderr` (the commands' output).
pub fn stdout() -> BorrowedFd<'static> {
    // SAFETY: as `stderr`.
    unsafe { rustix::stdio::stdout() }
}

/// Fill whichever of fds 0-2 vigil was started without (a parent that
/// closed them; a kernel that found no `/dev/console` to give PID 1):
/// with `/dev/null`, or where there is none yet (no device nodes before
/// devtmpfs), an eventfd that reads and writes nothing useful. Left
/// closed, the numbers go to the first files vigil opens: log lines meant
/// for stderr would reach them, a `dup2` of the console onto 0-2 would silently close them
/// (the signalfd, as PID 1 opens it first), and a service would inherit
/// them as its stdio. Whether any was closed. (`open` takes the lowest
/// free number: the first one above 2 says they are all open.)
pub fn fill_std() -> bool {
    let mut filled = false;
    loop {
        let fd = rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY,
            rustix::fs::Mode::empty(),
        )
        .or_else(|_| rustix::event::eventfd(0, rustix::event::EventfdFlags::empty()));
        match fd {
            Ok(fd) if fd.as_raw_fd() <= 2 => {
                // Kept for good as stdio (not close-on-exec).
                let _ = fd.into_raw_fd();
                filled = true;
            }
            // Above 2 (closed again as it drops), or nothing to open.
            _ => return filled,
        }
    }
}
