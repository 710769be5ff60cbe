//! The GPT header (LBA 1) and its partition entries, with both CRC32s
//! checked. Only the primary table is read: the kernel, which found the
//! partitions, falls back to the backup one by itself.

use super::{bytes, crc::crc32, le32, le64, Refused};

/// Most entries vigil reads (the usual table has 128).
pub const MAX_ENTRIES: u32 = 1024;
/// The largest entry size accepted (the usual one is 128).
pub const MAX_ENTRY_SIZE: u32 = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub disk_guid: [u8; 16],
    pub entries_lba: u64,
    pub entries: u32,
    pub entry_size: u32,
    pub entries_crc: u32,
    pub first_usable: u64,
    pub last_usable: u64,
}

/// One used entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub type_guid: [u8; 16],
    /// The kernel's `PARTUUID`.
    pub guid: [u8; 16],
    pub first_lba: u64,
    pub last_lba: u64,
    /// The name (the kernel's `PARTNAME`, `PARTLABEL=`) as UTF-8.
    pub name: [u8; 108],
    pub name_len: usize,
}

impl Entry {
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len]
    }
}

impl Header {
    /// The header in `block` (LBA 1, `sector` bytes) of a disk of
    /// `disk_sectors` sectors of that size.
    pub fn parse(block: &[u8], sector: usize, disk_sectors: u64) -> Result<Header, Refused> {
        if bytes(block, 0, 8) != Some(b"EFI PART") {
            return Err("no GPT signature");
        }
        let size = le32(block, 12).ok_or("short header")? as usize;
        if size < 92 || size > sector || size > block.len() {
            return Err("bad GPT header size");
        }
        let stored = le32(block, 16).ok_or("short header")?;
        // The CRC is over the header with its own field zeroed.
        let mut crc = crc32(0, &block[..16]);
        crc = crc32(crc, &[0; 4]);
        crc = crc32(crc, &block[20..size]);
        if crc != stored {
            return Err("GPT header CRC mismatch");
        }
        let field = |off| le64(block, off).ok_or("short header");
        if field(24)? != 1 {
            return Err("GPT header not at LBA 1");
        }
        let mut disk_guid = [0u8; 16];
        disk_guid.copy_from_slice(bytes(block, 56, 16).ok_or("short header")?);
        let h = Header {
            disk_guid,
            first_usable: field(40)?,
            last_usable: field(48)?,
            entries_lba: field(72)?,
            entries: le32(block, 80).ok_or("short header")?,
            entry_size: le32(block, 84).ok_or("short header")?,
            entries_crc: le32(block, 88).ok_or("short header")?,
        };
        if h.entries == 0 || h.entries > MAX_ENTRIES {
            return Err("GPT entry count out of range");
        }
        if h.entry_size < 128 || h.entry_size > MAX_ENTRY_SIZE || !h.entry_size.is_multiple_of(8) {
            return Err("GPT entry size out of range");
        }
        if h.first_usable > h.last_usable || h.last_usable >= disk_sectors {
            return Err("GPT usable range outside the disk");
        }
        let table_sectors = (h.entries_len() as u64).div_ceil(sector as u64);
        if h.entries_lba < 2
            || h.entries_lba
                .checked_add(table_sectors)
                .is_none_or(|end| end > disk_sectors)
        {
            return Err("GPT entries outside the disk");
        }
        Ok(h)
    }

    /// Bytes of the entry array (bounded by the limits above).
    pub fn entries_len(&self) -> usize {
        self.entries as usize * self.entry_size as usize
    }

    /// Check the entry array's CRC.
    pub fn check_entries(&self, table: &[u8]) -> Result<(), Refused> {
        let t = bytes(table, 0, self.entries_len()).ok_or("short GPT entry array")?;
        if crc32(0, t) != self.entries_crc {
            return Err("GPT entries CRC mismatch");
        }
        Ok(())
    }

    /// Entry `i` (0-based) of a checked array; `None` if unused or out of
    /// range.
    pub fn entry(&self, table: &[u8], i: u32) -> Option<Entry> {
        if i >= self.entries {
            return None;
        }
        let raw = bytes(
            table,
            i as usize * self.entry_size as usize,
            self.entry_size as usize,
        )?;
        let mut type_guid = [0u8; 16];
        type_guid.copy_from_slice(&raw[..16]);
        if type_guid == [0; 16] {
            return None;
        }
        let mut guid = [0u8; 16];
        guid.copy_from_slice(&raw[16..32]);
        let first_lba = le64(raw, 32)?;
        let last_lba = le64(raw, 40)?;
        if first_lba > last_lba || first_lba < self.first_usable || last_lba > self.last_usable {
            return None;
        }
        let mut name = [0u8; 108];
        let units = (0..36)
            .map(|k| u16::from_le_bytes([raw[56 + 2 * k], raw[57 + 2 * k]]))
            .take_while(|&u| u != 0);
        let mut len = 0;
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            let n = c.len_utf8();
            if len + n > name.len() {
                break;
            }
            c.encode_utf8(&mut name[len..len + n]);
            len += n;
        }
        Some(Entry {
            type_guid,
            guid,
            first_lba,
            last_lba,
            name,
            name_len: len,
        })
    }
}

/// The primary GPT of a disk whose first bytes are `head` (LBA 0 on, at
/// least through the entry array): the header and the checked entry
/// array, a slice of `head`.
pub fn parse_image(
    head: &[u8],
    sector: usize,
    disk_sectors: u64,
) -> Result<(Header, &[u8]), Refused> {
    if sector < 512 || !sector.is_power_of_two() {
        return Err("bad sector size");
    }
    let lba1 = bytes(head, sector, sector).ok_or("disk too short for a GPT")?;
    let h = Header::parse(lba1, sector, disk_sectors)?;
    let at = usize::try_from(h.entries_lba)
        .ok()
        .and_then(|l| l.checked_mul(sector))
        .ok_or("GPT entries out of reach")?;
    let table = bytes(head, at, h.entries_len()).ok_or("GPT entries beyond what was read")?;
    h.check_entries(table)?;
    Ok((h, table))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A disk head with a valid GPT of 128 entries at LBA 2 and one
    /// partition `name` at LBA 34..=2047.
    pub fn image(name: &str) -> std::vec::Vec<u8> {
        let mut d = vec![0u8; 512 * 34];
        let mut e = [0u8; 128];
        e[0] = 0xAF; // a type
        e[16..32].copy_from_slice(&[7; 16]);
        e[32..40].copy_from_slice(&34u64.to_le_bytes());
        e[40..48].copy_from_slice(&2047u64.to_le_bytes());
        for (k, u) in name.encode_utf16().enumerate() {
            e[56 + 2 * k..58 + 2 * k].copy_from_slice(&u.to_le_bytes());
        }
        d[1024..1024 + 128].copy_from_slice(&e);
        let ecrc = crc32(0, &d[1024..1024 + 128 * 128]);
        let h = &mut d[512..1024];
        h[..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&1u64.to_le_bytes());
        h[32..40].copy_from_slice(&4095u64.to_le_bytes());
        h[40..48].copy_from_slice(&34u64.to_le_bytes());
        h[48..56].copy_from_slice(&4062u64.to_le_bytes());
        h[72..80].copy_from_slice(&2u64.to_le_bytes());
        h[80..84].copy_from_slice(&128u32.to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        h[88..92].copy_from_slice(&ecrc.to_le_bytes());
        let hcrc = crc32(0, &h[..92]);
        h[16..20].copy_from_slice(&hcrc.to_le_bytes());
        d
    }

    #[test]
    fn reads_a_table() {
        let d = image("rööt");
        let (h, t) = parse_image(&d, 512, 4096).unwrap();
        let e = h.entry(t, 0).unwrap();
        assert_eq!(e.name(), "rööt".as_bytes());
        assert_eq!(e.first_lba, 34);
        assert!(h.entry(t, 1).is_none());
        assert!(h.entry(t, 5000).is_none());
    }

    #[test]
    fn checks_both_crcs_and_bounds() {
        let mut d = image("root");
        d[1024 + 60] ^= 1; // a name byte: the entries CRC
        assert_eq!(
            parse_image(&d, 512, 4096).unwrap_err(),
            "GPT entries CRC mismatch"
        );
        let mut d = image("root");
        d[512 + 40] ^= 1; // first usable: the header CRC
        assert_eq!(
            parse_image(&d, 512, 4096).unwrap_err(),
            "GPT header CRC mismatch"
        );
        let d = image("root");
        assert!(
            parse_image(&d, 512, 2000).is_err(),
            "a disk smaller than the table says"
        );
        assert!(
            parse_image(&d[..2000], 512, 4096).is_err(),
            "entries not read"
        );
        assert!(parse_image(&d, 500, 4096).is_err());
    }
}
