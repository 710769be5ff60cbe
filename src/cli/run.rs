//! `vigil run [--policy FILE] [--log LEVEL] [--keep-fds] [--] PROG [ARGS...]`: run one program under a
//! policy as its notification monitor and subreaper, the way tini runs one
//! program: forward signals, reap everything, exit with its status.

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::{load_policy, EXIT_USAGE};
use crate::bpf;
use crate::input::text;
use crate::limits::{self, Inherited};
use crate::log;
use crate::notify::worker::{self, Duty, Event, Watch, Worker};
use crate::notify::{self, Listener};
use crate::out::{Buf, Sink};
use crate::policy::protect::Protect;
use crate::policy::Policy;
use crate::service::spawn::{self, Spawn};
use crate::sys::exec::ExecBuf;
use crate::sys::poll::{self, PollFd, POLLIN};
use crate::sys::signal::{self, SigSet};
use crate::sys::{self, seccomp, Args, Errno};
use crate::tables;
use linux_raw_sys::general as g;

/// Signals taken through the signalfd: SIGCHLD, and those passed on to
/// the program.
const SIGNALS: SigSet = SigSet::of(&[
    g::SIGCHLD,
    g::SIGTERM,
    g::SIGINT,
    g::SIGHUP,
    g::SIGUSR1,
    g::SIGUSR2,
    g::SIGQUIT,
    g::SIGWINCH,
]);

// Memory: out of line, so that its frame is not part of `cli::main`'s.
#[inline(never)]
pub fn main(args: &Args) -> i32 {
    // Limits that could kill vigil are lifted first (the program gets
    // them back); no core dump, no ptrace or /proc/PID/mem of vigil
    // without CAP_SYS_PTRACE.
    let watch = limits::at_start();
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    let mut policy_file = None;
    let mut keep_fds = false;
    let mut i = 2;
    while let Some(a) = args.get(i) {
        match a {
            b"--keep-fds" => {
                keep_fds = true;
                i += 1;
            }
            b"--policy" => {
                policy_file = args.get(i + 1);
                if policy_file.is_none() {
                    return usage("--policy needs a file");
                }
                i += 2;
            }
            b"--log" => {
                let level = match args.get(i + 1) {
                    Some(b"quiet") => log::Level::Error,
                    Some(b"info") => log::Level::Info,
                    Some(b"debug") => log::Level::Debug,
                    _ => return usage("--log takes quiet, info or debug"),
                };
                log::set_max(level);
                i += 2;
            }
            b"--" => {
                i += 1;
                break;
            }
            _ if a.starts_with(b"-") => return usage("unknown option"),
            _ => break,
        }
    }
    let first = i;
    let Some(prog) = args.get(first) else {
        return usage("no program given");
    };

    let arch = tables::native();
    let Some((policy, name)) = load_policy(policy_file, arch) else {
        return EXIT_USAGE;
    };
    let how = How {
        keep_fds,
        limits: watch.as_ref().map(|w| w.inherited()),
    };
    let (child, sigfd, worker) = match start(policy, name, arch, args, first, how) {
        Ok(started) => started,
        Err(code) => return code,
    };
    // Compiling the filter and spawning went deep; the loop stays shallow.
    sys::pages::release_stack_below(512 * 1024);
    supervise(policy, arch, child, sigfd, worker, prog, watch)
}

/// How the program is started, beside its policy.
#[derive(Clone, Copy)]
struct How {
    /// `--keep-fds`: pass vigil's inherited fds from 3 up, as tini does.
    keep_fds: bool,
    limits: Option<&'static Inherited>,
}

/// Compile the filter, set up signals and start the program under it: the
/// child, the signalfd and the monitor's worker (a policy with path rules
/// has one), or the exit status to give up with.
// Size and memory: out of line, so that its large frame (the filter, the
// argument buffer) is gone before the loop runs.
#[inline(never)]
fn start(
    policy: &Policy,
    name: &str,
    arch: &'static crate::arch::Arch,
    args: &Args,
    first: usize,
    how: How,
) -> Result<(spawn::Child, OwnedFd, Option<Worker>), i32> {
    let prog = args.get(first).unwrap_or(b"");
    let who = text(prog.rsplit(|&b| b == b'/').next().unwrap_or(prog));
    // The worker first, so that its pid is known before the filter is
    // made; it waits for the listener.
    let worker = if worker::needed(policy) {
        let duty = Duty {
            policy,
            arch,
            who,
            landlock: (&[], &[]),
        };
        match worker::fork(duty) {
            Ok(w) => Some(w),
            Err(e) => {
                let mut l = log::start(log::Level::Error);
                l.s("cannot start the worker: ");
                l.end_errno(e);
                return Err(1);
            }
        }
    } else {
        None
    };
    let mut filter = bpf::Program::new();
    // The pids the filter must keep the program's hands off (signals,
    // ptrace, pidfds, prlimit): vigil's, and its worker's, known here.
    let mut protect = guarding_self();
    if let Some(w) = &worker {
        // Room for it: the list holds vigil alone.
        let _ = protect.add_helper(w.pid as u32);
    }
    if bpf::compile_into(policy, arch, &protect, &mut filter).is_err() {
        let mut l = log::start(log::Level::Error);
        l.s(name)
            .s(": the policy needs more than 4096 BPF instructions");
        l.end();
        return Err(EXIT_USAGE);
    }
    if let Err(e) = check_sizes() {
        let mut l = log::start(log::Level::Error);
        l.s("seccomp user notification unavailable: ");
        l.end_errno(e);
        return Err(1);
    }

    let mut exec = ExecBuf::new();
    let mut j = first;
    while let Some(a) = args.get(j) {
        if exec.arg(a).is_err() {
            return Err(usage("arguments too long"));
        }
        j += 1;
    }
    exec.inherit_env(args.envp());

    let _ = rustix::process::set_child_subreaper(rustix::process::Pid::from_raw(
        rustix::process::getpid().as_raw_nonzero().get(),
    ));
    let mask = SIGNALS;
    let sigfd = match signal::set_mask(mask).and_then(|_| signal::signalfd(mask)) {
        Ok(fd) => fd,
        Err(e) => {
            let mut l = log::start(log::Level::Error);
            l.s("signalfd: ");
            l.end_errno(e);
            return Err(1);
        }
    };

    let filter_flags = notify::probe::probe();
    let path = resolve_prog(prog, args);
    let mut spec = Spawn::plain(path.as_bytes(), &exec);
    spec.filter = Some(&filter);
    spec.filter_flags = filter_flags;
    // A session of its own: no signal to vigil's process group reaches
    // it by way of the program, and the program's job control is its own.
    spec.new_session = true;
    spec.close_fds = !how.keep_fds;
    spec.limits = how.limits;
    spec.dumpable = true;
    match spawn::spawn(&spec) {
        Ok(c) => Ok((c, sigfd, worker)),
        Err(e) => {
            let mut l = log::start(log::Level::Error);
            let (what, e) = e.describe();
            l.s("cannot start ").esc(prog).s(": ").s(what).s(": ");
            l.end_errno(e);
            Err(126)
        }
    }
}

/// What the filter protects: vigil itself, by pid and process group, and
/// from `kill(-1)`, which reaches it (it is not the init of the program's
/// pid namespace).
fn guarding_self() -> Protect {
    let mut p = Protect::default();
    let _ = p
        .pids
        .push(rustix::process::getpid().as_raw_nonzero().get() as u32);
    let g = crate::sys::proc::pgrp();
    if g != 0 {
        let _ = p.pgrps.push(g);
    }
    p.uid = rustix::process::getuid().as_raw();
    p.broadcast = true;
    p
}

/// The poll loop: signals, the listener, the status pipe.
fn supervise(
    policy: &Policy,
    arch: &crate::arch::Arch,
    child: spawn::Child,
    sigfd: OwnedFd,
    worker: Option<Worker>,
    prog: &[u8],
    mut limit_watch: Option<limits::Watch>,
) -> i32 {
    let who = text(prog.rsplit(|&b| b == b'/').next().unwrap_or(prog));
    let mut watch = child.listener.map(|fd| Watch {
        l: Listener {
            fd,
            handover_pid: child.pid as u32,
        },
        worker: None,
    });
    // The program could not be served: it is stopped, and vigil says so
    // with 126 (it could not be started) rather than with its status.
    let mut unserved = false;
    if let Some(w) = watch.as_mut() {
        notify::probe::listener(w.l.fd.as_fd(), log::Level::Debug);
        w.worker = worker;
        if let Some(wk) = w.worker.as_mut() {
            // The program still waits in its first execve; it shares
            // vigil's mount namespace and root.
            if let Err(e) = wk.setup(w.l.fd.as_fd(), child.pid as u32, poll::now_ns(), false) {
                let mut l = log::start(log::Level::Error);
                l.s("cannot hand the listener to the worker: ");
                l.end_errno(e);
                w.worker = None;
                worker::stop_misbehaving(child.pid as u32);
                unserved = true;
            }
        }
    }
    let mut status_open = true;
    let mut exit_code: Option<i32> = None;
    let mut wakes: u32 = 0;
    loop {
        let mut fds = [PollFd {
            fd: sigfd.as_raw_fd(),
            events: POLLIN,
            revents: 0,
        }; 3];
        let mut n = 1;
        let li = watch.as_ref().map(|w| {
            fds[n] = PollFd {
                fd: w.poll_fd(),
                events: POLLIN,
                revents: 0,
            };
            n += 1;
            n - 1
        });
        let si = status_open.then(|| {
            fds[n] = PollFd {
                fd: child.status.as_raw_fd(),
                events: POLLIN,
                revents: 0,
            };
            n += 1;
            n - 1
        });
        // The clock is read only where a worker has a deadline: a
        // register decision's round trip pays for no extra syscall.
        let worker = watch.as_ref().is_some_and(|w| w.worker.is_some());
        let timeout = watch.as_ref().filter(|_| worker).and_then(|w| {
            let now = poll::now_ns();
            w.deadline(now).map(|d| d.saturating_sub(now))
        });
        if let Err(e) = poll::poll(&mut fds[..n], timeout) {
            let mut l = log::start(log::Level::Error);
            l.s("poll: ");
            l.end_errno(e);
            return 1;
        }
        // The limits, at most once a second: looked at on every 64th wake,
        // or on any wake but a notification's.
        wakes = wakes.wrapping_add(1);
        let notified = li.is_some_and(|i| fds[i].revents != 0);
        if let Some(w) = limit_watch
            .as_mut()
            .filter(|_| !notified || wakes.is_multiple_of(64))
        {
            w.check(poll::now_ns());
        }
        if let (Some(i), Some(w)) = (li, watch.as_mut()) {
            let now = if worker { poll::now_ns() } else { 0 };
            let mut e = w.expire(now, arch, who);
            if e == Event::Fine {
                e = w.event(fds[i].revents, policy, arch, who);
            }
            match e {
                Event::Fine => {}
                // No task uses the filter any more, or it broke.
                Event::Close(err) => {
                    if let Some(err) = err {
                        let mut m = log::start(log::Level::Error);
                        m.s("listener: ");
                        m.end_errno(err);
                    }
                    watch = None;
                }
                Event::Misbehaved => {
                    if exit_code.is_none() {
                        worker::stop_misbehaving(child.pid as u32);
                    }
                    watch = None;
                }
                Event::Unready => {
                    // Its worker could not be set up (and said why): the
                    // program never ran.
                    worker::stop_misbehaving(child.pid as u32);
                    unserved = true;
                    watch = None;
                }
            }
        }
        if let Some(i) = si {
            if fds[i].revents != 0 {
                status_open = report_status(child.status.as_fd(), prog);
            }
        }
        if fds[0].revents & POLLIN != 0 {
            while let Ok(Some(si)) = signal::read_signal(sigfd.as_fd()) {
                if si.signo == g::SIGCHLD as i32 {
                    continue;
                }
                let _ = sys::kill(child.pid, si.signo);
            }
            // Signals coalesce: reap until nothing is left.
            while let Ok(Some((pid, st))) =
                rustix::process::wait(rustix::process::WaitOptions::NOHANG)
            {
                if st.stopped() || st.continued() {
                    // A tracee of vigil's (PTRACE_TRACEME): not an exit.
                    continue;
                }
                if pid.as_raw_nonzero().get() == child.pid {
                    exit_code = Some(match (st.exit_status(), st.terminating_signal()) {
                        (Some(c), _) => c,
                        (None, Some(s)) => 128 + s,
                        _ => 1,
                    });
                }
            }
        }
        if let Some(code) = exit_code {
            let code = if unserved { 126 } else { code };
            // The child is gone, so its end of the pipe is closed: what it
            // said before dying (a failed exec) can be read without waiting.
            while status_open {
                status_open = report_status(child.status.as_fd(), prog);
            }
            return code;
        }
    }
}

/// Read one message of the status pipe and log a failed exec; false at EOF.
fn report_status(fd: BorrowedFd<'_>, prog: &[u8]) -> bool {
    match spawn::read_msg(fd) {
        Some((spawn::MSG_EXEC, e)) => {
            let mut l = log::start(log::Level::Error);
            l.s("cannot execute ").esc(prog).s(": ");
            l.end_errno(Errno::from_raw_os_error(e as i32));
            true
        }
        Some(_) => true,
        None => false,
    }
}

/// `PROG` as given if it has a slash, else the first match on `$PATH`.
fn resolve_prog(prog: &[u8], args: &Args) -> Buf<512> {
    let mut out = Buf::<512>::new();
    if prog.contains(&b'/') {
        out.put(prog);
        return out;
    }
    let mut path: &[u8] = b"/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
    let mut i = 0;
    while let Some(e) = args.env(i) {
        if let Some(v) = e.strip_prefix(b"PATH=") {
            path = v;
        }
        i += 1;
    }
    for dir in path.split(|&b| b == b':').filter(|d| !d.is_empty()) {
        out.clear();
        out.put(dir);
        out.s("/");
        out.put(prog);
        if rustix::fs::access(out.as_bytes(), rustix::fs::Access::EXEC_OK).is_ok() {
            return out;
        }
    }
    out.clear();
    out.put(prog);
    out
}

/// The kernel's notification structs must fit vigil's.
fn check_sizes() -> Result<(), Errno> {
    let (notif, resp, _) = seccomp::notif_sizes()?;
    if notif as usize > core::mem::size_of::<seccomp::Notif>() || resp > 24 {
        let mut l = log::start(log::Level::Error);
        l.s("the kernel's seccomp_notif is ")
            .u(notif as u64)
            .s(" bytes, vigil's ");
        l.u(core::mem::size_of::<seccomp::Notif>() as u64);
        l.end();
        return Err(Errno::RANGE);
    }
    Ok(())
}

fn usage(msg: &str) -> i32 {
    let mut l = log::start(log::Level::Error);
    l.s(msg)
        .s(" (usage: vigil run [--policy FILE] [--log quiet|info|debug] [--keep-fds] [--] PROG [ARGS...])");
    l.end();
    EXIT_USAGE
}
