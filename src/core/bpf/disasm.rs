//! A readable listing of a filter, so users can audit what the kernel runs.
//!
//! ```text
//! x86_64 filter: 57 instructions
//!    0: ld [4] (arch)
//!    1: jeq #0xc000003e (x86_64)    jt 2 jf 56
//!   12: jeq #59 (execve)            jt 13 jf 14
//!   20: ret ERRNO(1) EPERM
//! ```
//!
//! Jump targets are absolute. Comparisons are named after what the
//! accumulator holds on every path into them: a syscall number, the arch.

use super::insn::*;
use super::{Insn, MAX_INSNS};
use crate::arch::Arch;
use crate::out::{Buf, Sink};

/// What the accumulator holds: a `seccomp_data` offset, or neither of these.
const UNREACHED: u8 = 0xfe;
const UNKNOWN: u8 = 0xff;

/// Where `code` can go next from `pc`, in the program or not.
fn successors(pc: usize, i: &Insn) -> [Option<usize>; 2] {
    if i.code == JMP | JA {
        [(pc + 1).checked_add(i.k as usize), None]
    } else if is_cond_jump(i.code) {
        [Some(pc + 1 + i.jt as usize), Some(pc + 1 + i.jf as usize)]
    } else if i.code & 0x07 == RET {
        [None, None]
    } else {
        [Some(pc + 1), None]
    }
}

/// The listing of `prog`, one line per instruction after a header line.
pub fn disasm(prog: &[Insn], arch: &Arch, out: &mut impl Sink) {
    out.s(arch.name)
        .s(" filter: ")
        .u(prog.len() as u64)
        .s(" instructions\n");
    let mut holds = [UNREACHED; MAX_INSNS];
    if let Some(h) = holds.first_mut() {
        *h = UNKNOWN;
    }
    for (pc, i) in prog.iter().enumerate().take(MAX_INSNS) {
        let before = holds[pc];
        let after = match i.code {
            c if c == LD | W | ABS && i.k < SECCOMP_DATA_LEN => i.k as u8,
            c if c & 0x07 == JMP => before,
            _ => UNKNOWN,
        };
        for s in successors(pc, i).into_iter().flatten() {
            if let Some(h) = holds.get_mut(s) {
                *h = if *h == UNREACHED || *h == after {
                    after
                } else {
                    UNKNOWN
                };
            }
        }
        let mut line = Buf::<128>::new();
        for width in [1000, 100, 10] {
            if pc < width {
                line.s(" ");
            }
        }
        line.u(pc as u64).s(": ");
        insn(&mut line, pc, i, before, arch);
        line.s("\n");
        out.put(line.as_bytes());
    }
}

fn field(out: &mut impl Sink, k: u32) {
    match k {
        OFF_NR => out.s("nr"),
        OFF_ARCH => out.s("arch"),
        8 => out.s("ip.lo"),
        12 => out.s("ip.hi"),
        16..=63 if k.is_multiple_of(4) => out
            .s("arg")
            .u((k as u64 - 16) / 8)
            .s(if k.is_multiple_of(8) { ".lo" } else { ".hi" }),
        _ => out.s("?"),
    };
}

fn num(out: &mut impl Sink, k: u32) {
    if k < 0x10000 {
        out.u(k as u64);
    } else {
        out.x(k as u64);
    }
}

/// Write the `n`th of the `|`-separated `words`.
#[inline(never)]
fn word(out: &mut impl Sink, words: &str, n: usize) {
    out.s(crate::words::nth(words, b'|', n));
}

/// Codes and their names, declared together by `named!`: the codes an
/// array, the names one `|`-separated text (a `&str` each would be 16 bytes
/// more a name).
struct Named {
    codes: &'static [u32],
    names: &'static str,
}

impl Named {
    /// The name of `code`, if it has one.
    fn of(&self, code: u32) -> Option<&'static str> {
        let i = self.codes.iter().position(|&c| c == code)?;
        Some(crate::words::nth(self.names, b'|', i))
    }
}

/// `CODE => "name", ...` as a `Named`, refused at compile time if a name is
/// empty or holds a `|` (it would shift the names against the codes).
macro_rules! named {
    ($code:expr => $name:literal $(, $codes:expr => $names:literal)* $(,)?) => {{
        let t = Named {
            codes: &[$code as u32 $(, $codes as u32)*],
            names: concat!($name $(, "|", $names)*),
        };
        assert!(crate::words::words_agree(t.names, b'|', t.codes.len()));
        t
    }};
}

/// Instructions spelled as a fixed mnemonic; `k` follows one that ends in
/// `#` (in hex) or in `[` (then `]`).
const PLAIN: Named = named! {
    LD | W | LEN => "ld len",
    LDX | W | LEN => "ldx len",
    RET | A => "ret a",
    MISC | TAX => "tax",
    MISC | TXA => "txa",
    LD | IMM => "ld #",
    LDX | IMM => "ldx #",
    LD | MEM => "ld M[",
    LDX | MEM => "ldx M[",
    ST => "st M[",
    STX => "stx M[",
};

fn insn<const N: usize>(out: &mut Buf<N>, pc: usize, i: &Insn, holds: u8, arch: &Arch) {
    let k = i.k;
    let c = i.code;
    if let Some(name) = PLAIN.of(c as u32) {
        out.s(name);
        match name.as_bytes().last() {
            Some(b'[') => out.u(k as u64).s("]"),
            Some(b'#') => out.x(k as u64),
            _ => out,
        };
    } else if c == LD | W | ABS {
        out.s("ld [").u(k as u64).s("] (");
        field(out, k);
        out.s(")");
    } else if c == RET | K {
        out.s("ret ");
        ret(out, k, arch);
    } else if c == JMP | JA {
        out.s("ja ");
        match (pc as u64 + 1).checked_add(k as u64) {
            Some(t) => out.u(t),
            None => out.s("?"),
        };
    } else if is_cond_jump(c) {
        let n = (c >> 4) as usize & 0xf;
        word(out, "ja|jeq|jgt|jge|jset|j?", n.min(5));
        operand(out, c, k, holds, arch);
        while out.len() < 36 {
            out.s(" ");
        }
        out.s(" jt ")
            .u(pc as u64 + 1 + i.jt as u64)
            .s(" jf ")
            .u(pc as u64 + 1 + i.jf as u64);
    } else if c & 0x07 == ALU {
        const NAMES: &str = "add|sub|mul|div|or|and|lsh|rsh|neg|mod|xor|alu?";
        word(out, NAMES, ((c >> 4) as usize).min(11));
        if c & 0xf0 != NEG {
            operand(out, c, k, UNKNOWN, arch);
        }
    } else {
        out.s(".insn code=")
            .x(c as u64)
            .s(" jt=")
            .u(i.jt as u64)
            .s(" jf=")
            .u(i.jf as u64)
            .s(" k=")
            .x(k as u64);
    }
}

/// ` x`, or ` #k` named after what the accumulator `holds`.
fn operand(out: &mut impl Sink, c: u16, k: u32, holds: u8, arch: &Arch) {
    if c & X != 0 {
        out.s(" x");
        return;
    }
    out.s(" #");
    match holds as u32 {
        OFF_NR if c & 0xf0 != JSET => {
            num(out, k);
            if let Some(n) = arch.name(k) {
                out.s(" (").s(n).s(")");
            }
        }
        OFF_ARCH => {
            out.x(k as u64);
            if k == arch.audit {
                out.s(" (").s(arch.name).s(")");
            }
        }
        _ => num(out, k),
    }
}

/// The `SECCOMP_RET_*` actions.
const RETS: Named = named! {
    RET_KILL_PROCESS => "KILL_PROCESS",
    RET_KILL_THREAD => "KILL_THREAD",
    RET_TRAP => "TRAP",
    RET_ERRNO => "ERRNO",
    RET_USER_NOTIF => "USER_NOTIF",
    RET_TRACE => "TRACE",
    RET_LOG => "LOG",
    RET_ALLOW => "ALLOW",
};

fn ret(out: &mut impl Sink, k: u32, arch: &Arch) {
    let data = k & RET_DATA;
    let action = k & RET_ACTION_FULL;
    let Some(name) = RETS.of(action) else {
        out.x(k as u64);
        return;
    };
    out.s(name);
    if action == RET_ERRNO {
        out.s("(").u(data as u64).s(")");
        if let Some(n) = arch.errno_name(data as u16) {
            out.s(" ").s(n);
        }
    } else if data != 0 {
        out.s("(").u(data as u64).s(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::X86_64;

    /// Every fixed mnemonic and every action, with what follows it.
    #[test]
    fn every_name() {
        let prog = [
            stmt(LD | W | LEN, 0),
            stmt(LDX | W | LEN, 0),
            stmt(MISC | TAX, 0),
            stmt(MISC | TXA, 0),
            stmt(LD | IMM, 0x1234_5678),
            stmt(LDX | IMM, 7),
            stmt(LD | MEM, 3),
            stmt(LDX | MEM, 4),
            stmt(ST, 5),
            stmt(STX, 15),
            stmt(RET | A, 0),
            stmt(RET | K, RET_KILL_PROCESS),
            stmt(RET | K, RET_KILL_THREAD),
            stmt(RET | K, RET_TRAP | 2),
            stmt(RET | K, RET_ERRNO | 1),
            stmt(RET | K, RET_USER_NOTIF),
            stmt(RET | K, RET_TRACE),
            stmt(RET | K, RET_LOG),
            stmt(RET | K, RET_ALLOW),
            stmt(RET | K, 0x1234_0000),
        ];
        let mut out = Buf::<2048>::new();
        disasm(&prog, &X86_64, &mut out);
        assert_eq!(
            out.as_str(),
            "x86_64 filter: 20 instructions
   0: ld len
   1: ldx len
   2: tax
   3: txa
   4: ld #0x12345678
   5: ldx #0x7
   6: ld M[3]
   7: ldx M[4]
   8: st M[5]
   9: stx M[15]
  10: ret a
  11: ret KILL_PROCESS
  12: ret KILL_THREAD
  13: ret TRAP(2)
  14: ret ERRNO(1) EPERM
  15: ret USER_NOTIF
  16: ret TRACE
  17: ret LOG
  18: ret ALLOW
  19: ret 0x12340000
"
        );
    }
}
