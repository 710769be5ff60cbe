//! The orderly shutdown: stop services in reverse start order, wait for the
//! grace period, SIGKILL what is left, then kill strays, sync, unmount and
//! reboot. Every step is logged with its time since the shutdown began.

use super::boot::Mounted;
use super::services::{Runtime, State};
use crate::config::Service;
use crate::log;
use crate::out::Sink;
use crate::service::mount;
use crate::sys::{self, poll};
use core::sync::atomic::{AtomicBool, Ordering};
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
        // Last started first: pick the latest not yet signalled, again and
        // again (a handful of services). Size: smaller than sorting a list
        // of them (measured).
        let mut sent = 0u64;
        loop {
            let mut last: Option<((u32, usize), i32)> = None;
            for (i, rt) in rts.iter().enumerate().take(services.len().min(64)) {
                if let State::Running { pid, since_ns } = rt.state {
                    let key = ((since_ns / 1000) as u32, i);
                    if pid > 0 && sent & 1 << i == 0 && last.is_none_or(|l| key > l.0) {
                        last = Some((key, pid));
                    }
                }
            }
            let Some(((_, i), pid)) = last else {
                break;
            };
            sent |= 1 << i;
            let sig = services[i].stop_signal as i32;
            kill_service(pid, sig);
            let mut l = log::start(log::Level::Info);
            l.s("shutdown: stopping [")
                .s(services[i].name)
                .s("] (pid ")
                .u(pid as u64)
                .s(", signal ")
                .u(sig as u64)
                .s(")");
            l.end();
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
            let mut l = log::start(log::Level::Info);
            l.s("shutdown: all services stopped after ")
                .u(ms(now - self.start_ns))
                .s(" ms");
            l.end();
            return Some(self.action);
        }
        if now < self.deadline_ns {
            return None;
        }
        match self.phase {
            Phase::Term => {
                for (s, rt) in services.iter().zip(rts) {
                    if let State::Running { pid, .. } = rt.state {
                        kill_service(pid, g::SIGKILL as i32);
                        let mut l = log::start(log::Level::Warn);
                        l.s("shutdown: [")
                            .s(s.name)
                            .s("] still running after the grace period: SIGKILL (")
                            .u(ms(now - self.start_ns))
                            .s(" ms)");
                        l.end();
                    }
                }
                self.phase = Phase::Kill;
                self.deadline_ns = now + KILL_WAIT_NS;
                None
            }
            Phase::Kill => {
                let mut l = log::start(log::Level::Warn);
                l.u(running as u64)
                    .s(" services did not die after SIGKILL; going on");
                l.end();
                Some(self.action)
            }
        }
    }
}

/// Signal a service's process group (services start their own session),
/// then the service itself, in case it left the group.
// Size: one copy for the stop signal and the SIGKILL (measured).
#[inline(never)]
fn kill_service(pid: i32, sig: i32) {
    let _ = sys::kill(-pid, sig);
    let _ = sys::kill(pid, sig);
}

/// Unmount every filesystem on a block device (services mount those), last
/// mounted first; what is busy is remounted read-only, so that it is left
/// clean either way.
fn release_disks() {
    let mut table = [0u8; 16 * 1024];
    let n = sys::read_file(b"/proc/self/mounts", &mut table).unwrap_or(0);
    for line in table[..n].split(|&b| b == b'\n').rev() {
        let mut f = line.split(|&b| b == b' ');
        let (Some(src), Some(target)) = (f.next(), f.next()) else {
            continue;
        };
        if !src.starts_with(b"/dev/") || target == b"/" {
            continue;
        }
        let mut path = crate::out::Buf::<512>::new();
        unescape(target, &mut path);
        let p = path.as_bytes();
        if mount::unmount(p, rustix::mount::UnmountFlags::empty()).is_ok() {
            let mut l = log::start(log::Level::Info);
            l.s("shutdown: unmounted ").esc(p);
            l.end();
            continue;
        }
        match mount::mount(b"", p, b"", g::MS_REMOUNT | g::MS_RDONLY, Some(c"")) {
            Ok(()) => {
                let mut l = log::start(log::Level::Info);
                l.s("shutdown: remounted ").esc(p).s(" read-only");
                l.end();
            }
            Err(e) => {
                let mut l = log::start(log::Level::Warn);
                l.s("shutdown: cannot unmount or remount ").esc(p).s(": ");
                l.end_errno(e);
            }
        }
    }
}

/// `/proc/self/mounts` writes space, tab, newline and backslash as `\ooo`.
pub fn unescape(field: &[u8], out: &mut impl Sink) {
    let mut i = 0;
    while i < field.len() {
        let oct = field
            .get(i + 1..i + 4)
            .filter(|d| field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                out.put(&[(d[0] - b'0') << 6 | (d[1] - b'0') << 3 | (d[2] - b'0')]);
                i += 4;
            }
            None => {
                out.put(&field[i..i + 1]);
                i += 1;
            }
        }
    }
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

/// vigil is PID 1 of a container (`boot::in_container`).
static CONTAINER: AtomicBool = AtomicBool::new(false);

pub fn set_container(yes: bool) {
    CONTAINER.store(yes, Ordering::Relaxed);
}

/// The last steps, after the services are gone: strays, sync, unmount,
/// `reboot(2)`. Never returns.
///
/// In a container, the machine's mounts are not touched (only what vigil
/// mounted itself is unmounted): a remount without MS_BIND changes the
/// whole filesystem, the machine's root included. `reboot(2)` there ends
/// the pid namespace: the kernel kills vigil with SIGHUP (reboot) or SIGINT
/// (halt, power off), which is how the container's parent learns which
/// (LXC restarts on SIGHUP). With `exit` (the test program's status, or 1
/// for a config that cannot boot), or where `reboot(2)` is refused (no
/// CAP_SYS_BOOT), vigil exits instead: with `exit`, else 0 for halt and
/// power off and 129 (128 + SIGHUP) for reboot.
pub fn finish(action: Action, mounted: &Mounted, start_ns: u64, exit: Option<i32>) -> ! {
    let container = CONTAINER.load(Ordering::Relaxed);
    let step = |what: &str| {
        let t = ms(poll::now_ns().saturating_sub(start_ns));
        let mut l = log::start(log::Level::Info);
        l.s("shutdown: ").s(what).s(" (").u(t).s(" ms)");
        l.end();
    };
    let _ = sys::kill(-1, g::SIGKILL as i32);
    while let Ok(Some(_)) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {}
    step("killed remaining processes");
    rustix::fs::sync();
    step("synced");
    if container {
        step("in a container: the machine's mounts are left alone");
    } else {
        release_disks();
        step("unmounted or remounted read-only the disks services mounted");
    }
    let mut n = 0;
    for target in (0..mounted.0.len()).rev().filter_map(|i| mounted.target(i)) {
        match mount::unmount(target.as_bytes(), rustix::mount::UnmountFlags::DETACH) {
            Ok(()) => n += 1,
            Err(e) => {
                let mut l = log::start(log::Level::Warn);
                l.s("shutdown: unmount ").s(target).s(": ");
                l.end_errno(e);
            }
        }
    }
    let _ = n;
    step("unmounted what vigil mounted");
    rustix::fs::sync();
    step(action.name());
    // What still waits for the console; a little, not for good (a service
    // may have stopped its output and left it so).
    log::flush_last(b"");
    super::channel::say(match action {
        Action::Reboot => b"down reboot",
        Action::Halt => b"down halt",
        Action::PowerOff => b"down poweroff",
    });
    if let (true, Some(code)) = (container, exit) {
        sys::proc::exit(code);
    }
    let cmd = match action {
        Action::Reboot => rustix::system::RebootCommand::Restart,
        Action::Halt => rustix::system::RebootCommand::Halt,
        Action::PowerOff => rustix::system::RebootCommand::PowerOff,
    };
    let e = rustix::system::reboot(cmd);
    // Still here: not allowed to reboot (not really PID 1, or no
    // CAP_SYS_BOOT). The machine's init must not exit: wait for the end.
    // A container's may: its namespace ends with it.
    let mut l = log::start(log::Level::Error);
    l.s("reboot: ");
    if let Err(e) = e {
        log::errno(&mut l, e);
    }
    if container {
        let code = if action == Action::Reboot { 129 } else { 0 };
        l.s(": exiting with status ").u(code as u64);
        l.end();
        sys::proc::exit(code);
    }
    l.end();
    loop {
        let _ = poll::poll(&mut [], None);
    }
}

/// After a panic (there should be none): as PID 1, sync and power off
/// rather than exit, which would panic the kernel; otherwise exit 101.
pub fn after_panic() -> ! {
    if rustix::process::getpid().is_init() {
        rustix::fs::sync();
        let mut l = log::start(log::Level::Error);
        l.s("internal error: powering off");
        l.end();
        let _ = rustix::system::reboot(rustix::system::RebootCommand::PowerOff);
        loop {
            let _ = poll::poll(&mut [], None);
        }
    }
    sys::proc::exit(101)
}

#[cfg(test)]
mod tests {
    #[test]
    fn mount_table_escapes() {
        let mut b = crate::out::Buf::<64>::new();
        super::unescape(b"/mnt/a\\040b\\134", &mut b);
        assert_eq!(b.as_bytes(), b"/mnt/a b\\");
    }
}
