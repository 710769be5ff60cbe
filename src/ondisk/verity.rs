//! The dm-verity superblock that `veritysetup format` writes at the start
//! of the hash area (512 bytes): what the kernel's verity table needs
//! besides the root hash (block sizes, data blocks, algorithm, salt).

use super::{bytes, le16, le32, le64, Refused};

pub const SIZE: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VeritySb {
    /// 1: the normal format; 0: Chrome OS's.
    pub hash_type: u32,
    pub uuid: [u8; 16],
    algorithm: [u8; 32],
    algorithm_len: usize,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub data_blocks: u64,
    salt: [u8; 256],
    salt_len: usize,
}

impl VeritySb {
    /// The hash algorithm's kernel name (`sha256`): lowercase letters,
    /// digits and `-` only.
    pub fn algorithm(&self) -> &str {
        core::str::from_utf8(&self.algorithm[..self.algorithm_len]).unwrap_or("")
    }

    pub fn salt(&self) -> &[u8] {
        &self.salt[..self.salt_len]
    }

    /// Bytes of data the tree covers.
    pub fn data_bytes(&self) -> u64 {
        // Checked not to overflow by `parse`.
        self.data_blocks * self.data_block_size as u64
    }
}

/// The digest size of the algorithms whose root hash length vigil checks.
pub fn digest_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha1" => Some(20),
        "sha256" => Some(32),
        "sha512" => Some(64),
        _ => None,
    }
}

pub fn parse(sb: &[u8]) -> Result<VeritySb, Refused> {
    if bytes(sb, 0, 8) != Some(b"verity\0\0") {
        return Err("no verity superblock signature");
    }
    let f32 = |off| le32(sb, off).ok_or("short superblock");
    if f32(8)? != 1 {
        return Err("unknown verity superblock version");
    }
    let hash_type = f32(12)?;
    if hash_type > 1 {
        return Err("unknown verity hash type");
    }
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(bytes(sb, 16, 16).ok_or("short superblock")?);
    let alg = bytes(sb, 32, 32).ok_or("short superblock")?;
    let algorithm_len = alg
        .iter()
        .position(|&c| c == 0)
        .ok_or("algorithm name not terminated")?;
    if algorithm_len == 0
        || !alg[..algorithm_len]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    {
        return Err("bad algorithm name");
    }
    let mut algorithm = [0u8; 32];
    algorithm.copy_from_slice(alg);
    let data_block_size = f32(64)?;
    let hash_block_size = f32(68)?;
    for b in [data_block_size, hash_block_size] {
        if !super::pow2_within(b as u64, 512, 1 << 16) {
            return Err("block size out of range");
        }
    }
    let data_blocks = le64(sb, 72).ok_or("short superblock")?;
    if data_blocks == 0 || data_blocks.checked_mul(data_block_size as u64).is_none() {
        return Err("data block count out of range");
    }
    let salt_len = le16(sb, 80).ok_or("short superblock")? as usize;
    if salt_len > 256 {
        return Err("salt too long");
    }
    let mut salt = [0u8; 256];
    salt.copy_from_slice(bytes(sb, 88, 256).ok_or("short superblock")?);
    Ok(VeritySb {
        hash_type,
        uuid,
        algorithm,
        algorithm_len,
        data_block_size,
        hash_block_size,
        data_blocks,
        salt,
        salt_len,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn superblock() -> [u8; 512] {
        let mut sb = [0u8; 512];
        sb[..8].copy_from_slice(b"verity\0\0");
        sb[8] = 1;
        sb[12] = 1;
        sb[32..38].copy_from_slice(b"sha256");
        sb[64..68].copy_from_slice(&4096u32.to_le_bytes());
        sb[68..72].copy_from_slice(&4096u32.to_le_bytes());
        sb[72..80].copy_from_slice(&100u64.to_le_bytes());
        sb[80..82].copy_from_slice(&32u16.to_le_bytes());
        sb[88..120].copy_from_slice(&[0x5a; 32]);
        sb
    }

    #[test]
    fn reads_and_refuses() {
        let v = parse(&superblock()).unwrap();
        assert_eq!(v.algorithm(), "sha256");
        assert_eq!(v.salt(), &[0x5a; 32]);
        assert_eq!(v.data_bytes(), 409_600);
        assert_eq!(digest_len(v.algorithm()), Some(32));
        let mut b = superblock();
        b[32..64].copy_from_slice(&[b'a'; 32]);
        assert!(parse(&b).is_err(), "unterminated name");
        let mut b = superblock();
        b[33] = b'/';
        assert!(parse(&b).is_err(), "bad name");
        let mut b = superblock();
        b[81] = 2;
        assert!(parse(&b).is_err(), "salt too long");
        let mut b = superblock();
        b[72..80].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse(&b).is_err(), "overflow");
        let mut b = superblock();
        b[65] = 0x11;
        assert!(parse(&b).is_err(), "not a power of two");
        assert!(parse(&superblock()[..100]).is_err());
    }
}
