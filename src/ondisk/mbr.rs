//! The MBR (DOS) partition table of sector 0: its disk signature and four
//! primary entries (logical partitions in an extended one are not read).

use super::{le16, le32, Refused};

/// One primary partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub kind: u8,
    pub bootable: bool,
    pub start: u32,
    pub sectors: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mbr {
    /// The disk signature at 440: the first half of an MBR `PARTUUID`.
    pub signature: u32,
    /// Entries 1 to 4; `None` for an empty slot.
    pub parts: [Option<Part>; 4],
}

impl Mbr {
    /// A protective MBR (one entry of type 0xEE): the disk is GPT.
    pub fn is_protective(&self) -> bool {
        self.parts.iter().flatten().any(|p| p.kind == 0xEE)
    }

    /// The kernel's `PARTUUID` of partition `n` (1-based): `SSSSSSSS-NN`.
    pub fn partuuid(&self, n: u8) -> [u8; 11] {
        let mut out = [0u8; 11];
        let hex = b"0123456789abcdef";
        for i in 0..8 {
            out[i] = hex[(self.signature >> (28 - 4 * i) & 15) as usize];
        }
        out[8] = b'-';
        out[9] = hex[(n >> 4) as usize];
        out[10] = hex[(n & 15) as usize];
        out
    }
}

/// Parse sector 0 (at least 512 bytes) of a disk of `disk_sectors`
/// 512-byte sectors (`u64::MAX` if unknown).
pub fn parse(sector0: &[u8], disk_sectors: u64) -> Result<Mbr, Refused> {
    if le16(sector0, 510) != Some(0xAA55) {
        return Err("no MBR signature");
    }
    let signature = le32(sector0, 440).ok_or("short sector")?;
    let mut parts = [None; 4];
    for (i, slot) in parts.iter_mut().enumerate() {
        let e = 446 + 16 * i;
        let status = *sector0.get(e).ok_or("short sector")?;
        let kind = *sector0.get(e + 4).ok_or("short sector")?;
        let start = le32(sector0, e + 8).ok_or("short sector")?;
        let sectors = le32(sector0, e + 12).ok_or("short sector")?;
        if status & 0x7f != 0 {
            return Err("MBR entry with a bad status byte");
        }
        if kind == 0 || sectors == 0 {
            continue;
        }
        // A protective entry may claim the whole (capped) disk.
        if kind != 0xEE && start as u64 + sectors as u64 > disk_sectors {
            return Err("MBR partition beyond the end of the disk");
        }
        *slot = Some(Part {
            kind,
            bootable: status == 0x80,
            start,
            sectors,
        });
    }
    Ok(Mbr { signature, parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk() -> [u8; 512] {
        let mut s = [0u8; 512];
        s[440..444].copy_from_slice(&0x1234_abcdu32.to_le_bytes());
        s[446] = 0x80;
        s[446 + 4] = 0x83;
        s[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
        s[446 + 12..446 + 16].copy_from_slice(&4096u32.to_le_bytes());
        s[510] = 0x55;
        s[511] = 0xAA;
        s
    }

    #[test]
    fn primary_partitions() {
        let m = parse(&disk(), 8192).unwrap();
        assert_eq!(m.signature, 0x1234_abcd);
        let p = m.parts[0].unwrap();
        assert!(p.bootable && p.kind == 0x83 && p.start == 2048);
        assert!(m.parts[1].is_none());
        assert_eq!(&m.partuuid(1), b"1234abcd-01");
        assert!(!m.is_protective());
    }

    #[test]
    fn refusals() {
        assert!(parse(&disk(), 4000).is_err(), "beyond the disk");
        let mut s = disk();
        s[446] = 0x81;
        assert!(parse(&s, 8192).is_err(), "bad status");
        s[511] = 0;
        assert!(parse(&s, 8192).is_err(), "no signature");
        assert!(parse(&[0u8; 100], 8192).is_err(), "short");
    }
}
