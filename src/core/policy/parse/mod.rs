//! The line-based policy parser.
//!
//! ```text
//! line      := directive? comment?          (one directive per line)
//! directive := "default" ACTION
//!            | "decision-log" ("on" | "off")
//!            | SYSCALLS ":" ACTION ["if" COND ["else" ACTION]]
//!            | SYSCALLS ":" "notify" "paths" "{"   (then block lines, then "}")
//! block     := "allow" PREFIX | "deny" PREFIX ["errno" E] | "otherwise" "errno" E
//! SYSCALLS  := NAME ("," NAME)*              NAME := syscall | "@"group
//! ACTION    := "allow" | "kill" | "log" | "trap" | "errno" E | "notify" REPLY
//! REPLY     := "return" NUMBER | "errno" E | "continue"
//! COND      := CLAUSE ("||" CLAUSE)*         CLAUSE := CMP ("&&" CMP)*
//! CMP       := ARG OP NUMBER | ARG "&" NUMBER "==" NUMBER
//! ARG       := "arg0" .. "arg5"              OP := == != < <= > >=
//! NUMBER    := decimal | "-"decimal | "0x"hex | "0o"octal
//! E         := errno name (EPERM, ...) | 1..4095
//! ```
//!
//! `#` starts a comment where a token would start. Every error is collected
//! with its line and column; the parser goes on with the next line.
//!
//! The parser's parts follow the grammar: `lex` cuts a line into tokens
//! and reads numbers and errnos, `rule` a syscall line and its action,
//! `cond` an argument condition, `paths` a paths block; this file drives
//! them line by line and keeps what they share (the `Parser`, its errors,
//! the end of a parse).

use super::{Error, ErrorKind, Errors, Policy};
use crate::arch::Arch;

mod cond;
mod lex;
mod paths;
mod rule;
#[cfg(test)]
mod tests;

use crate::words::keywords;
use lex::{Lexer, Tok};
use paths::{ends_with_brace, Block, DEFAULT_PATHS_ERRNO};

keywords! {
    /// What a line outside a paths block starts with, when not a rule's
    /// first name.
    DirectiveWord { Close = "}", Default = "default", DecisionLog = "decision-log" }
}

keywords! {
    /// The value of `decision-log`.
    Switch { On = "on", Off = "off" }
}

/// Longest line the parser accepts, in bytes (the config's too).
pub use crate::words::MAX_LINE;

/// Parse `text` for `arch`. On failure, every error found (up to
/// `MAX_ERRORS`), each with its line and column.
///
/// Returns the whole `Policy` by value: for tests and callers that can
/// afford a copy. Long-lived policies are parsed in place (`parse_into`).
// `Errors` is large, but there is no heap to box it on, and the `Ok`
// side (a whole `Policy`) is larger still.
#[allow(clippy::result_large_err)]
pub fn parse<'a>(text: &'a str, arch: &Arch) -> Result<Policy<'a>, Errors<'a>> {
    let mut policy = Policy::new();
    parse_into(text, arch, &mut policy)?;
    Ok(policy)
}

/// Parse `text` for `arch` into `policy`, whatever it held before. On
/// failure `policy` holds a partial parse and must not be used.
#[allow(clippy::result_large_err)] // see `parse`
pub fn parse_into<'a>(
    text: &'a str,
    arch: &Arch,
    policy: &mut Policy<'a>,
) -> Result<(), Errors<'a>> {
    policy.clear();
    let mut p = Parser {
        arch,
        policy,
        errors: Errors::default(),
        explicit: NrSet::default(),
        else_default: NrSet::default(),
        line: 0,
        text: "",
        lx: Lexer::new("", false),
        default_line: 0,
        block: None,
    };
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = crate::words::cut(rest, b'\n');
        rest = next;
        p.line = p.line.saturating_add(1);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > MAX_LINE {
            p.errors.push(Error {
                line: p.line,
                col: MAX_LINE as u32 + 1,
                kind: ErrorKind::LineTooLong,
                token: "",
                other_line: 0,
            });
            continue;
        }
        p.one_line(line);
    }
    if let Some(b) = p.block.take() {
        // The position just past the text.
        let line = if text.is_empty() || text.ends_with('\n') {
            p.line.saturating_add(1)
        } else {
            p.line
        };
        p.errors.push(Error {
            line,
            col: 1,
            kind: ErrorKind::UnclosedBlock,
            token: "",
            other_line: b.line,
        });
    }
    p.finish()
}

/// A set of syscall numbers: what the parser remembers of each rule
/// besides the `Rule` itself, which goes straight into `Policy::rules`.
#[derive(Default)]
struct NrSet([u64; NR_WORDS]);

/// Syscall numbers stay below this on every arch (a test checks it).
pub const NR_LIMIT: usize = 1024;
const NR_WORDS: usize = NR_LIMIT / 64;

impl NrSet {
    fn has(&self, nr: u32) -> bool {
        let (w, b) = (nr as usize / 64, nr % 64);
        self.0.get(w).is_some_and(|x| x >> b & 1 != 0)
    }

    fn set(&mut self, nr: u32, on: bool) {
        let (w, b) = (nr as usize / 64, nr % 64);
        if let Some(x) = self.0.get_mut(w) {
            *x = *x & !(1 << b) | (on as u64) << b;
        }
    }
}

/// The line failed; its error is already in `Parser::errors`. (Pushing at
/// once, rather than returning the error, keeps the large `Error` out of
/// every result.)
struct Failed;

type Res<T> = Result<T, Failed>;

struct Parser<'a, 'r> {
    arch: &'r Arch,
    /// Its `rules` stay sorted by `nr`.
    policy: &'r mut Policy<'a>,
    errors: Errors<'a>,
    /// Syscalls whose rule names them explicitly.
    explicit: NrSet,
    /// Syscalls whose rule has no `else` (see `How::else_default`).
    else_default: NrSet,
    /// The current line (1-based).
    line: u32,
    /// Where the parse of the current line is.
    // Size: a field, not an argument of every step (measured).
    lx: Lexer<'a>,
    /// Its text, where tokens are slices of.
    text: &'a str,
    /// The line of `default`, or 0.
    default_line: u32,
    block: Option<Block>,
}

impl<'a> Parser<'a, '_> {
    /// The 1-based column of a token of the current line.
    fn col(&self, tok: Tok<'a>) -> u32 {
        (tok.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize) as u32 + 1
    }

    /// Record an error that fails the line.
    fn fail(&mut self, tok: Tok<'a>, kind: ErrorKind) -> Failed {
        self.push(tok, kind, 0);
        Failed
    }

    /// `fail` with `ErrorKind::Expected(what)`.
    // Size: one call instead of an `ErrorKind` built at each of many sites.
    #[inline(never)]
    fn expected(&mut self, tok: Tok<'a>, what: &'static str) -> Failed {
        self.fail(tok, ErrorKind::Expected(what))
    }

    /// `fail` with `ErrorKind::TooMany(what)`.
    // Size: as for `expected`.
    #[inline(never)]
    fn too_many(&mut self, tok: Tok<'a>, what: &'static str) -> Failed {
        self.fail(tok, ErrorKind::TooMany(what))
    }

    fn push(&mut self, tok: Tok<'a>, kind: ErrorKind, other_line: u32) {
        self.push_at(tok, self.col(tok), kind, other_line);
    }

    /// `push` for text that is not a token of the line, at `col`.
    fn push_at(&mut self, token: &'a str, col: u32, kind: ErrorKind, other_line: u32) {
        self.errors.push(Error {
            line: self.line,
            col,
            kind,
            token,
            other_line,
        });
    }

    // Size: LTO at opt-level z inlines this into more than one caller; kept
    // out of line, the parser is 0.9 KB smaller (measured).
    #[inline(never)]
    fn one_line(&mut self, line: &'a str) {
        self.text = line;
        let marks = (
            self.policy.clauses.len(),
            self.policy.cmps.len(),
            self.policy.replies.len(),
        );
        let result = if self.block.is_some() {
            self.block_line(line)
        } else {
            self.directive(line)
        };
        if result.is_err() && self.block.is_none() {
            // Drop what the failed line added to the pools.
            self.policy.clauses.truncate(marks.0);
            self.policy.cmps.truncate(marks.1);
            self.policy.replies.truncate(marks.2);
            if ends_with_brace(line) {
                // Skip the block's lines rather than misread them.
                self.block = Some(Block {
                    line: self.line,
                    reply: None,
                    start: 0,
                    otherwise: DEFAULT_PATHS_ERRNO,
                    otherwise_line: 0,
                });
            }
        }
    }

    // Size: out of line, as `one_line` says.
    #[inline(never)]
    fn directive(&mut self, line: &'a str) -> Res<()> {
        self.lx = Lexer::new(line, false);
        let first = self.lx.next();
        match DirectiveWord::of(first) {
            _ if first.is_empty() => Ok(()),
            Some(DirectiveWord::Close) => Err(self.fail(first, ErrorKind::StrayClose)),
            Some(DirectiveWord::Default) => {
                let action = self.plain_action()?;
                self.end()?;
                if self.default_line != 0 {
                    self.push(first, ErrorKind::DuplicateDefault, self.default_line);
                    return Err(Failed);
                }
                self.default_line = self.line;
                self.policy.default = action;
                Ok(())
            }
            Some(DirectiveWord::DecisionLog) => {
                let t = self.lx.next();
                self.policy.log_decisions = match Switch::of(t) {
                    Some(Switch::On) => true,
                    Some(Switch::Off) => false,
                    None => return Err(self.expected(t, "`on` or `off`")),
                };
                self.end()
            }
            None => self.rule(first),
        }
    }

    /// Anything left on the line is an error.
    fn end(&mut self) -> Res<()> {
        let t = self.lx.next();
        if t.is_empty() {
            Ok(())
        } else {
            Err(self.fail(t, ErrorKind::TrailingInput))
        }
    }

    // Size: out of line, as `one_line` says.
    #[inline(never)]
    #[allow(clippy::result_large_err)] // see `parse`
    fn finish(self) -> Result<(), Errors<'a>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let default = self.policy.default;
        for rule in &mut self.policy.rules {
            if self.else_default.has(rule.nr) {
                rule.otherwise = default;
            }
        }
        let mut errors = Errors::default();
        super::harden::apply(self.policy, self.arch, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
