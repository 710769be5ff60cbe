//! Tokens of one line, and the values tokens stand for.

use crate::words::{self, keywords};

/// One token: unquoted, or the text between a pair of quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tok<'a> {
    pub s: &'a str,
    /// 1-based byte column of the token's first byte (its quote, if quoted).
    pub col: u32,
    pub quoted: bool,
    /// Size: the padding as a field, so that a `Tok` moves as whole words.
    pad: [u8; 3],
}

impl Tok<'_> {
    /// Is this the unquoted word `w`?
    pub fn is(&self, w: &str) -> bool {
        !self.quoted && self.s == w
    }
}

/// Why a line does not split into tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexError<'a> {
    /// A quote at this column is never closed.
    Unterminated(u32),
    /// Text right after a closing quote: its column and the text up to the
    /// next space.
    NotSeparated(u32, &'a str),
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Splits a line into tokens. `#` where a token would start ends the line.
pub struct Lexer<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(line: &'a str) -> Self {
        Lexer { line, pos: 0 }
    }
}

fn col(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX - 1).saturating_add(1)
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Result<Tok<'a>, LexError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.line.as_bytes();
        let at = |i: usize| b.get(i).copied();
        let mut i = self.pos;
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        // The end of the line, unless this returns a token.
        self.pos = b.len();
        let start = i;
        let q = at(i)?;
        if q == b'#' {
            return None;
        }
        let quoted = q == b'"' || q == b'\'';
        if quoted {
            i += 1;
            while at(i).is_some_and(|c| c != q) {
                i += 1;
            }
            if i >= b.len() {
                return Some(Err(LexError::Unterminated(col(start))));
            }
        }
        // Size: one loop for the word and for what follows a quote.
        let end = i;
        let mut j = i + quoted as usize;
        while at(j).is_some_and(|c| !is_space(c)) {
            j += 1;
        }
        if quoted && j > end + 1 {
            let rest = self.line.get(end + 1..j).unwrap_or("");
            return Some(Err(LexError::NotSeparated(col(end + 1), rest)));
        }
        self.pos = j;
        // The delimiters are ASCII, so these are char boundaries.
        let s = self
            .line
            .get(start + quoted as usize..if quoted { end } else { j });
        Some(Ok(Tok {
            s: s.unwrap_or(""),
            col: col(start),
            quoted,
            pad: [0; 3],
        }))
    }
}

/// What a line of a policy body does to the block depth: `}` if, comments
/// and spaces aside, it is `}`; `{` if it ends with `{`; else 0. A `#`
/// that starts a word starts a comment (quotes not considered).
// Size: one scan, not a comment strip, a trim and two comparisons
// (measured).
pub fn block_edge(line: &str) -> u8 {
    let mut count = 0;
    let mut last = 0;
    let mut after_space = true;
    for &c in line.as_bytes() {
        if c == b'#' && after_space {
            break;
        }
        after_space = is_space(c);
        if !after_space {
            count += 1;
            last = c;
        }
    }
    match last {
        b'}' if count == 1 => b'}',
        b'{' => b'{',
        _ => 0,
    }
}

/// A decimal number (digits only, no sign).
pub fn number(s: &str) -> Option<u64> {
    if s.len() > 20 {
        return None;
    }
    crate::words::digits(s.as_bytes(), 10)
}

/// A decimal `u32`.
pub fn number_u32(s: &str) -> Option<u32> {
    number(s).and_then(|v| u32::try_from(v).ok())
}

/// A size in bytes: a number, optionally followed by `K`, `M` or `G`
/// (powers of 1024).
// Size: out of line (measured).
#[inline(never)]
pub fn bytes(s: &str) -> Option<u64> {
    let (num, shift) = match s.as_bytes().last()? {
        b'K' => (&s[..s.len() - 1], 10),
        b'M' => (&s[..s.len() - 1], 20),
        b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    number(num)?.checked_mul(1 << shift)
}

keywords! {
    /// The unit of a duration.
    Unit { Ms = "ms", S = "s", M = "m" }
}

/// A duration (`100ms`, `5s`, `2m`) in milliseconds.
pub fn duration_ms(s: &str) -> Option<u32> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at_checked(digits)?;
    let v = number(num)?;
    let factor: u64 = match Unit::of(unit)? {
        Unit::Ms => 1,
        Unit::S => 1_000,
        Unit::M => 60_000,
    };
    u32::try_from(v.checked_mul(factor)?).ok()
}

/// An rlimit value: a number or `unlimited`.
pub fn limit(s: &str) -> Option<u64> {
    if s == "unlimited" {
        Some(super::RLIM_INFINITY)
    } else {
        number(s)
    }
}

/// The standard signals by name, in number order from 1 (asm-generic
/// numbering, as on x86_64 and aarch64). One string rather than a table of
/// (&str, u8): a third of the bytes.
const SIGNALS: &str = "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM \
                       STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO \
                       PWR SYS";

/// Highest signal number (`_NSIG`).
pub const MAX_SIGNAL: u8 = 64;

/// A signal: `SIGTERM`, `TERM`, or a number in 1..=64.
pub fn signal(s: &str) -> Option<u8> {
    if let Some(n) = number(s) {
        return u8::try_from(n).ok().filter(|n| matches!(n, 1..=MAX_SIGNAL));
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    // `ABRT`'s other name.
    let name = if name == "IOT" { "ABRT" } else { name };
    u8::try_from(words::find(SIGNALS, name)? + 1).ok()
}

/// A service or policy name: 1 to 64 of `[A-Za-z0-9._-]`.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-')
}

#[cfg(test)]
mod lexer_tests {
    use super::*;

    // The lexer as it was before it was made smaller: the reference.
    fn old_next<'a>(this: &mut Lexer<'a>) -> Option<Result<Tok<'a>, LexError<'a>>> {
        let b = this.line.as_bytes();
        let mut i = this.pos;
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        if i >= b.len() || b[i] == b'#' {
            this.pos = b.len();
            return None;
        }
        let start = i;
        let q = b[i];
        if q == b'"' || q == b'\'' {
            let Some(len) = b[i + 1..].iter().position(|&c| c == q) else {
                this.pos = b.len();
                return Some(Err(LexError::Unterminated(col(start))));
            };
            let end = i + 1 + len;
            // The delimiters are ASCII, so these are char boundaries.
            let s = this.line.get(start + 1..end).unwrap_or("");
            let after = end + 1;
            if after < b.len() && !is_space(b[after]) {
                let mut j = after;
                while j < b.len() && !is_space(b[j]) {
                    j += 1;
                }
                this.pos = b.len();
                let rest = this.line.get(after..j).unwrap_or("");
                return Some(Err(LexError::NotSeparated(col(after), rest)));
            }
            this.pos = after;
            return Some(Ok(Tok {
                s,
                col: col(start),
                quoted: true,
                pad: [0; 3],
            }));
        }
        while i < b.len() && !is_space(b[i]) {
            i += 1;
        }
        this.pos = i;
        Some(Ok(Tok {
            s: this.line.get(start..i).unwrap_or(""),
            col: col(start),
            quoted: false,
            pad: [0; 3],
        }))
    }

    /// Every line of up to 6 bytes over an alphabet of the bytes that
    /// matter: the same tokens and errors as the reference.
    #[test]
    fn same_as_the_reference() {
        let alphabet = [" ", "\t", "\"", "'", "#", "a", "\u{e9}"];
        let mut idx = [0usize; 6];
        for len in 0..=6 {
            let total = alphabet.len().pow(len as u32);
            for mut n in 0..total {
                for slot in idx.iter_mut().take(len) {
                    *slot = n % alphabet.len();
                    n /= alphabet.len();
                }
                let line: std::string::String = idx[..len].iter().map(|&k| alphabet[k]).collect();
                let (mut a, mut b) = (Lexer::new(&line), Lexer::new(&line));
                loop {
                    let (x, y) = (a.next(), old_next(&mut b));
                    assert_eq!(x, y, "{line:?}");
                    assert_eq!(a.pos, b.pos, "{line:?}");
                    if x.is_none() {
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[test]
fn block_edge_is_strip_trim_compare() {
    let alphabet = [" ", "\t", "#", "{", "}", "a", "\u{e9}"];
    let mut idx = [0usize; 6];
    for len in 0..=6 {
        for mut n in 0..alphabet.len().pow(len as u32) {
            for slot in idx.iter_mut().take(len) {
                *slot = n % alphabet.len();
                n /= alphabet.len();
            }
            let line: std::string::String = idx[..len].iter().map(|&k| alphabet[k]).collect();
            // The comment strip, trim and comparisons this replaces.
            let b = line.as_bytes();
            let cut = (0..b.len())
                .find(|&i| b[i] == b'#' && (i == 0 || is_space(b[i - 1])))
                .unwrap_or(b.len());
            let code = line[..cut].trim_matches(|c| c == ' ' || c == '\t');
            let want = if code == "}" {
                b'}'
            } else if code.ends_with('{') {
                b'{'
            } else {
                0
            };
            assert_eq!(block_edge(&line), want, "{line:?}");
        }
    }
}
