//! On-disk structures vigil reads to find a root filesystem: the MBR and
//! GPT partition tables, the ext4 and squashfs superblocks, and the
//! dm-verity superblock.
//!
//! Disks are untrusted input (a USB stick, a corrupted partition table):
//! every parser here is a pure function over a byte slice, with no I/O, no
//! allocation and no `unsafe`. Every field is read through a bounds check
//! (`le16`/`le32`/`le64` return `None` past the end), sizes and offsets from
//! the disk are checked before use and never trusted for indexing, and
//! checksums are verified where the format has them (GPT header and
//! entries: CRC32; ext4 with `metadata_csum`: CRC32C). A parser returns a
//! reason it refused, never panics (`fuzz/` holds a target per structure).

pub mod crc;
pub mod ext4;
pub mod gpt;
pub mod mbr;
pub mod squashfs;
pub mod verity;

/// Why a structure was refused.
pub type Refused = &'static str;

/// `len` bytes at `off`, if they are all there.
pub fn bytes(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

pub fn le16(b: &[u8], off: usize) -> Option<u16> {
    let s = bytes(b, off, 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

pub fn le32(b: &[u8], off: usize) -> Option<u32> {
    let s = bytes(b, off, 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub fn le64(b: &[u8], off: usize) -> Option<u64> {
    let lo = le32(b, off)? as u64;
    let hi = le32(b, off.checked_add(4)?)? as u64;
    Some(hi << 32 | lo)
}

/// A fixed-size text field (a label, a name): up to the first NUL.
pub fn cstr_field(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

/// 16 bytes as the usual `8-4-4-4-12` lowercase UUID text (36 bytes),
/// bytes in the order they are stored (ext4, verity).
pub fn uuid_text(u: &[u8; 16]) -> [u8; 36] {
    let mut out = [0u8; 36];
    let mut o = 0;
    for (i, &b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[o] = b'-';
            o += 1;
        }
        out[o] = HEX[(b >> 4) as usize];
        out[o + 1] = HEX[(b & 15) as usize];
        o += 2;
    }
    out
}

/// A GUID as GPT stores it (the first three fields little-endian), as text.
pub fn guid_text(g: &[u8; 16]) -> [u8; 36] {
    let mut u = *g;
    u[..4].reverse();
    u[4..6].reverse();
    u[6..8].reverse();
    uuid_text(&u)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Is `b` a power of two within `min..=max`?
pub fn pow2_within(b: u64, min: u64, max: u64) -> bool {
    b.is_power_of_two() && (min..=max).contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(le16(&b, 0), Some(0x0201));
        assert_eq!(le32(&b, 5), Some(0x0908_0706));
        assert_eq!(le32(&b, 6), None);
        assert_eq!(le64(&b, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(le64(&b, 2), None);
        assert_eq!(le16(&b, usize::MAX), None);
        assert_eq!(bytes(&b, usize::MAX - 1, 4), None);
    }

    #[test]
    fn uuids() {
        let u = [
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0, 1, 2, 3, 4, 5, 6, 7,
        ];
        assert_eq!(&uuid_text(&u), b"12345678-9abc-def0-0001-020304050607");
        assert_eq!(&guid_text(&u), b"78563412-bc9a-f0de-0001-020304050607");
        assert_eq!(cstr_field(b"root\0\0x"), b"root");
        assert_eq!(cstr_field(b"full"), b"full");
    }
}
