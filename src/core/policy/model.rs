//! The parsed form of a policy: what the parser produces, what the filter
//! compiler and the notification monitor consume.
//!
//! Every collection has its capacity in its type. Conditions and path rules
//! live in flat pools that rules index into, so a `Policy` is one fixed-size
//! value with no pointers other than slices of the policy text.

use heapless::Vec;

use super::protect::Guards;
use crate::arch::Arch;

/// Most syscall rules one policy can hold (more than any arch has syscalls).
pub const MAX_RULES: usize = 480;
/// Most `&&`-clauses over the whole policy.
pub const MAX_CLAUSES: usize = 256;
/// Most comparisons over the whole policy.
pub const MAX_CMPS: usize = 512;
/// Most notify replies over the whole policy.
pub const MAX_REPLIES: usize = 64;
/// Most path rules over the whole policy.
pub const MAX_PATHS: usize = 128;
/// Most guards vigil adds to one policy (`harden`: four calls at most).
pub const MAX_POLICY_GUARDS: usize = 8;
/// Highest errno a filter can return (`SECCOMP_RET_DATA` is 16 bits, the
/// kernel clamps to `MAX_ERRNO`).
pub const MAX_ERRNO: u16 = 4095;

/// Syscalls the filter always routes to vigil, whatever the policy says.
///
/// The service's first `execve` is how the listener is handed over (see the
/// README's "hand-over" section): it must reach vigil. vigil then applies the
/// policy's own action for these syscalls in user space.
pub const FORCED_NOTIFY: [&str; 2] = ["execve", "execveat"];

/// What the kernel does with a syscall, as a filter can say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Kill the whole process (`SECCOMP_RET_KILL_PROCESS`). First, so that
    /// it is the all-zero value (see `Policy::unparsed`).
    Kill,
    /// Let the syscall run (`SECCOMP_RET_ALLOW`).
    Allow,
    /// Fail the syscall with this errno (1..=4095).
    Errno(u16),
    /// Allow, and have the kernel log it (`SECCOMP_RET_LOG`).
    Log,
    /// Send SIGSYS (`SECCOMP_RET_TRAP`).
    Trap,
    /// Ask vigil (`SECCOMP_RET_USER_NOTIF`); the index is into `Policy::replies`.
    Notify(u16),
}

/// What vigil answers to a notified syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Emulate: the syscall returns this value without running.
    Return(i64),
    /// The syscall fails with this errno.
    Errno(u16),
    /// Let the kernel run the syscall (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
    /// Unsafe for decisions on pointer arguments: see the README.
    Continue,
    /// Decide by the path argument: `Policy::paths[start..start + len]`,
    /// longest matching prefix wins, `otherwise` (an errno) if none matches.
    Paths {
        /// The block's first rule in `Policy::paths`.
        start: u16,
        /// How many rules the block has.
        len: u16,
        /// The errno when no prefix matches.
        otherwise: u16,
    },
}

/// One `allow PREFIX` or `deny PREFIX [errno E]` line of a paths block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathRule<'a> {
    /// The path prefix, absolute.
    pub prefix: &'a str,
    /// `None` allows; `Some(errno)` denies with that errno.
    pub deny: Option<u16>,
}

/// A comparison operator on a 64-bit syscall argument (unsigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `argN & MASK == value`
    MaskedEq(u64),
}

/// `argN OP value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmp {
    /// Which argument, 0 to 5.
    pub arg: u8,
    /// How it is compared.
    pub op: Op,
    /// What it is compared with.
    pub value: u64,
}

/// A range into a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// Where it starts.
    pub start: u16,
    /// How many items.
    pub len: u16,
}

impl Span {
    /// The span as indices into its pool.
    pub fn range(self) -> core::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// One syscall's rule. `cond` is an OR of clauses (`Policy::clauses`), each
/// an AND of comparisons (`Policy::cmps`). Without a condition, `action`
/// always applies; with one, `otherwise` applies when it is false. A
/// guard of its syscall's (`Policy::guard`), which vigil adds (see
/// `harden`), is checked before all that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The syscall number, on the policy's arch.
    pub nr: u32,
    /// What happens when the condition holds (or always, without one).
    pub action: Action,
    /// The condition: a span of `Policy::clauses`, any of which must hold.
    pub cond: Option<Span>,
    /// What happens when the condition does not hold.
    pub otherwise: Action,
    /// Where the rule was written (1-based), or the line that made vigil
    /// add it (0 for rules every policy gets), for messages.
    pub line: u32,
    /// The column of the rule's syscall name, for messages.
    pub col: u32,
    /// Whether the user named the syscall, a group did, or vigil added it.
    pub origin: Origin,
}

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The syscall is named on its own: vigil adds nothing to its rule
    /// but the protection of the monitor (`protect`).
    Named,
    /// Through a `@group`.
    Group,
    /// vigil added the rule (`harden::Why` says why).
    Added(u8),
}

/// A condition under which a rule's syscall fails, whatever the rule says;
/// added by vigil, never written. Beside the rules, not in them: a few
/// calls have one, and every rule's bytes count in PID 1's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guard {
    /// The syscall, which has a rule.
    pub nr: u32,
    /// When the call fails: a span of `Policy::clauses`.
    pub cond: Span,
    /// The errno it fails with.
    pub errno: u16,
    /// Why it was added (`harden::Why`).
    pub why: u8,
}

impl Rule {
    /// An unconditional rule, as a group would give it.
    pub const fn plain(nr: u32, action: Action) -> Rule {
        Rule {
            nr,
            action,
            cond: None,
            otherwise: action,
            line: 1,
            col: 1,
            origin: Origin::Group,
        }
    }
}

/// A whole policy for one architecture.
///
/// Memory: PID 1 keeps its policies in zeroed `.bss`, where only the pages
/// a policy writes become resident. The fields are in this order (C
/// layout) so that a small policy writes few pages: the header and the
/// small pools first, together, then the rules, then the large pool of
/// comparisons (left untouched by a policy without conditions).
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Policy<'a> {
    /// What syscalls without a rule get.
    pub default: Action,
    /// One log line per notification decision (`decision-log on|off`).
    pub log_decisions: bool,
    /// What vigil added in front of some rules (`harden`).
    pub guards: Vec<Guard, MAX_POLICY_GUARDS>,
    /// The answers of `notify` rules, by `Action::Notify`'s index.
    pub replies: Vec<Reply, MAX_REPLIES>,
    /// Each clause is a span of `cmps`, all of which must hold.
    pub clauses: Vec<Span, MAX_CLAUSES>,
    /// The rules of every paths block, each block a span (`Reply::Paths`).
    pub paths: Vec<PathRule<'a>, MAX_PATHS>,
    /// Sorted by `nr`, one rule per syscall.
    pub rules: Vec<Rule, MAX_RULES>,
    /// The comparisons the clauses are made of.
    pub cmps: Vec<Cmp, MAX_CMPS>,
}

/// The part of `struct seccomp_data` a decision can rest on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SyscallData {
    /// The syscall number.
    pub nr: i32,
    /// The `AUDIT_ARCH_*` of the caller's ABI.
    pub arch: u32,
    /// The six argument registers.
    pub args: [u64; 6],
}

/// What the kernel is told to do with a syscall: an `Action` without the
/// reply, which only vigil sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// `SECCOMP_RET_ALLOW`.
    Allow,
    /// `SECCOMP_RET_ERRNO` with this errno.
    Errno(u16),
    /// `SECCOMP_RET_KILL_PROCESS`: also what a foreign ABI gets.
    Kill,
    /// `SECCOMP_RET_LOG`.
    Log,
    /// `SECCOMP_RET_TRAP`.
    Trap,
    /// `SECCOMP_RET_USER_NOTIF`: vigil decides.
    Notify,
}

impl Ret {
    /// What the kernel is told for `action`.
    pub fn of(action: Action) -> Ret {
        match action {
            Action::Allow => Ret::Allow,
            Action::Errno(e) => Ret::Errno(e),
            Action::Kill => Ret::Kill,
            Action::Log => Ret::Log,
            Action::Trap => Ret::Trap,
            Action::Notify(_) => Ret::Notify,
        }
    }
}

/// `v.clear()`, without a write when it is empty already (see `Policy::clear`).
fn clear_if_used<T, const N: usize>(v: &mut Vec<T, N>) {
    if !v.is_empty() {
        v.clear();
    }
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Policy<'a> {
    /// An empty policy: no rules, default `kill`, decisions logged.
    pub const fn new() -> Self {
        Policy {
            default: Action::Kill,
            log_decisions: true,
            guards: Vec::new(),
            replies: Vec::new(),
            clauses: Vec::new(),
            paths: Vec::new(),
            rules: Vec::new(),
            cmps: Vec::new(),
        }
    }

    /// What a policy slot holds before `parse::parse_into` fills it: no
    /// rules, default `kill`, no decision log. All zero bytes, so that a
    /// `static` table of these lives in `.bss` and costs no file space.
    pub const fn unparsed() -> Self {
        let mut p = Self::new();
        p.log_decisions = false;
        p
    }

    /// Empty again, as `new` makes it, without moving the tables.
    // A table that is empty already is not written: in PID 1's zeroed
    // `.bss` slots, a write would make its page resident for nothing (a
    // policy without path rules never needs the `paths` page).
    pub fn clear(&mut self) {
        self.default = Action::Kill;
        self.log_decisions = true;
        clear_if_used(&mut self.rules);
        clear_if_used(&mut self.clauses);
        clear_if_used(&mut self.cmps);
        clear_if_used(&mut self.replies);
        clear_if_used(&mut self.paths);
        clear_if_used(&mut self.guards);
    }

    /// The rule for syscall `nr`, if the policy names it.
    pub fn rule(&self, nr: u32) -> Option<&Rule> {
        self.rules
            .binary_search_by_key(&nr, |r| r.nr)
            .ok()
            .map(|i| &self.rules[i])
    }

    /// The guard vigil added in front of syscall `nr`'s rule, if any.
    pub fn guard(&self, nr: u32) -> Option<&Guard> {
        self.guards.iter().find(|g| g.nr == nr)
    }

    /// The reply of a `Notify` action.
    pub fn reply(&self, action: Action) -> Option<Reply> {
        match action {
            Action::Notify(i) => self.replies.get(i as usize).copied(),
            _ => None,
        }
    }

    /// Does the condition hold for these arguments?
    pub fn cond_holds(&self, cond: Span, args: &[u64; 6]) -> bool {
        self.clauses[cond.range()].iter().any(|clause| {
            self.cmps[clause.range()]
                .iter()
                .all(|c| c.holds(args[c.arg as usize]))
        })
    }

    /// The policy's action for a syscall of the right arch, evaluated
    /// directly (no BPF): what vigil must make of it in the end.
    pub fn action(&self, nr: u32, args: &[u64; 6]) -> Action {
        match self.rule(nr) {
            None => self.default,
            Some(r) => match (self.guard(nr), r.cond) {
                (Some(g), _) if self.cond_holds(g.cond, args) => Action::Errno(g.errno),
                (_, None) => r.action,
                (_, Some(c)) if self.cond_holds(c, args) => r.action,
                (_, Some(_)) => r.otherwise,
            },
        }
    }

    /// Can the syscall of `nr` run in the kernel for some arguments, the
    /// way the rule (or the default) stands? A guard matters only then.
    pub fn may_run(&self, nr: u32) -> bool {
        match self.rule(nr) {
            None => self.runs(self.default),
            Some(r) => self.runs(r.action) || (r.cond.is_some() && self.runs(r.otherwise)),
        }
    }

    /// Does `action` let the kernel run the syscall (for some arguments)?
    pub fn runs(&self, action: Action) -> bool {
        match action {
            Action::Allow | Action::Log => true,
            Action::Notify(_) => matches!(
                self.reply(action),
                Some(Reply::Continue | Reply::Paths { .. })
            ),
            Action::Errno(_) | Action::Kill | Action::Trap => false,
        }
    }

    /// What the compiled filter must return for `data` when it protects
    /// nothing (`Protect::none`): the reference the BPF compiler is tested
    /// against.
    pub fn verdict(&self, arch: &Arch, data: &SyscallData) -> Ret {
        self.verdict_guarded(arch, data, &Guards::default())
    }

    /// `verdict` for a filter compiled with `guards` (`protect::guards`).
    pub fn verdict_guarded(&self, arch: &Arch, data: &SyscallData, guards: &Guards) -> Ret {
        let nr = data.nr as u32;
        if data.arch != arch.audit || nr & arch.x32_bit != 0 {
            return Ret::Kill;
        }
        if arch.forced_notify.contains(&nr) {
            // The filter cannot tell vigil's hand-over execve from later
            // ones, so it asks vigil, which applies the action itself.
            return Ret::Notify;
        }
        if let Some(e) = guards.check(nr, &data.args) {
            return Ret::Errno(e);
        }
        Ret::of(self.action(nr, &data.args))
    }
}

impl Cmp {
    /// Some comparisons hold for every argument or for none.
    pub fn known(&self) -> Option<bool> {
        match self.op {
            Op::Eq | Op::Ne => None,
            Op::Lt if self.value == 0 => Some(false),
            Op::Le if self.value == u64::MAX => Some(true),
            Op::Gt if self.value == u64::MAX => Some(false),
            Op::Ge if self.value == 0 => Some(true),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => None,
            Op::MaskedEq(m) if self.value & !m != 0 => Some(false),
            Op::MaskedEq(0) => Some(true),
            Op::MaskedEq(_) => None,
        }
    }

    /// Does `arg` satisfy the comparison?
    pub fn holds(&self, arg: u64) -> bool {
        match self.op {
            Op::Eq => arg == self.value,
            Op::Ne => arg != self.value,
            Op::Lt => arg < self.value,
            Op::Le => arg <= self.value,
            Op::Gt => arg > self.value,
            Op::Ge => arg >= self.value,
            Op::MaskedEq(mask) => arg & mask == self.value,
        }
    }
}

/// Does `path` fall under `prefix`, component-wise? `/tmp` and `/tmp/` both
/// cover `/tmp/a`; neither covers `/tmpfoo`.
pub fn prefix_covers(prefix: &str, path: &[u8]) -> bool {
    let p = prefix.as_bytes();
    if !path.starts_with(p) {
        return false;
    }
    path.len() == p.len() || p.last() == Some(&b'/') || path[p.len()] == b'/'
}

impl PathRule<'_> {
    /// The longest prefix covering `path` wins; `None` if no rule covers it.
    pub fn best<'r, 'a>(rules: &'r [PathRule<'a>], path: &[u8]) -> Option<&'r PathRule<'a>> {
        // Size: a plain loop, not `filter` and `max_by_key` (measured).
        // `>=`: the last of equally long prefixes wins, as with `max_by_key`.
        let mut best: Option<&PathRule> = None;
        for r in rules {
            if prefix_covers(r.prefix, path)
                && best.is_none_or(|b| r.prefix.len() >= b.prefix.len())
            {
                best = Some(r);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_components() {
        assert!(prefix_covers("/tmp/", b"/tmp/a"));
        assert!(prefix_covers("/tmp", b"/tmp/a"));
        assert!(prefix_covers("/tmp", b"/tmp"));
        assert!(!prefix_covers("/tmp", b"/tmpfoo"));
        assert!(!prefix_covers("/tmp/", b"/tmp"));
        assert!(prefix_covers("/", b"/etc"));
    }

    #[test]
    fn longest_prefix_wins() {
        let rules = [
            PathRule {
                prefix: "/tmp",
                deny: None,
            },
            PathRule {
                prefix: "/tmp/keep",
                deny: Some(13),
            },
        ];
        assert_eq!(
            PathRule::best(&rules, b"/tmp/keep/x").unwrap().deny,
            Some(13)
        );
        assert_eq!(PathRule::best(&rules, b"/tmp/other").unwrap().deny, None);
        assert!(PathRule::best(&rules, b"/etc").is_none());
    }

    #[test]
    fn masked_compare() {
        let c = Cmp {
            arg: 0,
            op: Op::MaskedEq(3),
            value: 1,
        };
        assert!(c.holds(0x41));
        assert!(!c.holds(0x42));
    }
}
