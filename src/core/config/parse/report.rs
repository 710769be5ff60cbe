//! Reporting: errors at their place (line, column, block), and the
//! directive arguments read with the errors they give (a missing or
//! trailing token, a bad number, duration or path).

use heapless::Vec;

use super::super::error::{ConfigError, ConfigErrorKind as K, ConfigErrors, Context};
use super::super::{lex, MAX_ARGS, MAX_LINE};
use super::MAX_TOKENS;
use crate::words::{self, Keyword};
use lex::{LexError, Lexer, Tok};

/// Where errors go, and the place they are at. Apart from the config, so
/// that a directive can write to its service while it reports.
// Size: the service is looked up once per directive, not once per
// setting (measured).
pub(super) struct Report<'a> {
    pub(super) errs: ConfigErrors<'a>,
    /// The current line (1-based) and its column past the end.
    pub(super) line: u32,
    pub(super) eol_col: u32,
    /// The block of the current line: the service, in a service block and
    /// the inline policy of one.
    pub(super) ctx: Context<'a>,
}

impl<'a> Report<'a> {
    pub(super) fn new() -> Self {
        Report {
            errs: ConfigErrors::new(),
            line: 0,
            eol_col: 1,
            ctx: Context::None,
        }
    }

    /// An error in the current block (`ctx`).
    pub(super) fn err_at(&mut self, line: u32, col: u32, kind: K, token: &'a str, other_line: u32) {
        let e = ConfigError {
            line,
            col,
            kind,
            token,
            other_line,
            context: self.ctx,
        };
        // Kept by place, after those at the same place: the order a stable
        // sort at the end would give, for less code.
        let list = &mut self.errs.list;
        let at = list
            .iter()
            .position(|x| (x.line, x.col) > (line, col))
            .unwrap_or(list.len());
        if list.insert(at, e).is_err() {
            self.errs.dropped = self.errs.dropped.saturating_add(1);
        }
    }

    pub(super) fn err(&mut self, col: u32, kind: K, token: &'a str) {
        self.err_at(self.line, col, kind, token, 0);
    }

    pub(super) fn err_tok(&mut self, t: &Tok<'a>, kind: K) {
        self.err(t.col, kind, t.s);
    }

    // Size: the three most common errors, without a `K` built at each call.
    #[inline(never)]
    pub(super) fn expected(&mut self, t: &Tok<'a>, what: &'static str) {
        self.err_tok(t, K::Expected(what));
    }

    #[inline(never)]
    pub(super) fn bad_number(&mut self, t: &Tok<'a>) {
        self.err_tok(t, K::BadNumber);
    }

    #[inline(never)]
    pub(super) fn too_many(&mut self, t: &Tok<'a>, what: &'static str) {
        self.err_tok(t, K::TooMany(what));
    }

    /// Token `i`, or an error saying `what` was expected at the end of line.
    pub(super) fn arg<'t>(
        &mut self,
        t: &'t [Tok<'a>],
        i: usize,
        what: &'static str,
    ) -> Option<&'t Tok<'a>> {
        let a = t.get(i);
        if a.is_none() {
            self.err(self.eol_col, K::Expected(what), "");
        }
        a
    }

    /// Are there no tokens from `n` on? If there are, an error.
    pub(super) fn end(&mut self, t: &[Tok<'a>], n: usize) -> bool {
        match t.get(n) {
            Some(x) => {
                self.err_tok(x, K::TrailingInput);
                false
            }
            None => true,
        }
    }

    /// One token after the directive, and nothing else.
    pub(super) fn one<'t>(&mut self, t: &'t [Tok<'a>], what: &'static str) -> Option<&'t Tok<'a>> {
        let a = self.arg(t, 1, what)?;
        self.end(t, 2).then_some(a)
    }

    /// A second `what` `t`; the first is at line `first`. (At the top
    /// level, where policies and services are declared, the context is
    /// none.)
    pub(super) fn dup(&mut self, t: &Tok<'a>, what: &'static str, first: u32) {
        self.err_at(self.line, t.col, K::Duplicate(what), t.s, first);
    }

    /// Records directive `d` in `seen`; an error if it was there already.
    pub(super) fn once(&mut self, seen_line: u32, d: &Tok<'a>) -> bool {
        if seen_line != 0 {
            self.dup(d, "directive", seen_line);
            return false;
        }
        true
    }

    /// The tokens of a directive line into `toks` (empty); false after an
    /// error.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    pub(super) fn tokens(&mut self, line: &'a str, toks: &mut Vec<Tok<'a>, MAX_TOKENS>) -> bool {
        if line.len() > MAX_LINE {
            self.err(MAX_LINE as u32 + 1, K::LineTooLong, "");
            return false;
        }
        for r in Lexer::new(line) {
            let (col, kind, s) = match r {
                Ok(t) => match toks.push(t) {
                    Ok(()) => continue,
                    // Not with lines of at most `MAX_LINE` bytes.
                    Err(t) => (t.col, K::TooMany("tokens on one line"), ""),
                },
                Err(LexError::Unterminated(col)) => (col, K::UnterminatedQuote, ""),
                Err(LexError::NotSeparated(col, s)) => (col, K::QuoteNotSeparated, s),
            };
            self.err(col, kind, s);
            return false;
        }
        true
    }

    /// One keyword of `W` as the only argument, or an error saying `what`
    /// was expected.
    pub(super) fn choice<W: Keyword>(&mut self, t: &[Tok<'a>], what: &'static str) -> Option<W> {
        let i = self.choice_index(t, what, W::WORDS)?;
        W::VARIANTS.get(i).copied()
    }

    /// One word of `words` (space-separated) as the only argument: its
    /// index, or an error saying `what` was expected.
    // Size: one copy for every keyword set `choice` reads.
    #[inline(never)]
    fn choice_index(&mut self, t: &[Tok<'a>], what: &'static str, words: &str) -> Option<usize> {
        let a = self.one(t, what)?;
        let v = words::find(words, a.s);
        if v.is_none() {
            self.expected(a, what);
        }
        v
    }

    /// `[NAME] {` at tokens 1 and 2: the name, if the line is well formed.
    pub(super) fn block_name<'t>(
        &mut self,
        t: &'t [Tok<'a>],
        what: &'static str,
    ) -> Option<&'t Tok<'a>> {
        let name = self.arg(t, 1, what)?;
        if name.is("{") {
            self.expected(name, what);
            return None;
        }
        let brace = self.arg(t, 2, "`{`")?;
        if !brace.is("{") {
            self.expected(brace, "`{`");
            return None;
        }
        if !self.end(t, 3) {
            return None;
        }
        if !lex::valid_name(name.s) {
            self.err_tok(name, K::BadName);
            return None;
        }
        Some(name)
    }

    /// Checks `DIRECTIVE PATH [ARGS...]`, for `set_cmd` to store.
    // Size: a `Cmd` (~290 B) is written in place, not returned and moved
    // (measured).
    pub(super) fn cmd(&mut self, t: &[Tok<'a>], what: &'static str) -> Option<()> {
        let path = self.arg(t, 1, "a program path")?;
        if !path.s.starts_with('/') {
            self.err_tok(path, K::RelativePath(what));
            return None;
        }
        if let Some(a) = t.get(2 + MAX_ARGS) {
            self.too_many(a, "arguments");
            return None;
        }
        Some(())
    }

    pub(super) fn duration_arg(&mut self, t: &[Tok<'a>]) -> Option<u32> {
        let a = self.one(t, "a duration")?;
        self.duration(a)
    }

    pub(super) fn duration(&mut self, a: &Tok<'a>) -> Option<u32> {
        let v = lex::duration_ms(a.s);
        if v.is_none() {
            self.err_tok(a, K::BadDuration);
        }
        v
    }

    pub(super) fn number(&mut self, a: &Tok<'a>) -> Option<u32> {
        let v = lex::number_u32(a.s);
        if v.is_none() {
            self.bad_number(a);
        }
        v
    }

    pub(super) fn limit(&mut self, a: &Tok<'a>) -> Option<u64> {
        let v = lex::limit(a.s);
        if v.is_none() {
            self.bad_number(a);
        }
        v
    }

    pub(super) fn abs_path(&mut self, a: &Tok<'a>, what: &'static str) -> Option<&'a str> {
        if a.s.starts_with('/') {
            Some(a.s)
        } else {
            self.err_tok(a, K::RelativePath(what));
            None
        }
    }

    pub(super) fn number_arg(&mut self, t: &[Tok<'a>], what: &'static str) -> Option<u32> {
        let a = self.one(t, what)?;
        self.number(a)
    }

    /// Two tokens after the directive, and nothing else.
    pub(super) fn two<'t>(
        &mut self,
        t: &'t [Tok<'a>],
        first: &'static str,
        second: &'static str,
    ) -> Option<(&'t Tok<'a>, &'t Tok<'a>)> {
        let a = self.arg(t, 1, first)?;
        let b = self.arg(t, 2, second)?;
        self.end(t, 3).then_some((a, b))
    }
}
