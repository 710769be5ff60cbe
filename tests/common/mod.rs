//! Shared helpers of the host integration tests: the vigil binary, test
//! programs compiled from `tests/progs`, and policy files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The binary under test: `VIGIL_BIN` (e.g. the static musl build), or the
/// one cargo built for these tests.
pub fn vigil() -> PathBuf {
    std::env::var_os("VIGIL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_vigil")))
}

pub fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Compile `tests/progs/NAME.c` once per test run.
pub fn prog(name: &str) -> PathBuf {
    static LOCK: OnceLock<std::sync::Mutex<()>> = OnceLock::new();
    let _g = LOCK.get_or_init(Default::default).lock().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/progs")
        .join(format!("{name}.c"));
    let out = tmp().join(format!("prog-{name}"));
    let fresh = out.exists()
        && out.metadata().unwrap().modified().unwrap()
            >= src.metadata().unwrap().modified().unwrap();
    if !fresh {
        let st = Command::new("cc")
            .args(["-O2", "-Wall", "-pthread", "-static", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("cc");
        assert!(st.success(), "compiling {}", src.display());
    }
    out
}

/// Write a policy file with a unique name and return its path.
pub fn policy(name: &str, text: &str) -> PathBuf {
    let p = tmp().join(format!("{name}.policy"));
    std::fs::write(&p, text).unwrap();
    p
}

/// `vigil run --policy P -- ARGS...`
pub fn run(policy: &Path, args: &[&str]) -> Output {
    Command::new(vigil())
        .arg("run")
        .arg("--policy")
        .arg(policy)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run vigil")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The worker that serves a `vigil run` monitor's listener (a policy with
/// path rules has one): vigil's child with vigil's name.
pub fn worker_of(vigil: u32) -> Option<u32> {
    let comm = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok();
    let me = comm(&vigil.to_string())?;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
            continue;
        };
        let ppid: u32 = rest
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == vigil && comm(&name).as_deref() == Some(&me) {
            return Some(pid);
        }
    }
    None
}
