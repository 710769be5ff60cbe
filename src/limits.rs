//! vigil's own resource limits, which can kill or starve it: RLIMIT_CPU's
//! hard limit sends SIGKILL, which the kernel delivers even to PID 1
//! ("Attempted to kill init"), and a small RLIMIT_STACK turns the next deep
//! frame into SIGSEGV. At start vigil lifts CPU and RTTIME to unlimited and
//! remembers the others; `watch` (at most once a second, when the loop
//! wakes anyway) puts back what someone lowered since, and says so.
//!
//! The filter already refuses `prlimit64` aimed at vigil for every service
//! under a policy; this is for what it cannot see (a service without one, a
//! limit inherited from whoever started vigil). Children get the limits
//! vigil was started with (`restore_inherited`), not vigil's own.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

use crate::log;
use crate::out::Sink;
use crate::sys::cell::Once;

/// Lifted to unlimited at start: any finite value kills in the end.
const LIFTED: [(Resource, &str); 2] = [
    (Resource::Cpu, "RLIMIT_CPU"),
    (Resource::Rttime, "RLIMIT_RTTIME"),
];

/// Kept at least where they were at start.
const KEPT: [(Resource, &str); 8] = [
    (Resource::Stack, "RLIMIT_STACK"),
    (Resource::Nofile, "RLIMIT_NOFILE"),
    (Resource::As, "RLIMIT_AS"),
    (Resource::Data, "RLIMIT_DATA"),
    (Resource::Fsize, "RLIMIT_FSIZE"),
    (Resource::Nproc, "RLIMIT_NPROC"),
    (Resource::Sigpending, "RLIMIT_SIGPENDING"),
    (Resource::Memlock, "RLIMIT_MEMLOCK"),
];

const ALL: usize = LIFTED.len() + KEPT.len();

/// The limits vigil was started with.
pub type Inherited = [Rlimit; ALL];

const UNLIMITED: Rlimit = Rlimit {
    current: None,
    maximum: None,
};

/// The limits as vigil found them, `LIFTED` then `KEPT`.
static INHERITED: Once<[Rlimit; ALL]> = Once::new([UNLIMITED; ALL]);

/// Where `watch` keeps what it needs between calls.
pub struct Watch {
    inherited: &'static Inherited,
    /// What vigil holds each limit at: lifted, or as inherited.
    want: Inherited,
    last_ns: u64,
}

fn each() -> impl Iterator<Item = (usize, Resource, &'static str)> {
    LIFTED
        .iter()
        .chain(&KEPT)
        .enumerate()
        .map(|(i, &(r, n))| (i, r, n))
}

/// `a` is below `b` (`None` is unlimited).
fn below(a: Option<u64>, b: Option<u64>) -> bool {
    match (a, b) {
        (_, None) => a.is_some(),
        (None, Some(_)) => false,
        (Some(x), Some(y)) => x < y,
    }
}

fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    if below(a, b) {
        a
    } else {
        b
    }
}

/// Remember the limits vigil was started with and lift CPU and RTTIME
/// (as far as vigil may: the hard limit goes up only with
/// CAP_SYS_RESOURCE). Call once, first thing.
pub fn at_start() -> Option<Watch> {
    let inherited = INHERITED.take()?;
    let mut want = [UNLIMITED; ALL];
    for (i, r, name) in each() {
        inherited[i] = getrlimit(r);
        want[i] = inherited[i];
        if i < LIFTED.len() {
            want[i] = raise(r, name, inherited[i], UNLIMITED, false);
        }
    }
    Some(Watch {
        inherited,
        want,
        last_ns: 0,
    })
}

/// Set `r` (now at `now`) to `want`, or, where its hard limit cannot go
/// back up, its soft limit as far as the hard one allows. What it became.
fn raise(r: Resource, name: &str, now: Rlimit, want: Rlimit, say: bool) -> Rlimit {
    let to = if setrlimit(r, want).is_ok() {
        want
    } else {
        let soft = Rlimit {
            current: min(want.current, now.maximum),
            maximum: now.maximum,
        };
        let _ = setrlimit(r, soft);
        getrlimit(r)
    };
    if say {
        let mut l = log::start(log::Level::Warn);
        l.s(name).s(" of vigil was lowered to ");
        limit(&mut l, now);
        l.s(": reset to ");
        limit(&mut l, to);
        if to != want {
            l.s(" (its hard limit goes back up only with CAP_SYS_RESOURCE)");
        }
        l.end();
    }
    to
}

fn limit(l: &mut log::Line, r: Rlimit) {
    for (i, v) in [r.current, r.maximum].into_iter().enumerate() {
        if i > 0 {
            l.s("/");
        }
        match v {
            Some(v) => l.u(v),
            None => l.s("unlimited"),
        };
    }
}

impl Watch {
    /// At most once a second: put back any limit lowered since the start.
    pub fn check(&mut self, now_ns: u64) {
        if self.last_ns != 0 && now_ns.saturating_sub(self.last_ns) < 1_000_000_000 {
            return;
        }
        self.last_ns = now_ns.max(1);
        for (i, r, name) in each() {
            let now = getrlimit(r);
            let want = self.want[i];
            if below(now.current, want.current) || below(now.maximum, want.maximum) {
                // What could not be put back is what vigil holds from now
                // on: said once, not every second.
                self.want[i] = raise(r, name, now, want, true);
            }
        }
    }

    /// What vigil was started with, for `restore_inherited` in children.
    pub fn inherited(&self) -> &'static Inherited {
        self.inherited
    }
}

/// In a child between fork and exec: the limits vigil lifted for itself go
/// back to what vigil was started with (a `vigil run` under `ulimit -t`
/// keeps that limit for its program).
pub fn restore_inherited(inherited: Option<&Inherited>) {
    let Some(inherited) = inherited else { return };
    for (i, r, _) in each().take(LIFTED.len()) {
        if inherited[i] != UNLIMITED {
            let _ = setrlimit(r, inherited[i]);
        }
    }
}
