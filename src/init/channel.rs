//! The result channel: a device that only PID 1 holds, on which it tells
//! the host how the boot went (`vigil.result=PATH` on the kernel command
//! line; `vigil-qemu` gives a virtio-serial port, `/dev/vport0p1`).
//!
//! The console is shared with every service, so a line on it proves
//! nothing: a service can print `vigil: test exit=0` or make vigil log a
//! path that contains it. A virtio-serial port can be open once at a time,
//! and PID 1 opens it before any service starts (close-on-exec, so no
//! service inherits it): whatever arrives on it is PID 1's. The host tool
//! takes the test's status from here only.
//!
//! Lines, each ASCII and ending in `\n`:
//! - `up`: PID 1 holds the channel; services may start after this.
//! - `test exit=N` or `test signal=N`: the test program ended.
//! - `error WHY`: the boot cannot go on (a mount failed, ...).
//! - `down ACTION`: the last thing before `reboot(2)`, after sync and
//!   unmount (ACTION is `poweroff`, `reboot` or `halt`).

use crate::log;
use crate::out::{Buf, Sink};
use crate::sys::fd::Kept;
use crate::sys::{self, poll, Errno};

static FD: Kept = Kept::new();

/// How long the device may take to appear: a virtio port is added by a
/// work item after its driver's probe, so it may lag the module load.
const APPEAR_NS: u64 = 3_000_000_000;
/// A pause between tries.
const RETRY_NS: u64 = 5_000_000;

/// Open the channel at `path` (waiting for the device to appear), and say
/// `up` on it. Logs why not on failure.
pub fn open(path: &str) -> bool {
    let flags =
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::NONBLOCK;
    let until = poll::now_ns() + APPEAR_NS;
    let r = loop {
        match sys::open(path.as_bytes(), flags) {
            Err(Errno::NOENT | Errno::NODEV | Errno::NXIO) if poll::now_ns() < until => {
                let _ = poll::poll(&mut [], Some(RETRY_NS));
            }
            r => break r,
        }
    };
    match r {
        Ok(fd) => {
            FD.set(fd);
            say(b"up");
            true
        }
        Err(e) => {
            let mut l = log::start(log::Level::Error);
            l.s("result channel ").s(path).s(": ");
            l.end_errno(e);
            false
        }
    }
}

/// Is there a channel?
pub fn is_open() -> bool {
    FD.get().is_some()
}

/// One line on the channel, if there is one. PID 1 must not block: the
/// port is non-blocking, and a full one is retried for at most a second.
pub fn say(line: &[u8]) {
    let Some(fd) = FD.get() else {
        return;
    };
    let mut b = Buf::<64>::new();
    b.put(line);
    b.s("\n");
    let mut rest = b.as_bytes();
    for _ in 0..200 {
        match sys::write_all(fd, rest) {
            Ok(()) => return,
            Err(Errno::AGAIN) => {
                let _ = poll::poll(&mut [], Some(RETRY_NS));
            }
            Err(e) => {
                let mut l = log::start(log::Level::Error);
                l.s("result channel: ");
                l.end_errno(e);
                return;
            }
        }
        // `write_all` gives up at EAGAIN without saying how much went:
        // lines are far shorter than a port's buffer, so none did.
        rest = b.as_bytes();
    }
}
