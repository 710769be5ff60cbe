//! An x86 bzImage, decompressed once on the host into the ELF `vmlinux`
//! it carries, for QEMU to boot directly (the PVH entry): under TCG the
//! kernel's own decompressor is emulated, and costs seconds for Debian's
//! xz-compressed generic kernel (4.6 s of a 7.4 s run here) and a part of
//! one for the lz4 and zstd cloud kernels. The same kernel, only not
//! compressed; kept in the cache beside the others.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The decompressor for a payload's magic.
fn tool_for(payload: &[u8]) -> Option<&'static str> {
    const MAGICS: [(&[u8], &str); 5] = [
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x02\x21\x4c\x18", "lz4"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
    ];
    MAGICS
        .iter()
        .find(|(m, _)| payload.starts_with(m))
        .map(|(_, t)| *t)
}

/// The compressed payload of a bzImage (boot protocol 2.08+), if it is one.
pub fn payload(image: &[u8]) -> Option<&[u8]> {
    if image.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let u32_at = |o: usize| {
        image
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
    };
    let version = u16::from_le_bytes(image.get(0x206..0x208)?.try_into().ok()?);
    if version < 0x208 {
        return None;
    }
    let setup_sects = match *image.get(0x1f1)? {
        0 => 4,
        n => n as usize,
    };
    let start = (setup_sects + 1) * 512 + u32_at(0x248)?;
    image.get(start..start + u32_at(0x24c)?)
}

/// Does this ELF have the PVH entry note (`Xen`, type 18)?
pub fn has_pvh_note(elf: &[u8]) -> bool {
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(32), u16_at(54), u16_at(56));
    for i in 0..phnum {
        let p = phoff + i * phentsize;
        if p + 56 > elf.len() || u32_at(p) != 4 {
            continue;
        }
        let (mut at, end) = (u64_at(p + 8), u64_at(p + 8) + u64_at(p + 32));
        while at + 12 <= end.min(elf.len()) {
            let (namesz, descsz, kind) = (u32_at(at), u32_at(at + 4), u32_at(at + 8));
            let name = elf.get(at + 12..at + 12 + namesz).unwrap_or(&[]);
            if kind == 18 && name.starts_with(b"Xen") {
                return true;
            }
            at += 12 + namesz.div_ceil(4) * 4 + descsz.div_ceil(4) * 4;
        }
    }
    false
}

/// The kernel to give QEMU for `image`: its vmlinux from the cache
/// (made there the first time), or `image` itself when it is not a
/// bzImage, or cannot be unpacked here (no decompressor, no PVH note).
pub fn boot_image(image: &Path, cache: &Path) -> PathBuf {
    let Ok(meta) = std::fs::metadata(image) else {
        return image.to_path_buf();
    };
    let stamp = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let name = image
        .file_name()
        .map_or("kernel".into(), |n| n.to_string_lossy().into_owned());
    let out = cache.join(format!("{name}.{}.{stamp}.vmlinux", meta.len()));
    if out.is_file() {
        return out;
    }
    match unpack(image, &out) {
        Ok(()) => out,
        Err(_) => image.to_path_buf(),
    }
}

fn unpack(image: &Path, out: &Path) -> Result<(), String> {
    let bytes = std::fs::read(image).map_err(|e| e.to_string())?;
    let payload = payload(&bytes).ok_or("not a bzImage")?;
    let tool = tool_for(payload).ok_or("unknown compression")?;
    // The build appends the decompressed size, little-endian.
    let want = payload
        .get(payload.len().saturating_sub(4)..)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
        .unwrap_or(0);
    let mut child = Command::new(tool)
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{tool}: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let data = payload.to_vec();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&data);
    });
    // xz and lz4 say the input ends early (the size trailer): the output
    // is checked instead of their status.
    let o = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = feeder.join();
    let elf = o.stdout;
    if elf.len() != want || !has_pvh_note(&elf) {
        return Err("not a PVH vmlinux".into());
    }
    std::fs::create_dir_all(out.parent().unwrap()).map_err(|e| e.to_string())?;
    // Atomic: cells of a matrix may unpack the same kernel at once.
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &elf).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bzimage_header() {
        let mut img = vec![0u8; 0x1000];
        img[0x1f1] = 1;
        img[0x202..0x206].copy_from_slice(b"HdrS");
        img[0x206..0x208].copy_from_slice(&0x20fu16.to_le_bytes());
        img[0x248..0x24c].copy_from_slice(&16u32.to_le_bytes());
        img[0x24c..0x250].copy_from_slice(&6u32.to_le_bytes());
        img[1024 + 16..1024 + 22].copy_from_slice(b"\xfd7zXZ\x00");
        assert_eq!(payload(&img), Some(&b"\xfd7zXZ\x00"[..]));
        assert_eq!(tool_for(payload(&img).unwrap()), Some("xz"));
        img[0x202] = b'X';
        assert_eq!(payload(&img), None);
        assert!(!has_pvh_note(b"\x7fELF"));
    }
}
