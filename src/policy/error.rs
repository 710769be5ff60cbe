//! Parse errors: each names its place (line and column, 1-based) and, where
//! it helps, the offending token.

use crate::out::Sink;

/// Errors kept per parse; later ones are counted, not kept.
pub const MAX_ERRORS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A line longer than `parse::MAX_LINE` bytes.
    LineTooLong,
    /// A syscall name this arch does not have; `token` is the name.
    UnknownSyscall,
    /// A syscall name that exists on another arch only; `token` is the name.
    SyscallNotOnArch,
    /// `@name` that is no known group.
    UnknownGroup,
    /// An errno name that does not exist, or a number outside 1..=4095.
    UnknownErrno,
    /// A number that does not parse or does not fit.
    BadNumber,
    /// `argN` with N outside 0..=5.
    NoSuchArgument,
    /// The same syscall given two different actions; `other_line` is the first.
    Conflict,
    /// A keyword was expected; `token` is what was found.
    Expected(&'static str),
    /// Something after a complete directive.
    TrailingInput,
    /// End of file inside a `{ ... }` block opened at `other_line`.
    UnclosedBlock,
    /// `}` with no block open.
    StrayClose,
    /// A second `default` line; `other_line` is the first.
    DuplicateDefault,
    /// A paths block on a syscall with no path argument.
    NoPathArgument,
    /// A path prefix that is not absolute, or not normalised.
    RelativePrefix,
    /// A fixed-size table of the policy is full; `token` names it.
    TooMany(&'static str),
    /// A second `otherwise` in one paths block; `other_line` is the first.
    DuplicateOtherwise,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error<'a> {
    pub line: u32,
    pub col: u32,
    pub kind: ErrorKind,
    /// The text the error is about (may be empty).
    pub token: &'a str,
    /// A related line (the first definition, the opening brace), or 0.
    pub other_line: u32,
}

/// All errors of one parse.
#[derive(Clone, Debug, Default)]
pub struct Errors<'a> {
    pub list: heapless::Vec<Error<'a>, MAX_ERRORS>,
    /// Errors found beyond `MAX_ERRORS`.
    pub dropped: u32,
}

impl<'a> Errors<'a> {
    pub fn push(&mut self, e: Error<'a>) {
        if self.list.push(e).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every error as `FILE:LINE:COL: message`, one per line.
    pub fn render(&self, file: &str, out: &mut impl Sink) {
        let out = &mut Dyn(out);
        for e in &self.list {
            e.render_dyn(file, out);
            out.s("\n");
        }
        render_dropped(file, self.dropped, out);
    }
}

/// Any sink, as one type: the renderers below are generic over `Sink` for
/// their callers, but compiled once for this.
// Size: one copy of `fill` and `message` instead of one per sink type
// (measured).
struct Dyn<'s>(&'s mut dyn Sink);

impl Sink for Dyn<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.put(bytes)
    }
}

/// The line that closes a list of errors when some were not kept (policy
/// and config errors alike).
pub fn render_dropped(file: &str, dropped: u32, out: &mut impl Sink) {
    if dropped > 0 {
        out.s(file)
            .s(": ")
            .u(dropped as u64)
            .s(" more errors not shown\n");
    }
}

impl Error<'_> {
    /// `FILE:LINE:COL: message`, without a newline.
    pub fn render(&self, file: &str, out: &mut impl Sink) {
        self.render_dyn(file, &mut Dyn(out))
    }

    fn render_dyn(&self, file: &str, out: &mut Dyn) {
        out.s(file)
            .s(":")
            .u(self.line as u64)
            .s(":")
            .u(self.col as u64)
            .s(": error: ");
        message_dyn(out, self.kind, self.token, self.other_line);
    }
}

// The line limit is spelled out in the message below.
const _: () = assert!(crate::policy::parse::MAX_LINE == 256);

impl ErrorKind {
    /// The message, as a template for `fill`, and the text `%w` stands for.
    /// (A table of texts costs far less code than a `match` of `Sink` calls.)
    pub fn template(self) -> (&'static str, &'static str) {
        use ErrorKind as K;
        match self {
            K::LineTooLong => ("line too long (the limit is 256 bytes)", ""),
            K::UnknownSyscall => ("unknown syscall `%t`", ""),
            K::SyscallNotOnArch => ("syscall `%t` does not exist on this architecture", ""),
            K::UnknownGroup => ("unknown syscall group `%t`", ""),
            K::UnknownErrno => ("unknown errno `%t` (a name like EPERM, or 1..4095)", ""),
            K::BadNumber => ("bad number `%t`", ""),
            K::NoSuchArgument => ("no such argument `%t` (syscalls have arg0..arg5)", ""),
            K::Conflict => ("`%t` already has a different action (line %l)", ""),
            K::Expected(what) => ("expected %w%f", what),
            K::TrailingInput => ("unexpected `%t` after the end of the rule", ""),
            K::UnclosedBlock => ("end of file inside the block opened at line %l", ""),
            K::StrayClose => ("`}` without an open block", ""),
            K::DuplicateDefault => ("second `default` (the first is at line %l)", ""),
            K::NoPathArgument => ("`%t` takes no path argument; a paths block needs one", ""),
            K::RelativePrefix => (
                "path prefix `%t` must be absolute and normalised (no `.`, `..` or `//`)",
                "",
            ),
            K::TooMany(what) => ("too many %w for vigil's fixed tables", what),
            K::DuplicateOtherwise => (
                "second `otherwise` in this block (the first is at line %l)",
                "",
            ),
        }
    }
}

/// The message of a policy error (also used for policy errors in a config).
pub fn message(out: &mut impl Sink, kind: ErrorKind, token: &str, other_line: u32) {
    message_dyn(&mut Dyn(out), kind, token, other_line)
}

#[inline(never)]
fn message_dyn(out: &mut Dyn, kind: ErrorKind, token: &str, other_line: u32) {
    let (tpl, what) = kind.template();
    fill_dyn(out, tpl, token, what, other_line);
    if kind == ErrorKind::SyscallNotOnArch {
        if let Some(new) = crate::policy::groups::replacement(token) {
            out.s(" (use ").s(new).s(")");
        }
    }
}

/// Write a message template: `%t` is the token, `%w` the kind's text, `%l`
/// the other line, `%f` `, found `TOKEN`` (or `, found end of line`), `%1`
/// ` (the first is at line L)` when the other line is known.
pub fn fill(out: &mut impl Sink, tpl: &str, token: &str, what: &str, other_line: u32) {
    fill_dyn(&mut Dyn(out), tpl, token, what, other_line)
}

#[inline(never)]
fn fill_dyn(out: &mut Dyn, tpl: &str, token: &str, what: &str, other_line: u32) {
    let mut parts = tpl.split('%');
    out.s(parts.next().unwrap_or(""));
    for part in parts {
        let (code, rest) = part.split_at_checked(1).unwrap_or(("", part));
        match code {
            "t" => out.s(token),
            "w" => out.s(what),
            "l" => out.u(other_line as u64),
            "f" if token.is_empty() => out.s(", found end of line"),
            "f" => out.s(", found `").s(token).s("`"),
            "1" if other_line != 0 => out.s(" (the first is at line ").u(other_line as u64).s(")"),
            _ => out,
        };
        out.s(rest);
    }
}
