//! The service table of PID 1: who runs, who waits, who restarts when.
//!
//! Pure bookkeeping, no syscalls: `supervisor` does the I/O and asks this
//! module what to do next, so the restart and gating rules are unit-tested.

use crate::config::{Kind, Restart, Service};

/// Where a service is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not started yet (waiting for its turn or for a oneshot before it).
    Pending,
    Running {
        pid: i32,
        since_ns: u64,
    },
    /// Waiting to be restarted at `at_ns`.
    Backoff {
        at_ns: u64,
    },
    /// Finished and not to be restarted (a oneshot that succeeded, a daemon
    /// with `restart never`, anything stopped at shutdown).
    Done,
    /// Gave up on: failed oneshot, or too many restarts.
    Failed,
}

/// The runtime side of one configured service.
#[derive(Clone, Copy, Debug)]
pub struct Runtime {
    pub state: State,
    /// Restarts inside the current window.
    pub restarts: u32,
    pub window_start_ns: u64,
    /// The next restart delay.
    pub delay_ms: u32,
    /// Starts so far (for messages).
    pub starts: u32,
}

impl Runtime {
    pub const fn new() -> Self {
        Runtime {
            state: State::Pending,
            restarts: 0,
            window_start_ns: 0,
            delay_ms: 0,
            starts: 0,
        }
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

/// What to do after a service's main process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterExit {
    /// Finished as it should.
    Done,
    /// Restart after this many milliseconds (the `n`th restart in the window).
    Restart { delay_ms: u32, n: u32 },
    /// Restarted more than `restart-limit` times within the window.
    GaveUp { n: u32 },
    /// Failed; not restarted.
    Failed,
}

/// Decide about a service whose main process ended with `code` (exit
/// status, or 128+signal) at `now_ns`; updates its restart bookkeeping.
pub fn after_exit(svc: &Service, rt: &mut Runtime, code: i32, now_ns: u64) -> AfterExit {
    let ran_ns = match rt.state {
        State::Running { since_ns, .. } => now_ns.saturating_sub(since_ns),
        _ => 0,
    };
    let failed = code != 0;
    let restart = match svc.restart {
        Restart::Never => false,
        Restart::OnFailure => failed,
        Restart::Always => true,
    };
    if !restart {
        let r = if failed {
            AfterExit::Failed
        } else {
            AfterExit::Done
        };
        rt.state = if failed { State::Failed } else { State::Done };
        return r;
    }
    let window_ns = svc.restart_window_ms as u64 * 1_000_000;
    if rt.restarts == 0 || now_ns.saturating_sub(rt.window_start_ns) > window_ns {
        rt.window_start_ns = now_ns;
        rt.restarts = 0;
    }
    rt.restarts += 1;
    if rt.restarts > svc.restart_limit {
        rt.state = State::Failed;
        return AfterExit::GaveUp { n: rt.restarts - 1 };
    }
    // A run longer than the longest delay counts as healthy: start over.
    if rt.delay_ms == 0 || ran_ns > svc.backoff_max_ms as u64 * 1_000_000 {
        rt.delay_ms = svc.backoff_min_ms;
    }
    let delay_ms = rt.delay_ms;
    rt.delay_ms = rt.delay_ms.saturating_mul(2).min(svc.backoff_max_ms);
    rt.state = State::Backoff {
        at_ns: now_ns + delay_ms as u64 * 1_000_000,
    };
    AfterExit::Restart {
        delay_ms,
        n: rt.restarts,
    }
}

/// May service `i` start now? Every oneshot before it must have ended
/// (successfully, or failed without being required).
pub fn gate_open(services: &[Service], rts: &[Runtime], i: usize) -> bool {
    services[..i].iter().zip(rts).all(|(s, rt)| {
        s.kind != Kind::Oneshot
            || match rt.state {
                State::Done => true,
                State::Failed => !s.required,
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon(restart: Restart) -> Service<'static> {
        let mut s = Service::new("d", 1);
        s.restart = restart;
        s.backoff_min_ms = 100;
        s.backoff_max_ms = 1000;
        s.restart_limit = 3;
        s.restart_window_ms = 10_000;
        s
    }

    fn running(rt: &mut Runtime, at_ns: u64) {
        rt.state = State::Running {
            pid: 1,
            since_ns: at_ns,
        };
    }

    #[test]
    fn backoff_doubles_then_gives_up() {
        let s = daemon(Restart::OnFailure);
        let mut rt = Runtime::new();
        let ms = 1_000_000u64;
        let mut delays = Vec::new();
        let mut t = 0;
        loop {
            running(&mut rt, t);
            t += 10 * ms;
            match after_exit(&s, &mut rt, 1, t) {
                AfterExit::Restart { delay_ms, .. } => delays.push(delay_ms),
                AfterExit::GaveUp { n } => {
                    assert_eq!(n, 3);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(delays, [100, 200, 400]);
        assert_eq!(rt.state, State::Failed);
    }

    #[test]
    fn delays_cap_at_the_maximum_and_windows_reset() {
        let mut s = daemon(Restart::Always);
        s.restart_limit = 100;
        let mut rt = Runtime::new();
        let ms = 1_000_000u64;
        let mut last = 0;
        for i in 0..8 {
            running(&mut rt, i * 20 * ms);
            if let AfterExit::Restart { delay_ms, .. } =
                after_exit(&s, &mut rt, 0, i * 20 * ms + ms)
            {
                last = delay_ms;
            }
        }
        assert_eq!(last, 1000);
        // A long healthy run resets the delay.
        running(&mut rt, 0);
        assert_eq!(
            after_exit(&s, &mut rt, 0, 5_000 * ms),
            AfterExit::Restart {
                delay_ms: 100,
                n: 9
            }
        );
        // Past the window, the count starts over.
        running(&mut rt, 100_000 * ms);
        assert!(matches!(
            after_exit(&s, &mut rt, 1, 100_001 * ms),
            AfterExit::Restart { n: 1, .. }
        ));
    }

    #[test]
    fn exit_without_restart() {
        let s = daemon(Restart::OnFailure);
        let mut rt = Runtime::new();
        running(&mut rt, 0);
        assert_eq!(after_exit(&s, &mut rt, 0, 1), AfterExit::Done);
        let s = daemon(Restart::Never);
        running(&mut rt, 0);
        assert_eq!(after_exit(&s, &mut rt, 3, 1), AfterExit::Failed);
    }

    #[test]
    fn oneshots_gate_later_services() {
        let mut one = Service::new("one", 1);
        one.kind = Kind::Oneshot;
        one.required = false;
        let two = Service::new("two", 2);
        let svcs = [one, two];
        let mut rts = [Runtime::new(), Runtime::new()];
        assert!(gate_open(&svcs, &rts, 0));
        rts[0].state = State::Running {
            pid: 5,
            since_ns: 0,
        };
        assert!(!gate_open(&svcs, &rts, 1));
        rts[0].state = State::Failed;
        assert!(gate_open(&svcs, &rts, 1));
        svcs_required(&svcs);
    }

    fn svcs_required(svcs: &[Service]) {
        let mut req = svcs[0].clone();
        req.required = true;
        let all = [req, svcs[1].clone()];
        let rts = [
            Runtime {
                state: State::Failed,
                ..Runtime::new()
            },
            Runtime::new(),
        ];
        assert!(!gate_open(&all, &rts, 1));
    }
}
