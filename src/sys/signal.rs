//! Signals as file descriptor events: a blocked mask and a `signalfd`.

use super::{nr, syscall, Result};
use rustix::fd::{BorrowedFd, FromRawFd, OwnedFd};

/// A kernel signal set (64 signals on both arches).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);

    // Size: `const`, so that fixed sets are built at compile time (measured).
    pub const fn of(signals: &[u32]) -> SigSet {
        let mut m = 0;
        let mut i = 0;
        while i < signals.len() {
            m |= 1 << (signals[i] - 1);
            i += 1;
        }
        SigSet(m)
    }

    pub fn has(self, sig: i32) -> bool {
        (1..=64).contains(&sig) && self.0 & (1 << (sig - 1)) != 0
    }
}

/// `rt_sigprocmask(SIG_SETMASK)`: block exactly `set`.
// Raw: rustix has the signal mask and `rt_sigaction` only in its unstable
// `runtime` feature, and no signalfd.
pub fn set_mask(set: SigSet) -> Result<()> {
    // SAFETY: set is a valid 8-byte sigset; no old set is requested.
    unsafe {
        syscall(
            nr::__NR_rt_sigprocmask,
            [
                linux_raw_sys::general::SIG_SETMASK as usize,
                &set.0 as *const u64 as usize,
                0,
                8,
                0,
                0,
            ],
        )
        .map(drop)
    }
}

/// `signalfd4(2)`: a new non-blocking, close-on-exec fd for `set`.
pub fn signalfd(set: SigSet) -> Result<OwnedFd> {
    // SFD_CLOEXEC | SFD_NONBLOCK: O_CLOEXEC and O_NONBLOCK.
    let flags = linux_raw_sys::general::O_CLOEXEC | linux_raw_sys::general::O_NONBLOCK;
    // SAFETY: set is a valid 8-byte sigset; the fd returned is new, and
    // ours.
    unsafe {
        syscall(
            nr::__NR_signalfd4,
            [
                usize::MAX,
                &set.0 as *const u64 as usize,
                8,
                flags as usize,
                0,
                0,
            ],
        )
        .map(|fd| OwnedFd::from_raw_fd(fd as i32))
    }
}

/// One signal read from a signalfd.
#[derive(Clone, Copy, Debug)]
pub struct SigInfo {
    pub signo: i32,
    /// The sender's pid (for SIGCHLD, the child's).
    pub pid: u32,
}

/// `read(2)` of one `signalfd_siginfo`; `None` when none is pending.
pub fn read_signal(fd: BorrowedFd<'_>) -> Result<Option<SigInfo>> {
    // struct signalfd_siginfo: 128 bytes, ssi_signo first, ssi_pid fourth.
    let mut raw = [0u8; 128];
    let n = rustix::io::read(fd, &mut raw);
    let word = |i: usize| u32::from_ne_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    match n {
        Ok(128) => Ok(Some(SigInfo {
            signo: word(0) as i32,
            pid: word(12),
        })),
        Ok(_) => Ok(None),
        Err(super::Errno::AGAIN) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `rt_sigaction(2)`: ignore `sig`.
pub fn ignore(sig: i32) -> Result<()> {
    let act = [1usize, 0, 0, 0]; // SIG_IGN
                                 // SAFETY: act is a valid kernel sigaction with SIG_IGN.
    unsafe {
        syscall(
            nr::__NR_rt_sigaction,
            [sig as usize, act.as_ptr() as usize, 0, 8, 0, 0],
        )
        .map(drop)
    }
}
