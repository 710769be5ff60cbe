//! From a config `Service` to a running process: its arguments and
//! environment, stdio, credentials, limits, sandbox, worker and filter, as
//! `spawn::fork` takes them; and what its config means when it fails or
//! stops. The supervisor (`init`) only decides when to start, restart and
//! stop; this layer knows how, and imports nothing of `init` but the config
//! language.

use rustix::fd::OwnedFd;

use super::cgroup;
use super::sandbox::{Need, Sandbox};
use super::spawn::{self, Spawn, Stdio};
use crate::arch::Arch;
use crate::bpf;
use crate::config::{Confine, Service, Stdio as CfgStdio, MAX_RLIMITS};
use crate::limits::Inherited;
use crate::log;
use crate::notify::worker::{self, Duty, Worker};
use crate::out::Sink;
use crate::policy::protect::Protect;
use crate::policy::Policy;
use crate::sys::exec::ExecBuf;
use crate::sys::{self, landlock, Args, Errno};
use linux_raw_sys::general as g;

/// What a start needs besides the service's own config: PID 1's state.
pub struct Context<'a> {
    /// The policy the service runs under (`None`: no filter).
    pub policy: Option<&'a Policy<'a>>,
    pub arch: &'static Arch,
    /// What every filter protects: PID 1 (and its helpers).
    pub protect: &'a Protect,
    /// Extra seccomp flags (WAIT_KILLABLE_RECV when the kernel has it).
    pub filter_flags: u32,
    /// vigil's own arguments and environment (for `env-pass`).
    pub env: Option<&'a Args>,
    /// The resource limits vigil was started with.
    pub limits: Option<&'a Inherited>,
    /// Whether PID 1 has room for one more listener.
    pub listener_room: bool,
}

/// A forked service.
pub struct Started {
    pub pid: i32,
    /// Its exec-status pipe (`spawn::read_msg`).
    pub status: OwnedFd,
    /// It runs under a filter: its listener is to be taken over.
    pub filtered: bool,
    /// The worker of its paths rules, if it has any.
    pub worker: Option<Worker>,
}

/// Why a start did not happen, in words, and the errno if there is one.
pub type Failed = (&'static str, Option<Errno>);

/// Fork `svc` under its policy and sandbox. The child is on its way to
/// its `execve`; a filtered one waits there for its listener to be taken.
pub fn start(svc: &Service, cx: &Context) -> Result<Started, Failed> {
    let mut exec = ExecBuf::new();
    if !command(svc, cx.env, &mut exec) {
        return Err(("arguments and environment too long", None));
    }
    let c = &svc.confine;
    // The worker first: its pid is known before the filter is made.
    let mut worker = None;
    if let Some(p) = cx.policy.filter(|p| worker::needed(p)) {
        let duty = Duty {
            policy: p,
            arch: cx.arch,
            who: svc.name,
            landlock: (c.landlock_read(), c.landlock_write()),
        };
        worker = Some(worker::fork(duty).map_err(|e| ("cannot start its worker", Some(e)))?);
    }
    // The pids the filter must keep the service's hands off (signals,
    // ptrace, pidfds, prlimit): vigil's, and its worker's, known here.
    let mut protect = cx.protect.clone();
    protect.own_pid_ns = c.namespaces & g::CLONE_NEWPID != 0;
    if let Some(w) = &worker {
        // Room for it: the list holds PID 1 alone.
        let _ = protect.add_helper(w.pid as u32);
    }
    let filter = match cx.policy.map(|p| bpf::compile(p, cx.arch, &protect)) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => return Err((e.describe(), None)),
    };
    if filter.is_some() && !cx.listener_room {
        // Never run a service unmonitored: refuse to start it.
        return Err(("listener table full", None));
    }
    let landlock = !c.landlock_read().is_empty() || !c.landlock_write().is_empty();
    if landlock && landlock::abi_version().is_err() {
        if c.has(Confine::LANDLOCK_REQUIRED) {
            return Err(("Landlock is required but the kernel has none", None));
        }
        let mut l = log::about(log::Level::Warn, svc.name);
        l.s("Landlock is not available in this kernel: started without its landlock-read/landlock-write rules");
        l.end();
    }
    let mut cg = cgroup::Path::new();
    if c.has_limits() {
        cgroup::prepare(svc.name, c, &mut cg).map_err(|(what, e)| (what, Some(e)))?;
    }
    let mut rl = [(0u32, 0u64, 0u64); MAX_RLIMITS];
    for (slot, r) in rl.iter_mut().zip(&svc.rlimits) {
        *slot = (r.resource.number(), r.soft, r.hard);
    }
    let spec = Spawn {
        path: svc.exec.path.as_bytes(),
        exec: &exec,
        filter: filter.as_deref(),
        filter_flags: cx.filter_flags,
        stdio: [
            io(svc.stdin, true),
            io(svc.stdout, false),
            io(svc.stderr, false),
        ],
        cwd: Some(svc.cwd.unwrap_or("/").as_bytes()),
        uid: svc.user,
        gid: svc.group,
        groups: if svc.groups.is_empty() && svc.user.is_none() {
            None
        } else {
            Some(&svc.groups)
        },
        rlimits: &rl[..svc.rlimits.len()],
        new_session: true,
        sandbox: sandbox(c, &cg),
        close_fds: true,
        limits: cx.limits,
        dumpable: false,
    };
    let (pid, status) = spawn::fork(&spec).map_err(|e| {
        let (what, errno) = e.describe();
        (what, Some(errno))
    })?;
    Ok(Started {
        pid,
        status,
        filtered: filter.is_some(),
        worker,
    })
}

/// The service's arguments and environment into `exec`: its `env` lines,
/// the `env-pass` keys of vigil's own environment, and a default `PATH`
/// if neither set one. False if they do not fit.
fn command(svc: &Service, env: Option<&Args>, exec: &mut ExecBuf) -> bool {
    let mut ok = exec.arg(svc.exec.path.as_bytes()).is_ok();
    for a in &svc.exec.args {
        ok &= exec.arg(a.as_bytes()).is_ok();
    }
    let mut has_path = false;
    for e in &svc.env {
        has_path |= e.starts_with("PATH=");
        ok &= exec.env(e.as_bytes(), b"").is_ok();
    }
    for key in svc.confine.env_pass() {
        if let Some(e) = env.and_then(|a| own_env(a, key)) {
            has_path |= *key == "PATH";
            ok &= exec.env(e, b"").is_ok();
        }
    }
    if !has_path {
        ok &= exec.env(b"PATH", b"/usr/sbin:/usr/bin:/sbin:/bin").is_ok();
    }
    ok
}

/// `KEY=VALUE` of vigil's own environment for `key`.
fn own_env(args: &Args, key: &str) -> Option<&'static [u8]> {
    (0..).map_while(|j| args.env(j)).find(|e| {
        e.strip_prefix(key.as_bytes())
            .is_some_and(|r| r.first() == Some(&b'='))
    })
}

/// Where a standard fd of a service goes, as `spawn` takes it.
// Size: out of line, one copy for the three fds (measured).
#[inline(never)]
fn io<'c>(s: CfgStdio<'c>, read: bool) -> Stdio<'c> {
    match s {
        CfgStdio::Console => Stdio::Inherit,
        CfgStdio::Null => Stdio::Null,
        CfgStdio::Path(p) if read => Stdio::Read(p.as_bytes()),
        CfgStdio::Path(p) => Stdio::File(p.as_bytes()),
    }
}

/// The sandbox a service's confinement settings ask for, in the cgroup
/// `cg` (empty: none).
fn sandbox<'a>(c: &'a Confine, cg: &'a cgroup::Path) -> Sandbox<'a> {
    Sandbox {
        no_new_privs: c.has(Confine::NO_NEW_PRIVS),
        caps: c.caps,
        namespaces: c.namespaces,
        ro_binds: c.read_only(),
        private_tmp: c.has(Confine::PRIVATE_TMP),
        root: c.root,
        read_only: c.has(Confine::READ_ONLY_ROOT),
        landlock_ro: c.landlock_read(),
        landlock_rw: c.landlock_write(),
        landlock: if c.has(Confine::LANDLOCK_REQUIRED) {
            Need::Required
        } else {
            Need::Optional
        },
        cgroup: (!cg.is_empty()).then(|| cg.as_bytes()),
        mask: c.has(Confine::MASKED),
    }
}

/// Does the service see a file system of its own (a mount namespace or a
/// root), which its worker must enter to resolve its paths?
pub fn own_mounts(svc: &Service) -> bool {
    let c = &svc.confine;
    c.namespaces & g::CLONE_NEWNS != 0 || c.root.is_some()
}

/// Log why the child of `svc` could not be set up (a `MSG_SETUP` value),
/// naming the path of a step that opens one, and whose rights it was
/// opened with.
pub fn setup_failed(svc: &Service, v: u32) {
    let err = spawn::setup_error(v);
    let (what, e) = err.describe();
    let mut l = log::about(log::Level::Error, svc.name);
    l.s("cannot start: ").s(what);
    if let spawn::SpawnError::Setup(step, _) = err {
        let stdio = [svc.stdin, svc.stdout, svc.stderr];
        let path = match step.wrapping_sub(spawn::STEP_CWD) {
            0 => svc.cwd,
            k @ 1..=3 => match stdio[k as usize - 1] {
                CfgStdio::Path(p) => Some(p),
                _ => None,
            },
            _ => None,
        };
        if let Some(p) = path {
            l.s(" ").s(p).s(" as uid ").u(svc.user.unwrap_or(0) as u64);
        }
    }
    l.s(": ");
    l.end_errno(e);
}

/// Kill what a failed or restarting service left behind, so that its next
/// run starts alone and nothing of the last one goes on using its limits:
/// its cgroup when it has one, and its process group (its pid: no other
/// process can get that number while the group has members).
pub fn kill_leftovers(svc: &Service, pid: i32) {
    let in_cgroup = if svc.confine.has_limits() {
        cgroup::kill_all(svc.name)
    } else {
        0
    };
    let in_group = sys::kill(-pid, 0).is_ok() && sys::kill(-pid, g::SIGKILL as i32).is_ok();
    if in_cgroup == 0 && !in_group {
        return;
    }
    let mut l = log::about(log::Level::Warn, svc.name);
    if in_cgroup > 0 {
        l.s("killed ")
            .u(in_cgroup as u64)
            .s(" leftover processes of its last run (its cgroup)");
    } else {
        l.s("killed the leftover processes of its last run (its process group)");
    }
    l.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    const CONF: &str = "\
service s {
    exec /bin/true -v
    stdin /in
    stdout null
    stderr /log
    namespaces mount net
    read-only /etc /usr
    private-tmp yes
    root /srv
    read-only-root yes
    landlock-read /bin
    landlock-write /srv/data
    landlock required
}
service t {
    exec /bin/true
    no-new-privs no
}
";

    #[test]
    fn a_service_starts_as_its_config_says() {
        let cfg = parse(CONF).unwrap();
        let (s, t) = (&cfg.services[0], &cfg.services[1]);
        let mut exec = ExecBuf::new();
        assert!(command(s, None, &mut exec));
        assert_eq!(exec.argv(0), Some(&b"/bin/true"[..]));
        assert_eq!(exec.argv(1), Some(&b"-v"[..]));
        assert_eq!(exec.argv(2), None);
        let stdio = |svc: &Service<'static>| {
            [
                io(svc.stdin, true),
                io(svc.stdout, false),
                io(svc.stderr, false),
            ]
        };
        assert_eq!(
            stdio(s),
            [Stdio::Read(b"/in"), Stdio::Null, Stdio::File(b"/log")]
        );
        assert_eq!(stdio(t), [Stdio::Null, Stdio::Inherit, Stdio::Inherit]);

        let cg = cgroup::Path::new();
        let sb = sandbox(&s.confine, &cg);
        assert!(sb.no_new_privs && sb.private_tmp && sb.read_only && !sb.mask);
        assert_eq!(sb.namespaces, g::CLONE_NEWNS | g::CLONE_NEWNET);
        assert_eq!(sb.ro_binds, ["/etc", "/usr"]);
        assert_eq!(sb.root, Some("/srv"));
        assert_eq!(sb.landlock_ro, ["/bin"]);
        assert_eq!(sb.landlock_rw, ["/srv/data"]);
        assert_eq!(sb.landlock, Need::Required);
        assert_eq!(sb.cgroup, None);
        let sb = sandbox(&t.confine, &cg);
        assert!(!sb.no_new_privs && !sb.private_tmp && !sb.read_only);
        assert_eq!((sb.namespaces, sb.root), (0, None));
        assert_eq!(sb.landlock, Need::Optional);
        assert!(own_mounts(s) && !own_mounts(t));
    }
}
