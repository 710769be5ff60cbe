//! Confinement applied in the child between fork and exec, in the order
//! the kernel requires: cgroup, mounts (while still privileged), root,
//! Landlock, then capabilities around the uid change. Allocation-free:
//! every path is a slice of the config.

use linux_raw_sys::general as g;
use rustix::fd::AsFd;
use rustix::fs::Mode;

use crate::out::{Buf, Sink};
use crate::service::mount::{mount, unmount};
use crate::sys::{self, caps, landlock, proc, Errno};

/// Most paths per list (read-only binds, Landlock lists).
pub const MAX_PATHS: usize = crate::config::MAX_PATHS;

/// How strongly a missing Landlock is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Warn and go on without it.
    Optional,
    /// Refuse to start the service.
    Required,
}

/// One service's confinement. `Default` confines nothing beyond
/// no_new_privs.
#[derive(Clone, Copy, Debug)]
pub struct Sandbox<'a> {
    /// `PR_SET_NO_NEW_PRIVS` (default on; off only when stated, for
    /// services that must run setuid binaries).
    pub no_new_privs: bool,
    /// Capabilities kept (a bit mask): the bounding set is cut to them and,
    /// across a uid change, they stay as ambient capabilities. `None`:
    /// untouched (root keeps all; another uid has none).
    pub caps: Option<u64>,
    /// `CLONE_NEW*` flags, passed to the fork itself (a new pid namespace
    /// applies only to children).
    pub namespaces: u32,
    /// Paths bind-mounted read-only onto themselves (needs a mount namespace).
    pub ro_binds: &'a [&'a str],
    /// A private tmpfs on `/tmp`.
    pub private_tmp: bool,
    /// The service's root directory.
    pub root: Option<&'a str>,
    /// Remount the root read-only (with `root`).
    pub read_only: bool,
    pub landlock_ro: &'a [&'a str],
    pub landlock_rw: &'a [&'a str],
    pub landlock: Need,
    /// The cgroup directory to join (created by vigil beforehand).
    pub cgroup: Option<&'a [u8]>,
    /// Root with CAP_SYS_ADMIN cut: the kernel's control files it owns
    /// are masked (`mask`). Needs a mount namespace.
    pub mask: bool,
}

impl Default for Sandbox<'_> {
    fn default() -> Self {
        Sandbox {
            no_new_privs: true,
            caps: None,
            namespaces: 0,
            ro_binds: &[],
            private_tmp: false,
            root: None,
            read_only: false,
            landlock_ro: &[],
            landlock_rw: &[],
            landlock: Need::Optional,
            cgroup: None,
            mask: false,
        }
    }
}

/// The step that failed, for the service's error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Cgroup = 1,
    Mounts,
    Root,
    Landlock,
    Capabilities,
    Ids,
    Masks,
    UserNs,
}

impl Step {
    pub fn name(code: u32) -> &'static str {
        match code {
            1 => "joining its cgroup",
            2 => "setting up its mounts",
            3 => "entering its root",
            4 => "applying Landlock",
            5 => "setting capabilities",
            7 => "masking /proc/sys, /sys and /dev (mount_setattr: Linux 5.12+)",
            8 => "mapping its ids into its user namespace",
            _ => "changing uid/gid",
        }
    }
}

fn at(step: Step) -> impl Fn(Errno) -> (Step, Errno) {
    move |e| (step, e)
}

/// Everything before the uid change: cgroup, mounts, root, Landlock.
/// `in_cgroup`: the child was born in its cgroup (`CLONE_INTO_CGROUP`);
/// otherwise it moves itself there first.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
pub fn enter(sb: &Sandbox, in_cgroup: bool) -> Result<(), (Step, Errno)> {
    if let (Some(cg), false) = (sb.cgroup, in_cgroup) {
        let mut p = Buf::<256>::new();
        p.put(cg);
        p.s("/cgroup.procs");
        let fd = sys::open(p.as_bytes(), rustix::fs::OFlags::WRONLY).map_err(at(Step::Cgroup))?;
        sys::write_all(fd.as_fd(), b"0").map_err(at(Step::Cgroup))?;
    }
    // Its root is the cgroup the child is in now: with nsdelegate (PID 1
    // mounts cgroup2 with it) the service can then neither raise its
    // limits nor leave its group, whatever its rights on the files.
    if sb.namespaces & g::CLONE_NEWCGROUP != 0 {
        proc::unshare_ns(g::CLONE_NEWCGROUP).map_err(at(Step::Cgroup))?;
    }
    if sb.namespaces & linux_raw_sys::general::CLONE_NEWNS != 0 {
        mounts(sb).map_err(at(Step::Mounts))?;
    }
    if let Some(root) = sb.root {
        enter_root(
            root,
            sb.namespaces & linux_raw_sys::general::CLONE_NEWNS != 0,
        )
        .map_err(at(Step::Root))?;
        if sb.namespaces & linux_raw_sys::general::CLONE_NEWPID != 0 {
            // Our own /proc: only our pid namespace is in it.
            let _ = rustix::fs::mkdir(&b"/proc"[..], Mode::from_raw_mode(0o555));
            mount_proc().map_err(at(Step::Root))?;
        }
    } else if sb.namespaces & linux_raw_sys::general::CLONE_NEWPID != 0
        && sb.namespaces & linux_raw_sys::general::CLONE_NEWNS != 0
    {
        mount_proc().map_err(at(Step::Mounts))?;
    }
    if sb.mask {
        mask().map_err(at(Step::Masks))?;
    }
    if !sb.landlock_ro.is_empty() || !sb.landlock_rw.is_empty() {
        match landlock::restrict_beneath(sb.landlock_ro, sb.landlock_rw) {
            Ok(()) => {}
            Err(e)
                if sb.landlock == Need::Optional
                    && matches!(e, Errno::NOSYS | Errno::OPNOTSUPP) => {}
            Err(e) => return Err((Step::Landlock, e)),
        }
    }
    Ok(())
}

/// The new mount namespace: private propagation, read-only binds, /tmp.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn mounts(sb: &Sandbox) -> Result<(), Errno> {
    mount(b"", b"/", b"", g::MS_PRIVATE | g::MS_REC, None)?;
    let prefix = sb.root.unwrap_or("");
    for p in sb.ro_binds {
        let mut full = Buf::<512>::new();
        full.s(prefix).s(p);
        let full = full.as_bytes();
        mount(full, full, b"", g::MS_BIND, None)?;
        remount_ro(full)?;
    }
    if sb.private_tmp {
        let mut tmp = Buf::<512>::new();
        tmp.s(prefix).s("/tmp");
        let _ = rustix::fs::mkdir(tmp.as_bytes(), Mode::from_raw_mode(0o1777));
        mount(
            b"tmpfs",
            tmp.as_bytes(),
            b"tmpfs",
            g::MS_NOSUID | g::MS_NODEV,
            Some(c"mode=1777"),
        )?;
    }
    if let (Some(root), true) = (sb.root, sb.read_only) {
        // A bind of the root onto itself is a mount point we can remount.
        bind_recursive(root)?;
        remount_ro(root.as_bytes())?;
    }
    Ok(())
}

fn mount_proc() -> Result<(), Errno> {
    mount(b"proc", b"/proc", b"proc", g::MS_NOSUID | g::MS_NODEV, None)
}

fn bind_recursive(root: &str) -> Result<(), Errno> {
    let r = root.as_bytes();
    mount(r, r, b"", g::MS_BIND | g::MS_REC, None)
}

/// A bind mount made read-only.
fn remount_ro(p: &[u8]) -> Result<(), Errno> {
    mount(
        b"",
        p,
        b"",
        g::MS_REMOUNT | g::MS_BIND | g::MS_RDONLY,
        Some(c""),
    )
}

/// pivot_root into `root` when we have our own mount namespace and the
/// kernel allows it (not from the initramfs rootfs); chroot otherwise.
/// Either way the bounding set later loses CAP_SYS_CHROOT unless kept,
/// which closes the classic chroot escape.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
fn enter_root(root: &str, own_ns: bool) -> Result<(), Errno> {
    // Size: `sys::chdir` and C string literals, not rustix's generic path
    // conversion per argument type (measured).
    sys::chdir(root.as_bytes())?;
    if own_ns
        && bind_recursive(root).is_ok()
        && sys::chdir(root.as_bytes()).is_ok()
        && rustix::process::pivot_root(c".", c".").is_ok()
    {
        unmount(b".", rustix::mount::UnmountFlags::DETACH)?;
        return rustix::process::chdir(c"/");
    }
    rustix::process::chroot(c".")?;
    rustix::process::chdir(c"/")
}

/// What uid 0 owns without needing a capability and must not reach once
/// CAP_SYS_ADMIN is gone: sysctls (checked by file owner: core_pattern
/// would run a program as root outside every namespace), the sysrq
/// trigger, IRQ, bus, filesystem, ACPI and sound settings, and all of
/// sysfs (cgroup limits and membership included). Read-only, with every
/// mount below them.
const READ_ONLY: [&core::ffi::CStr; 8] = [
    c"/proc/sys",
    c"/proc/sysrq-trigger",
    c"/proc/irq",
    c"/proc/bus",
    c"/proc/fs",
    c"/proc/acpi",
    c"/proc/asound",
    c"/sys",
];

/// The device nodes a service keeps: (name, major, minor).
const DEVICES: [(&core::ffi::CStr, u32, u32); 6] = [
    (c"/dev/null", 1, 3),
    (c"/dev/zero", 1, 5),
    (c"/dev/full", 1, 7),
    (c"/dev/random", 1, 8),
    (c"/dev/urandom", 1, 9),
    (c"/dev/tty", 5, 0),
];

/// `/dev` links to what they stand for.
const DEV_LINKS: [(&core::ffi::CStr, &core::ffi::CStr); 5] = [
    (c"/proc/self/fd", c"/dev/fd"),
    (c"/proc/self/fd/0", c"/dev/stdin"),
    (c"/proc/self/fd/1", c"/dev/stdout"),
    (c"/proc/self/fd/2", c"/dev/stderr"),
    (c"pts/ptmx", c"/dev/ptmx"),
];

/// Mask what root without CAP_SYS_ADMIN could still use to reach the host
/// (the way container runtimes do): `READ_ONLY` read-only in its mount
/// namespace, and a `/dev` of its own with only harmless nodes (root owns
/// the disks' nodes, `/dev/kmsg`, the consoles). Without CAP_SYS_ADMIN it
/// cannot unmount or remount them; in a user namespace of its own they are
/// locked. Paths that do not exist (a `root` without them) are skipped.
// Size: out of line, the binary is smaller (measured alike).
#[inline(never)]
fn mask() -> Result<(), Errno> {
    for p in READ_ONLY {
        let b = p.to_bytes();
        match mount(b, b, b"", g::MS_BIND | g::MS_REC, None) {
            Err(Errno::NOENT) => continue,
            r => r?,
        }
        proc::mount_setattr_recursive(p, g::MOUNT_ATTR_RDONLY as u64)?;
    }
    match rustix::fs::stat(c"/dev") {
        Ok(st) if st.st_mode & 0o170000 == 0o040000 => {}
        _ => return Ok(()),
    }
    mount(
        b"tmpfs",
        b"/dev",
        b"tmpfs",
        g::MS_NOSUID | g::MS_NOEXEC,
        Some(c"mode=0755"),
    )?;
    // The modes exactly as given, whatever vigil's umask.
    let old = rustix::process::umask(rustix::fs::Mode::empty());
    let r = populate_dev();
    rustix::process::umask(old);
    r
}

fn populate_dev() -> Result<(), Errno> {
    use rustix::fs::{makedev, mknodat, symlink, FileType, CWD};
    for (p, major, minor) in DEVICES {
        mknodat(
            CWD,
            p,
            FileType::CharacterDevice,
            Mode::from_raw_mode(0o666),
            makedev(major, minor),
        )?;
    }
    for (target, link) in DEV_LINKS {
        symlink(target, link)?;
    }
    rustix::fs::mkdir(c"/dev/shm", Mode::from_raw_mode(0o1777))?;
    rustix::fs::mkdir(c"/dev/pts", Mode::from_raw_mode(0o755))?;
    mount(
        b"devpts",
        b"/dev/pts",
        b"devpts",
        g::MS_NOSUID | g::MS_NOEXEC,
        Some(c"newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )
}

/// The uid/gid change, keeping `caps` across it as ambient capabilities.
pub fn drop_privileges(
    sb: &Sandbox,
    uid: Option<u32>,
    gid: Option<u32>,
    groups: Option<&[u32]>,
) -> Result<(), (Step, Errno)> {
    // In a user namespace of its own the service is 0 inside, which vigil
    // mapped to its `user` and `group` outside; no other group is mapped,
    // and setgroups is denied there (PID 1 has no supplementary groups to
    // pass on).
    let (uid, gid, groups) = if sb.namespaces & g::CLONE_NEWUSER != 0 {
        (Some(0), Some(0), None)
    } else {
        (uid, gid, groups)
    };
    let Some(keep) = sb.caps else {
        return proc::set_ids(uid, gid, groups).map_err(at(Step::Ids));
    };
    caps::drop_bounding(keep).map_err(at(Step::Capabilities))?;
    if uid.is_some() {
        rustix::thread::set_keep_capabilities(true).map_err(at(Step::Capabilities))?;
    }
    proc::set_ids(uid, gid, groups).map_err(at(Step::Ids))?;
    caps::set_all(keep).map_err(at(Step::Capabilities))?;
    caps::set_ambient(keep).map_err(at(Step::Capabilities))?;
    if uid.is_some() {
        rustix::thread::set_keep_capabilities(false).map_err(at(Step::Capabilities))?;
    }
    Ok(())
}

pub use crate::config::cap_number;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_names() {
        assert_eq!(cap_number("CAP_CHOWN"), Some(0));
        assert_eq!(cap_number("CAP_NET_BIND_SERVICE"), Some(10));
        assert_eq!(cap_number("sys_admin"), Some(21));
        assert_eq!(cap_number("CAP_CHECKPOINT_RESTORE"), Some(caps::CAP_LAST));
        assert_eq!(cap_number("CAP_NOPE"), None);
    }
}
