//! The two CRCs of the formats vigil reads, bit by bit: a few KB of
//! metadata per boot do not need tables.

/// CRC-32 (IEEE 802.3, reflected, as zlib and GPT): the running value is
/// inverted in and out, so `crc32(crc32(0, a), b) == crc32(0, a ++ b)`.
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    !update(!crc, data, 0xEDB8_8320)
}

/// CRC-32C (Castagnoli, reflected) without the final inversion, as ext4's
/// `ext4_chksum` computes it: pass `!0` as the start value.
pub fn crc32c_raw(crc: u32, data: &[u8]) -> u32 {
    update(crc, data, 0x82F6_3B78)
}

fn update(mut crc: u32, data: &[u8], poly: u32) -> u32 {
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                crc >> 1 ^ poly
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        // The standard check input of both CRCs.
        assert_eq!(crc32(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(!crc32c_raw(!0, b"123456789"), 0xE306_9283);
        assert_eq!(crc32(crc32(0, b"1234"), b"56789"), 0xCBF4_3926);
    }
}
