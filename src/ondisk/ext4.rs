//! The ext2/3/4 superblock (1024 bytes at byte 1024 of the device): its
//! UUID and label for `UUID=` and `LABEL=`, with the CRC32C checked when
//! the filesystem has `metadata_csum`.

use super::{bytes, crc::crc32c_raw, le16, le32, Refused};

/// Where the superblock starts on the device, and its size.
pub const OFFSET: usize = 1024;
pub const SIZE: usize = 1024;

const MAGIC: u16 = 0xEF53;
const COMPAT_HAS_JOURNAL: u32 = 0x4;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_FLEX_BG: u32 = 0x200;
const RO_COMPAT_METADATA_CSUM: u32 = 0x400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ext4 {
    pub uuid: [u8; 16],
    /// The volume name, NUL-padded.
    pub label: [u8; 16],
    /// `ext2`, `ext3` or `ext4`, by its features (all mount as `ext4`).
    pub flavour: &'static str,
    pub block_size: u32,
    pub blocks: u64,
    /// The superblock carries a checksum, and it matched.
    pub checksummed: bool,
    /// The journal needs replaying (not cleanly unmounted).
    pub needs_recovery: bool,
}

impl Ext4 {
    pub fn label(&self) -> &[u8] {
        super::cstr_field(&self.label)
    }
}

/// Parse the superblock `sb` (the 1024 bytes at `OFFSET`) of a device of
/// `dev_bytes` bytes.
pub fn parse(sb: &[u8], dev_bytes: u64) -> Result<Ext4, Refused> {
    let sb = bytes(sb, 0, SIZE).ok_or("short superblock")?;
    let f32 = |off| le32(sb, off).ok_or("short superblock");
    if le16(sb, 0x38) != Some(MAGIC) {
        return Err("no ext2/3/4 magic");
    }
    let log = f32(0x18)?;
    if log > 6 {
        return Err("block size out of range");
    }
    let block_size = 1024u32 << log;
    let (compat, incompat, ro_compat) = (f32(0x5C)?, f32(0x60)?, f32(0x64)?);
    let mut blocks = f32(0x04)? as u64;
    if incompat & INCOMPAT_64BIT != 0 {
        blocks |= (f32(0x150)? as u64) << 32;
    }
    if blocks == 0 {
        return Err("no blocks");
    }
    if blocks
        .checked_mul(block_size as u64)
        .is_none_or(|b| b > dev_bytes)
    {
        return Err("filesystem larger than its device");
    }
    let checksummed = ro_compat & RO_COMPAT_METADATA_CSUM != 0;
    if checksummed {
        if sb[0x175] != 1 {
            return Err("unknown superblock checksum type");
        }
        if crc32c_raw(!0, &sb[..0x3FC]) != f32(0x3FC)? {
            return Err("superblock checksum mismatch");
        }
    }
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&sb[0x68..0x78]);
    let mut label = [0u8; 16];
    label.copy_from_slice(&sb[0x78..0x88]);
    let flavour = if incompat & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG) != 0 {
        "ext4"
    } else if compat & COMPAT_HAS_JOURNAL != 0 {
        "ext3"
    } else {
        "ext2"
    };
    Ok(Ext4 {
        uuid,
        label,
        flavour,
        block_size,
        blocks,
        checksummed,
        needs_recovery: incompat & INCOMPAT_RECOVER != 0,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A superblock as mkfs.ext4 writes it, checksum included.
    pub fn superblock(label: &str) -> [u8; 1024] {
        let mut sb = [0u8; 1024];
        sb[0x04..0x08].copy_from_slice(&2048u32.to_le_bytes());
        sb[0x18..0x1C].copy_from_slice(&2u32.to_le_bytes()); // 4 KiB
        sb[0x38..0x3A].copy_from_slice(&MAGIC.to_le_bytes());
        sb[0x5C..0x60].copy_from_slice(&COMPAT_HAS_JOURNAL.to_le_bytes());
        sb[0x60..0x64].copy_from_slice(&(INCOMPAT_EXTENTS | INCOMPAT_64BIT).to_le_bytes());
        sb[0x64..0x68].copy_from_slice(&RO_COMPAT_METADATA_CSUM.to_le_bytes());
        sb[0x68..0x78].copy_from_slice(&[0xab; 16]);
        sb[0x78..0x78 + label.len()].copy_from_slice(label.as_bytes());
        sb[0x175] = 1;
        let c = crc32c_raw(!0, &sb[..0x3FC]);
        sb[0x3FC..].copy_from_slice(&c.to_le_bytes());
        sb
    }

    #[test]
    fn reads_uuid_label_and_checks_the_checksum() {
        let sb = superblock("system");
        let e = parse(&sb, 8 << 20).unwrap();
        assert_eq!(e.label(), b"system");
        assert_eq!(e.uuid, [0xab; 16]);
        assert_eq!((e.flavour, e.block_size, e.blocks), ("ext4", 4096, 2048));
        assert!(e.checksummed && !e.needs_recovery);
        let mut bad = sb;
        bad[0x78] ^= 1;
        assert_eq!(
            parse(&bad, 8 << 20).unwrap_err(),
            "superblock checksum mismatch"
        );
        assert!(parse(&sb, 4 << 20).is_err(), "larger than the device");
        assert!(parse(&sb[..1000], 8 << 20).is_err());
        let mut huge = sb;
        huge[0x18] = 40;
        assert!(parse(&huge, u64::MAX).is_err());
    }
}
