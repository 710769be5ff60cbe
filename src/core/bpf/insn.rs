//! Classic BPF encodings (`linux/filter.h`, `linux/bpf_common.h`) and the
//! seccomp constants a filter returns and loads.

use super::Insn;

// Instruction classes.
/// Load into the accumulator.
pub const LD: u16 = 0x00;
/// Load into the index register.
pub const LDX: u16 = 0x01;
/// Store the accumulator in scratch memory.
pub const ST: u16 = 0x02;
/// Store the index register in scratch memory.
pub const STX: u16 = 0x03;
/// Arithmetic on the accumulator.
pub const ALU: u16 = 0x04;
/// Jump, conditional or not.
pub const JMP: u16 = 0x05;
/// End the filter with a value (`SECCOMP_RET_*`).
pub const RET: u16 = 0x06;
/// Move between the accumulator and the index register.
pub const MISC: u16 = 0x07;

// Load sizes and modes.
/// Load 32 bits (the only size seccomp takes).
pub const W: u16 = 0x00;
/// Load 16 bits.
pub const H: u16 = 0x08;
/// Load 8 bits.
pub const B: u16 = 0x10;
/// Load the constant `k`.
pub const IMM: u16 = 0x00;
/// Load from `seccomp_data` at offset `k`.
pub const ABS: u16 = 0x20;
/// Load from offset `X + k`.
pub const IND: u16 = 0x40;
/// Load from scratch word `k`.
pub const MEM: u16 = 0x60;
/// Load the packet length (`seccomp_data`'s size).
pub const LEN: u16 = 0x80;
/// The IP-header-length load of socket filters.
pub const MSH: u16 = 0xa0;

// ALU operations.
/// `A += operand`.
pub const ADD: u16 = 0x00;
/// `A -= operand`.
pub const SUB: u16 = 0x10;
/// `A *= operand`.
pub const MUL: u16 = 0x20;
/// `A /= operand`.
pub const DIV: u16 = 0x30;
/// `A |= operand`.
pub const OR: u16 = 0x40;
/// `A &= operand`.
pub const AND: u16 = 0x50;
/// `A <<= operand`.
pub const LSH: u16 = 0x60;
/// `A >>= operand`.
pub const RSH: u16 = 0x70;
/// `A = -A`.
pub const NEG: u16 = 0x80;
/// `A %= operand`.
pub const MOD: u16 = 0x90;
/// `A ^= operand`.
pub const XOR: u16 = 0xa0;

// Jump operations.
/// Jump always, by the 32-bit `k`.
pub const JA: u16 = 0x00;
/// Jump if `A == operand`.
pub const JEQ: u16 = 0x10;
/// Jump if `A > operand` (unsigned).
pub const JGT: u16 = 0x20;
/// Jump if `A >= operand` (unsigned).
pub const JGE: u16 = 0x30;
/// Jump if `A & operand != 0`.
pub const JSET: u16 = 0x40;

// Operand sources (ALU, JMP) and return sources (RET).
/// The operand is the constant `k`.
pub const K: u16 = 0x00;
/// The operand is the index register.
pub const X: u16 = 0x08;
/// Return the accumulator.
pub const A: u16 = 0x10;

// MISC operations.
/// `X = A`.
pub const TAX: u16 = 0x00;
/// `A = X`.
pub const TXA: u16 = 0x80;

/// Scratch memory words (`BPF_MEMWORDS`).
pub const MEMWORDS: usize = 16;

// `SECCOMP_RET_*`.
/// Kill the whole process.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// Kill the calling thread.
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
/// Send SIGSYS.
pub const RET_TRAP: u32 = 0x0003_0000;
/// Fail with the errno in the low 16 bits.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// Ask the listener (vigil).
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// Hand to a ptracer (vigil never returns it).
pub const RET_TRACE: u32 = 0x7ff0_0000;
/// Allow and log.
pub const RET_LOG: u32 = 0x7ffc_0000;
/// Allow.
pub const RET_ALLOW: u32 = 0x7fff_0000;
/// The action bits of a return value.
pub const RET_ACTION_FULL: u32 = 0xffff_0000;
/// The data bits of a return value (the errno).
pub const RET_DATA: u32 = 0x0000_ffff;

// `struct seccomp_data` (little-endian on every arch vigil supports).
/// `seccomp_data.nr`: the syscall number.
pub const OFF_NR: u32 = 0;
/// `seccomp_data.arch`: the `AUDIT_ARCH_*` of the call.
pub const OFF_ARCH: u32 = 4;
/// `seccomp_data.instruction_pointer`.
pub const OFF_IP: u32 = 8;
/// The size of `seccomp_data`: the end of the last argument.
pub const SECCOMP_DATA_LEN: u32 = 64;

/// Offset of the low (`hi == false`) or high 32 bits of argument `i`.
pub const fn off_arg(i: u8, hi: bool) -> u32 {
    16 + 8 * i as u32 + if hi { 4 } else { 0 }
}

/// An instruction that does not jump.
pub const fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A conditional jump: `jt` and `jf` instructions ahead.
pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// `ld [off]`.
pub const fn load(off: u32) -> Insn {
    stmt(LD | W | ABS, off)
}

/// `ret #k`.
pub const fn ret(k: u32) -> Insn {
    stmt(RET | K, k)
}

/// Is `code` a conditional jump (two 8-bit offsets)?
pub const fn is_cond_jump(code: u16) -> bool {
    code & 0x07 == JMP && code & 0xf0 != JA
}
