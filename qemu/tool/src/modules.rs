//! Pick kernel modules and their dependencies, in load order, from a
//! `lib/modules/RELEASE` directory (its modules.dep and modules.builtin).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The module name of a path in modules.dep: basename without `.ko[.xz|.gz|.zst]`,
/// with '-' read as '_' (as the kernel does).
pub fn name_of(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.split(".ko").next().unwrap_or(base);
    base.replace('-', "_")
}

pub struct ModDir {
    pub dir: PathBuf,
    /// (module path relative to dir, its dependencies as listed)
    deps: Vec<(String, Vec<String>)>,
    builtin: HashSet<String>,
}

pub enum Pick {
    /// Built into the kernel: nothing to load.
    Builtin(String),
    /// Load in this order: (name, path to the .ko or compressed .ko file).
    Load(Vec<(String, PathBuf)>),
}

impl ModDir {
    pub fn open(dir: &Path) -> Result<ModDir, String> {
        let read = |f: &str| {
            std::fs::read_to_string(dir.join(f)).map_err(|e| {
                format!(
                    "{}: {e} (run qemu/fetch, which runs depmod)",
                    dir.join(f).display()
                )
            })
        };
        Ok(ModDir::parse(
            dir,
            &read("modules.dep")?,
            &read("modules.builtin").unwrap_or_default(),
        ))
    }

    pub fn parse(dir: &Path, dep: &str, builtin: &str) -> ModDir {
        let deps = dep
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(m, d)| {
                (
                    m.trim().to_string(),
                    d.split_whitespace().map(String::from).collect(),
                )
            })
            .collect();
        let builtin = builtin.lines().map(name_of).collect();
        ModDir {
            dir: dir.to_path_buf(),
            deps,
            builtin,
        }
    }

    fn find(&self, name: &str) -> Option<&(String, Vec<String>)> {
        let name = name_of(name);
        self.deps.iter().find(|(m, _)| name_of(m) == name)
    }

    /// Modules to load for `names`, dependencies first, each once.
    pub fn resolve(&self, names: &[String]) -> Result<Vec<(String, Pick)>, String> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for n in names {
            let n = name_of(n);
            if self.builtin.contains(&n) {
                out.push((n.clone(), Pick::Builtin(n)));
                continue;
            }
            let (path, deps) = self
                .find(&n)
                .ok_or_else(|| format!("no module '{n}' in {}", self.dir.display()))?;
            // modules.dep lists the deepest dependency last: load in reverse.
            let mut load = Vec::new();
            for p in deps.iter().rev().chain(std::iter::once(path)) {
                if seen.insert(name_of(p)) {
                    load.push((name_of(p), self.dir.join(p)));
                }
            }
            out.push((n, Pick::Load(load)));
        }
        Ok(out)
    }
}

/// A module file's bytes, decompressed if it is `.ko.xz`/`.ko.gz`/`.ko.zst`
/// (by the host's xz/gzip/zstd: the guest gets a plain .ko for finit_module).
pub fn read_module(path: &Path) -> Result<Vec<u8>, String> {
    let s = path.to_string_lossy();
    let tool = if s.ends_with(".xz") {
        "xz"
    } else if s.ends_with(".gz") {
        "gzip"
    } else if s.ends_with(".zst") {
        "zstd"
    } else {
        return std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    };
    let out = Command::new(tool)
        .args(["-dc", "--"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run {tool}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{tool} -dc {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "\
kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/char/hw_random/virtio-rng.ko:
";

    #[test]
    fn order_and_dedup() {
        let m = ModDir::parse(Path::new("/m"), DEP, "kernel/drivers/block/loop.ko\n");
        let r = m
            .resolve(&[
                "virtio_pci".into(),
                "virtio-blk".into(),
                "loop".into(),
                "virtio_rng".into(),
            ])
            .unwrap();
        let mut names = Vec::new();
        for (_, p) in &r {
            match p {
                Pick::Builtin(n) => names.push(format!("builtin:{n}")),
                Pick::Load(v) => names.extend(v.iter().map(|(n, _)| n.clone())),
            }
        }
        assert_eq!(
            names,
            [
                "virtio_ring",
                "virtio",
                "virtio_pci_modern_dev",
                "virtio_pci_legacy_dev",
                "virtio_pci",
                "virtio_blk",
                "builtin:loop",
                "virtio_rng"
            ]
        );
        assert!(m.resolve(&["nope".into()]).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(name_of("a/b/virtio-rng.ko.xz"), "virtio_rng");
        assert_eq!(name_of("virtio_blk"), "virtio_blk");
    }
}
