//! Which seccomp user-notification features this kernel has, probed once
//! at start by really using them (never guessed from the version number),
//! and logged as one line. `vigil run` and PID 1 both call `probe`.
//!
//! The probe needs a listener whose filter no task uses any more, which
//! vigil itself cannot make without filtering itself: a child C forks a
//! grandchild G that installs an allow-all filter with a listener; C copies
//! the listener out of G (`pidfd_getfd`), tries the ioctls with an id that
//! cannot be pending, kills G and then calls RECV, which returns ENOENT on
//! 6.11+ and blocks forever before: vigil gives C a short deadline.

use core::sync::atomic::{AtomicU32, Ordering};

use rustix::fd::AsRawFd;

use crate::log;
use crate::out::Sink;
use crate::sys::poll::{self, PollFd, POLLIN};
use crate::sys::{self, proc, seccomp, Errno};

/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` is accepted (5.19).
pub const WAIT_KILLABLE: u32 = 1;
/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` is accepted (6.6).
pub const SYNC_WAKE_UP: u32 = 2;
/// `SECCOMP_IOCTL_NOTIF_ADDFD` exists (5.9).
pub const ADDFD: u32 = 4;
/// `SECCOMP_ADDFD_FLAG_SEND` exists (5.14).
pub const ADDFD_SEND: u32 = 8;
/// RECV fails with ENOENT once no task uses the filter (6.11).
pub const RECV_ENOENT: u32 = 16;
/// Set once `probe` ran.
const PROBED: u32 = 1 << 31;

static FEATURES: AtomicU32 = AtomicU32::new(0);

/// Does the kernel have `f`? Before `probe` ran: no (the safe fallbacks).
pub fn has(f: u32) -> bool {
    FEATURES.load(Ordering::Relaxed) & f == f
}

/// The extra `seccomp` flags every service filter gets.
pub fn filter_flags() -> u32 {
    if has(WAIT_KILLABLE) {
        seccomp::FLAG_WAIT_KILLABLE_RECV
    } else {
        0
    }
}

/// How long RECV may take to say ENOENT once the filter is unused.
const RECV_DEADLINE_NS: u64 = 50_000_000;

/// The features as the start-up line names them.
const NAMES: [(u32, &str); 5] = [
    (WAIT_KILLABLE, " wait-killable-recv "),
    (SYNC_WAKE_UP, ", sync-wake-up "),
    (ADDFD, ", addfd "),
    (ADDFD_SEND, ", addfd-send "),
    (RECV_ENOENT, ", recv-enoent "),
];

/// Probe (once), remember and log the features; returns `filter_flags()`.
pub fn probe() -> u32 {
    if FEATURES.load(Ordering::Relaxed) & PROBED == 0 {
        let f = run_probe();
        FEATURES.store(f | PROBED, Ordering::Relaxed);
        let mut l = log::start(log::Level::Info);
        l.s("kernel:");
        for &(bit, name) in &NAMES {
            l.s(name).s(if f & bit != 0 { "yes" } else { "no" });
        }
        l.end();
    }
    filter_flags()
}

fn run_probe() -> u32 {
    let Ok((r, w)) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) else {
        return 0;
    };
    let pid = match proc::fork() {
        Ok(0) => {
            drop(r);
            child(w.as_raw_fd())
        }
        Ok(pid) => pid,
        Err(_) => return 0,
    };
    drop(w);
    let mut f = 0;
    let mut buf = [0u8; 4];
    if wait_in(r.as_raw_fd(), 2_000_000_000) && rustix::io::read(&r, &mut buf) == Ok(4) {
        f = u32::from_le_bytes(buf);
        // C says `h` once the filter has no user left (POLLHUP, on every
        // kernel), then calls RECV: `!` follows at once where RECV returns
        // ENOENT; on older kernels RECV blocks and the deadline passes. The
        // wait for `h` is long because a slow (emulated) machine may take a
        // while to reap G; the deadline after it only covers one syscall.
        let mut rest = [0u8; 1];
        if wait_in(r.as_raw_fd(), 2_000_000_000)
            && rustix::io::read(&r, &mut rest) == Ok(1)
            && rest[0] == b'h'
            && wait_in(r.as_raw_fd(), RECV_DEADLINE_NS)
            && rustix::io::read(&r, &mut rest) == Ok(1)
        {
            f |= RECV_ENOENT;
        }
    }
    let _ = sys::kill(pid, linux_raw_sys::general::SIGKILL as i32);
    let _ = rustix::process::waitpid(
        rustix::process::Pid::from_raw(pid),
        rustix::process::WaitOptions::empty(),
    );
    f
}

fn wait_in(fd: i32, ns: u64) -> bool {
    let mut p = [PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    }];
    matches!(poll::poll(&mut p, Some(ns)), Ok(n) if n > 0)
}

/// C: never returns.
fn child(w: i32) -> ! {
    let (Ok((gr, gw)), Ok((hr, hw))) = (
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC),
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC),
    ) else {
        proc::exit(1)
    };
    let g = match proc::fork() {
        Ok(0) => grandchild(gw.as_raw_fd(), hr.as_raw_fd()),
        Ok(g) => g,
        Err(_) => proc::exit(1),
    };
    drop(gw);
    drop(hr);
    let mut m = [0u8; 8];
    if rustix::io::read(&gr, &mut m) != Ok(8) {
        proc::exit(1);
    }
    let n = i32::from_le_bytes([m[0], m[1], m[2], m[3]]);
    let mut f = u32::from_le_bytes([m[4], m[5], m[6], m[7]]);
    let l = rustix::process::Pid::from_raw(g)
        .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok())
        .and_then(|pfd| {
            rustix::process::pidfd_getfd(&pfd, n, rustix::process::PidfdGetfdFlags::empty()).ok()
        });
    let Some(l) = l else { proc::exit(1) };
    let l = l.as_raw_fd();
    if seccomp::set_flags(l, seccomp::USER_NOTIF_FD_SYNC_WAKE_UP).is_ok() {
        f |= SYNC_WAKE_UP;
    }
    // Id 0 is never pending here: a kernel that knows the ioctl and the
    // flag gets as far as looking it up (ENOENT); one that does not says
    // EINVAL first.
    if seccomp::addfd(l, 0, l, 0, 0) == Err(Errno::NOENT) {
        f |= ADDFD;
    }
    if seccomp::addfd(l, 0, l, 0, seccomp::ADDFD_FLAG_SEND) == Err(Errno::NOENT) {
        f |= ADDFD_SEND;
    }
    let _ = sys::write_all(w, &f.to_le_bytes());
    drop(hw);
    let _ = sys::kill(g, linux_raw_sys::general::SIGKILL as i32);
    let _ = rustix::process::waitpid(
        rustix::process::Pid::from_raw(g),
        rustix::process::WaitOptions::empty(),
    );
    let mut p = [PollFd {
        fd: l,
        events: POLLIN,
        revents: 0,
    }];
    let _ = poll::poll(&mut p, Some(2_000_000_000));
    let _ = sys::write_all(w, b"h");
    let mut n = seccomp::Notif::default();
    if seccomp::recv(l, &mut n) == Err(Errno::NOENT) {
        let _ = sys::write_all(w, b"!");
    }
    proc::exit(0)
}

/// G: install the filter, report, wait to be killed.
fn grandchild(gw: i32, hr: i32) -> ! {
    let prog = [crate::bpf::Insn {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: crate::bpf::ret_value(crate::policy::Ret::Allow),
    }];
    let _ = proc::set_no_new_privs();
    let base = seccomp::FLAG_NEW_LISTENER;
    let (fd, f) = match seccomp::set_filter(&prog, base | seccomp::FLAG_WAIT_KILLABLE_RECV) {
        Ok(fd) => (fd, WAIT_KILLABLE),
        Err(_) => match seccomp::set_filter(&prog, base) {
            Ok(fd) => (fd, 0),
            Err(_) => proc::exit(1),
        },
    };
    let mut m = [0u8; 8];
    m[..4].copy_from_slice(&fd.to_le_bytes());
    m[4..].copy_from_slice(&f.to_le_bytes());
    let _ = sys::write_all(gw, &m);
    let mut b = [0u8; 1];
    let _ = rustix::io::read(sys::borrow(hr), &mut b);
    proc::exit(0)
}
