//! Policy to classic BPF: a pure function, plus a disassembler so users can
//! audit what the kernel will run, and an interpreter to test both.
//!
//! # Program shape
//!
//! ```text
//!   ld [4] (arch); jeq AUDIT_ARCH else ret KILL_PROCESS
//!   ld [0] (nr)
//!   binary search over syscall-number intervals -> ret K | argument check
//!   argument checks, one block per conditional rule    -> ret K
//! ```
//!
//! Why this shape:
//!
//! - The arch check comes first because numbers mean nothing across ABIs.
//!   x32 shares x86_64's `AUDIT_ARCH` and is told apart only by bit 30: its
//!   numbers are two ranges of the search (killed), which usually merge with
//!   a killing default and then cost nothing (`jset` for any other bit).
//! - Dispatch is a binary search, not a chain of `jeq`s, so that the cost of
//!   a syscall grows with the log of the number of rules. It searches over
//!   intervals, not syscalls: neighbouring numbers with the same constant
//!   outcome (including the default between rules) are one interval, which
//!   keeps the tree shallow for policies that allow runs of syscalls.
//! - Syscalls with a constant outcome reach their `ret` through loads of
//!   `nr` and `arch`, `jeq/jge/jgt/jset #k`, `ja` and `ret #k` only. That is
//!   all the kernel's action cache (`seccomp_is_const_allow`) can follow, so
//!   every syscall the policy always allows is cached per arch and number and
//!   costs nothing after its first call.
//! - `execve` and `execveat` always return `USER_NOTIF`: vigil's hand-over
//!   of the listener rides on the service's first `execve`, which the filter
//!   cannot tell from later ones; vigil applies the policy to them itself.
//! - Argument checks sit after the tree so that they do not push the tree's
//!   jumps out of reach. A condition is an OR of ANDs of 64-bit unsigned
//!   comparisons, done on the 32-bit halves classic BPF can load (high half
//!   first: it decides unless equal). Comparisons that cannot fail or cannot
//!   hold (`>= 0`, masked bits outside the mask) are folded away.
//! - Conditional jumps reach 255 instructions. The program is emitted back
//!   to front (see `emit`), so every target is placed before its jump and a
//!   jump that cannot reach gets a nearby copy of its `ret` or a `ja`.
//! - A program over `MAX_INSNS` is an error, never a truncated filter.

mod compile;
mod disasm;
mod emit;
pub mod insn;
pub mod interp;

#[cfg(test)]
mod tests;

pub use compile::{compile, compile_into};
pub use disasm::disasm;

use crate::policy::Ret;
use insn::*;

/// The kernel's limit on instructions per filter (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Insn {
    /// The opcode: class, size or operation, and source (`insn`).
    pub code: u16,
    /// A conditional jump's offset when true.
    pub jt: u8,
    /// A conditional jump's offset when false.
    pub jf: u8,
    /// The operand: a constant, an offset, a return value.
    pub k: u32,
}

/// A compiled filter, at most the kernel's length.
pub type Program = heapless::Vec<Insn, MAX_INSNS>;

/// Why a policy did not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The program would exceed `MAX_INSNS`.
    TooLong,
    /// The policy breaks its own invariants: rules not sorted by number or
    /// not unique, a span outside its pool, an argument index above 5.
    Invalid,
}

impl CompileError {
    /// What went wrong, for a message.
    pub fn describe(self) -> &'static str {
        match self {
            CompileError::TooLong => "the filter would need more than 4096 BPF instructions",
            CompileError::Invalid => "the policy is inconsistent (a vigil bug: please report it)",
        }
    }
}

/// The filter's return value for `ret`.
pub fn ret_value(ret: Ret) -> u32 {
    match ret {
        Ret::Allow => RET_ALLOW,
        Ret::Errno(e) => RET_ERRNO | (e as u32 & RET_DATA),
        Ret::Kill => RET_KILL_PROCESS,
        Ret::Log => RET_LOG,
        Ret::Trap => RET_TRAP,
        Ret::Notify => RET_USER_NOTIF,
    }
}

/// The `Ret` a filter return value stands for, if it is one `ret_value`
/// produces.
pub fn ret_of(v: u32) -> Option<Ret> {
    match v {
        RET_ALLOW => Some(Ret::Allow),
        RET_KILL_PROCESS => Some(Ret::Kill),
        RET_LOG => Some(Ret::Log),
        RET_TRAP => Some(Ret::Trap),
        RET_USER_NOTIF => Some(Ret::Notify),
        _ if v & RET_ACTION_FULL == RET_ERRNO => Some(Ret::Errno((v & RET_DATA) as u16)),
        _ => None,
    }
}
