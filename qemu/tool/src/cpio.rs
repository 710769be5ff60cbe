//! A minimal newc ("070701") cpio writer, enough for an initramfs.

use std::collections::BTreeMap;
use std::io::{self, Write};

pub enum Node {
    Dir,
    File { data: Vec<u8>, exec: bool },
    Symlink(String),
    CharDev(u32, u32),
}

/// Archive being built: paths (without leading '/') to nodes. A BTreeMap
/// keeps a parent before its children, as the kernel's unpacker needs.
#[derive(Default)]
pub struct Archive {
    nodes: BTreeMap<String, Node>,
}

fn clean(path: &str) -> Result<String, String> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return Err(format!("bad archive path '{path}'"));
    }
    Ok(parts.join("/"))
}

impl Archive {
    pub fn add(&mut self, path: &str, node: Node) -> Result<(), String> {
        let path = clean(path)?;
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let parent = &path[..at + i];
            match self.nodes.get(parent) {
                None => {
                    self.nodes.insert(parent.to_string(), Node::Dir);
                }
                Some(Node::Dir) => {}
                Some(_) => return Err(format!("'{parent}' is not a directory")),
            }
            at += i + 1;
        }
        match (self.nodes.get(&path), &node) {
            (Some(Node::Dir), Node::Dir) | (None, _) => {}
            _ => return Err(format!("'{path}' given twice")),
        }
        self.nodes.insert(path, node);
        Ok(())
    }

    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let mut w = Writer { out, pos: 0 };
        for (ino, (path, node)) in self.nodes.iter().enumerate() {
            let (mode, data, rdev): (u32, &[u8], (u32, u32)) = match node {
                Node::Dir => (0o040755, &[], (0, 0)),
                Node::File { data, exec } => {
                    (if *exec { 0o100755 } else { 0o100644 }, data, (0, 0))
                }
                Node::Symlink(t) => (0o120777, t.as_bytes(), (0, 0)),
                Node::CharDev(ma, mi) => (0o020600, &[], (*ma, *mi)),
            };
            let nlink = if matches!(node, Node::Dir) { 2 } else { 1 };
            w.entry(ino as u32 + 1, mode, nlink, rdev, path, data)?;
        }
        w.entry(0, 0, 1, (0, 0), "TRAILER!!!", &[])?;
        // Pad the whole archive to a 512-byte block, as cpio(1) does.
        let pad = (512 - w.pos % 512) % 512;
        w.put(&vec![0; pad])
    }
}

struct Writer<'a, W: Write> {
    out: &'a mut W,
    pos: usize,
}

impl<W: Write> Writer<'_, W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.pos += b.len();
        self.out.write_all(b)
    }

    fn align4(&mut self) -> io::Result<()> {
        let pad = (4 - self.pos % 4) % 4;
        self.put(&[0; 3][..pad])
    }

    fn entry(
        &mut self,
        ino: u32,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        name: &str,
        data: &[u8],
    ) -> io::Result<()> {
        // magic, then ino mode uid gid nlink mtime filesize devmajor devminor
        // rdevmajor rdevminor namesize check, each 8 hex digits.
        let fields = [
            ino,
            mode,
            0,
            0,
            nlink,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        let mut hdr = String::from("070701");
        for f in fields {
            hdr.push_str(&format!("{f:08X}"));
        }
        self.put(hdr.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.align4()?;
        self.put(data)?;
        self.align4()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(bytes: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let mut v = Vec::new();
        let mut p = 0;
        let field = |p: usize, i: usize| {
            let s = std::str::from_utf8(&bytes[p + 6 + 8 * i..p + 14 + 8 * i]).unwrap();
            u32::from_str_radix(s, 16).unwrap() as usize
        };
        loop {
            assert_eq!(&bytes[p..p + 6], b"070701");
            let mode = field(p, 1) as u32;
            let size = field(p, 6);
            let nsize = field(p, 11);
            let name = std::str::from_utf8(&bytes[p + 110..p + 110 + nsize - 1]).unwrap();
            assert_eq!(bytes[p + 110 + nsize - 1], 0);
            let d = (p + 110 + nsize + 3) & !3;
            let data = bytes[d..d + size].to_vec();
            v.push((name.to_string(), mode, data));
            if name == "TRAILER!!!" {
                return v;
            }
            p = (d + size + 3) & !3;
        }
    }

    #[test]
    fn layout_and_parents() {
        let mut a = Archive::default();
        a.add(
            "/bin/busybox",
            Node::File {
                data: b"12345".to_vec(),
                exec: true,
            },
        )
        .unwrap();
        a.add(
            "/init",
            Node::File {
                data: b"#!/bin/sh\n".to_vec(),
                exec: false,
            },
        )
        .unwrap();
        a.add("/bin/sh", Node::Symlink("busybox".into())).unwrap();
        a.add("/dev/console", Node::CharDev(5, 1)).unwrap();
        a.add("/lib/modules", Node::Dir).unwrap();
        a.add("lib", Node::Dir).unwrap();
        let mut out = Vec::new();
        a.write(&mut out).unwrap();
        assert_eq!(out.len() % 512, 0);
        let n = names(&out);
        let got: Vec<(&str, u32)> = n.iter().map(|(s, m, _)| (s.as_str(), *m)).collect();
        assert_eq!(
            got,
            [
                ("bin", 0o040755),
                ("bin/busybox", 0o100755),
                ("bin/sh", 0o120777),
                ("dev", 0o040755),
                ("dev/console", 0o020600),
                ("init", 0o100644),
                ("lib", 0o040755),
                ("lib/modules", 0o040755),
                ("TRAILER!!!", 0),
            ]
        );
        assert_eq!(n[1].2, b"12345");
        assert_eq!(n[2].2, b"busybox");
    }

    #[test]
    fn refuses_bad_paths_and_clashes() {
        let mut a = Archive::default();
        assert!(a.add("/", Node::Dir).is_err());
        assert!(a.add("/a/../b", Node::Dir).is_err());
        a.add(
            "/f",
            Node::File {
                data: vec![],
                exec: false,
            },
        )
        .unwrap();
        assert!(a.add("/f/g", Node::Dir).is_err());
        assert!(a.add("/f", Node::Dir).is_err());
    }
}
