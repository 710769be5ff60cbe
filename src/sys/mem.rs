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

/// A byte buffer of which only the written prefix is ever read, so that
/// making one writes nothing: no zeroing of `N` bytes (`exec::ExecBuf`'s
/// argument text). `out::Buf` has the same property from heapless's `Vec`.
pub struct Prefix<const N: usize> {
    data: [core::mem::MaybeUninit<u8>; N],
    len: usize,
}

impl<const N: usize> Default for Prefix<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Prefix<N> {
    pub const fn new() -> Self {
        Prefix {
            data: [core::mem::MaybeUninit::uninit(); N],
            len: 0,
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `data[..len]` was written by `push` (len only grows
        // through it) and `len <= N`.
        unsafe { core::slice::from_raw_parts(self.data.as_ptr().cast::<u8>(), self.len) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keep only the first `len` bytes (no-op if there are fewer).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Append as much of `bytes` as fits.
    pub fn push(&mut self, bytes: &[u8]) {
        push(&mut self.data, &mut self.len, bytes)
    }
}

/// `Prefix::push` for every `N`: one copy of the code.
#[inline(never)]
fn push(data: &mut [core::mem::MaybeUninit<u8>], len: &mut usize, bytes: &[u8]) {
    let n = bytes.len().min(data.len() - *len);
    // SAFETY: `*len + n <= data.len()`, and `bytes` (borrowed) cannot
    // overlap `data` (mutably borrowed).
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), data.as_mut_ptr().add(*len).cast::<u8>(), n);
    }
    *len += n;
}
