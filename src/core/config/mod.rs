//! The boot configuration (`vigil.conf`): text in, `Config` out. Pure: no
//! I/O, no allocation; every string in a `Config` is a slice of the text.
//!
//! The format is line-based, in the policy language's lexical style: `#`
//! starts a comment where a token could start, tokens are separated by
//! spaces or tabs, a token may be quoted with `"..."` or `'...'` (no
//! escapes: the token is the text between the quotes), and no line may be
//! longer than `MAX_LINE` bytes. Top-level directives:
//!
//! ```text
//! hostname NAME
//! log quiet|info|debug
//! grace DURATION                     # default 3s; DURATION = 100ms, 5s, 2m
//! emergency-shell PATH [ARGS...]
//! module PATH [PARAMS...]            # repeatable, loaded in order
//! mount SOURCE TARGET TYPE [OPTIONS] # repeatable, mounted in order after
//!                                    # the modules; a failure stops the boot
//! test PATH [ARGS...]
//! test-policy NAME|default|none      # or `test-policy {` ... `}`
//! policy NAME {                      # a named policy, body in the
//!     ...                            # policy language
//! }
//! service NAME {
//!     exec PATH [ARGS...]            # required, PATH absolute
//!     kind daemon|oneshot|test       # default daemon; `test`: the test
//!                                    # program (one at most, no `test` line)
//!     required yes|no                # oneshot only, default yes
//!     env KEY=VALUE                  # repeatable
//!     cwd PATH
//!     user UID                       # needs `group`
//!     group GID
//!     groups GID...
//!     stdin|stdout|stderr console|null|PATH
//!     rlimit NAME SOFT [HARD]        # numbers or `unlimited`
//!     policy NAME|default|none       # or `policy {` ... `}`
//!     restart never|on-failure|always
//!     backoff MIN MAX                # default 100ms 10s
//!     restart-limit COUNT WINDOW     # default 5 60s
//!     stop-signal NAME|NUMBER        # default SIGTERM
//!     env-pass KEY...                # copy KEY from vigil's environment
//!     # Confinement (see "Sandbox" below):
//!     no-new-privs yes|no            # default yes
//!     capabilities CAP_NAME...|none  # keep only these (bounding+ambient)
//!     namespaces mount pid ipc uts net cgroup user   # any of them
//!     read-only PATH...              # read-only binds, repeatable
//!     private-tmp yes|no             # default no
//!     root PATH
//!     read-only-root yes|no          # default no, needs `root`
//!     landlock-read PATH...          # repeatable
//!     landlock-write PATH...         # repeatable
//!     landlock required|optional     # default optional
//!     pids-max N|max                 # cgroup v2 limits (numbers >= 1)
//!     memory-max BYTES|max           # BYTES may end in K, M or G
//!     cpu-max QUOTA|max [PERIOD]     # microseconds, PERIOD 100000
//! }
//! ```
//!
//! The environment of a service is `env` lines, `env-pass` keys found in
//! vigil's own environment (what the kernel gave PID 1: `HOME`, `TERM`
//! and unknown `KEY=VALUE` words of its command line), and `PATH` (a
//! default one unless given): nothing else of vigil's is passed on.
//!
//! Sandbox. Applied in the child between fork and exec, in this order:
//! cgroup (then the cgroup namespace), namespaces (given to the fork
//! itself), mounts, root, masks, Landlock, capabilities around the uid
//! change; then, as the service, cwd and stdio; no_new_privs, then the
//! seccomp filter.
//! - `no-new-privs no` is the explicit statement that the service runs
//!   setuid binaries. Landlock needs it on; a seccomp filter without it
//!   needs CAP_SYS_ADMIN (root, or `capabilities` keeping it).
//! - `capabilities`: the bounding set is cut to the list; with `user` the
//!   list is kept across the uid change as ambient capabilities (so a
//!   non-root service can bind port 80 with CAP_NET_BIND_SERVICE). `none`
//!   leaves even root without capabilities. Not given: root keeps all,
//!   another uid has none.
//! - `namespaces`: new namespaces of these kinds. `pid` makes the service
//!   PID 1 of its namespace, with its own `/proc` (and so implies
//!   `mount`); such a PID 1 only gets the signals it handles (and
//!   SIGKILL), so a stop signal it ignores waits for the grace period.
//!   `user`: the service is 0 inside, its `user` and `group` outside
//!   (both required, not 0; `groups` refused). `cgroup`: rooted at the
//!   service's own cgroup.
//! - Root (no `user`, or `user 0`) outside a user namespace whose
//!   `capabilities` cut CAP_SYS_ADMIN is masked (`Confine::MASKED`, which
//!   implies `mount`): `/proc/sys`, `/sys` and other control files
//!   read-only, a `/dev` of its own.
//! - `read-only`, `private-tmp` and `read-only-root` imply `mount`;
//!   `read-only` paths are inside `root` when both are given.
//! - `root`: pivot_root into PATH in the service's own mount namespace,
//!   or chroot where pivot_root cannot be (the initramfs rootfs). Without
//!   CAP_SYS_CHROOT (drop it with `capabilities`) there is no way out.
//! - `landlock-read` / `landlock-write`: with either, every path outside
//!   the lists is refused (the program itself must be under one of them).
//!   Paths are inside `root`. Where the kernel has no Landlock, `optional`
//!   logs a warning and starts the service without it; `required` refuses
//!   to start it.
//! - `pids-max`, `memory-max`, `cpu-max`: the service starts in the cgroup
//!   v2 group `/sys/fs/cgroup/vigil-NAME` with these limits; where that
//!   cannot be set up, the service is not started.
//!
//! `parse` checks everything but the policy bodies, which need an arch:
//! `check_policies` parses those and reports their errors at config lines.

mod error;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

use heapless::Vec;

use crate::words::{self, keywords};

use crate::arch::Arch;

pub use error::{ConfigError, ConfigErrorKind, ConfigErrors, Context, MAX_ERRORS};
pub use parse::{parse, parse_into};

/// Longest line accepted, in bytes (the policy language's limit).
pub use crate::words::MAX_LINE;
/// Most services one config can declare.
pub const MAX_SERVICES: usize = 32;
/// Most named policies one config can define.
pub const MAX_POLICIES: usize = 16;
/// Most arguments of one command, not counting its path.
pub const MAX_ARGS: usize = 16;
/// Most `env` lines per service.
pub const MAX_ENV: usize = 16;
/// Most supplementary groups per service.
pub const MAX_GROUPS: usize = 8;
/// Most `rlimit` lines per service.
pub const MAX_RLIMITS: usize = 8;
/// Most `module` lines.
pub const MAX_MODULES: usize = 16;
/// Most `mount` lines.
pub const MAX_MOUNTS: usize = 16;
/// Longest hostname the kernel accepts (`HOST_NAME_MAX`).
pub const MAX_HOSTNAME: usize = 64;

/// Most entries of one sandbox list (`read-only`, `landlock-read`, ...,
/// `env-pass`).
pub const MAX_PATHS: usize = 8;

/// Default shutdown grace before SIGKILL, in milliseconds.
pub const DEFAULT_GRACE_MS: u32 = 3_000;
/// Default first restart delay, in milliseconds.
pub const DEFAULT_BACKOFF_MIN_MS: u32 = 100;
/// Default cap of the doubling restart delay, in milliseconds.
pub const DEFAULT_BACKOFF_MAX_MS: u32 = 10_000;
/// Default restart limit: more restarts than this within the window fail
/// the service.
pub const DEFAULT_RESTART_LIMIT: u32 = 5;
/// Default restart-limit window, in milliseconds.
pub const DEFAULT_RESTART_WINDOW_MS: u32 = 60_000;
/// SIGTERM, the default stop signal.
pub const SIGTERM: u8 = 15;
/// `RLIM_INFINITY`: what `unlimited` stands for.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// The whole boot configuration.
#[derive(Clone, Debug)]
pub struct Config<'a> {
    /// `hostname NAME`: set at boot if given.
    pub hostname: Option<&'a str>,
    /// `log quiet|info|debug`; default `info`.
    pub log: LogLevel,
    /// `grace DURATION`: how long services get between the stop signal and
    /// SIGKILL at shutdown, in milliseconds.
    pub grace_ms: u32,
    /// `emergency-shell PATH [ARGS...]`: what to run when boot fails.
    pub emergency_shell: Option<Cmd<'a>>,
    /// `module PATH [PARAMS...]` lines, in order. The arguments are the
    /// module parameters, to be joined with spaces.
    pub modules: Vec<Cmd<'a>, MAX_MODULES>,
    /// `mount SOURCE TARGET TYPE [OPTIONS]` lines, in order.
    pub mounts: Vec<Mount<'a>, MAX_MOUNTS>,
    /// `test PATH [ARGS...]`: the main program of test-run mode.
    pub test: Option<Cmd<'a>>,
    /// `test-policy ...`: the policy of the test program (no filter if not
    /// given).
    pub test_policy: PolicyRef<'a>,
    /// `policy NAME { ... }` blocks, in order; `PolicyRef::Named` indexes this.
    pub policies: Vec<NamedPolicy<'a>, MAX_POLICIES>,
    /// `service NAME { ... }` blocks, in declaration (= start) order: at
    /// most `MAX_SERVICES`; PID 1 appends the test program in the spare slot.
    pub services: Vec<Service<'a>, { MAX_SERVICES + 1 }>,
}

/// How much vigil logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Errors only.
    Quiet,
    /// Service starts, exits, restarts, and errors.
    Info,
    /// Everything, including each notification decision.
    Debug,
}

/// A program and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd<'a> {
    /// Absolute path of the program (also its `argv[0]`).
    pub path: &'a str,
    /// The arguments after the path (`argv[1..]`).
    pub args: Vec<&'a str, MAX_ARGS>,
    /// The line the command was written on (1-based).
    pub line: u32,
}

/// `mount SOURCE TARGET TYPE [OPTIONS]`: a filesystem PID 1 mounts at
/// boot (a share of the host, a disk), after loading the modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mount<'a> {
    /// What to mount: a device, a share's tag, or a name for a virtual filesystem.
    pub source: &'a str,
    /// Absolute; made (one level) if missing.
    pub target: &'a str,
    /// The filesystem type (`ext4`, `9p`, `tmpfs`, ...).
    pub fstype: &'a str,
    /// Comma-separated: `ro`, `nosuid`, `nodev` and `noexec` are flags,
    /// the rest goes to the filesystem as its data. Empty if not given.
    pub options: &'a str,
    /// The line it was written on (1-based).
    pub line: u32,
}

/// A policy body: a slice of the config text, in the policy language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyText<'a> {
    /// The lines between the opening line (`... {`) and the closing `}`,
    /// each with its newline; empty if there are none. It starts at the
    /// start of a line, so columns in it are config columns.
    pub text: &'a str,
    /// The config line (1-based) of the first line of `text`: a policy
    /// error at line L of `text` is at config line `L + first_line - 1`.
    pub first_line: u32,
}

impl PolicyText<'_> {
    /// The config line of line `line` (1-based) of the body.
    pub fn config_line(&self, line: u32) -> u32 {
        line.saturating_add(self.first_line).saturating_sub(1)
    }
}

/// Which policy a service (or the test program) runs under.
// `u8`, `None` first: an all-zero `Config` is a valid one (see `init::CONFIG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PolicyRef<'a> {
    /// `none`: no seccomp filter at all (and the test program's default).
    None,
    /// `default`, or nothing said: vigil's embedded default policy.
    Default,
    /// `NAME`: an index into `Config::policies`.
    Named(usize),
    /// `policy { ... }`: a body of its own.
    Inline(PolicyText<'a>),
}

/// `policy NAME { ... }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedPolicy<'a> {
    /// The name services refer to it by.
    pub name: &'a str,
    /// The policy itself.
    pub body: PolicyText<'a>,
    /// The line of `policy NAME {`.
    pub line: u32,
}

/// What a service is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Runs until stopped; restarted per its `restart` setting.
    Daemon,
    /// Runs to completion before the services after it start.
    Oneshot,
}

/// When a service that exited is started again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Never: an exit is final.
    Never,
    /// After an exit status other than 0, or death by a signal.
    OnFailure,
    /// After any exit, even status 0.
    Always,
}

/// Where a standard stream of a service goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio<'a> {
    /// vigil's console.
    Console,
    /// `/dev/null`.
    Null,
    /// A file (absolute path): read for stdin, appended to (created if
    /// missing) for stdout and stderr. Opened by the service itself, once
    /// it is sandboxed: inside its root, with its rights.
    Path(&'a str),
}

keywords! {
    /// A resource of `setrlimit(2)`, by its config name.
    pub Resource {
        Cpu = "cpu",
        Fsize = "fsize",
        Data = "data",
        Stack = "stack",
        Core = "core",
        Nproc = "nproc",
        Nofile = "nofile",
        Memlock = "memlock",
        As = "as",
    }
}

impl Resource {
    /// The resource named `name` in the config (`nofile`, ...).
    pub fn by_name(name: &str) -> Option<Resource> {
        Self::of(name)
    }

    /// The config name.
    pub fn name(self) -> &'static str {
        self.word()
    }

    /// `RLIMIT_*`: the same on x86_64 and aarch64 (asm-generic).
    pub fn number(self) -> u32 {
        match self {
            Resource::Cpu => 0,
            Resource::Fsize => 1,
            Resource::Data => 2,
            Resource::Stack => 3,
            Resource::Core => 4,
            Resource::Nproc => 6,
            Resource::Nofile => 7,
            Resource::Memlock => 8,
            Resource::As => 9,
        }
    }
}

/// `rlimit NAME SOFT [HARD]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// Which limit.
    pub resource: Resource,
    /// `RLIM_INFINITY` for `unlimited`.
    pub soft: u64,
    /// `soft` when not given; never below `soft`.
    pub hard: u64,
}

/// `service NAME { ... }`.
#[derive(Clone, Debug)]
pub struct Service<'a> {
    /// Its name, unique in the config: for logs and errors.
    pub name: &'a str,
    /// The line of `service NAME {`.
    pub line: u32,
    /// `exec PATH [ARGS...]`.
    pub exec: Cmd<'a>,
    /// A daemon or a oneshot.
    pub kind: Kind,
    /// `kind test`: the test program of test-run mode. It is a oneshot
    /// that nothing waits for: never required, never restarted.
    pub test: bool,
    /// For a oneshot: does its failure stop the boot (and shut vigil down)?
    /// Always false for a daemon.
    pub required: bool,
    /// `env KEY=VALUE` entries, whole, in order; keys are unique.
    pub env: Vec<&'a str, MAX_ENV>,
    /// Working directory (absolute); `/` if not given.
    pub cwd: Option<&'a str>,
    /// `user UID`: the uid to run as; vigil's (root) if not given. A
    /// `user` needs a `group` (vigil reads no user database to find one).
    pub user: Option<u32>,
    /// `group GID`: the gid to run as; vigil's (root) if not given.
    pub group: Option<u32>,
    /// `groups GID...`: supplementary groups; none if not given.
    pub groups: Vec<u32, MAX_GROUPS>,
    /// `stdin`: where its standard input comes from.
    pub stdin: Stdio<'a>,
    /// `stdout`: where its standard output goes.
    pub stdout: Stdio<'a>,
    /// `stderr`: where its standard error goes.
    pub stderr: Stdio<'a>,
    /// One per resource at most.
    pub rlimits: Vec<Rlimit, MAX_RLIMITS>,
    /// The seccomp policy it runs under.
    pub policy: PolicyRef<'a>,
    /// Default: `never` for a oneshot, `on-failure` for a daemon.
    pub restart: Restart,
    /// The first restart delay; it doubles on each restart up to the max.
    pub backoff_min_ms: u32,
    /// The longest restart delay.
    pub backoff_max_ms: u32,
    /// More than `restart_limit` restarts within `restart_window_ms` mark
    /// the service failed: it is not restarted again.
    pub restart_limit: u32,
    /// The window `restart_limit` counts restarts in.
    pub restart_window_ms: u32,
    /// The signal that asks the service to stop (1..=64).
    pub stop_signal: u8,
    /// The sandbox directives and `env-pass`.
    pub confine: Confine<'a>,
}

/// Which of `Confine::limits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `pids-max`.
    Pids,
    /// `memory-max`.
    Memory,
    /// `cpu-max`'s quota.
    Cpu,
}

/// A service's confinement, as the config says it (`Sandbox` at spawn).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confine<'a> {
    /// `Confine::NO_NEW_PRIVS` and the other flags.
    pub flags: u8,
    /// `capabilities`: the mask kept; `None`: not given.
    pub caps: Option<u64>,
    /// `namespaces`: `CLONE_NEW*` flags (with `CLONE_NEWNS` added where
    /// another directive needs it).
    pub namespaces: u32,
    /// `read-only`: paths.
    pub read_only: Vec<&'a str, MAX_PATHS>,
    /// `landlock-read`: paths.
    pub landlock_read: Vec<&'a str, MAX_PATHS>,
    /// `landlock-write`: paths.
    pub landlock_write: Vec<&'a str, MAX_PATHS>,
    /// `env-pass`: variable names.
    pub env_pass: Vec<&'a str, MAX_PATHS>,
    /// `root`: the directory it runs in as its `/` (pivot_root); `None`: the host's.
    pub root: Option<&'a str>,
    /// `pids-max`, `memory-max`, `cpu-max`'s quota (by `Limit`): 0 when
    /// not given, `u64::MAX` for `max`.
    pub limits: [u64; 3],
    /// `cpu-max`'s period in microseconds.
    pub cpu_period: u64,
}

impl<'a> Confine<'a> {
    /// `no-new-privs yes` (the default).
    pub const NO_NEW_PRIVS: u8 = 1;
    /// `private-tmp yes`: a tmpfs of its own on `/tmp`.
    pub const PRIVATE_TMP: u8 = 2;
    /// `read-only-root yes`: its `root` mounted read-only.
    pub const READ_ONLY_ROOT: u8 = 4;
    /// `landlock required`.
    pub const LANDLOCK_REQUIRED: u8 = 8;
    /// Runs as uid 0 with CAP_SYS_ADMIN cut (`capabilities`), outside a
    /// user namespace: the kernel's control files are masked (set by the
    /// parser, never written in a config).
    pub const MASKED: u8 = 16;

    /// Is `flag` (one of the constants above) set?
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// `read-only` paths.
    pub fn read_only(&self) -> &[&'a str] {
        &self.read_only
    }

    /// `landlock-read` paths.
    pub fn landlock_read(&self) -> &[&'a str] {
        &self.landlock_read
    }

    /// `landlock-write` paths.
    pub fn landlock_write(&self) -> &[&'a str] {
        &self.landlock_write
    }

    /// `env-pass` keys.
    pub fn env_pass(&self) -> &[&'a str] {
        &self.env_pass
    }

    /// Does the service get a cgroup of its own?
    // Inline: across the crate boundary LTO left it a call (44 B on aarch64).
    #[inline]
    pub fn has_limits(&self) -> bool {
        self.limits != [0; 3]
    }
}

impl<'a> Service<'a> {
    /// A service with every default, and no `exec` yet.
    // Size: one copy of the defaults for the parser and PID 1 (measured).
    #[inline(never)]
    pub fn new(name: &'a str, line: u32) -> Self {
        Service {
            name,
            line,
            exec: Cmd {
                path: "",
                args: Vec::new(),
                line: 0,
            },
            kind: Kind::Daemon,
            test: false,
            required: false,
            env: Vec::new(),
            cwd: None,
            user: None,
            group: None,
            groups: Vec::new(),
            stdin: Stdio::Null,
            stdout: Stdio::Console,
            stderr: Stdio::Console,
            rlimits: Vec::new(),
            policy: PolicyRef::Default,
            restart: Restart::OnFailure,
            backoff_min_ms: DEFAULT_BACKOFF_MIN_MS,
            backoff_max_ms: DEFAULT_BACKOFF_MAX_MS,
            restart_limit: DEFAULT_RESTART_LIMIT,
            restart_window_ms: DEFAULT_RESTART_WINDOW_MS,
            stop_signal: SIGTERM,
            confine: Confine {
                flags: Confine::NO_NEW_PRIVS,
                ..Confine::default()
            },
        }
    }
}

impl Default for Config<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Config<'a> {
    /// An empty config: every default, no services.
    pub const fn new() -> Self {
        let mut c = Self::zeroed();
        c.log = LogLevel::Info;
        c.grace_ms = DEFAULT_GRACE_MS;
        c
    }

    /// An empty config whose every byte is zero, so that a `static` of it
    /// lands in `.bss` (PID 1's, see `init::CONFIG`); `reset` or `new`
    /// give it its defaults.
    pub const fn zeroed() -> Self {
        Config {
            hostname: None,
            log: LogLevel::Quiet,
            grace_ms: 0,
            emergency_shell: None,
            modules: Vec::new(),
            mounts: Vec::new(),
            test: None,
            test_policy: PolicyRef::None,
            policies: Vec::new(),
            services: Vec::new(),
        }
    }

    /// Back to `new()`, in place: a config that lives outside the stack is
    /// not rebuilt there as a temporary (that would touch every page).
    pub fn reset(&mut self) {
        self.hostname = None;
        self.log = LogLevel::Info;
        self.grace_ms = DEFAULT_GRACE_MS;
        self.emergency_shell = None;
        self.modules.clear();
        self.mounts.clear();
        self.test = None;
        self.test_policy = PolicyRef::None;
        self.policies.clear();
        self.services.clear();
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service<'a>> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The test program's service (`kind test`), by index.
    pub fn test_service(&self) -> Option<usize> {
        self.services.iter().position(|s| s.test)
    }

    /// The index of the named policy `name`.
    pub fn policy_index(&self, name: &str) -> Option<usize> {
        self.policies.iter().position(|p| p.name == name)
    }

    /// The body a reference stands for: `None` for `Default` and `None`
    /// (the caller knows what those mean) and for an index out of range.
    pub fn policy_text(&self, r: &PolicyRef<'a>) -> Option<PolicyText<'a>> {
        match *r {
            PolicyRef::Named(i) => self.policies.get(i).map(|p| p.body),
            PolicyRef::Inline(t) => Some(t),
            PolicyRef::Default | PolicyRef::None => None,
        }
    }
}

/// A capability's number from its name (`CAP_NET_BIND_SERVICE` or
/// `net_bind_service`).
// Size: out of line (measured).
#[inline(never)]
pub fn cap_number(name: &str) -> Option<u32> {
    const NAMES: &str = "chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap \
        linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module \
        sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time \
        sys_tty_config mknod lease audit_write audit_control setfcap mac_override mac_admin syslog \
        wake_alarm block_suspend audit_read perfmon bpf checkpoint_restore";
    let bare = name
        .strip_prefix("CAP_")
        .or_else(|| name.strip_prefix("cap_"))
        .unwrap_or(name);
    words::find_in(NAMES, bare.as_bytes(), true).map(|i| i as u32)
}

/// Parse every policy body of `cfg` (named, inline, the test policy's) for
/// `arch`, and add the errors to `errors` at config lines and columns, each
/// naming the policy it is in. Named policies are checked once each.
pub fn check_policies<'a>(cfg: &Config<'a>, arch: &Arch, errors: &mut ConfigErrors<'a>) {
    for p in &cfg.policies {
        check_one(p.body, Context::Policy(p.name), arch, errors);
    }
    for s in &cfg.services {
        if let PolicyRef::Inline(t) = s.policy {
            check_one(t, Context::ServicePolicy(s.name), arch, errors);
        }
    }
    if let PolicyRef::Inline(t) = cfg.test_policy {
        check_one(t, Context::TestPolicy, arch, errors);
    }
}

fn check_one<'a>(
    body: PolicyText<'a>,
    ctx: Context<'a>,
    arch: &Arch,
    errors: &mut ConfigErrors<'a>,
) {
    // Size: into a policy of its own, not one returned and moved (measured).
    let mut policy = crate::policy::Policy::new();
    if let Err(errs) = crate::policy::parse_into(body.text, arch, &mut policy) {
        add_policy_errors(&errs, body, ctx, errors);
    }
}

/// The errors of policy `body` as config errors: lines re-based, columns
/// kept (a body starts at the start of a line).
fn add_policy_errors<'a>(
    errs: &crate::policy::Errors<'a>,
    body: PolicyText<'a>,
    ctx: Context<'a>,
    errors: &mut ConfigErrors<'a>,
) {
    for e in &errs.list {
        errors.push(ConfigError {
            line: body.config_line(e.line),
            col: e.col,
            kind: ConfigErrorKind::Policy(e.kind),
            token: e.token,
            other_line: if e.other_line == 0 {
                0
            } else {
                body.config_line(e.other_line)
            },
            context: ctx,
        });
    }
    errors.dropped = errors.dropped.saturating_add(errs.dropped);
}
