//! The target's filesystem credentials and umask, read from
//! `/proc/PID/status`, and vigil wearing them for the length of one
//! emulated operation.
//!
//! Changing the fsuid from 0 to another id also drops the filesystem
//! capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN, ...) from vigil's
//! effective set, and setting it back to 0 restores them (capabilities(7),
//! "Effect of user ID changes on capabilities"): a target running as uid
//! 1000 gets exactly uid 1000's access, even though vigil is root.

use crate::out::{Buf, Sink};
use crate::sys::{self, creds, Errno};

/// Supplementary groups beyond this many are refused (EACCES), not cut.
pub const MAX_GROUPS: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creds {
    pub fsuid: u32,
    pub fsgid: u32,
    pub groups: [u32; MAX_GROUPS],
    pub ngroups: usize,
    pub umask: u32,
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
        }
    }

    /// Read thread `tid`'s credentials (creds are per thread).
    pub fn read(&mut self, tid: u32) -> Result<(), Errno> {
        let mut p = Buf::<48>::new();
        p.s("/proc/").u(tid as u64).s("/status");
        let mut buf = [0u8; 4096];
        let n = match sys::read_file(p.as_bytes(), &mut buf) {
            Ok(n) => n,
            // A status larger than the buffer means a huge Groups line.
            Err(Errno::FBIG) => return Err(Errno::ACCESS),
            Err(e) => return Err(e),
        };
        self.parse(&buf[..n]).ok_or(Errno::ACCESS)
    }

    /// Parse the `Umask:`, `Uid:`, `Gid:` (4th field: the fs id) and
    /// `Groups:` lines of a status file into `self`.
    pub fn parse(&mut self, text: &[u8]) -> Option<()> {
        let c = self;
        c.fsuid = u32::MAX;
        c.fsgid = u32::MAX;
        c.ngroups = 0;
        // Kernels before 4.7 have no Umask line: assume the usual.
        c.umask = 0o022;
        let mut seen_groups = false;
        for line in text.split(|&b| b == b'\n') {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let mut rest = &line[colon + 1..];
            // Size: a table and a field reader, not a `match` on byte
            // strings and iterator adapters (measured).
            match KEYS.iter().position(|k| *k == &line[..colon]) {
                Some(0) => c.umask = number(field(&mut rest)?, 8)?,
                Some(k @ (1 | 2)) => {
                    for _ in 0..3 {
                        field(&mut rest)?;
                    }
                    let id = number(field(&mut rest)?, 10)?;
                    *[&mut c.fsuid, &mut c.fsgid][k - 1] = id;
                }
                Some(_) => {
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
        (c.fsuid != u32::MAX && c.fsgid != u32::MAX && seen_groups).then_some(())
    }
}

/// The status lines `parse` reads, in the order it handles them.
const KEYS: [&[u8]; 4] = [b"Umask", b"Uid", b"Gid", b"Groups"];

/// The next tab- or space-separated field of `rest`; `rest` moves past it.
fn field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let sep = |b: &u8| *b == b'\t' || *b == b' ';
    let s = &rest[rest.iter().position(|b| !sep(b))?..];
    let end = s.iter().position(sep).unwrap_or(s.len());
    *rest = &s[end..];
    Some(&s[..end])
}

fn number(s: &[u8], radix: u32) -> Option<u32> {
    crate::policy::parse::digits(s, radix).and_then(|v| u32::try_from(v).ok())
}

/// vigil's own credentials, put back by `Worn::drop`.
pub struct Worn {
    fsuid: u32,
    fsgid: u32,
    groups: [u32; MAX_GROUPS],
    ngroups: usize,
    umask: u32,
    switched_groups: bool,
}

/// Take on `t`'s fs ids, groups and umask until the returned guard drops.
/// Fails with EACCES if vigil cannot (an unprivileged vigil serving a
/// target with other ids): refusing is the safe answer.
// Size: out of line, the binary is smaller (measured).
#[inline(never)]
pub fn wear(t: &Creds) -> Result<Worn, Errno> {
    let mut w = Worn {
        fsuid: creds::setfsuid(u32::MAX),
        fsgid: creds::setfsgid(u32::MAX),
        groups: [0; MAX_GROUPS],
        ngroups: 0,
        umask: creds::umask(t.umask),
        switched_groups: false,
    };
    w.ngroups = creds::getgroups(&mut w.groups).unwrap_or(0);
    // From here on the guard restores whatever was changed.
    if w.groups[..w.ngroups] != *t.groups() {
        creds::setgroups(t.groups()).map_err(|_| Errno::ACCESS)?;
        w.switched_groups = true;
    }
    // Group first: once the fsuid is not 0, CAP_SETGID still holds, but
    // keep the order that works for every combination.
    creds::setfsgid(t.fsgid);
    creds::setfsuid(t.fsuid);
    // setfsuid cannot fail loudly: read back.
    if creds::setfsgid(u32::MAX) != t.fsgid || creds::setfsuid(u32::MAX) != t.fsuid {
        return Err(Errno::ACCESS);
    }
    Ok(w)
}

impl Drop for Worn {
    fn drop(&mut self) {
        creds::setfsuid(self.fsuid);
        creds::setfsgid(self.fsgid);
        if self.switched_groups {
            let _ = creds::setgroups(&self.groups[..self.ngroups]);
        }
        creds::umask(self.umask);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let s = b"Name:\tx\nUmask:\t0027\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\nGroups:\t4 24 27 \n";
        let mut c = Creds::zeroed();
        c.parse(s).unwrap();
        assert_eq!((c.fsuid, c.fsgid, c.umask), (1003, 8, 0o027));
        assert_eq!(c.groups(), &[4, 24, 27]);
        c.parse(b"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\n")
            .unwrap();
        assert_eq!(c.groups(), &[] as &[u32]);
        assert!(c
            .parse(b"Uid:\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\n")
            .is_none());
    }

    #[test]
    fn reads_our_own() {
        let mut c = Creds::zeroed();
        c.read(std::process::id()).unwrap();
        assert_eq!(c.fsuid, creds::setfsuid(u32::MAX));
    }
}
