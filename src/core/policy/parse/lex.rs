//! Lexing: a line cut into tokens, and tokens read as numbers and errnos
//! (`NUMBER` and `E` of the grammar).

use super::{Parser, Res};
use crate::policy::{ErrorKind, MAX_ERRNO};
use crate::words::digits;

/// A token: a slice of the current line, whose place in the line is its
/// column (see `Parser::col`); empty at the end of the line (or at a
/// comment).
// Size: a plain slice travels in two registers; a slice and a column went
// through memory at every call (measured).
pub(super) type Tok<'a> = &'a str;

pub(super) fn is_word(t: Tok) -> bool {
    t.bytes().next().is_some_and(|b| !is_punct(b))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

fn is_punct(b: u8) -> bool {
    matches!(
        b,
        b',' | b':' | b'{' | b'}' | b'&' | b'|' | b'=' | b'!' | b'<' | b'>'
    )
}

/// Splits a line into words and punctuation (`, : { } && || & == != < <= > >=`).
/// In `words` mode (paths blocks) only whitespace separates tokens.
#[derive(Clone, Copy)]
pub(super) struct Lexer<'a> {
    line: &'a str,
    pos: usize,
    words: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(line: &'a str, words: bool) -> Self {
        Lexer {
            line,
            pos: 0,
            words,
        }
    }

    pub(super) fn next(&mut self) -> Tok<'a> {
        let b = self.line.as_bytes();
        let len = b.len();
        while self.pos < len && is_space(b[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= len || b[self.pos] == b'#' {
            self.pos = len;
            return self.here();
        }
        let start = self.pos;
        if !self.words && is_punct(b[start]) {
            let two = b.get(start..start + 2);
            let double = matches!(two, Some(b"&&" | b"||" | b"==" | b"!=" | b"<=" | b">="));
            self.pos += if double { 2 } else { 1 };
        } else {
            while self.pos < len && !is_space(b[self.pos]) && (self.words || !is_punct(b[self.pos]))
            {
                self.pos += 1;
            }
        }
        // Token edges are ASCII bytes or the line's ends: char boundaries.
        self.line.get(start..self.pos).unwrap_or("")
    }

    /// An empty token where the lexer is.
    pub(super) fn here(&self) -> Tok<'a> {
        self.line.get(self.pos..self.pos).unwrap_or("")
    }

    /// Take the next token if it is `want`.
    pub(super) fn eat(&mut self, want: &str) -> bool {
        let mut copy = *self;
        let hit = copy.next() == want;
        if hit {
            *self = copy;
        }
        hit
    }
}

impl<'a> Parser<'a, '_> {
    /// `E`: an errno name of the arch, or its number (1..4095).
    pub(super) fn errno(&mut self) -> Res<u16> {
        let t = self.lx.next();
        if !is_word(t) {
            return Err(self.expected(t, "an errno (a name like EPERM, or 1..4095)"));
        }
        let value = if t.as_bytes()[0].is_ascii_digit() {
            parse_unsigned(t)
                .filter(|v| (1..=MAX_ERRNO as u64).contains(v))
                .map(|v| v as u16)
        } else {
            self.arch.errno(t)
        };
        value.ok_or_else(|| self.fail(t, ErrorKind::UnknownErrno))
    }

    /// A syscall argument (negative numbers are their two's complement),
    /// or, if `signed`, a return value (an `i64`, as its bits).
    // Size: one function for both (measured).
    pub(super) fn number(&mut self, signed: bool) -> Res<u64> {
        let t = self.lx.next();
        if !is_word(t) {
            return Err(self.expected(t, "a number"));
        }
        let value = match negative(t) {
            Some(m) => m.map(|m| 0u64.wrapping_sub(m)),
            None => parse_unsigned(t).filter(|&v| !signed || v <= i64::MAX as u64),
        };
        value.ok_or_else(|| self.fail(t, ErrorKind::BadNumber))
    }
}

/// Decimal, `0x` hex or `0o` octal, without sign.
fn parse_unsigned(s: &str) -> Option<u64> {
    match s.as_bytes() {
        [b'0', b'x' | b'X', rest @ ..] => digits(rest, 16),
        [b'0', b'o' | b'O', rest @ ..] => digits(rest, 8),
        all => digits(all, 10),
    }
}

/// The magnitude of `-decimal`, if `s` is one.
fn negative(s: &str) -> Option<Option<u64>> {
    let d = s.strip_prefix('-')?;
    Some(digits(d.as_bytes(), 10).filter(|&m| m <= 1 << 63))
}
