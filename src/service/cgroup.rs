//! cgroup v2 groups of services: `/sys/fs/cgroup/vigil-NAME`, created by
//! vigil before the fork with the service's limits written; the child
//! joins it (`Sandbox::cgroup`) before anything else.

use rustix::fd::AsFd;
use rustix::fs::{Mode, OFlags};

use crate::config::Confine;
use crate::out::{Buf, Sink};
use crate::sys::{self, Errno};

/// Where PID 1 mounts cgroup2 (a macro, so that paths under it are
/// literals; size: one write each instead of two, measured).
macro_rules! root {
    ($rest:literal) => {
        concat!("/sys/fs/cgroup", $rest)
    };
}

/// Per limit: its controller and its file.
// Size: a constant, not an array built on the stack per call (measured).
const LIMITS: [(&str, &str); 3] = [
    ("+pids", "pids.max"),
    ("+memory", "memory.max"),
    ("+cpu", "cpu.max"),
];

/// A group's path.
pub type Path = Buf<96>;

/// Make the group of service `name` with the limits of `c`, in `path`.
/// On failure, what failed and the errno.
pub fn prepare(name: &str, c: &Confine, path: &mut Path) -> Result<(), (&'static str, Errno)> {
    let mut p = Buf::<128>::new();
    p.s(root!("/cgroup.controllers"));
    if rustix::fs::access(p.as_bytes(), rustix::fs::Access::EXISTS).is_err() {
        return Err(("cgroup2 is not mounted at /sys/fs/cgroup", Errno::NOENT));
    }
    enable(&c.limits)?;
    path.clear();
    path.s(root!("/vigil-")).s(name);
    match rustix::fs::mkdir(path.as_bytes(), Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(("creating its cgroup", e)),
    }
    for (k, ((_, file), v)) in LIMITS.iter().zip(c.limits).enumerate() {
        if v == 0 {
            continue;
        }
        p.clear();
        p.put(path.as_bytes());
        p.s("/").s(file);
        let mut val = Buf::<48>::new();
        if v == u64::MAX {
            val.s("max");
        } else {
            val.u(v);
        }
        if k == 2 {
            val.s(" ").u(c.cpu_period);
        }
        write(p.as_bytes(), val.as_bytes()).map_err(|e| ("writing its cgroup limits", e))?;
    }
    Ok(())
}

/// Kill every process in the group of service `name`: `cgroup.kill`
/// where the kernel has it (5.14+: the kernel kills them all, forks in
/// flight included), else SIGKILL to each pid of `cgroup.procs`, a few
/// rounds. How many there were (0: none, or no group).
// Size: out of line, called from one place (measured alike).
#[inline(never)]
pub fn kill_all(name: &str) -> usize {
    let mut p = Buf::<128>::new();
    let mut first = 0;
    for round in 0..4 {
        p.clear();
        p.s(root!("/vigil-")).s(name).s("/cgroup.procs");
        let mut list = [0u8; 1024];
        let n = sys::read_file(p.as_bytes(), &mut list).unwrap_or_else(|e| {
            // More than fit: kill these, count them, go round again.
            if e == Errno::FBIG {
                list.len()
            } else {
                0
            }
        });
        let pids = list[..n]
            .split(|&b| b == b'\n')
            .filter_map(|l| core::str::from_utf8(l).ok()?.parse::<i32>().ok());
        if round == 0 {
            first = pids.clone().count();
            if first == 0 {
                return 0;
            }
            p.clear();
            p.s(root!("/vigil-")).s(name).s("/cgroup.kill");
            if write(p.as_bytes(), b"1").is_ok() {
                return first;
            }
        }
        let mut any = false;
        for pid in pids {
            any = true;
            let _ = sys::kill(pid, linux_raw_sys::general::SIGKILL as i32);
        }
        if !any {
            break;
        }
    }
    first
}

/// Enable in `/sys/fs/cgroup/cgroup.subtree_control` the controllers of
/// the limits set (non-zero) in `limits` that are not enabled yet, one by
/// one, so that a missing one is named. Enabling one makes the kernel wait
/// for every fork and exit in progress, throttled ones included (and
/// every fork waits meanwhile, PID 1's too): PID 1 enables what its
/// services need at boot, before any of them runs, and a start then finds
/// them enabled and writes nothing.
pub fn enable(limits: &[u64; 3]) -> Result<(), (&'static str, Errno)> {
    let mut on = [0u8; 256];
    let n = sys::read_file(root!("/cgroup.subtree_control").as_bytes(), &mut on).unwrap_or(0);
    let on = &on[..n];
    for ((ctl, _), &v) in LIMITS.iter().zip(limits) {
        let name = &ctl.as_bytes()[1..];
        let enabled = on.split(|&b| b == b' ' || b == b'\n').any(|w| w == name);
        if v != 0 && !enabled {
            write(root!("/cgroup.subtree_control").as_bytes(), ctl.as_bytes())
                .map_err(|e| ("enabling a cgroup controller in /sys/fs/cgroup", e))?;
        }
    }
    Ok(())
}

fn write(path: &[u8], value: &[u8]) -> Result<(), Errno> {
    let fd = sys::open(path, OFlags::WRONLY)?;
    sys::write_all(fd.as_fd(), value)
}
