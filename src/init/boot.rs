//! Early boot as PID 1: the kernel's filesystems, the console, and the
//! kernel command line.

use core::ffi::CStr;

use rustix::fd::{AsRawFd, IntoRawFd};
use rustix::fs::Mode;

use crate::log;
use crate::out::Sink;
use crate::service::mount::mount;
use crate::sys;
use crate::words::keywords;

/// Filesystems vigil mounts at boot: (source, target, type, flags, data).
/// cgroup2 comes after sysfs (its mount point is in it) and before the
/// rest: unmounted in reverse order at shutdown.
// Size: the data as C strings, not made NUL-terminated at run time
// (measured).
const EARLY: [(&str, &str, &str, u32, &CStr); 7] = [
    ("proc", "/proc", "proc", NOSUID | NODEV | NOEXEC, c""),
    ("sysfs", "/sys", "sysfs", NOSUID | NODEV | NOEXEC, c""),
    // nsdelegate: a cgroup namespace is a delegation boundary, so that a
    // service in one (`namespaces cgroup`, or one it makes itself) can
    // neither change its own group's limits nor move out of it, whatever
    // its rights on the files.
    (
        "cgroup2",
        "/sys/fs/cgroup",
        "cgroup2",
        NOSUID | NODEV | NOEXEC,
        c"nsdelegate",
    ),
    ("devtmpfs", "/dev", "devtmpfs", NOSUID, c"mode=0755"),
    (
        "devpts",
        "/dev/pts",
        "devpts",
        NOSUID | NOEXEC,
        c"gid=5,mode=0620,ptmxmode=0666",
    ),
    ("tmpfs", "/run", "tmpfs", NOSUID | NODEV, c"mode=0755"),
    ("tmpfs", "/tmp", "tmpfs", NOSUID | NODEV, c"mode=1777"),
];
const NOSUID: u32 = 2;
const NODEV: u32 = 4;
const NOEXEC: u32 = 8;

/// Which of `EARLY` vigil mounted itself (and so unmounts at shutdown).
#[derive(Clone, Copy, Debug, Default)]
pub struct Mounted(pub [bool; EARLY.len()]);

impl Mounted {
    /// The `i`th target of `EARLY`, if vigil mounted it.
    // Size: indexed, not an iterator adapter chain run backwards (measured).
    pub fn target(&self, i: usize) -> Option<&'static str> {
        self.0.get(i).is_some_and(|&m| m).then(|| EARLY[i].1)
    }
}

/// Mount what is not mounted yet. Failures are logged; boot goes on.
// Stack: out of line, its mount table is not part of PID 1's `main` frame
// for good (the stack probes touch every page of a frame).
#[inline(never)]
pub fn mount_early() -> Mounted {
    let mut done = Mounted::default();
    let mut table = [0u8; 16 * 1024];
    for (i, &(src, target, fstype, flags, data)) in EARLY.iter().enumerate() {
        // /proc first, so the others can be looked up in /proc/self/mounts.
        let mounted = if i == 0 {
            rustix::fs::access(&b"/proc/self/mounts"[..], rustix::fs::Access::EXISTS).is_ok()
        } else {
            let n = sys::read_file(b"/proc/self/mounts", &mut table).unwrap_or(0);
            is_mounted(&table[..n], target)
        };
        if mounted {
            continue;
        }
        if fstype == "cgroup2" && shares_machine_cgroups() {
            // A cgroup2 mount sets the one hierarchy's options (nsdelegate
            // on or off) for the whole machine when made from its cgroup
            // namespace: not a container's to decide.
            let mut l = log::start(log::Level::Warn);
            l.s("cgroup2: not mounted: this container shares the machine's cgroup namespace");
            l.end();
            continue;
        }
        let _ = rustix::fs::mkdir(target.as_bytes(), Mode::from_raw_mode(0o755));
        let mut r = mount(
            src.as_bytes(),
            target.as_bytes(),
            fstype.as_bytes(),
            flags,
            Some(data),
        );
        if r == Err(sys::Errno::INVAL) && !data.is_empty() {
            // An option this kernel does not know (nsdelegate: 4.13+).
            let mut l = log::start(log::Level::Warn);
            l.s("mount ").s(fstype).s(" on ").s(target).s(": without ");
            l.put(data.to_bytes());
            l.s(", which this kernel refuses");
            l.end();
            r = mount(
                src.as_bytes(),
                target.as_bytes(),
                fstype.as_bytes(),
                flags,
                Some(c""),
            );
        }
        match r {
            Ok(()) => done.0[i] = true,
            Err(e) => {
                let mut l = log::start(log::Level::Warn);
                l.s("mount ").s(fstype).s(" on ").s(target).s(": ");
                l.end_errno(e);
            }
        }
    }
    done
}

/// Is `target` a mount point in a `/proc/self/mounts` table?
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
pub fn is_mounted(table: &[u8], target: &str) -> bool {
    table
        .split(|&b| b == b'\n')
        .any(|line| line.split(|&b| b == b' ').nth(1) == Some(target.as_bytes()))
}

/// The inode numbers of the initial (the machine's own) pid, uts and
/// cgroup namespaces, fixed by the kernel (`include/linux/proc_ns.h`).
const PROC_PID_INIT_INO: u64 = 0xefff_fffc;
const PROC_UTS_INIT_INO: u64 = 0xefff_fffe;
const PROC_CGROUP_INIT_INO: u64 = 0xefff_fffb;

/// Is our namespace of this kind the machine's own? `Err` where /proc
/// cannot tell (ENOENT: a kernel without namespaces of that kind).
fn initial_ns(path: &[u8], ino: u64) -> Result<bool, sys::Errno> {
    Ok(rustix::fs::stat(path)?.st_ino == ino)
}

/// Is vigil PID 1 of a container (a pid namespace on a running machine),
/// rather than of the machine? Then the machine's mounts are not vigil's
/// to unmount or remount, nor its hostname and modules to change. When
/// /proc cannot say, a container is assumed (its mounts are left alone),
/// except on a kernel without pid namespaces, which cannot have one.
pub fn in_container() -> bool {
    match initial_ns(b"/proc/self/ns/pid", PROC_PID_INIT_INO) {
        Ok(initial) => !initial,
        Err(sys::Errno::NOENT) => false,
        Err(_) => true,
    }
}

/// Is vigil PID 1 of a container in the machine's own cgroup namespace
/// (`/proc` is mounted by now)?
fn shares_machine_cgroups() -> bool {
    in_container() && initial_ns(b"/proc/self/ns/cgroup", PROC_CGROUP_INIT_INO).unwrap_or(false)
}

/// Is our uts namespace the machine's own (a hostname set in it would be
/// the machine's)?
pub fn machine_uts() -> bool {
    initial_ns(b"/proc/self/ns/uts", PROC_UTS_INIT_INO).unwrap_or(true)
}

/// Make `/dev/console` our stdin, stdout and stderr, unless the kernel
/// (or whoever started us) already gave us open ones (`had_stdio`: none
/// of them was closed at `_start`); and log to the
/// kernel's log too if `kmsg` (not in a container: it is the machine's).
pub fn open_console(kmsg: bool, had_stdio: bool) {
    let console = if had_stdio {
        Err(sys::Errno::EXIST)
    } else {
        sys::open(
            b"/dev/console",
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY,
        )
    };
    match console {
        Ok(fd) => {
            let _ = rustix::stdio::dup2_stdin(&fd);
            let _ = rustix::stdio::dup2_stdout(&fd);
            let _ = rustix::stdio::dup2_stderr(&fd);
            if fd.as_raw_fd() <= 2 {
                // It took one of 0-2 itself (`fill_std` found nothing to
                // fill them with): that one stays, inherited by services.
                let _ = rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::empty());
                let _ = fd.into_raw_fd();
            }
        }
        Err(sys::Errno::EXIST) => {}
        Err(e) => {
            let mut l = log::start(log::Level::Warn);
            l.s("/dev/console: ");
            l.end_errno(e);
        }
    }
    if !kmsg {
        return;
    }
    if let Ok(fd) = sys::open(b"/dev/kmsg", rustix::fs::OFlags::WRONLY) {
        log::set_kmsg(fd);
    }
}

/// What vigil takes from the kernel command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cmdline<'a> {
    pub config: Option<&'a str>,
    pub test: Option<&'a str>,
    pub args: Option<&'a str>,
    /// `vigil.result=PATH`: the device of the result channel.
    pub result: Option<&'a str>,
    pub log: Option<log::Level>,
    /// `vigil.log=quiet`: errors only.
    pub quiet: bool,
}

keywords! {
    /// The `vigil.KEY=VALUE` keys.
    CmdlineKey {
        Config = "config",
        Test = "test",
        Args = "args",
        Result = "result",
        Log = "log",
    }
}

keywords! {
    /// The values of `vigil.log=`.
    LogValue { Quiet = "quiet", Info = "info", Debug = "debug" }
}

/// Parse the kernel command line, as bytes: the kernel passes whatever the
/// boot loader gave it. A word that is not UTF-8 is reported through
/// `bad` and skipped, and the rest still counts; so are unknown `vigil.*`
/// keys and bad values.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
pub fn parse_cmdline<'a>(
    text: &'a [u8],
    mut bad: impl FnMut(&'a [u8], &'static str),
) -> Cmdline<'a> {
    let mut c = Cmdline::default();
    for raw in words(text) {
        let Ok(word) = core::str::from_utf8(raw) else {
            bad(raw, "not UTF-8: skipped");
            continue;
        };
        let Some(rest) = word.strip_prefix("vigil.") else {
            continue;
        };
        // Size: the core's `cut`, not `split_once`, whose copy here the
        // crate split left to this one caller (measured).
        let (key, value) = crate::words::cut(rest, b'=');
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        // Size: one call of `bad` (inlined) for every error, not one
        // each (measured).
        let why = match CmdlineKey::of(key) {
            Some(CmdlineKey::Log) => match LogValue::of(value) {
                Some(v) => {
                    match v {
                        LogValue::Quiet => c.quiet = true,
                        LogValue::Info => c.log = Some(log::Level::Info),
                        LogValue::Debug => c.log = Some(log::Level::Debug),
                    }
                    continue;
                }
                None => "vigil.log takes quiet, info or debug",
            },
            Some(k) => {
                let slot = match k {
                    CmdlineKey::Config => &mut c.config,
                    CmdlineKey::Test => &mut c.test,
                    CmdlineKey::Args => &mut c.args,
                    CmdlineKey::Result => &mut c.result,
                    // Taken by the arm above.
                    CmdlineKey::Log => continue,
                };
                *slot = Some(value);
                continue;
            }
            None => "unknown vigil.* key",
        };
        bad(raw, why);
    }
    c
}

/// Split on spaces, keeping `"..."` together (as the kernel does). The
/// separators are ASCII, so a word of valid UTF-8 stays valid.
pub fn words(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = 0;
    core::iter::from_fn(move || {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\n' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        let mut quoted = false;
        while i < b.len() && (quoted || !(b[i] == b' ' || b[i] == b'\n' || b[i] == b'\t')) {
            if b[i] == b'"' {
                quoted = !quoted;
            }
            i += 1;
        }
        Some(&b[start..i])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline() {
        let mut bad = Vec::new();
        let c = parse_cmdline(
            b"console=ttyS0 vigil.test=/bin/t vigil.args=\"a b  c\" vigil.log=debug vigil.frob=1 quiet vigil.result=/dev/vport0p1\n",
            |w, _| bad.push(w),
        );
        assert_eq!(c.test, Some("/bin/t"));
        assert_eq!(c.result, Some("/dev/vport0p1"));
        assert_eq!(c.args, Some("a b  c"));
        assert_eq!(c.log, Some(log::Level::Debug));
        assert_eq!(bad, vec![&b"vigil.frob=1"[..]]);
    }

    #[test]
    fn cmdline_every_key_and_log_value() {
        let mut bad = Vec::new();
        let c = parse_cmdline(
            b"vigil.config=/c vigil.log=info vigil.log=loud vigil.Log=quiet vigil.logx vigil.",
            |w, why| bad.push((w, why)),
        );
        assert_eq!(c.config, Some("/c"));
        assert_eq!((c.log, c.quiet), (Some(log::Level::Info), false));
        let log = "vigil.log takes quiet, info or debug";
        let key = "unknown vigil.* key";
        assert_eq!(
            bad,
            vec![
                (&b"vigil.log=loud"[..], log),
                (&b"vigil.Log=quiet"[..], key),
                (&b"vigil.logx"[..], key),
                (&b"vigil."[..], key),
            ]
        );
        let c = parse_cmdline(b"vigil.log=quiet vigil.log=", |_, _| {});
        assert!(c.quiet);
        assert_eq!(c.log, None);
    }

    #[test]
    fn cmdline_bad_bytes_skip_one_word() {
        let mut bad = Vec::new();
        let c = parse_cmdline(
            b"ro x=\xff\xfe vigil.config=/etc/c.conf vigil.test=/bin/\xc3 vigil.log=quiet",
            |w, why| bad.push((w, why)),
        );
        assert_eq!(c.config, Some("/etc/c.conf"));
        assert_eq!(c.test, None);
        assert!(c.quiet);
        assert_eq!(
            bad,
            vec![
                (&b"x=\xff\xfe"[..], "not UTF-8: skipped"),
                (&b"vigil.test=/bin/\xc3"[..], "not UTF-8: skipped"),
            ]
        );
    }

    #[test]
    fn mounts_table() {
        let t = b"proc /proc proc rw 0 0\nsysfs /sys sysfs rw 0 0\n";
        assert!(is_mounted(t, "/sys"));
        assert!(!is_mounted(t, "/run"));
    }
}
