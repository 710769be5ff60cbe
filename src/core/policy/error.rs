//! Parse errors: each names its place (line and column, 1-based) and, where
//! it helps, the offending token.

use crate::out::Sink;
use crate::words::messages;

/// Errors kept per parse; later ones are counted, not kept.
pub const MAX_ERRORS: usize = 32;

messages! {
    /// What is wrong, each with its message.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ErrorKind {
        /// A line longer than `parse::MAX_LINE` bytes.
        LineTooLong = "line too long (the limit is 256 bytes)",
        /// A syscall name this arch does not have; `token` is the name.
        UnknownSyscall = "unknown syscall `%t`",
        /// A syscall name that exists on another arch only; `token` is the name.
        SyscallNotOnArch = "syscall `%t` does not exist on this architecture",
        /// `@name` that is no known group.
        UnknownGroup = "unknown syscall group `%t`",
        /// An errno name that does not exist, or a number outside 1..=4095.
        UnknownErrno = "unknown errno `%t` (a name like EPERM, or 1..4095)",
        /// A number that does not parse or does not fit.
        BadNumber = "bad number `%t`",
        /// `argN` with N outside 0..=5.
        NoSuchArgument = "no such argument `%t` (syscalls have arg0..arg5)",
        /// The same syscall given two different actions; `other_line` is the first.
        Conflict = "`%t` already has a different action (line %l)",
        /// A keyword was expected; `token` is what was found.
        Expected(what) = "expected %w%f",
        /// Something after a complete directive.
        TrailingInput = "unexpected `%t` after the end of the rule",
        /// End of file inside a `{ ... }` block opened at `other_line`.
        UnclosedBlock = "end of file inside the block opened at line %l",
        /// `}` with no block open.
        StrayClose = "`}` without an open block",
        /// A second `default` line; `other_line` is the first.
        DuplicateDefault = "second `default` (the first is at line %l)",
        /// A paths block on a syscall with no path argument.
        NoPathArgument = "`%t` takes no path argument; a paths block needs one",
        /// A path prefix that is not absolute, or not normalised.
        RelativePrefix = "path prefix `%t` must be absolute and normalised (no `.`, `..` or `//`)",
        /// A fixed-size table of the policy is full; `token` names it.
        TooMany(what) = "too many %w for vigil's fixed tables",
        /// A second `otherwise` in one paths block; `other_line` is the first.
        DuplicateOtherwise = "second `otherwise` in this block (the first is at line %l)",
        /// A call of a kind of file operation (the text) under another paths
        /// block than the one at `other_line` on a call of the same kind.
        KindConflict(what) = "`%t` can %w as the calls of the paths block at line %l can, but has another paths block: put them in one",
    }
}

/// One error of a policy, with its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error<'a> {
    /// The line (1-based).
    pub line: u32,
    /// The column (1-based).
    pub col: u32,
    /// What is wrong.
    pub kind: ErrorKind,
    /// The text the error is about (may be empty).
    pub token: &'a str,
    /// A related line (the first definition, the opening brace), or 0.
    pub other_line: u32,
}

/// All errors of one parse.
#[derive(Clone, Debug, Default)]
pub struct Errors<'a> {
    /// The errors kept, in the order found.
    pub list: heapless::Vec<Error<'a>, MAX_ERRORS>,
    /// Errors found beyond `MAX_ERRORS`.
    pub dropped: u32,
}

impl<'a> Errors<'a> {
    /// Keep `e`, or count it when the list is full.
    pub fn push(&mut self, e: Error<'a>) {
        if self.list.push(e).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Were none kept? (A parse that dropped some kept `MAX_ERRORS` first.)
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

// The line limit is spelled out in the message of `LineTooLong`.
const _: () = assert!(crate::policy::parse::MAX_LINE == 256);

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

// Size: a byte loop, not `split('%')` and a `match` on strings (measured).
#[inline(never)]
fn fill_dyn(out: &mut Dyn, tpl: &str, token: &str, what: &str, other_line: u32) {
    let mut rest = tpl.as_bytes();
    while let [b, tail @ ..] = rest {
        rest = tail;
        if *b != b'%' {
            out.put(core::slice::from_ref(b));
            continue;
        }
        let [code, tail @ ..] = rest else { break };
        rest = tail;
        match code {
            b't' => out.s(token),
            b'w' => out.s(what),
            b'l' => out.u(other_line as u64),
            b'f' if token.is_empty() => out.s(", found end of line"),
            b'f' => out.s(", found `").s(token).s("`"),
            b'1' if other_line != 0 => out.s(" (the first is at line ").u(other_line as u64).s(")"),
            _ => out,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::out::Buf;
    use ErrorKind as K;

    fn text(kind: ErrorKind, token: &str, other_line: u32) -> std::string::String {
        let mut b = Buf::<512>::new();
        let e = Error {
            line: 3,
            col: 7,
            kind,
            token,
            other_line,
        };
        e.render("p", &mut b);
        b.as_str().into()
    }

    /// Every kind's message, word for word.
    #[test]
    fn every_message() {
        let cases: &[(ErrorKind, &str, u32, &str)] = &[
            (
                K::LineTooLong,
                "",
                0,
                "line too long (the limit is 256 bytes)",
            ),
            (K::UnknownSyscall, "frob", 0, "unknown syscall `frob`"),
            (
                K::SyscallNotOnArch,
                "open",
                0,
                "syscall `open` does not exist on this architecture (use openat)",
            ),
            (
                K::SyscallNotOnArch,
                "uselib",
                0,
                "syscall `uselib` does not exist on this architecture",
            ),
            (K::UnknownGroup, "g", 0, "unknown syscall group `g`"),
            (
                K::UnknownErrno,
                "EX",
                0,
                "unknown errno `EX` (a name like EPERM, or 1..4095)",
            ),
            (K::BadNumber, "1x", 0, "bad number `1x`"),
            (
                K::NoSuchArgument,
                "arg9",
                0,
                "no such argument `arg9` (syscalls have arg0..arg5)",
            ),
            (
                K::Conflict,
                "read",
                2,
                "`read` already has a different action (line 2)",
            ),
            (K::Expected("`:`"), "x", 0, "expected `:`, found `x`"),
            (K::Expected("`:`"), "", 0, "expected `:`, found end of line"),
            (
                K::TrailingInput,
                "x",
                0,
                "unexpected `x` after the end of the rule",
            ),
            (
                K::UnclosedBlock,
                "",
                1,
                "end of file inside the block opened at line 1",
            ),
            (K::StrayClose, "}", 0, "`}` without an open block"),
            (
                K::DuplicateDefault,
                "default",
                1,
                "second `default` (the first is at line 1)",
            ),
            (
                K::NoPathArgument,
                "read",
                0,
                "`read` takes no path argument; a paths block needs one",
            ),
            (
                K::RelativePrefix,
                "a/",
                0,
                "path prefix `a/` must be absolute and normalised (no `.`, `..` or `//`)",
            ),
            (
                K::TooMany("rules"),
                "x",
                0,
                "too many rules for vigil's fixed tables",
            ),
            (
                K::DuplicateOtherwise,
                "otherwise",
                4,
                "second `otherwise` in this block (the first is at line 4)",
            ),
            (
                K::KindConflict("make directories"),
                "mkdirat",
                2,
                "`mkdirat` can make directories as the calls of the paths block at line 2 can, but has another paths block: put them in one",
            ),
        ];
        for &(kind, token, other, want) in cases {
            assert_eq!(
                text(kind, token, other),
                std::format!("p:3:7: error: {want}")
            );
        }
    }

    /// The template codes, including `%1` and codes `fill` does not know.
    #[test]
    fn fill_codes() {
        let fill_s = |tpl: &str, token: &str, other: u32| {
            let mut b = Buf::<256>::new();
            fill(&mut b, tpl, token, "W", other);
            std::string::String::from(b.as_str())
        };
        assert_eq!(
            fill_s("a%t b%w c%l%1.", "T", 5),
            "aT bW c5 (the first is at line 5)."
        );
        assert_eq!(fill_s("x%1y%f", "", 0), "xy, found end of line");
        assert_eq!(fill_s("%q%t%", "T", 0), "T");
        assert_eq!(fill_s("", "T", 0), "");
    }
}
