//! Rules: `SYSCALLS: ACTION [if COND [else ACTION]]`, the names resolved
//! to syscalls and merged with the rules already there, and the actions.

use heapless::Vec;

use super::lex::{is_word, Tok};
use super::{Parser, Res, MAX_LINE};
use crate::policy::{groups, Action, ErrorKind, Origin, Reply, Rule};
use crate::words::keywords;

/// Most names (syscalls and groups) one line can list.
const MAX_NAMES: usize = MAX_LINE / 2 + 1;

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

keywords! {
    /// The first word of an action.
    ActionWord { Allow = "allow", Kill = "kill", Log = "log", Trap = "trap", Errno = "errno", Notify = "notify" }
}

keywords! {
    /// The first word of what `notify` asks of vigil.
    ReplyWord { Return = "return", Errno = "errno", Continue = "continue", Paths = "paths" }
}

/// An action as written: a paths block is only known to be one so far.
enum Act {
    Plain(Action),
    Paths,
}

impl<'a> Parser<'a, '_> {
    /// `SYSCALLS: ACTION ...`, starting at its first name.
    // Size: out of line, as `Parser::one_line` (parse/mod.rs) says.
    #[inline(never)]
    pub(super) fn rule(&mut self, first: Tok<'a>) -> Res<()> {
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
    // Size: out of line, as `Parser::one_line` (parse/mod.rs) says.
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
    pub(super) fn apply(&mut self, names: &[Tok<'a>], mut proto: Rule, else_default: bool) {
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
    // Size: out of line, as `Parser::one_line` (parse/mod.rs) says.
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

    /// An action that is not a paths block.
    pub(super) fn plain_action(&mut self) -> Res<Action> {
        match self.action(false)? {
            Act::Plain(a) => Ok(a),
            // `action` refuses paths when not allowed; never reached.
            Act::Paths => Ok(Action::Kill),
        }
    }

    fn action(&mut self, paths_ok: bool) -> Res<Act> {
        let t = self.lx.next();
        let action = match ActionWord::of(t) {
            Some(ActionWord::Allow) => Action::Allow,
            Some(ActionWord::Kill) => Action::Kill,
            Some(ActionWord::Log) => Action::Log,
            Some(ActionWord::Trap) => Action::Trap,
            Some(ActionWord::Errno) => Action::Errno(self.errno()?),
            Some(ActionWord::Notify) => {
                let r = self.lx.next();
                let reply = match ReplyWord::of(r) {
                    Some(ReplyWord::Return) => Reply::Return(self.number(true)? as i64),
                    Some(ReplyWord::Errno) => Reply::Errno(self.errno()?),
                    Some(ReplyWord::Continue) => Reply::Continue,
                    Some(ReplyWord::Paths) if paths_ok => {
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
                    Some(ReplyWord::Paths) => {
                        return Err(self.expected(r, "`return`, `errno` or `continue` (a paths block can only be a rule's sole action)"))
                    }
                    None => {
                        return Err(self.expected(r, "`return N`, `errno E`, `continue` or `paths {`"))
                    }
                };
                Action::Notify(self.reply(reply, r)?)
            }
            None => {
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
}

/// The syscalls `name` stands for: a group's members (none if there is no
/// such group), or the syscall named, without its `?`.
// Size: one loop for groups and single names in `apply` and `open_paths`
// (measured).
pub(super) fn syscalls(name: &str) -> groups::Members<'_> {
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
