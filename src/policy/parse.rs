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

use heapless::Vec;

use super::groups;
use super::{
    Action, Cmp, Error, ErrorKind, Errors, Op, Origin, PathRule, Policy, Reply, Rule, Span,
    MAX_ERRNO,
};
use crate::arch::Arch;

/// Is the absolute path `p` already in normal form (what `..`, `.` and
/// `//` removal would leave, up to one trailing `/`)?
// Size: a byte loop, not `str::split` (measured).
fn normalised(p: &str) -> bool {
    let body = p.strip_suffix('/').unwrap_or(p).as_bytes();
    // Every component after a `/` (the first byte) is not "", "." or "..".
    let mut i = 0;
    while i < body.len() {
        let start = i + 1;
        i = start;
        while i < body.len() && body[i] != b'/' {
            i += 1;
        }
        let c = body.get(start..i).unwrap_or(&[]);
        if c.len() <= 2 && c.iter().all(|&b| b == b'.') {
            return false;
        }
    }
    true
}

/// Longest line the parser accepts, in bytes.
pub const MAX_LINE: usize = 256;

/// A paths block's errno when it has no `otherwise` line (`EACCES`).
const DEFAULT_PATHS_ERRNO: u16 = 13;

/// Most names (syscalls and groups) one line can list.
const MAX_NAMES: usize = MAX_LINE / 2 + 1;

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

/// A token: a slice of the current line, whose place in the line is its
/// column (see `Parser::col`); empty at the end of the line (or at a
/// comment).
// Size: a plain slice travels in two registers; a slice and a column went
// through memory at every call (measured).
type Tok<'a> = &'a str;

fn is_word(t: Tok) -> bool {
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
struct Lexer<'a> {
    line: &'a str,
    pos: usize,
    words: bool,
}

impl<'a> Lexer<'a> {
    fn new(line: &'a str, words: bool) -> Self {
        Lexer {
            line,
            pos: 0,
            words,
        }
    }

    fn next(&mut self) -> Tok<'a> {
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
    fn here(&self) -> Tok<'a> {
        self.line.get(self.pos..self.pos).unwrap_or("")
    }

    /// Take the next token if it is `want`.
    fn eat(&mut self, want: &str) -> bool {
        let mut copy = *self;
        let hit = copy.next() == want;
        if hit {
            *self = copy;
        }
        hit
    }
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

/// How a rule was written, for merging it with one already there.
#[derive(Clone, Copy)]
struct How {
    /// Named explicitly (not only through a group).
    explicit: bool,
    /// No `else`: `Rule::otherwise` is the policy default, known at the end.
    else_default: bool,
}

/// Do two rules for the same syscall say the same?
fn same_rule(a: &Rule, a_how: How, b: &Rule, b_how: How) -> bool {
    a.action == b.action
        && a.cond == b.cond
        && (a.cond.is_none()
            || (a_how.else_default == b_how.else_default
                && (a_how.else_default || a.otherwise == b.otherwise)))
}

/// An open `{ ... }` paths block.
#[derive(Clone, Copy, Debug)]
struct Block {
    /// The line of the `{`.
    line: u32,
    /// The `Reply::Paths` being filled; `None` when the opening line was
    /// wrong (the block's lines are still checked, then dropped).
    reply: Option<usize>,
    /// Where the block's rules start in `Policy::paths`.
    start: usize,
    otherwise: u16,
    otherwise_line: u32,
}

/// An action as written: a paths block is only known to be one so far.
enum Act {
    Plain(Action),
    Paths,
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

    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn directive(&mut self, line: &'a str) -> Res<()> {
        self.lx = Lexer::new(line, false);
        let first = self.lx.next();
        match which(first, "}|default|decision-log") {
            _ if first.is_empty() => Ok(()),
            1 => Err(self.fail(first, ErrorKind::StrayClose)),
            2 => {
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
            3 => {
                let t = self.lx.next();
                self.policy.log_decisions = match which(t, "on|off") {
                    1 => true,
                    2 => false,
                    _ => return Err(self.expected(t, "`on` or `off`")),
                };
                self.end()
            }
            _ => self.rule(first),
        }
    }

    /// `SYSCALLS: ACTION ...`, starting at its first name.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn rule(&mut self, first: Tok<'a>) -> Res<()> {
        let mut names: Vec<Tok<'a>, MAX_NAMES> = Vec::new();
        let mut t = first;
        loop {
            if !is_word(t) {
                return Err(self.expected(t, "a syscall name or @group"));
            }
            if names.push(t).is_err() {
                return Err(self.too_many(t, "names on one line"));
            }
            let sep = self.lx.next();
            match sep {
                "," => t = self.lx.next(),
                ":" => break,
                _ => return Err(self.expected(sep, "`,` or `:`")),
            }
        }
        for &name in &names {
            self.check_name(name);
        }
        match self.action(true)? {
            Act::Paths => {
                self.end()?;
                self.open_paths(&names)
            }
            Act::Plain(action) => {
                let mut cond = None;
                let mut otherwise = None;
                if self.lx.eat("if") {
                    cond = Some(self.cond()?);
                    if self.lx.eat("else") {
                        otherwise = Some(self.plain_action()?);
                    }
                }
                self.end()?;
                let proto = Rule {
                    nr: 0,
                    action,
                    cond,
                    otherwise: otherwise.unwrap_or(Action::Kill),
                    line: self.line,
                    col: 0,
                    origin: Origin::Named,
                };
                self.apply(&names, proto, otherwise.is_none());
                Ok(())
            }
        }
    }

    /// Report a name that does not resolve.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn check_name(&mut self, name: Tok<'a>) {
        let kind = if let Some(g) = name.strip_prefix('@') {
            if groups::group(g).is_some() {
                return;
            }
            ErrorKind::UnknownGroup
        } else {
            // `name?`: skipped where this arch lacks it, but still a real name.
            let base = name.strip_suffix('?');
            let base_name = base.unwrap_or(name);
            if self.arch.nr(base_name).is_some() {
                return;
            }
            match (groups::is_legacy_x86_only(base_name), base) {
                (true, Some(_)) => return,
                (true, None) => ErrorKind::SyscallNotOnArch,
                (false, _) => ErrorKind::UnknownSyscall,
            }
        };
        self.push(name, kind, 0);
    }

    /// Give every syscall `names` reach the rule `proto`.
    fn apply(&mut self, names: &[Tok<'a>], mut proto: Rule, else_default: bool) {
        for &name in names {
            let how = How {
                explicit: !name.starts_with('@'),
                else_default,
            };
            for member in syscalls(name) {
                if let Some(nr) = self.arch.nr(member) {
                    proto.nr = nr;
                    proto.col = self.col(name);
                    proto.origin = if how.explicit {
                        Origin::Named
                    } else {
                        Origin::Group
                    };
                    self.put(member, &proto, how);
                }
            }
        }
    }

    /// Give syscall `new.nr` (`name`) the rule `new`.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn put(&mut self, name: &'a str, new: &Rule, how: How) {
        let nr = new.nr;
        let rules = &mut self.policy.rules;
        match rules.binary_search_by_key(&nr, |r| r.nr) {
            Ok(i) => {
                let old = How {
                    explicit: self.explicit.has(nr),
                    else_default: self.else_default.has(nr),
                };
                if old.explicit && !how.explicit {
                    // An explicit rule beats a group's.
                    return;
                } else if how.explicit && !old.explicit {
                    rules[i] = *new;
                } else {
                    if !same_rule(&rules[i], old, new, how) {
                        let first = rules[i].line;
                        self.push_at(name, new.col, ErrorKind::Conflict, first);
                    }
                    return;
                }
            }
            Err(i) => {
                if rules.insert(i, *new).is_err() {
                    self.push_at(name, new.col, ErrorKind::TooMany("rules"), 0);
                    return;
                }
            }
        }
        self.explicit.set(nr, how.explicit);
        self.else_default.set(nr, how.else_default);
    }

    /// `SYSCALLS: notify paths {`, the line checked: open the block.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn open_paths(&mut self, names: &[Tok<'a>]) -> Res<()> {
        for &name in names {
            for m in syscalls(name) {
                if self.arch.nr(m).is_some() && groups::path_args(m).is_empty() {
                    // A group's member is named; a syscall as written.
                    let s = if name.starts_with('@') { m } else { name };
                    self.push_at(s, self.col(name), ErrorKind::NoPathArgument, 0);
                    break;
                }
            }
        }
        let start = self.policy.paths.len();
        let reply = Reply::Paths {
            start: start as u16,
            len: 0,
            otherwise: DEFAULT_PATHS_ERRNO,
        };
        let index = self.policy.replies.len();
        if self.policy.replies.push(reply).is_err() {
            // `rule` passes one name at least.
            let t = names.first().copied().unwrap_or_default();
            return Err(self.too_many(t, "notify replies"));
        }
        self.block = Some(Block {
            line: self.line,
            reply: Some(index),
            start,
            otherwise: DEFAULT_PATHS_ERRNO,
            otherwise_line: 0,
        });
        let proto = Rule {
            nr: 0,
            action: Action::Notify(index as u16),
            cond: None,
            otherwise: Action::Kill,
            line: self.line,
            col: 0,
            origin: Origin::Named,
        };
        self.apply(names, proto, true);
        Ok(())
    }

    /// A line inside a paths block.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn block_line(&mut self, line: &'a str) -> Res<()> {
        self.lx = Lexer::new(line, true);
        let t = self.lx.next();
        match which(t, "}|allow|deny|otherwise") {
            _ if t.is_empty() => Ok(()),
            1 => {
                self.close_block();
                self.end()
            }
            n @ (2 | 3) => {
                let prefix = self.lx.next();
                if prefix.is_empty() {
                    return Err(self.expected(prefix, "a path prefix"));
                }
                // Paths are matched after normalisation, so a prefix with
                // `.`, `..` or `//` in it could never match: refuse it.
                if !prefix.starts_with('/') || !normalised(prefix) {
                    return Err(self.fail(prefix, ErrorKind::RelativePrefix));
                }
                let deny = if n == 2 {
                    None
                } else {
                    let e = self.lx.next();
                    match e {
                        // The block's `otherwise`, filled in at the `}`.
                        "" => Some(0),
                        "errno" => Some(self.errno()?),
                        _ => return Err(self.fail(e, ErrorKind::TrailingInput)),
                    }
                };
                self.end()?;
                let rule = PathRule { prefix, deny };
                if self.block.is_some_and(|b| b.reply.is_some())
                    && self.policy.paths.push(rule).is_err()
                {
                    return Err(self.too_many(t, "path rules"));
                }
                Ok(())
            }
            4 => {
                let e = self.lx.next();
                if e != "errno" {
                    return Err(self.expected(e, "`errno`"));
                }
                let errno = self.errno()?;
                self.end()?;
                let here = self.line;
                let Some(b) = self.block.as_mut() else {
                    return Ok(());
                };
                if b.otherwise_line != 0 {
                    let first = b.otherwise_line;
                    self.push(t, ErrorKind::DuplicateOtherwise, first);
                    return Err(Failed);
                }
                b.otherwise = errno;
                b.otherwise_line = here;
                Ok(())
            }
            _ => Err(self.expected(
                t,
                "`allow PREFIX`, `deny PREFIX`, `otherwise errno E` or `}`",
            )),
        }
    }

    fn close_block(&mut self) {
        let Some(b) = self.block.take() else { return };
        let Some(index) = b.reply else { return };
        let end = self.policy.paths.len();
        for rule in self.policy.paths.get_mut(b.start..end).unwrap_or(&mut []) {
            if rule.deny == Some(0) {
                rule.deny = Some(b.otherwise);
            }
        }
        if let Some(r) = self.policy.replies.get_mut(index) {
            *r = Reply::Paths {
                start: b.start as u16,
                len: (end - b.start) as u16,
                otherwise: b.otherwise,
            };
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

    /// An action that is not a paths block.
    fn plain_action(&mut self) -> Res<Action> {
        match self.action(false)? {
            Act::Plain(a) => Ok(a),
            // `action` refuses paths when not allowed; never reached.
            Act::Paths => Ok(Action::Kill),
        }
    }

    fn action(&mut self, paths_ok: bool) -> Res<Act> {
        let t = self.lx.next();
        let action = match which(t, "allow|kill|log|trap|errno|notify") {
            1 => Action::Allow,
            2 => Action::Kill,
            3 => Action::Log,
            4 => Action::Trap,
            5 => Action::Errno(self.errno()?),
            6 => {
                let r = self.lx.next();
                let reply = match which(r, "return|errno|continue|paths") {
                    1 => Reply::Return(self.number(true)? as i64),
                    2 => Reply::Errno(self.errno()?),
                    3 => Reply::Continue,
                    4 if paths_ok => {
                        let b = self.lx.next();
                        if b == "if" {
                            let what = "`{` (a paths block takes no condition)";
                            return Err(self.expected(b, what));
                        }
                        if b != "{" {
                            return Err(self.expected(b, "`{`"));
                        }
                        return Ok(Act::Paths);
                    }
                    4 => {
                        return Err(self.expected(r, "`return`, `errno` or `continue` (a paths block can only be a rule's sole action)"))
                    }
                    _ => {
                        return Err(self.expected(r, "`return N`, `errno E`, `continue` or `paths {`"))
                    }
                };
                Action::Notify(self.reply(reply, r)?)
            }
            _ => {
                return Err(self.expected(
                    t,
                    "an action (`allow`, `kill`, `log`, `trap`, `errno E` or `notify ...`)",
                ))
            }
        };
        Ok(Act::Plain(action))
    }

    /// The index of `reply` in `Policy::replies`, shared with an equal one.
    fn reply(&mut self, reply: Reply, at: Tok<'a>) -> Res<u16> {
        if let Some(i) = self.policy.replies.iter().position(|r| *r == reply) {
            return Ok(i as u16);
        }
        let i = self.policy.replies.len();
        if self.policy.replies.push(reply).is_err() {
            return Err(self.too_many(at, "notify replies"));
        }
        Ok(i as u16)
    }

    fn errno(&mut self) -> Res<u16> {
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
    fn number(&mut self, signed: bool) -> Res<u64> {
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

    /// `COND`: appended to the pools, or an equal condition already there.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn cond(&mut self) -> Res<Span> {
        let c0 = self.policy.clauses.len();
        let m0 = self.policy.cmps.len();
        loop {
            let k0 = self.policy.cmps.len();
            loop {
                self.cmp()?;
                if !self.lx.eat("&&") {
                    break;
                }
            }
            let clause = Span {
                start: k0 as u16,
                len: (self.policy.cmps.len() - k0) as u16,
            };
            if self.policy.clauses.push(clause).is_err() {
                let at = self.lx.here();
                return Err(self.too_many(at, "conditions"));
            }
            if !self.lx.eat("||") {
                break;
            }
        }
        let n = self.policy.clauses.len() - c0;
        let p = &self.policy;
        let clause_eq = |a: &Span, b: &Span| p.cmps.get(a.range()) == p.cmps.get(b.range());
        let (old, new) = p.clauses.split_at(c0);
        let same = old
            .windows(n)
            .position(|w| w.iter().zip(new).all(|(a, b)| clause_eq(a, b)));
        let mut start = c0;
        if let Some(i) = same {
            self.policy.clauses.truncate(c0);
            self.policy.cmps.truncate(m0);
            start = i;
        }
        Ok(Span {
            start: start as u16,
            len: n as u16,
        })
    }

    /// `argN OP NUMBER` or `argN & MASK == NUMBER`, appended to the pool.
    // Size: out of line, as the first `#[inline(never)]` above says.
    #[inline(never)]
    fn cmp(&mut self) -> Res<()> {
        let a = self.lx.next();
        let arg = match a.strip_prefix("arg") {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => match n.as_bytes()
            {
                [d @ b'0'..=b'5'] => d - b'0',
                _ => return Err(self.fail(a, ErrorKind::NoSuchArgument)),
            },
            _ => return Err(self.expected(a, "an argument (`arg0` .. `arg5`)")),
        };
        let o = self.lx.next();
        let op = match which(o, "==|!=|<|<=|>|>=|&") {
            1 => Op::Eq,
            2 => Op::Ne,
            3 => Op::Lt,
            4 => Op::Le,
            5 => Op::Gt,
            6 => Op::Ge,
            7 => {
                let mask = self.number(false)?;
                let eq = self.lx.next();
                if eq != "==" {
                    return Err(self.expected(eq, "`==` after a mask"));
                }
                Op::MaskedEq(mask)
            }
            _ => {
                return Err(self.expected(
                    o,
                    "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=` or `& MASK ==`)",
                ))
            }
        };
        let value = self.number(false)?;
        if self.policy.cmps.push(Cmp { arg, op, value }).is_err() {
            return Err(self.too_many(a, "comparisons"));
        }
        Ok(())
    }

    // Size: out of line, as the first `#[inline(never)]` above says.
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

/// Which of the `|`-separated `words` `s` is, counting from 1 (0: none).
/// (Cheaper in code than a `match` on strings.)
#[inline(never)]
fn which(s: &str, words: &str) -> usize {
    words.split('|').position(|w| w == s).map_or(0, |i| i + 1)
}

/// The syscalls `name` stands for: a group's members (none if there is no
/// such group), or the syscall named, without its `?`.
// Size: one loop for groups and single names in `apply` and `open_paths`
// (measured).
fn syscalls(name: &str) -> groups::Members<'_> {
    match name.strip_prefix('@') {
        Some(g) => groups::group(g).unwrap_or_default(),
        None => {
            // Size: not `trim_end_matches`, a char searcher (measured).
            let mut base = name;
            while let Some(b) = base.strip_suffix('?') {
                base = b;
            }
            groups::Members::of(base)
        }
    }
}

/// Does the line's last token open a block?
fn ends_with_brace(line: &str) -> bool {
    let mut lx = Lexer::new(line, false);
    let mut last = "";
    loop {
        let t = lx.next();
        if t.is_empty() {
            return last == "{";
        }
        last = t;
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

/// `s`, all digits in `radix` (at least one), if it fits.
// Size: one loop for the policy's numbers and those of /proc/PID/status
// (measured).
#[inline(never)]
pub fn digits(s: &[u8], radix: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    // Bytes, not chars: a non-ASCII byte is no digit either.
    for &b in s {
        let d = (b as char).to_digit(radix)?;
        v = v.checked_mul(radix as u64)?.checked_add(d as u64)?;
    }
    Some(v)
}

/// The magnitude of `-decimal`, if `s` is one.
fn negative(s: &str) -> Option<Option<u64>> {
    let d = s.strip_prefix('-')?;
    Some(digits(d.as_bytes(), 10).filter(|&m| m <= 1 << 63))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::out::Buf;
    use crate::policy::ErrorKind as K;
    use crate::tables::{AARCH64, X86_64};

    fn errors(text: &str, arch: &Arch) -> std::vec::Vec<(u32, u32, ErrorKind)> {
        match parse(text, arch) {
            Ok(_) => panic!("no error in {text:?}"),
            Err(e) => e.list.iter().map(|e| (e.line, e.col, e.kind)).collect(),
        }
    }

    fn one_error<'a>(text: &'a str, arch: &Arch) -> Error<'a> {
        let e = parse(text, arch).expect_err(text);
        assert_eq!(e.list.len(), 1, "{:?}", e.list);
        e.list[0]
    }

    fn ok<'a>(text: &'a str, arch: &Arch) -> Policy<'a> {
        match parse(text, arch) {
            Ok(p) => p,
            Err(e) => {
                let mut b = Buf::<4096>::new();
                e.render("t", &mut b);
                panic!("{}", b.as_str());
            }
        }
    }

    fn rendered(text: &str, arch: &Arch) -> std::string::String {
        let mut b = Buf::<4096>::new();
        parse(text, arch)
            .expect_err(text)
            .render("policy.txt", &mut b);
        b.as_str().into()
    }

    fn nr(name: &str) -> u32 {
        X86_64.nr(name).unwrap()
    }

    const NO_ARGS: [u64; 6] = [0; 6];

    /// Rules the policy wrote, not those vigil added (`harden`).
    fn written(p: &Policy) -> usize {
        p.rules
            .iter()
            .filter(|r| !matches!(r.origin, Origin::Added(_)))
            .count()
    }

    fn args(a0: u64, a1: u64) -> [u64; 6] {
        [a0, a1, 0, 0, 0, 0]
    }

    #[test]
    fn syscall_numbers_fit_the_sets() {
        for arch in [&X86_64, &AARCH64] {
            assert!(arch.syscalls().all(|(_, nr)| (nr as usize) < NR_LIMIT));
        }
    }

    // --- errors, one per kind ---

    #[test]
    fn unknown_syscall() {
        assert_eq!(
            errors("read: allow\n  read, frobnicate: allow\n", &X86_64),
            [(2, 9, K::UnknownSyscall)]
        );
        assert_eq!(one_error("frobnicate: allow", &X86_64).token, "frobnicate");
    }

    #[test]
    fn unknown_errno() {
        assert_eq!(
            errors("read: errno EFOO", &X86_64),
            [(1, 13, K::UnknownErrno)]
        );
        assert_eq!(errors("read: errno 0", &X86_64), [(1, 13, K::UnknownErrno)]);
        assert_eq!(
            errors("read: errno 4096", &X86_64),
            [(1, 13, K::UnknownErrno)]
        );
        assert_eq!(
            errors("read: notify errno eperm", &X86_64),
            [(1, 20, K::UnknownErrno)]
        );
        let p = ok("read: errno 4095\nwrite: errno EOPNOTSUPP\n", &X86_64);
        assert_eq!(p.action(nr("read"), &NO_ARGS), Action::Errno(4095));
        assert_eq!(p.action(nr("write"), &NO_ARGS), Action::Errno(95));
    }

    #[test]
    fn conflict() {
        let e = one_error("read: allow\nwrite: allow\nclose, read: kill\n", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.token, e.other_line),
            (3, 8, K::Conflict, "read", 1)
        );
        // The same rule again is no conflict.
        ok(
            "read: allow if arg0 == 1\nread: allow if arg0 == 1\nread, read: allow if arg0 == 1",
            &X86_64,
        );
        // A different condition, or else-action, is.
        assert_eq!(
            errors(
                "read: allow if arg0 == 1\nread: allow if arg0 == 2",
                &X86_64
            ),
            [(2, 1, K::Conflict)]
        );
        assert_eq!(
            errors(
                "read: allow if arg0 == 1 else kill\nread: allow if arg0 == 1 else trap",
                &X86_64
            ),
            [(2, 1, K::Conflict)]
        );
        assert_eq!(
            errors("read: notify return 1\nread: notify return 2", &X86_64),
            [(2, 1, K::Conflict)]
        );
        // Two groups disagreeing.
        let e = one_error("@basic-io: allow\n@file-system: log\n", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.token, e.other_line),
            (2, 1, K::Conflict, "close", 1)
        );
    }

    #[test]
    fn line_too_long() {
        let long = "#".repeat(MAX_LINE + 1);
        let text = std::format!("read: allow\n{long}\nbogus: allow\n");
        assert_eq!(
            errors(&text, &X86_64),
            [(2, 257, K::LineTooLong), (3, 1, K::UnknownSyscall)]
        );
        // Exactly MAX_LINE is fine, and so is a CRLF ending on it.
        let max = std::format!("read: allow{}\r\n", " ".repeat(MAX_LINE - 11));
        ok(&max, &X86_64);
    }

    #[test]
    fn bad_number() {
        assert_eq!(
            errors("read: allow if arg0 == 12abc", &X86_64),
            [(1, 24, K::BadNumber)]
        );
        assert_eq!(
            errors("read: allow if arg0 == 18446744073709551616", &X86_64),
            [(1, 24, K::BadNumber)]
        );
        assert_eq!(
            errors("read: allow if arg0 == 0x", &X86_64),
            [(1, 24, K::BadNumber)]
        );
        assert_eq!(
            errors("read: allow if arg0 == +1", &X86_64),
            [(1, 24, K::BadNumber)]
        );
        assert_eq!(
            errors("read: allow if arg0 == -0x1", &X86_64),
            [(1, 24, K::BadNumber)]
        );
        assert_eq!(
            errors("read: allow if arg0 & 0o8 == 0", &X86_64),
            [(1, 23, K::BadNumber)]
        );
        assert_eq!(
            errors("read: notify return 9223372036854775808", &X86_64),
            [(1, 21, K::BadNumber)]
        );
        assert_eq!(
            errors("read: allow if arg0 ==", &X86_64),
            [(1, 23, K::Expected("a number"))]
        );
    }

    #[test]
    fn no_such_argument() {
        assert_eq!(
            errors("read: allow if arg6 == 1", &X86_64),
            [(1, 16, K::NoSuchArgument)]
        );
        assert_eq!(
            errors("read: allow if arg0 == 1 && arg12 == 1", &X86_64),
            [(1, 29, K::NoSuchArgument)]
        );
        assert_eq!(
            errors("read: allow if argv == 1", &X86_64),
            [(1, 16, K::Expected("an argument (`arg0` .. `arg5`)"))]
        );
    }

    #[test]
    fn unclosed_block() {
        let e = one_error("read: allow\nopen: notify paths {\n  allow /tmp\n", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.other_line),
            (4, 1, K::UnclosedBlock, 2)
        );
        let e = one_error("open: notify paths {\n  allow /tmp", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.other_line),
            (2, 1, K::UnclosedBlock, 1)
        );
    }

    #[test]
    fn stray_close() {
        assert_eq!(
            errors("read: allow\n  }\n", &X86_64),
            [(2, 3, K::StrayClose)]
        );
        assert_eq!(
            errors("open: notify paths {\n}\n}", &X86_64),
            [(3, 1, K::StrayClose)]
        );
    }

    #[test]
    fn syscall_not_on_arch() {
        let e = one_error("read: allow\nopen: allow\n", &AARCH64);
        assert_eq!(
            (e.line, e.col, e.kind, e.token),
            (2, 1, K::SyscallNotOnArch, "open")
        );
        assert_eq!(
            rendered("read: allow\nopen: allow\n", &AARCH64),
            "policy.txt:2:1: error: syscall `open` does not exist on this architecture (use openat)\n"
        );
        let p = ok("read: allow\nopen: allow\n", &X86_64);
        assert_eq!(p.action(nr("open"), &NO_ARGS), Action::Allow);
        // A group naming legacy syscalls is fine on both.
        ok("@file-system: allow", &AARCH64);
    }

    #[test]
    fn unknown_group() {
        let e = one_error("read, @nope: allow", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.token),
            (1, 7, K::UnknownGroup, "@nope")
        );
    }

    #[test]
    fn prefixes_must_be_normalised() {
        for bad in ["/tmp/../etc", "/tmp//x", "/./tmp", "/tmp/.", "/tmp/.."] {
            let text = format!("openat: notify paths {{\n  deny {bad}\n}}\n");
            let e = one_error(&text, &X86_64);
            assert_eq!(
                (e.line, e.col, e.kind, e.token),
                (2, 8, K::RelativePrefix, bad)
            );
        }
        assert!(parse(
            "openat: notify paths {\n  allow /tmp/\n  allow /\n  allow /a.b/..c\n}\n",
            &X86_64
        )
        .is_ok());
    }

    /// `normalised` against the plain definition, on every short path.
    #[test]
    fn normalised_agrees_with_its_definition() {
        let reference = |p: &str| {
            let body = p.strip_suffix('/').unwrap_or(p);
            body.is_empty()
                || body
                    .split('/')
                    .skip(1)
                    .all(|c| c.len() > 2 || c.bytes().any(|b| b != b'.'))
        };
        let mut stack = vec![std::string::String::from("/")];
        while let Some(p) = stack.pop() {
            assert_eq!(normalised(&p), reference(&p), "{p:?}");
            if p.len() < 8 {
                for c in ['/', '.', 'a'] {
                    stack.push(format!("{p}{c}"));
                }
            }
        }
    }

    #[test]
    fn relative_prefix() {
        let e = one_error("openat: notify paths {\n  allow tmp\n}\n", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.token),
            (2, 9, K::RelativePrefix, "tmp")
        );
    }

    #[test]
    fn no_path_argument() {
        let e = one_error("getppid: notify paths {\n  allow /tmp\n}\n", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.token),
            (1, 1, K::NoPathArgument, "getppid")
        );
        assert_eq!(
            errors("open, read: notify paths {\n}\n", &X86_64),
            [(1, 7, K::NoPathArgument)]
        );
    }

    #[test]
    fn duplicate_default_and_otherwise() {
        let e = one_error("default allow\nread: allow\ndefault kill\n", &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.other_line),
            (3, 1, K::DuplicateDefault, 1)
        );
        let e = one_error(
            "open: notify paths {\notherwise errno EPERM\notherwise errno EPERM\n}",
            &X86_64,
        );
        assert_eq!(
            (e.line, e.col, e.kind, e.other_line),
            (3, 1, K::DuplicateOtherwise, 2)
        );
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            errors("read write: allow", &X86_64),
            [(1, 6, K::Expected("`,` or `:`"))]
        );
        assert_eq!(
            errors("read,: allow", &X86_64),
            [(1, 6, K::Expected("a syscall name or @group"))]
        );
        assert_eq!(
            errors("read: allow if arg0 == 1 junk", &X86_64),
            [(1, 26, K::TrailingInput)]
        );
        assert_eq!(
            errors("read: allow else kill", &X86_64),
            [(1, 13, K::TrailingInput)]
        );
        assert_eq!(
            errors("default allow if arg0 == 1", &X86_64),
            [(1, 15, K::TrailingInput)]
        );
        assert_eq!(
            errors("decision-log maybe", &X86_64),
            [(1, 14, K::Expected("`on` or `off`"))]
        );
        assert_eq!(errors("read: allow if arg0 = 1", &X86_64)[0].1, 21);
        assert!(matches!(
            errors("read: permit", &X86_64)[..],
            [(1, 7, K::Expected(_))]
        ));
        assert!(matches!(
            errors("read: notify maybe", &X86_64)[..],
            [(1, 14, K::Expected(_))]
        ));
        // A paths block only as a rule's sole action: the block is skipped.
        assert!(matches!(
            errors(
                "read: allow if arg0 == 1 else notify paths {\n allow /x\n}\n",
                &X86_64
            )[..],
            [(1, 38, K::Expected(_))]
        ));
        assert!(matches!(
            errors("default notify paths {\n}\nread: allow", &X86_64)[..],
            [(1, 16, K::Expected(_))]
        ));
        assert_eq!(
            rendered("open: notify paths if arg0 == 1 {\n allow /x\n}\n", &X86_64),
            "policy.txt:1:20: error: expected `{` (a paths block takes no condition), found `if`\n"
        );
        assert_eq!(
            errors("open: notify paths { allow /x }", &X86_64),
            [(1, 22, K::TrailingInput)]
        );
        assert!(matches!(
            errors("open: notify paths {\n read: allow\n}", &X86_64)[..],
            [(2, 2, K::Expected(_))]
        ));
    }

    #[test]
    fn all_errors_reported() {
        let text = "\
default allow
frobnicate: allow
read: errno ENOPE
write: allow if arg7 == 1
openat: notify paths {
    allow relative
    deny /etc errno 99999
}
}
close: allow
close: kill
";
        assert_eq!(
            errors(text, &X86_64),
            [
                (2, 1, K::UnknownSyscall),
                (3, 13, K::UnknownErrno),
                (4, 17, K::NoSuchArgument),
                (6, 11, K::RelativePrefix),
                (7, 21, K::UnknownErrno),
                (9, 1, K::StrayClose),
                (11, 1, K::Conflict),
            ]
        );
    }

    #[test]
    fn render_format() {
        assert_eq!(
            rendered("read: allow\nfrobnicate: allow\nread: errno 0\n", &X86_64),
            "policy.txt:2:1: error: unknown syscall `frobnicate`\n\
             policy.txt:3:13: error: unknown errno `0` (a name like EPERM, or 1..4095)\n"
        );
    }

    // --- meaning ---

    #[test]
    fn conditions() {
        let p = ok("default errno EPERM\nread: allow if arg0 == 1 && arg1 > 5 || arg0 & 0x3 == 2 else kill\n", &X86_64);
        let r = p.rule(nr("read")).unwrap();
        let cond = r.cond.unwrap();
        assert_eq!(cond.len, 2);
        let clauses = &p.clauses[cond.range()];
        assert_eq!(
            p.cmps[clauses[0].range()],
            [
                Cmp {
                    arg: 0,
                    op: Op::Eq,
                    value: 1
                },
                Cmp {
                    arg: 1,
                    op: Op::Gt,
                    value: 5
                }
            ]
        );
        assert_eq!(
            p.cmps[clauses[1].range()],
            [Cmp {
                arg: 0,
                op: Op::MaskedEq(3),
                value: 2
            }]
        );
        let read = nr("read");
        assert_eq!(p.action(read, &args(1, 6)), Action::Allow);
        assert_eq!(p.action(read, &args(1, 5)), Action::Kill);
        assert_eq!(p.action(read, &args(0x42, 0)), Action::Allow);
        assert_eq!(p.action(read, &args(0x43, 0)), Action::Kill);
        assert_eq!(p.action(nr("write"), &NO_ARGS), Action::Errno(1));
    }

    #[test]
    fn operators_and_numbers() {
        let p = ok(
            "read: allow if arg0==-1\n\
             write: allow if arg0 != 0o17 && arg1 <= 0xFF\n\
             close: allow if arg0 < 3 || arg0 >= 100\n",
            &X86_64,
        );
        assert_eq!(p.action(nr("read"), &args(1, 0)), Action::Kill);
        let c = p.rule(nr("read")).unwrap().cond.unwrap();
        assert_eq!(
            p.cmps[p.clauses[c.start as usize].range()],
            [Cmp {
                arg: 0,
                op: Op::Eq,
                value: u64::MAX
            }]
        );
        assert_eq!(p.action(nr("read"), &args(u64::MAX, 0)), Action::Allow);
        assert_eq!(p.action(nr("write"), &args(15, 0xff)), Action::Kill);
        assert_eq!(p.action(nr("write"), &args(16, 0xff)), Action::Allow);
        assert_eq!(p.action(nr("write"), &args(16, 0x100)), Action::Kill);
        assert_eq!(p.action(nr("close"), &args(2, 0)), Action::Allow);
        assert_eq!(p.action(nr("close"), &args(3, 0)), Action::Kill);
        assert_eq!(p.action(nr("close"), &args(100, 0)), Action::Allow);
        assert!(ok("read: allow if arg0 == -9223372036854775808", &X86_64)
            .rule(nr("read"))
            .is_some());
    }

    #[test]
    fn equal_conditions_are_shared() {
        let p = ok(
            "read: allow if arg0 == 1 || arg1 == 2\nwrite: log if arg0 == 1 || arg1 == 2\n",
            &X86_64,
        );
        assert_eq!(p.clauses.len(), 2);
        assert_eq!(p.cmps.len(), 2);
        assert_eq!(
            p.rule(nr("read")).unwrap().cond,
            p.rule(nr("write")).unwrap().cond
        );
    }

    #[test]
    fn notify_replies() {
        let p = ok(
            "getppid: notify return -1\n\
             uname: notify errno EPERM\n\
             getpid: notify continue\n\
             gettid: notify return -1\n",
            &X86_64,
        );
        let reply = |name| p.reply(p.action(nr(name), &NO_ARGS));
        assert_eq!(reply("getppid"), Some(Reply::Return(-1)));
        assert_eq!(reply("uname"), Some(Reply::Errno(1)));
        assert_eq!(reply("getpid"), Some(Reply::Continue));
        assert_eq!(reply("gettid"), Some(Reply::Return(-1)));
        assert_eq!(p.replies.len(), 3);
        assert_eq!(
            p.action(nr("getppid"), &NO_ARGS),
            p.action(nr("gettid"), &NO_ARGS)
        );
        let p = ok(
            "read: notify return 0x10 if arg0 == 0 else notify errno 5",
            &X86_64,
        );
        assert_eq!(
            p.reply(p.action(nr("read"), &NO_ARGS)),
            Some(Reply::Return(16))
        );
        assert_eq!(
            p.reply(p.action(nr("read"), &args(1, 0))),
            Some(Reply::Errno(5))
        );
    }

    #[test]
    fn paths_block() {
        let text = "\
open, openat: notify paths {   # files
    allow /tmp
    deny /tmp/keep
    deny /tmp/keep/open errno EPERM
    allow /tmp/keep/open/really
    # a comment
    otherwise errno ENOENT
}
execve: notify paths {
}
";
        let p = ok(text, &X86_64);
        let open = p.reply(p.action(nr("open"), &NO_ARGS)).unwrap();
        assert_eq!(Some(open), p.reply(p.action(nr("openat"), &NO_ARGS)));
        let Reply::Paths {
            start,
            len,
            otherwise,
        } = open
        else {
            panic!("{open:?}")
        };
        assert_eq!((start, len, otherwise), (0, 4, 2));
        let rules = &p.paths[start as usize..(start + len) as usize];
        let decide = |path: &[u8]| PathRule::best(rules, path).map_or(Some(otherwise), |r| r.deny);
        assert_eq!(decide(b"/tmp/a"), None);
        assert_eq!(decide(b"/tmp/keep/a"), Some(2));
        assert_eq!(decide(b"/tmp/keep/open/x"), Some(1));
        assert_eq!(decide(b"/tmp/keep/open/really/x"), None);
        assert_eq!(decide(b"/etc/passwd"), Some(2));
        assert_eq!(decide(b"/tmpfoo"), Some(2));
        // The prefixes are slices of the text.
        assert!(text.contains(rules[0].prefix));
        assert_eq!(
            p.reply(p.action(nr("execve"), &NO_ARGS)),
            Some(Reply::Paths {
                start: 4,
                len: 0,
                otherwise: 13
            })
        );
        let r = p.rule(nr("openat")).unwrap();
        assert_eq!((r.line, r.col), (1, 7));
    }

    #[test]
    fn default_resolved_at_the_end() {
        let p = ok(
            "decision-log off\nread: allow if arg0 == 0\nwrite: allow\ndefault errno EPERM\n",
            &X86_64,
        );
        assert!(!p.log_decisions);
        assert_eq!(p.default, Action::Errno(1));
        let r = p.rule(nr("read")).unwrap();
        assert_eq!(r.otherwise, Action::Errno(1));
        assert_eq!(p.action(nr("read"), &args(1, 0)), Action::Errno(1));
        assert_eq!(p.action(nr("close"), &NO_ARGS), Action::Errno(1));
        let p = ok("read: allow", &X86_64);
        assert_eq!(p.default, Action::Kill);
        assert!(p.log_decisions);
        let p = ok("default notify errno EPERM", &X86_64);
        assert_eq!(p.reply(p.default), Some(Reply::Errno(1)));
    }

    #[test]
    fn explicit_beats_group() {
        let p = ok(
            "@basic-io: allow\nwrite: errno EPERM\n@basic-io, dup: allow\n",
            &X86_64,
        );
        assert_eq!(p.action(nr("read"), &NO_ARGS), Action::Allow);
        assert_eq!(p.action(nr("write"), &NO_ARGS), Action::Errno(1));
        let w = p.rule(nr("write")).unwrap();
        assert_eq!((w.line, w.col), (2, 1));
        let r = p.rule(nr("read")).unwrap();
        assert_eq!((r.line, r.col), (1, 1));
        // Explicit first, group later: the same.
        let p = ok("write: kill\n@basic-io: allow\n", &AARCH64);
        assert_eq!(
            p.action(AARCH64.nr("write").unwrap(), &NO_ARGS),
            Action::Kill
        );
        assert_eq!(
            p.action(AARCH64.nr("dup3").unwrap(), &NO_ARGS),
            Action::Allow
        );
        assert!(p.rules.windows(2).all(|w| w[0].nr < w[1].nr));
        // The big union parses on both arches.
        ok("@system-service: allow\ndefault kill", &AARCH64);
        let p = ok("@system-service: allow\ndefault kill", &X86_64);
        assert!(p.rules.len() > 200);
        assert!(p.rules.windows(2).all(|w| w[0].nr < w[1].nr));
    }

    #[test]
    fn optional_names_are_skipped_where_missing() {
        let text = "default allow\nmkdir?, mkdirat: errno EACCES\nnosuch?: allow\n";
        let errs = parse(text, &AARCH64).unwrap_err();
        assert_eq!(errs.list.len(), 1);
        assert_eq!((errs.list[0].line, errs.list[0].col), (3, 1));
        let text = "default allow\nmkdir?, mkdirat: errno EACCES\n";
        let a = parse(text, &AARCH64).unwrap();
        assert_eq!(written(&a), 1);
        let x = parse(text, &X86_64).unwrap();
        assert_eq!(written(&x), 2);
        assert_eq!(
            x.action(X86_64.nr("mkdir").unwrap(), &[0; 6]),
            Action::Errno(13)
        );
    }

    #[test]
    fn comments_and_blank_lines() {
        let p = ok(
            "# a policy\n\n   \t\nread: allow # reading\n#write: allow\n",
            &X86_64,
        );
        assert_eq!(p.rules.len(), 1);
        assert_eq!(
            errors("write#x: allow", &X86_64),
            [(1, 1, K::UnknownSyscall)]
        );
        ok("", &X86_64);
    }

    // --- robustness ---

    #[test]
    fn full_tables_are_errors() {
        let mut text = std::string::String::new();
        for (i, (name, _)) in X86_64.syscalls().enumerate() {
            text += &std::format!("{name}: allow if arg0 == {i} || arg1 == {i}\n");
        }
        let e = parse(&text, &X86_64).expect_err("full");
        assert!(
            e.list.iter().any(|e| e.kind == K::TooMany("conditions")),
            "{:?}",
            e.list
        );

        let mut text = std::string::String::new();
        for (i, (name, _)) in X86_64.syscalls().enumerate() {
            text += &std::format!("{name}: notify return {i}\n");
        }
        let e = parse(&text, &X86_64).expect_err("full");
        assert!(e
            .list
            .iter()
            .any(|e| e.kind == K::TooMany("notify replies")));
        assert!(e.dropped > 0);

        let mut text = std::string::String::from("open: notify paths {\n");
        for i in 0..200 {
            text += &std::format!("allow /p{i}\n");
        }
        text += "}\n";
        let e = parse(&text, &X86_64).expect_err("full");
        assert_eq!(e.list[0].kind, K::TooMany("path rules"));
    }

    #[test]
    fn garbage_never_panics() {
        const SOUP: &[&str] = &[
            "read",
            "write",
            "open",
            "openat",
            "@basic-io",
            "@nope",
            "@",
            ":",
            ",",
            "{",
            "}",
            "allow",
            "deny",
            "kill",
            "log",
            "trap",
            "errno",
            "EPERM",
            "0",
            "4096",
            "notify",
            "return",
            "-1",
            "continue",
            "paths",
            "if",
            "else",
            "arg0",
            "arg5",
            "arg6",
            "==",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "&",
            "&&",
            "||",
            "|",
            "=",
            "!",
            "0x",
            "0xffffffffffffffffff",
            "-",
            "/tmp",
            "tmp",
            "otherwise",
            "default",
            "decision-log",
            "on",
            "#",
            "é",
            "\t",
            "\r",
            "x",
            "",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const LINES: &[&str] = &[
            "read: allow",
            "write, @basic-io: errno EPERM if arg0 == 1 && arg1 & 0x3 == 2 || arg2 >= 7",
            "open, openat: notify paths {",
            "allow /tmp",
            "deny /etc errno ENOENT",
            "otherwise errno EACCES",
            "}",
            "default kill",
            "default notify return -1",
            "close: notify continue if arg0 > 2 else log",
            "@system-service: allow",
            "decision-log off",
        ];
        let mut lines = std::vec::Vec::new();
        for _ in 0..20_000 {
            let mut line = std::string::String::new();
            if rand() % 2 == 0 {
                line += LINES[(rand() % LINES.len() as u64) as usize];
            } else {
                for _ in 0..rand() % 12 {
                    line += SOUP[(rand() % SOUP.len() as u64) as usize];
                    if rand() % 4 != 0 {
                        line.push(' ');
                    }
                }
            }
            if rand() % 50 == 0 {
                line += &"y".repeat(MAX_LINE);
            }
            lines.push(line);
        }
        let mut oks = 0;
        for arch in [&X86_64, &AARCH64] {
            let all = lines.join("\n");
            let _ = parse(&all, arch);
            let mut i = 0;
            while i < lines.len() {
                let n = 1 + (rand() % 5) as usize;
                let text = lines[i..(i + n).min(lines.len())].join("\n");
                i += n;
                let result = parse(&text, arch);
                match result {
                    Ok(p) => {
                        oks += 1;
                        check_invariants(&p);
                    }
                    Err(e) => {
                        for e in &e.list {
                            assert!(e.line >= 1 && e.line as usize <= n + 1, "{e:?} in {text:?}");
                            assert!(
                                e.col >= 1 && e.col as usize <= MAX_LINE + 1,
                                "{e:?} in {text:?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(oks > 100, "{oks}");
    }

    /// Whatever parses must be safe for the compiler and the monitor to index.
    fn check_invariants(p: &Policy) {
        assert!(p.rules.windows(2).all(|w| w[0].nr < w[1].nr));
        let check_action = |a: Action| match a {
            Action::Notify(i) => match p.replies[i as usize] {
                Reply::Paths {
                    start,
                    len,
                    otherwise,
                } => {
                    assert!((start + len) as usize <= p.paths.len());
                    assert!((1..=MAX_ERRNO).contains(&otherwise));
                }
                Reply::Errno(e) => assert!((1..=MAX_ERRNO).contains(&e)),
                _ => {}
            },
            Action::Errno(e) => assert!((1..=MAX_ERRNO).contains(&e)),
            _ => {}
        };
        check_action(p.default);
        for r in &p.rules {
            check_action(r.action);
            check_action(r.otherwise);
            if let Some(c) = r.cond {
                assert!(c.len > 0);
                for clause in &p.clauses[c.range()] {
                    assert!(clause.len > 0);
                    for cmp in &p.cmps[clause.range()] {
                        assert!(cmp.arg < 6);
                    }
                }
            }
        }
        for path in &p.paths {
            assert!(path.prefix.starts_with('/'));
            assert_ne!(path.deny, Some(0));
        }
    }
}
