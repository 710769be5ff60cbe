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
        line.s(if pc < 10 {
            "   "
        } else if pc < 100 {
            "  "
        } else if pc < 1000 {
            " "
        } else {
            ""
        });
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

fn insn<const N: usize>(out: &mut Buf<N>, pc: usize, i: &Insn, holds: u8, arch: &Arch) {
    let k = i.k;
    match i.code {
        c if c == LD | W | ABS => {
            out.s("ld [").u(k as u64).s("] (");
            field(out, k);
            out.s(")");
        }
        c if c == LD | W | LEN => {
            out.s("ld len");
        }
        c if c == LDX | W | LEN => {
            out.s("ldx len");
        }
        c if c == LD | IMM => {
            out.s("ld #").x(k as u64);
        }
        c if c == LDX | IMM => {
            out.s("ldx #").x(k as u64);
        }
        c if c == LD | MEM => {
            out.s("ld M[").u(k as u64).s("]");
        }
        c if c == LDX | MEM => {
            out.s("ldx M[").u(k as u64).s("]");
        }
        c if c == ST => {
            out.s("st M[").u(k as u64).s("]");
        }
        c if c == STX => {
            out.s("stx M[").u(k as u64).s("]");
        }
        c if c == MISC | TAX => {
            out.s("tax");
        }
        c if c == MISC | TXA => {
            out.s("txa");
        }
        c if c == RET | A => {
            out.s("ret a");
        }
        c if c == RET | K => {
            out.s("ret ");
            ret(out, k, arch);
        }
        c if c == JMP | JA => {
            out.s("ja ");
            match (pc as u64 + 1).checked_add(k as u64) {
                Some(t) => out.u(t),
                None => out.s("?"),
            };
        }
        c if is_cond_jump(c) => {
            let name = ["ja", "jeq", "jgt", "jge", "jset"]
                .get((c >> 4) as usize & 0xf)
                .copied()
                .unwrap_or("j?");
            out.s(name);
            if c & X != 0 {
                out.s(" x");
            } else {
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
            while out.len() < 36 {
                out.s(" ");
            }
            out.s(" jt ")
                .u(pc as u64 + 1 + i.jt as u64)
                .s(" jf ")
                .u(pc as u64 + 1 + i.jf as u64);
        }
        c if c & 0x07 == ALU => {
            let names = [
                "add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "neg", "mod", "xor",
            ];
            out.s(names.get((c >> 4) as usize).copied().unwrap_or("alu?"));
            if c & 0xf0 != NEG {
                if c & X != 0 {
                    out.s(" x");
                } else {
                    out.s(" #");
                    num(out, k);
                }
            }
        }
        _ => {
            out.s(".insn code=")
                .x(i.code as u64)
                .s(" jt=")
                .u(i.jt as u64)
                .s(" jf=")
                .u(i.jf as u64)
                .s(" k=")
                .x(k as u64);
        }
    }
}

fn ret(out: &mut impl Sink, k: u32, arch: &Arch) {
    let data = k & RET_DATA;
    let name = match k & RET_ACTION_FULL {
        RET_KILL_PROCESS => "KILL_PROCESS",
        RET_KILL_THREAD => "KILL_THREAD",
        RET_TRAP => "TRAP",
        RET_ERRNO => "ERRNO",
        RET_USER_NOTIF => "USER_NOTIF",
        RET_TRACE => "TRACE",
        RET_LOG => "LOG",
        RET_ALLOW => "ALLOW",
        _ => {
            out.x(k as u64);
            return;
        }
    };
    out.s(name);
    if k & RET_ACTION_FULL == RET_ERRNO {
        out.s("(").u(data as u64).s(")");
        if let Some(n) = arch.errno_name(data as u16) {
            out.s(" ").s(n);
        }
    } else if data != 0 {
        out.s("(").u(data as u64).s(")");
    }
}
