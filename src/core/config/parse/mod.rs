//! The config parser: one pass over the lines, policy references resolved
//! at the end. It reports every error it can and never panics.
//!
//! Split along the grammar: this file drives the lines and the blocks
//! (policy bodies are only delimited here); `top` reads the top-level
//! directives, `service` a service block's, `sandbox` its confinement
//! directives, and `report` the arguments, with the errors they give.

mod report;
mod sandbox;
mod service;
mod top;

use heapless::Vec;

use super::error::{ConfigErrorKind as K, ConfigErrors, Context};
use super::lex;
use super::{Cmd, Config, PolicyRef, PolicyText, MAX_LINE, MAX_SERVICES};
use crate::words::keywords;
use report::Report;
use service::Scratch;

/// A line of `MAX_LINE` bytes has at most this many tokens.
const MAX_TOKENS: usize = MAX_LINE / 2 + 1;

/// Where a policy body goes when its block closes.
#[derive(Clone, Copy)]
enum Body {
    /// `Config::policies[i]`.
    Named(usize),
    /// The inline policy of a service or of the test.
    Ref(Target),
    /// Nowhere: a block skipped after an error.
    Skip,
}

#[derive(Clone, Copy)]
struct Block {
    body: Body,
    /// Byte offset of the body's first line.
    start: usize,
    first_line: u32,
    open_line: u32,
    open_col: u32,
    depth: u32,
    /// The service block to go back to when this one closes.
    ret: Option<usize>,
}

#[derive(Clone, Copy)]
enum State {
    Top,
    /// Inside `Config::services[i]`.
    Service(usize),
    Body(Block),
}

/// Who a policy name was given to.
#[derive(Clone, Copy)]
enum Target {
    Service(usize),
    Test,
}

/// A policy name to look up once every `policy NAME {` has been seen.
#[derive(Clone, Copy)]
struct Pending<'a> {
    target: Target,
    name: &'a str,
    line: u32,
    col: u32,
    ctx: Context<'a>,
}

keywords! {
    /// What a policy reference may be besides a name.
    PolicyWord { Open = "{", Default = "default", None = "none" }
}

struct Parser<'a, 'c> {
    text: &'a str,
    cfg: &'c mut Config<'a>,
    r: Report<'a>,
    pending: Vec<Pending<'a>, { MAX_SERVICES + 1 }>,
    state: State,
    svc: Scratch,
    /// The line of each once-only top-level directive seen, or 0.
    top_seen: [u32; top::TopWord::COUNT],
    /// The byte offset of the next line.
    next_start: usize,
}

/// Parse a config. On failure, every error found (up to `MAX_ERRORS`, the
/// rest counted), each with its line and column. Policy bodies are only
/// delimited here; `check_policies` parses them.
// Both sides are large, but there is no heap to box them on.
#[allow(clippy::result_large_err)]
pub fn parse(text: &str) -> Result<Config<'_>, ConfigErrors<'_>> {
    let mut cfg = Config::new();
    parse_into(text, &mut cfg).map(|()| cfg)
}

/// `parse`, into a config that lives elsewhere (PID 1 keeps it outside the
/// stack). `cfg` is reset first.
// Size: LTO at opt-level z inlines this into more than one caller; kept
// out of line, the parser is 1 KB smaller (measured).
#[inline(never)]
#[allow(clippy::result_large_err)]
pub fn parse_into<'a>(text: &'a str, cfg: &mut Config<'a>) -> Result<(), ConfigErrors<'a>> {
    cfg.reset();
    let mut p = Parser {
        text,
        cfg,
        r: Report::new(),
        pending: Vec::new(),
        state: State::Top,
        svc: Scratch::default(),
        top_seen: [0; top::TopWord::COUNT],
        next_start: 0,
    };
    let mut start = 0usize;
    for raw in text.split('\n') {
        p.r.line = p.r.line.saturating_add(1);
        p.next_start = start.saturating_add(raw.len()).saturating_add(1);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        p.r.eol_col = u32::try_from(line.len())
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1);
        match p.state {
            State::Body(_) => p.body_line(line, start),
            State::Top | State::Service(_) => p.directive_line(line),
        }
        start = p.next_start;
    }
    p.finish();
    if p.r.errs.is_empty() {
        Ok(())
    } else {
        Err(p.r.errs)
    }
}

impl<'a> Parser<'a, '_> {
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn directive_line(&mut self, line: &'a str) {
        // Size: filled in place, not returned and moved (measured).
        let mut toks = Vec::new();
        if !self.r.tokens(line, &mut toks) {
            if let State::Service(_) = self.state {
                self.svc.unread = true;
            }
            return;
        }
        let Some(last) = toks.last() else {
            return;
        };
        let before = self.r.errs.count();
        let opened = match self.state {
            State::Service(i) => self.service_directive(i, &toks),
            _ => self.top_directive(&toks),
        };
        // A block that failed to open is skipped whole, so that its
        // contents are not taken for directives.
        if !opened && self.r.errs.count() != before && last.is("{") {
            self.open(Body::Skip, last.col);
        }
    }

    /// Enter a block whose opening line is the current one.
    fn open(&mut self, body: Body, col: u32) {
        let ret = match self.state {
            State::Service(i) => Some(i),
            _ => None,
        };
        self.state = State::Body(Block {
            body,
            start: self.next_start,
            first_line: self.r.line.saturating_add(1),
            open_line: self.r.line,
            open_col: col,
            depth: 1,
            ret,
        });
    }

    /// A line inside a policy body (or a skipped block). Only two kinds
    /// matter: a line that ends with `{` opens a nested block, a line that
    /// is `}` closes one (comments aside). The policy language has no
    /// quotes and makes `{` a token of its own, so neither does this scan.
    // Size: out of line (measured).
    #[inline(never)]
    fn body_line(&mut self, line: &'a str, line_start: usize) {
        // Size: the block is changed in place, not copied out and back
        // (measured).
        let State::Body(b) = &mut self.state else {
            return;
        };
        let edge = lex::block_edge(line);
        if edge == b'}' {
            b.depth = b.depth.saturating_sub(1);
            if b.depth == 0 {
                let b = *b;
                let text = self.text.get(b.start..line_start).unwrap_or("");
                self.close_body(
                    b,
                    PolicyText {
                        text,
                        first_line: b.first_line,
                    },
                );
            }
        } else if edge == b'{' {
            b.depth = b.depth.saturating_add(1);
        }
    }

    fn close_body(&mut self, b: Block, text: PolicyText<'a>) {
        match b.body {
            Body::Named(i) => {
                if let Some(p) = self.cfg.policies.get_mut(i) {
                    p.body = text;
                }
            }
            Body::Ref(target) => set_policy(self.cfg, target, PolicyRef::Inline(text)),
            Body::Skip => {}
        }
        self.state = match b.ret {
            Some(i) => State::Service(i),
            None => State::Top,
        };
    }

    /// End of text: unclosed blocks, then the policy names.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn finish(&mut self) {
        // Size: one error call for both kinds of block (measured).
        let open = match self.state {
            State::Top => None,
            State::Service(_) => Some((self.svc.open_line, self.svc.open_col)),
            // The line that opened it has its error already.
            State::Body(Block {
                body: Body::Skip, ..
            }) => None,
            State::Body(b) => {
                // In a service, its context is the one already.
                match (b.body, b.ret) {
                    (Body::Named(i), _) => {
                        if let Some(p) = self.cfg.policies.get(i) {
                            self.r.ctx = Context::Policy(p.name);
                        }
                    }
                    (Body::Ref(Target::Test), None) => self.r.ctx = Context::TestPolicy,
                    _ => {}
                }
                Some((b.open_line, b.open_col))
            }
        };
        if let Some((line, col)) = open {
            self.r.err_at(line, col, K::UnclosedBlock, "", 0);
        }
        self.state = State::Top;
        for p in &self.pending {
            let r = match self.cfg.policy_index(p.name) {
                Some(idx) => PolicyRef::Named(idx),
                None => {
                    self.r.ctx = p.ctx;
                    self.r.err_at(p.line, p.col, K::UnknownPolicy, p.name, 0);
                    continue;
                }
            };
            set_policy(self.cfg, p.target, r);
        }
        if let (Some(t), true) = (&self.cfg.test, self.cfg.test_service().is_some()) {
            let why = "one test program at most: one `kind test` service, or a `test` line";
            self.r.err_at(t.line, 1, K::Range(why), "", 0);
        }
    }
}

/// A command to be set.
// Size: not a `const`, which would be copied from a 290 B image (measured).
fn no_cmd<'a>() -> Cmd<'a> {
    Cmd {
        path: "",
        args: Vec::new(),
        line: 0,
    }
}

/// Stores the command of a line `Report::cmd` has checked.
#[inline(never)]
fn set_cmd<'a>(c: &mut Cmd<'a>, t: &[lex::Tok<'a>], line: u32) {
    c.path = t[1].s;
    c.line = line;
    c.args.clear();
    for a in &t[2..] {
        let _ = c.args.push(a.s);
    }
}

/// Sets the policy of a service or of the test.
// Size: one copy for the three places a policy is set (measured).
#[inline(never)]
fn set_policy<'a>(cfg: &mut Config<'a>, target: Target, r: PolicyRef<'a>) {
    match target {
        Target::Service(i) => {
            if let Some(s) = cfg.services.get_mut(i) {
                s.policy = r;
            }
        }
        Target::Test => cfg.test_policy = r,
    }
}
