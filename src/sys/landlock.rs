//! Landlock (landlock(7)): unprivileged filesystem access control, a second
//! layer beside the seccomp path rules.

use super::{nr, syscall, Result};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

pub const EXECUTE: u64 = 1;
pub const WRITE_FILE: u64 = 1 << 1;
pub const READ_FILE: u64 = 1 << 2;
pub const READ_DIR: u64 = 1 << 3;
/// Everything a read-only path allows.
pub const READ: u64 = EXECUTE | READ_FILE | READ_DIR;

/// Filesystem rights per ABI version (index = version - 1).
const FS_ALL: [u64; 5] = [
    (1 << 13) - 1,
    (1 << 14) - 1,
    (1 << 15) - 1,
    (1 << 15) - 1,
    (1 << 16) - 1,
];

const CREATE_RULESET_VERSION: usize = 1;
const RULE_PATH_BENEATH: usize = 1;

/// `landlock_create_ruleset(NULL, 0, VERSION)`: the kernel's Landlock ABI
/// version, or an error (EOPNOTSUPP: disabled at boot; ENOSYS: not built).
pub fn abi_version() -> Result<u32> {
    // SAFETY: a version query takes no pointer.
    unsafe {
        syscall(
            nr::__NR_landlock_create_ruleset,
            [0, 0, CREATE_RULESET_VERSION, 0, 0, 0],
        )
        .map(|v| v as u32)
    }
}

/// Every filesystem right the kernel's ABI `version` knows.
pub fn fs_all(version: u32) -> u64 {
    FS_ALL[(version.clamp(1, FS_ALL.len() as u32) - 1) as usize]
}

/// `landlock_create_ruleset(2)` handling `handled` filesystem rights.
pub fn create_ruleset(handled: u64) -> Result<OwnedFd> {
    let attr = [handled];
    // SAFETY: attr is a valid landlock_ruleset_attr of its first (v1)
    // field; the fd returned is new, and ours.
    unsafe {
        syscall(
            nr::__NR_landlock_create_ruleset,
            [attr.as_ptr() as usize, 8, 0, 0, 0, 0],
        )
        .map(|fd| OwnedFd::from_raw_fd(fd as i32))
    }
}

/// `landlock_add_rule(2)`: allow `access` beneath the directory `dir_fd`.
pub fn allow_beneath(ruleset: BorrowedFd<'_>, dir: BorrowedFd<'_>, access: u64) -> Result<()> {
    // struct landlock_path_beneath_attr is packed: u64 then s32.
    let mut attr = [0u8; 12];
    attr[..8].copy_from_slice(&access.to_ne_bytes());
    attr[8..].copy_from_slice(&dir.as_raw_fd().to_ne_bytes());
    // SAFETY: attr is a valid packed landlock_path_beneath_attr.
    unsafe {
        syscall(
            nr::__NR_landlock_add_rule,
            [
                ruleset.as_raw_fd() as usize,
                RULE_PATH_BENEATH,
                attr.as_ptr() as usize,
                0,
                0,
                0,
            ],
        )
        .map(drop)
    }
}

/// `landlock_restrict_self(2)`: enforce the ruleset on this thread.
pub fn restrict_self(ruleset: BorrowedFd<'_>) -> Result<()> {
    // SAFETY: integers only.
    unsafe {
        syscall(
            nr::__NR_landlock_restrict_self,
            [ruleset.as_raw_fd() as usize, 0, 0, 0, 0, 0],
        )
        .map(drop)
    }
}

/// Enforce Landlock on this process: read-only beneath each of `ro`, all
/// rights beneath each of `rw`, nothing elsewhere (a service's
/// `landlock-read`/`landlock-write`, and the monitor's Landlock actor with
/// the same lists). Sets no_new_privs, which Landlock requires.
pub fn restrict_beneath(ro: &[&str], rw: &[&str]) -> Result<()> {
    let version = abi_version()?;
    let all = fs_all(version);
    let rs = create_ruleset(all)?;
    let lists: [(&[&str], u64); 2] = [(ro, READ), (rw, all)];
    for (paths, access) in lists {
        for p in paths {
            let fd = super::open(p.as_bytes(), rustix::fs::OFlags::PATH)?;
            // Files take only file rights; directories take all of them.
            let is_dir = rustix::fs::fstat(&fd)
                .map(|st| st.st_mode & 0o170000 == 0o040000)
                .unwrap_or(true);
            let access = if is_dir {
                access
            } else {
                access & (EXECUTE | WRITE_FILE | READ_FILE | (1 << 14))
            };
            allow_beneath(rs.as_fd(), fd.as_fd(), access)?;
        }
    }
    rustix::thread::set_no_new_privs(true)?;
    restrict_self(rs.as_fd())
}
