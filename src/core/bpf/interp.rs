//! A classic-BPF interpreter for seccomp filters, for tests and fuzzers.
//!
//! It runs what the kernel accepts from a seccomp filter (`seccomp_check_filter`
//! and `bpf_check_classic`): 32-bit loads from `struct seccomp_data`, the
//! immediate/scratch/length loads, stores, ALU and jumps with `K` or `X`,
//! `tax`/`txa` and `ret`. Where the kernel would refuse the program, this
//! reports an error at the instruction instead of guessing.

use super::insn::*;
use super::Insn;
use crate::policy::SyscallData;

/// Why the interpreter refused a program, as the kernel's checker would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpError {
    /// No instructions, or more than `MAX_INSNS`.
    BadLength,
    /// An opcode seccomp does not allow, or a `div`/`mod` by constant 0, a
    /// shift by 32 or more, a scratch index above 15.
    BadInsn(usize),
    /// A load outside `seccomp_data` or not 4-byte aligned.
    BadLoad(usize),
    /// A jump past the end of the program.
    BadJump(usize),
    /// A scratch word read before any write.
    Uninit(usize),
    /// The last instruction ran and was not a `ret`.
    FellOff,
}

/// The 64 bytes of `struct seccomp_data` the filter sees, with an
/// instruction pointer of 0.
pub fn image(d: &SyscallData) -> [u8; 64] {
    let mut b = [0u8; 64];
    b[0..4].copy_from_slice(&d.nr.to_le_bytes());
    b[4..8].copy_from_slice(&d.arch.to_le_bytes());
    for (i, a) in d.args.iter().enumerate() {
        b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    b
}

/// Run `prog` on `data`; the filter's return value.
pub fn run(prog: &[Insn], data: &SyscallData) -> Result<u32, InterpError> {
    run_counted(prog, data).map(|(v, _)| v)
}

/// Run `prog` on `data`; the return value and how many instructions ran.
pub fn run_counted(prog: &[Insn], data: &SyscallData) -> Result<(u32, usize), InterpError> {
    if prog.is_empty() || prog.len() > super::MAX_INSNS {
        return Err(InterpError::BadLength);
    }
    let img = image(data);
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; MEMWORDS];
    let mut written = 0u16;
    let mut pc = 0usize;
    let mut steps = 0usize;
    // Jumps only go forward, so this ends within `prog.len()` steps.
    while let Some(i) = prog.get(pc) {
        steps += 1;
        let k = i.k;
        let slot = |pc| {
            if (k as usize) < MEMWORDS {
                Ok(k as usize)
            } else {
                Err(InterpError::BadInsn(pc))
            }
        };
        let mut next = pc + 1;
        if i.code > 0xff {
            return Err(InterpError::BadInsn(pc));
        }
        match i.code {
            c if c == LD | W | ABS => {
                if k % 4 != 0 || k >= SECCOMP_DATA_LEN {
                    return Err(InterpError::BadLoad(pc));
                }
                let o = k as usize;
                a = u32::from_le_bytes([img[o], img[o + 1], img[o + 2], img[o + 3]]);
            }
            c if c == LD | W | LEN => a = SECCOMP_DATA_LEN,
            c if c == LDX | W | LEN => x = SECCOMP_DATA_LEN,
            c if c == LD | IMM => a = k,
            c if c == LDX | IMM => x = k,
            c if c == LD | MEM || c == LDX | MEM => {
                let s = slot(pc)?;
                if written & (1 << s) == 0 {
                    return Err(InterpError::Uninit(pc));
                }
                if c == LD | MEM {
                    a = mem[s];
                } else {
                    x = mem[s];
                }
            }
            c if c == ST || c == STX => {
                let s = slot(pc)?;
                mem[s] = if c == ST { a } else { x };
                written |= 1 << s;
            }
            c if c == RET | K => return Ok((k, steps)),
            c if c == RET | A => return Ok((a, steps)),
            c if c == MISC | TAX => x = a,
            c if c == MISC | TXA => a = x,
            c if c == JMP | JA => {
                next = next
                    .checked_add(k as usize)
                    .filter(|&n| n < prog.len())
                    .ok_or(InterpError::BadJump(pc))?;
            }
            c if c & 0x07 == JMP => {
                let b = if c & X != 0 { x } else { k };
                let taken = match c & !X {
                    c if c == JMP | JEQ => a == b,
                    c if c == JMP | JGT => a > b,
                    c if c == JMP | JGE => a >= b,
                    c if c == JMP | JSET => a & b != 0,
                    _ => return Err(InterpError::BadInsn(pc)),
                };
                let (jt, jf) = (next + i.jt as usize, next + i.jf as usize);
                if jt >= prog.len() || jf >= prog.len() {
                    return Err(InterpError::BadJump(pc));
                }
                next = if taken { jt } else { jf };
            }
            c if c & 0x07 == ALU => a = alu(c, a, if c & X != 0 { x } else { k }, pc)?,
            _ => return Err(InterpError::BadInsn(pc)),
        }
        pc = next;
    }
    Err(InterpError::FellOff)
}

fn alu(code: u16, a: u32, b: u32, pc: usize) -> Result<u32, InterpError> {
    let by_x = code & X != 0;
    if !by_x
        && ((code & 0xf0 == DIV || code & 0xf0 == MOD) && b == 0
            || (code & 0xf0 == LSH || code & 0xf0 == RSH) && b >= 32)
    {
        return Err(InterpError::BadInsn(pc));
    }
    Ok(match code & 0xf0 {
        ADD => a.wrapping_add(b),
        SUB => a.wrapping_sub(b),
        MUL => a.wrapping_mul(b),
        // A division by X = 0 makes a classic filter return 0.
        DIV => a.checked_div(b).unwrap_or(0),
        MOD => a.checked_rem(b).unwrap_or(0),
        OR => a | b,
        AND => a & b,
        LSH => a.checked_shl(b).unwrap_or(0),
        RSH => a.checked_shr(b).unwrap_or(0),
        NEG if !by_x => a.wrapping_neg(),
        XOR => a ^ b,
        _ => return Err(InterpError::BadInsn(pc)),
    })
}

/// Static checks the kernel makes before it accepts a filter: a length in
/// range, every jump inside the program, a `ret` last. (Opcodes and loads
/// are checked by `run` on the paths it takes.)
pub fn check(prog: &[Insn]) -> Result<(), InterpError> {
    if prog.is_empty() || prog.len() > super::MAX_INSNS {
        return Err(InterpError::BadLength);
    }
    for (pc, i) in prog.iter().enumerate() {
        let end = if i.code == JMP | JA {
            (pc + 1).checked_add(i.k as usize)
        } else if is_cond_jump(i.code) {
            Some(pc + 1 + i.jt.max(i.jf) as usize)
        } else {
            Some(pc)
        };
        if end.is_none_or(|e| e >= prog.len()) {
            return Err(InterpError::BadJump(pc));
        }
    }
    match prog[prog.len() - 1].code {
        c if c == RET | K || c == RET | A => Ok(()),
        _ => Err(InterpError::FellOff),
    }
}
