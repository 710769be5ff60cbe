//! What kind of program a file is: an ELF of which machine, static or
//! dynamic (it names an ELF interpreter), or a `#!` script. Only the
//! headers are read.

use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An ELF program: its arch (`x86_64`, `aarch64`, or `machine N`) and
    /// its interpreter (`PT_INTERP`), if it has one.
    Elf {
        arch: String,
        interp: Option<String>,
    },
    /// `#!INTERP [ARG]`.
    Script {
        interp: String,
        arg: Option<String>,
    },
    Other,
}

/// The arch name of an ELF `e_machine` (as in `targets/`).
pub fn arch_name(machine: u16) -> String {
    match machine {
        62 => "x86_64".into(),
        183 => "aarch64".into(),
        3 => "i386".into(),
        40 => "arm".into(),
        243 => "riscv64".into(),
        n => format!("machine {n}"),
    }
}

/// Classify the bytes of a file's start (at least its ELF program
/// headers, or its first line).
pub fn classify(head: &[u8]) -> Kind {
    if let Some(rest) = head.strip_prefix(b"#!") {
        let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
        let line = String::from_utf8_lossy(line);
        let mut it = line.trim().splitn(2, [' ', '\t']);
        let interp = it.next().unwrap_or("").to_string();
        let arg = it
            .next()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty());
        if interp.is_empty() {
            return Kind::Other;
        }
        return Kind::Script { interp, arg };
    }
    if head.len() < 64 || &head[..4] != b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        // Only 64-bit little-endian ELF is a guest program here.
        if head.len() >= 20 && &head[..4] == b"\x7fELF" {
            let machine = u16::from_le_bytes([head[18], head[19]]);
            return Kind::Elf {
                arch: format!("{} (32-bit or big-endian)", arch_name(machine)),
                interp: None,
            };
        }
        return Kind::Other;
    }
    let u16_at = |o: usize| u16::from_le_bytes([head[o], head[o + 1]]);
    let u64_at = |o: usize| {
        head.get(o..o + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    let machine = u16_at(18);
    let phoff = u64_at(32) as usize;
    let phentsize = u16_at(54) as usize;
    let phnum = u16_at(56) as usize;
    let mut interp = None;
    for i in 0..phnum {
        let p = phoff + i * phentsize;
        let Some(ph) = head.get(p..p + 56) else { break };
        let ptype = u32::from_le_bytes(ph[..4].try_into().unwrap());
        if ptype == 3 {
            // PT_INTERP: the path, NUL-terminated, at p_offset.
            let off = u64::from_le_bytes(ph[8..16].try_into().unwrap()) as usize;
            let size = u64::from_le_bytes(ph[32..40].try_into().unwrap()) as usize;
            if let Some(b) = head.get(off..off + size) {
                let b = b.split(|&c| c == 0).next().unwrap_or(b);
                interp = Some(String::from_utf8_lossy(b).into_owned());
            } else {
                interp = Some("?".into());
            }
        }
    }
    Kind::Elf {
        arch: arch_name(machine),
        interp,
    }
}

/// Read enough of `path` to classify it.
pub fn classify_file(path: &Path) -> Result<Kind, String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut head = Vec::new();
    f.by_ref()
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(classify(&head))
}

/// `prog` as the shell would find it: as given if it has a slash, else the
/// first executable file of that name on `$PATH`. Made absolute.
pub fn find_program(prog: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let exec = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let found = if prog.contains('/') {
        let p = PathBuf::from(prog);
        if !p.exists() {
            return Err(format!("{prog}: no such file"));
        }
        if !exec(&p) {
            return Err(format!("{prog}: not an executable file"));
        }
        p
    } else {
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        path.split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join(prog))
            .find(|p| exec(p))
            .ok_or_else(|| format!("{prog}: not found on PATH"))?
    };
    std::path::absolute(&found).map_err(|e| format!("{}: {e}", found.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert_eq!(
            classify(b"#!/bin/sh -e\necho\n"),
            Kind::Script {
                interp: "/bin/sh".into(),
                arg: Some("-e".into())
            }
        );
        assert_eq!(
            classify(b"#! /usr/bin/env python3\n"),
            Kind::Script {
                interp: "/usr/bin/env".into(),
                arg: Some("python3".into())
            }
        );
        assert_eq!(classify(b"#!\n"), Kind::Other);
        assert_eq!(classify(b"hello"), Kind::Other);
    }

    #[test]
    fn host_programs() {
        // The test binary itself: an ELF of the host's arch. A host
        // dynamic program (the shell) names its interpreter.
        let me = classify_file(&std::env::current_exe().unwrap()).unwrap();
        let Kind::Elf { arch, .. } = me else {
            panic!("{me:?}")
        };
        assert_eq!(arch, std::env::consts::ARCH);
        let sh = classify_file(Path::new("/bin/sh")).unwrap();
        assert!(
            matches!(&sh, Kind::Elf { interp: Some(i), .. } if i.contains("ld-")),
            "{sh:?}"
        );
    }

    #[test]
    fn finds_programs() {
        assert!(find_program("sh").unwrap().is_absolute());
        assert!(find_program("no-such-program-here").is_err());
        assert!(find_program("./no/such").is_err());
        let e = find_program("/etc/passwd").unwrap_err();
        assert!(e.contains("not an executable"), "{e}");
    }
}
