//! Conditions: `COND` of the grammar, an OR of ANDs of argument
//! comparisons, appended to the policy's pools.

use super::{Parser, Res};
use crate::policy::{Cmp, ErrorKind, Op, Span};
use crate::words::keywords;

keywords! {
    /// A comparison's operator, or the `&` of a masked one.
    OpWord { Eq = "==", Ne = "!=", Lt = "<", Le = "<=", Gt = ">", Ge = ">=", Mask = "&" }
}

impl<'a> Parser<'a, '_> {
    /// `COND`: appended to the pools, or an equal condition already there.
    // Size: out of line, as `Parser::one_line` (parse/mod.rs) says.
    #[inline(never)]
    pub(super) fn cond(&mut self) -> Res<Span> {
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
    // Size: out of line, as `Parser::one_line` (parse/mod.rs) says.
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
        let op = match OpWord::of(o) {
            Some(OpWord::Eq) => Op::Eq,
            Some(OpWord::Ne) => Op::Ne,
            Some(OpWord::Lt) => Op::Lt,
            Some(OpWord::Le) => Op::Le,
            Some(OpWord::Gt) => Op::Gt,
            Some(OpWord::Ge) => Op::Ge,
            Some(OpWord::Mask) => {
                let mask = self.number(false)?;
                let eq = self.lx.next();
                if eq != "==" {
                    return Err(self.expected(eq, "`==` after a mask"));
                }
                Op::MaskedEq(mask)
            }
            None => {
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
}
