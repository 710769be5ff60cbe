//! The notification monitor: receive, decide, check the id, answer.
//!
//! `receive` handles one pending notification and never blocks: the caller
//! only calls it after `poll` reported POLLIN. What registers decide it
//! answers at once; a notification that a paths rule decides goes to the
//! listener's worker (`worker`), which reads the target's memory, a thing
//! that can take as long as the target likes, in a process of its own.

pub mod actor;
pub mod emulate;
pub mod path;
pub mod probe;
pub mod reach;
pub mod resolve;
pub mod target;
pub mod worker;

/// The decision itself is pure: the core's.
pub use vigil_core::decide;

use crate::arch::Arch;
use crate::log::{self, Line};
use crate::out::Sink;
use crate::policy::{groups, Policy};
use crate::sys::seccomp::{self, Notif};
use crate::sys::{self, Errno};
use decide::{Decision, Step};
use path::Path;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};

/// One service's listener.
#[derive(Debug)]
pub struct Listener {
    pub fd: OwnedFd,
    /// The pid whose first `execve` is the hand-over (0 once it is done).
    pub handover_pid: u32,
}

/// What became of one `serve` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Served {
    Answered,
    /// The target died or was interrupted before the answer (ENOENT).
    Gone,
    /// Nothing was pending after all (EINTR, EAGAIN).
    Nothing,
    /// The listener is broken; the caller should close it.
    Failed(Errno),
}

/// What `receive` did with a notification.
#[derive(Clone, Copy, Debug)]
pub enum Next {
    /// Answered (or gone, or nothing was pending).
    Done(Served),
    /// A paths rule decides it: hand it to the worker (`serve_paths`).
    Paths(Notif, (u16, u16, u16)),
}

/// Receive one notification on `l` and answer it if registers decide it.
pub fn receive(l: &mut Listener, policy: &Policy, arch: &Arch, who: &str) -> Next {
    let mut n = Notif::default();
    match seccomp::recv(l.fd.as_fd(), &mut n) {
        Ok(()) => {}
        Err(Errno::NOENT) => return Next::Done(Served::Gone),
        Err(Errno::INTR) | Err(Errno::AGAIN) => return Next::Done(Served::Nothing),
        Err(e) => return Next::Done(Served::Failed(e)),
    }
    let nr = n.nr as u32;
    let handover = l.handover_pid != 0 && l.handover_pid == n.pid;
    if handover && arch.forced_notify.contains(&nr) {
        l.handover_pid = 0;
    }
    match decide::by_registers(policy, arch, nr, &n.args, handover) {
        Step::Done(d) => Next::Done(answer(
            l.fd.as_fd(),
            &n,
            d,
            handover,
            policy,
            arch,
            who,
            &[],
        )),
        Step::Paths {
            start,
            len,
            otherwise,
        } => Next::Paths(n, (start, len, otherwise)),
    }
}

/// Answer a notification that a paths rule decides (in a worker: this
/// reads the target's memory).
// Memory: out of line, so that its path buffers (tens of KB of frame, every
// page of it touched) are only entered for path syscalls.
#[inline(never)]
pub fn serve_paths(
    fd: BorrowedFd<'_>,
    n: &Notif,
    policy: &Policy,
    arch: &Arch,
    who: &str,
    rules: (u16, u16, u16),
) -> Served {
    let name = arch.name(n.nr as u32).unwrap_or("?");
    if emulate::handles(name) {
        return emulate::serve(fd, n, name, policy, arch, who, rules);
    }
    let fail = |e: Errno| Decision::Errno(e.raw_os_error() as u16);
    let mut paths = [Path::new(), Path::new()];
    let read = read_paths(n, name, &mut paths);
    // The pid may have died and been reused while we read: only trust
    // what we read (or failed to) if the notification is still pending.
    if !seccomp::id_valid(fd, n.id) {
        return Served::Gone;
    }
    let npaths = match read {
        Ok(k) => k,
        Err(e) => return answer(fd, n, fail(e), false, policy, arch, who, &[]),
    };
    let views: [&[u8]; 2] = [paths[0].as_bytes(), paths[1].as_bytes()];
    let views = &views[..npaths];
    let (start, len, otherwise) = rules;
    let d = decide::by_paths(policy, start, len, otherwise, views);
    answer(fd, n, d, false, policy, arch, who, views)
}

/// Read and make absolute every path argument of the syscall.
#[inline(never)]
fn read_paths(n: &Notif, name: &str, out: &mut [Path; 2]) -> Result<usize, Errno> {
    let args = groups::path_args(name);
    let mut raw = Path::new();
    for (pa, out) in args.iter().zip(out) {
        path::read_cstr(n.pid as i32, n.args[pa.path as usize], &mut raw)?;
        let dirfd = pa.dirfd.map(|d| n.args[d as usize]);
        path::absolute(n.pid as i32, dirfd, raw.as_bytes(), out)?;
    }
    Ok(args.len().min(2))
}

#[allow(clippy::too_many_arguments)]
fn answer(
    fd: BorrowedFd<'_>,
    n: &Notif,
    d: Decision,
    handover: bool,
    policy: &Policy,
    arch: &Arch,
    who: &str,
    paths: &[&[u8]],
) -> Served {
    // Size: one `send` call for every decision (measured).
    let (val, err, flags) = match d {
        Decision::Return(v) => (v, 0, 0),
        Decision::Errno(e) => (0, -(e as i32), 0),
        Decision::Continue => (0, 0, seccomp::USER_NOTIF_FLAG_CONTINUE),
        Decision::Kill => {
            let _ = sys::kill(n.pid as i32, linux_raw_sys::general::SIGKILL as i32);
            (0, -Errno::PERM.raw_os_error(), 0)
        }
        Decision::Trap => {
            let _ = sys::kill(n.pid as i32, linux_raw_sys::general::SIGSYS as i32);
            (0, -Errno::NOSYS.raw_os_error(), 0)
        }
    };
    let r = reply(fd, n.id, val, err, flags);
    if handover || policy.log_decisions {
        let level = if handover {
            log::Level::Debug
        } else {
            log::Level::Info
        };
        let mut l = log::about(level, who);
        describe(&mut l, n, arch, d, paths);
        l.end();
    }
    r
}

/// `SECCOMP_IOCTL_NOTIF_SEND`, and what became of the notification.
// Size: one copy of the mapping for `answer` and emulated calls (measured).
#[inline(never)]
fn reply(fd: BorrowedFd<'_>, id: u64, val: i64, err: i32, flags: u32) -> Served {
    match seccomp::send(fd, id, val, err, flags) {
        Ok(()) => Served::Answered,
        Err(Errno::NOENT) => Served::Gone,
        Err(e) => Served::Failed(e),
    }
}

/// `pid 42 mkdir "/tmp/x": allow` (after `log::about`'s `[svc] `)
pub(crate) fn describe(l: &mut Line, n: &Notif, arch: &Arch, d: Decision, paths: &[&[u8]]) {
    l.s("pid ").u(n.pid as u64).s(" ");
    l.s(arch.name(n.nr as u32).unwrap_or("?"));
    for p in paths {
        l.s(" \"").esc(p).s("\"");
    }
    // Size: one `s` call for the words alone (measured).
    let word = match d {
        Decision::Return(_) => ": return ",
        Decision::Errno(_) => ": deny ",
        Decision::Continue => ": allow",
        Decision::Kill => ": kill",
        Decision::Trap => ": trap",
    };
    l.s(word);
    match d {
        Decision::Return(v) => l.i(v),
        Decision::Errno(e) => match arch.errno_name(e) {
            Some(name) => l.s(name),
            None => l.s("errno ").u(e as u64),
        },
        _ => l,
    };
}
