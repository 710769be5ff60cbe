//! Policy to classic BPF: a pure function, plus a disassembler so users can
//! audit what the kernel will run. (Stub: being written.)

use crate::arch::Arch;
use crate::policy::{Policy, Ret};

/// The kernel's limit on instructions per filter (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

pub type Program = heapless::Vec<Insn, MAX_INSNS>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The program would exceed `MAX_INSNS`.
    TooLong,
}

/// The filter's return value for `ret`.
pub fn ret_value(ret: Ret) -> u32 {
    let _ = ret;
    0
}

/// Compile `policy` for `arch`.
pub fn compile(policy: &Policy, arch: &Arch) -> Result<Program, CompileError> {
    let _ = (policy, arch);
    Ok(Program::new())
}
