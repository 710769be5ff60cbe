//! Process lifetime: fork and exit.

use super::{nr, syscall, Result};

/// `exit_group(2)`.
pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers and does not return.
        let _ = unsafe { syscall(nr::__NR_exit_group, [code as usize, 0, 0, 0, 0, 0]) };
    }
}

/// `clone(2)` with only `SIGCHLD`: a plain fork. `Ok(0)` in the child,
/// the child's pid in the parent.
///
/// vigil is single-threaded and holds no locks, so the child may go on
/// running ordinary code until it execs or exits.
pub fn fork() -> Result<i32> {
    fork_with(0)
}

/// `clone(2)` like `fork`, plus `CLONE_NEW*` namespace flags: with
/// `CLONE_NEWPID` the child is PID 1 of a new pid namespace.
pub fn fork_with(namespaces: u32) -> Result<i32> {
    let flags = (linux_raw_sys::general::SIGCHLD | namespaces) as usize;
    // SAFETY: no new stack and no tid pointers: the child continues on a
    // copy of our address space, exactly like fork(2).
    unsafe { syscall(nr::__NR_clone, [flags, 0, 0, 0, 0, 0]).map(|p| p as i32) }
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
pub fn set_no_new_privs() -> Result<()> {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        syscall(
            nr::__NR_prctl,
            [
                linux_raw_sys::prctl::PR_SET_NO_NEW_PRIVS as usize,
                1,
                0,
                0,
                0,
                0,
            ],
        )
        .map(drop)
    }
}

/// `close_range(2)` from `first` to the end of the table.
pub fn close_from(first: u32) -> Result<()> {
    close_range(first, u32::MAX)
}

/// `close_range(2)` of `first..=last`.
pub fn close_range(first: u32, last: u32) -> Result<()> {
    // SAFETY: closes fds only; the caller owns none of them any more.
    unsafe {
        syscall(
            nr::__NR_close_range,
            [first as usize, last as usize, 0, 0, 0, 0],
        )
        .map(drop)
    }
}

/// Close every fd from 3 up but `keep`: with `close_range(2)`, or one by
/// one up to the fd limit where the kernel lacks it (before 5.9).
pub fn close_all_but(keep: i32) {
    let range = |first: usize, last: usize| {
        // SAFETY: closes fds only; the caller owns none of them any more.
        unsafe { syscall(nr::__NR_close_range, [first, last, 0, 0, 0, 0]).is_ok() }
    };
    let (k, end) = (keep as usize, u32::MAX as usize);
    let ok = match k {
        0..=2 => range(3, end),
        3 => range(4, end),
        _ => range(3, k - 1) && range(k + 1, end),
    };
    if !ok {
        let max = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(1 << 20)
            .min(1 << 20) as i32;
        for fd in 3..max {
            if fd != keep {
                close(fd);
            }
        }
    }
}

/// `dup3(2)`: make `new` a copy of `old` (no CLOEXEC).
pub fn dup_to(old: i32, new: i32) -> Result<()> {
    if old == new {
        return Ok(());
    }
    // SAFETY: integer arguments only.
    unsafe { syscall(nr::__NR_dup3, [old as usize, new as usize, 0, 0, 0, 0]).map(drop) }
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 0)`: a copy of `fd` at the lowest free number.
pub fn dup_lowest(fd: i32) -> Result<i32> {
    // SAFETY: integer arguments only.
    unsafe {
        syscall(
            nr::__NR_fcntl,
            [
                fd as usize,
                linux_raw_sys::general::F_DUPFD_CLOEXEC as usize,
                0,
                0,
                0,
                0,
            ],
        )
        .map(|f| f as i32)
    }
}

/// `close(2)` of a raw fd the caller owns.
pub fn close(fd: i32) {
    // SAFETY: the caller owns fd and will not use it again.
    let _ = unsafe { syscall(nr::__NR_close, [fd as usize, 0, 0, 0, 0, 0]) };
}

/// `setrlimit(2)` through `prlimit64(2)` on ourselves.
pub fn set_rlimit(resource: u32, soft: u64, hard: u64) -> Result<()> {
    let lim = [soft, hard];
    // SAFETY: lim is a valid struct rlimit64; old-limit pointer is NULL.
    unsafe {
        syscall(
            nr::__NR_prlimit64,
            [0, resource as usize, lim.as_ptr() as usize, 0, 0, 0],
        )
        .map(drop)
    }
}

/// `setresgid`, `setgroups` and `setresuid`, in the order that works.
pub fn set_ids(uid: Option<u32>, gid: Option<u32>, groups: Option<&[u32]>) -> Result<()> {
    // SAFETY: integer arguments, and `groups` is a valid slice of gid_t.
    unsafe {
        if let Some(g) = groups {
            syscall(
                nr::__NR_setgroups,
                [g.len(), g.as_ptr() as usize, 0, 0, 0, 0],
            )?;
        }
        if let Some(g) = gid {
            syscall(
                nr::__NR_setresgid,
                [g as usize, g as usize, g as usize, 0, 0, 0],
            )?;
        }
        if let Some(u) = uid {
            syscall(
                nr::__NR_setresuid,
                [u as usize, u as usize, u as usize, 0, 0, 0],
            )?;
        }
    }
    Ok(())
}

/// `fcntl(fd, F_SETFD, 0)`: keep `fd` open across exec.
pub fn clear_cloexec(fd: i32) -> Result<()> {
    // SAFETY: integer arguments only.
    unsafe {
        syscall(
            nr::__NR_fcntl,
            [
                fd as usize,
                linux_raw_sys::general::F_SETFD as usize,
                0,
                0,
                0,
                0,
            ],
        )
        .map(drop)
    }
}

/// `getpgid(0)`: our process group, 0 where it lies outside our pid
/// namespace (PID 1 started by the kernel, or by a container runtime).
/// (rustix's `getpgrp` wraps it in a non-zero type, which 0 would break.)
pub fn pgrp() -> u32 {
    // SAFETY: integer arguments only.
    unsafe { syscall(nr::__NR_getpgid, [0, 0, 0, 0, 0, 0]).map_or(0, |g| g as u32) }
}
