//! x86_64: the syscall instruction and the process entry point.

use core::arch::asm;

/// # Safety
/// The caller upholds the contract of syscall `nr` for these arguments.
#[inline(always)]
pub unsafe fn syscall6(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the kernel's syscall ABI: rax = nr, args in rdi rsi rdx r10 r8 r9;
    // rcx and r11 are clobbered. The caller vouches for the arguments.
    unsafe {
        asm!("syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    ret
}

/// Defines `_start`: passes the initial stack pointer (argc, argv, envp) to
/// `$crate::sys::start`, which calls `$main`.
#[macro_export]
macro_rules! entry_point {
    ($main:path) => {
        core::arch::global_asm!(
            ".globl _start",
            "_start:",
            "xor ebp, ebp",
            "mov rdi, rsp",
            "and rsp, -16",
            "call {entry}",
            "ud2",
            entry = sym __vigil_entry,
        );
        // The crate that expands this denies `unsafe_code`; the entry
        // point is the one place outside `sys` that needs it.
        #[allow(unsafe_code)]
        extern "C" fn __vigil_entry(sp: *const usize) -> ! {
            // SAFETY: `_start` passes the kernel's initial stack pointer.
            unsafe { $crate::sys::start(sp, $main) }
        }
    };
}
