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

/// Instructions spelled as a fixed mnemonic, then `k` as `HEX_FROM` and
/// `MEM_FROM` say.
const PLAIN_CODES: [u16; 11] = [
    LD | W | LEN,
    LDX | W | LEN,
    RET | A,
    MISC | TAX,
    MISC | TXA,
    LD | IMM,
    LDX | IMM,
    LD | MEM,
    LDX | MEM,
    ST,
    STX,
];
/// Their mnemonics, in the same order.
const PLAIN_NAMES: &str = "ld len|ldx len|ret a|tax|txa|ld #|ldx #|ld M[|ldx M[|st M[|stx M[";
/// From this index on `k` follows in hex; from `MEM_FROM` on as `k]`.
const HEX_FROM: usize = 5;
const MEM_FROM: usize = 7;

fn insn<const N: usize>(out: &mut Buf<N>, pc: usize, i: &Insn, holds: u8, arch: &Arch) {
    let k = i.k;
    let c = i.code;
    if let Some(n) = PLAIN_CODES.iter().position(|&p| p == c) {
        word(out, PLAIN_NAMES, n);
        if n >= MEM_FROM {
            out.u(k as u64).s("]");
        } else if n >= HEX_FROM {
            out.x(k as u64);
        }
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

/// The `SECCOMP_RET_*` actions and their names, in the same order.
const RETS: [u32; 8] = [
    RET_KILL_PROCESS,
    RET_KILL_THREAD,
    RET_TRAP,
    RET_ERRNO,
    RET_USER_NOTIF,
    RET_TRACE,
    RET_LOG,
    RET_ALLOW,
];
const RET_NAMES: &str = "KILL_PROCESS|KILL_THREAD|TRAP|ERRNO|USER_NOTIF|TRACE|LOG|ALLOW";

fn ret(out: &mut impl Sink, k: u32, arch: &Arch) {
    let data = k & RET_DATA;
    let action = k & RET_ACTION_FULL;
    let Some(n) = RETS.iter().position(|&r| r == action) else {
        out.x(k as u64);
        return;
    };
    word(out, RET_NAMES, n);
    if action == RET_ERRNO {
        out.s("(").u(data as u64).s(")");
        if let Some(n) = arch.errno_name(data as u16) {
            out.s(" ").s(n);
        }
    } else if data != 0 {
        out.s("(").u(data as u64).s(")");
    }
}
