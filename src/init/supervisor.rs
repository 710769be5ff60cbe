//! PID 1's single poll loop: signals, every listener, every exec-status
//! pipe, and the restart and shutdown timers as the poll timeout.

use rustix::fd::{AsFd, AsRawFd, OwnedFd};

use super::services::{self, AfterExit, Runtime, State};
use super::shutdown::{self, Action};
use crate::arch::Arch;
use crate::config::{Config, Kind};
use crate::log;
use crate::notify::worker::{self, Event, Watch};
use crate::notify::Listener;
use crate::out::Sink;
use crate::policy::protect::Protect;
use crate::policy::Policy;
use crate::service::launch;
use crate::service::spawn::{self, Handover};
use crate::sys::poll::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL};
use crate::sys::signal;
use crate::sys::{self, Args, Errno};
use linux_raw_sys::general as g;

/// Services plus the test program.
pub const MAX_SLOTS: usize = crate::config::MAX_SERVICES + 1;
/// Listeners alive at once: a restarted service may leave children
/// behind under its old listener.
pub const MAX_LISTENERS: usize = 64;
/// Parsed policies kept for the notifications they answer.
pub const MAX_LOADED: usize = 24;

/// One listener, its worker, and whose they are.
pub struct ListenerSlot {
    /// The listener (`w.l` holds it) and its worker.
    pub w: Watch,
    pub svc: u8,
    /// The service's main pid when the listener was made.
    pub owner: i32,
}

/// Everything PID 1 supervises.
pub struct Supervisor<'c, 'p> {
    /// The config; its services end with the test program, if any.
    pub cfg: &'c Config<'c>,
    pub rts: [Runtime; MAX_SLOTS],
    /// Which loaded policy each service runs under (`None`: no filter).
    pub policy_of: [Option<u8>; MAX_SLOTS],
    pub policies: &'p [Policy<'c>],
    pub arch: &'static Arch,
    pub listeners: heapless::Vec<ListenerSlot, MAX_LISTENERS>,
    /// Exec-status pipes of services that have not exec'd yet: the pipe,
    /// the service, the child's pid.
    pub status: heapless::Vec<(OwnedFd, u8, i32), MAX_SLOTS>,
    /// Listener hand-overs in progress: the child's pid and its service.
    /// Part of the poll loop, so that a child slow to reach its `execve`
    /// (throttled by its cgroup, blocked on a file) holds up nothing else.
    pub handovers: heapless::Vec<(Handover, i32, u8, Option<worker::Worker>), MAX_SLOTS>,
    /// Index of the test program in `cfg.services`.
    pub test: Option<usize>,
    pub shutdown: Option<shutdown::Plan>,
    pub sigfd: Option<OwnedFd>,
    /// Extra seccomp flags (WAIT_KILLABLE_RECV when the kernel has it).
    pub filter_flags: u32,
    /// vigil's own arguments and environment (for `env-pass`).
    pub env: Option<&'c Args>,
    /// A notification was served since the stack was last given back.
    pub deep: bool,
    /// What every filter protects: PID 1 (and its helpers).
    pub protect: Protect,
    /// vigil's own resource limits, watched.
    pub limits: Option<crate::limits::Watch>,
    /// The test program's exit status, once it has exited.
    pub test_status: Option<i32>,
}

/// After this long with nothing to do, the stack pages that serving
/// notifications touched (path buffers, deep frames) are given back.
const IDLE_RELEASE_NS: u64 = 250_000_000;
/// How soon log lines the console could not take are tried again.
const LOG_RETRY_NS: u64 = 10_000_000;

impl<'c, 'p> Supervisor<'c, 'p> {
    /// Run until shutdown; returns the action to take (reboot, halt, ...).
    pub fn run(&mut self) -> Action {
        loop {
            let now = poll::now_ns();
            if let Some(w) = self.limits.as_mut() {
                w.check(now);
            }
            if self.shutdown.is_none() {
                self.start_due(now);
            }
            if let Some(plan) = self.shutdown.as_mut() {
                let running = self
                    .rts
                    .iter()
                    .filter(|r| matches!(r.state, State::Running { .. }))
                    .count();
                if let Some(action) = plan.step(now, running, &self.cfg.services, &self.rts) {
                    return action;
                }
            }
            self.poll_once(now);
        }
    }

    /// Begin an orderly shutdown (once).
    pub fn begin_shutdown(&mut self, action: Action, why: &str) {
        if self.shutdown.is_some() {
            return;
        }
        let mut l = log::start(log::Level::Info);
        l.s("shutdown (").s(why).s("): ").s(action.name());
        l.end();
        for rt in self.rts.iter_mut().take(self.cfg.services.len()) {
            if matches!(rt.state, State::Pending | State::Backoff { .. }) {
                rt.state = State::Done;
            }
        }
        self.shutdown = Some(shutdown::Plan::new(
            action,
            self.cfg.grace_ms,
            &self.cfg.services,
            &self.rts,
        ));
    }

    /// Start every service whose turn has come.
    fn start_due(&mut self, now: u64) {
        let mut started = false;
        for i in 0..self.cfg.services.len() {
            let due = match self.rts[i].state {
                State::Pending => services::gate_open(&self.cfg.services, &self.rts, i),
                State::Backoff { at_ns } => now >= at_ns,
                _ => false,
            };
            if due {
                self.start(i, now);
                started = true;
            }
        }
        if started {
            // Starting a service runs deep frames (the filter compiler, the
            // exec buffer); the loop never needs those pages again.
            crate::sys::pages::release_stack_below(1024 * 1024);
        }
    }

    // Size: out of line, the supervisor is 0.3 KB smaller (measured).
    #[inline(never)]
    fn start(&mut self, i: usize, now: u64) {
        let svc = &self.cfg.services[i];
        let cx = launch::Context {
            policy: self.policy_of[i].and_then(|p| self.policies.get(p as usize)),
            arch: self.arch,
            protect: &self.protect,
            filter_flags: self.filter_flags,
            env: self.env,
            limits: self.limits.as_ref().map(|w| w.inherited()),
            listener_room: self.listeners.len() + self.handovers.len() < MAX_LISTENERS,
        };
        let started = match launch::start(svc, &cx) {
            Ok(s) => s,
            Err((what, e)) => {
                self.fail_start(i, what, e);
                return;
            }
        };
        let pid = started.pid;
        let rt = &mut self.rts[i];
        rt.state = State::Running { pid, since_ns: now };
        rt.starts += 1;
        let mut l = log::about(log::Level::Info, svc.name);
        l.s("started, pid ").u(pid as u64);
        if rt.starts > 1 {
            l.s(" (start ").u(rt.starts as u64).s(")");
        }
        l.end();
        // Room was checked above: one status pipe per running service.
        let _ = self.status.push((started.status, i as u8, pid));
        if started.filtered {
            match Handover::new(pid, now, spawn::HANDOVER_ASYNC_NS) {
                Ok(h) => {
                    let _ = self.handovers.push((h, pid, i as u8, started.worker));
                }
                // Never unmonitored: it dies before its exec (and is
                // reaped as an exit).
                Err(e) => self.handover_failed(i, pid, e),
            }
        }
    }

    /// A child whose listener vigil could not take: killed, so that it
    /// never runs unmonitored; its exit is handled when it is reaped.
    fn handover_failed(&self, i: usize, pid: i32, e: Errno) {
        let _ = sys::kill(pid, g::SIGKILL as i32);
        let mut l = log::about(log::Level::Error, self.cfg.services[i].name);
        l.s("cannot start: the listener hand-over failed: ");
        l.end_errno(e);
    }

    /// Hand-overs whose time has come: take the listener if it is there.
    fn handovers_due(&mut self, now: u64) {
        let mut k = 0;
        while k < self.handovers.len() {
            let (h, pid, svc, _) = &mut self.handovers[k];
            let (pid, i) = (*pid, *svc as usize);
            if h.next_ns() > now {
                k += 1;
                continue;
            }
            match h.try_take(now) {
                Ok(None) => {
                    k += 1;
                    continue;
                }
                Ok(Some(fd)) => {
                    crate::notify::probe::listener(fd.as_fd(), log::Level::Info);
                    let mut w = Watch {
                        l: Listener {
                            fd,
                            handover_pid: pid as u32,
                        },
                        worker: self.handovers[k].3.take(),
                    };
                    if let Some(wk) = w.worker.as_mut() {
                        // The child still waits in its first execve: its
                        // namespace and root are the ones vigil set up.
                        let own = launch::own_mounts(&self.cfg.services[i]);
                        if let Err(e) = wk.setup(w.l.fd.as_fd(), pid as u32, now, own) {
                            let mut l = log::about(log::Level::Error, self.cfg.services[i].name);
                            l.s("cannot hand the listener to the worker: ");
                            l.end_errno(e);
                            w.worker = None;
                            worker::stop_misbehaving(pid as u32);
                        }
                    }
                    // Room was reserved when the child was forked.
                    let _ = self.listeners.push(ListenerSlot {
                        w,
                        svc: i as u8,
                        owner: pid,
                    });
                }
                Err(e) => self.handover_failed(i, pid, e),
            }
            self.handovers.swap_remove(k);
        }
    }

    /// Forget the hand-over of `pid`, if one is in progress.
    fn drop_handover(&mut self, pid: i32) {
        if let Some(k) = self.handovers.iter().position(|h| h.1 == pid) {
            self.handovers.swap_remove(k);
        }
    }

    /// A start that did not happen counts as an exit with status 127.
    fn fail_start(&mut self, i: usize, why: &str, e: Option<Errno>) {
        let name = self.cfg.services[i].name;
        let mut l = log::about(log::Level::Error, name);
        l.s("cannot start: ").s(why);
        if let Some(e) = e {
            l.s(": ");
            log::errno(&mut l, e);
        }
        l.end();
        let now = poll::now_ns();
        self.rts[i].state = State::Running {
            pid: 0,
            since_ns: now,
        };
        self.exited(i, 127, now);
    }

    /// One poll: wait for the next event or deadline and handle it.
    fn poll_once(&mut self, now: u64) {
        let mut fds = [PollFd::default(); 1 + MAX_LISTENERS + MAX_SLOTS];
        fds[0] = PollFd {
            fd: self.sigfd.as_ref().map_or(-1, |f| f.as_raw_fd()),
            events: POLLIN,
            revents: 0,
        };
        let mut n = 1;
        for s in &self.listeners {
            fds[n] = PollFd {
                fd: s.w.poll_fd(),
                events: POLLIN,
                revents: 0,
            };
            n += 1;
        }
        let first_status = n;
        for (fd, _, _) in &self.status {
            fds[n] = PollFd {
                fd: fd.as_raw_fd(),
                events: POLLIN,
                revents: 0,
            };
            n += 1;
        }
        let mut timeout = self.next_deadline().map(|d| d.saturating_sub(now));
        if self.deep {
            timeout = Some(timeout.map_or(IDLE_RELEASE_NS, |t| t.min(IDLE_RELEASE_NS)));
        }
        let logs = log::pending();
        if logs {
            timeout = Some(timeout.map_or(LOG_RETRY_NS, |t| t.min(LOG_RETRY_NS)));
        }
        let polled = poll::poll(&mut fds[..n], timeout);
        if logs {
            log::flush();
        }
        match polled {
            Ok(0) if self.deep => {
                self.deep = false;
                crate::sys::pages::release_stack_below(1024 * 1024);
                return;
            }
            Ok(_) => {}
            Err(e) => {
                let mut l = log::start(log::Level::Error);
                l.s("poll: ");
                l.end_errno(e);
                return;
            }
        }
        // Listeners: one notification each per turn, so that no service
        // can starve another by flooding. A path notification goes to the
        // listener's worker; vigil never waits for it.
        let now = poll::now_ns();
        let mut closed = heapless::Vec::<usize, MAX_LISTENERS>::new();
        for (k, slot) in self.listeners.iter_mut().enumerate() {
            let ev = fds[1 + k].revents;
            let svc = &self.cfg.services[slot.svc as usize];
            let policy =
                self.policy_of[slot.svc as usize].and_then(|p| self.policies.get(p as usize));
            let mut e = slot.w.expire(now, self.arch, svc.name);
            if e == Event::Fine && ev != 0 {
                self.deep |= ev & POLLIN != 0;
                e = match policy {
                    Some(p) => slot.w.event(ev, p, self.arch, svc.name),
                    None if ev & (POLLHUP | POLLERR | POLLNVAL) != 0 => Event::Close(None),
                    None => Event::Fine,
                };
            }
            match e {
                Event::Fine => {}
                Event::Close(err) => {
                    if let Some(err) = err {
                        let mut l = log::about(log::Level::Error, svc.name);
                        l.s("listener: ");
                        l.end_errno(err);
                    }
                    let _ = closed.push(k);
                }
                Event::Misbehaved | Event::Unready => {
                    // Only while the pid is surely still the service's
                    // (its main process has not been reaped): a stale pid
                    // could be anyone's by now.
                    if let State::Running { pid, .. } = self.rts[slot.svc as usize].state {
                        if pid == slot.owner && pid > 0 {
                            worker::stop_misbehaving(pid as u32);
                        }
                    }
                    let _ = closed.push(k);
                }
            }
        }
        for &k in closed.iter().rev() {
            self.listeners.swap_remove(k);
        }
        let mut done = heapless::Vec::<usize, MAX_SLOTS>::new();
        let now = poll::now_ns();
        for k in 0..self.status.len() {
            if fds[first_status + k].revents == 0 {
                continue;
            }
            let (fd, svc, pid) = &self.status[k];
            let (i, pid) = (*svc as usize, *pid);
            match spawn::read_msg(fd.as_fd()) {
                Some((spawn::MSG_LISTENER, n)) => {
                    if let Some(h) = self.handovers.iter_mut().find(|h| h.1 == pid) {
                        h.0.told(n, now);
                    }
                }
                Some((spawn::MSG_SETUP, v)) => {
                    // The child exits 126 after this; its exit is handled
                    // when it is reaped.
                    self.drop_handover(pid);
                    launch::setup_failed(&self.cfg.services[i], v);
                }
                Some((spawn::MSG_EXEC, e)) => {
                    let svc = &self.cfg.services[i];
                    let mut l = log::about(log::Level::Error, svc.name);
                    l.s("cannot execute ").s(svc.exec.path).s(": ");
                    l.end_errno(Errno::from_raw_os_error(e as i32));
                }
                Some(_) => {}
                None => {
                    let _ = done.push(k);
                }
            }
        }
        for &k in done.iter().rev() {
            self.status.swap_remove(k);
        }
        self.handovers_due(now);
        if fds[0].revents & POLLIN != 0 {
            self.signals();
        }
    }

    /// The nearest restart or shutdown deadline.
    fn next_deadline(&self) -> Option<u64> {
        // Size: a loop, not an iterator chain (measured).
        let mut next = self.shutdown.as_ref().map(|p| p.deadline_ns);
        for h in &self.handovers {
            let at = h.0.next_ns();
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        let now = poll::now_ns();
        for s in &self.listeners {
            if let Some(at) = s.w.deadline(now) {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        for r in &self.rts {
            if let State::Backoff { at_ns } = r.state {
                next = Some(next.map_or(at_ns, |n| n.min(at_ns)));
            }
        }
        next
    }

    fn signals(&mut self) {
        while let Some(Ok(Some(si))) = self.sigfd.as_ref().map(|f| signal::read_signal(f.as_fd())) {
            let s = si.signo as u32;
            // busybox init's convention.
            let action = match s {
                g::SIGTERM => Some((Action::Reboot, "SIGTERM")),
                g::SIGINT => Some((Action::Reboot, "SIGINT")),
                g::SIGUSR1 => Some((Action::Halt, "SIGUSR1")),
                g::SIGUSR2 => Some((Action::PowerOff, "SIGUSR2")),
                g::SIGPWR => Some((Action::PowerOff, "SIGPWR")),
                _ => None,
            };
            if let Some((a, why)) = action {
                self.begin_shutdown(a, why);
            }
        }
        self.reap();
    }

    /// Reap every child that has exited: services and orphans alike.
    pub fn reap(&mut self) {
        while let Ok(Some((pid, st))) = rustix::process::wait(rustix::process::WaitOptions::NOHANG)
        {
            if st.stopped() || st.continued() {
                // A child that made vigil its tracer (PTRACE_TRACEME)
                // reports its stops: it has not exited.
                continue;
            }
            let pid = pid.as_raw_nonzero().get();
            self.drop_handover(pid);
            let code = match (st.exit_status(), st.terminating_signal()) {
                (Some(c), _) => c,
                (None, Some(s)) => 128 + s,
                _ => 1,
            };
            let now = poll::now_ns();
            match self
                .rts
                .iter()
                .position(|r| matches!(r.state, State::Running { pid: p, .. } if p == pid))
            {
                Some(i) => self.exited(i, code, now),
                None => {
                    let mut l = log::start(log::Level::Debug);
                    l.s("reaped orphan ")
                        .u(pid as u64)
                        .s(" (status ")
                        .i(code as i64)
                        .s(")");
                    l.end();
                }
            }
        }
    }

    fn exited(&mut self, i: usize, code: i32, now: u64) {
        let svc = &self.cfg.services[i];
        let rt = &mut self.rts[i];
        let pid = match rt.state {
            State::Running { pid, .. } => pid,
            _ => 0,
        };
        if Some(i) == self.test {
            let mut line = crate::out::Buf::<48>::new();
            line.s("test ");
            if code > 128 {
                line.s("signal=").u((code - 128) as u64);
            } else {
                line.s("exit=").u(code as u64);
            }
            line.s("\n");
            // The host believes the channel only; with one, the console
            // line is a log line like the others (`vigil.log=quiet` hides
            // it), without one it is the result and always printed.
            // Either way after the lines before it, and whole; the console
            // is waited for a little, never for good (a service may hold
            // it).
            super::channel::say(&line.as_bytes()[..line.as_bytes().len() - 1]);
            if super::channel::is_open() {
                if log::enabled(log::Level::Info) {
                    let mut l = crate::out::Buf::<64>::new();
                    l.s("vigil: ").put(line.as_bytes());
                    log::flush_last(l.as_bytes());
                }
            } else {
                let mut l = crate::out::Buf::<64>::new();
                l.s("vigil: ").put(line.as_bytes());
                log::flush_last(l.as_bytes());
            }
            rt.state = State::Done;
            self.test_status = Some(code);
            self.begin_shutdown(Action::PowerOff, "the test program exited");
            return;
        }
        if self.shutdown.is_some() {
            rt.state = State::Done;
            let mut l = log::about(log::Level::Info, svc.name);
            l.s("stopped (status ").i(code as i64).s(")");
            l.end();
            return;
        }
        let after = services::after_exit(svc, rt, code, now);
        let mut l = log::about(
            if code == 0 {
                log::Level::Info
            } else {
                log::Level::Warn
            },
            svc.name,
        );
        if code > 128 {
            l.s("killed by signal ").u((code - 128) as u64);
        } else {
            l.s("exited with status ").u(code as u64);
        }
        match after {
            AfterExit::Done => {}
            AfterExit::Restart { delay_ms, n } => {
                l.s("; restart ")
                    .u(n as u64)
                    .s(" in ")
                    .u(delay_ms as u64)
                    .s(" ms");
            }
            AfterExit::GaveUp { n } => {
                l.s("; failed: restarted ")
                    .u(n as u64)
                    .s(" times within ")
                    .u(svc.restart_window_ms as u64)
                    .s(" ms, giving up");
            }
            AfterExit::Failed => {
                l.s("; failed");
            }
        }
        l.end();
        if after != AfterExit::Done && pid > 0 {
            launch::kill_leftovers(svc, pid);
        }
        if svc.kind == Kind::Oneshot
            && svc.required
            && matches!(after, AfterExit::Failed | AfterExit::GaveUp { .. })
        {
            let mut l = log::about(log::Level::Error, svc.name);
            l.s("required oneshot failed: stopping the boot");
            l.end();
            super::channel::say(b"error a required oneshot failed");
            self.begin_shutdown(Action::PowerOff, "a required oneshot failed");
        }
    }
}
