//! The monitor's own protection, which every filter gets, whatever its
//! policy says: a service may not signal, trace, read, limit or starve
//! vigil (README, "Safety model"). It depends on who vigil is to the
//! service (PID 1, or `vigil run`'s own pid, and any helper process), so it
//! is added when the filter is compiled, from a `Protect` context: a policy
//! and a context in, guards out, pure.
//!
//! Each guard fails its call with EPERM when an argument names a protected
//! process. Arguments are compared on their low 32 bits, as the kernel
//! reads a `pid_t` (`kill(0x100000001, ...)` is `kill(1, ...)`). Calls that
//! name a process only through memory or a descriptor are refused outright
//! where a register cannot tell: `F_SETOWN_EX` and the socket ioctls that
//! set an owner, and, unless the policy names them, `pidfd_send_signal` (a
//! `/proc/PID` directory works as a pidfd for it) and `pidfd_getfd` (a
//! pidfd of vigil comes from more places than `pidfd_open`: a fanotify
//! event with `FAN_REPORT_PIDFD` for a file vigil opened, a pidfs file
//! handle). A service with a pid namespace of its own cannot name vigil at
//! all: it gets no guards.
//!
//! Guards are added only where the policy lets the call run: a call the
//! policy denies or answers itself needs none.

use heapless::Vec;

use super::harden::{ENOSYS, EPERM};
use super::{Cmp, Op, Origin, Policy, Span};
use crate::arch::Arch;

/// Processes a filter protects at most: vigil and its helpers.
pub const MAX_PIDS: usize = 4;
/// Process groups a filter protects at most.
pub const MAX_PGRPS: usize = 2;

/// Who vigil is to the service being filtered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Protect {
    /// vigil and its helper processes, as the service's pid namespace
    /// numbers them (1 for PID 1).
    pub pids: Vec<u32, MAX_PIDS>,
    /// Their process groups, which `kill(-PGID)`, `F_SETOWN(-PGID)` and
    /// `setpriority(PRIO_PGRP)` reach.
    pub pgrps: Vec<u32, MAX_PGRPS>,
    /// vigil's uid, which `setpriority(PRIO_USER)` and
    /// `ioprio_set(IOPRIO_WHO_USER)` reach (as does 0: the caller's own).
    pub uid: u32,
    /// `kill(-1)` reaches a protected process: one is not the init of the
    /// service's pid namespace (`vigil run`, helpers).
    pub broadcast: bool,
    /// The service has a pid namespace of its own and cannot name vigil by
    /// pid (its own pid 1 is itself): no guards.
    pub own_pid_ns: bool,
}

impl Protect {
    /// Nothing to protect: the filter is the policy's alone.
    pub fn none() -> Protect {
        Protect {
            own_pid_ns: true,
            ..Protect::default()
        }
    }

    /// vigil as PID 1 of the service's pid namespace, with `helpers`.
    pub fn pid1(helpers: &[u32]) -> Protect {
        let mut p = Protect::default();
        let _ = p.pids.push(1);
        for &h in helpers.iter().take(MAX_PIDS - 1) {
            let _ = p.add_helper(h);
        }
        p
    }

    /// Protect helper process `pid` (a worker) too. `kill(-1)` reaches a
    /// helper, which is never the init of the service's pid namespace. A
    /// full list hands the pid back.
    pub fn add_helper(&mut self, pid: u32) -> Result<(), u32> {
        self.pids.push(pid)?;
        self.broadcast = true;
        Ok(())
    }
}

/// Most guards one filter gets.
pub const MAX_GUARDS: usize = 28;
/// Room for every clause and comparison the guards can need with
/// `MAX_PIDS` and `MAX_PGRPS` (a test fills them).
const MAX_GUARD_CLAUSES: usize = 128;
const MAX_GUARD_CMPS: usize = 160;

/// One guard: syscall `nr` fails with `errno` when `cond` holds (always
/// when `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// The syscall it guards.
    pub nr: u32,
    /// When it fails: a span of `Guards::clauses`; `None` for always.
    pub cond: Option<Span>,
    /// The errno it fails with.
    pub errno: u16,
}

/// A filter's guards, sorted by syscall number, with their conditions in
/// pools of their own (shaped like `Policy`'s).
#[derive(Clone, Debug, Default)]
pub struct Guards {
    /// The guards, sorted by `nr`.
    pub items: Vec<Item, MAX_GUARDS>,
    /// Their conditions: spans of `cmps`, any of which must hold.
    pub clauses: Vec<Span, MAX_GUARD_CLAUSES>,
    /// The comparisons of the clauses.
    pub cmps: Vec<Cmp, MAX_GUARD_CMPS>,
}

/// Calls whose first argument names a process.
const PID_ARG0: &str = "tkill rt_sigqueueinfo pidfd_open prlimit64 process_vm_readv \
    process_vm_writev sched_setscheduler sched_setparam sched_setattr sched_setaffinity \
    migrate_pages move_pages";
/// ... whose first two do (thread group and thread).
const PID_ARG01: &str = "tgkill rt_tgsigqueueinfo";
/// ... whose second does.
const PID_ARG1: &str = "ptrace perf_event_open";

const F_SETOWN: u32 = 8;
const F_SETOWN_EX: u32 = 15;
const FIOSETOWN: u32 = 0x8901;
const SIOCSPGRP: u32 = 0x8902;

/// Every guarded call, for messages and tests: what each guard is about.
pub const GUARDED: &str = "kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo \
    pidfd_send_signal pidfd_getfd pidfd_open ptrace process_vm_readv process_vm_writev prlimit64 \
    fcntl ioctl setpriority ioprio_set sched_setscheduler sched_setparam sched_setattr \
    sched_setaffinity migrate_pages move_pages perf_event_open";

/// The calls refused outright unless the policy names them, and how: they
/// take a pidfd, which no register shows to be vigil's.
/// `pidfd_send_signal` fails with ENOSYS, so that programs fall back to
/// `kill(2)` (a `/proc/PID` directory works as a pidfd for it);
/// `pidfd_getfd` with EPERM (it would take vigil's descriptors, listeners
/// included, with a pidfd from fanotify or a pidfs file handle).
pub fn outright(name: &str) -> Option<u16> {
    match name {
        "pidfd_send_signal" => Some(ENOSYS),
        "pidfd_getfd" => Some(EPERM),
        _ => None,
    }
}

/// Builds a condition in `Guards`' pools: an OR of clauses of `arg & M32 ==
/// v` comparisons.
struct Build<'g> {
    g: &'g mut Guards,
    start: usize,
    ok: bool,
}

const M32: u64 = u32::MAX as u64;

impl Build<'_> {
    /// A clause: every `(arg, value)` must hold.
    fn clause(&mut self, cmps: &[(u8, u32)]) {
        let k = self.g.cmps.len();
        for &(arg, v) in cmps {
            self.ok &= self
                .g
                .cmps
                .push(Cmp {
                    arg,
                    op: Op::MaskedEq(M32),
                    value: v as u64,
                })
                .is_ok();
        }
        let span = Span {
            start: k as u16,
            len: (self.g.cmps.len() - k) as u16,
        };
        self.ok &= self.g.clauses.push(span).is_ok();
    }

    /// One clause per value: `arg == v`, plus `with` in each.
    fn any(&mut self, arg: u8, values: &[u32], with: Option<(u8, u32)>) {
        for &v in values {
            match with {
                Some(w) => self.clause(&[w, (arg, v)]),
                None => self.clause(&[(arg, v)]),
            }
        }
    }
}

/// The guards `policy` gets for `arch` under `pr`, into `out` (emptied
/// first). `false` if they did not fit, which the tables' sizes rule out
/// for any `Protect` (tested): the caller must then refuse the filter.
pub fn guards(policy: &Policy, arch: &Arch, pr: &Protect, out: &mut Guards) -> bool {
    out.items.clear();
    out.clauses.clear();
    out.cmps.clear();
    if pr.own_pid_ns {
        return true;
    }
    let pids = &pr.pids[..];
    let neg = |v: &[u32], out: &mut Vec<u32, { MAX_PIDS + MAX_PGRPS + 1 }>| {
        for &x in v {
            let _ = out.push(x.wrapping_neg());
        }
    };
    let mut ok = true;
    for name in GUARDED.split(' ') {
        let Some(nr) = arch.nr(name) else { continue };
        if !policy.may_run(nr) {
            continue;
        }
        if let Some(errno) = outright(name) {
            // A descriptor names the process: no register tells which.
            // Named in the policy, it is the policy's call.
            let named = policy.rule(nr).is_some_and(|r| r.origin == Origin::Named);
            if !named {
                ok &= out
                    .items
                    .push(Item {
                        nr,
                        cond: None,
                        errno,
                    })
                    .is_ok();
            }
            continue;
        }
        let c0 = out.clauses.len();
        let mut b = Build {
            start: c0,
            g: out,
            ok: true,
        };
        let has = |list: &str| crate::words::find(list, name).is_some();
        if has(PID_ARG0) {
            b.any(0, pids, None);
        } else if has(PID_ARG01) {
            b.any(0, pids, None);
            b.any(1, pids, None);
        } else if has(PID_ARG1) {
            b.any(1, pids, None);
        } else {
            match name {
                "kill" => {
                    let mut v: Vec<u32, { MAX_PIDS + MAX_PGRPS + 1 }> = Vec::new();
                    let _ = v.extend_from_slice(pids);
                    neg(&pr.pgrps, &mut v);
                    if pr.broadcast {
                        let _ = v.push(u32::MAX);
                    }
                    b.any(0, &v, None);
                }
                "fcntl" => {
                    // F_SETOWN: a pid, or a process group as its negative.
                    let mut v: Vec<u32, { MAX_PIDS + MAX_PGRPS + 1 }> = Vec::new();
                    let _ = v.extend_from_slice(pids);
                    neg(&pr.pgrps, &mut v);
                    b.any(2, &v, Some((1, F_SETOWN)));
                    let mut v: Vec<u32, { MAX_PIDS + MAX_PGRPS + 1 }> = Vec::new();
                    neg(pids, &mut v);
                    b.any(2, &v, Some((1, F_SETOWN)));
                    // The owner in memory: no register tells whose.
                    b.clause(&[(1, F_SETOWN_EX)]);
                }
                "ioctl" => b.any(1, &[FIOSETOWN, SIOCSPGRP], None),
                "setpriority" | "ioprio_set" => {
                    // PRIO_PROCESS/PGRP/USER are 0, 1, 2; IOPRIO_WHO_* 1, 2, 3.
                    let base = (name == "ioprio_set") as u32;
                    b.any(1, pids, Some((0, base)));
                    b.any(1, &pr.pgrps, Some((0, base + 1)));
                    let users: &[u32] = if pr.uid == 0 { &[0] } else { &[0, pr.uid] };
                    b.any(1, users, Some((0, base + 2)));
                }
                _ => {}
            }
        }
        let (start, built) = (b.start, b.ok);
        ok &= built;
        let n = out.clauses.len() - start;
        if n > 0 {
            ok &= out
                .items
                .push(Item {
                    nr,
                    cond: Some(Span {
                        start: start as u16,
                        len: n as u16,
                    }),
                    errno: EPERM,
                })
                .is_ok();
        }
    }
    // Sorted by number, as the compiler walks them beside the rules (an
    // insertion sort: a few dozen items).
    let items = &mut out.items[..];
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && items[j - 1].nr > items[j].nr {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
    ok
}

impl Guards {
    /// The guard of syscall `nr`.
    pub fn item(&self, nr: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.nr == nr)
    }

    /// Does the condition hold for these arguments? (`None`: always.)
    pub fn holds(&self, cond: Option<Span>, args: &[u64; 6]) -> bool {
        let Some(cond) = cond else { return true };
        let clauses = self.clauses.get(cond.range()).unwrap_or(&[]);
        clauses.iter().any(|cl| {
            self.cmps
                .get(cl.range())
                .unwrap_or(&[])
                .iter()
                .all(|c| c.holds(args[c.arg as usize]))
        })
    }

    /// The errno the guards give `nr` with `args`, if one holds.
    pub fn check(&self, nr: u32, args: &[u64; 6]) -> Option<u16> {
        let i = self.item(nr)?;
        self.holds(i.cond, args).then_some(i.errno)
    }
}

#[cfg(test)]
mod tests;
