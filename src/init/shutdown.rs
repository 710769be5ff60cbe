//! The orderly shutdown: stop services in reverse start order, wait for the
//! grace period, SIGKILL what is left, then kill strays, sync, unmount and
//! reboot. Every step is logged with its time since the shutdown began.

use super::boot::Mounted;
use super::config::Service;
use super::services::{Runtime, State};
use crate::log;
use crate::out::Sink;
use crate::sys::{self, poll};
use linux_raw_sys::general as g;

/// What the machine does at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Reboot,
    Halt,
    PowerOff,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Reboot => "reboot",
            Action::Halt => "halt",
            Action::PowerOff => "power off",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Stop signals sent; waiting for the grace period.
    Term,
    /// SIGKILL sent; a short wait for the kernel to deliver it.
    Kill,
}

/// A shutdown in progress.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub action: Action,
    phase: Phase,
    pub start_ns: u64,
    pub deadline_ns: u64,
}

/// How long SIGKILLed processes get to disappear.
const KILL_WAIT_NS: u64 = 1_000_000_000;

impl Plan {
    /// Send every running service its stop signal, last started first.
    pub fn new(action: Action, grace_ms: u32, services: &[Service], rts: &[Runtime]) -> Plan {
        let now = poll::now_ns();
        let mut order: heapless::Vec<(u32, usize), 64> = heapless::Vec::new();
        for (i, rt) in rts.iter().enumerate().take(services.len()) {
            if let State::Running { pid, since_ns } = rt.state {
                if pid > 0 {
                    let _ = order.push(((since_ns / 1000) as u32, i));
                }
            }
        }
        // Last started first (an insertion sort: a handful of entries).
        for k in 1..order.len() {
            let mut j = k;
            while j > 0 && order[j - 1] < order[j] {
                order.swap(j - 1, j);
                j -= 1;
            }
        }
        for &(_, i) in &order {
            if let State::Running { pid, .. } = rts[i].state {
                let sig = services[i].stop_signal as i32;
                let _ = sys::kill(-pid, sig);
                let _ = sys::kill(pid, sig);
                log::info(|l| {
                    l.s("shutdown: stopping [")
                        .s(services[i].name)
                        .s("] (pid ")
                        .u(pid as u64)
                        .s(", signal ")
                        .u(sig as u64)
                        .s(")");
                });
            }
        }
        Plan {
            action,
            phase: Phase::Term,
            start_ns: now,
            deadline_ns: now + grace_ms as u64 * 1_000_000,
        }
    }

    /// Advance; `Some(action)` once every service is gone (or killed).
    pub fn step(
        &mut self,
        now: u64,
        running: usize,
        services: &[Service],
        rts: &[Runtime],
    ) -> Option<Action> {
        if running == 0 {
            log::info(|l| {
                l.s("shutdown: all services stopped after ")
                    .u(ms(now - self.start_ns))
                    .s(" ms");
            });
            return Some(self.action);
        }
        if now < self.deadline_ns {
            return None;
        }
        match self.phase {
            Phase::Term => {
                for (s, rt) in services.iter().zip(rts) {
                    if let State::Running { pid, .. } = rt.state {
                        let _ = sys::kill(-pid, g::SIGKILL as i32);
                        let _ = sys::kill(pid, g::SIGKILL as i32);
                        log::warn(|l| {
                            l.s("shutdown: [")
                                .s(s.name)
                                .s("] still running after the grace period: SIGKILL (")
                                .u(ms(now - self.start_ns))
                                .s(" ms)");
                        });
                    }
                }
                self.phase = Phase::Kill;
                self.deadline_ns = now + KILL_WAIT_NS;
                None
            }
            Phase::Kill => {
                log::warn(|l| {
                    l.u(running as u64)
                        .s(" services did not die after SIGKILL; going on");
                });
                Some(self.action)
            }
        }
    }
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

/// The last steps, after the services are gone: strays, sync, unmount,
/// `reboot(2)`. Never returns.
pub fn finish(action: Action, mounted: &Mounted, start_ns: u64) -> ! {
    let step = |what: &str| {
        let t = ms(poll::now_ns().saturating_sub(start_ns));
        log::info(|l| {
            l.s("shutdown: ").s(what).s(" (").u(t).s(" ms)");
        });
    };
    let _ = sys::kill(-1, g::SIGKILL as i32);
    while let Ok(Some(_)) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {}
    step("killed remaining processes");
    rustix::fs::sync();
    step("synced");
    let mut n = 0;
    for target in mounted.targets().rev() {
        match rustix::mount::unmount(target, rustix::mount::UnmountFlags::DETACH) {
            Ok(()) => n += 1,
            Err(e) => log::warn(|l| {
                l.s("shutdown: unmount ").s(target).s(": ");
                log::errno(l, e);
            }),
        }
    }
    let _ = n;
    step("unmounted what vigil mounted");
    rustix::fs::sync();
    step(action.name());
    let cmd = match action {
        Action::Reboot => rustix::system::RebootCommand::Restart,
        Action::Halt => rustix::system::RebootCommand::Halt,
        Action::PowerOff => rustix::system::RebootCommand::PowerOff,
    };
    let e = rustix::system::reboot(cmd);
    // Still here: not allowed to reboot (not really PID 1, or no
    // CAP_SYS_BOOT). An init must not exit: wait for the end.
    log::error(|l| {
        l.s("reboot: ");
        if let Err(e) = e {
            log::errno(l, e);
        }
    });
    loop {
        let _ = poll::poll(&mut [], None);
    }
}
