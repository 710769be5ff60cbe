//! Policy to filter. See the module documentation of `bpf` for the shape.

use heapless::Vec;

use super::emit::{Emitter, Target};
use super::insn::{self, ALU, AND, JEQ, JGE, JGT, JMP, JSET, K};
use super::{ret_value, CompileError, Program};
use crate::arch::Arch;
use crate::policy::protect::{self, Guards, Protect, MAX_GUARDS};
use crate::policy::{Cmp, Op, Policy, Ret, Rule, Span, MAX_RULES};

/// Syscall-number intervals: each starts at `.0` and runs to the next start.
/// Every segment adds at most two.
type Intervals = Vec<(u32, Target), { 2 * (MAX_RULES + MAX_GUARDS + 4) + 1 }>;

/// Numbers `.0...1` lead to `.3`; `.2` says which wins an overlap.
type Segment = (u32, u64, u8, Target);

/// x32's bit: its numbers are two ranges, which the search tree can take
/// on, often for free when they join the default's ranges around them.
const X32_RANGE: u32 = 1 << 30;

/// What a clause is, as far as can be told without the arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    False,
    True,
    Depends,
}

const M32: u32 = u32::MAX;

/// Compile `policy` for `arch`, protecting what `protect` says.
pub fn compile(policy: &Policy, arch: &Arch, protect: &Protect) -> Result<Program, CompileError> {
    let mut prog = Program::new();
    compile_into(policy, arch, protect, &mut prog)?;
    Ok(prog)
}

/// Compile `policy` for `arch` into `prog` (emptied first), where the
/// caller keeps it: no 32 KB program moved around on the stack.
// Memory: out of line, so that `compile`'s frame holds one program only.
#[inline(never)]
pub fn compile_into(
    policy: &Policy,
    arch: &Arch,
    protect: &Protect,
    prog: &mut Program,
) -> Result<(), CompileError> {
    validate(policy)?;
    let mut guards = Guards::default();
    if !protect::guards(policy, arch, protect, &mut guards) {
        return Err(CompileError::Invalid);
    }
    let mut e = Emitter::new(prog);
    let kill = Target::Ret(ret_value(Ret::Kill));
    let notify = Target::Ret(ret_value(Ret::Notify));
    let default = Target::Ret(ret_value(Ret::of(policy.default)));

    // The argument checks go last, so that the dispatch tree, which every
    // syscall runs through, stays compact. Emitted back to front, so that
    // they end up in syscall order: every syscall with a rule or a guard,
    // last first, with where it leads.
    let mut blocks: Vec<(u32, Target), { MAX_RULES + MAX_GUARDS }> = Vec::new();
    let (rules, items) = (&policy.rules[..], &guards.items[..]);
    let (mut i, mut j) = (rules.len(), items.len());
    while i > 0 || j > 0 {
        let rn = i.checked_sub(1).map(|k| rules[k].nr);
        let gn = j.checked_sub(1).map(|k| items[k].nr);
        let nr = rn.max(gn).unwrap_or(0);
        let rule = (rn == Some(nr)).then(|| &rules[i - 1]);
        let guard = (gn == Some(nr)).then(|| &items[j - 1]);
        i -= rule.is_some() as usize;
        j -= guard.is_some() as usize;
        let t = if arch.forced_notify.contains(&nr) {
            kill
        } else {
            let mut t = rule.map_or(default, |r| rule_block(&mut e, policy, r));
            if let Some(g) = guard {
                let no = Target::Ret(ret_value(Ret::Errno(g.errno)));
                t = match g.cond {
                    None => no,
                    Some(c) => cond_block(&mut e, &guards.clauses, &guards.cmps, c, no, t),
                };
            }
            t
        };
        let _ = blocks.push((nr, t));
    }

    // Every number, in order, with what it leads to. Where segments
    // overlap, the first in this order wins: the other ABI's ranges, the
    // forced syscalls, the rules.
    let mut segs: Vec<Segment, { MAX_RULES + MAX_GUARDS + 4 }> = Vec::new();
    let split_x32 = arch.x32_bit == X32_RANGE;
    if split_x32 {
        let _ = segs.push((X32_RANGE, 2 * X32_RANGE as u64, 0, kill));
        let _ = segs.push((3 * X32_RANGE, 1 << 32, 0, kill));
    }
    for &nr in &arch.forced_notify {
        let _ = segs.push((nr, nr as u64 + 1, 1, notify));
    }
    for &(nr, t) in blocks.iter().rev() {
        let _ = segs.push((nr, nr as u64 + 1, 2, t));
    }
    // An insertion sort: the rules come sorted, only the few segments
    // before them are out of place (and core's sort is 3 KB of code).
    let sorted = &mut segs[..];
    for i in 1..sorted.len() {
        let mut j = i;
        while j > 0 && (sorted[j - 1].0, sorted[j - 1].2) > (sorted[j].0, sorted[j].2) {
            sorted.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut iv = Intervals::new();
    let mut next: u64 = 0;
    // By reference: moving the vector out would copy it whole.
    for &(start, end, _, t) in &segs {
        if start as u64 >= next {
            if start as u64 > next {
                merge(&mut iv, next as u32, default);
            }
            merge(&mut iv, start, t);
            next = end;
        }
    }
    if next <= M32 as u64 {
        merge(&mut iv, next as u32, default);
    }

    let root = tree(&mut e, &iv);
    let after_arch = if arch.x32_bit != 0 && !split_x32 {
        let t = e.jump(JMP | JSET | K, arch.x32_bit, kill, root);
        e.stmt(insn::load(insn::OFF_NR), t)
    } else {
        e.stmt(insn::load(insn::OFF_NR), root)
    };
    let t = e.jump(JMP | JEQ | K, arch.audit, after_arch, kill);
    e.stmt(insn::load(insn::OFF_ARCH), t);
    e.finish()
}

/// Rules sorted and unique, every span inside its pool, every argument
/// index below 6: what `Policy::verdict` relies on.
// Size: out of line (measured).
#[inline(never)]
fn validate(p: &Policy) -> Result<(), CompileError> {
    let sorted = p.rules.windows(2).all(|w| w[0].nr < w[1].nr);
    let within = |s: Span, len: usize| s.start as usize + s.len as usize <= len;
    let conds = p.rules.iter().filter_map(|r| r.cond);
    let guards = p.guards.iter().map(|g| g.cond);
    let guarded = p.guards.iter().all(|g| p.rule(g.nr).is_some());
    let rules_ok = guarded
        && conds.chain(guards).all(|c| {
            within(c, p.clauses.len())
                && p.clauses[c.range()]
                    .iter()
                    .all(|cl| within(*cl, p.cmps.len()))
        });
    let args_ok = p.cmps.iter().all(|c| c.arg < 6);
    if sorted && rules_ok && args_ok {
        Ok(())
    } else {
        Err(CompileError::Invalid)
    }
}

/// What clause `cl` of `cmps` is without the arguments.
fn clause_known(cmps: &[Cmp], cl: Span) -> Known {
    let mut k = Known::True;
    // A clause pointing outside the pool is never used (see `validate`).
    for c in cmps.get(cl.range()).unwrap_or(&[]) {
        match c.known() {
            Some(true) => {}
            Some(false) => return Known::False,
            None => k = Known::Depends,
        }
    }
    k
}

/// Where the syscall of `rule` goes: a `ret` if its action is constant,
/// else a newly emitted argument check (after its guard, if it has one).
// Size: out of line, the compiler is 128 bytes smaller (measured).
#[inline(never)]
fn rule_block(e: &mut Emitter, p: &Policy, rule: &Rule) -> Target {
    let yes = Target::Ret(ret_value(Ret::of(rule.action)));
    let mut t = match rule.cond {
        None => yes,
        Some(cond) => {
            let no = Target::Ret(ret_value(Ret::of(rule.otherwise)));
            if yes == no {
                yes
            } else {
                cond_block(e, &p.clauses, &p.cmps, cond, yes, no)
            }
        }
    };
    if let Some(g) = p.guard(rule.nr) {
        let deny = Target::Ret(ret_value(Ret::Errno(g.errno)));
        t = cond_block(e, &p.clauses, &p.cmps, g.cond, deny, t);
    }
    t
}

/// The check of condition `cond` (an OR of `clauses`, each an AND of
/// `cmps`): to `yes` if it holds, else to `no`.
fn cond_block(
    e: &mut Emitter,
    clauses: &[Span],
    cmps: &[Cmp],
    cond: Span,
    yes: Target,
    no: Target,
) -> Target {
    let clauses = clauses.get(cond.range()).unwrap_or(&[]);
    if clauses
        .iter()
        .any(|&cl| clause_known(cmps, cl) == Known::True)
    {
        return yes;
    }
    // Clauses back to front: each one's failure leads to the next.
    let mut fail = no;
    for &cl in clauses.iter().rev() {
        if clause_known(cmps, cl) == Known::Depends {
            let mut pass = yes;
            for c in cmps.get(cl.range()).unwrap_or(&[]).iter().rev() {
                if c.known().is_none() {
                    pass = cmp(e, c, pass, fail);
                }
            }
            fail = pass;
        }
    }
    fail
}

/// `argN OP value` on the two 32-bit halves of the argument.
fn cmp(e: &mut Emitter, c: &Cmp, yes: Target, no: Target) -> Target {
    let (hv, lv) = ((c.value >> 32) as u32, c.value as u32);
    let (lo_off, hi_off) = (insn::off_arg(c.arg, false), insn::off_arg(c.arg, true));
    match c.op {
        Op::Eq | Op::Ne => {
            let (y, n) = if c.op == Op::Eq { (yes, no) } else { (no, yes) };
            let t = test(e, lo_off, JEQ, lv, y, n);
            test(e, hi_off, JEQ, hv, t, n)
        }
        Op::Ge => greater(e, c, false, yes, no),
        Op::Gt => greater(e, c, true, yes, no),
        Op::Lt => greater(e, c, false, no, yes),
        Op::Le => greater(e, c, true, no, yes),
        Op::MaskedEq(m) => {
            let (hm, lm) = ((m >> 32) as u32, m as u32);
            let mut t = yes;
            for (mask, v, off) in [(lm, lv, lo_off), (hm, hv, hi_off)] {
                if mask == M32 {
                    t = test(e, off, JEQ, v, t, no);
                } else if mask != 0 {
                    t = e.jump(JMP | JEQ | K, v, t, no);
                    t = e.stmt(insn::stmt(ALU | AND | K, mask), t);
                    t = e.stmt(insn::load(off), t);
                }
            }
            t
        }
    }
}

/// Load the word at `off`, then `jOP #k`.
// Size: one out-of-line sequence for the many checks of one half
// (measured).
#[inline(never)]
fn test(e: &mut Emitter, off: u32, op: u16, k: u32, yes: Target, no: Target) -> Target {
    let t = e.jump_holding(off, JMP | op | K, k, yes, no);
    e.stmt(insn::load(off), t)
}

/// `arg > value` (`strict`) or `arg >= value`.
fn greater(e: &mut Emitter, c: &Cmp, strict: bool, yes: Target, no: Target) -> Target {
    let (hv, lv) = ((c.value >> 32) as u32, c.value as u32);
    let (lo_off, hi_off) = (insn::off_arg(c.arg, false), insn::off_arg(c.arg, true));
    let op = if strict { JGT } else { JGE };
    // When the low half cannot change the outcome (`>= 0`, `> M32`), the
    // high one decides.
    if lv == (if strict { M32 } else { 0 }) {
        return test(e, hi_off, op, hv, yes, no);
    }
    let low = test(e, lo_off, op, lv, yes, no);
    match hv {
        0 => test(e, hi_off, JEQ, 0, low, yes),
        M32 => test(e, hi_off, JEQ, M32, low, no),
        _ => {
            let eq = e.jump_holding(hi_off, JMP | JEQ | K, hv, low, no);
            test(e, hi_off, JGT, hv, yes, eq)
        }
    }
}

/// Append an interval, joining it to the previous one if they lead to the
/// same place.
fn merge(iv: &mut Intervals, start: u32, t: Target) {
    if iv.last().map(|l| l.1) != Some(t) {
        // Capacity covers every rule and forced syscall.
        let _ = iv.push((start, t));
    }
}

/// A binary search over the intervals' starts: `jge` halves the range; a
/// lone syscall between two ranges with the same outcome takes one `jeq`.
fn tree(e: &mut Emitter, iv: &[(u32, Target)]) -> Target {
    match iv {
        [] => Target::Ret(ret_value(Ret::Kill)),
        [(_, t)] => *t,
        [(_, a), (s, b), (n, c)] if a == c && *n == s.wrapping_add(1) => {
            e.jump(JMP | JEQ | K, *s, *b, *a)
        }
        _ => {
            let mid = iv.len() / 2;
            let right = tree(e, &iv[mid..]);
            let left = tree(e, &iv[..mid]);
            e.jump(JMP | JGE | K, iv[mid].0, right, left)
        }
    }
}
