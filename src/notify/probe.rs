//! Which seccomp user-notification features this kernel has, found by
//! really using them (never guessed from the version number) and logged
//! once as one line. No process is made for it:
//!
//! - `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (5.19), needed before the
//!   first filter is installed: `seccomp` is asked with the flag and no
//!   program, and checks flags before it reads the program.
//! - The rest on the first listener vigil holds: `SYNC_WAKE_UP` (6.6) is
//!   set on it or refused; `ADDFD` (5.9) and its `SEND` flag (5.14) are
//!   tried with no source fd: EBADF where the kernel knows them (it checks
//!   the fd before it looks for the notification, so no target is ever
//!   touched), EINVAL where it does not.
//!
//! Whether RECV says ENOENT once no task uses the filter (6.11) is not
//! asked: vigil drops a listener on POLLHUP either way.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::log;
use crate::out::Sink;
use crate::sys::seccomp;
use rustix::fd::BorrowedFd;

/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` is accepted (5.19).
pub const WAIT_KILLABLE: u32 = 1;
/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` is accepted (6.6).
pub const SYNC_WAKE_UP: u32 = 2;
/// `SECCOMP_IOCTL_NOTIF_ADDFD` exists (5.9).
pub const ADDFD: u32 = 4;
/// `SECCOMP_ADDFD_FLAG_SEND` exists (5.14).
pub const ADDFD_SEND: u32 = 8;
/// Set once `probe` ran.
const PROBED: u32 = 1 << 31;
/// Set once the first listener was probed (and the line logged).
const LISTENED: u32 = 1 << 30;

static FEATURES: AtomicU32 = AtomicU32::new(0);

/// Does the kernel have `f`? Before it is known: no (the safe fallbacks).
pub fn has(f: u32) -> bool {
    FEATURES.load(Ordering::Relaxed) & f == f
}

/// Every feature bit known so far (for a worker, which learns them from
/// vigil rather than probing and logging again).
pub fn features() -> u32 {
    FEATURES.load(Ordering::Relaxed)
}

/// Take over `features()` of the process that probed.
pub fn set_features(f: u32) {
    FEATURES.store(f, Ordering::Relaxed);
}

/// The extra `seccomp` flags every service filter gets.
pub fn filter_flags() -> u32 {
    if has(WAIT_KILLABLE) {
        seccomp::FLAG_WAIT_KILLABLE_RECV
    } else {
        0
    }
}

/// What must be known before the first filter (once); returns
/// `filter_flags()`.
pub fn probe() -> u32 {
    if !has(PROBED) {
        let killable = seccomp::FLAG_NEW_LISTENER | seccomp::FLAG_WAIT_KILLABLE_RECV;
        let f = if seccomp::filter_flags_known(killable) {
            WAIT_KILLABLE
        } else {
            0
        };
        FEATURES.fetch_or(f | PROBED, Ordering::Relaxed);
    }
    filter_flags()
}

/// The features as the line names them.
const NAMES: [(u32, &str); 4] = [
    (WAIT_KILLABLE, " wait-killable-recv "),
    (SYNC_WAKE_UP, ", sync-wake-up "),
    (ADDFD, ", addfd "),
    (ADDFD_SEND, ", addfd-send "),
];

/// A listener vigil now holds: ask it for `SYNC_WAKE_UP` (vigil runs on the
/// target's CPU when it answers; older kernels: a slower wake-up, nothing
/// else). The first one also answers for the ADDFD features, and the line
/// is logged at `level` (PID 1 says it at info, `vigil run` at debug: a
/// wrapper prints nothing of its own unless asked).
pub fn listener(fd: BorrowedFd<'_>, level: log::Level) {
    let mut f = FEATURES.load(Ordering::Relaxed);
    if seccomp::set_flags(fd, seccomp::USER_NOTIF_FD_SYNC_WAKE_UP).is_ok() {
        f |= SYNC_WAKE_UP;
    }
    if f & LISTENED != 0 {
        return;
    }
    if seccomp::addfd_known(fd, 0) {
        f |= ADDFD;
    }
    if seccomp::addfd_known(fd, seccomp::ADDFD_FLAG_SEND) {
        f |= ADDFD_SEND;
    }
    FEATURES.store(f | LISTENED, Ordering::Relaxed);
    let mut l = log::start(level);
    l.s("kernel:");
    for &(bit, name) in &NAMES {
        l.s(name).s(if f & bit != 0 { "yes" } else { "no" });
    }
    l.end();
}
