//! Emitting a filter back to front.
//!
//! Every jump in a seccomp filter goes forward, so if code is emitted from
//! the end of the program towards its start, every jump target already has a
//! place when the jump is written. That makes the 8-bit limit of conditional
//! jumps easy: a target out of reach gets a stepping stone placed right after
//! the jump, either a fresh copy of the `ret` it leads to (as short as a `ja`,
//! and the action cache can still follow it) or a `ja` with a 32-bit offset.
//! Stepping stones are reused by later jumps while they stay within reach.

use heapless::Vec;

use super::insn::{self, JA, JMP};
use super::{CompileError, Insn, Program};

/// An emitted instruction, counted from the end of the program (0 = last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u16);

/// Where control goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `ret #k`: any copy of it will do.
    Ret(u32),
    At(Label),
}

/// Copies of `ret`s and `ja`s remembered for reuse; more are only made when
/// none is near enough, so a small table loses little when it evicts.
const CACHE: usize = 32;

pub struct Emitter<'p> {
    /// The program, last instruction first.
    prog: &'p mut Program,
    rets: Vec<(u32, Label), CACHE>,
    /// `ja`s by the label they lead to (as a `u32`, like `rets`' keys:
    /// one `remember` for both).
    tramps: Vec<(u32, Label), CACHE>,
    /// An instruction did not fit: `finish` fails. Until then, emitting
    /// goes on as if it had (the labels it hands out stay in the program).
    // Size: one check at the end, not a `Result` through every step
    // (measured).
    full: bool,
}

/// How far a conditional jump reaches: offsets are `u8`.
const REACH: usize = 255;

fn remember(cache: &mut Vec<(u32, Label), CACHE>, key: u32, at: Label) {
    if let Some(slot) = cache.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = at;
        return;
    }
    if cache.is_full() {
        cache.remove(0);
    }
    let _ = cache.push((key, at));
}

impl<'p> Emitter<'p> {
    /// Emit into `prog`, emptied first.
    pub fn new(prog: &'p mut Program) -> Self {
        prog.clear();
        Emitter {
            prog,
            rets: Vec::new(),
            tramps: Vec::new(),
            full: false,
        }
    }

    /// The offset a jump emitted now would need to reach `l`.
    fn dist(&self, l: Label) -> usize {
        self.prog.len() - l.0 as usize - 1
    }

    fn push(&mut self, i: Insn) -> Label {
        let at = Label(self.prog.len() as u16);
        if self.prog.push(i).is_err() {
            self.full = true;
            return Label(0);
        }
        at
    }

    /// A label for `t` that a jump emitted after `slack` more instructions
    /// can still reach.
    fn reach(&mut self, t: Target, slack: usize) -> Label {
        // A copy of the `ret`, or a `ja` to the label: the cached one if
        // near enough, else a new one.
        let (rets, key, copy) = match t {
            Target::Ret(k) => (true, k, insn::ret(k)),
            Target::At(l) => {
                if self.dist(l) + slack <= REACH {
                    return l;
                }
                (false, l.0 as u32, insn::stmt(JMP | JA, self.dist(l) as u32))
            }
        };
        let cache = if rets { &self.rets } else { &self.tramps };
        if let Some(&(_, l)) = cache.iter().find(|(k, _)| *k == key) {
            if self.dist(l) + slack <= REACH {
                return l;
            }
        }
        let l = self.push(copy);
        remember(
            if rets {
                &mut self.rets
            } else {
                &mut self.tramps
            },
            key,
            l,
        );
        l
    }

    /// A conditional jump; none at all if both ways lead to the same place.
    pub fn jump(&mut self, code: u16, k: u32, jt: Target, jf: Target) -> Target {
        if jt == jf {
            return jt;
        }
        let lt = self.reach(jt, 1);
        let lf = self.reach(jf, 0);
        let (t, f) = (self.dist(lt) as u8, self.dist(lf) as u8);
        Target::At(self.push(insn::jump(code, k, t, f)))
    }

    /// A conditional jump made while the accumulator holds the word at
    /// `seccomp_data` offset `holds`: a target that begins by loading that
    /// word again is entered just after the load.
    pub fn jump_holding(
        &mut self,
        holds: u32,
        code: u16,
        k: u32,
        jt: Target,
        jf: Target,
    ) -> Target {
        let skip = |t: Target| match t {
            Target::At(Label(l)) if l > 0 && self.prog[l as usize] == insn::load(holds) => {
                Target::At(Label(l - 1))
            }
            t => t,
        };
        let (jt, jf) = (skip(jt), skip(jf));
        self.jump(code, k, jt, jf)
    }

    /// An instruction that falls through to `next`.
    pub fn stmt(&mut self, i: Insn, next: Target) -> Target {
        let last = self.prog.len().checked_sub(1).map(|n| Label(n as u16));
        let adjacent = match next {
            Target::At(l) => Some(l) == last,
            Target::Ret(k) => self.prog.last() == Some(&insn::ret(k)),
        };
        if !adjacent {
            match next {
                Target::Ret(k) => {
                    let l = self.push(insn::ret(k));
                    remember(&mut self.rets, k, l);
                }
                Target::At(l) => {
                    let d = self.dist(l) as u32;
                    self.push(insn::stmt(JMP | JA, d));
                }
            }
        }
        Target::At(self.push(i))
    }

    /// Put the program in order, first instruction first; fail if it did
    /// not fit.
    pub fn finish(self) -> Result<(), CompileError> {
        if self.full {
            return Err(CompileError::TooLong);
        }
        self.prog.reverse();
        Ok(())
    }
}
