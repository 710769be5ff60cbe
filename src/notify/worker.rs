//! The monitor's worker: one process per listener of a policy with path
//! rules, forked by vigil before the service, that does the slow half of
//! a path notification (reading the target's memory, resolving, checking,
//! performing, ADDFD/SEND) so that vigil's poll loop never waits on a
//! target.
//!
//! A target can make whoever reads its memory sleep for as long as it
//! likes (a page registered with userfaultfd, memory backed by a FUSE or
//! other slow file), and an emulated open of a FUSE file waits for its
//! daemon. In vigil's own loop that would freeze every other service's
//! notifications, signals and shutdown. So vigil only receives the
//! notification and decides what registers decide; a path notification
//! goes to the worker, and while the worker has it, vigil receives
//! nothing more from that listener (its other notifications wait, as they
//! would have) and polls the worker's channel instead. Past `DEADLINE_NS`
//! vigil kills the worker (a task sleeping in a remote fault is killable),
//! answers the notification EIO if it is still pending, logs it, and stops
//! the service as misbehaving.
//!
//! The worker lives in the service's world as vigil set it up: at the
//! hand-over, while the service's first process still waits in its first
//! `execve`, vigil opens that process's mount namespace and root, and the
//! worker enters them (setns, chroot). Paths then resolve for the worker
//! exactly as for the service, and what "the service's mount namespace
//! and root" mean is fixed: a target that later makes itself another
//! (unshare, setns, chroot, a namespace passed in as an fd) is refused
//! (`emulate`). With `landlock-read`/`landlock-write` the worker forks an
//! actor (`actor`) under the same rules that performs the operations.
//!
//! A worker holds its listener copy, vigil's `/proc`, its channel and
//! vigil's log fds: nothing else. It is not dumpable (only CAP_SYS_PTRACE
//! can trace it or take its fds), in a session of its own, and dies with
//! vigil (PR_SET_PDEATHSIG). Its pid is known before the service's filter
//! is compiled, so that the filter can protect it like vigil's own.

use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::OFlags;

use super::{actor, probe, reach, Served};
use crate::arch::Arch;
use crate::log;
use crate::out::Sink;
use crate::policy::Policy;
use crate::sys::seccomp::{self, Notif};
use crate::sys::{self, proc, sock, Errno};

/// How long a worker may take over one notification (or its setup).
/// Nothing legitimate comes near it; a target holding a fault gets its
/// service stopped after it.
pub const DEADLINE_NS: u64 = 10_000_000_000;

/// Message kinds on the channel.
const SETUP: u8 = 1;
const JOB: u8 = 2;
const READY: u8 = 3;
const DONE: u8 = 4;

/// What a worker needs besides its listener: fixed at fork.
#[derive(Clone, Copy)]
pub struct Duty<'a> {
    pub policy: &'a Policy<'a>,
    pub arch: &'a Arch,
    pub who: &'a str,
    /// The service's `landlock-read` and `landlock-write` lists.
    pub landlock: (&'a [&'a str], &'a [&'a str]),
}

/// What vigil keeps of one worker.
#[derive(Debug)]
pub struct Worker {
    pub pid: i32,
    chan: OwnedFd,
    busy: Option<Busy>,
    /// The worker may not read the target's memory itself (Yama's
    /// ptrace_scope, a non-root vigil): vigil opens `/proc/TID/mem` for it.
    needs_mem: bool,
}

/// The notification (or the setup) a worker has, and its deadline.
#[derive(Clone, Copy, Debug)]
pub struct Busy {
    /// 0 for the setup.
    pub id: u64,
    pub pid: u32,
    pub nr: i32,
    pub deadline_ns: u64,
}

/// What a worker's channel said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The notification it had: its fate.
    Done(Served),
    /// Set up and serving.
    Ready,
    /// The setup failed (it could not enter the service's namespace or
    /// root, ...): the service cannot be served.
    Unready(Errno),
    /// It died (or said something that makes no sense): gone for good.
    Dead,
    /// Nothing yet.
    Nothing,
}

/// Does a service under `policy` need a worker (has it a paths rule)?
pub fn needed(policy: &Policy) -> bool {
    policy
        .replies
        .iter()
        .any(|r| matches!(r, crate::policy::Reply::Paths { .. }))
}

/// Fork a worker. It waits for `setup`.
// Size and memory: out of line; the child's frames are its own.
#[inline(never)]
pub fn fork(duty: Duty) -> Result<Worker, Errno> {
    let (ours, theirs) = sock::pair()?;
    let pid = proc::fork()?;
    if pid == 0 {
        drop(ours);
        run(theirs, duty)
    }
    Ok(Worker {
        pid,
        chan: ours,
        busy: None,
        needs_mem: false,
    })
}

impl Worker {
    /// The fd to poll while it is busy.
    pub fn chan(&self) -> i32 {
        self.chan.as_raw_fd()
    }

    pub fn busy(&self) -> Option<Busy> {
        self.busy
    }

    /// Give it the listener and, opened now while the target (`pid`)
    /// still waits in its first `execve`, its mount namespace and root.
    pub fn setup(&mut self, listener: i32, pid: u32, now: u64) -> Result<(), Errno> {
        let ns = reach::open(reach::rel(pid, "ns/mnt").as_bytes(), OFlags::RDONLY)?;
        let root = reach::open(
            reach::rel(pid, "root").as_bytes(),
            OFlags::PATH | OFlags::DIRECTORY,
        )?;
        let mut m = [0u8; 9];
        m[0] = SETUP;
        m[1..5].copy_from_slice(&pid.to_ne_bytes());
        m[5..9].copy_from_slice(&probe::features().to_ne_bytes());
        sock::send(
            self.chan(),
            &m,
            &[listener, ns.as_raw_fd(), root.as_raw_fd()],
        )?;
        self.busy = Some(Busy {
            id: 0,
            pid,
            nr: -1,
            deadline_ns: now + DEADLINE_NS,
        });
        Ok(())
    }

    /// Hand it notification `n`, which path rules `rules` decide.
    pub fn dispatch(&mut self, n: &Notif, rules: (u16, u16, u16), now: u64) -> Result<(), Errno> {
        let mem = if self.needs_mem {
            Some(reach::open(
                reach::rel(n.pid, "mem").as_bytes(),
                OFlags::RDONLY,
            )?)
        } else {
            None
        };
        let mut m = [0u8; 1 + NOTIF + 6];
        m[0] = JOB;
        put_notif(&mut m[1..1 + NOTIF], n);
        for (i, r) in [rules.0, rules.1, rules.2].iter().enumerate() {
            m[1 + NOTIF + 2 * i..3 + NOTIF + 2 * i].copy_from_slice(&r.to_ne_bytes());
        }
        let fds: &[i32] = match &mem {
            Some(f) => &[f.as_raw_fd()],
            None => &[],
        };
        sock::send(self.chan(), &m, fds)?;
        self.busy = Some(Busy {
            id: n.id,
            pid: n.pid,
            nr: n.nr,
            deadline_ns: now + DEADLINE_NS,
        });
        Ok(())
    }

    /// Read what it says, now that its channel polled readable or hung up.
    pub fn reply(&mut self) -> Reply {
        let mut m = [0u8; 16];
        let mut fds = [None, None, None, None];
        let n = match sock::recv(self.chan(), &mut m, &mut fds) {
            Ok(n) => n,
            Err(Errno::AGAIN) => return Reply::Nothing,
            Err(_) => 0,
        };
        let code = u32::from_ne_bytes([m[2], m[3], m[4], m[5]]);
        match (n, m[0]) {
            (6, READY) if self.busy.is_some_and(|b| b.id == 0) => {
                self.busy = None;
                if m[1] == 0 {
                    return Reply::Unready(Errno::from_raw_os_error(code as i32));
                }
                self.needs_mem = code != 0;
                Reply::Ready
            }
            (6, DONE) if self.busy.is_some_and(|b| b.id != 0) => {
                self.busy = None;
                Reply::Done(match m[1] {
                    0 => Served::Answered,
                    1 => Served::Gone,
                    2 => Served::Nothing,
                    _ => Served::Failed(Errno::from_raw_os_error(code as i32)),
                })
            }
            _ => Reply::Dead,
        }
    }
}

/// A listener as a poll loop holds it: vigil's copy, and its worker if
/// its policy has path rules.
#[derive(Debug)]
pub struct Watch {
    pub l: super::Listener,
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
    /// Its worker ran past its deadline, died, or could not enter the
    /// service's world: stop this process (its group, if it leads one of
    /// its own) as misbehaving.
    Misbehaved(u32),
}

impl Watch {
    /// The fd to poll: the worker's channel while it is busy (the listener
    /// waits meanwhile), else the listener.
    pub fn poll_fd(&self) -> i32 {
        match &self.worker {
            Some(w) if w.busy.is_some() => w.chan(),
            _ => self.l.fd,
        }
    }

    /// When the worker's time is up, if it is busy.
    pub fn deadline(&self) -> Option<u64> {
        self.worker.as_ref()?.busy.map(|b| b.deadline_ns)
    }

    /// Handle what `poll` said about `poll_fd()`.
    pub fn event(
        &mut self,
        revents: i16,
        policy: &Policy,
        arch: &Arch,
        who: &str,
        now: u64,
    ) -> Event {
        use crate::sys::poll::{POLLERR, POLLHUP, POLLIN, POLLNVAL};
        if revents == 0 {
            return Event::Fine;
        }
        if let Some(w) = self.worker.as_mut().filter(|w| w.busy.is_some()) {
            let busy = w.busy;
            return match w.reply() {
                Reply::Done(Served::Failed(e)) => Event::Close(Some(e)),
                Reply::Done(_) | Reply::Ready | Reply::Nothing => Event::Fine,
                Reply::Unready(e) => {
                    let mut l = log::about(log::Level::Error, who);
                    l.s("its monitor's worker cannot enter the service's mount namespace and root: ");
                    l.end_errno(e);
                    self.worker = None;
                    Event::Misbehaved(busy.map_or(0, |b| b.pid))
                }
                Reply::Dead => self.give_up(busy, arch, who, "its monitor's worker died"),
            };
        }
        if revents & POLLIN != 0 {
            return match super::receive(&mut self.l, policy, arch, who) {
                super::Next::Done(Served::Failed(e)) => Event::Close(Some(e)),
                super::Next::Done(_) => Event::Fine,
                super::Next::Paths(n, rules) => {
                    let sent = match self.worker.as_mut() {
                        Some(w) => w.dispatch(&n, rules, now),
                        None => Err(Errno::CHILD),
                    };
                    match sent {
                        Ok(()) => Event::Fine,
                        Err(e) => {
                            // No worker (it died or could not be started):
                            // path rules fail closed.
                            let mut l = log::about(log::Level::Error, who);
                            l.s("pid ").u(n.pid as u64).s(" ");
                            l.s(arch.name(n.nr as u32).unwrap_or("?"));
                            l.s(": no worker to serve it: ");
                            log::errno(&mut l, e);
                            l.s(": EIO");
                            l.end();
                            self.worker = None;
                            let _ = seccomp::send(self.l.fd, n.id, 0, -Errno::IO.raw_os_error(), 0);
                            Event::Fine
                        }
                    }
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
        let busy = match self.worker.as_ref().and_then(|w| w.busy) {
            Some(b) if now >= b.deadline_ns => b,
            _ => return Event::Fine,
        };
        self.give_up(
            Some(busy),
            arch,
            who,
            "not served within 10 s (the target holds its memory or files): its worker is killed",
        )
    }

    fn give_up(&mut self, busy: Option<Busy>, arch: &Arch, who: &str, why: &str) -> Event {
        // Dropping it kills it; a task asleep in a remote fault is killable.
        self.worker = None;
        let mut l = log::about(log::Level::Error, who);
        let pid = busy.map_or(0, |b| b.pid);
        match busy {
            Some(b) if b.id != 0 => {
                l.s("pid ").u(b.pid as u64).s(" ");
                l.s(arch.name(b.nr as u32).unwrap_or("?")).s(": ").s(why);
                // Still pending, it fails; answered meanwhile, ENOENT.
                let _ = seccomp::send(self.l.fd, b.id, 0, -Errno::IO.raw_os_error(), 0);
                l.s("; the call fails with EIO and the process is stopped as misbehaving");
            }
            _ => {
                l.s(why).s(" while it was set up; the service is stopped");
            }
        }
        l.end();
        Event::Misbehaved(pid)
    }
}

/// SIGKILL `pid` and, if it leads a process group that is not ours (a
/// service is a session of its own), that group.
pub fn stop_misbehaving(pid: u32) {
    use rustix::process::{getpgid, Pid};
    let kill = linux_raw_sys::general::SIGKILL as i32;
    let Some(p) = Pid::from_raw(pid as i32) else {
        return;
    };
    let group = getpgid(Some(p))
        .map(|g| g.as_raw_nonzero().get())
        .unwrap_or(0);
    let ours = getpgid(None).map(|g| g.as_raw_nonzero().get()).unwrap_or(0);
    if group > 1 && group != ours {
        let _ = sys::kill(-group, kill);
    }
    let _ = sys::kill(pid as i32, kill);
}

impl Drop for Worker {
    /// A worker vigil lets go of has nothing left to do; one stuck in a
    /// target's fault must not outlive its listener either.
    fn drop(&mut self) {
        let _ = sys::kill(self.pid, linux_raw_sys::general::SIGKILL as i32);
    }
}

/// `struct seccomp_notif` on the channel: id, pid, nr, arch, ip, args.
const NOTIF: usize = 8 + 4 + 4 + 4 + 8 + 48;

fn put_notif(m: &mut [u8], n: &Notif) {
    m[..8].copy_from_slice(&n.id.to_ne_bytes());
    m[8..12].copy_from_slice(&n.pid.to_ne_bytes());
    m[12..16].copy_from_slice(&n.nr.to_ne_bytes());
    m[16..20].copy_from_slice(&n.arch.to_ne_bytes());
    m[20..28].copy_from_slice(&n.ip.to_ne_bytes());
    for (i, a) in n.args.iter().enumerate() {
        m[28 + 8 * i..36 + 8 * i].copy_from_slice(&a.to_ne_bytes());
    }
}

fn get_notif(m: &[u8]) -> Notif {
    let u64_at = |i: usize| u64::from_ne_bytes(m[i..i + 8].try_into().unwrap_or([0; 8]));
    let u32_at = |i: usize| u32::from_ne_bytes(m[i..i + 4].try_into().unwrap_or([0; 4]));
    let mut n = Notif {
        id: u64_at(0),
        pid: u32_at(8),
        flags: 0,
        nr: u32_at(12) as i32,
        arch: u32_at(16),
        ip: u64_at(20),
        args: [0; 6],
    };
    for (i, a) in n.args.iter_mut().enumerate() {
        *a = u64_at(28 + 8 * i);
    }
    n
}

// ---- the worker's side ------------------------------------------------

/// The worker's life: set itself apart, take its listener, serve.
fn run(chan: OwnedFd, duty: Duty) -> ! {
    let parent = rustix::process::getppid();
    let _ = rustix::process::setsid();
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if rustix::process::getppid() != parent {
        // vigil died before the death signal was armed.
        proc::exit(1);
    }
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    reach::open_proc();
    let c = chan.as_raw_fd();
    let keep = [c, reach::proc_raw(), log::console_fd(), log::kmsg_fd()];
    close_all_but(&keep);
    let mut listener: Option<OwnedFd> = None;
    let mut buf = [0u8; 1 + NOTIF + 6];
    loop {
        let mut fds = [None, None, None, None];
        let n = match sock::recv(c, &mut buf, &mut fds) {
            Ok(0) | Err(_) => proc::exit(0),
            Ok(n) => n,
        };
        match (buf[0], n) {
            (SETUP, 9) if listener.is_none() => {
                let pid = u32::from_ne_bytes([buf[1], buf[2], buf[3], buf[4]]);
                let feats = u32::from_ne_bytes([buf[5], buf[6], buf[7], buf[8]]);
                probe::set_features(feats);
                let [l, ns, root, _] = fds;
                let r = match (l, ns, root) {
                    (Some(l), Some(ns), Some(root)) => {
                        let r = enter(&ns, &root, pid, duty);
                        listener = Some(l);
                        r
                    }
                    _ => Err(Errno::BADF),
                };
                let (ok, code) = match r {
                    Ok(needs_mem) => (1, needs_mem as u32),
                    Err(e) => (0, e.raw_os_error() as u32),
                };
                say(c, READY, ok, code);
                if ok == 0 {
                    proc::exit(1);
                }
            }
            (JOB, k) if k == buf.len() => {
                let Some(l) = listener.as_ref() else {
                    proc::exit(1)
                };
                let n = get_notif(&buf[1..1 + NOTIF]);
                let r =
                    |i: usize| u16::from_ne_bytes([buf[1 + NOTIF + 2 * i], buf[2 + NOTIF + 2 * i]]);
                let rules = (r(0), r(1), r(2));
                reach::set_mem(fds[0].as_ref());
                let served =
                    super::serve_paths(l.as_raw_fd(), &n, duty.policy, duty.arch, duty.who, rules);
                reach::set_mem(None);
                let (kind, code) = match served {
                    Served::Answered => (0, 0),
                    Served::Gone => (1, 0),
                    Served::Nothing => (2, 0),
                    Served::Failed(e) => (3, e.raw_os_error() as u32),
                };
                say(c, DONE, kind, code);
            }
            _ => proc::exit(1),
        }
    }
}

fn say(chan: i32, kind: u8, a: u8, code: u32) {
    let mut m = [0u8; 6];
    m[0] = kind;
    m[1] = a;
    m[2..6].copy_from_slice(&code.to_ne_bytes());
    if sock::send(chan, &m, &[]).is_err() {
        proc::exit(1);
    }
}

/// Close every fd but those in `keep` (negative entries are ignored).
pub(super) fn close_all_but(keep: &[i32]) {
    let mut k = [i32::MAX; 4];
    for (slot, &fd) in k.iter_mut().zip(keep) {
        if fd >= 0 {
            *slot = fd;
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
/// vigil's own), start the Landlock actor if the service has rules, and
/// find out whether this process may read `pid`'s memory: true if it may
/// not (vigil then opens `/proc/TID/mem` for it).
fn enter(ns: &OwnedFd, root: &OwnedFd, pid: u32, duty: Duty) -> Result<bool, Errno> {
    let here = reach::id_of(b"self/ns/mnt")?;
    if reach::id_at(ns.as_fd(), c"")? != here {
        rustix::thread::move_into_link_name_space(
            ns.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Mount),
        )?;
    }
    // setns put us at the namespace's root; the service may have another.
    if reach::id_at(root.as_fd(), c"")? != reach::id_at(sys::borrow(root.as_raw_fd()), c"/")? {
        rustix::process::fchdir(root)?;
        rustix::process::chroot(c".")?;
    }
    rustix::process::chdir(c"/")?;
    super::emulate::remember_home()?;
    let (ro, rw) = duty.landlock;
    if !ro.is_empty() || !rw.is_empty() {
        actor::start(ro, rw)?;
    }
    // The permission check comes before the memory is touched: EFAULT
    // from address 0 means "allowed".
    let mut b = [0u8; 1];
    Ok(sys::read_remote(pid as i32, 0, &mut b) == Err(Errno::PERM))
}
