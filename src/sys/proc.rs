//! Process lifetime: fork and exit.

use super::{nr, syscall, Result};
use rustix::fd::{AsRawFd, BorrowedFd};

/// `exit_group(2)`.
// Raw: rustix has it only in its unstable `runtime` feature.
pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers and does not return.
        let _ = unsafe { syscall(nr::__NR_exit_group, [code as usize, 0, 0, 0, 0, 0]) };
    }
}

/// `clone(2)` with only `SIGCHLD`: a plain fork. `Ok(0)` in the child,
/// the child's pid in the parent.
///
/// Safe because vigil has one thread: `sys` offers no call that starts
/// another (no `CLONE_VM` or `CLONE_THREAD` anywhere), so the child holds
/// no lock or half-done state of another thread, and may go on running
/// ordinary code until it execs or exits.
pub fn fork() -> Result<i32> {
    fork_with(0)
}

/// The `CLONE_NEW*` flags: all that `fork_with` and `fork_into_cgroup`
/// take from their caller. (`CLONE_NEWTIME` is clone3- and unshare-only.)
const NAMESPACES: u32 = {
    use linux_raw_sys::general as g;
    g::CLONE_NEWNS
        | g::CLONE_NEWCGROUP
        | g::CLONE_NEWUTS
        | g::CLONE_NEWIPC
        | g::CLONE_NEWUSER
        | g::CLONE_NEWPID
        | g::CLONE_NEWNET
};

/// `clone(2)` like `fork`, plus `CLONE_NEW*` namespace flags: with
/// `CLONE_NEWPID` the child is PID 1 of a new pid namespace. Other bits
/// of `namespaces` are ignored (a `CLONE_VM` would share our stack).
pub fn fork_with(namespaces: u32) -> Result<i32> {
    let flags = (linux_raw_sys::general::SIGCHLD | namespaces & NAMESPACES) as usize;
    // SAFETY: namespace flags only, no new stack and no tid pointers: the
    // child continues on a copy of our address space, exactly like
    // fork(2), and vigil has one thread (see `fork`).
    unsafe { syscall(nr::__NR_clone, [flags, 0, 0, 0, 0, 0]).map(|p| p as i32) }
}

/// `close_range(2)` of `first..=last`.
///
/// It closes fds whoever owns them: only for a process just forked (a
/// worker, an actor, a child about to exec), whose fds are copies of
/// vigil's, and which reaches none of those it closes again. An
/// `OwnedFd` it still held for one would close a number `open` may have
/// handed out again: the call names what it keeps instead.
pub fn close_range(first: u32, last: u32) -> Result<()> {
    // SAFETY: integer arguments only; what it does to fds is the contract
    // above.
    unsafe {
        syscall(
            nr::__NR_close_range,
            [first as usize, last as usize, 0, 0, 0, 0],
        )
        .map(drop)
    }
}

/// Close every fd from 3 up but `keep` (a child about to exec: see
/// `close_range`): with `close_range(2)`, or one by one up to the fd limit
/// where the kernel lacks it (before 5.9).
pub fn close_all_but(keep: BorrowedFd<'_>) {
    let keep = keep.as_raw_fd();
    let range = |first: u32, last: u32| close_range(first, last).is_ok();
    let (k, end) = (keep as u32, u32::MAX);
    let ok = match k {
        0..=2 => range(3, end),
        3 => range(4, end),
        _ => range(3, k - 1) && range(k + 1, end),
    };
    if !ok {
        let max = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(1 << 20)
            .min(1 << 20) as u32;
        for fd in 3..max {
            if fd != k {
                let _ = close_range(fd, fd);
            }
        }
    }
}

/// `setrlimit(2)` of resource number `resource` (`RLIMIT_*`, the same on
/// every arch); `u64::MAX` is `RLIM_INFINITY`.
pub fn set_rlimit(resource: u32, soft: u64, hard: u64) -> Result<()> {
    use rustix::process::{Resource as R, Rlimit};
    /// rustix's resources by number.
    const BY_NUMBER: [R; 16] = [
        R::Cpu,
        R::Fsize,
        R::Data,
        R::Stack,
        R::Core,
        R::Rss,
        R::Nproc,
        R::Nofile,
        R::Memlock,
        R::As,
        R::Locks,
        R::Sigpending,
        R::Msgqueue,
        R::Nice,
        R::Rtprio,
        R::Rttime,
    ];
    const {
        let mut i = 0;
        while i < BY_NUMBER.len() {
            assert!(BY_NUMBER[i] as usize == i, "RLIMIT_* out of order");
            i += 1;
        }
    }
    let r = *BY_NUMBER
        .get(resource as usize)
        .ok_or(super::Errno::INVAL)?;
    let lim = |v: u64| (v != u64::MAX).then_some(v);
    rustix::process::setrlimit(
        r,
        Rlimit {
            current: lim(soft),
            maximum: lim(hard),
        },
    )
}

/// `setresgid`, `setgroups` and `setresuid`, in the order that works.
pub fn set_ids(uid: Option<u32>, gid: Option<u32>, groups: Option<&[u32]>) -> Result<()> {
    use rustix::thread::{set_thread_res_gid, set_thread_res_uid};
    use rustix::{fs::Gid, fs::Uid};
    if let Some(g) = groups {
        super::creds::setgroups(g)?;
    }
    if let Some(g) = gid.map(Gid::from_raw_unchecked) {
        set_thread_res_gid(g, g, g)?;
    }
    if let Some(u) = uid.map(Uid::from_raw_unchecked) {
        set_thread_res_uid(u, u, u)?;
    }
    Ok(())
}

/// `unshare(2)` of namespace flags (`CLONE_NEW*`) only.
pub fn unshare_ns(flags: u32) -> Result<()> {
    use rustix::thread::UnshareFlags as U;
    let ns = U::from_bits_retain(flags) - (U::FILES | U::FS | U::SYSVSEM);
    // SAFETY: namespace flags only: the fd table (what rustix's contract
    // is about) stays shared, and vigil has one thread anyway.
    unsafe { rustix::thread::unshare_unsafe(ns) }
}

/// `mount_setattr(2)` (5.12+) with `AT_RECURSIVE`: set `attr_set` (the
/// `MOUNT_ATTR_*` bits) on the mount at `path` and every mount below it.
pub fn mount_setattr_recursive(path: &core::ffi::CStr, attr_set: u64) -> Result<()> {
    // struct mount_attr: attr_set, attr_clr, propagation, userns_fd.
    let attr = [attr_set, 0u64, 0, 0];
    // SAFETY: path is NUL-terminated; attr is a valid struct mount_attr of
    // the size passed.
    unsafe {
        syscall(
            nr::__NR_mount_setattr,
            [
                linux_raw_sys::general::AT_FDCWD as usize,
                path.as_ptr() as usize,
                linux_raw_sys::general::AT_RECURSIVE as usize,
                attr.as_ptr() as usize,
                core::mem::size_of_val(&attr),
                0,
            ],
        )
        .map(drop)
    }
}

/// `clone3(2)` like `fork_with`, with the child born in the cgroup whose
/// directory `cgroup` is open (`CLONE_INTO_CGROUP`, Linux 5.7+): it never
/// has to move itself there. ENOSYS (before 5.3) or EINVAL/E2BIG (before
/// 5.7) when the kernel cannot.
pub fn fork_into_cgroup(namespaces: u32, cgroup: BorrowedFd<'_>) -> Result<i32> {
    use linux_raw_sys::general::{CLONE_INTO_CGROUP, SIGCHLD};
    // struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal,
    // stack, stack_size, tls, set_tid, set_tid_size, cgroup.
    let args: [u64; 11] = [
        (namespaces & NAMESPACES) as u64 | CLONE_INTO_CGROUP,
        0,
        0,
        0,
        SIGCHLD as u64,
        0,
        0,
        0,
        0,
        0,
        cgroup.as_raw_fd() as u64,
    ];
    // SAFETY: args is a valid struct clone_args of the size passed, with
    // namespace flags only; no new stack and no tid pointers: the child
    // continues on a copy of our address space, exactly like fork(2), and
    // vigil has one thread (see `fork`).
    unsafe {
        syscall(
            nr::__NR_clone3,
            [
                args.as_ptr() as usize,
                core::mem::size_of_val(&args),
                0,
                0,
                0,
                0,
            ],
        )
        .map(|p| p as i32)
    }
}

/// `getpgid(0)`: our process group, 0 where it lies outside our pid
/// namespace (PID 1 started by the kernel, or by a container runtime).
// Raw: rustix's `getpgrp` wraps it in a non-zero type, which 0 would break.
pub fn pgrp() -> u32 {
    // SAFETY: integer arguments only.
    unsafe { syscall(nr::__NR_getpgid, [0, 0, 0, 0, 0, 0]).map_or(0, |g| g as u32) }
}
