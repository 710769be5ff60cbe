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

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use rustix::fs::OFlags;

use super::sandbox::{self, Sandbox};
use crate::bpf::Insn;
use crate::limits::Inherited;
use crate::out::{Buf, Sink};
use crate::sys::exec::ExecBuf;
use crate::sys::fd::Kept;
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
    /// back where vigil lifted its own (`limits`).
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
/// The listener will be this fd number.
pub const MSG_LISTENER: u32 = 1;
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
            SpawnError::Setup(STEP_CWD, e) => ("entering its working directory", e),
            SpawnError::Setup(k @ STEP_STDIN..=STEP_STDERR, e) => (
                [
                    "opening its stdin",
                    "opening its stdout",
                    "opening its stderr",
                ][(k - STEP_STDIN) as usize],
                e,
            ),
            SpawnError::Setup(step, e) => (sandbox::Step::name(step), e),
            SpawnError::Handover(e) => ("the listener hand-over failed", e),
        }
    }
}

/// How long `spawn` waits for the hand-over before it gives up on the child.
const HANDOVER_NS: u64 = 2_000_000_000;
/// How long PID 1 lets a child take to reach its `execve`. Nothing waits
/// for it meanwhile (the hand-over is part of PID 1's poll loop), so this
/// only bounds how long a child stuck in its setup (throttled by its
/// cgroup, blocked on a file) counts as started.
pub const HANDOVER_ASYNC_NS: u64 = 30_000_000_000;
/// Longest pause between two tries at the listener.
const RETRY_MAX_NS: u64 = 16_000_000;

/// Start `s` and wait for the hand-over: returns once the child is running
/// its filter with vigil holding the listener (or, without a filter, once
/// it is forked). For `vigil run`, which has nothing else to serve
/// meanwhile; PID 1 uses `fork` and `Handover` from its poll loop.
pub fn spawn(s: &Spawn) -> Result<Child, SpawnError> {
    let (pid, status) = fork(s)?;
    let mut child = Child {
        pid,
        listener: None,
        status,
    };
    if s.filter.is_some() {
        let r = Handover::new(pid, poll::now_ns(), HANDOVER_NS)
            .map_err(SpawnError::Handover)
            .and_then(|mut h| h.wait(child.status.as_fd()));
        match r {
            Ok(l) => child.listener = Some(l),
            Err(e) => {
                let _ = sys::kill(pid, linux_raw_sys::general::SIGKILL as i32);
                return Err(e);
            }
        }
    }
    Ok(child)
}

/// Fork the child of `s`. The parent returns at once: with a filter, the
/// child's listener is taken over later (`Handover`); the child reports
/// on the status pipe (close-on-exec: EOF once it exec'd).
pub fn fork(s: &Spawn) -> Result<(i32, OwnedFd), SpawnError> {
    use linux_raw_sys::general::{CLONE_NEWCGROUP, CLONE_NEWUSER};
    let pipe = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC);
    let (r, w) = pipe().map_err(SpawnError::Fork)?;
    // In a user namespace, the child waits for its ids to be mapped (only
    // vigil, outside, can map them to an unprivileged uid).
    let userns = s.sandbox.namespaces & CLONE_NEWUSER != 0;
    let go = if userns {
        Some(pipe().map_err(SpawnError::Fork)?)
    } else {
        None
    };
    // A cgroup namespace is made by the child once it is in its cgroup
    // (`sandbox::enter`): made here, its root would be vigil's cgroup.
    let ns = s.sandbox.namespaces & !CLONE_NEWCGROUP;
    let (pid, in_cgroup) = fork_in_cgroup(s, ns)?;
    if pid == 0 {
        drop(r);
        if let Some((gr, gw)) = go {
            drop(gw);
            let mut b = [0u8; 1];
            if rustix::io::read(&gr, &mut b) != Ok(1) {
                proc::exit(126);
            }
        }
        child(s, w.as_fd(), in_cgroup);
    }
    if let Some((_, gw)) = go {
        let mapped = map_ids(pid, s.uid.unwrap_or(0), s.gid.unwrap_or(0))
            .and_then(|()| sys::write_all(gw.as_fd(), b"1"));
        if let Err(e) = mapped {
            let _ = sys::kill(pid, linux_raw_sys::general::SIGKILL as i32);
            return Err(SpawnError::Setup(sandbox::Step::UserNs as u32, e));
        }
    }
    Ok((pid, r))
}

/// Fork, into the service's cgroup where it has one: born there
/// (`CLONE_INTO_CGROUP`), the child never writes `cgroup.procs`. Such a
/// write waits for every task that is forking or exiting anywhere, and a
/// task of a throttled cgroup can sit there for a whole `cpu-max` period;
/// while a write waits, every fork waits too, PID 1's included. Kernels
/// before 5.7 cannot: there the child moves itself. Whether it was born
/// there, as the second value (the child's side included).
fn fork_in_cgroup(s: &Spawn, ns: u32) -> Result<(i32, bool), SpawnError> {
    if let Some(cg) = s.sandbox.cgroup {
        let dir = sys::open(cg, OFlags::PATH | OFlags::DIRECTORY).map_err(SpawnError::Fork)?;
        match proc::fork_into_cgroup(ns, dir.as_fd()) {
            Ok(pid) => return Ok((pid, true)),
            Err(Errno::NOSYS | Errno::INVAL | Errno::TOOBIG) => {}
            Err(e) => return Err(SpawnError::Fork(e)),
        }
    }
    let pid = proc::fork_with(ns).map_err(SpawnError::Fork)?;
    Ok((pid, false))
}

/// Map 0 inside the user namespace of `pid` to `uid` and `gid` outside,
/// and nothing else; deny setgroups there (dropping a group could get
/// round a file's group-deny mode).
fn map_ids(pid: i32, uid: u32, gid: u32) -> Result<(), Errno> {
    for (file, id) in [
        ("/setgroups", None),
        ("/uid_map", Some(uid)),
        ("/gid_map", Some(gid)),
    ] {
        let mut p = Buf::<48>::new();
        p.s("/proc/").u(pid as u64).s(file);
        let mut line = Buf::<32>::new();
        match id {
            Some(id) => line.s("0 ").u(id as u64).s(" 1\n"),
            None => line.s("deny"),
        };
        let fd = sys::open(p.as_bytes(), OFlags::WRONLY)?;
        sys::write_all(fd.as_fd(), line.as_bytes())?;
    }
    Ok(())
}

/// Taking a child's listener over: the child says on its status pipe which
/// fd number the listener will get (`told`), installs its filter and calls
/// `execve`, where it sleeps until vigil answers; vigil copies the fd out
/// with `pidfd_getfd` as soon as it is there (`try_take`, retried).
pub struct Handover {
    /// Opened at once: the child cannot be reaped (nor its pid reused)
    /// before vigil reaps it, so this is the child.
    pidfd: OwnedFd,
    /// The listener's number in the child, once it said.
    n: Option<u32>,
    pub deadline_ns: u64,
    /// When to try again (with `n` known).
    retry_ns: u64,
    pause_ns: u64,
}

impl Handover {
    pub fn new(pid: i32, now: u64, limit_ns: u64) -> Result<Handover, Errno> {
        let p = rustix::process::Pid::from_raw(pid).ok_or(Errno::SRCH)?;
        let pidfd = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty())?;
        Ok(Handover {
            pidfd,
            n: None,
            deadline_ns: now + limit_ns,
            retry_ns: 0,
            pause_ns: 1_000_000,
        })
    }

    /// The child said its listener will be fd `n`.
    pub fn told(&mut self, n: u32, now: u64) {
        self.n = Some(n);
        self.retry_ns = now;
    }

    /// When `try_take` should run next: the retry, else the deadline.
    pub fn next_ns(&self) -> u64 {
        match self.n {
            Some(_) => self.retry_ns.min(self.deadline_ns),
            None => self.deadline_ns,
        }
    }

    /// The listener, if it is there; `None`: not yet (try again at
    /// `next_ns`). ETIMEDOUT past the deadline.
    pub fn try_take(&mut self, now: u64) -> Result<Option<OwnedFd>, Errno> {
        if let Some(n) = self.n {
            match rustix::process::pidfd_getfd(
                &self.pidfd,
                n as i32,
                rustix::process::PidfdGetfdFlags::empty(),
            ) {
                // A listener answers ID_VALID for an unknown id with ENOENT;
                // anything else would be some other file at that number.
                Ok(fd) if is_listener(fd.as_fd()) => return Ok(Some(fd)),
                Ok(_) | Err(Errno::BADF) => {}
                Err(e) => return Err(e),
            }
            self.retry_ns = now + self.pause_ns;
            self.pause_ns = (self.pause_ns * 2).min(RETRY_MAX_NS);
        }
        if now >= self.deadline_ns {
            return Err(Errno::TIMEDOUT);
        }
        Ok(None)
    }

    /// The whole hand-over, blocking: read the child's word on `status`,
    /// then take the listener.
    fn wait(&mut self, status: BorrowedFd<'_>) -> Result<OwnedFd, SpawnError> {
        loop {
            let now = poll::now_ns();
            match self.try_take(now) {
                Ok(Some(fd)) => return Ok(fd),
                Ok(None) => {}
                Err(e) => return Err(SpawnError::Handover(e)),
            }
            // A message now: where the listener will be, or why the child
            // failed. EOF: it died.
            if wait_readable(status, self.next_ns()) {
                match read_msg(status) {
                    Some((MSG_LISTENER, n)) if self.n.is_none() => self.told(n, poll::now_ns()),
                    Some((MSG_SETUP, e)) => return Err(setup_error(e)),
                    _ => return Err(SpawnError::Handover(Errno::CHILD)),
                }
            }
        }
    }
}

fn send_msg(w: BorrowedFd<'_>, kind: u32, value: u32) {
    let mut m = [0u8; 8];
    m[..4].copy_from_slice(&kind.to_le_bytes());
    m[4..].copy_from_slice(&value.to_le_bytes());
    let _ = sys::write_all(w, &m);
}

/// Read one message from the status pipe: `None` at EOF.
pub fn read_msg(fd: BorrowedFd<'_>) -> Option<(u32, u32)> {
    let mut m = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        match rustix::io::read(fd, &mut m[got..]) {
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
fn child(s: &Spawn, w: BorrowedFd<'_>, in_cgroup: bool) -> ! {
    let fail_at = |step: u32, e: Errno| -> ! {
        send_msg(w, MSG_SETUP, step << 16 | e.raw_os_error() as u32);
        proc::exit(126)
    };
    let fail = |e: Errno| -> ! { fail_at(0, e) };
    let _ = signal::set_mask(SigSet::EMPTY);
    if s.new_session {
        let _ = rustix::process::setsid();
    }
    crate::limits::restore_inherited(s.limits);
    for &(res, soft, hard) in s.rlimits {
        if let Err(e) = proc::set_rlimit(res, soft, hard) {
            fail(e);
        }
    }
    if let Err((step, e)) = sandbox::enter(&s.sandbox, in_cgroup) {
        fail_at(step as u32, e);
    }
    // A service under a policy never keeps CAP_SYS_PTRACE unless its
    // `capabilities` line names it: with it, root opens vigil's and its
    // worker's /proc/PID/mem (vigil is not dumpable, which stops everyone
    // else) and could kill PID 1 or rewrite the rules that confine it.
    if s.filter.is_some() && s.sandbox.caps.is_none() {
        if let Err(e) = sys::caps::drop_one(linux_raw_sys::general::CAP_SYS_PTRACE) {
            fail_at(sandbox::Step::Capabilities as u32, e);
        }
    }
    if let Err((step, e)) = sandbox::drop_privileges(&s.sandbox, s.uid, s.gid, s.groups) {
        fail_at(step as u32, e);
    }
    // From here on the child is the service: its uid, gid, capabilities,
    // namespaces, root and Landlock rules. Its working directory and
    // stdio files are reached with its rights, never with vigil's: a
    // service that swapped its log file for a symlink to a root-only file
    // gets EACCES, not the file.
    if let Some(dir) = s.cwd {
        if let Err(e) = sys::chdir(dir) {
            fail_at(STEP_CWD, e);
        }
    }
    for (fd, io) in s.stdio.iter().enumerate() {
        let opened = match io {
            Stdio::Inherit => continue,
            Stdio::Null => null(),
            Stdio::Read(p) => open_stdio(p, false),
            Stdio::File(p) => open_stdio(p, true),
        };
        let f = match opened {
            Ok(f) => f,
            Err(e) => fail_at(STEP_STDIN + fd as u32, e),
        };
        if f.as_raw_fd() == fd as i32 {
            // It took its own number (that one was closed): keep it open
            // across exec.
            if rustix::io::fcntl_setfd(&f, rustix::io::FdFlags::empty()).is_err() {
                fail(Errno::BADF);
            }
            let _ = f.into_raw_fd();
        } else {
            let r = match fd {
                0 => rustix::stdio::dup2_stdin(&f),
                1 => rustix::stdio::dup2_stdout(&f),
                _ => rustix::stdio::dup2_stderr(&f),
            };
            if r.is_err() {
                fail(Errno::BADF);
            }
        }
    }
    if s.close_fds {
        // Everything but stdio and the status pipe.
        proc::close_all_but(w);
    }
    if s.sandbox.no_new_privs {
        if let Err(e) = rustix::thread::set_no_new_privs(true) {
            fail(e);
        }
    }
    if s.dumpable {
        let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::Dumpable);
    }
    if let Some(prog) = s.filter {
        // The listener will get the lowest free number: find it now, while
        // syscalls are still free, and tell vigil.
        let n = match rustix::io::fcntl_dupfd_cloexec(w, 0) {
            Ok(n) => n.as_raw_fd(),
            Err(e) => fail(e),
        };
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

/// `MSG_SETUP` steps after the sandbox's (`sandbox::Step`): entering the
/// working directory, opening stdin, stdout, stderr (in fd order).
pub const STEP_CWD: u32 = 16;
pub const STEP_STDIN: u32 = 17;
pub const STEP_STDERR: u32 = STEP_STDIN + 2;

/// The open `/dev/null` that services' `null` stdio is a copy of.
static NULL: Kept = Kept::new();

/// PID 1 opens `/dev/null` once, at boot, before any service runs: a
/// service that can write `/dev` (root without capabilities owns it) may
/// replace the node, but not this open file.
pub fn hold_null(fd: OwnedFd) {
    NULL.set(fd);
}

fn null() -> Result<OwnedFd, Errno> {
    match NULL.get() {
        None => sys::open(b"/dev/null", OFlags::RDWR),
        Some(fd) => rustix::io::fcntl_dupfd_cloexec(fd, 0),
    }
}

/// A stdio path, opened as the service (the caller has become it):
/// `openat2` refusing magic links (`/proc/self/fd/N` would reach an fd of
/// vigil's still open in the child), and non-blocking, so that a FIFO
/// nobody has open fails the write end with ENXIO instead of hanging the
/// start; the flag is cleared after. `O_NOCTTY`: the child leads a new
/// session, and a terminal must not become its controlling one by this.
fn open_stdio(path: &[u8], write: bool) -> Result<OwnedFd, Errno> {
    use rustix::fs::{Mode, ResolveFlags};
    let mut b = [0u8; crate::sys::PATH_MAX];
    let c = sys::nul_terminated(path, &mut b)?;
    let base = OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let flags = if write {
        base | OFlags::WRONLY | OFlags::CREATE | OFlags::APPEND
    } else {
        base | OFlags::RDONLY
    };
    // openat2 takes a mode only with O_CREAT.
    let mode = Mode::from_raw_mode(if write { 0o644 } else { 0 });
    let f = match rustix::fs::openat2(rustix::fs::CWD, c, flags, mode, ResolveFlags::NO_MAGICLINKS)
    {
        // Before 5.6: magic links are followed, with the service's rights.
        Err(Errno::NOSYS) => rustix::fs::openat(rustix::fs::CWD, c, flags, mode),
        r => r,
    }?;
    let fl = rustix::fs::fcntl_getfl(&f)?;
    rustix::fs::fcntl_setfl(&f, fl - OFlags::NONBLOCK)?;
    Ok(f)
}

/// A `MSG_SETUP` value: the step in the high half, the errno in the low.
pub fn setup_error(v: u32) -> SpawnError {
    SpawnError::Setup(v >> 16, Errno::from_raw_os_error((v & 0xffff) as i32))
}

fn is_listener(fd: BorrowedFd<'_>) -> bool {
    seccomp::id_check(fd, 0) == Err(Errno::NOENT)
}

// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn wait_readable(fd: BorrowedFd<'_>, deadline: u64) -> bool {
    loop {
        let now = poll::now_ns();
        if now >= deadline {
            return false;
        }
        let mut p = [PollFd {
            fd: fd.as_raw_fd(),
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
