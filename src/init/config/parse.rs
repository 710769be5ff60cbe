//! The config parser: one pass over the lines, policy references resolved
//! at the end. It reports every error it can and never panics.

use heapless::Vec;

use crate::words;

use super::error::{ConfigError, ConfigErrorKind as K, ConfigErrors, Context};
use super::lex::{self, LexError, Lexer, Tok};
use super::{
    Cmd, Config, Confine, Kind, LogLevel, Mount, NamedPolicy, PolicyRef, PolicyText, Resource,
    Restart, Rlimit, Service, Stdio, MAX_ARGS, MAX_HOSTNAME, MAX_LINE, MAX_PATHS, MAX_SERVICES,
};

/// A line of `MAX_LINE` bytes has at most this many tokens.
const MAX_TOKENS: usize = MAX_LINE / 2 + 1;

/// Top-level directives, by index; the first `TOP_ONCE` may appear once.
const TOP: &str = "hostname log grace emergency-shell test test-policy module mount policy service";
const TOP_ONCE: usize = 6;

/// Service directives, by index. The sandbox ones first, at the index
/// `Report::confine_at` takes them at: 0..=3 a choice of two words, 4..=7
/// lists (repeatable), then 8..=13. Then the others; from `SVC_REPEAT`
/// on, repeatable too. Last, from `SVC_CLOSE`, the two words that end
/// the block (in the table to save comparisons).
const SERVICE: &str = "no-new-privs private-tmp read-only-root landlock read-only landlock-read \
                       landlock-write env-pass capabilities namespaces root pids-max memory-max \
                       cpu-max exec kind required cwd user group groups stdin stdout stderr \
                       policy restart backoff restart-limit stop-signal env rlimit } service";
const SVC_CONFINE: usize = 14;
const SVC_EXEC: usize = 14;
const SVC_POLICY: usize = 24;
const SVC_REPEAT: usize = 29;
const SVC_CLOSE: usize = 31;

/// What a policy reference may be besides a name.
const POLICY_WORDS: &str = "{ default none";

/// The stream directives' names, for their errors.
// Size: a `static`, not an array built on the stack at each use (measured).
static STDIO: [&str; 3] = ["stdin", "stdout", "stderr"];

/// `namespaces` names, in the order of `NS_FLAGS`.
const NS_NAMES: &str = "mount pid ipc uts net cgroup user";
const NS_FLAGS: [u32; 7] = [
    CLONE_NEWNS,
    CLONE_NEWPID,
    0x0800_0000,
    0x0400_0000,
    0x4000_0000,
    0x0200_0000,
    CLONE_NEWUSER,
];
// `CLONE_NEW*` (the same on every arch; build.rs has no linux-raw-sys).
const CLONE_NEWNS: u32 = 0x0002_0000;
const CLONE_NEWPID: u32 = 0x2000_0000;
const CLONE_NEWUSER: u32 = 0x1000_0000;
/// `CAP_SYS_ADMIN`: without it, uid 0 cannot undo mounts.
const CAP_SYS_ADMIN: u32 = 21;

/// Where a policy body goes when its block closes.
#[derive(Clone, Copy)]
enum Body {
    /// `Config::policies[i]`.
    Named(usize),
    /// The inline policy of a service or of the test.
    Ref(Target),
    /// Nowhere: a block skipped after an error.
    Skip,
}

#[derive(Clone, Copy)]
struct Block {
    body: Body,
    /// Byte offset of the body's first line.
    start: usize,
    first_line: u32,
    open_line: u32,
    open_col: u32,
    depth: u32,
    /// The service block to go back to when this one closes.
    ret: Option<usize>,
}

#[derive(Clone, Copy)]
enum State {
    Top,
    /// Inside `Config::services[i]`.
    Service(usize),
    Body(Block),
}

/// What is known of the open service block beyond the `Service` itself.
#[derive(Clone, Copy, Default)]
struct Scratch {
    /// The line of each once-only `SERVICE` directive seen, or 0.
    seen: [u32; SVC_REPEAT],
    /// The line of each `rlimit` resource seen, or 0 (`Resource::ALL` order).
    rlimits: [u32; Resource::ALL.len()],
    /// `required yes|no`, with its line and column.
    required: Option<(bool, u32, u32)>,
    restart: Option<Restart>,
    /// `no-new-privs no` and `read-only-root yes`: line and column.
    nnp_off: Option<(u32, u32)>,
    /// `kind test`: line and column.
    test_at: Option<(u32, u32)>,
    ro_root: Option<(u32, u32)>,
    /// `user`: line and column (a `user` needs a `group`).
    user_at: Option<(u32, u32)>,
    /// `namespaces` and `groups`: line and column.
    ns_at: Option<(u32, u32)>,
    groups_at: Option<(u32, u32)>,
    /// A line of the block could not be read (too long, bad quotes): it
    /// may have been the `exec`.
    unread: bool,
    open_line: u32,
    open_col: u32,
}

/// Who a policy name was given to.
#[derive(Clone, Copy)]
enum Target {
    Service(usize),
    Test,
}

/// A policy name to look up once every `policy NAME {` has been seen.
#[derive(Clone, Copy)]
struct Pending<'a> {
    target: Target,
    name: &'a str,
    line: u32,
    col: u32,
    ctx: Context<'a>,
}

struct Parser<'a, 'c> {
    text: &'a str,
    cfg: &'c mut Config<'a>,
    r: Report<'a>,
    pending: Vec<Pending<'a>, { MAX_SERVICES + 1 }>,
    state: State,
    svc: Scratch,
    top_seen: [u32; TOP_ONCE],
    /// The byte offset of the next line.
    next_start: usize,
}

/// Where errors go, and the place they are at. Apart from the config, so
/// that a directive can write to its service while it reports.
// Size: the service is looked up once per directive, not once per
// setting (measured).
struct Report<'a> {
    errs: ConfigErrors<'a>,
    /// The current line (1-based) and its column past the end.
    line: u32,
    eol_col: u32,
    /// The block of the current line: the service, in a service block and
    /// the inline policy of one.
    ctx: Context<'a>,
}

/// Parse a config. On failure, every error found (up to `MAX_ERRORS`, the
/// rest counted), each with its line and column. Policy bodies are only
/// delimited here; `check_policies` parses them.
// Both sides are large, but there is no heap to box them on.
#[allow(clippy::result_large_err)]
pub fn parse(text: &str) -> Result<Config<'_>, ConfigErrors<'_>> {
    let mut cfg = Config::new();
    parse_into(text, &mut cfg).map(|()| cfg)
}

/// `parse`, into a config that lives elsewhere (PID 1 keeps it outside the
/// stack). `cfg` is reset first.
// Size: LTO at opt-level z inlines this into more than one caller; kept
// out of line, the parser is 1 KB smaller (measured).
#[inline(never)]
#[allow(clippy::result_large_err)]
pub fn parse_into<'a>(text: &'a str, cfg: &mut Config<'a>) -> Result<(), ConfigErrors<'a>> {
    cfg.reset();
    let mut p = Parser {
        text,
        cfg,
        r: Report {
            errs: ConfigErrors::new(),
            line: 0,
            eol_col: 1,
            ctx: Context::None,
        },
        pending: Vec::new(),
        state: State::Top,
        svc: Scratch::default(),
        top_seen: [0; TOP_ONCE],
        next_start: 0,
    };
    let mut start = 0usize;
    for raw in text.split('\n') {
        p.r.line = p.r.line.saturating_add(1);
        p.next_start = start.saturating_add(raw.len()).saturating_add(1);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        p.r.eol_col = u32::try_from(line.len())
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1);
        match p.state {
            State::Body(_) => p.body_line(line, start),
            State::Top | State::Service(_) => p.directive_line(line),
        }
        start = p.next_start;
    }
    p.finish();
    if p.r.errs.is_empty() {
        Ok(())
    } else {
        Err(p.r.errs)
    }
}

impl<'a> Parser<'a, '_> {
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn directive_line(&mut self, line: &'a str) {
        // Size: filled in place, not returned and moved (measured).
        let mut toks = Vec::new();
        if !self.r.tokens(line, &mut toks) {
            if let State::Service(_) = self.state {
                self.svc.unread = true;
            }
            return;
        }
        let Some(last) = toks.last() else {
            return;
        };
        let before = self.r.errs.count();
        let opened = match self.state {
            State::Service(i) => self.service_directive(i, &toks),
            _ => self.top_directive(&toks),
        };
        // A block that failed to open is skipped whole, so that its
        // contents are not taken for directives.
        if !opened && self.r.errs.count() != before && last.is("{") {
            self.open(Body::Skip, last.col);
        }
    }

    /// Enter a block whose opening line is the current one.
    fn open(&mut self, body: Body, col: u32) {
        let ret = match self.state {
            State::Service(i) => Some(i),
            _ => None,
        };
        self.state = State::Body(Block {
            body,
            start: self.next_start,
            first_line: self.r.line.saturating_add(1),
            open_line: self.r.line,
            open_col: col,
            depth: 1,
            ret,
        });
    }

    /// A line inside a policy body (or a skipped block). Only two kinds
    /// matter: a line that ends with `{` opens a nested block, a line that
    /// is `}` closes one (comments aside). The policy language has no
    /// quotes and makes `{` a token of its own, so neither does this scan.
    // Size: out of line (measured).
    #[inline(never)]
    fn body_line(&mut self, line: &'a str, line_start: usize) {
        // Size: the block is changed in place, not copied out and back
        // (measured).
        let State::Body(b) = &mut self.state else {
            return;
        };
        let edge = lex::block_edge(line);
        if edge == b'}' {
            b.depth = b.depth.saturating_sub(1);
            if b.depth == 0 {
                let b = *b;
                let text = self.text.get(b.start..line_start).unwrap_or("");
                self.close_body(
                    b,
                    PolicyText {
                        text,
                        first_line: b.first_line,
                    },
                );
            }
        } else if edge == b'{' {
            b.depth = b.depth.saturating_add(1);
        }
    }

    fn close_body(&mut self, b: Block, text: PolicyText<'a>) {
        match b.body {
            Body::Named(i) => {
                if let Some(p) = self.cfg.policies.get_mut(i) {
                    p.body = text;
                }
            }
            Body::Ref(target) => set_policy(self.cfg, target, PolicyRef::Inline(text)),
            Body::Skip => {}
        }
        self.state = match b.ret {
            Some(i) => State::Service(i),
            None => State::Top,
        };
    }

    fn top_directive(&mut self, t: &[Tok<'a>]) -> bool {
        let Some(d) = t.first() else { return false };
        let k = match words::find(TOP, d.s) {
            Some(k) if !d.quoted => k,
            _ => {
                let kind = if d.is("}") {
                    K::StrayClose
                } else {
                    K::UnknownDirective
                };
                self.r.err_tok(d, kind);
                return false;
            }
        };
        if k < TOP_ONCE {
            if !self.r.once(self.top_seen[k], d) {
                return false;
            }
            self.top_seen[k] = self.r.line;
        }
        match k {
            0 => {
                if let Some(a) = self.r.one(t, "a hostname") {
                    if a.s.len() > MAX_HOSTNAME {
                        self.r.err_tok(a, K::HostnameTooLong);
                    } else if a.s.is_empty() {
                        self.r.expected(a, "a hostname");
                    } else {
                        self.cfg.hostname = Some(a.s);
                    }
                }
            }
            1 => {
                if let Some(v) = self
                    .r
                    .choice(t, "`quiet`, `info` or `debug`", "quiet info debug")
                {
                    self.cfg.log = match v {
                        0 => LogLevel::Quiet,
                        1 => LogLevel::Info,
                        _ => LogLevel::Debug,
                    };
                }
            }
            2 => {
                if let Some(ms) = self.r.duration_arg(t) {
                    self.cfg.grace_ms = ms;
                }
            }
            3 | 4 => {
                let (what, c) = if k == 3 {
                    ("emergency-shell", &mut self.cfg.emergency_shell)
                } else {
                    ("test", &mut self.cfg.test)
                };
                if self.r.cmd(t, what).is_some() {
                    set_cmd(c.insert(no_cmd()), t, self.r.line);
                }
            }
            5 => return self.policy_ref(t, Target::Test),
            6 => {
                if self.r.cmd(t, "module").is_some() {
                    if self.cfg.modules.push(no_cmd()).is_err() {
                        self.r.too_many(d, "modules");
                    } else if let Some(c) = self.cfg.modules.last_mut() {
                        set_cmd(c, t, self.r.line);
                    }
                }
            }
            7 => self.mount(t),
            8 => return self.named_policy(t),
            _ => return self.open_service(t),
        }
        false
    }

    /// `mount SOURCE TARGET TYPE [OPTIONS]`.
    fn mount(&mut self, t: &[Tok<'a>]) {
        let r = &mut self.r;
        let (Some(source), Some(target), Some(fstype)) = (
            r.arg(t, 1, "a source (a device, a share's tag, or `none`)"),
            t.get(2),
            t.get(3),
        ) else {
            if t.len() > 1 {
                r.err(
                    r.eol_col,
                    K::Expected("a mount point and a filesystem type"),
                    "",
                );
            }
            return;
        };
        if !r.end(t, 5) {
            return;
        }
        let Some(target) = r.abs_path(target, "mount point") else {
            return;
        };
        let m = Mount {
            source: source.s,
            target,
            fstype: fstype.s,
            options: t.get(4).map_or("", |o| o.s),
            line: r.line,
        };
        if self.cfg.mounts.push(m).is_err() {
            self.r.too_many(&t[0], "mounts");
        }
    }

    fn named_policy(&mut self, t: &[Tok<'a>]) -> bool {
        let Some(name) = self.r.block_name(t, "a policy name") else {
            return false;
        };
        // A valid name is never `{`.
        if words::find(POLICY_WORDS, name.s).is_some() {
            self.r.err_tok(name, K::ReservedName);
            return false;
        }
        if let Some(p) = self.cfg.policies.iter().find(|p| p.name == name.s) {
            let first = p.line;
            self.r.dup(name, "policy", first);
            return false;
        }
        let body = PolicyText {
            text: "",
            first_line: self.r.line.saturating_add(1),
        };
        let np = NamedPolicy {
            name: name.s,
            body,
            line: self.r.line,
        };
        if self.cfg.policies.push(np).is_err() {
            self.r.too_many(&t[0], "policies");
            return false;
        }
        let i = self.cfg.policies.len() - 1;
        self.open(Body::Named(i), t[2].col);
        true
    }

    fn open_service(&mut self, t: &[Tok<'a>]) -> bool {
        let Some(name) = self.r.block_name(t, "a service name") else {
            return false;
        };
        if let Some(s) = self.cfg.services.iter().find(|s| s.name == name.s) {
            let first = s.line;
            self.r.dup(name, "service", first);
            // Still read the block, to check what it says.
        }
        // The one spare slot is PID 1's, for the test program.
        if self.cfg.services.len() >= MAX_SERVICES
            || self
                .cfg
                .services
                .push(Service::new(name.s, self.r.line))
                .is_err()
        {
            self.r.too_many(&t[0], "services");
            return false;
        }
        self.svc = Scratch {
            open_line: self.r.line,
            open_col: t[0].col,
            ..Scratch::default()
        };
        self.state = State::Service(self.cfg.services.len() - 1);
        self.r.ctx = Context::Service(name.s);
        true
    }

    /// `policy NAME|default|none|{` (or `test-policy ...`).
    fn policy_ref(&mut self, t: &[Tok<'a>], target: Target) -> bool {
        let Some(a) = self.r.arg(t, 1, "a policy name, `default`, `none` or `{`") else {
            return false;
        };
        if !self.r.end(t, 2) {
            return false;
        }
        // Size: one `find`, not a comparison per word (measured).
        let r = match words::find(POLICY_WORDS, a.s) {
            Some(0) if !a.quoted => {
                self.open(Body::Ref(target), a.col);
                return true;
            }
            Some(1) => PolicyRef::Default,
            Some(2) => PolicyRef::None,
            _ if !lex::valid_name(a.s) => {
                self.r.err_tok(a, K::BadName);
                return false;
            }
            _ => {
                let ctx = self.r.ctx;
                let p = Pending {
                    target,
                    name: a.s,
                    line: self.r.line,
                    col: a.col,
                    ctx,
                };
                // One per service and one for the test: it cannot be full.
                let _ = self.pending.push(p);
                PolicyRef::Named(usize::MAX)
            }
        };
        set_policy(self.cfg, target, r);
        false
    }

    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn service_directive(&mut self, i: usize, t: &[Tok<'a>]) -> bool {
        let Some(d) = t.first() else { return false };
        let k = match words::find(SERVICE, d.s) {
            Some(k) if !d.quoted => k,
            _ => {
                self.r.err_tok(d, K::UnknownDirective);
                return false;
            }
        };
        if k >= SVC_CLOSE {
            let close = k == SVC_CLOSE;
            if close {
                self.r.end(t, 1);
            } else {
                self.r.err_tok(d, K::NestedService);
            }
            self.finish_service(i);
            return !close && self.top_directive(t);
        }
        if k < SVC_REPEAT && !matches!(k, 4..=7) {
            if !self.r.once(self.svc.seen[k], d) {
                return false;
            }
            self.svc.seen[k] = self.r.line;
        }
        if k == SVC_POLICY {
            return self.policy_ref(t, Target::Service(i));
        }
        let Some(s) = self.cfg.services.get_mut(i) else {
            return false;
        };
        self.r.service_setting(&mut self.svc, s, k, t);
        false
    }

    /// The end of a service block: defaults that depend on the kind, and
    /// the checks of the whole block.
    /// Also leaves the block.
    fn finish_service(&mut self, i: usize) {
        self.state = State::Top;
        let sc = &self.svc;
        let second_test = self.cfg.services.iter().take(i).any(|o| o.test);
        let Some(s) = self.cfg.services.get_mut(i) else {
            self.r.ctx = Context::None;
            return;
        };
        // A bad `exec` line has had its error already.
        let missing_exec = s.exec.path.is_empty() && sc.seen[SVC_EXEC] == 0 && !sc.unread;
        s.restart = sc.restart.unwrap_or(match s.kind {
            Kind::Daemon => Restart::OnFailure,
            Kind::Oneshot => Restart::Never,
        });
        let mut required_on_daemon = None;
        if let Some((line, col)) = sc.test_at {
            // The test program is a oneshot nothing waits for: its end
            // ends the boot.
            s.test = true;
            s.required = false;
            s.restart = Restart::Never;
            let why = "one test program at most: one `kind test` service, or a `test` line";
            if second_test {
                self.r.err_at(line, col, K::Range(why), "", 0);
            }
        }
        match (s.kind, sc.required) {
            (Kind::Oneshot, _) if s.test => {}
            (Kind::Oneshot, r) => s.required = r.is_none_or(|(v, _, _)| v),
            (Kind::Daemon, r) => {
                s.required = false;
                required_on_daemon = r;
            }
        }
        let c = &mut s.confine;
        if !c.lists[0].is_empty()
            || c.has(Confine::PRIVATE_TMP | Confine::READ_ONLY_ROOT)
            || c.namespaces & CLONE_NEWPID != 0
        {
            c.namespaces |= CLONE_NEWNS;
        }
        let landlock = !c.lists[1].is_empty() || !c.lists[2].is_empty();
        let no_root = c.root.is_none();
        if missing_exec {
            self.r
                .err_at(sc.open_line, sc.open_col, K::MissingExec, "", 0);
        }
        if let (Some((line, col)), true) = (sc.nnp_off, landlock) {
            let why = "Landlock needs `no-new-privs yes`";
            self.r.err_at(line, col, K::Range(why), "", 0);
        }
        if let (Some((line, col)), true) = (sc.ro_root, no_root) {
            let why = "`read-only-root` needs `root`";
            self.r.err_at(line, col, K::Range(why), "", 0);
        }
        // Without a `group`, the service would keep vigil's gid 0 and its
        // files and directories: vigil reads no user database to guess one.
        if let (Some((line, col)), None) = (sc.user_at, s.group) {
            let why = "`user` needs a `group` line (without one the service would keep gid 0)";
            self.r.err_at(line, col, K::Range(why), "", 0);
        }
        let userns = s.confine.namespaces & CLONE_NEWUSER != 0;
        // Its ids outside (0 inside): root outside would make the
        // namespace pointless, and only its own ids are mapped into it.
        let outside_root = s.user.unwrap_or(0) == 0 || s.group.unwrap_or(0) == 0;
        if let (Some((line, col)), true, true) = (sc.ns_at, userns, outside_root) {
            let why = "`namespaces user` needs `user` and `group` other than 0: the ids the service has outside (inside, they are 0)";
            self.r.err_at(line, col, K::Range(why), "", 0);
        }
        if let (Some((line, col)), true) = (sc.groups_at, userns) {
            let why = "`groups` cannot be used with `namespaces user`: only the service's own gid is mapped into it";
            self.r.err_at(line, col, K::Range(why), "", 0);
        }
        // Root whose capabilities are cut below CAP_SYS_ADMIN is meant to
        // be confined, but still owns the kernel's control files: it gets
        // them masked in a mount namespace of its own (`sandbox::mask`).
        let c = &mut s.confine;
        let cut = c.caps.is_some_and(|m| m & 1 << CAP_SYS_ADMIN == 0);
        if cut && s.user.unwrap_or(0) == 0 && !userns {
            c.flags |= Confine::MASKED;
            c.namespaces |= CLONE_NEWNS;
        }
        if let Some((_, line, col)) = required_on_daemon {
            self.r.err_at(line, col, K::RequiredOnDaemon, "required", 0);
        }
        self.r.ctx = Context::None;
    }

    /// End of text: unclosed blocks, then the policy names.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn finish(&mut self) {
        // Size: one error call for both kinds of block (measured).
        let open = match self.state {
            State::Top => None,
            State::Service(_) => Some((self.svc.open_line, self.svc.open_col)),
            // The line that opened it has its error already.
            State::Body(Block {
                body: Body::Skip, ..
            }) => None,
            State::Body(b) => {
                // In a service, its context is the one already.
                match (b.body, b.ret) {
                    (Body::Named(i), _) => {
                        if let Some(p) = self.cfg.policies.get(i) {
                            self.r.ctx = Context::Policy(p.name);
                        }
                    }
                    (Body::Ref(Target::Test), None) => self.r.ctx = Context::TestPolicy,
                    _ => {}
                }
                Some((b.open_line, b.open_col))
            }
        };
        if let Some((line, col)) = open {
            self.r.err_at(line, col, K::UnclosedBlock, "", 0);
        }
        self.state = State::Top;
        for p in &self.pending {
            let r = match self.cfg.policy_index(p.name) {
                Some(idx) => PolicyRef::Named(idx),
                None => {
                    self.r.ctx = p.ctx;
                    self.r.err_at(p.line, p.col, K::UnknownPolicy, p.name, 0);
                    continue;
                }
            };
            set_policy(self.cfg, p.target, r);
        }
        if let (Some(t), true) = (&self.cfg.test, self.cfg.test_service().is_some()) {
            let why = "one test program at most: one `kind test` service, or a `test` line";
            self.r.err_at(t.line, 1, K::Range(why), "", 0);
        }
    }
}

impl<'a> Report<'a> {
    /// An error in the current block (`ctx`).
    fn err_at(&mut self, line: u32, col: u32, kind: K, token: &'a str, other_line: u32) {
        let e = ConfigError {
            line,
            col,
            kind,
            token,
            other_line,
            context: self.ctx,
        };
        // Kept by place, after those at the same place: the order a stable
        // sort at the end would give, for less code.
        let list = &mut self.errs.list;
        let at = list
            .iter()
            .position(|x| (x.line, x.col) > (line, col))
            .unwrap_or(list.len());
        if list.insert(at, e).is_err() {
            self.errs.dropped = self.errs.dropped.saturating_add(1);
        }
    }

    fn err(&mut self, col: u32, kind: K, token: &'a str) {
        self.err_at(self.line, col, kind, token, 0);
    }

    fn err_tok(&mut self, t: &Tok<'a>, kind: K) {
        self.err(t.col, kind, t.s);
    }

    // Size: the three most common errors, without a `K` built at each call.
    #[inline(never)]
    fn expected(&mut self, t: &Tok<'a>, what: &'static str) {
        self.err_tok(t, K::Expected(what));
    }

    #[inline(never)]
    fn bad_number(&mut self, t: &Tok<'a>) {
        self.err_tok(t, K::BadNumber);
    }

    #[inline(never)]
    fn too_many(&mut self, t: &Tok<'a>, what: &'static str) {
        self.err_tok(t, K::TooMany(what));
    }

    /// Token `i`, or an error saying `what` was expected at the end of line.
    fn arg<'t>(&mut self, t: &'t [Tok<'a>], i: usize, what: &'static str) -> Option<&'t Tok<'a>> {
        let a = t.get(i);
        if a.is_none() {
            self.err(self.eol_col, K::Expected(what), "");
        }
        a
    }

    /// Are there no tokens from `n` on? If there are, an error.
    fn end(&mut self, t: &[Tok<'a>], n: usize) -> bool {
        match t.get(n) {
            Some(x) => {
                self.err_tok(x, K::TrailingInput);
                false
            }
            None => true,
        }
    }

    /// One token after the directive, and nothing else.
    fn one<'t>(&mut self, t: &'t [Tok<'a>], what: &'static str) -> Option<&'t Tok<'a>> {
        let a = self.arg(t, 1, what)?;
        self.end(t, 2).then_some(a)
    }

    /// A second `what` `t`; the first is at line `first`. (At the top
    /// level, where policies and services are declared, the context is
    /// none.)
    fn dup(&mut self, t: &Tok<'a>, what: &'static str, first: u32) {
        self.err_at(self.line, t.col, K::Duplicate(what), t.s, first);
    }

    /// Records directive `d` in `seen`; an error if it was there already.
    fn once(&mut self, seen_line: u32, d: &Tok<'a>) -> bool {
        if seen_line != 0 {
            self.dup(d, "directive", seen_line);
            return false;
        }
        true
    }

    /// The tokens of a directive line into `toks` (empty); false after an
    /// error.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn tokens(&mut self, line: &'a str, toks: &mut Vec<Tok<'a>, MAX_TOKENS>) -> bool {
        if line.len() > MAX_LINE {
            self.err(MAX_LINE as u32 + 1, K::LineTooLong, "");
            return false;
        }
        for r in Lexer::new(line) {
            let (col, kind, s) = match r {
                Ok(t) => match toks.push(t) {
                    Ok(()) => continue,
                    // Not with lines of at most `MAX_LINE` bytes.
                    Err(t) => (t.col, K::TooMany("tokens on one line"), ""),
                },
                Err(LexError::Unterminated(col)) => (col, K::UnterminatedQuote, ""),
                Err(LexError::NotSeparated(col, s)) => (col, K::QuoteNotSeparated, s),
            };
            self.err(col, kind, s);
            return false;
        }
        true
    }

    /// One word of `words` (space-separated) as the only argument: its
    /// index, or an error saying `what` was expected.
    fn choice(&mut self, t: &[Tok<'a>], what: &'static str, words: &str) -> Option<usize> {
        let a = self.one(t, what)?;
        let v = words::find(words, a.s);
        if v.is_none() {
            self.expected(a, what);
        }
        v
    }

    /// `[NAME] {` at tokens 1 and 2: the name, if the line is well formed.
    fn block_name<'t>(&mut self, t: &'t [Tok<'a>], what: &'static str) -> Option<&'t Tok<'a>> {
        let name = self.arg(t, 1, what)?;
        if name.is("{") {
            self.expected(name, what);
            return None;
        }
        let brace = self.arg(t, 2, "`{`")?;
        if !brace.is("{") {
            self.expected(brace, "`{`");
            return None;
        }
        if !self.end(t, 3) {
            return None;
        }
        if !lex::valid_name(name.s) {
            self.err_tok(name, K::BadName);
            return None;
        }
        Some(name)
    }

    /// Checks `DIRECTIVE PATH [ARGS...]`, for `set_cmd` to store.
    // Size: a `Cmd` (~290 B) is written in place, not returned and moved
    // (measured).
    fn cmd(&mut self, t: &[Tok<'a>], what: &'static str) -> Option<()> {
        let path = self.arg(t, 1, "a program path")?;
        if !path.s.starts_with('/') {
            self.err_tok(path, K::RelativePath(what));
            return None;
        }
        if let Some(a) = t.get(2 + MAX_ARGS) {
            self.too_many(a, "arguments");
            return None;
        }
        Some(())
    }

    fn duration_arg(&mut self, t: &[Tok<'a>]) -> Option<u32> {
        let a = self.one(t, "a duration")?;
        self.duration(a)
    }

    fn duration(&mut self, a: &Tok<'a>) -> Option<u32> {
        let v = lex::duration_ms(a.s);
        if v.is_none() {
            self.err_tok(a, K::BadDuration);
        }
        v
    }

    fn number(&mut self, a: &Tok<'a>) -> Option<u32> {
        let v = lex::number_u32(a.s);
        if v.is_none() {
            self.bad_number(a);
        }
        v
    }

    fn limit(&mut self, a: &Tok<'a>) -> Option<u64> {
        let v = lex::limit(a.s);
        if v.is_none() {
            self.bad_number(a);
        }
        v
    }

    fn abs_path(&mut self, a: &Tok<'a>, what: &'static str) -> Option<&'a str> {
        if a.s.starts_with('/') {
            Some(a.s)
        } else {
            self.err_tok(a, K::RelativePath(what));
            None
        }
    }

    fn number_arg(&mut self, t: &[Tok<'a>], what: &'static str) -> Option<u32> {
        let a = self.one(t, what)?;
        self.number(a)
    }

    /// Sandbox directive `k` of `SERVICE`; `None` after an error.
    // Size: part of `service_setting`, one function with one jump table
    // (measured).
    #[inline(always)]
    fn confine_at(
        &mut self,
        sc: &mut Scratch,
        c: &mut Confine<'a>,
        k: usize,
        t: &[Tok<'a>],
    ) -> Option<()> {
        let d = &t[0];
        match k {
            0..=3 => {
                let (what, words) = if k == 3 {
                    ("`required` or `optional`", "required optional")
                } else {
                    ("`yes` or `no`", "yes no")
                };
                let word = self.choice(t, what, words)? == 0;
                match k {
                    2 if word => sc.ro_root = Some((self.line, d.col)),
                    0 if !word => sc.nnp_off = Some((self.line, d.col)),
                    _ => {}
                }
                c.flags = c.flags & !(1 << k) | (word as u8) << k;
            }
            4..=7 => {
                self.arg(t, 1, if k == 7 { "a variable name" } else { "a path" })?;
                // The line's entries, stored only if they all fit.
                let mut list: Vec<&'a str, MAX_PATHS> = Vec::new();
                for a in &t[1..] {
                    let ok = if k == 7 {
                        !a.s.is_empty() && !a.s.contains('=')
                    } else {
                        a.s.starts_with('/')
                    };
                    if !ok {
                        let what = if k == 7 {
                            "a variable name (no `=`)"
                        } else {
                            "an absolute path"
                        };
                        self.expected(a, what);
                    } else if list.push(a.s).is_err() {
                        self.too_many(a, "paths");
                        return None;
                    }
                }
                if list.iter().any(|p| c.lists[k - 4].push(p).is_err()) {
                    self.too_many(d, "entries of this list");
                }
            }
            8 | 9 => {
                let what = if k == 8 {
                    "capability names (like CAP_NET_BIND_SERVICE) or `none`"
                } else {
                    "namespaces: mount, pid, ipc, uts, net or cgroup"
                };
                self.arg(t, 1, what)?;
                let mut mask = 0u64;
                for a in &t[1..] {
                    let bit = if k == 8 {
                        if a.is("none") && t.len() == 2 {
                            continue;
                        }
                        super::cap_number(a.s).map(|n| 1u64 << n)
                    } else {
                        words::find(NS_NAMES, a.s)
                            .and_then(|j| NS_FLAGS.get(j))
                            .map(|&f| f as u64)
                    };
                    match bit {
                        Some(b) => mask |= b,
                        None => self.expected(a, what),
                    }
                }
                if k == 8 {
                    c.caps = Some(mask);
                } else {
                    c.namespaces = mask as u32;
                    sc.ns_at = Some((self.line, d.col));
                }
            }
            10 => {
                let a = self.one(t, "a directory")?;
                c.root = Some(self.abs_path(a, "root")?);
            }
            _ => {
                const WHAT: &str = "a number or `max`";
                let a = self.arg(t, 1, WHAT)?;
                let p = t.get(2);
                self.end(t, if k == 13 { 3 } else { 2 }).then_some(())?;
                let limit = match (a.s, k) {
                    ("max", _) => u64::MAX,
                    (s, 12) => lex::bytes(s).unwrap_or(0),
                    (s, _) => lex::number(s).unwrap_or(0),
                };
                let mut period = 100_000;
                if let Some(p) = p {
                    period = lex::number(p.s).filter(|&v| v > 0).unwrap_or(0);
                    if period == 0 {
                        self.bad_number(p);
                    }
                }
                if limit == 0 {
                    self.bad_number(a);
                }
                if limit == 0 || period == 0 {
                    return None;
                }
                c.limits[k - 11] = limit;
                if k == 13 {
                    c.cpu_period = period;
                }
            }
        }
        Some(())
    }

    fn push_env(&mut self, s: &mut Service<'a>, a: &Tok<'a>, key: &'a str) {
        // Keys have no `=`: an entry's key is `key` if `key=` starts it.
        let dup = s.env.iter().any(|e| {
            let e = e.as_bytes();
            e.get(key.len()) == Some(&b'=') && e.starts_with(key.as_bytes())
        });
        let full = !dup && s.env.push(a.s).is_err();
        if dup {
            let col = a.col.saturating_add(a.quoted as u32);
            self.err(col, K::Duplicate("env key"), key);
        } else if full {
            self.too_many(a, "env entries");
        }
    }

    /// Service directive `k` of `SERVICE` (not a sandbox one, not
    /// `policy`): the value is checked, then stored.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn service_setting(
        &mut self,
        sc: &mut Scratch,
        s: &mut Service<'a>,
        k: usize,
        t: &[Tok<'a>],
    ) -> Option<()> {
        let line = self.line;
        let d = &t[0];
        match k {
            0..SVC_CONFINE => self.confine_at(sc, &mut s.confine, k, t)?,
            14 => {
                self.cmd(t, "exec")?;
                set_cmd(&mut s.exec, t, line);
            }
            15 => {
                let v = self.choice(t, "`daemon`, `oneshot` or `test`", "daemon oneshot test")?;
                s.kind = if v == 0 { Kind::Daemon } else { Kind::Oneshot };
                sc.test_at = (v == 2).then_some((line, d.col));
            }
            16 => {
                let v = self.choice(t, "`yes` or `no`", "yes no")?;
                sc.required = Some((v == 0, line, d.col));
            }
            17 => {
                let a = self.one(t, "a directory")?;
                let p = self.abs_path(a, "cwd")?;
                s.cwd = Some(p);
            }
            18 | 19 => {
                let n = self.number_arg(t, if k == 18 { "a uid" } else { "a gid" })?;
                *if k == 18 { &mut s.user } else { &mut s.group } = Some(n);
                if k == 18 {
                    sc.user_at = Some((line, d.col));
                }
            }
            20 => {
                sc.groups_at = Some((line, d.col));
                self.arg(t, 1, "a gid")?;
                let mut v = Vec::new();
                for a in &t[1..] {
                    let n = self.number(a)?;
                    if v.push(n).is_err() {
                        self.too_many(a, "groups");
                        return None;
                    }
                }
                s.groups = v;
            }
            21..=23 => {
                let a = self.one(t, "`console`, `null` or a path")?;
                let io = match words::find("console null", a.s) {
                    Some(0) if !a.quoted => Stdio::Console,
                    Some(1) if !a.quoted => Stdio::Null,
                    _ => Stdio::Path(self.abs_path(a, STDIO[k - 21])?),
                };
                *match k {
                    21 => &mut s.stdin,
                    22 => &mut s.stdout,
                    _ => &mut s.stderr,
                } = io;
            }
            25 => {
                let v = self.choice(
                    t,
                    "`never`, `on-failure` or `always`",
                    "never on-failure always",
                )?;
                sc.restart = Some(match v {
                    0 => Restart::Never,
                    1 => Restart::OnFailure,
                    _ => Restart::Always,
                });
            }
            // `backoff MIN MAX` and `restart-limit COUNT WINDOW`.
            26 | 27 => {
                let backoff = k == 26;
                let (w1, w2) = if backoff {
                    (
                        "the first delay (a duration)",
                        "the longest delay (a duration)",
                    )
                } else {
                    ("a restart count", "a time window (a duration)")
                };
                let a = self.arg(t, 1, w1)?;
                let b = self.arg(t, 2, w2)?;
                self.end(t, 3).then_some(())?;
                let x = if backoff {
                    self.duration(a)
                } else {
                    self.number(a)
                };
                let (x, y) = (x, self.duration(b));
                let (x, y) = (x?, y?);
                if backoff && x > y {
                    self.err_tok(
                        a,
                        K::Range("backoff: the first delay is longer than the longest"),
                    );
                    return None;
                }
                let (f1, f2) = if backoff {
                    (&mut s.backoff_min_ms, &mut s.backoff_max_ms)
                } else {
                    (&mut s.restart_limit, &mut s.restart_window_ms)
                };
                *f1 = x;
                *f2 = y;
            }
            28 => {
                let a = self.one(t, "a signal")?;
                match lex::signal(a.s) {
                    Some(n) => s.stop_signal = n,
                    None => self.err_tok(a, K::UnknownSignal),
                }
            }
            29 => {
                let a = self.one(t, "KEY=VALUE")?;
                match a.s.split_once('=') {
                    Some((key, _)) if !key.is_empty() => self.push_env(s, a, key),
                    _ => self.err_tok(a, K::BadEnv),
                }
            }
            _ => self.rlimit(sc, s, t)?,
        }
        Some(())
    }

    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn rlimit(&mut self, sc: &mut Scratch, svc: &mut Service<'a>, t: &[Tok<'a>]) -> Option<()> {
        let name = self.arg(t, 1, "an rlimit name")?;
        let soft = self.arg(t, 2, "a soft limit (a number or `unlimited`)")?;
        let hard = t.get(3);
        self.end(t, 4).then_some(())?;
        // Size: a `k` known to be in range has no bounds checks (measured).
        let Some(k) = words::find(Resource::NAMES, name.s).filter(|&k| k < Resource::ALL.len())
        else {
            self.err_tok(name, K::UnknownRlimit);
            return None;
        };
        let resource = Resource::BY_INDEX[k];
        let s = self.limit(soft);
        let h = match hard {
            Some(h) => self.limit(h),
            None => s,
        };
        let (s, h) = (s?, h?);
        if s > h {
            self.err_tok(
                soft,
                K::Range("rlimit: the soft limit is above the hard limit"),
            );
            return None;
        }
        let first = sc.rlimits[k];
        if first != 0 {
            self.dup(name, "rlimit", first);
            return None;
        }
        sc.rlimits[k] = self.line;
        let r = Rlimit {
            resource,
            soft: s,
            hard: h,
        };
        if svc.rlimits.push(r).is_err() {
            self.too_many(name, "rlimits");
        }
        Some(())
    }
}

/// A command to be set.
// Size: not a `const`, which would be copied from a 290 B image (measured).
fn no_cmd<'a>() -> Cmd<'a> {
    Cmd {
        path: "",
        args: Vec::new(),
        line: 0,
    }
}

/// Stores the command of a line `Report::cmd` has checked.
#[inline(never)]
fn set_cmd<'a>(c: &mut Cmd<'a>, t: &[Tok<'a>], line: u32) {
    c.path = t[1].s;
    c.line = line;
    c.args.clear();
    for a in &t[2..] {
        let _ = c.args.push(a.s);
    }
}

/// Sets the policy of a service or of the test.
// Size: one copy for the three places a policy is set (measured).
#[inline(never)]
fn set_policy<'a>(cfg: &mut Config<'a>, target: Target, r: PolicyRef<'a>) {
    match target {
        Target::Service(i) => {
            if let Some(s) = cfg.services.get_mut(i) {
                s.policy = r;
            }
        }
        Target::Test => cfg.test_policy = r,
    }
}
