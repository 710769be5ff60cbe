//! The block devices the kernel has: found in `/sys/class/block` (the
//! kernel's own names and numbers, and for partitions the `PARTUUID` and
//! `PARTNAME` of its uevent), then, where needed, their first bytes read
//! and parsed with `ondisk` (filesystem UUID and label, the partition
//! table when the uevent lacks a value). No udev: devtmpfs makes the
//! `/dev` nodes.

use heapless::Vec;

use super::spec::DevSpec;
use crate::log;
use crate::ondisk::{self, ext4, gpt, mbr, squashfs, verity};
use crate::out::{Buf, Sink};
use crate::sys::{self, Errno};

/// Devices kept per scan; more are counted and named in the listing.
pub const MAX_DEVICES: usize = 32;
/// Bytes read from the start of a device: the MBR, a GPT with 128 entries
/// (on 512- or 4096-byte sectors), and the ext4 and squashfs superblocks.
pub const HEAD: usize = 24 * 1024;

/// What the start of a device holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Not read (nothing needed it yet).
    NotRead,
    /// Reading failed.
    Unreadable(Errno),
    Ext4(ext4::Ext4),
    Squashfs(squashfs::Squashfs),
    /// A dm-verity hash area with its superblock; its UUID.
    Verity([u8; 16]),
    /// A partition table and the partitions it lists.
    Gpt(u32),
    Mbr(u32),
    /// A known magic, but the structure was refused: the format, and why.
    Refused(&'static str, &'static str),
    Unknown,
}

/// One block device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dev {
    /// The kernel's name (`vda2`): `/dev/NAME`.
    pub name: Vec<u8, 32>,
    pub major: u32,
    pub minor: u32,
    /// The partition number, 0 for a whole disk.
    pub partn: u32,
    /// Size in bytes.
    pub bytes: u64,
    pub partuuid: Vec<u8, 40>,
    pub partname: Vec<u8, 108>,
    pub content: Content,
}

impl Dev {
    /// A device with nothing known yet.
    pub fn new() -> Dev {
        Dev {
            name: Vec::new(),
            major: 0,
            minor: 0,
            partn: 0,
            bytes: 0,
            partuuid: Vec::new(),
            partname: Vec::new(),
            content: Content::NotRead,
        }
    }

    /// `/dev/NAME`.
    pub fn path(&self) -> Buf<48> {
        let mut p = Buf::new();
        p.s("/dev/");
        p.put(&self.name);
        p
    }

    /// The filesystem type to mount it as, if vigil recognised one.
    pub fn fstype(&self) -> Option<&'static str> {
        match self.content {
            Content::Ext4(_) => Some("ext4"),
            Content::Squashfs(_) => Some("squashfs"),
            _ => None,
        }
    }

    /// Does `spec` name this device? (`UUID=` and `LABEL=` need its
    /// content read.)
    pub fn matches(&self, spec: &DevSpec) -> bool {
        let eq = |a: &[u8], b: &str| a.eq_ignore_ascii_case(b.as_bytes());
        match *spec {
            DevSpec::Name(n) => self.name == n.as_bytes(),
            DevSpec::Number(ma, mi) => (self.major, self.minor) == (ma, mi),
            DevSpec::PartUuid(u) => self.partn != 0 && eq(&self.partuuid, u),
            DevSpec::PartLabel(l) => self.partn != 0 && self.partname == l.as_bytes(),
            DevSpec::Uuid(u) => match self.content {
                Content::Ext4(e) => eq(&ondisk::uuid_text(&e.uuid), u),
                _ => false,
            },
            DevSpec::Label(l) => match self.content {
                Content::Ext4(e) => e.label() == l.as_bytes() && !l.is_empty(),
                _ => false,
            },
        }
    }

    /// One line for the list of what was seen: name, size, identifiers
    /// and content.
    pub fn describe(&self, out: &mut impl Sink) {
        out.put(&self.name);
        out.s(" (")
            .u(self.major as u64)
            .s(":")
            .u(self.minor as u64)
            .s(", ");
        size(self.bytes, out);
        out.s(")");
        if !self.partuuid.is_empty() {
            out.s(" PARTUUID=").esc(&self.partuuid);
        }
        if !self.partname.is_empty() {
            out.s(" PARTLABEL=").esc(&self.partname);
        }
        out.s(": ");
        match self.content {
            Content::NotRead => {
                out.s("not read");
            }
            Content::Unreadable(e) => {
                out.s("unreadable: ");
                let mut l = log::Line::new();
                log::errno(&mut l, e);
                out.put(l.as_bytes());
            }
            Content::Ext4(e) => {
                out.s(e.flavour)
                    .s(" UUID=")
                    .put(&ondisk::uuid_text(&e.uuid));
                if !e.label().is_empty() {
                    out.s(" LABEL=").esc(e.label());
                }
            }
            Content::Squashfs(s) => {
                out.s("squashfs (").s(s.compression).s(")");
            }
            Content::Verity(u) => {
                out.s("verity hashes UUID=").put(&ondisk::uuid_text(&u));
            }
            Content::Gpt(n) => {
                out.s("GPT, ").u(n as u64).s(" partitions");
            }
            Content::Mbr(n) => {
                out.s("MBR, ").u(n as u64).s(" partitions");
            }
            Content::Refused(what, why) => {
                out.s(what).s(" refused: ").s(why);
            }
            Content::Unknown => {
                out.s("no filesystem vigil knows");
            }
        }
    }
}

impl Default for Dev {
    fn default() -> Self {
        Self::new()
    }
}

/// `N KiB`, `N MiB` or `N GiB`, rounded down.
fn size(bytes: u64, out: &mut impl Sink) {
    let (v, unit) = match bytes {
        b if b >= 10 << 30 => (b >> 30, " GiB"),
        b if b >= 10 << 20 => (b >> 20, " MiB"),
        b => (b >> 10, " KiB"),
    };
    out.u(v).s(unit);
}

/// The keys vigil reads from a block device's `uevent` file.
pub fn parse_uevent(text: &[u8], dev: &mut Dev) {
    for line in text.split(|&b| b == b'\n') {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (k, v) = (&line[..eq], &line[eq + 1..]);
        let num = || {
            core::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
        };
        match k {
            b"MAJOR" => dev.major = num().unwrap_or(0),
            b"MINOR" => dev.minor = num().unwrap_or(0),
            b"PARTN" => dev.partn = num().unwrap_or(0),
            b"DEVNAME" => set(&mut dev.name, v),
            b"PARTUUID" => set(&mut dev.partuuid, v),
            b"PARTNAME" => set(&mut dev.partname, v),
            _ => {}
        }
    }
}

/// `v`, or nothing if it does not fit.
fn set<const N: usize>(to: &mut Vec<u8, N>, v: &[u8]) {
    to.clear();
    if to.extend_from_slice(v).is_err() {
        to.clear();
    }
}

/// What a device's first bytes hold. `head` is what was read from byte 0;
/// `sector` the logical sector size of a whole disk (0 for a partition).
pub fn classify(head: &[u8], bytes: u64, sector: usize) -> Content {
    if ondisk::le32(head, 0) == Some(0x7371_7368) {
        return match squashfs::parse(head, bytes) {
            Ok(s) => Content::Squashfs(s),
            Err(why) => Content::Refused("squashfs", why),
        };
    }
    if ondisk::le16(head, ext4::OFFSET + 0x38) == Some(0xEF53) {
        return match ext4::parse(head.get(ext4::OFFSET..).unwrap_or(&[]), bytes) {
            Ok(e) => Content::Ext4(e),
            Err(why) => Content::Refused("ext2/3/4", why),
        };
    }
    if head.starts_with(b"verity\0\0") {
        return match verity::parse(head) {
            Ok(v) => Content::Verity(v.uuid),
            Err(why) => Content::Refused("verity superblock", why),
        };
    }
    if sector == 0 {
        return Content::Unknown;
    }
    if ondisk::bytes(head, sector, 8) == Some(b"EFI PART") {
        return match gpt::parse_image(head, sector, bytes / sector as u64) {
            Ok((h, t)) => {
                Content::Gpt((0..h.entries).filter(|&i| h.entry(t, i).is_some()).count() as u32)
            }
            Err(why) => Content::Refused("GPT", why),
        };
    }
    match mbr::parse(head, bytes / 512) {
        Ok(m) => Content::Mbr(m.parts.iter().flatten().count() as u32),
        Err("no MBR signature") => Content::Unknown,
        Err(why) => Content::Refused("MBR", why),
    }
}

/// A partition's `PARTUUID` and `PARTLABEL` from its disk's own table,
/// for a kernel whose uevent lacks them.
pub fn ids_from_table(disk_head: &[u8], disk_bytes: u64, sector: usize, dev: &mut Dev) {
    let n = dev.partn;
    if let Ok((h, t)) = gpt::parse_image(disk_head, sector, disk_bytes / sector as u64) {
        if let Some(e) = n.checked_sub(1).and_then(|i| h.entry(t, i)) {
            if dev.partuuid.is_empty() {
                set(&mut dev.partuuid, &ondisk::guid_text(&e.guid));
            }
            if dev.partname.is_empty() {
                set(&mut dev.partname, e.name());
            }
        }
    } else if let Ok(m) = mbr::parse(disk_head, disk_bytes / 512) {
        if (1..=4).contains(&n) && m.parts[n as usize - 1].is_some() && dev.partuuid.is_empty() {
            set(&mut dev.partuuid, &m.partuuid(n as u8));
        }
    }
}

/// Every block device now: name, numbers, size and partition ids. More
/// than `MAX_DEVICES` are counted in `extra`.
// Stack: out of line, its buffers live only while it runs.
#[inline(never)]
pub fn scan(table: &mut Vec<Dev, MAX_DEVICES>, extra: &mut u32) {
    table.clear();
    *extra = 0;
    let Ok(dir) = rustix::fs::open(
        &b"/sys/class/block"[..],
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) else {
        return;
    };
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); 2048];
    let mut it = rustix::fs::RawDir::new(&dir, &mut buf);
    while let Some(Ok(e)) = it.next() {
        let name = e.file_name().to_bytes();
        if name.starts_with(b".") || name.len() > 31 {
            continue;
        }
        let p = sysfs(name, "uevent");
        let mut text = [0u8; 512];
        let Ok(n) = sys::read_file(p.as_bytes(), &mut text) else {
            continue;
        };
        let mut d = Dev::new();
        parse_uevent(&text[..n], &mut d);
        if d.name.is_empty() {
            set(&mut d.name, name);
        }
        d.bytes = read_number(sysfs(name, "size").as_bytes()).saturating_mul(512);
        // Empty loop and ram devices have nothing to offer.
        if d.bytes == 0 {
            continue;
        }
        if table.push(d).is_err() {
            *extra += 1;
        }
    }
    // In name order, for the list a person reads (disks before their
    // partitions).
    table.sort_unstable_by(|a, b| a.name.cmp(&b.name));
}

/// `/sys/class/block/NAME/LEAF`.
fn sysfs(name: &[u8], leaf: &str) -> Buf<96> {
    let mut p = Buf::new();
    p.s("/sys/class/block/");
    p.put(name);
    p.s("/").s(leaf);
    p
}

/// A decimal number in a sysfs file, 0 if none.
fn read_number(path: &[u8]) -> u64 {
    let mut b = [0u8; 32];
    let n = sys::read_file(path, &mut b).unwrap_or(0);
    core::str::from_utf8(&b[..n])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Read what `d` holds (once), and for a partition whose uevent lacks
/// its ids, its disk's table.
// Stack: out of line, `HEAD` bytes live only while it runs.
#[inline(never)]
pub fn probe(d: &mut Dev) {
    if d.content != Content::NotRead {
        return;
    }
    let mut head = [0u8; HEAD];
    let n = match read_head(d.path().as_bytes(), &mut head) {
        Ok(n) => n,
        Err(e) => {
            d.content = Content::Unreadable(e);
            return;
        }
    };
    let sector = if d.partn == 0 {
        sector_size(&d.name)
    } else {
        0
    };
    d.content = classify(&head[..n], d.bytes, sector);
    if d.partn != 0 && (d.partuuid.is_empty() || d.partname.is_empty()) {
        if let Some(disk) = parent_disk(&d.name) {
            let mut p = Buf::<48>::new();
            p.s("/dev/");
            p.put(&disk);
            let disk_bytes = read_number(sysfs(&disk, "size").as_bytes()).saturating_mul(512);
            if let Ok(n) = read_head(p.as_bytes(), &mut head) {
                ids_from_table(&head[..n], disk_bytes, sector_size(&disk), d);
            }
        }
    }
}

/// A whole disk's logical sector size (512 if sysfs does not say).
fn sector_size(disk: &[u8]) -> usize {
    match read_number(sysfs(disk, "queue/logical_block_size").as_bytes()) {
        s @ (512 | 1024 | 2048 | 4096) => s as usize,
        _ => 512,
    }
}

/// The disk a partition belongs to: the directory above it in sysfs.
fn parent_disk(part: &[u8]) -> Option<Vec<u8, 32>> {
    let mut p = Buf::<96>::new();
    p.s("/sys/class/block/");
    p.put(part);
    let mut link = [0u8; 256];
    let n = sys::readlink(p.as_bytes(), &mut link).ok()?;
    let mut parts = link[..n].rsplit(|&b| b == b'/');
    parts.next()?;
    let disk = parts.next()?;
    let mut v = Vec::new();
    v.extend_from_slice(disk).ok()?;
    Some(v)
}

/// Up to `buf.len()` bytes from the start of a device.
pub fn read_head(path: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = sys::open(path, rustix::fs::OFlags::RDONLY)?;
    let r = read_at(fd, 0, buf);
    sys::proc::close(fd);
    r
}

/// `pread` until `buf` is full or the end: how much was read.
pub fn read_at(fd: i32, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut n = 0;
    while n < buf.len() {
        match rustix::io::pread(sys::borrow(fd), &mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Which device of `table` `spec` names. Two matches are an error: a
/// second disk with the same label (a USB stick) must not decide the boot.
pub fn find(table: &mut [Dev], spec: &DevSpec) -> Result<Option<usize>, (usize, usize)> {
    let mut found = None;
    for (i, d) in table.iter_mut().enumerate() {
        let ids_missing = d.partn != 0 && (d.partuuid.is_empty() || d.partname.is_empty());
        if spec.needs_superblock()
            || matches!(spec, DevSpec::PartUuid(_) | DevSpec::PartLabel(_)) && ids_missing
        {
            probe(d);
        }
        if d.matches(spec) {
            match found {
                None => found = Some(i),
                Some(j) => return Err((j, i)),
            }
        }
    }
    Ok(found)
}

/// Write `spec` as the user wrote it.
pub fn spec_text(spec: &DevSpec, out: &mut impl Sink) {
    out.s(spec.tag());
    match *spec {
        DevSpec::Name(v)
        | DevSpec::PartUuid(v)
        | DevSpec::PartLabel(v)
        | DevSpec::Uuid(v)
        | DevSpec::Label(v) => {
            out.esc(v.as_bytes());
        }
        DevSpec::Number(ma, mi) => {
            out.u(ma as u64).s(":").u(mi as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uevents() {
        let mut d = Dev::new();
        parse_uevent(
            b"MAJOR=254\nMINOR=2\nDEVNAME=vda2\nDEVTYPE=partition\nDISKSEQ=9\nPARTN=2\n\
              PARTNAME=system\nPARTUUID=0fc63daf-8483-4772-8e79-3d69d8477de4\n",
            &mut d,
        );
        assert_eq!((d.major, d.minor, d.partn), (254, 2, 2));
        assert_eq!(&d.name[..], b"vda2");
        d.bytes = 8 << 20;
        assert!(d.matches(&DevSpec::PartLabel("system")));
        assert!(d.matches(&DevSpec::PartUuid("0FC63DAF-8483-4772-8E79-3D69D8477DE4")));
        assert!(d.matches(&DevSpec::Number(254, 2)));
        assert!(d.matches(&DevSpec::Name("vda2")));
        assert!(!d.matches(&DevSpec::Name("vda")));
        assert!(!d.matches(&DevSpec::Label("system")));
        let mut long = Dev::new();
        parse_uevent(&[b"DEVNAME=".as_slice(), &[b'x'; 40]].concat(), &mut long);
        assert!(long.name.is_empty(), "cut, not kept half");
    }

    #[test]
    fn contents() {
        let mut head = vec![0u8; HEAD];
        head[1024..2048].copy_from_slice(&crate::ondisk::ext4::tests::superblock("sys"));
        let c = classify(&head, 8 << 20, 0);
        let Content::Ext4(e) = c else { panic!("{c:?}") };
        let mut d = Dev::new();
        d.content = c;
        assert!(d.matches(&DevSpec::Label("sys")));
        assert!(d.matches(&DevSpec::Uuid("abababab-abab-abab-abab-abababababab")));
        assert_eq!(d.fstype(), Some("ext4"));
        assert_eq!(e.label(), b"sys");
        head[1024 + 0x78] = b'X';
        assert!(matches!(
            classify(&head, 8 << 20, 0),
            Content::Refused(_, "superblock checksum mismatch")
        ));
        let g = crate::ondisk::gpt::tests::image("root");
        assert_eq!(classify(&g, 4096 * 512, 512), Content::Gpt(1));
        assert_eq!(classify(&g, 4096 * 512, 0), Content::Unknown);
        let mut p = Dev::new();
        p.partn = 1;
        ids_from_table(&g, 4096 * 512, 512, &mut p);
        assert_eq!(&p.partname[..], b"root");
        assert_eq!(&p.partuuid[..], b"07070707-0707-0707-0707-070707070707");
        let mut s = vec![0u8; 4096];
        s[..96].copy_from_slice(&crate::ondisk::squashfs::tests::superblock());
        assert!(matches!(classify(&s, 8192, 512), Content::Squashfs(_)));
        assert_eq!(classify(&[0u8; 100], 8192, 512), Content::Unknown);
    }

    #[test]
    fn ambiguous_labels_refuse() {
        let mut a = Dev::new();
        a.partn = 1;
        set(&mut a.partname, b"data");
        let mut b = a.clone();
        b.partn = 2;
        let mut t = [a, b];
        assert_eq!(find(&mut t, &DevSpec::PartLabel("data")), Err((0, 1)));
        assert_eq!(find(&mut t[..1], &DevSpec::PartLabel("data")), Ok(Some(0)));
    }
}
