//! The targets of the on-disk structures a real root boot reads (MBR, GPT,
//! ext4, squashfs, verity superblocks) and of the root's command line.
//! Each input's first byte picks the device size (or sector size) the
//! parser is told, the rest is the device's first bytes. Besides "never
//! panics", each checks what a successful parse promises, and the CRCs
//! against table-driven reference implementations written here.

use std::sync::OnceLock;

use vigil::init::root::devices::{self, Content, Dev};
use vigil::init::root::spec::{self, DevSpec, Request};
use vigil::init::root::verity::table_params;
use vigil::ondisk::{self, crc, ext4, gpt, mbr, squashfs, verity};
use vigil::out::Buf;

use crate::{count, Out, OK_PARSES};

/// The device size the parser is told, from the selector byte.
fn dev_bytes(sel: u8, len: usize) -> u64 {
    match sel % 4 {
        0 => len as u64,
        1 => u64::MAX,
        2 => (len / 2) as u64,
        _ => (len as u64).saturating_mul(1 + sel as u64),
    }
}

fn split(data: &[u8]) -> (u8, &[u8]) {
    (
        data.first().copied().unwrap_or(0),
        data.get(1..).unwrap_or(&[]),
    )
}

/// Reflected CRC tables, built the textbook way.
fn table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 { (c >> 1) ^ poly } else { c >> 1 };
        }
        *e = c;
    }
    t
}

fn crc32_ref(data: &[u8]) -> u32 {
    static T: OnceLock<[u32; 256]> = OnceLock::new();
    let t = T.get_or_init(|| table(0xEDB8_8320));
    !data.iter().fold(!0u32, |c, &b| {
        t[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
    })
}

fn crc32c_raw_ref(data: &[u8]) -> u32 {
    static T: OnceLock<[u32; 256]> = OnceLock::new();
    let t = T.get_or_init(|| table(0x82F6_3B78));
    data.iter().fold(!0u32, |c, &b| {
        t[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
    })
}

/// What the boot does with a device's first bytes: classify them, as a
/// disk (with a sector size) and as a partition.
fn classify_all(head: &[u8], sel: u8) {
    for sector in [0, 512, 4096] {
        let c = devices::classify(head, dev_bytes(sel, head.len()), sector);
        let mut d = Dev::new();
        d.bytes = head.len() as u64;
        d.content = c;
        let mut out = Out(Vec::new());
        d.describe(&mut out);
        assert!(
            !out.0.contains(&b'\n'),
            "a device's line has a newline: {:?}",
            out.0
        );
        if let Content::Gpt(n) = c {
            assert!(n <= gpt::MAX_ENTRIES);
        }
        d.partn = 1;
        devices::ids_from_table(head, head.len() as u64, sector.max(512), &mut d);
        assert!(
            std::str::from_utf8(&d.partname).is_ok(),
            "partition name not UTF-8"
        );
        for s in [
            DevSpec::Label("x"),
            DevSpec::Uuid("00"),
            DevSpec::PartLabel("x"),
        ] {
            let _ = d.matches(&s);
        }
    }
}

pub fn mbr(data: &[u8]) {
    let (sel, img) = split(data);
    let sectors = dev_bytes(sel, img.len()) / 512;
    if let Ok(m) = mbr::parse(img, sectors) {
        count(&OK_PARSES, 1);
        assert_eq!(ondisk::le16(img, 510), Some(0xAA55));
        assert_eq!(Some(m.signature), ondisk::le32(img, 440));
        for (i, p) in m.parts.iter().enumerate() {
            let Some(p) = p else { continue };
            assert!(p.kind != 0 && p.sectors != 0, "an empty entry kept: {p:?}");
            assert!(
                p.kind == 0xEE || p.start as u64 + p.sectors as u64 <= sectors,
                "a partition past the disk: {p:?} of {sectors}"
            );
            let u = m.partuuid(i as u8 + 1);
            assert!(
                u[8] == b'-'
                    && u.iter()
                        .enumerate()
                        .all(|(k, c)| k == 8 || c.is_ascii_hexdigit())
            );
        }
    }
    classify_all(img, sel);
}

pub fn gpt(data: &[u8]) {
    let (sel, img) = split(data);
    // vigil's bitwise CRC over a prefix (all of it would be most of the
    // run time); the parse below checks it over whole tables.
    let pre = &img[..img.len().min(512)];
    assert_eq!(
        crc::crc32(0, pre),
        crc32_ref(pre),
        "crc32 differs from the reference"
    );
    let sector = if sel & 0x80 != 0 { 4096 } else { 512 };
    let sectors = dev_bytes(sel, img.len()) / sector as u64;
    if let Ok((h, t)) = gpt::parse_image(img, sector, sectors) {
        count(&OK_PARSES, 1);
        let size = ondisk::le32(img, sector + 12).unwrap() as usize;
        let mut hdr = img[sector..sector + size].to_vec();
        hdr[16..20].fill(0);
        assert_eq!(
            crc32_ref(&hdr),
            ondisk::le32(img, sector + 16).unwrap(),
            "header CRC not checked"
        );
        assert_eq!(crc32_ref(t), h.entries_crc, "entries CRC not checked");
        assert_eq!(t.len(), h.entries_len());
        assert!(h.entries <= gpt::MAX_ENTRIES && h.entry_size <= gpt::MAX_ENTRY_SIZE);
        assert!(h.first_usable <= h.last_usable && h.last_usable < sectors);
        for i in 0..h.entries + 2 {
            if let Some(e) = h.entry(t, i) {
                assert!(i < h.entries);
                assert!(e.type_guid != [0; 16]);
                assert!(
                    h.first_usable <= e.first_lba
                        && e.first_lba <= e.last_lba
                        && e.last_lba <= h.last_usable
                );
                assert!(std::str::from_utf8(e.name()).is_ok());
                let g = ondisk::guid_text(&e.guid);
                assert!(std::str::from_utf8(&g).is_ok());
            }
        }
    }
    classify_all(img, sel);
}

pub fn ext4(data: &[u8]) {
    let (sel, sb) = split(data);
    let dev = dev_bytes(sel, sb.len() + ext4::OFFSET);
    if let Ok(e) = ext4::parse(sb, dev) {
        count(&OK_PARSES, 1);
        assert!(ondisk::pow2_within(e.block_size as u64, 1024, 65536));
        assert!(e.blocks > 0 && (e.blocks as u128) * (e.block_size as u128) <= dev as u128);
        if e.checksummed {
            assert_eq!(
                crc32c_raw_ref(&sb[..0x3FC]),
                ondisk::le32(sb, 0x3FC).unwrap(),
                "checksum not checked"
            );
        }
        assert!(e.label().len() <= 16 && !e.label().contains(&0));
        assert!(["ext2", "ext3", "ext4"].contains(&e.flavour));
    }
    let mut head = vec![0u8; ext4::OFFSET];
    head.extend_from_slice(sb);
    classify_all(&head, sel);
}

pub fn squashfs(data: &[u8]) {
    let (sel, sb) = split(data);
    let dev = dev_bytes(sel, sb.len());
    if let Ok(s) = squashfs::parse(sb, dev) {
        count(&OK_PARSES, 1);
        assert!(ondisk::pow2_within(s.block_size as u64, 4096, 1 << 20));
        assert!(s.bytes_used >= squashfs::SIZE as u64 && s.bytes_used <= dev);
        assert!(["gzip", "lzma", "lzo", "xz", "lz4", "zstd"].contains(&s.compression));
    }
    classify_all(sb, sel);
}

pub fn verity(data: &[u8]) {
    let (sel, sb) = split(data);
    if let Ok(v) = verity::parse(sb) {
        count(&OK_PARSES, 1);
        let alg = v.algorithm();
        assert!(
            !alg.is_empty()
                && alg
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        );
        assert!(v.salt().len() <= 256);
        assert!(v.data_blocks > 0);
        let _ = v.data_bytes();
        // The table line: one line of ten fields (twelve with a mode).
        for mode in [spec::Corruption::Eio, spec::Corruption::Panic] {
            let mut line = Out(Vec::new());
            table_params(
                (254, sel as u32),
                (8, 3),
                &v,
                1 + sel as u64,
                "00ff",
                mode,
                &mut line,
            );
            let s = std::str::from_utf8(&line.0).expect("table not UTF-8");
            assert!(!s.contains(['\n', '\0']), "{s:?}");
            let fields = s.split(' ').count();
            assert_eq!(
                fields,
                if mode == spec::Corruption::Eio {
                    10
                } else {
                    12
                },
                "{s:?}"
            );
            let mut cut = Buf::<64>::new();
            table_params((1, 2), (3, 4), &v, 0, "ab", mode, &mut cut);
        }
        let dev = |bytes| {
            let mut d = Dev::new();
            d.bytes = bytes;
            d
        };
        let opts = spec::VerityOptions {
            hash_offset: (sel as u64) * 512,
            on_corruption: spec::Corruption::Eio,
        };
        if let Ok(start) = vigil::init::root::verity::check(
            &v,
            &dev(dev_bytes(sel, 1 << 20)),
            &dev(1 << 20),
            &opts,
            "00",
        ) {
            assert!(start >= 1);
        }
    }
    classify_all(sb, sel);
}

/// The root keys of a kernel command line, and `root=` syntax.
pub fn rootspec(data: &[u8]) {
    let mut req = Request::NONE;
    let mut broken = None;
    spec::parse_cmdline(data, &mut req, &mut broken, |word, why| {
        assert!(!why.is_empty());
        let inside = data.as_ptr_range();
        assert!(
            inside.contains(&word.as_ptr()) || word.is_empty(),
            "a word outside the text"
        );
    });
    if req.check().is_ok() && req.wants_root() {
        count(&OK_PARSES, 1);
    }
    let merged = req.merge(&Request::NONE);
    assert_eq!(merged, req);
    if let Some(o) = req.verity_options {
        let _ = spec::parse_verity_options(o);
    }
    for word in spec::words(data) {
        let Ok(w) = std::str::from_utf8(word) else {
            continue;
        };
        let v = w.split_once('=').map_or(w, |(_, v)| v);
        for s in [w, v] {
            let Ok(d) = spec::parse_dev(s) else { continue };
            // What the messages print parses back to the same device.
            let mut out = Out(Vec::new());
            devices::spec_text(&d, &mut out);
            let printed = String::from_utf8(out.0).expect("spec text not UTF-8");
            let plain = match d {
                DevSpec::Name(x)
                | DevSpec::PartUuid(x)
                | DevSpec::PartLabel(x)
                | DevSpec::Uuid(x)
                | DevSpec::Label(x) => x
                    .bytes()
                    .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\\'),
                DevSpec::Number(..) => true,
            };
            if plain && !matches!(d, DevSpec::Number(..)) {
                assert_eq!(spec::parse_dev(&printed), Ok(d), "{printed:?}");
            }
        }
        let _ = spec::parse_verity_options(v);
        let _ = spec::check_root_hash(v);
    }
}
