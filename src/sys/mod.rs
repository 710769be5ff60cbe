//! Raw syscalls: the only `unsafe` code in vigil. The crate roots deny
//! `unsafe_code` everywhere else, and clippy wants a `SAFETY` line on
//! every block here.
//!
//! rustix covers most of what vigil needs, and vigil calls it directly.
//! What it does not expose (fork, execve, seccomp and its ioctls, signalfd
//! and the signal mask, process_vm_readv, Landlock, setfsuid), or only in
//! its unstable `runtime` feature, or at a measured cost (each such place
//! says how much), is wrapped here over the per-arch `syscall6`.
//!
//! Every `pub` function here is sound whatever its arguments: fds come in
//! as `BorrowedFd` and go out as `OwnedFd` (`fd::Kept` holds the few kept
//! in `static`s); what is sound only on the caller's promise is an `unsafe
//! fn`, private to `sys` (`seccomp`'s `ioctl`). One convention is left:
//! `proc::close_range` closes fds by number, for a process just forked
//! (its doc says why that is the one place).

#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
mod arch;

pub mod caps;
pub mod cell;
pub mod creds;
pub mod exec;
pub mod fd;
pub mod landlock;
pub mod mem;
pub mod pages;
pub mod poll;
pub mod proc;
pub mod seccomp;
pub mod shared;
pub mod signal;
pub mod sock;

pub use rustix::io::Errno;

pub type Result<T> = core::result::Result<T, Errno>;

/// Longest path the kernel takes, its NUL included (`PATH_MAX`): the size
/// of the path buffers above this layer (a target's paths, mount points).
pub const PATH_MAX: usize = linux_raw_sys::general::PATH_MAX as usize;

use linux_raw_sys::general as nr;

/// A raw syscall, its result decoded the kernel's way (-4095..-1 is an errno).
///
/// # Safety
/// The caller upholds the contract of syscall `n` for these arguments.
unsafe fn syscall(n: u32, a: [usize; 6]) -> Result<usize> {
    // SAFETY: forwarded to the caller.
    let r = unsafe { arch::syscall6(n as usize, a) };
    if (-4095..0).contains(&r) {
        Err(Errno::from_raw_os_error(-r as i32))
    } else {
        Ok(r as usize)
    }
}

/// The process's arguments and environment, as the kernel laid them out.
pub struct Args {
    argc: usize,
    argv: *const *const u8,
}

impl Args {
    pub fn len(&self) -> usize {
        self.argc
    }

    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `i`, without its NUL.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: the kernel put argc valid pointers to NUL-terminated
        // strings at argv; they live as long as the process.
        unsafe { Some(cstr(*self.argv.add(i))) }
    }

    /// Environment entry `i` (`KEY=VALUE`), without its NUL.
    pub fn env(&self, i: usize) -> Option<&'static [u8]> {
        // SAFETY: envp follows argv's NULL terminator and is itself
        // NULL-terminated; we stop at the first NULL.
        unsafe {
            let envp = self.argv.add(self.argc + 1);
            for j in 0..=i {
                if (*envp.add(j)).is_null() {
                    return None;
                }
            }
            Some(cstr(*envp.add(i)))
        }
    }

    /// The environment pointer array, NULL-terminated, for `execve`.
    pub fn envp(&self) -> *const *const u8 {
        // SAFETY: just past argv's NULL terminator, inside the initial stack.
        unsafe { self.argv.add(self.argc + 1) }
    }
}

/// # Safety
/// `p` points to a NUL-terminated string that lives forever.
unsafe fn cstr(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, so every byte up to it is readable.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        core::slice::from_raw_parts(p, n)
    }
}

/// Called by `entry_point!`'s `_start` with the initial stack pointer.
///
/// # Safety
/// `sp` is the stack pointer the kernel handed to `_start`.
pub unsafe fn start(sp: *const usize, main: fn(&Args) -> i32) -> ! {
    STARTED_NS.store(poll::now_ns(), core::sync::atomic::Ordering::Relaxed);
    // SAFETY: at process entry, sp points at argc followed by argv.
    let args = unsafe {
        Args {
            argc: *sp,
            argv: sp.add(1) as *const *const u8,
        }
    };
    proc::exit(main(&args))
}

static STARTED_NS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// `CLOCK_MONOTONIC` at `_start`, in nanoseconds (0 in tests, which have
/// no `_start` of ours).
pub fn started_ns() -> u64 {
    STARTED_NS.load(core::sync::atomic::Ordering::Relaxed)
}

/// `write(2)` of the whole buffer, retrying on EINTR and short writes.
pub fn write_all(fd: rustix::fd::BorrowedFd<'_>, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        match rustix::io::write(fd, buf) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `kill(2)`, including pid -1 (every process we may signal) and process
/// groups.
// Raw: rustix's typed `Pid` cannot express -1 or a group's -pgid.
pub fn kill(pid: i32, sig: i32) -> Result<()> {
    // SAFETY: kill takes no pointers.
    unsafe { syscall(nr::__NR_kill, [pid as usize, sig as usize, 0, 0, 0, 0]).map(drop) }
}

/// `process_vm_readv(2)` of one range: how many bytes could be read.
pub fn read_remote(pid: i32, addr: u64, buf: &mut [u8]) -> Result<usize> {
    let local = [buf.as_mut_ptr() as usize, buf.len()];
    let remote = [addr as usize, buf.len()];
    // SAFETY: the local iovec describes `buf`, which is writable for its
    // length; the remote one is only read by the kernel on the target's side.
    unsafe {
        syscall(
            nr::__NR_process_vm_readv,
            [
                pid as usize,
                local.as_ptr() as usize,
                1,
                remote.as_ptr() as usize,
                1,
                0,
            ],
        )
    }
}

/// `openat(AT_FDCWD, path, flags | O_CLOEXEC, 0644)`.
pub fn open(path: &[u8], flags: rustix::fs::OFlags) -> Result<rustix::fd::OwnedFd> {
    rustix::fs::open(
        path,
        flags | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
}

/// `s` NUL-terminated in `buf`, for the syscalls that take C strings.
pub fn nul_terminated<'a>(s: &[u8], buf: &'a mut [u8]) -> Result<&'a core::ffi::CStr> {
    if s.len() >= buf.len() {
        return Err(Errno::NAMETOOLONG);
    }
    buf[..s.len()].copy_from_slice(s);
    buf[s.len()] = 0;
    core::ffi::CStr::from_bytes_with_nul(&buf[..=s.len()]).map_err(|_| Errno::INVAL)
}

/// `chdir(2)`.
pub fn chdir(path: &[u8]) -> Result<()> {
    rustix::process::chdir(path)
}

/// Read a whole file into `buf`: its length, or EFBIG if it does not fit.
pub fn read_file(path: &[u8], buf: &mut [u8]) -> Result<usize> {
    let fd = rustix::fs::open(
        path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    let mut len = 0;
    loop {
        if len == buf.len() {
            return Err(Errno::FBIG);
        }
        match rustix::io::read(&fd, &mut buf[len..]) {
            Ok(0) => return Ok(len),
            Ok(n) => len += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}
