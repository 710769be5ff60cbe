//! Config errors: each names its place (1-based line and byte column), the
//! block it is in, and where it helps the offending token.

use crate::out::Sink;
use crate::policy;
use crate::words::messages;

/// Errors kept per parse; later ones are counted, not kept.
pub const MAX_ERRORS: usize = 32;

messages! {
    /// What is wrong, each with its message.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ConfigErrorKind {
        /// A line longer than `MAX_LINE` bytes.
        LineTooLong = "line too long (the limit is 256 bytes)",
        /// A quote with no closing quote on its line.
        UnterminatedQuote = "unterminated quote",
        /// A closing quote followed by something other than a space.
        QuoteNotSeparated = "expected a space after the closing quote, found `%t`",
        /// A directive this place does not know; `token` is it.
        UnknownDirective = "unknown directive `%t`",
        /// Something was expected; `token` is what was found (empty: end of line).
        Expected(what) = "expected %w%f",
        /// Something after a complete directive.
        TrailingInput = "unexpected `%t` after the end of the directive",
        /// A number that does not parse or does not fit.
        BadNumber = "bad number `%t`",
        /// A duration that is not a number with a unit `ms`, `s` or `m`, or
        /// does not fit.
        BadDuration = "bad duration `%t` (a number and a unit: 100ms, 5s, 2m)",
        /// A service or policy name with characters other than letters,
        /// digits, `.`, `_`, `-`, or longer than 64 bytes.
        BadName = "bad name `%t` (up to 64 letters, digits, `.`, `_` or `-`)",
        /// A hostname longer than `MAX_HOSTNAME` bytes.
        HostnameTooLong = "hostname `%t` is longer than 64 bytes",
        /// A path that must be absolute is not; the text says which.
        RelativePath(what) = "%w path `%t` must be absolute",
        /// A service without `exec`.
        MissingExec = "no `exec` line",
        /// A second one of something unique; `other_line` is the first, if known.
        Duplicate(what) = "duplicate %w `%t`%1",
        /// `policy default {` or `policy none {`.
        ReservedName = "`%t` is reserved and cannot name a policy",
        /// A policy name no `policy NAME {` block defines.
        UnknownPolicy = "unknown policy `%t` (define it with `policy %t {`, or use `default` or `none`)",
        /// An rlimit name vigil does not know.
        UnknownRlimit = "unknown rlimit `%t` (cpu, fsize, data, stack, core, nproc, nofile, memlock, as)",
        /// A signal name or number that does not exist.
        UnknownSignal = "unknown signal `%t` (a name like SIGTERM or TERM, or 1..64)",
        /// `required` in a daemon.
        RequiredOnDaemon = "`required` applies to oneshot services only",
        /// `env` with something that is not `KEY=VALUE`.
        BadEnv = "`%t` is not KEY=VALUE",
        /// Two values in the wrong order; the text says which.
        Range(what) = "%w",
        /// End of file inside the block opened here.
        UnclosedBlock = "end of file inside the block opened here",
        /// `}` with no block open.
        StrayClose = "`}` without an open block",
        /// `service` inside a service block; the context is the open one.
        NestedService = "`service` inside a service block (is a `}` missing?)",
        /// A fixed-size table is full; the text names it.
        TooMany(what) = "too many %w for vigil's fixed tables",
        ;
        /// An error of a policy body, at config lines.
        Policy(policy::ErrorKind),
    }
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

/// One error of a config, with its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError<'a> {
    /// The line (1-based).
    pub line: u32,
    /// The column (1-based).
    pub col: u32,
    /// What is wrong.
    pub kind: ConfigErrorKind,
    /// The text the error is about (may be empty).
    pub token: &'a str,
    /// A related line (the first definition), or 0.
    pub other_line: u32,
    /// The service or policy block the error is in, for the message.
    pub context: Context<'a>,
}

/// All errors of one config.
#[derive(Clone, Debug, Default)]
pub struct ConfigErrors<'a> {
    /// The errors kept, in the order found.
    pub list: heapless::Vec<ConfigError<'a>, MAX_ERRORS>,
    /// Errors found beyond `MAX_ERRORS`.
    pub dropped: u32,
}

impl<'a> ConfigErrors<'a> {
    /// No errors.
    pub const fn new() -> Self {
        ConfigErrors {
            list: heapless::Vec::new(),
            dropped: 0,
        }
    }

    /// Keep `e`, or count it when the list is full.
    pub fn push(&mut self, e: ConfigError<'a>) {
        if self.list.push(e).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Were there none at all?
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
        crate::policy::error::render_dropped(file, self.dropped, out);
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
        // Size: one `fill` rather than a chain of `Sink` calls per arm
        // (measured).
        let (tpl, name) = match self.context {
            Context::None => ("", ""),
            Context::Service(n) => ("service `%w`: ", n),
            Context::Policy(n) => ("policy `%w`: ", n),
            Context::ServicePolicy(n) => ("service `%w`: policy: ", n),
            Context::TestPolicy => ("test-policy: ", ""),
        };
        policy::error::fill(out, tpl, "", name, 0);
        self.message(out);
    }

    fn message(&self, out: &mut impl Sink) {
        if let ConfigErrorKind::Policy(kind) = self.kind {
            // The policy language words its own errors.
            return policy::error::message(out, kind, self.token, self.other_line);
        }
        let (tpl, what) = self.kind.template();
        policy::error::fill(out, tpl, self.token, what, self.other_line);
    }
}

// The limits spelled out in the messages of `LineTooLong` and
// `HostnameTooLong`.
const _: () = assert!(super::MAX_LINE == 256 && super::MAX_HOSTNAME == 64);

#[cfg(test)]
#[test]
fn rlimit_names_agree() {
    let names: std::vec::Vec<&str> = super::Resource::ALL.iter().map(|(n, _)| *n).collect();
    let (tpl, _) = ConfigErrorKind::UnknownRlimit.template();
    assert_eq!(
        tpl,
        std::format!("unknown rlimit `%t` ({})", names.join(", "))
    );
}
