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
    /// A path prefix that is not absolute.
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
            self.dropped += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every error as `FILE:LINE:COL: message`, one per line.
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

impl Error<'_> {
    /// `FILE:LINE:COL: message`, without a newline.
    pub fn render(&self, file: &str, out: &mut impl Sink) {
        out.s(file)
            .s(":")
            .u(self.line as u64)
            .s(":")
            .u(self.col as u64)
            .s(": error: ");
        let t = self.token;
        match self.kind {
            ErrorKind::LineTooLong => out
                .s("line too long (the limit is ")
                .u(crate::policy::parse::MAX_LINE as u64)
                .s(" bytes)"),
            ErrorKind::UnknownSyscall => out.s("unknown syscall `").s(t).s("`"),
            ErrorKind::SyscallNotOnArch => {
                out.s("syscall `")
                    .s(t)
                    .s("` does not exist on this architecture");
                match crate::policy::groups::replacement(t) {
                    Some(new) => out.s(" (use ").s(new).s(")"),
                    None => out,
                }
            }
            ErrorKind::UnknownGroup => out.s("unknown syscall group `").s(t).s("`"),
            ErrorKind::UnknownErrno => out
                .s("unknown errno `")
                .s(t)
                .s("` (a name like EPERM, or 1..4095)"),
            ErrorKind::BadNumber => out.s("bad number `").s(t).s("`"),
            ErrorKind::NoSuchArgument => out
                .s("no such argument `")
                .s(t)
                .s("` (syscalls have arg0..arg5)"),
            ErrorKind::Conflict => out
                .s("`")
                .s(t)
                .s("` already has a different action (line ")
                .u(self.other_line as u64)
                .s(")"),
            ErrorKind::Expected(what) => {
                out.s("expected ").s(what);
                if t.is_empty() {
                    out.s(", found end of line")
                } else {
                    out.s(", found `").s(t).s("`")
                }
            }
            ErrorKind::TrailingInput => out.s("unexpected `").s(t).s("` after the end of the rule"),
            ErrorKind::UnclosedBlock => out
                .s("end of file inside the block opened at line ")
                .u(self.other_line as u64),
            ErrorKind::StrayClose => out.s("`}` without an open block"),
            ErrorKind::DuplicateDefault => out
                .s("second `default` (the first is at line ")
                .u(self.other_line as u64)
                .s(")"),
            ErrorKind::NoPathArgument => out
                .s("`")
                .s(t)
                .s("` takes no path argument; a paths block needs one"),
            ErrorKind::RelativePrefix => out.s("path prefix `").s(t).s("` must be absolute"),
            ErrorKind::TooMany(what) => out.s("too many ").s(what).s(" for vigil's fixed tables"),
            ErrorKind::DuplicateOtherwise => out
                .s("second `otherwise` in this block (the first is at line ")
                .u(self.other_line as u64)
                .s(")"),
        };
    }
}
