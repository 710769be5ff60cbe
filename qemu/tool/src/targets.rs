//! `targets/ARCH`: `KEY=value` lines, `#` comments, values optionally wrapped
//! in double quotes (so that bash can source the same file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct Target {
    pub vars: BTreeMap<String, String>,
}

impl Target {
    pub fn parse(text: &str) -> Result<Target, String> {
        let mut vars = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("line {}: expected KEY=value", n + 1))?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            vars.insert(k.trim().to_string(), v.to_string());
        }
        Ok(Target { vars })
    }

    pub fn load(arch: &str) -> Result<Target, String> {
        if arch.is_empty() || arch.contains('/') || arch.starts_with('.') {
            return Err(format!("bad arch name '{arch}'"));
        }
        let path = targets_dir()?.join(arch);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Target::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn get(&self, key: &str) -> Result<&str, String> {
        self.vars
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("target file has no {key}"))
    }

    /// Like `get`, but an empty value counts as absent.
    pub fn opt(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// `$VIGIL_TARGETS`, else the first `targets/` found walking up from the
/// current directory, else the one next to this crate's sources.
pub fn targets_dir() -> Result<PathBuf, String> {
    if let Some(d) = std::env::var_os("VIGIL_TARGETS") {
        return Ok(PathBuf::from(d));
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let t = dir.join("targets");
            if t.join("x86_64").is_file() {
                return Ok(t);
            }
        }
    }
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../targets");
    if t.is_dir() {
        return Ok(t);
    }
    Err("cannot find the targets/ directory (set VIGIL_TARGETS)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_quoted_and_empty() {
        let t = Target::parse("# c\nA=b\n\nK=\"x y\"\nE=\n").unwrap();
        assert_eq!(t.get("A").unwrap(), "b");
        assert_eq!(t.get("K").unwrap(), "x y");
        assert_eq!(t.get("E").unwrap(), "");
        assert!(t.opt("E").is_none());
        assert!(t.get("Z").is_err());
    }

    #[test]
    fn rejects_junk() {
        assert!(Target::parse("junk\n").is_err());
    }

    #[test]
    fn repo_targets_parse() {
        for arch in ["x86_64", "aarch64"] {
            let t = Target::load(arch).unwrap();
            for k in [
                "RUST_TARGET",
                "DEB_ARCH",
                "QEMU",
                "QEMU_MACHINE",
                "CONSOLE",
                "KERNEL_PKGS",
                "BUSYBOX_PKG",
                "CC",
                "KERNEL_IMAGE_GLOB",
            ] {
                assert!(t.opt(k).is_some(), "{arch}: {k}");
            }
        }
    }
}
