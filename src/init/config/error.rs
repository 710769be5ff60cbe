//! Config errors: each names its place (1-based line and byte column), the
//! block it is in, and where it helps the offending token.

use crate::out::{Buf, Sink};
use crate::policy;

/// Errors kept per parse; later ones are counted, not kept.
pub const MAX_ERRORS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A line longer than `MAX_LINE` bytes.
    LineTooLong,
    /// A quote with no closing quote on its line.
    UnterminatedQuote,
    /// A closing quote followed by something other than a space.
    QuoteNotSeparated,
    /// A directive this place does not know; `token` is it.
    UnknownDirective,
    /// Something was expected; `token` is what was found (empty: end of line).
    Expected(&'static str),
    /// Something after a complete directive.
    TrailingInput,
    /// A number that does not parse or does not fit.
    BadNumber,
    /// A duration that is not a number with a unit `ms`, `s` or `m`, or
    /// does not fit.
    BadDuration,
    /// A service or policy name with characters other than letters,
    /// digits, `.`, `_`, `-`, or longer than 64 bytes.
    BadName,
    /// A hostname longer than `MAX_HOSTNAME` bytes.
    HostnameTooLong,
    /// A path that must be absolute is not; the text says which.
    RelativePath(&'static str),
    /// A service without `exec`.
    MissingExec,
    /// A second one of something unique; `other_line` is the first, if known.
    Duplicate(&'static str),
    /// `policy default {` or `policy none {`.
    ReservedName,
    /// A policy name no `policy NAME {` block defines.
    UnknownPolicy,
    /// An rlimit name vigil does not know.
    UnknownRlimit,
    /// A signal name or number that does not exist.
    UnknownSignal,
    /// `required` in a daemon.
    RequiredOnDaemon,
    /// `env` with something that is not `KEY=VALUE`.
    BadEnv,
    /// Two values in the wrong order; the text says which.
    Range(&'static str),
    /// End of file inside the block opened here.
    UnclosedBlock,
    /// `}` with no block open.
    StrayClose,
    /// `service` inside a service block; the context is the open one.
    NestedService,
    /// A fixed-size table is full; the text names it.
    TooMany(&'static str),
    /// An error of a policy body, at config lines.
    Policy(policy::ErrorKind),
}

/// The block an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context<'a> {
    /// The top level.
    None,
    /// `service NAME { ... }`.
    Service(&'a str),
    /// `policy NAME { ... }`.
    Policy(&'a str),
    /// The inline `policy { ... }` of a service.
    ServicePolicy(&'a str),
    /// The inline `test-policy { ... }`.
    TestPolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError<'a> {
    pub line: u32,
    pub col: u32,
    pub kind: ConfigErrorKind,
    /// The text the error is about (may be empty).
    pub token: &'a str,
    /// A related line (the first definition), or 0.
    pub other_line: u32,
    pub context: Context<'a>,
}

/// All errors of one config.
#[derive(Clone, Debug, Default)]
pub struct ConfigErrors<'a> {
    pub list: heapless::Vec<ConfigError<'a>, MAX_ERRORS>,
    /// Errors found beyond `MAX_ERRORS`.
    pub dropped: u32,
}

impl<'a> ConfigErrors<'a> {
    pub const fn new() -> Self {
        ConfigErrors {
            list: heapless::Vec::new(),
            dropped: 0,
        }
    }

    pub fn push(&mut self, e: ConfigError<'a>) {
        if self.list.push(e).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.dropped == 0
    }

    /// Errors found, kept or not.
    pub fn count(&self) -> u32 {
        (self.list.len() as u32).saturating_add(self.dropped)
    }

    /// Every error as `FILE:LINE:COL: error: message`, one per line.
    pub fn render(&self, file: &str, out: &mut impl Sink) {
        for e in &self.list {
            e.render(file, out);
            out.s("\n");
        }
        if self.dropped > 0 {
            out.s(file)
                .s(": ")
                .u(self.dropped as u64)
                .s(" more errors not shown\n");
        }
    }
}

impl ConfigError<'_> {
    /// `FILE:LINE:COL: error: [CONTEXT: ]message`, without a newline.
    pub fn render(&self, file: &str, out: &mut impl Sink) {
        out.s(file)
            .s(":")
            .u(self.line as u64)
            .s(":")
            .u(self.col as u64)
            .s(": error: ");
        match self.context {
            Context::None => {}
            Context::Service(n) => {
                out.s("service `").s(n).s("`: ");
            }
            Context::Policy(n) => {
                out.s("policy `").s(n).s("`: ");
            }
            Context::ServicePolicy(n) => {
                out.s("service `").s(n).s("`: policy: ");
            }
            Context::TestPolicy => {
                out.s("test-policy: ");
            }
        }
        self.message(out);
    }

    fn message(&self, out: &mut impl Sink) {
        use ConfigErrorKind as K;
        let t = self.token;
        match self.kind {
            K::LineTooLong => {
                out.s("line too long (the limit is ")
                    .u(super::MAX_LINE as u64)
                    .s(" bytes)");
            }
            K::UnterminatedQuote => {
                out.s("unterminated quote");
            }
            K::QuoteNotSeparated => {
                out.s("expected a space after the closing quote, found `")
                    .s(t)
                    .s("`");
            }
            K::UnknownDirective => {
                out.s("unknown directive `").s(t).s("`");
            }
            K::Expected(what) => {
                out.s("expected ").s(what);
                if t.is_empty() {
                    out.s(", found end of line");
                } else {
                    out.s(", found `").s(t).s("`");
                }
            }
            K::TrailingInput => {
                out.s("unexpected `")
                    .s(t)
                    .s("` after the end of the directive");
            }
            K::BadNumber => {
                out.s("bad number `").s(t).s("`");
            }
            K::BadDuration => {
                out.s("bad duration `")
                    .s(t)
                    .s("` (a number and a unit: 100ms, 5s, 2m)");
            }
            K::BadName => {
                out.s("bad name `")
                    .s(t)
                    .s("` (up to 64 letters, digits, `.`, `_` or `-`)");
            }
            K::HostnameTooLong => {
                out.s("hostname `")
                    .s(t)
                    .s("` is longer than ")
                    .u(super::MAX_HOSTNAME as u64)
                    .s(" bytes");
            }
            K::RelativePath(what) => {
                out.s(what).s(" path `").s(t).s("` must be absolute");
            }
            K::MissingExec => {
                out.s("no `exec` line");
            }
            K::Duplicate(what) => {
                out.s("duplicate ").s(what).s(" `").s(t).s("`");
                if self.other_line != 0 {
                    out.s(" (the first is at line ")
                        .u(self.other_line as u64)
                        .s(")");
                }
            }
            K::ReservedName => {
                out.s("`").s(t).s("` is reserved and cannot name a policy");
            }
            K::UnknownPolicy => {
                out.s("unknown policy `")
                    .s(t)
                    .s("` (define it with `policy ")
                    .s(t)
                    .s(" {`, or use `default` or `none`)");
            }
            K::UnknownRlimit => {
                out.s("unknown rlimit `").s(t).s("` (");
                for (i, (n, _)) in super::Resource::ALL.iter().enumerate() {
                    if i > 0 {
                        out.s(", ");
                    }
                    out.s(n);
                }
                out.s(")");
            }
            K::UnknownSignal => {
                out.s("unknown signal `")
                    .s(t)
                    .s("` (a name like SIGTERM or TERM, or 1..64)");
            }
            K::RequiredOnDaemon => {
                out.s("`required` applies to oneshot services only");
            }
            K::BadEnv => {
                out.s("`").s(t).s("` is not KEY=VALUE");
            }
            K::Range(what) => {
                out.s(what);
            }
            K::UnclosedBlock => {
                out.s("end of file inside the block opened here");
            }
            K::StrayClose => {
                out.s("`}` without an open block");
            }
            K::NestedService => {
                out.s("`service` inside a service block (is a `}` missing?)");
            }
            K::TooMany(what) => {
                out.s("too many ").s(what).s(" for vigil's fixed tables");
            }
            K::Policy(kind) => {
                // The policy language words its own errors: render one and
                // keep the message after its `error: `.
                let e = policy::Error {
                    line: self.line,
                    col: self.col,
                    kind,
                    token: t,
                    other_line: self.other_line,
                };
                let mut buf = Buf::<768>::new();
                e.render("", &mut buf);
                let s = buf.as_str();
                let msg = match s.find("error: ") {
                    Some(i) => s.get(i + 7..).unwrap_or(s),
                    None => s,
                };
                out.s(msg);
            }
        }
    }
}
