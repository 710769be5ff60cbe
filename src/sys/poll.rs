//! `ppoll(2)` over a fixed table of raw fds.

use super::{nr, syscall, Result};

pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;

/// `struct pollfd`. Its fd is a number: the poll loops fill a fixed
/// table from fds they hold (or borrow) for this one call, and -1 is the
/// kernel's "skip this slot".
// Raw: rustix's `poll` takes only borrowed fds (no -1 slot) and a
// `Timespec`, not `ppoll`'s; vigil's tables keep fixed positions.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

/// `ppoll(2)` with a timeout in nanoseconds (`None`: wait forever).
/// EINTR counts as "nothing ready".
pub fn poll(fds: &mut [PollFd], timeout_ns: Option<u64>) -> Result<usize> {
    let ts;
    let tsp = match timeout_ns {
        Some(ns) => {
            ts = [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
            ts.as_ptr() as usize
        }
        None => 0,
    };
    // SAFETY: fds is a valid pollfd array of its length; tsp is NULL or a
    // valid timespec; no signal mask is passed.
    match unsafe {
        syscall(
            nr::__NR_ppoll,
            [fds.as_mut_ptr() as usize, fds.len(), tsp, 0, 8, 0],
        )
    } {
        Err(super::Errno::INTR) => Ok(0),
        r => r,
    }
}

/// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
// Raw: rustix's `clock_gettime` (by the vDSO) is +2,496 B here (measured).
pub fn now_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: ts is a valid writable timespec.
    let _ = unsafe {
        syscall(
            nr::__NR_clock_gettime,
            [
                linux_raw_sys::general::CLOCK_MONOTONIC as usize,
                ts.as_mut_ptr() as usize,
                0,
                0,
                0,
                0,
            ],
        )
    };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}
