//! PID 1: boot, supervise, shut down. Never exits and never panics: every
//! error is logged, and a fatal one ends in an orderly power-off.

pub mod boot;
pub mod channel;
pub mod services;
pub mod shutdown;
pub mod supervisor;

use crate::config::{self, Cmd, Config, Kind, PolicyRef, Restart};
use crate::input::{read_text, text, DEFAULT_CONFIG, DEFAULT_POLICY, MAX_FILE};
use crate::limits;
use crate::log;
use crate::out::{Buf, Sink};
use crate::policy::{self, Policy};
use crate::sys::cell::Once;
use crate::sys::signal::{self, SigSet};
use crate::sys::{self, poll, Args};
use crate::tables;
use linux_raw_sys::general as g;
use shutdown::Action;
use supervisor::{Supervisor, MAX_LOADED, MAX_SLOTS};

/// The kernel command line's text.
static CMDLINE: Once<[u8; 4096]> = Once::new([0; 4096]);

/// The config file's text, outside the stack: only the pages the text
/// fills become resident.
static FILE: Once<[u8; MAX_FILE]> = Once::new([0; MAX_FILE]);

/// The policies services run under, parsed in place: only the pages their
/// tables fill become resident (on the stack, every slot would be).
static POLICIES: Once<[Policy<'static>; MAX_LOADED]> =
    Once::new([const { Policy::unparsed() }; MAX_LOADED]);

/// The parsed config, outside the stack for the same reason. All zeros
/// (`parse_into` sets the real defaults), so that it lands in `.bss`.
static CONFIG: Once<Config<'static>> = Once::new(Config::zeroed());

/// Signals PID 1 takes through its signalfd.
const SIGNALS: SigSet = SigSet::of(&[
    g::SIGCHLD,
    g::SIGTERM,
    g::SIGINT,
    g::SIGUSR1,
    g::SIGUSR2,
    g::SIGPWR,
]);

pub fn main(args: &Args, had_stdio: bool) -> ! {
    // Boot time counts from `_start`, vigil's own first instruction.
    let t0 = match sys::started_ns() {
        0 => poll::now_ns(),
        t => t,
    };
    // Limits that could kill PID 1 are lifted before anything else; no
    // core dump, no ptrace or /proc/1/mem without CAP_SYS_PTRACE.
    let watch = limits::at_start();
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    let mask = SIGNALS;
    let _ = signal::set_mask(mask);
    let sigfd = signal::signalfd(mask).ok();
    let mounted = boot::mount_early();
    let container = boot::in_container();
    shutdown::set_container(container);
    boot::open_console(!container, had_stdio);
    // Log lines go to a non-blocking description of our own of the same
    // console (`log::set_console_nonblocking`): services share fds 0-2.
    // A terminal only: a new description of a regular file (a container's
    // log) would have an offset of its own and overwrite the services'.
    let on_tty = rustix::fs::fstat(sys::fd::stderr())
        .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_char_device());
    if on_tty {
        if let Ok(fd) = sys::open(
            b"/proc/self/fd/2",
            rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::NONBLOCK,
        ) {
            log::set_console_nonblocking(fd);
        }
    }
    // Services' `null` stdio are copies of this, opened before any of
    // them can replace the node.
    if let Ok(fd) = sys::open(b"/dev/null", rustix::fs::OFlags::RDWR) {
        crate::service::spawn::hold_null(fd);
    }
    if container {
        let mut l = log::start(log::Level::Info);
        l.s("PID 1 of a container: the machine's mounts, hostname and modules are left alone");
        l.end();
    } else {
        // Ctrl-Alt-Del becomes SIGINT to us instead of an instant reboot.
        let _ = rustix::system::reboot(rustix::system::RebootCommand::CadOff);
    }

    // Static, as the config text below: the policies borrow from both.
    let cmdline_buf = CMDLINE.take().map_or(&mut [][..], |b| &mut b[..]);
    let n = sys::read_file(b"/proc/cmdline", cmdline_buf).unwrap_or(0);
    let cmdline = boot::parse_cmdline(&cmdline_buf[..n], |word, why| {
        let mut l = log::start(log::Level::Warn);
        l.s("kernel command line: `").esc(word).s("`: ").s(why);
        l.end();
    });

    // Outside the stack (see `FILE`); a second take cannot happen.
    let file_buf = FILE.take().map_or(&mut [][..], |b| &mut b[..]);
    // A config named but unusable stops the boot, as an invalid one does:
    // never a machine up without the services it was meant to run.
    let Some((src, name)) = load_config(&cmdline, file_buf) else {
        give_up("the config cannot be read", None, &mounted, t0)
    };
    let Some(cfg) = CONFIG.take() else {
        fatal(
            "vigil: the config cell was taken twice\n",
            None,
            &mounted,
            t0,
        )
    };
    let arch = tables::native();
    load(src, cfg, &cmdline, arch, name, &mounted, t0);
    let mut l = log::start(log::Level::Info);
    l.s("PID 1 up in ")
        .u((poll::now_ns() - t0) / 1000)
        .s(" us, config ")
        .s(name);
    l.end();

    if let Some(h) = cfg.hostname {
        if container && boot::machine_uts() {
            let mut l = log::start(log::Level::Warn);
            l.s("hostname: not set: this container shares the machine's uts namespace");
            l.end();
        } else if let Err(e) = rustix::system::sethostname(h.as_bytes()) {
            let mut l = log::start(log::Level::Warn);
            l.s("hostname: ");
            l.end_errno(e);
        }
    }
    if container && !cfg.modules.is_empty() {
        let mut l = log::start(log::Level::Warn);
        l.s("modules: not loaded: in a container they would be the machine's kernel's");
        l.end();
    } else {
        for m in &cfg.modules {
            load_module(m);
        }
    }
    // The result channel before any service starts: then none can hold it.
    if let Some(path) = cmdline.result {
        if !channel::open(path) {
            give_up("the result channel cannot be opened", None, &mounted, t0);
        }
    }
    if !mount_all(cfg, name) {
        give_up("a mount line failed", None, &mounted, t0);
    }

    // The test program of test-run mode: from the command line, or the
    // config's `test` line, or its `kind test` service.
    let mut args_buf: heapless::Vec<&str, { config::MAX_ARGS }> = heapless::Vec::new();
    let test_cmd = match cmdline.test {
        Some(path) => {
            // Size: split as bytes, not with a `char` pattern (measured); the
            // pieces end at ASCII bytes, so they stay UTF-8.
            let args = cmdline.args.unwrap_or("").as_bytes();
            for a in args.split(|&b| b == b' ' || b == b',') {
                if !a.is_empty() {
                    let _ = args_buf.push(text(a));
                }
            }
            Some(Cmd {
                path,
                args: args_buf,
                line: 0,
            })
        }
        None => cfg.test.clone(),
    };
    let mut test = cfg.test_service();
    match (test, test_cmd) {
        // `vigil.test=` runs its program in the test service's sandbox.
        (Some(i), Some(cmd)) => cfg.services[i].exec = cmd,
        // Otherwise the test program goes in the spare slot after the
        // services.
        (None, Some(cmd)) => {
            let mut t = config::Service::new("test", cmd.line);
            t.exec = cmd;
            t.kind = Kind::Oneshot;
            t.test = true;
            t.required = false;
            t.restart = Restart::Never;
            t.policy = cfg.test_policy;
            test = Some(cfg.services.len());
            let _ = cfg.services.push(t);
        }
        _ => {}
    }
    let cfg: &Config = cfg;
    let services = &cfg.services[..];

    // Parse every policy in use once, in place; notifications are answered
    // from these.
    let slots = POLICIES.take().map_or(&mut [][..], |p| &mut p[..]);
    let mut loaded = 0;
    let mut policy_of = [None; MAX_SLOTS];
    for (i, s) in services.iter().enumerate() {
        let text = match s.policy {
            PolicyRef::None => continue,
            PolicyRef::Default => DEFAULT_POLICY,
            ref r => match cfg.policy_text(r) {
                Some(t) => t.text,
                None => continue,
            },
        };
        // Named policies are shared: reuse one already loaded from the same text.
        if let Some(j) =
            (0..i).find(|&j| policy_of[j].is_some() && same_policy(&services[j].policy, &s.policy))
        {
            policy_of[i] = policy_of[j];
            continue;
        }
        let Some(slot) = slots.get_mut(loaded) else {
            let mut l = log::about(log::Level::Error, s.name);
            l.s("too many distinct policies (the limit is ")
                .u(MAX_LOADED as u64)
                .s("): not started");
            l.end();
            policy_of[i] = Some(u8::MAX);
            continue;
        };
        match policy::parse_into(text, arch, slot) {
            Ok(()) => {
                policy_of[i] = Some(loaded as u8);
                loaded += 1;
            }
            // Checked above; cannot happen, but never run it unfiltered.
            Err(_) => policy_of[i] = Some(u8::MAX),
        }
    }
    let policies = &slots[..loaded];

    let mut sup = Supervisor {
        cfg,
        rts: [services::Runtime::new(); MAX_SLOTS],
        policy_of,
        policies,
        arch,
        listeners: heapless::Vec::new(),
        status: heapless::Vec::new(),
        handovers: heapless::Vec::new(),
        test,
        shutdown: None,
        sigfd,
        filter_flags: crate::notify::probe::probe(),
        env: Some(args),
        deep: false,
        protect: guarding_pid1(),
        limits: watch,
        test_status: None,
    };
    for (i, p) in policy_of.iter().enumerate() {
        if *p == Some(u8::MAX) {
            sup.rts[i].state = services::State::Failed;
        }
    }
    // The cgroup controllers every service needs, enabled before any runs
    // (see `cgroup::enable`); a failure is said again at each start.
    let mut limits = [0u64; 3];
    for svc in services {
        for (l, v) in limits.iter_mut().zip(svc.confine.limits) {
            *l |= v;
        }
    }
    if limits != [0; 3] {
        if let Err((what, e)) = crate::service::cgroup::enable(&limits) {
            let mut l = log::start(log::Level::Warn);
            l.s(what).s(": ");
            l.end_errno(e);
        }
    }
    let action = sup.run();
    let start = sup.shutdown.map(|p| p.start_ns).unwrap_or(t0);
    shutdown::finish(action, &mounted, start, sup.test_status)
}

/// What every service's filter protects: PID 1, and its process group
/// where the service's namespace can name it.
fn guarding_pid1() -> crate::policy::protect::Protect {
    let mut p = crate::policy::protect::Protect::pid1(&[]);
    let g = sys::proc::pgrp();
    if g != 0 {
        let _ = p.pgrps.push(g);
    }
    p
}

fn same_policy(a: &PolicyRef, b: &PolicyRef) -> bool {
    match (a, b) {
        (PolicyRef::Default, PolicyRef::Default) => true,
        (PolicyRef::Named(x), PolicyRef::Named(y)) => x == y,
        _ => false,
    }
}

/// The config: `vigil.config=PATH`, else `/etc/vigil.conf` if present,
/// else the embedded one; with the name its messages use. `None` once
/// `read_text` said why the file cannot be used.
fn load_config<'b>(cmdline: &boot::Cmdline<'b>, buf: &'b mut [u8]) -> Option<(&'b str, &'b str)> {
    let path = match cmdline.config {
        Some(p) => p,
        None if rustix::fs::access("/etc/vigil.conf", rustix::fs::Access::EXISTS).is_ok() => {
            "/etc/vigil.conf"
        }
        None => return Some((DEFAULT_CONFIG, "<embedded config>")),
    };
    Some((read_text(path.as_bytes(), "config", buf)?, path))
}

fn set_log_level(cfg: &Config, cmdline: &boot::Cmdline) {
    let mut level = match cfg.log {
        config::LogLevel::Quiet => log::Level::Error,
        config::LogLevel::Info => log::Level::Info,
        config::LogLevel::Debug => log::Level::Debug,
    };
    if cmdline.quiet {
        level = log::Level::Error;
    }
    if let Some(l) = cmdline.log {
        level = l;
    }
    log::set_max(level);
}

/// The config's `mount` lines, in order: false at the first that fails
/// (logged with its place), for the boot not to run services without it.
// Stack: out of line, its buffers are not part of `main`'s frame.
#[inline(never)]
fn mount_all(cfg: &Config, file: &str) -> bool {
    for m in &cfg.mounts {
        // A missing mount point is made, with its parents (a share inside
        // a tmpfs mounted by an earlier line); errors show in the mount.
        let t = m.target.as_bytes();
        for end in (1..=t.len()).filter(|&i| i == t.len() || t[i] == b'/') {
            let _ = rustix::fs::mkdir(&t[..end], rustix::fs::Mode::from_raw_mode(0o755));
        }
        let mut flags = 0;
        let mut data = Buf::<{ config::MAX_LINE + 1 }>::new();
        // Size: the core's `cut`, not `str::split`, whose copy here the
        // crate split left to this one caller (measured).
        let mut rest = m.options;
        while !rest.is_empty() {
            let o;
            (o, rest) = crate::words::cut(rest, b',');
            match o {
                "" => {}
                "ro" => flags |= g::MS_RDONLY,
                "nosuid" => flags |= g::MS_NOSUID,
                "nodev" => flags |= g::MS_NODEV,
                "noexec" => flags |= g::MS_NOEXEC,
                _ => {
                    if !data.is_empty() {
                        data.s(",");
                    }
                    data.s(o);
                }
            }
        }
        data.put(b"\0");
        let data_c = core::ffi::CStr::from_bytes_until_nul(data.as_bytes()).unwrap_or(c"");
        let r = crate::service::mount::mount(
            m.source.as_bytes(),
            m.target.as_bytes(),
            m.fstype.as_bytes(),
            flags,
            Some(data_c),
        );
        let mut l = log::start(if r.is_ok() {
            log::Level::Debug
        } else {
            log::Level::Error
        });
        l.s(file)
            .s(":")
            .u(m.line as u64)
            .s(": mount ")
            .s(m.fstype)
            .s(" ");
        l.s(m.source).s(" on ").s(m.target);
        match r {
            Ok(()) => l.end(),
            Err(e) => {
                l.s(": ");
                l.end_errno(e);
                return false;
            }
        }
    }
    true
}

/// `finit_module(2)` of one configured module; failures name the module.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn load_module(m: &Cmd) {
    let mut params = Buf::<512>::new();
    for (i, a) in m.args.iter().enumerate() {
        if i > 0 {
            params.s(" ");
        }
        params.s(a);
    }
    params.put(b"\0");
    let params_c = core::ffi::CStr::from_bytes_until_nul(params.as_bytes()).unwrap_or(c"");
    // Size: `sys::open`, not rustix's generic `open` for a `&str` (measured).
    let r = sys::open(m.path.as_bytes(), rustix::fs::OFlags::RDONLY)
        .and_then(|fd| rustix::system::finit_module(&fd, params_c, 0));
    match r {
        Ok(()) | Err(sys::Errno::EXIST) => {
            let mut l = log::start(log::Level::Debug);
            l.s("module ").s(m.path).s(" loaded");
            l.end();
        }
        Err(e) => {
            let mut l = log::start(log::Level::Error);
            l.s("module ").s(m.path).s(": ");
            l.end_errno(e);
        }
    }
}

/// Parse the config into `cfg` and check its policies; on any error,
/// report every one with its place and `fatal`.
// Stack: out of line, the error table and its text are not part of
// `main`'s frame for the whole life of PID 1 (the stack probes touch every
// page of a frame). Size: one report for parse and policy errors
// (measured). The shell is the config's: none when it did not parse.
#[inline(never)]
fn load<'a>(
    src: &'a str,
    cfg: &mut Config<'a>,
    cmdline: &boot::Cmdline,
    arch: &crate::arch::Arch,
    name: &str,
    mounted: &boot::Mounted,
    t0: u64,
) {
    let mut errs = config::ConfigErrors::new();
    let mut shell = None;
    match config::parse_into(src, cfg) {
        Ok(()) => {
            set_log_level(cfg, cmdline);
            config::check_policies(cfg, arch, &mut errs);
            shell = cfg.emergency_shell.as_ref();
        }
        Err(e) => errs = e,
    }
    if !errs.is_empty() {
        let mut out = Buf::<8192>::new();
        errs.render(name, &mut out);
        fatal(out.as_str(), shell, mounted, t0);
    }
}

/// A config that cannot boot: its errors, then `give_up`.
fn fatal(msg: &str, shell: Option<&Cmd>, mounted: &boot::Mounted, t0: u64) -> ! {
    let _ = sys::write_all(sys::fd::stderr(), msg.as_bytes());
    give_up("the config is invalid", shell, mounted, t0)
}

/// A boot that cannot go on: say why (also on the result channel), give
/// the emergency shell its turn, then power off in order.
fn give_up(why: &str, shell: Option<&Cmd>, mounted: &boot::Mounted, t0: u64) -> ! {
    let mut l = log::start(log::Level::Error);
    l.s("cannot boot: ").s(why);
    l.end();
    let mut c = Buf::<80>::new();
    c.s("error ").s(why);
    channel::say(c.as_bytes());
    if let Some(sh) = shell {
        run_shell(sh);
    }
    shutdown::finish(Action::PowerOff, mounted, t0, Some(1))
}

/// Run the emergency shell on the console and wait for it.
fn run_shell(sh: &Cmd) {
    if rustix::fs::access(sh.path.as_bytes(), rustix::fs::Access::EXEC_OK).is_err() {
        let mut l = log::start(log::Level::Error);
        l.s("emergency shell ").s(sh.path).s(" is not there");
        l.end();
        return;
    }
    let mut exec = crate::sys::exec::ExecBuf::new();
    let _ = exec.arg(sh.path.as_bytes());
    for a in &sh.args {
        let _ = exec.arg(a.as_bytes());
    }
    let _ = exec.env(b"PATH", b"/usr/sbin:/usr/bin:/sbin:/bin");
    let mut spec = crate::service::spawn::Spawn::plain(sh.path.as_bytes(), &exec);
    spec.cwd = Some(b"/");
    spec.new_session = true;
    let mut l = log::start(log::Level::Info);
    l.s("starting the emergency shell ")
        .s(text(sh.path.as_bytes()));
    l.end();
    if let Ok(c) = crate::service::spawn::spawn(&spec) {
        // Signals stay blocked; wait for the shell, reaping anything else.
        while let Ok(Some((pid, _))) = rustix::process::wait(rustix::process::WaitOptions::empty())
        {
            if pid.as_raw_nonzero().get() == c.pid {
                break;
            }
        }
    }
}
