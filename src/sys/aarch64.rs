//! aarch64: the syscall instruction and the process entry point.

use core::arch::asm;

/// # Safety
/// The caller upholds the contract of syscall `nr` for these arguments.
#[inline(always)]
pub unsafe fn syscall6(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the kernel's syscall ABI: x8 = nr, args in x0..x5, result in x0.
    // The caller vouches for the arguments.
    unsafe {
        asm!("svc 0",
            in("x8") nr,
            inlateout("x0") a[0] as isize => ret,
            in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
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
            "mov x29, #0",
            "mov x30, #0",
            "mov x0, sp",
            "bl {entry}",
            "brk #0",
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
