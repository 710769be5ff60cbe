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

/// The path argument of syscall `name`, if it takes one.
pub fn path_arg(name: &str) -> Option<PathArg> {
    let _ = name;
    None
}

/// The syscall names of group `name` (without the `@`).
pub fn group(name: &str) -> Option<&'static [&'static str]> {
    let _ = name;
    None
}
