//! The squashfs 4.0 superblock (96 bytes at byte 0). Squashfs has no UUID
//! and no label: a squashfs root is named by its device or partition.

use super::{le16, le32, le64, Refused};

pub const SIZE: usize = 96;
const MAGIC: u32 = 0x7371_7368; // "hsqs"
const COMPRESSORS: [&str; 6] = ["gzip", "lzma", "lzo", "xz", "lz4", "zstd"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Squashfs {
    pub block_size: u32,
    pub compression: &'static str,
    pub bytes_used: u64,
    pub inodes: u32,
}

/// Parse the superblock at the start of a device of `dev_bytes` bytes.
pub fn parse(sb: &[u8], dev_bytes: u64) -> Result<Squashfs, Refused> {
    let f32 = |off| le32(sb, off).ok_or("short superblock");
    let f16 = |off| le16(sb, off).ok_or("short superblock");
    let f64 = |off| le64(sb, off).ok_or("short superblock");
    if f32(0)? != MAGIC {
        return Err("no squashfs magic");
    }
    if (f16(28)?, f16(30)?) != (4, 0) {
        return Err("not squashfs version 4.0");
    }
    let block_size = f32(12)?;
    let block_log = f16(22)?;
    if !super::pow2_within(block_size as u64, 4096, 1 << 20)
        || block_size.trailing_zeros() != block_log as u32
    {
        return Err("block size out of range");
    }
    let compression = f16(20)?
        .checked_sub(1)
        .and_then(|i| COMPRESSORS.get(i as usize))
        .ok_or("unknown compressor")?;
    let bytes_used = f64(40)?;
    if bytes_used < SIZE as u64 || bytes_used > dev_bytes {
        return Err("filesystem larger than its device");
    }
    // The id, inode and directory tables are always there; the xattr,
    // fragment and export tables may be absent (all ones).
    for (off, optional) in [
        (48, false),
        (56, true),
        (64, false),
        (72, false),
        (80, true),
        (88, true),
    ] {
        let at = f64(off)?;
        if !(optional && at == u64::MAX) && (at < SIZE as u64 || at >= bytes_used) {
            return Err("table outside the filesystem");
        }
    }
    Ok(Squashfs {
        block_size,
        compression,
        bytes_used,
        inodes: f32(4)?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn superblock() -> [u8; 96] {
        let mut sb = [0u8; 96];
        sb[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        sb[4..8].copy_from_slice(&10u32.to_le_bytes());
        sb[12..16].copy_from_slice(&131072u32.to_le_bytes());
        sb[20..22].copy_from_slice(&4u16.to_le_bytes()); // xz
        sb[22..24].copy_from_slice(&17u16.to_le_bytes());
        sb[28..30].copy_from_slice(&4u16.to_le_bytes());
        sb[40..48].copy_from_slice(&5000u64.to_le_bytes());
        for (off, v) in [
            (48, 4900u64),
            (56, u64::MAX),
            (64, 200),
            (72, 3000),
            (80, 4000),
            (88, u64::MAX),
        ] {
            sb[off..off + 8].copy_from_slice(&v.to_le_bytes());
        }
        sb
    }

    #[test]
    fn reads_and_refuses() {
        let s = parse(&superblock(), 8192).unwrap();
        assert_eq!((s.compression, s.block_size, s.inodes), ("xz", 131072, 10));
        assert!(
            parse(&superblock(), 4096).is_err(),
            "larger than the device"
        );
        let mut b = superblock();
        b[22] = 16;
        assert!(parse(&b, 8192).is_err(), "block_log disagrees");
        let mut b = superblock();
        b[64..72].copy_from_slice(&9000u64.to_le_bytes());
        assert!(parse(&b, 8192).is_err(), "table past the end");
        let mut b = superblock();
        b[20] = 9;
        assert!(parse(&b, 8192).is_err());
        assert!(parse(&superblock()[..50], 8192).is_err());
    }
}
