//! Named syscall groups (`@basic-io`, ...), the syscalls that only the
//! legacy x86_64 ABI has, and the table of path-taking syscalls.
//!
//! Groups list names for every arch at once: a member an arch does not have
//! is skipped when a policy for that arch is parsed.

use crate::words;

/// Reading, writing and shuffling data between descriptors already open.
const BASIC_IO: &str = "read write readv writev pread64 pwrite64 preadv pwritev preadv2 \
    pwritev2 lseek close close_range dup dup2 dup3 fcntl pipe pipe2 splice tee vmsplice \
    sendfile copy_file_range";

/// Opening, inspecting and changing files and directories.
const FILE_SYSTEM: &str = "open openat openat2 creat close stat fstat lstat newfstatat \
    statx statfs fstatfs access faccessat faccessat2 getcwd chdir fchdir mkdir mkdirat \
    rmdir unlink unlinkat rename renameat renameat2 link linkat symlink symlinkat \
    readlink readlinkat chmod fchmod fchmodat fchmodat2 chown fchown lchown fchownat \
    truncate ftruncate fallocate fadvise64 readahead fsync fdatasync sync_file_range \
    getdents getdents64 utime utimes utimensat futimesat umask mknod mknodat flock \
    getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr setxattr lsetxattr \
    fsetxattr removexattr lremovexattr fremovexattr";

/// Waiting for descriptors to become ready, and event descriptors.
const IO_EVENT: &str = "poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl \
    epoll_wait epoll_pwait epoll_pwait2 eventfd eventfd2 inotify_init inotify_init1 \
    inotify_add_watch inotify_rm_watch";

/// System V and POSIX message queues, semaphores and shared memory.
const IPC: &str = "shmget shmat shmdt shmctl semget semop semtimedop semctl msgget \
    msgsnd msgrcv msgctl mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify \
    mq_getsetattr";

/// Sockets: creating, connecting, sending and receiving.
const NETWORK_IO: &str = "socket socketpair bind listen accept accept4 connect shutdown \
    getsockname getpeername getsockopt setsockopt sendto recvfrom sendmsg recvmsg \
    sendmmsg recvmmsg";

/// Creating, running, waiting for and describing processes and threads.
const PROCESS: &str = "fork vfork clone clone3 execve execveat exit exit_group wait4 \
    waitid getpid getppid gettid getuid geteuid getgid getegid getresuid getresgid \
    getgroups getpgid getpgrp getsid setsid setpgid getrlimit prlimit64 getrusage \
    getpriority capget prctl arch_prctl set_tid_address set_robust_list get_robust_list \
    rseq futex futex_waitv futex_wake futex_wait futex_requeue sched_yield \
    sched_getaffinity sched_getparam sched_getscheduler sched_get_priority_max \
    sched_get_priority_min getcpu pidfd_open restart_syscall";

/// Handling, blocking, waiting for and sending signals.
const SIGNAL: &str = "rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending \
    rt_sigsuspend rt_sigtimedwait rt_sigqueueinfo rt_tgsigqueueinfo sigaltstack signalfd \
    signalfd4 pause kill tkill tgkill pidfd_send_signal";

/// Reading clocks, sleeping and timers.
const TIMER: &str = "clock_gettime clock_getres clock_nanosleep nanosleep gettimeofday \
    time times alarm getitimer setitimer timer_create timer_settime timer_gettime \
    timer_getoverrun timer_delete timerfd_create timerfd_settime timerfd_gettime";

/// Mapping, protecting and advising on memory.
const MEMORY: &str = "brk mmap munmap mremap mprotect madvise mincore msync mlock mlock2 \
    munlock mlockall munlockall membarrier memfd_create pkey_alloc pkey_free \
    pkey_mprotect";

/// What ordinary daemons need besides the groups `SYSTEM_SERVICE` unites.
const SERVICE_EXTRA: &str = "getrandom uname sysinfo ioctl sync syncfs ioprio_get \
    ioprio_set sched_setaffinity setpriority setrlimit capset setuid setgid setreuid \
    setregid setresuid setresgid setgroups setfsuid setfsgid";

/// A broad union for ordinary daemons. Names may repeat (`close` is in two
/// of the parts); a repeated member gets the same rule, which is no conflict.
const SYSTEM_SERVICE: &[&str] = &[
    BASIC_IO,
    FILE_SYSTEM,
    IO_EVENT,
    IPC,
    NETWORK_IO,
    PROCESS,
    SIGNAL,
    TIMER,
    MEMORY,
    SERVICE_EXTRA,
];

/// Every group, by the name written after `@`: its members are the
/// space-separated names of its parts.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("basic-io", &[BASIC_IO]),
    ("file-system", &[FILE_SYSTEM]),
    ("io-event", &[IO_EVENT]),
    ("ipc", &[IPC]),
    ("memory", &[MEMORY]),
    ("network-io", &[NETWORK_IO]),
    ("process", &[PROCESS]),
    ("signal", &[SIGNAL]),
    ("system-service", SYSTEM_SERVICE),
    ("timer", &[TIMER]),
];

/// The members of a group: the words of its parts.
#[derive(Default)]
pub struct Members<'a> {
    parts: core::slice::Iter<'static, &'static str>,
    rest: &'a str,
}

impl<'a> Members<'a> {
    /// The words of `list` alone.
    pub fn of(list: &'a str) -> Self {
        Members {
            parts: [].iter(),
            rest: list,
        }
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            if !self.rest.is_empty() {
                let (word, rest) = words::cut(self.rest, b' ');
                self.rest = rest;
                return Some(word);
            }
            self.rest = self.parts.next()?;
        }
    }
}

/// The syscall names of group `name` (without the `@`).
pub fn group(name: &str) -> Option<Members<'static>> {
    let parts = GROUPS.iter().find(|(n, _)| *n == name)?.1;
    Some(Members {
        parts: parts.iter(),
        rest: "",
    })
}

/// Syscalls of the x86_64 ABI that aarch64 does not have: mostly legacy
/// calls newer arches replaced with `*at` and similar variants, space-separated. A policy naming one of them for aarch64 gets
/// `SyscallNotOnArch` rather than `UnknownSyscall`.
pub const LEGACY_X86_ONLY: &str = "_sysctl access afs_syscall alarm arch_prctl chmod \
    chown creat create_module dup2 epoll_create epoll_ctl_old epoll_wait epoll_wait_old \
    eventfd fork futimesat get_kernel_syms get_thread_area getdents getpgrp getpmsg \
    inotify_init ioperm iopl lchown link lstat mkdir mknod modify_ldt open pause pipe \
    poll putpmsg query_module readlink rename rmdir security select set_thread_area \
    signalfd stat symlink sysfs time tuxcall unlink uretprobe uselib ustat utime utimes \
    vfork vserver";

/// Is `name` a syscall only the legacy x86_64 ABI has?
pub fn is_legacy_x86_only(name: &str) -> bool {
    words::find(LEGACY_X86_ONLY, name).is_some()
}

/// The syscall that replaces legacy syscall `name` on newer arches.
pub fn replacement(name: &str) -> Option<&'static str> {
    // `old:new` pairs.
    const MAP: &str = "access:faccessat alarm:setitimer chmod:fchmodat chown:fchownat \
        creat:openat dup2:dup3 epoll_create:epoll_create1 epoll_wait:epoll_pwait \
        eventfd:eventfd2 fork:clone futimesat:utimensat getdents:getdents64 \
        getpgrp:getpgid inotify_init:inotify_init1 lchown:fchownat link:linkat \
        lstat:newfstatat mkdir:mkdirat mknod:mknodat open:openat pause:rt_sigsuspend \
        pipe:pipe2 poll:ppoll readlink:readlinkat rename:renameat2 rmdir:unlinkat \
        select:pselect6 signalfd:signalfd4 stat:newfstatat symlink:symlinkat \
        time:clock_gettime unlink:unlinkat utime:utimensat utimes:utimensat vfork:clone";
    let mut rest = MAP;
    while !rest.is_empty() {
        let (pair, more) = words::cut(rest, b' ');
        let (old, new) = words::cut(pair, b':');
        if old == name {
            return Some(new);
        }
        rest = more;
    }
    None
}

/// One path argument of a path-taking syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathArg {
    /// The index of the directory descriptor the path is relative to (the
    /// `*at` calls); `None` for paths relative to the working directory.
    pub dirfd: Option<u8>,
    /// The index of the path argument.
    pub path: u8,
}

const fn cwd(path: u8) -> PathArg {
    PathArg { dirfd: None, path }
}

const fn at(dirfd: u8, path: u8) -> PathArg {
    PathArg {
        dirfd: Some(dirfd),
        path,
    }
}

const CWD0: &[PathArg] = &[cwd(0)];
const CWD1: &[PathArg] = &[cwd(1)];
const AT01: &[PathArg] = &[at(0, 1)];
const CWD0_CWD1: &[PathArg] = &[cwd(0), cwd(1)];
const AT01_AT23: &[PathArg] = &[at(0, 1), at(2, 3)];
const AT12: &[PathArg] = &[at(1, 2)];
const AT34: &[PathArg] = &[at(3, 4)];

/// The space-separated names of the syscalls taking each kind of path
/// arguments.
const PATH_ARGS: &[(&str, &[PathArg])] = &[
    (
        "open creat truncate chdir chroot mkdir rmdir unlink chmod chown lchown stat \
        lstat access readlink mknod execve statfs uselib acct swapon swapoff utime \
        utimes umount2 getxattr lgetxattr setxattr lsetxattr listxattr llistxattr \
        removexattr lremovexattr",
        CWD0,
    ),
    (
        "openat openat2 mkdirat unlinkat fchmodat fchmodat2 fchownat newfstatat statx \
        faccessat faccessat2 readlinkat mknodat utimensat execveat futimesat \
        name_to_handle_at open_tree open_tree_attr fspick mount_setattr getxattrat \
        setxattrat listxattrat removexattrat file_getattr file_setattr",
        AT01,
    ),
    ("rename link pivot_root", CWD0_CWD1),
    ("renameat renameat2 linkat move_mount", AT01_AT23),
    ("symlink mount inotify_add_watch quotactl", CWD1),
    ("symlinkat", AT12),
    ("fanotify_mark", AT34),
];

/// The path arguments syscall `name` resolves, in argument order; empty if
/// it takes none. (`symlink`'s target is stored, not looked up: only the
/// new link's path counts.)
pub fn path_args(name: &str) -> &'static [PathArg] {
    PATH_ARGS
        .iter()
        .find(|(names, _)| words::find(names, name).is_some())
        .map_or(&[], |(_, args)| args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{AARCH64, X86_64};

    #[test]
    fn every_member_exists_somewhere() {
        for (name, _) in GROUPS {
            assert!(group(name).unwrap().count() > 0, "{name}");
            for m in group(name).unwrap() {
                assert!(
                    X86_64.nr(m).is_some() || AARCH64.nr(m).is_some(),
                    "@{name}: {m:?}"
                );
            }
        }
    }

    #[test]
    fn groups_by_name() {
        assert!(group("basic-io").unwrap().any(|m| m == "read"));
        assert!(group("network-io").unwrap().any(|m| m == "connect"));
        assert!(group("@basic-io").is_none());
        assert!(group("nope").is_none());
        for part in ["basic-io", "file-system", "memory", "timer", "signal"] {
            for m in group(part).unwrap() {
                assert!(group("system-service").unwrap().any(|s| s == m), "{m}");
            }
        }
        assert!(group("system-service").unwrap().any(|m| m == "getrandom"));
    }

    #[test]
    fn legacy_list_is_exactly_what_aarch64_lacks() {
        for (name, _) in X86_64.syscalls() {
            assert_eq!(
                AARCH64.nr(name).is_none(),
                is_legacy_x86_only(name),
                "{name}"
            );
        }
        for name in LEGACY_X86_ONLY.split(' ') {
            assert!(X86_64.nr(name).is_some(), "{name}");
        }
        assert_eq!(replacement("open"), Some("openat"));
        for name in LEGACY_X86_ONLY.split(' ') {
            if let Some(r) = replacement(name) {
                assert!(AARCH64.nr(r).is_some(), "{name} -> {r}");
            }
        }
    }

    #[test]
    fn lists_are_single_spaced() {
        let mut lists: Vec<&str> = GROUPS.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        lists.push(LEGACY_X86_ONLY);
        for list in lists {
            assert!(list.split(' ').all(|n| !n.is_empty()), "{list:?}");
        }
        assert_eq!(replacement("vfork"), Some("clone"));
        assert_eq!(replacement("access"), Some("faccessat"));
        assert_eq!(replacement("openat"), None);
        assert_eq!(replacement(""), None);
        assert!(is_legacy_x86_only("_sysctl") && is_legacy_x86_only("vserver"));
        assert!(!is_legacy_x86_only("") && !is_legacy_x86_only("openat"));
    }

    #[test]
    fn path_arguments() {
        assert_eq!(
            path_args("open"),
            &[PathArg {
                dirfd: None,
                path: 0
            }]
        );
        assert_eq!(
            path_args("openat"),
            &[PathArg {
                dirfd: Some(0),
                path: 1
            }]
        );
        assert_eq!(
            path_args("renameat2"),
            &[
                PathArg {
                    dirfd: Some(0),
                    path: 1
                },
                PathArg {
                    dirfd: Some(2),
                    path: 3
                }
            ]
        );
        assert_eq!(
            path_args("rename"),
            &[
                PathArg {
                    dirfd: None,
                    path: 0
                },
                PathArg {
                    dirfd: None,
                    path: 1
                }
            ]
        );
        assert_eq!(
            path_args("symlink"),
            &[PathArg {
                dirfd: None,
                path: 1
            }]
        );
        assert_eq!(
            path_args("symlinkat"),
            &[PathArg {
                dirfd: Some(1),
                path: 2
            }]
        );
        assert_eq!(
            path_args("mount"),
            &[PathArg {
                dirfd: None,
                path: 1
            }]
        );
        assert_eq!(path_args("fanotify_mark"), &[at(3, 4)]);
        assert_eq!(path_args("lremovexattr"), &[cwd(0)]);
        assert_eq!(path_args("file_setattr"), &[at(0, 1)]);
        assert!(path_args("").is_empty());
        assert!(path_args("getppid").is_empty());
        assert!(path_args("read").is_empty());
    }

    #[test]
    fn path_syscalls_exist() {
        for (names, _) in PATH_ARGS {
            for name in names.split(' ') {
                assert!(
                    X86_64.nr(name).is_some() || AARCH64.nr(name).is_some(),
                    "{name:?}"
                );
            }
        }
        for (name, _) in X86_64.syscalls().chain(AARCH64.syscalls()) {
            for a in path_args(name) {
                assert!(a.path < 6 && a.dirfd.is_none_or(|d| d < 6), "{name}");
            }
        }
    }
}
