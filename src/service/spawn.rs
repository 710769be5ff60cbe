//! Starting a service: fork, set the child up, install its filter, and
//! take the listener over without a single syscall of the child's between
//! the filter and its `execve`.
//!
//! The hand-over (README, "Listener hand-over"): before installing, the
//! child finds the lowest free fd number N (the number the kernel will give
//! the listener) and writes it to a close-on-exec status pipe. It installs
//! the filter and calls `execve`, which the filter always routes to vigil,
//! so the child sleeps there with the listener open. vigil copies fd N out
//! of it with `pidfd_getfd` and answers that `execve` with CONTINUE. The
//! kernel closes the child's copy at exec (listeners are close-on-exec).
//! No policy can deadlock this: the child makes no other syscall.

use rustix::fd::{AsRawFd, OwnedFd};

use super::sandbox::{self, Sandbox};
use crate::bpf::Insn;
use crate::init::limits::Inherited;
use crate::sys::exec::ExecBuf;
use crate::sys::poll::{self, PollFd, POLLIN};
use crate::sys::seccomp;
use crate::sys::signal::{self, SigSet};
use crate::sys::{self, proc, Errno};

/// Where a standard fd of the service goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio<'a> {
    /// Keep vigil's own.
    Inherit,
    Null,
    /// Append to this file, created if missing.
    File(&'a [u8]),
    /// Read this file.
    Read(&'a [u8]),
}

/// Everything needed to start one process.
pub struct Spawn<'a> {
    pub path: &'a [u8],
    pub exec: &'a ExecBuf,
    pub filter: Option<&'a [Insn]>,
    /// Extra `seccomp` flags (`WAIT_KILLABLE_RECV` when probed).
    pub filter_flags: u32,
    pub stdio: [Stdio<'a>; 3],
    pub cwd: Option<&'a [u8]>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub groups: Option<&'a [u32]>,
    /// `(resource, soft, hard)`.
    pub rlimits: &'a [(u32, u64, u64)],
    /// Start a new session (and process group), as PID 1 does per service.
    pub new_session: bool,
    /// Confinement: namespaces, mounts, root, Landlock, capabilities.
    pub sandbox: Sandbox<'a>,
    /// Close every inherited fd from 3 up before exec (stdio aside).
    pub close_fds: bool,
    /// The resource limits vigil was started with, which the child gets
    /// back where vigil lifted its own (`init::limits`).
    pub limits: Option<&'a Inherited>,
    /// Make the child dumpable again before its filter: vigil is not
    /// (`PR_SET_DUMPABLE 0`), the child inherits that, and an unprivileged
    /// vigil could not take its listener (`pidfd_getfd`) otherwise. PID 1
    /// leaves it: a child that changed its uid stays undumpable, so other
    /// processes of that uid cannot trace it before its filter is in.
    pub dumpable: bool,
}

impl<'a> Spawn<'a> {
    /// `path` with `exec`'s arguments and nothing else: no filter, vigil's
    /// stdio, no confinement beyond no_new_privs.
    // Size: built once here, not field by field per caller (measured).
    #[inline(never)]
    pub fn plain(path: &'a [u8], exec: &'a ExecBuf) -> Self {
        Spawn {
            path,
            exec,
            filter: None,
            filter_flags: 0,
            stdio: [Stdio::Inherit; 3],
            cwd: None,
            uid: None,
            gid: None,
            groups: None,
            rlimits: &[],
            new_session: false,
            sandbox: Sandbox::default(),
            close_fds: false,
            limits: None,
            dumpable: false,
        }
    }
}

/// A started process.
#[derive(Debug)]
pub struct Child {
    pub pid: i32,
    /// vigil's copy of the child's listener, if it runs under a filter.
    pub listener: Option<OwnedFd>,
    /// Readable when the exec failed (a `Msg`), EOF once it succeeded.
    pub status: OwnedFd,
}

/// Messages on the status pipe: (kind, value) as two little-endian u32.
const MSG_LISTENER: u32 = 1;
/// A setup step failed before exec; the value is the errno.
pub const MSG_SETUP: u32 = 2;
/// `execve` itself failed; the value is the errno.
pub const MSG_EXEC: u32 = 3;

/// Why a start failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// fork or pipe failed in vigil.
    Fork(Errno),
    /// The child failed before installing its filter: the step
    /// (`sandbox::Step` as a number, 0 for plain setup) and the errno.
    Setup(u32, Errno),
    /// The listener never arrived (installing failed, or the child died).
    Handover(Errno),
}

impl SpawnError {
    /// What failed, in words, and the errno.
    pub fn describe(self) -> (&'static str, Errno) {
        match self {
            SpawnError::Fork(e) => ("fork failed", e),
            SpawnError::Setup(0, e) => ("setting up the process failed", e),
            SpawnError::Setup(step, e) => (sandbox::Step::name(step), e),
            SpawnError::Handover(e) => ("the listener hand-over failed", e),
        }
    }
}

/// How long the hand-over may take before vigil gives up on the child.
const HANDOVER_NS: u64 = 2_000_000_000;

/// Start `s`. Returns once the child is running its filter with vigil
/// holding the listener (or, without a filter, once it is forked).
pub fn spawn(s: &Spawn) -> Result<Child, SpawnError> {
    let (r, w) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(SpawnError::Fork)?;
    let pid = proc::fork_with(s.sandbox.namespaces).map_err(SpawnError::Fork)?;
    if pid == 0 {
        drop(r);
        child(s, w.as_raw_fd());
    }
    drop(w);
    let mut child = Child {
        pid,
        listener: None,
        status: r,
    };
    if s.filter.is_some() {
        match handover(&child) {
            Ok(l) => child.listener = Some(l),
            Err(e) => {
                let _ = sys::kill(pid, linux_raw_sys::general::SIGKILL as i32);
                return Err(e);
            }
        }
    }
    Ok(child)
}

fn send_msg(w: i32, kind: u32, value: u32) {
    let mut m = [0u8; 8];
    m[..4].copy_from_slice(&kind.to_le_bytes());
    m[4..].copy_from_slice(&value.to_le_bytes());
    let _ = sys::write_all(w, &m);
}

/// Read one message from the status pipe: `None` at EOF.
pub fn read_msg(fd: i32) -> Option<(u32, u32)> {
    let mut m = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        match rustix::io::read(sys::borrow(fd), &mut m[got..]) {
            Ok(0) => return None,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(_) => return None,
        }
    }
    Some((
        u32::from_le_bytes([m[0], m[1], m[2], m[3]]),
        u32::from_le_bytes([m[4], m[5], m[6], m[7]]),
    ))
}

/// The child's side: never returns.
fn child(s: &Spawn, w: i32) -> ! {
    let fail_at = |step: u32, e: Errno| -> ! {
        send_msg(w, MSG_SETUP, step << 16 | e.raw_os_error() as u32);
        proc::exit(126)
    };
    let fail = |e: Errno| -> ! { fail_at(0, e) };
    let _ = signal::set_mask(SigSet::EMPTY);
    if s.new_session {
        let _ = rustix::process::setsid();
    }
    // Opened non-blocking: a FIFO nobody has open would block the open,
    // and with it vigil, which waits for the hand-over. The write end of
    // such a FIFO fails with ENXIO instead; the flag is cleared after.
    let nb = rustix::fs::OFlags::NONBLOCK;
    for (fd, io) in s.stdio.iter().enumerate() {
        let opened = match io {
            Stdio::Inherit => continue,
            Stdio::Null => sys::open(b"/dev/null", rustix::fs::OFlags::RDWR),
            Stdio::Read(p) => sys::open(p, rustix::fs::OFlags::RDONLY | nb),
            Stdio::File(p) => sys::open(
                p,
                rustix::fs::OFlags::WRONLY
                    | rustix::fs::OFlags::CREATE
                    | rustix::fs::OFlags::APPEND
                    | nb,
            ),
        };
        match opened {
            Ok(f) => {
                let b = sys::borrow(f);
                let cleared =
                    rustix::fs::fcntl_getfl(b).and_then(|fl| rustix::fs::fcntl_setfl(b, fl - nb));
                if let Err(e) = cleared {
                    fail(e);
                }
                if proc::dup_to(f, fd as i32).is_err() {
                    fail(Errno::BADF);
                }
                if f != fd as i32 {
                    proc::close(f);
                } else if proc::clear_cloexec(f).is_err() {
                    fail(Errno::BADF);
                }
            }
            Err(e) => fail(e),
        }
    }
    if s.close_fds {
        // Everything but stdio and the status pipe.
        proc::close_all_but(w);
    }
    crate::init::limits::restore_inherited(s.limits);
    for &(res, soft, hard) in s.rlimits {
        if let Err(e) = proc::set_rlimit(res, soft, hard) {
            fail(e);
        }
    }
    if let Err((step, e)) = sandbox::enter(&s.sandbox) {
        fail_at(step as u32, e);
    }
    if let Some(dir) = s.cwd {
        if let Err(e) = sys::chdir(dir) {
            fail(e);
        }
    }
    if let Err((step, e)) = sandbox::drop_privileges(&s.sandbox, s.uid, s.gid, s.groups) {
        fail_at(step as u32, e);
    }
    if s.sandbox.no_new_privs {
        if let Err(e) = proc::set_no_new_privs() {
            fail(e);
        }
    }
    if s.dumpable {
        let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::Dumpable);
    }
    if let Some(prog) = s.filter {
        // The listener will get the lowest free number: find it now, while
        // syscalls are still free, and tell vigil.
        let n = match proc::dup_lowest(w) {
            Ok(n) => n,
            Err(e) => fail(e),
        };
        proc::close(n);
        send_msg(w, MSG_LISTENER, n as u32);
        if let Err(e) = seccomp::set_filter(prog, seccomp::FLAG_NEW_LISTENER | s.filter_flags) {
            fail(e);
        }
        // From here on: nothing but execve (notified, answered by vigil).
    }
    let e = s.exec.exec(s.path);
    send_msg(w, MSG_EXEC, e.raw_os_error() as u32);
    proc::exit(127)
}

/// vigil's side: learn N, then copy the listener out of the child.
fn handover(c: &Child) -> Result<OwnedFd, SpawnError> {
    let deadline = poll::now_ns() + HANDOVER_NS;
    let status = c.status.as_raw_fd();
    if !wait_readable(status, deadline) {
        return Err(SpawnError::Handover(Errno::TIMEDOUT));
    }
    let n = match read_msg(status) {
        Some((MSG_LISTENER, n)) => n,
        Some((MSG_SETUP, e)) => return Err(setup_error(e)),
        _ => return Err(SpawnError::Handover(Errno::CHILD)),
    };
    let pid = rustix::process::Pid::from_raw(c.pid).ok_or(SpawnError::Handover(Errno::SRCH))?;
    let pidfd = match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
        Ok(fd) => fd,
        // The child is gone already: its last message says why.
        Err(e) => {
            return Err(match read_msg(status) {
                Some((MSG_SETUP, e)) => setup_error(e),
                _ => SpawnError::Handover(e),
            })
        }
    };
    loop {
        match rustix::process::pidfd_getfd(
            &pidfd,
            n as i32,
            rustix::process::PidfdGetfdFlags::empty(),
        ) {
            // A listener answers ID_VALID for an unknown id with ENOENT;
            // anything else would be some other file at that number.
            Ok(fd) if is_listener(fd.as_raw_fd()) => return Ok(fd),
            Ok(_) | Err(Errno::BADF) => {}
            Err(e) => return Err(SpawnError::Handover(e)),
        }
        // Not installed yet. A message now means the install failed; EOF
        // means the child died.
        let mut p = [PollFd {
            fd: status,
            events: POLLIN,
            revents: 0,
        }];
        let _ = poll::poll(&mut p, Some(20_000));
        if p[0].revents != 0 {
            return Err(match read_msg(status) {
                Some((MSG_SETUP, e)) => setup_error(e),
                _ => SpawnError::Handover(Errno::CHILD),
            });
        }
        if poll::now_ns() > deadline {
            return Err(SpawnError::Handover(Errno::TIMEDOUT));
        }
    }
}

/// A `MSG_SETUP` value: the step in the high half, the errno in the low.
pub fn setup_error(v: u32) -> SpawnError {
    SpawnError::Setup(v >> 16, Errno::from_raw_os_error((v & 0xffff) as i32))
}

fn is_listener(fd: i32) -> bool {
    seccomp::id_check(fd, 0) == Err(Errno::NOENT)
}

// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn wait_readable(fd: i32, deadline: u64) -> bool {
    loop {
        let now = poll::now_ns();
        if now >= deadline {
            return false;
        }
        let mut p = [PollFd {
            fd,
            events: POLLIN,
            revents: 0,
        }];
        if let Ok(n) = poll::poll(&mut p, Some(deadline - now)) {
            if n > 0 {
                return true;
            }
        }
    }
}
