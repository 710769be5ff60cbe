//! Named syscall groups (`@basic-io`, ...) and the table of path-taking
//! syscalls. (Stub: being written.)

/// Where a path-taking syscall keeps its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathArg {
    /// The index of the `dirfd` argument, for the `*at` calls.
    pub dirfd: Option<u8>,
    /// The index of the path argument.
    pub path: u8,
}

/// The path arguments syscall `name` resolves (empty if none).
pub fn path_args(name: &str) -> &'static [PathArg] {
    const P0: &[PathArg] = &[PathArg { dirfd: None, path: 0 }];
    const AT1: &[PathArg] = &[PathArg { dirfd: Some(0), path: 1 }];
    match name {
        "mkdir" | "open" | "creat" | "rmdir" | "unlink" | "execve" => P0,
        "mkdirat" | "openat" | "unlinkat" | "execveat" => AT1,
        _ => &[],
    }
}

/// The syscall names of group `name` (without the `@`).
pub fn group(name: &str) -> Option<&'static [&'static str]> {
    let _ = name;
    None
}
