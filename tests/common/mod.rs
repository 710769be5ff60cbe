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

/// A fresh directory every uid can reach, for the files of a target that
/// runs as another uid or without capabilities: the program it executes
/// and its scratch files. Not under `target/`, which sits in the checkout:
/// a checkout inside a 0700 directory (a home directory, often) is out of
/// such a target's reach. `/tmp` rather than `$TMPDIR`, which may be
/// private too. Mode 0755 whatever the umask (a test opens wider what the
/// target must write to); removed when dropped, unless the test failed,
/// so that a failure leaves its files to look at.
pub struct WorldDir(PathBuf);

impl WorldDir {
    pub fn new(name: &str) -> WorldDir {
        use std::os::unix::fs::PermissionsExt;
        let base = Path::new("/tmp");
        let mode = base.metadata().expect("/tmp").permissions().mode();
        assert!(
            mode & 0o001 != 0,
            "/tmp is not world-traversable ({mode:o})"
        );
        let d = base.join(format!("vigil-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        WorldDir(d)
    }

    /// A copy of the program `exe` in this directory, executable by all.
    pub fn program(&self, exe: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let to = self.0.join(exe.file_name().unwrap());
        std::fs::copy(exe, &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
        to
    }
}

impl std::ops::Deref for WorldDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorldDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
