//! The monitor's worker: one process per listener of a policy with path
//! rules, forked by vigil before the service, that serves that listener so
//! that vigil's own poll loop never waits on a target.
//!
//! A target can make whoever reads its memory sleep for as long as it
//! likes (a page registered with userfaultfd, memory backed by a FUSE or
//! other slow file), and an emulated open of a FUSE file waits for its
//! daemon. In vigil's loop that would freeze every other service's
//! notifications, signals and shutdown. So a service whose policy has path
//! rules gets a worker that receives and answers its notifications itself
//! (register decisions too: one hop, as fast as vigil's own loop), and
//! vigil only watches it. While the worker serves a path notification it
//! notes what and since when on a page shared with vigil (`BOARD`); vigil
//! looks at that page at least once a second, and past `DEADLINE_NS` it
//! kills the worker (a task asleep in a remote fault is killable), answers
//! the notification EIO if it is still pending, logs it, and stops the
//! service as misbehaving (it is restarted with its backoff).
//!
//! The worker lives in the service's world as vigil set it up: at the
//! hand-over, while the service's first process still waits in its first
//! `execve`, vigil opens that process's mount namespace and root, and the
//! worker enters them (setns, chroot). Paths then resolve for the worker
//! exactly as for the service, and what "the service's mount namespace
//! and root" mean is fixed: a target that later makes itself another
//! (unshare, setns, chroot, a directory fd from another namespace) is
//! refused (`emulate`). With `landlock-read`/`landlock-write` the worker
//! forks an actor under the same rules that performs the operations
//! (`actor`).
//!
//! A worker holds its listener, vigil's `/proc`, its channel to vigil and
//! vigil's log fds: nothing else. It is not dumpable (only CAP_SYS_PTRACE
//! can trace it or take its fds, and a service under a policy has lost
//! that capability at its start), in a session of its own, and dies with
//! vigil (PR_SET_PDEATHSIG). Its pid is known before the service's filter
//! is compiled, so that the filter can protect it like vigil's own.
//!
//! Reading a target's memory needs ptrace access in attach mode. A root
//! vigil's worker has it (CAP_SYS_PTRACE). A non-root `vigil run` under
//! Yama's `ptrace_scope` 1 has it only for its descendants, which the
//! worker, a sibling of the target, is not: the worker finds that out at
//! set-up, and then asks vigil, the target's parent, to open
//! `/proc/TID/mem` for each path notification and pass it over.

use core::sync::atomic::{AtomicU64, Ordering};

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::OFlags;

use super::{actor, probe, reach, Listener, Next, Served};
use crate::arch::Arch;
use crate::log;
use crate::out::Sink;
use crate::policy::Policy;
use crate::sys::poll::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL};
use crate::sys::seccomp;
use crate::sys::{self, proc, sock, Errno};

/// How long a worker may take over one path notification (or its
/// set-up). Nothing legitimate comes near it; a target holding a fault
/// gets its service stopped after it.
pub const DEADLINE_NS: u64 = 10_000_000_000;

/// How often vigil looks at the board while it has workers.
const LOOK_NS: u64 = 1_000_000_000;

/// Message kinds on the channel.
const SETUP: u8 = 1;
const READY: u8 = 2;
const MEM: u8 = 3;

/// Words per worker on the board: since (ns, 0: idle), id, pid << 32 | nr.
const RECORD: usize = 4;
const SLOTS: usize = sys::shared::SHARED_WORDS / RECORD;

/// Which board slots are taken (vigil's side).
static TAKEN: AtomicU64 = AtomicU64::new(0);

/// What a worker needs besides its listener: fixed at fork.
#[derive(Clone, Copy)]
pub struct Duty<'a> {
    pub policy: &'a Policy<'a>,
    pub arch: &'a Arch,
    pub who: &'a str,
    /// The service's `landlock-read` and `landlock-write` lists.
    pub landlock: (&'a [&'a str], &'a [&'a str]),
}

/// Does a service under `policy` need a worker (has it a paths rule)?
pub fn needed(policy: &Policy) -> bool {
    policy
        .replies
        .iter()
        .any(|r| matches!(r, crate::policy::Reply::Paths { .. }))
}

/// What vigil keeps of one worker.
#[derive(Debug)]
pub struct Worker {
    pub pid: i32,
    chan: OwnedFd,
    slot: usize,
    /// Set up and serving (else: its set-up is under way since `since`).
    ready: bool,
    since: u64,
}

/// Fork a worker. It waits for `setup`.
// Size and memory: out of line; the child's frames are its own.
#[inline(never)]
pub fn fork(duty: Duty) -> Result<Worker, Errno> {
    let board = sys::shared::shared()?;
    let taken = TAKEN.load(Ordering::Relaxed);
    let slot = (0..SLOTS.min(64))
        .find(|i| taken & (1 << i) == 0)
        .ok_or(Errno::AGAIN)?;
    for w in &board[slot * RECORD..(slot + 1) * RECORD] {
        w.store(0, Ordering::Relaxed);
    }
    let (ours, theirs) = sock::pair()?;
    let pid = proc::fork()?;
    if pid == 0 {
        drop(ours);
        run(theirs, duty, slot)
    }
    TAKEN.fetch_or(1 << slot, Ordering::Relaxed);
    Ok(Worker {
        pid,
        chan: ours,
        slot,
        ready: false,
        since: 0,
    })
}

impl Worker {
    /// Give it the listener and, opened now while the target (`pid`)
    /// still waits in its first `execve`, its mount namespace and root.
    /// `own_world`: the service has a mount namespace or root of its own
    /// (else it shares vigil's, and a worker that cannot open them, with
    /// no /proc or out of fds, serves from vigil's: the same).
    pub fn setup(
        &mut self,
        listener: BorrowedFd<'_>,
        pid: u32,
        now: u64,
        own_world: bool,
    ) -> Result<(), Errno> {
        let ns = reach::open(reach::rel(pid, "ns/mnt").as_bytes(), OFlags::RDONLY);
        let root = reach::open(
            reach::rel(pid, "root").as_bytes(),
            OFlags::PATH | OFlags::DIRECTORY,
        );
        let mut m = [0u8; 9];
        m[0] = SETUP;
        m[1..5].copy_from_slice(&pid.to_ne_bytes());
        m[5..9].copy_from_slice(&probe::features().to_ne_bytes());
        let all;
        let fds = match (&ns, &root) {
            (Ok(ns), Ok(root)) => {
                all = [listener, ns.as_fd(), root.as_fd()];
                &all[..]
            }
            (Err(e), _) | (_, Err(e)) if own_world => return Err(*e),
            _ => core::slice::from_ref(&listener),
        };
        sock::send(self.chan.as_fd(), &m, fds)?;
        self.since = now;
        Ok(())
    }

    /// Since when it has been on what it does (its set-up, or a path
    /// notification); `None`: idle.
    fn busy_since(&self) -> Option<u64> {
        if self.ready {
            self.record().map(|r| r.0)
        } else {
            Some(self.since)
        }
    }

    /// What the board says it is serving: (since, id, pid, nr).
    fn record(&self) -> Option<(u64, u64, u32, i32)> {
        let board = sys::shared::shared().ok()?;
        let r = &board[self.slot * RECORD..(self.slot + 1) * RECORD];
        let since = r[0].load(Ordering::Acquire);
        let (id, pn) = (r[1].load(Ordering::Relaxed), r[2].load(Ordering::Relaxed));
        // Read again: a record that changed meanwhile is a new job.
        (since != 0 && r[0].load(Ordering::Acquire) == since).then_some((
            since,
            id,
            (pn >> 32) as u32,
            pn as u32 as i32,
        ))
    }
}

impl Drop for Worker {
    /// A worker vigil lets go of has nothing left to do; one stuck in a
    /// target's fault must not outlive its listener either.
    fn drop(&mut self) {
        let _ = sys::kill(self.pid, linux_raw_sys::general::SIGKILL as i32);
        TAKEN.fetch_and(!(1 << self.slot), Ordering::Relaxed);
    }
}

/// A listener as a poll loop holds it: vigil's copy, and the worker that
/// serves it if its policy has path rules.
#[derive(Debug)]
pub struct Watch {
    pub l: Listener,
    pub worker: Option<Worker>,
}

/// What became of an event (or a deadline) on a watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Served, or nothing to do.
    Fine,
    /// The listener is done (no task uses it any more, or it broke, with
    /// the errno): drop it.
    Close(Option<Errno>),
    /// Its worker ran past its deadline or died: stop the service as
    /// misbehaving, and drop the listener (what is left of the service
    /// gets ENOSYS from its filter for what it would have notified).
    Misbehaved,
    /// Its worker could not be set up (it said why; the target still
    /// waits in its first `execve`): stop the service, drop the listener.
    Unready,
}

impl Watch {
    /// The fd to poll: the worker's channel (the worker serves the
    /// listener), else the listener.
    pub fn poll_fd(&self) -> i32 {
        match &self.worker {
            Some(w) => w.chan.as_raw_fd(),
            None => self.l.fd.as_raw_fd(),
        }
    }

    /// When to look at the worker next (at least once a second: vigil is
    /// not told when it starts on a notification).
    pub fn deadline(&self, now: u64) -> Option<u64> {
        let since = self.worker.as_ref()?.busy_since();
        let due = since.map_or(u64::MAX, |s| s.saturating_add(DEADLINE_NS));
        Some(due.min(now + LOOK_NS))
    }

    /// Handle what `poll` said about `poll_fd()`.
    pub fn event(&mut self, revents: i16, policy: &Policy, arch: &Arch, who: &str) -> Event {
        if revents == 0 {
            return Event::Fine;
        }
        if let Some(w) = self.worker.as_mut() {
            let mut m = [0u8; 16];
            let mut fds = [None, None, None, None];
            let n = match sock::recv(w.chan.as_fd(), &mut m, &mut fds) {
                Ok(n) => n,
                Err(Errno::AGAIN) => return Event::Fine,
                Err(_) => 0,
            };
            let code = u32::from_ne_bytes([m[2], m[3], m[4], m[5]]);
            return match (n, m[0]) {
                (6, READY) if !w.ready && m[1] == 1 => {
                    w.ready = true;
                    Event::Fine
                }
                (6, READY) if !w.ready => {
                    let mut l = log::about(log::Level::Error, who);
                    l.s("its worker cannot enter its namespace and root: ");
                    l.end_errno(Errno::from_raw_os_error(code as i32));
                    self.worker = None;
                    Event::Unready
                }
                (6, MEM) if w.ready => {
                    // The worker may not read the target: vigil, its
                    // parent, opens its memory for it.
                    let r = reach::open(reach::rel(code, "mem").as_bytes(), OFlags::RDONLY);
                    let sent = match &r {
                        Ok(f) => sock::send(w.chan.as_fd(), &[MEM, 1], &[f.as_fd()]),
                        Err(_) => sock::send(w.chan.as_fd(), &[MEM, 0], &[]),
                    };
                    if sent.is_err() {
                        return self.give_up(arch, who, "its worker died");
                    }
                    Event::Fine
                }
                // EOF: it exited. Its listener has no task left (it exits
                // then), or it died.
                (0, _) if w.ready && w.record().is_none() => {
                    self.worker = None;
                    if listener_unused(self.l.fd.as_fd()) {
                        Event::Close(None)
                    } else {
                        let mut l = log::about(log::Level::Error, who);
                        l.s("its worker died: stopped");
                        l.end();
                        Event::Misbehaved
                    }
                }
                _ => self.give_up(arch, who, "its worker died"),
            };
        }
        if revents & POLLIN != 0 {
            return match super::receive(&mut self.l, policy, arch, who) {
                Next::Done(Served::Failed(e)) => Event::Close(Some(e)),
                Next::Done(_) => Event::Fine,
                Next::Paths(n, _) => {
                    // No worker (a policy with path rules always has one
                    // until it dies): path rules fail closed.
                    let _ = seccomp::send(self.l.fd.as_fd(), n.id, 0, -Errno::IO.raw_os_error(), 0);
                    Event::Fine
                }
            };
        }
        if revents & (POLLHUP | POLLERR | POLLNVAL) != 0 {
            return Event::Close(None);
        }
        Event::Fine
    }

    /// Call once per loop turn: past its deadline, the worker is killed,
    /// its notification fails with EIO, and the caller stops the service.
    pub fn expire(&mut self, now: u64, arch: &Arch, who: &str) -> Event {
        match self.worker.as_ref().and_then(Worker::busy_since) {
            Some(s) if now >= s.saturating_add(DEADLINE_NS) => self.give_up(
                arch,
                who,
                "not served within 10 s: its worker is killed, the call fails with EIO",
            ),
            _ => Event::Fine,
        }
    }

    fn give_up(&mut self, arch: &Arch, who: &str, why: &str) -> Event {
        let Some(w) = self.worker.take() else {
            return Event::Misbehaved;
        };
        let job = if w.ready { w.record() } else { None };
        // Dropping it kills it; a task asleep in a remote fault is killable.
        drop(w);
        let mut l = log::about(log::Level::Error, who);
        if let Some((_, id, pid, nr)) = job {
            l.s("pid ").u(pid as u64).s(" ");
            l.s(arch.name(nr as u32).unwrap_or("?")).s(": ");
            // Still pending, it fails; answered meanwhile, ENOENT.
            let _ = seccomp::send(self.l.fd.as_fd(), id, 0, -Errno::IO.raw_os_error(), 0);
        }
        l.s(why).s("; the service is stopped as misbehaving");
        l.end();
        Event::Misbehaved
    }
}

/// Does no task use the filter of listener `fd` any more (POLLHUP)?
fn listener_unused(fd: BorrowedFd<'_>) -> bool {
    let mut p = [PollFd {
        fd: fd.as_raw_fd(),
        events: 0,
        revents: 0,
    }];
    matches!(poll::poll(&mut p, Some(0)), Ok(1) if p[0].revents & POLLHUP != 0)
}

/// SIGKILL `pid` and, if it leads a process group (a service is a session
/// of its own), that group. While `pid` lives, no other group can have
/// its number: `kill(-pid)` reaches its own group or nothing (ESRCH).
pub fn stop_misbehaving(pid: u32) {
    let kill = linux_raw_sys::general::SIGKILL as i32;
    if pid > 1 {
        let _ = sys::kill(-(pid as i32), kill);
        let _ = sys::kill(pid as i32, kill);
    }
}

// ---- the worker's side ------------------------------------------------

/// Exit, once the console took the lines still waiting in our memory (or
/// a second passed): the last decisions a worker logs come right before
/// its service exits, which is when it exits too, and a boot's console is
/// often busy then.
fn leave(code: i32) -> ! {
    log::flush_within(b"", log::EXIT_WAIT_NS);
    proc::exit(code)
}

/// The worker's life: set itself apart, take its listener, serve.
fn run(chan: OwnedFd, duty: Duty, slot: usize) -> ! {
    let parent = rustix::process::getppid();
    let _ = rustix::process::setsid();
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if rustix::process::getppid() != parent {
        // vigil died before the death signal was armed.
        proc::exit(1);
    }
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    reach::open_proc();
    let c = chan.as_fd();
    close_all_but(&[Some(c), reach::proc_fd(), Some(log::console()), log::kmsg()]);
    // The set-up: the listener, and the service's namespace and root.
    let mut m = [0u8; 16];
    let mut fds = [None, None, None, None];
    let n = sock::recv(c, &mut m, &mut fds).unwrap_or(0);
    let [l, ns, root, _] = fds;
    let (Some(l), 9, SETUP) = (l, n, m[0]) else {
        proc::exit(1)
    };
    let pid = u32::from_ne_bytes([m[1], m[2], m[3], m[4]]);
    probe::set_features(u32::from_ne_bytes([m[5], m[6], m[7], m[8]]));
    let r = enter(ns.as_ref().zip(root.as_ref()), pid, duty);
    drop((ns, root));
    let mut hello = [READY, 0, 0, 0, 0, 0];
    match r {
        Ok(_) => hello[1] = 1,
        Err(e) => hello[2..].copy_from_slice(&(e.raw_os_error() as u32).to_ne_bytes()),
    }
    if sock::send(c, &hello, &[]).is_err() || hello[1] == 0 {
        proc::exit(1);
    }
    let needs_mem = r.unwrap_or(false);
    if needs_mem {
        let mut l = log::about(log::Level::Info, duty.who);
        l.s("its worker may not read its memory: vigil opens it for each path call");
        l.end();
    }
    let mut listener = Listener {
        fd: l,
        handover_pid: pid,
    };
    let board = sys::shared::shared().unwrap_or(&[]);
    let rec = board.get(slot * RECORD..(slot + 1) * RECORD).unwrap_or(&[]);
    loop {
        let mut p = [
            PollFd {
                fd: listener.fd.as_raw_fd(),
                events: POLLIN,
                revents: 0,
            },
            PollFd {
                fd: c.as_raw_fd(),
                events: POLLIN,
                revents: 0,
            },
        ];
        // Our log lines share PID 1's non-blocking console: the ones it
        // could not take wait in our own page, retried every 10 ms.
        let logs = log::pending();
        let timeout = logs.then_some(10_000_000);
        let polled = poll::poll(&mut p, timeout);
        if logs {
            log::flush();
        }
        if polled.is_err() {
            continue;
        }
        if p[1].revents != 0 {
            // vigil lets go of us (or writes out of turn): done.
            leave(0);
        }
        if p[0].revents & POLLIN != 0 {
            match super::receive(&mut listener, duty.policy, duty.arch, duty.who) {
                Next::Done(Served::Failed(_)) => leave(1),
                Next::Done(_) => {}
                Next::Paths(n, rules) => {
                    if let [since, id, pn, _] = rec {
                        id.store(n.id, Ordering::Relaxed);
                        pn.store((n.pid as u64) << 32 | n.nr as u32 as u64, Ordering::Relaxed);
                        since.store(poll::now_ns().max(1), Ordering::Release);
                    }
                    let mem = if needs_mem { ask_mem(c, n.pid) } else { None };
                    reach::set_mem(mem);
                    let fd = listener.fd.as_fd();
                    let _ = super::serve_paths(fd, &n, duty.policy, duty.arch, duty.who, rules);
                    reach::set_mem(None);
                    if let Some(since) = rec.first() {
                        since.store(0, Ordering::Release);
                    }
                }
            }
        } else if p[0].revents & (POLLHUP | POLLERR | POLLNVAL) != 0 {
            // No task uses the filter any more.
            leave(0);
        }
    }
}

/// Have vigil open thread `tid`'s memory for us; `None` if it could not
/// (the read then fails like any unreadable memory).
fn ask_mem(chan: BorrowedFd<'_>, tid: u32) -> Option<OwnedFd> {
    let mut m = [MEM, 0, 0, 0, 0, 0];
    m[2..].copy_from_slice(&tid.to_ne_bytes());
    sock::send(chan, &m, &[]).ok()?;
    let mut r = [0u8; 4];
    let mut fds = [None, None, None, None];
    match sock::recv(chan, &mut r, &mut fds) {
        Ok(2) if r[0] == MEM && r[1] == 1 => fds[0].take(),
        Ok(2) if r[0] == MEM => None,
        // vigil is gone or confused: nothing to serve for.
        _ => leave(1),
    }
}

/// Close every fd but those in `keep`, in a worker or actor just forked:
/// the fds it inherited are vigil's, and it reaches none of them again
/// (`sys::proc::close_range` says why that matters).
pub(super) fn close_all_but(keep: &[Option<BorrowedFd<'_>>; 4]) {
    let mut k = [i32::MAX; 4];
    for (slot, fd) in k.iter_mut().zip(keep) {
        if let Some(fd) = fd {
            *slot = fd.as_raw_fd();
        }
    }
    k.sort_unstable();
    let mut from = 0u32;
    for fd in k {
        if fd == i32::MAX {
            break;
        }
        if (fd as u32) > from {
            let _ = proc::close_range(from, fd as u32 - 1);
        }
        from = fd as u32 + 1;
    }
    let _ = proc::close_range(from, u32::MAX);
}

/// Enter the service's mount namespace and root (where they are not
/// vigil's own; `None`: vigil's are the service's), start the Landlock
/// actor if the service has rules, and find out whether this process may
/// read `pid`'s memory: true if it may not (vigil then opens
/// `/proc/TID/mem` for it).
fn enter(world: Option<(&OwnedFd, &OwnedFd)>, pid: u32, duty: Duty) -> Result<bool, Errno> {
    if let Some((ns, root)) = world {
        let here = reach::id_of(b"self/ns/mnt")?;
        if reach::id_at(ns.as_fd(), c"")? != here {
            rustix::thread::move_into_link_name_space(
                ns.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Mount),
            )?;
        }
        // setns put us at the namespace's root; the service may have
        // another.
        if reach::id_at(root.as_fd(), c"")? != reach::id_at(rustix::fs::CWD, c"/")? {
            rustix::process::fchdir(root)?;
            rustix::process::chroot(c".")?;
        }
        rustix::process::chdir(c"/")?;
    }
    // Without /proc this fails; so will every emulated call, each saying
    // why (fail closed), as vigil's own view of the target is missing.
    let _ = super::emulate::remember_home();
    let (ro, rw) = duty.landlock;
    if !ro.is_empty() || !rw.is_empty() {
        actor::start(ro, rw)?;
    }
    // The permission check comes before the memory is touched: EFAULT
    // from address 0 means "allowed".
    let mut b = [0u8; 1];
    Ok(sys::read_remote(pid as i32, 0, &mut b) == Err(Errno::PERM))
}
