//! Paths blocks: `SYSCALLS: notify paths {`, its `allow`, `deny` and
//! `otherwise` lines, and the `}` that closes it.

use super::lex::{Lexer, Tok};
use super::rule::syscalls;
use super::{Failed, Parser, Res};
use crate::policy::{groups, Action, ErrorKind, Origin, PathRule, Reply, Rule};
use crate::words::keywords;

/// Is the absolute path `p` already in normal form (what `..`, `.` and
/// `//` removal would leave, up to one trailing `/`)?
// Size: a byte loop, not `str::split` (measured).
pub(super) fn normalised(p: &str) -> bool {
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

keywords! {
    /// What a line of a paths block starts with.
    BlockWord { Close = "}", Allow = "allow", Deny = "deny", Otherwise = "otherwise" }
}

/// A paths block's errno when it has no `otherwise` line (`EACCES`).
pub(super) const DEFAULT_PATHS_ERRNO: u16 = 13;

/// An open `{ ... }` paths block.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    /// The line of the `{`.
    pub(super) line: u32,
    /// The `Reply::Paths` being filled; `None` when the opening line was
    /// wrong (the block's lines are still checked, then dropped).
    pub(super) reply: Option<usize>,
    /// Where the block's rules start in `Policy::paths`.
    pub(super) start: usize,
    pub(super) otherwise: u16,
    pub(super) otherwise_line: u32,
}

impl<'a> Parser<'a, '_> {
    /// `SYSCALLS: notify paths {`, the line checked: open the block.
    // Size: out of line, as `Parser::one_line` (parse/mod.rs) says.
    #[inline(never)]
    pub(super) fn open_paths(&mut self, names: &[Tok<'a>]) -> Res<()> {
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
    // Size: out of line, as `Parser::one_line` (parse/mod.rs) says.
    #[inline(never)]
    pub(super) fn block_line(&mut self, line: &'a str) -> Res<()> {
        self.lx = Lexer::new(line, true);
        let t = self.lx.next();
        match BlockWord::of(t) {
            _ if t.is_empty() => Ok(()),
            Some(BlockWord::Close) => {
                self.close_block();
                self.end()
            }
            Some(word @ (BlockWord::Allow | BlockWord::Deny)) => {
                let prefix = self.lx.next();
                if prefix.is_empty() {
                    return Err(self.expected(prefix, "a path prefix"));
                }
                // Paths are matched after normalisation, so a prefix with
                // `.`, `..` or `//` in it could never match: refuse it.
                if !prefix.starts_with('/') || !normalised(prefix) {
                    return Err(self.fail(prefix, ErrorKind::RelativePrefix));
                }
                let deny = if word == BlockWord::Allow {
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
            Some(BlockWord::Otherwise) => {
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
            None => Err(self.expected(
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
}

/// Does the line's last token open a block?
pub(super) fn ends_with_brace(line: &str) -> bool {
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
