//! `execve(2)` from fixed buffers: argv and envp are built without a heap.

use super::{nr, syscall, Errno};

/// Most bytes of argument and environment text.
pub const EXEC_BYTES: usize = 8192;
/// Most argument plus environment entries.
pub const EXEC_ENTRIES: usize = 96;

/// The strings of one `execve`: a path, arguments and environment, each
/// NUL-terminated in one buffer.
pub struct ExecBuf {
    // heapless's `Vec` leaves its spare capacity unwritten: making one
    // does not zero 8 KB per start.
    bytes: heapless::Vec<u8, EXEC_BYTES>,
    /// Offsets of each string; `argc` of them are arguments.
    offs: [u16; EXEC_ENTRIES],
    count: usize,
    argc: usize,
    envp_inherit: Option<*const *const u8>,
}

/// Too much text for `ExecBuf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig;

impl Default for ExecBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecBuf {
    pub const fn new() -> Self {
        ExecBuf {
            bytes: heapless::Vec::new(),
            offs: [0; EXEC_ENTRIES],
            count: 0,
            argc: 0,
            envp_inherit: None,
        }
    }

    fn push(&mut self, parts: &[&[u8]]) -> Result<(), TooBig> {
        let len: usize = parts.iter().map(|p| p.len()).sum::<usize>() + 1;
        if self.bytes.len() + len > EXEC_BYTES || self.count >= EXEC_ENTRIES {
            return Err(TooBig);
        }
        self.offs[self.count] = self.bytes.len() as u16;
        self.count += 1;
        // Room was checked above: these cannot fail.
        for p in parts {
            let _ = self.bytes.extend_from_slice(p);
        }
        let _ = self.bytes.push(0);
        Ok(())
    }

    /// Append an argument (argv[0] first). All arguments come before any
    /// environment entry.
    pub fn arg(&mut self, a: &[u8]) -> Result<(), TooBig> {
        debug_assert_eq!(self.argc, self.count);
        self.push(&[a])?;
        self.argc += 1;
        Ok(())
    }

    /// Append an environment entry `key=value` (or a whole `KEY=VALUE` with an empty `value`).
    pub fn env(&mut self, key: &[u8], value: &[u8]) -> Result<(), TooBig> {
        if value.is_empty() {
            self.push(&[key])
        } else {
            self.push(&[key, b"=", value])
        }
    }

    /// Pass our own environment instead of the entries added with `env`.
    pub fn inherit_env(&mut self, envp: *const *const u8) {
        self.envp_inherit = Some(envp);
    }

    /// argv[i], without its NUL.
    pub fn argv(&self, i: usize) -> Option<&[u8]> {
        if i >= self.argc {
            return None;
        }
        let bytes = &self.bytes[..];
        let start = self.offs[i] as usize;
        let end = start + bytes[start..].iter().position(|&b| b == 0).unwrap_or(0);
        Some(&bytes[start..end])
    }

    /// `execve(2)` of `path` (NUL-terminated here) with these arguments.
    /// Returns only on failure.
    pub fn exec(&self, path: &[u8]) -> Errno {
        let mut p = [0u8; 512];
        if path.len() >= p.len() {
            return Errno::NAMETOOLONG;
        }
        p[..path.len()].copy_from_slice(path);
        let bytes = &self.bytes[..];
        let mut ptrs = [core::ptr::null::<u8>(); EXEC_ENTRIES + 2];
        for (ptr, &off) in ptrs.iter_mut().zip(&self.offs[..self.argc]) {
            *ptr = bytes[off as usize..].as_ptr();
        }
        let envp = self.argc + 1;
        for i in self.argc..self.count {
            ptrs[i + 1] = bytes[self.offs[i] as usize..].as_ptr();
        }
        let envp_ptr = match self.envp_inherit {
            Some(e) => e,
            None => ptrs[envp..].as_ptr(),
        };
        // SAFETY: p is NUL-terminated; ptrs holds argc pointers into
        // NUL-terminated strings of self.bytes then NULL, then the
        // environment pointers then NULL (the array is zeroed past count).
        match unsafe {
            syscall(
                nr::__NR_execve,
                [
                    p.as_ptr() as usize,
                    ptrs.as_ptr() as usize,
                    envp_ptr as usize,
                    0,
                    0,
                    0,
                ],
            )
        } {
            Ok(_) => Errno::INVAL,
            Err(e) => e,
        }
    }
}
