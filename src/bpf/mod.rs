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
    // Temporary: notify the forced syscalls, allow the rest.
    let _ = policy;
    let mut p = Program::new();
    let ins = |code, jt, jf, k| Insn { code, jt, jf, k };
    let _ = p.push(ins(0x20, 0, 0, 0));
    let _ = p.push(ins(0x15, 0, 1, arch.forced_notify[0]));
    let _ = p.push(ins(0x06, 0, 0, 0x7fc0_0000));
    let _ = p.push(ins(0x06, 0, 0, 0x7fff_0000));
    Ok(p)
}

/// Readable disassembly, one instruction per line. (Stub.)
pub fn disasm(prog: &[Insn], arch: &Arch, out: &mut impl crate::out::Sink) {
    let _ = (prog, arch, out);
}
