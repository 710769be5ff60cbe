//! Config errors: each names its place (1-based line and byte column), the
//! block it is in, and where it helps the offending token.

use crate::out::Sink;
use crate::policy;

/// Errors kept per parse; later ones are counted, not kept.
pub const MAX_ERRORS: usize = 32;

/// What is wrong at a place of a config.
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
        use ConfigErrorKind as K;
        // Size: an index into one text rather than a `&str` per arm
        // (measured).
        let (i, what) = match self.kind {
            K::LineTooLong => (0, ""),
            K::UnterminatedQuote => (1, ""),
            K::QuoteNotSeparated => (2, ""),
            K::UnknownDirective => (3, ""),
            K::Expected(what) => (4, what),
            K::TrailingInput => (5, ""),
            K::BadNumber => (6, ""),
            K::BadDuration => (7, ""),
            K::BadName => (8, ""),
            K::HostnameTooLong => (9, ""),
            K::RelativePath(what) => (10, what),
            K::MissingExec => (11, ""),
            K::Duplicate(what) => (12, what),
            K::ReservedName => (13, ""),
            K::UnknownPolicy => (14, ""),
            K::UnknownRlimit => (15, RLIMIT_NAMES),
            K::UnknownSignal => (16, ""),
            K::RequiredOnDaemon => (17, ""),
            K::BadEnv => (18, ""),
            K::Range(what) => (19, what),
            K::UnclosedBlock => (20, ""),
            K::StrayClose => (21, ""),
            K::NestedService => (22, ""),
            K::TooMany(what) => (23, what),
            // The policy language words its own errors.
            K::Policy(kind) => {
                return policy::error::message(out, kind, self.token, self.other_line)
            }
        };
        let tpl = crate::words::nth(MESSAGES, b'\n', i);
        policy::error::fill(out, tpl, self.token, what, self.other_line);
    }
}

/// The messages of `ConfigErrorKind`, in its order, one a line, as
/// templates for `policy::error::fill`.
const MESSAGES: &str = "line too long (the limit is 256 bytes)
unterminated quote
expected a space after the closing quote, found `%t`
unknown directive `%t`
expected %w%f
unexpected `%t` after the end of the directive
bad number `%t`
bad duration `%t` (a number and a unit: 100ms, 5s, 2m)
bad name `%t` (up to 64 letters, digits, `.`, `_` or `-`)
hostname `%t` is longer than 64 bytes
%w path `%t` must be absolute
no `exec` line
duplicate %w `%t`%1
`%t` is reserved and cannot name a policy
unknown policy `%t` (define it with `policy %t {`, or use `default` or `none`)
unknown rlimit `%t` (%w)
unknown signal `%t` (a name like SIGTERM or TERM, or 1..64)
`required` applies to oneshot services only
`%t` is not KEY=VALUE
%w
end of file inside the block opened here
`}` without an open block
`service` inside a service block (is a `}` missing?)
too many %w for vigil's fixed tables";

// The limits spelled out in the messages above.
const _: () = assert!(super::MAX_LINE == 256 && super::MAX_HOSTNAME == 64);

/// `Resource::ALL`'s names, for the message (a test checks they agree).
pub const RLIMIT_NAMES: &str = "cpu, fsize, data, stack, core, nproc, nofile, memlock, as";

#[cfg(test)]
#[test]
fn rlimit_names_agree() {
    let names: std::vec::Vec<&str> = super::Resource::ALL.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.join(", "), RLIMIT_NAMES);
}
