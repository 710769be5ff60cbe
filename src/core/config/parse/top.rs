//! The top level: global directives, and the lines that open a named
//! policy or a service block.

use super::super::error::{ConfigErrorKind as K, Context};
use super::super::lex::{self, Tok};
use super::super::{LogLevel, Mount, NamedPolicy, PolicyRef, PolicyText, Service, MAX_HOSTNAME};
use super::{
    no_cmd, service::Scratch, set_cmd, set_policy, Body, Parser, Pending, PolicyWord, State, Target,
};
use crate::words::keywords;

keywords! {
    /// A top-level directive.
    pub(super) TopWord {
        Hostname = "hostname",
        Log = "log",
        Grace = "grace",
        EmergencyShell = "emergency-shell",
        Test = "test",
        TestPolicy = "test-policy",
        Module = "module",
        Mount = "mount",
        Policy = "policy",
        Service = "service",
    }
}

impl TopWord {
    /// May the directive appear once only?
    fn once(self) -> bool {
        !matches!(
            self,
            TopWord::Module | TopWord::Mount | TopWord::Policy | TopWord::Service
        )
    }
}

keywords! {
    /// The value of `log`.
    LogWord { Quiet = "quiet", Info = "info", Debug = "debug" }
}

impl<'a> Parser<'a, '_> {
    /// A top-level line; true if it opened a block.
    pub(super) fn top_directive(&mut self, t: &[Tok<'a>]) -> bool {
        let Some(d) = t.first() else { return false };
        let k = match TopWord::of(d.s) {
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
        if k.once() {
            let seen = &mut self.top_seen[k as usize];
            if !self.r.once(*seen, d) {
                return false;
            }
            *seen = self.r.line;
        }
        match k {
            TopWord::Hostname => {
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
            TopWord::Log => {
                if let Some(v) = self.r.choice(t, "`quiet`, `info` or `debug`") {
                    self.cfg.log = match v {
                        LogWord::Quiet => LogLevel::Quiet,
                        LogWord::Info => LogLevel::Info,
                        LogWord::Debug => LogLevel::Debug,
                    };
                }
            }
            TopWord::Grace => {
                if let Some(ms) = self.r.duration_arg(t) {
                    self.cfg.grace_ms = ms;
                }
            }
            TopWord::EmergencyShell => {
                if self.r.cmd(t, "emergency-shell").is_some() {
                    set_cmd(self.cfg.emergency_shell.insert(no_cmd()), t, self.r.line);
                }
            }
            TopWord::Test => {
                if self.r.cmd(t, "test").is_some() {
                    set_cmd(self.cfg.test.insert(no_cmd()), t, self.r.line);
                }
            }
            TopWord::TestPolicy => return self.policy_ref(t, Target::Test),
            TopWord::Module => {
                if self.r.cmd(t, "module").is_some() {
                    if self.cfg.modules.push(no_cmd()).is_err() {
                        self.r.too_many(d, "modules");
                    } else if let Some(c) = self.cfg.modules.last_mut() {
                        set_cmd(c, t, self.r.line);
                    }
                }
            }
            TopWord::Mount => self.mount(t),
            TopWord::Policy => return self.named_policy(t),
            TopWord::Service => return self.open_service(t),
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

    /// `policy NAME {`.
    fn named_policy(&mut self, t: &[Tok<'a>]) -> bool {
        let Some(name) = self.r.block_name(t, "a policy name") else {
            return false;
        };
        // A valid name is never `{`.
        if PolicyWord::of(name.s).is_some() {
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

    /// `service NAME {`.
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
        if self.cfg.services.len() >= super::MAX_SERVICES
            || self
                .cfg
                .services
                .push(Service::new(name.s, self.r.line))
                .is_err()
        {
            self.r.too_many(&t[0], "services");
            return false;
        }
        self.svc = Scratch::open(self.r.line, t[0].col);
        self.state = State::Service(self.cfg.services.len() - 1);
        self.r.ctx = Context::Service(name.s);
        true
    }

    /// `policy NAME|default|none|{` (or `test-policy ...`).
    pub(super) fn policy_ref(&mut self, t: &[Tok<'a>], target: Target) -> bool {
        let Some(a) = self.r.arg(t, 1, "a policy name, `default`, `none` or `{`") else {
            return false;
        };
        if !self.r.end(t, 2) {
            return false;
        }
        let r = match PolicyWord::of(a.s) {
            Some(PolicyWord::Open) if !a.quoted => {
                self.open(Body::Ref(target), a.col);
                return true;
            }
            Some(PolicyWord::Default) => PolicyRef::Default,
            Some(PolicyWord::None) => PolicyRef::None,
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
}

#[cfg(test)]
#[test]
fn once_only_directives() {
    let once: std::vec::Vec<&str> = TopWord::ALL
        .iter()
        .filter(|(_, w)| w.once())
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        once,
        [
            "hostname",
            "log",
            "grace",
            "emergency-shell",
            "test",
            "test-policy"
        ]
    );
}
