//! A service block: its directives (the confinement ones are `sandbox`'s),
//! and the checks of the whole block when it closes.

use heapless::Vec;

use super::super::error::{ConfigErrorKind as K, Context};
use super::super::lex::{self, Tok};
use super::super::{Kind, Resource, Restart, Rlimit, Service, Stdio};
use super::report::Report;
use super::sandbox::{self, SandboxWord};
use super::{set_cmd, Parser, State, Target};
use crate::words::keywords;

keywords! {
    /// A service directive other than a sandbox one; last, the two words
    /// that end the block.
    pub(super) ServiceWord {
        Exec = "exec",
        Kind = "kind",
        Required = "required",
        Cwd = "cwd",
        User = "user",
        Group = "group",
        Groups = "groups",
        Stdin = "stdin",
        Stdout = "stdout",
        Stderr = "stderr",
        Policy = "policy",
        Restart = "restart",
        Backoff = "backoff",
        RestartLimit = "restart-limit",
        StopSignal = "stop-signal",
        EnvPass = "env-pass",
        Env = "env",
        Rlimit = "rlimit",
        Close = "}",
        Service = "service",
    }
}

impl ServiceWord {
    /// May the directive appear once only in a block?
    fn once(self) -> bool {
        !matches!(
            self,
            ServiceWord::EnvPass
                | ServiceWord::Env
                | ServiceWord::Rlimit
                | ServiceWord::Close
                | ServiceWord::Service
        )
    }
}

keywords! {
    /// The value of `kind`.
    KindWord { Daemon = "daemon", Oneshot = "oneshot", Test = "test" }
}

keywords! {
    /// The value of `restart`.
    RestartWord { Never = "never", OnFailure = "on-failure", Always = "always" }
}

keywords! {
    /// A stream's target, besides a path.
    StdioWord { Console = "console", Null = "null" }
}

keywords! {
    /// The value of `required`, `no-new-privs`, `private-tmp`, ...
    pub(super) YesNo { Yes = "yes", No = "no" }
}

/// A line of a service block: a directive of either kind.
#[derive(Clone, Copy)]
enum Directive {
    Service(ServiceWord),
    Sandbox(SandboxWord),
}

/// What is known of the open service block beyond the `Service` itself.
#[derive(Clone, Copy, Default)]
pub(super) struct Scratch {
    /// The line of each once-only directive seen, or 0.
    seen: [u32; ServiceWord::COUNT],
    pub(super) sandbox_seen: [u32; SandboxWord::COUNT],
    /// The line of each `rlimit` resource seen, or 0 (`Resource::ALL` order).
    rlimits: [u32; Resource::COUNT],
    /// `required yes|no`, with its line and column.
    required: Option<(bool, u32, u32)>,
    restart: Option<Restart>,
    /// `no-new-privs no` and `read-only-root yes`: line and column.
    pub(super) nnp_off: Option<(u32, u32)>,
    /// `kind test`: line and column.
    test_at: Option<(u32, u32)>,
    pub(super) ro_root: Option<(u32, u32)>,
    /// `user`: line and column (a `user` needs a `group`).
    pub(super) user_at: Option<(u32, u32)>,
    /// `namespaces` and `groups`: line and column.
    pub(super) ns_at: Option<(u32, u32)>,
    pub(super) groups_at: Option<(u32, u32)>,
    /// A line of the block could not be read (too long, bad quotes): it
    /// may have been the `exec`.
    pub(super) unread: bool,
    pub(super) open_line: u32,
    pub(super) open_col: u32,
}

impl Scratch {
    /// A service block opened at `line` and `col`.
    pub(super) fn open(line: u32, col: u32) -> Self {
        Scratch {
            open_line: line,
            open_col: col,
            ..Scratch::default()
        }
    }
}

impl<'a> Parser<'a, '_> {
    /// A line of service block `i`; true if it opened a block.
    // Size: out of line, as `parse_into` says.
    #[inline(never)]
    pub(super) fn service_directive(&mut self, i: usize, t: &[Tok<'a>]) -> bool {
        let Some(d) = t.first() else { return false };
        let word = match ServiceWord::of(d.s) {
            Some(w) => Some(Directive::Service(w)),
            None => SandboxWord::of(d.s).map(Directive::Sandbox),
        };
        let k = match word {
            Some(k) if !d.quoted => k,
            _ => {
                self.r.err_tok(d, K::UnknownDirective);
                return false;
            }
        };
        let seen = match k {
            Directive::Service(w @ (ServiceWord::Close | ServiceWord::Service)) => {
                let close = w == ServiceWord::Close;
                if close {
                    self.r.end(t, 1);
                } else {
                    self.r.err_tok(d, K::NestedService);
                }
                self.finish_service(i);
                return !close && self.top_directive(t);
            }
            Directive::Service(w) => w.once().then(|| &mut self.svc.seen[w as usize]),
            Directive::Sandbox(w) => w.once().then(|| &mut self.svc.sandbox_seen[w as usize]),
        };
        if let Some(seen) = seen {
            if !self.r.once(*seen, d) {
                return false;
            }
            *seen = self.r.line;
        }
        if let Directive::Service(ServiceWord::Policy) = k {
            return self.policy_ref(t, Target::Service(i));
        }
        let Some(s) = self.cfg.services.get_mut(i) else {
            return false;
        };
        match k {
            Directive::Service(w) => self.r.service_setting(&mut self.svc, s, w, t),
            Directive::Sandbox(w) => self.r.confine(&mut self.svc, &mut s.confine, w, t),
        };
        false
    }

    /// The end of a service block: defaults that depend on the kind, and
    /// the checks of the whole block. Also leaves the block.
    fn finish_service(&mut self, i: usize) {
        self.state = State::Top;
        let sc = &self.svc;
        let second_test = self.cfg.services.iter().take(i).any(|o| o.test);
        let Some(s) = self.cfg.services.get_mut(i) else {
            self.r.ctx = Context::None;
            return;
        };
        // A bad `exec` line has had its error already.
        let seen_exec = sc.seen[ServiceWord::Exec as usize] != 0;
        let missing_exec = s.exec.path.is_empty() && !seen_exec && !sc.unread;
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
        sandbox::imply_mount(&mut s.confine);
        if missing_exec {
            self.r
                .err_at(sc.open_line, sc.open_col, K::MissingExec, "", 0);
        }
        self.r.check_confine(sc, s);
        if let Some((_, line, col)) = required_on_daemon {
            self.r.err_at(line, col, K::RequiredOnDaemon, "required", 0);
        }
        self.r.ctx = Context::None;
    }
}

impl<'a> Report<'a> {
    /// Service directive `w` (not `policy`): the value is checked, then
    /// stored.
    // Size: out of line, as `parse_into` says.
    #[inline(never)]
    fn service_setting(
        &mut self,
        sc: &mut Scratch,
        s: &mut Service<'a>,
        w: ServiceWord,
        t: &[Tok<'a>],
    ) -> Option<()> {
        let line = self.line;
        let d = &t[0];
        match w {
            ServiceWord::Exec => {
                self.cmd(t, "exec")?;
                set_cmd(&mut s.exec, t, line);
            }
            ServiceWord::Kind => {
                let v = self.choice(t, "`daemon`, `oneshot` or `test`")?;
                s.kind = match v {
                    KindWord::Daemon => Kind::Daemon,
                    KindWord::Oneshot | KindWord::Test => Kind::Oneshot,
                };
                sc.test_at = (v == KindWord::Test).then_some((line, d.col));
            }
            ServiceWord::Required => {
                let v = self.choice::<YesNo>(t, "`yes` or `no`")?;
                sc.required = Some((v == YesNo::Yes, line, d.col));
            }
            ServiceWord::Cwd => {
                let a = self.one(t, "a directory")?;
                s.cwd = Some(self.abs_path(a, "cwd")?);
            }
            ServiceWord::User => {
                s.user = Some(self.number_arg(t, "a uid")?);
                sc.user_at = Some((line, d.col));
            }
            ServiceWord::Group => s.group = Some(self.number_arg(t, "a gid")?),
            ServiceWord::Groups => {
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
            ServiceWord::Stdin => s.stdin = self.stdio(w, t)?,
            ServiceWord::Stdout => s.stdout = self.stdio(w, t)?,
            ServiceWord::Stderr => s.stderr = self.stdio(w, t)?,
            ServiceWord::Restart => {
                let v = self.choice(t, "`never`, `on-failure` or `always`")?;
                sc.restart = Some(match v {
                    RestartWord::Never => Restart::Never,
                    RestartWord::OnFailure => Restart::OnFailure,
                    RestartWord::Always => Restart::Always,
                });
            }
            ServiceWord::Backoff => {
                let first = "the first delay (a duration)";
                let (a, b) = self.two(t, first, "the longest delay (a duration)")?;
                let (min, max) = (self.duration(a), self.duration(b));
                let (min, max) = (min?, max?);
                if min > max {
                    let why = "backoff: the first delay is longer than the longest";
                    self.err_tok(a, K::Range(why));
                    return None;
                }
                s.backoff_min_ms = min;
                s.backoff_max_ms = max;
            }
            ServiceWord::RestartLimit => {
                let (a, b) = self.two(t, "a restart count", "a time window (a duration)")?;
                let (count, window) = (self.number(a), self.duration(b));
                let (count, window) = (count?, window?);
                s.restart_limit = count;
                s.restart_window_ms = window;
            }
            ServiceWord::StopSignal => {
                let a = self.one(t, "a signal")?;
                match lex::signal(a.s) {
                    Some(n) => s.stop_signal = n,
                    None => self.err_tok(a, K::UnknownSignal),
                }
            }
            ServiceWord::EnvPass => {
                self.list(t, &mut s.confine.env_pass, true)?;
            }
            ServiceWord::Env => {
                let a = self.one(t, "KEY=VALUE")?;
                match a.s.split_once('=') {
                    Some((key, _)) if !key.is_empty() => self.push_env(s, a, key),
                    _ => self.err_tok(a, K::BadEnv),
                }
            }
            ServiceWord::Rlimit => self.rlimit(sc, s, t)?,
            // Handled by `service_directive`.
            ServiceWord::Policy | ServiceWord::Close | ServiceWord::Service => {}
        }
        Some(())
    }

    /// `stdin|stdout|stderr console|null|PATH`.
    fn stdio(&mut self, w: ServiceWord, t: &[Tok<'a>]) -> Option<Stdio<'a>> {
        let a = self.one(t, "`console`, `null` or a path")?;
        Some(match StdioWord::of(a.s) {
            Some(StdioWord::Console) if !a.quoted => Stdio::Console,
            Some(StdioWord::Null) if !a.quoted => Stdio::Null,
            _ => Stdio::Path(self.abs_path(a, w.word())?),
        })
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

    /// `rlimit NAME SOFT [HARD]`.
    // Size: out of line, as `parse_into` says.
    #[inline(never)]
    fn rlimit(&mut self, sc: &mut Scratch, svc: &mut Service<'a>, t: &[Tok<'a>]) -> Option<()> {
        let name = self.arg(t, 1, "an rlimit name")?;
        let soft = self.arg(t, 2, "a soft limit (a number or `unlimited`)")?;
        let hard = t.get(3);
        self.end(t, 4).then_some(())?;
        let Some(resource) = Resource::of(name.s) else {
            self.err_tok(name, K::UnknownRlimit);
            return None;
        };
        let s = self.limit(soft);
        let h = match hard {
            Some(h) => self.limit(h),
            None => s,
        };
        let (s, h) = (s?, h?);
        if s > h {
            let why = "rlimit: the soft limit is above the hard limit";
            self.err_tok(soft, K::Range(why));
            return None;
        }
        let seen = &mut sc.rlimits[resource as usize];
        if *seen != 0 {
            let first = *seen;
            self.dup(name, "rlimit", first);
            return None;
        }
        *seen = self.line;
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

#[cfg(test)]
#[test]
fn once_only_directives() {
    let once: std::vec::Vec<&str> = ServiceWord::ALL
        .iter()
        .filter(|(_, w)| w.once())
        .map(|(n, _)| *n)
        .chain(
            SandboxWord::ALL
                .iter()
                .filter(|(_, w)| w.once())
                .map(|(n, _)| *n),
        )
        .collect();
    let want = "exec kind required cwd user group groups stdin stdout stderr policy restart \
        backoff restart-limit stop-signal no-new-privs private-tmp read-only-root landlock \
        capabilities namespaces root pids-max memory-max cpu-max";
    assert_eq!(once.join(" "), want);
}
