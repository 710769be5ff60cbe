//! The memory functions `core` calls into (memcpy and friends). With no
//! libc, the binary must define them; `mem_functions!` does so in the
//! binary only, so that host test builds keep their libc's. Each carries
//! its own `allow(unsafe_code)`: the binary's crate denies it.
//!
//! Byte loops suffice: vigil copies small structs and paths, not bulk data.
//! LLVM does not turn a loop inside a function named `memcpy` back into a
//! call to `memcpy`.

#[macro_export]
macro_rules! mem_functions {
    () => {
        #[allow(unsafe_code)]
        #[no_mangle]
        pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
            // SAFETY: the caller (compiler-generated code) passes valid,
            // non-overlapping buffers of n bytes.
            unsafe {
                let mut i = 0;
                while i < n {
                    *d.add(i) = *s.add(i);
                    i += 1;
                }
            }
            d
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
            // SAFETY: valid buffers of n bytes that may overlap: copy in the
            // direction that reads each byte before it is overwritten.
            unsafe {
                if (d as usize) < (s as usize) {
                    let mut i = 0;
                    while i < n {
                        *d.add(i) = *s.add(i);
                        i += 1;
                    }
                } else {
                    let mut i = n;
                    while i > 0 {
                        i -= 1;
                        *d.add(i) = *s.add(i);
                    }
                }
            }
            d
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
            // SAFETY: d is valid for n bytes.
            unsafe {
                let mut i = 0;
                while i < n {
                    *d.add(i) = c as u8;
                    i += 1;
                }
            }
            d
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            // SAFETY: both are valid for n bytes.
            unsafe {
                let mut i = 0;
                while i < n {
                    let (x, y) = (*a.add(i), *b.add(i));
                    if x != y {
                        return x as i32 - y as i32;
                    }
                    i += 1;
                }
            }
            0
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            // SAFETY: as memcmp.
            unsafe { memcmp(a, b, n) }
        }

        /// aarch64's atomic read-modify-write operations (`AtomicBool::swap`
        /// in `sys::cell`) go through compiler-builtins' outline helpers,
        /// which link against libc's `getauxval` to look for LSE. Without a
        /// C runtime their probe never runs and they use the plain
        /// exclusive-load/store loop; this answers "no auxv entry" to any
        /// caller all the same.
        #[cfg(target_arch = "aarch64")]
        #[allow(unsafe_code)]
        #[no_mangle]
        pub extern "C" fn getauxval(_type: core::ffi::c_ulong) -> core::ffi::c_ulong {
            0
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
            let mut n = 0;
            // SAFETY: s is NUL-terminated.
            unsafe {
                while *s.add(n) != 0 {
                    n += 1;
                }
            }
            n
        }

        /// The host (glibc target) libcore is built to unwind and names this
        /// symbol; vigil aborts on panic, so it is never called.
        #[cfg(target_env = "gnu")]
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rust_eh_personality() {}
    };
}
