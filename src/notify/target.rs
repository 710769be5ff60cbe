//! The target's filesystem credentials, capabilities and umask, read from
//! `/proc/PID/status`, and the monitor wearing them for the length of one
//! emulated operation.
//!
//! Changing the fsuid from 0 to another id also drops the filesystem
//! capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN, ...) from the
//! effective set, and setting it back to 0 restores them (capabilities(7),
//! "Effect of user ID changes on capabilities"): a target running as uid
//! 1000 gets exactly uid 1000's access, even though the monitor is root.
//! The effective set is then cut to the target's own (`CapEff`), so a root
//! target that dropped CAP_DAC_OVERRIDE cannot read through the monitor
//! what it could not read itself. A target in another user namespace than
//! the monitor's has capabilities only over that namespace's objects: its
//! emulated calls run with none.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::reach;
use crate::sys::{caps, creds, Errno};
use crate::words::keywords;

/// Supplementary groups beyond this many are refused (EACCES), not cut.
pub const MAX_GROUPS: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creds {
    pub fsuid: u32,
    pub fsgid: u32,
    pub groups: [u32; MAX_GROUPS],
    pub ngroups: usize,
    pub umask: u32,
    /// The effective capabilities the operation runs with.
    pub caps: u64,
    /// Its pid in its own (innermost) pid namespace (`NSpid:`).
    pub pid: u32,
}

impl Creds {
    pub fn groups(&self) -> &[u32] {
        &self.groups[..self.ngroups]
    }

    /// Room for `read` to fill in place (a `Creds` returned by value was
    /// copied whole, twice). All zero: a constant with other values would
    /// be a copy of the whole struct in the binary (measured).
    pub const fn zeroed() -> Creds {
        Creds {
            fsuid: 0,
            fsgid: 0,
            groups: [0; MAX_GROUPS],
            ngroups: 0,
            umask: 0,
            caps: 0,
            pid: 0,
        }
    }

    /// Read thread `tid`'s credentials (creds are per thread), and keep
    /// its capabilities only if it shares the monitor's user namespace.
    pub fn read(&mut self, tid: u32) -> Result<(), Errno> {
        let f = reach::open(
            reach::rel(tid, "status").as_bytes(),
            rustix::fs::OFlags::RDONLY,
        )?;
        let mut buf = [0u8; 4096];
        let mut n = 0;
        loop {
            match rustix::io::read(&f, &mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
            // A status larger than the buffer means a huge Groups line.
            if n == buf.len() {
                return Err(Errno::ACCESS);
            }
        }
        self.parse(&buf[..n]).ok_or(Errno::ACCESS)?;
        if self.caps != 0 {
            let theirs = reach::id_of(reach::rel(tid, "ns/user").as_bytes())?;
            if theirs.ino != own_userns()? {
                self.caps = 0;
            }
        }
        Ok(())
    }

    /// Parse the `Umask:`, `Uid:`, `Gid:` (4th field: the fs id),
    /// `Groups:`, `CapEff:` and `NSpid:` lines of a status file into
    /// `self`.
    pub fn parse(&mut self, text: &[u8]) -> Option<()> {
        let c = self;
        c.fsuid = u32::MAX;
        c.fsgid = u32::MAX;
        c.ngroups = 0;
        c.caps = u64::MAX;
        // Kernels before 4.7 have no Umask line: assume the usual.
        c.umask = 0o022;
        let mut seen_groups = false;
        for line in text.split(|&b| b == b'\n') {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let mut rest = &line[colon + 1..];
            // Size: a keyword set and a field reader, not a `match` on byte
            // strings and iterator adapters (measured).
            match StatusKey::of_bytes(&line[..colon]) {
                Some(StatusKey::Umask) => c.umask = number(field(&mut rest)?, 8)?,
                Some(k @ (StatusKey::Uid | StatusKey::Gid)) => {
                    for _ in 0..3 {
                        field(&mut rest)?;
                    }
                    let id = number(field(&mut rest)?, 10)?;
                    *if k == StatusKey::Uid {
                        &mut c.fsuid
                    } else {
                        &mut c.fsgid
                    } = id;
                }
                Some(StatusKey::CapEff) => {
                    let hex = field(&mut rest)?;
                    c.caps = crate::words::digits(hex, 16)?;
                }
                // The last field: the innermost namespace's.
                Some(StatusKey::NSpid) => {
                    while let Some(f) = field(&mut rest) {
                        c.pid = number(f, 10)?;
                    }
                }
                Some(StatusKey::Groups) => {
                    seen_groups = true;
                    while let Some(f) = field(&mut rest) {
                        if c.ngroups == MAX_GROUPS {
                            return None;
                        }
                        c.groups[c.ngroups] = number(f, 10)?;
                        c.ngroups += 1;
                    }
                }
                None => {}
            }
        }
        (c.fsuid != u32::MAX && c.fsgid != u32::MAX && c.caps != u64::MAX && seen_groups)
            .then_some(())
    }
}

/// The inode of this process's user namespace (it never changes).
fn own_userns() -> Result<u64, Errno> {
    static OWN: AtomicU64 = AtomicU64::new(0);
    match OWN.load(Ordering::Relaxed) {
        0 => {
            let ino = reach::id_of(b"self/ns/user")?.ino;
            OWN.store(ino, Ordering::Relaxed);
            Ok(ino)
        }
        ino => Ok(ino),
    }
}

/// This process's own capability sets (it never changes them for good).
fn own_caps() -> Result<(u64, u64, u64), Errno> {
    static OWN: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
    if OWN[3].load(Ordering::Relaxed) == 0 {
        let (e, p, i) = caps::get()?;
        for (slot, v) in OWN.iter().zip([e, p, i, 1]) {
            slot.store(v, Ordering::Relaxed);
        }
    }
    let v = |k: usize| OWN[k].load(Ordering::Relaxed);
    Ok((v(0), v(1), v(2)))
}

/// This process's own fs ids, read once (`wear` always puts them back):
/// 1 + fsuid, 1 + fsgid (0: not read yet, so that they live in `.bss`).
static OWN_IDS: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];

fn own_ids(w: &mut Worn) {
    if OWN_IDS[0].load(Ordering::Relaxed) == 0 {
        OWN_IDS[0].store(creds::setfsuid(u32::MAX).wrapping_add(1), Ordering::Relaxed);
        OWN_IDS[1].store(creds::setfsgid(u32::MAX).wrapping_add(1), Ordering::Relaxed);
    }
    w.fsuid = OWN_IDS[0].load(Ordering::Relaxed).wrapping_sub(1);
    w.fsgid = OWN_IDS[1].load(Ordering::Relaxed).wrapping_sub(1);
    w.ngroups = creds::getgroups(&mut w.groups).unwrap_or(0);
}

/// The capabilities a change of fsuid from 0 to another id clears from
/// the effective set, and the way back restores from the permitted one:
/// CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, LINUX_IMMUTABLE,
/// MAC_OVERRIDE, MKNOD (capabilities(7)).
const FS_CAPS: u64 = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 9 | 1 << 32 | 1 << 27;

keywords! {
    /// The status lines `parse` reads.
    StatusKey {
        Umask = "Umask",
        Uid = "Uid",
        Gid = "Gid",
        CapEff = "CapEff",
        NSpid = "NSpid",
        Groups = "Groups",
    }
}

/// The next tab- or space-separated field of `rest`; `rest` moves past it.
fn field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let sep = |b: &u8| *b == b'\t' || *b == b' ';
    let s = &rest[rest.iter().position(|b| !sep(b))?..];
    let end = s.iter().position(sep).unwrap_or(s.len());
    *rest = &s[end..];
    Some(&s[..end])
}

fn number(s: &[u8], radix: u32) -> Option<u32> {
    crate::words::digits(s, radix).and_then(|v| u32::try_from(v).ok())
}

/// `umask(2)`: set the mask, return the old one.
fn umask(mask: u32) -> u32 {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask)).as_raw_mode()
}

/// vigil's own credentials, put back by `Worn::drop`.
pub struct Worn {
    fsuid: u32,
    fsgid: u32,
    groups: [u32; MAX_GROUPS],
    ngroups: usize,
    umask: u32,
    switched_groups: bool,
    /// The monitor's own capability sets, if they were cut.
    caps: Option<(u64, u64, u64)>,
}

/// Take on `t`'s fs ids, groups and umask until the returned guard drops.
/// Fails with EACCES if vigil cannot (an unprivileged vigil serving a
/// target with other ids): refusing is the safe answer.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
pub fn wear(t: &Creds) -> Result<Worn, Errno> {
    let own = own_caps().map_err(|_| Errno::ACCESS)?;
    let mut w = Worn {
        fsuid: 0,
        fsgid: 0,
        groups: [0; MAX_GROUPS],
        ngroups: 0,
        umask: 0,
        switched_groups: false,
        caps: None,
    };
    own_ids(&mut w);
    w.umask = umask(t.umask);
    // From here on the guard restores whatever was changed.
    if w.groups[..w.ngroups] != *t.groups() {
        creds::setgroups(t.groups()).map_err(|_| Errno::ACCESS)?;
        w.switched_groups = true;
    }
    // Group first: once the fsuid is not 0, CAP_SETGID still holds, but
    // keep the order that works for every combination. setfsuid cannot
    // fail loudly: read back (where the id changes).
    if t.fsgid != w.fsgid {
        creds::setfsgid(t.fsgid);
        if creds::setfsgid(u32::MAX) != t.fsgid {
            return Err(Errno::ACCESS);
        }
    }
    if t.fsuid != w.fsuid {
        creds::setfsuid(t.fsuid);
        if creds::setfsuid(u32::MAX) != t.fsuid {
            return Err(Errno::ACCESS);
        }
    }
    // Last: setgroups and setfsuid need CAP_SETGID and CAP_SETUID. After
    // the fsuid change, so that a target's own CAP_DAC_OVERRIDE (ambient,
    // with a uid of its own) comes back even though the fsuid cleared it.
    let now = if t.fsuid != 0 {
        own.0 & !FS_CAPS
    } else {
        own.0
    };
    if now != t.caps & own.1 {
        w.caps = Some(own);
        caps::set(t.caps & own.1, own.1, own.2).map_err(|_| Errno::ACCESS)?;
    }
    Ok(w)
}

impl Drop for Worn {
    fn drop(&mut self) {
        // First, so that the calls below have CAP_SETUID and CAP_SETGID.
        if let Some((e, p, i)) = self.caps {
            let _ = caps::set(e, p, i);
        }
        if creds::setfsuid(self.fsuid) != self.fsuid {
            creds::setfsuid(self.fsuid);
        }
        if creds::setfsgid(self.fsgid) != self.fsgid {
            creds::setfsgid(self.fsgid);
        }
        if self.switched_groups {
            let _ = creds::setgroups(&self.groups[..self.ngroups]);
        }
        umask(self.umask);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let s = b"Name:\tx\nUmask:\t0027\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\nGroups:\t4 24 27 \nNSpid:\t812\t1\nCapEff:\t0000000000000400\n";
        // Keys that only start or end like one it reads are not it (last,
        // so that a match would overwrite).
        let s = [
            &s[..],
            b"Ui:\t9\t9\t9\t9\nGidd:\t9\t9\t9\t9\nUid Gid:\t9\t9\t9\t9\n",
        ]
        .concat();
        let s = &s[..];
        let mut c = Creds::zeroed();
        c.parse(s).unwrap();
        assert_eq!((c.fsuid, c.fsgid, c.umask, c.caps), (1003, 8, 0o027, 0x400));
        assert_eq!(c.pid, 1);
        assert_eq!(c.groups(), &[4, 24, 27]);
        c.parse(b"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\nCapEff:\t000001ffffffffff\n")
            .unwrap();
        assert_eq!(c.groups(), &[] as &[u32]);
        assert_eq!(c.caps, 0x1ff_ffff_ffff);
        assert!(c
            .parse(b"Uid:\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\nCapEff:\t0\n")
            .is_none());
        // No CapEff line: refused, not "no capabilities" nor "all".
        assert!(c
            .parse(b"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\n")
            .is_none());
    }

    #[test]
    fn reads_our_own() {
        let mut c = Creds::zeroed();
        c.read(std::process::id()).unwrap();
        assert_eq!(c.fsuid, creds::setfsuid(u32::MAX));
    }
}
