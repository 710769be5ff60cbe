//! `vigil-qemu run`: one command from a program on the host to its exit
//! status in a VM. Everything that can be wrong with the input is found
//! before QEMU starts.
//!
//! How a program gets into the guest:
//! - a static ELF of the guest's arch is packed into the initramfs at its
//!   own absolute path;
//! - a dynamic ELF of the host's arch (or a `#!` script whose interpreter
//!   is one) runs from a read-only share of the host's `/`, mounted at
//!   `/host` with the guest's own /proc, /sys, /dev, /tmp and /run on top,
//!   the test chrooted into it (`root /host`) in the host's current
//!   directory. A share, not packing its ELF libraries: what a program
//!   opens at run time is not in its program headers (Python's standard
//!   library and its `lib-dynload` modules, git's helpers and templates,
//!   gconv, locales, NSS modules, CA certificates), and a share costs the
//!   same for `true` as for a whole interpreter;
//! - a `#!/bin/sh` script for a guest of another arch runs under the
//!   guest arch's busybox as `/bin/sh`.

use crate::boot::{self, BootArgs, Verdict, EXIT_USAGE};
use crate::cpio::{Archive, Node};
use crate::elf::{self, Kind};
use crate::modules::{self, ModDir, Pick};
use crate::targets::{self, Target};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A failure before QEMU starts (exit 2) or after (the rig's: 125).
#[derive(Debug)]
pub enum Fail {
    Input(String),
    Rig(String),
}

impl Fail {
    pub fn code(&self) -> i32 {
        match self {
            Fail::Input(_) => EXIT_USAGE,
            Fail::Rig(_) => boot::EXIT_QEMU,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Fail::Input(m) | Fail::Rig(m) => m,
        }
    }
}

fn input<T>(m: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Input(m.into()))
}

/// The share transports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fs {
    VirtioFs,
    NineP,
}

impl Fs {
    fn name(self) -> &'static str {
        match self {
            Fs::VirtioFs => "virtiofs",
            Fs::NineP => "9p",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub host: PathBuf,
    pub guest: String,
    pub ro: bool,
}

/// `HOSTDIR[=GUESTDIR][:ro|:rw]`.
pub fn parse_share(v: &str) -> Result<Share, String> {
    let (v, ro) = match (v.strip_suffix(":ro"), v.strip_suffix(":rw")) {
        (Some(p), _) => (p, true),
        (_, Some(p)) => (p, false),
        _ => (v, false),
    };
    let (host, guest) = match v.split_once('=') {
        Some((h, g)) => (h, Some(g)),
        None => (v, None),
    };
    if host.is_empty() {
        return Err(format!("--share '{v}': no host directory"));
    }
    let host = std::path::absolute(host).map_err(|e| format!("--share {host}: {e}"))?;
    let guest = match guest {
        Some(g) if g.starts_with('/') => g.trim_end_matches('/').to_string(),
        Some(g) => return Err(format!("--share: guest directory '{g}' must be absolute")),
        None => host.to_string_lossy().trim_end_matches('/').to_string(),
    };
    if guest.is_empty() || guest.split('/').any(|c| c == ".." || c == ".") {
        return Err(format!("--share: bad guest directory '{guest}'"));
    }
    Ok(Share { host, guest, ro })
}

/// Everything `run` was asked.
#[derive(Debug, Default)]
pub struct RunArgs {
    pub arch: Option<String>,
    pub kernel: Option<String>,
    pub modules: Option<PathBuf>,
    pub files: Vec<(String, PathBuf)>,
    pub shares: Vec<Share>,
    pub fs: Option<Fs>,
    pub timeout: u64,
    pub mem: u32,
    pub smp: u32,
    pub append: Vec<String>,
    pub policy: Option<String>,
    pub env: Vec<String>,
    pub verbose: bool,
    pub keep: bool,
    pub vigil: Option<PathBuf>,
    pub log: Option<PathBuf>,
    /// Where to write `CODE CLASS DESCRIPTION` at the end (for `matrix`
    /// and CI scripts: the class tells a test's 124 from a timeout).
    pub status_file: Option<PathBuf>,
    /// Check and pack, print what would run, do not boot.
    pub dry_run: bool,
    pub prog: Vec<String>,
}

pub const RUN_USAGE: &str =
    "  vigil-qemu run [--arch A] [--kernel PATH|PACKAGE] [--file DEST=SRC]...
                 [--share HOSTDIR[=GUESTDIR][:ro]]... [--fs virtiofs|9p]
                 [--timeout S] [--mem MB] [--smp N] [--append ARGS]
                 [--policy FILE|default] [--env KEY=VALUE]... [--modules DIR]
                 [--vigil FILE] [--log FILE] [--status-file FILE] [--keep]
                 [--dry-run] [-v] -- PROG [ARGS...]
      boot PROG in a VM with vigil as PID 1; its output streams to stdout,
      and its exit status is ours (128+N for signal N). 2: bad input (before
      QEMU starts), 123: bad guest setup, 124: timeout, 125: QEMU failed,
      126: kernel panic.
";

pub fn parse_args(argv: Vec<String>) -> Result<RunArgs, String> {
    let mut a = RunArgs {
        timeout: 120,
        mem: 256,
        smp: 1,
        ..RunArgs::default()
    };
    let mut it = argv.into_iter();
    let num = |f: &str, v: String| {
        v.parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{f} wants a positive whole number, got '{v}'"))
    };
    while let Some(f) = it.next() {
        if f == "--" {
            a.prog = it.collect();
            break;
        }
        if f == "-v" || f == "--verbose" {
            a.verbose = true;
            continue;
        }
        if f == "--keep" {
            a.keep = true;
            continue;
        }
        if f == "--dry-run" {
            a.dry_run = true;
            continue;
        }
        if !f.starts_with('-') {
            // PROG without `--`: the rest is its command line.
            a.prog = std::iter::once(f).chain(it).collect();
            break;
        }
        let v = it.next().ok_or_else(|| format!("{f} needs a value"))?;
        match f.as_str() {
            "--arch" => a.arch = Some(v),
            "--kernel" => a.kernel = Some(v),
            "--modules" => a.modules = Some(v.into()),
            "--file" => {
                let (d, s) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--file wants DEST=SRC, got '{v}'"))?;
                if !d.starts_with('/') {
                    return Err(format!("--file {v}: DEST must be absolute"));
                }
                a.files.push((d.into(), s.into()));
            }
            "--share" => a.shares.push(parse_share(&v)?),
            "--fs" => {
                a.fs = Some(match v.as_str() {
                    "virtiofs" | "virtio-fs" => Fs::VirtioFs,
                    "9p" => Fs::NineP,
                    _ => return Err(format!("--fs takes virtiofs or 9p, got '{v}'")),
                })
            }
            "--timeout" => a.timeout = num(&f, v)?,
            "--mem" => a.mem = num(&f, v)? as u32,
            "--smp" => a.smp = num(&f, v)? as u32,
            "--append" => a.append.push(v),
            "--policy" => a.policy = Some(v),
            "--env" => {
                if !v.contains('=') || v.starts_with('=') {
                    return Err(format!("--env wants KEY=VALUE, got '{v}'"));
                }
                a.env.push(v)
            }
            "--vigil" => a.vigil = Some(v.into()),
            "--log" => a.log = Some(v.into()),
            "--status-file" => a.status_file = Some(v.into()),
            _ => return Err(format!("run: unknown option '{f}'")),
        }
    }
    if a.prog.is_empty() {
        return Err("run: no program given (vigil-qemu run [OPTIONS] -- PROG [ARGS...])".into());
    }
    Ok(a)
}

/// The repository (where `targets/` is): the kernel fetcher and vigil's
/// sources are there.
fn repo_root() -> Result<PathBuf, Fail> {
    let t = targets::targets_dir().map_err(Fail::Input)?;
    Ok(t.parent().unwrap_or(Path::new(".")).to_path_buf())
}

fn cache_dir(root: &Path) -> PathBuf {
    std::env::var_os("VIGIL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache"))
}

/// A kernel and where its modules are.
#[derive(Debug, Clone)]
pub struct Kernel {
    pub image: PathBuf,
    pub modules: Option<PathBuf>,
    pub name: String,
    pub busybox: Option<PathBuf>,
}

/// `--kernel PATH|PACKAGE` (default: the first of the arch's KERNEL_PKGS),
/// fetched into the cache by `qemu/fetch` when it is a package.
pub fn resolve_kernel(
    root: &Path,
    arch: &str,
    t: &Target,
    want: Option<&str>,
) -> Result<Kernel, Fail> {
    let pkgs = t.get("KERNEL_PKGS").map_err(Fail::Input)?;
    let want = want.unwrap_or_else(|| pkgs.split_whitespace().next().unwrap_or(""));
    let as_path = Path::new(want);
    if want.contains('/') || as_path.is_file() {
        if !as_path.is_file() {
            return input(format!("--kernel {want}: no such file"));
        }
        // An unpacked Debian package: boot/vmlinuz-REL beside lib/modules/REL.
        let image = std::path::absolute(as_path).map_err(|e| Fail::Input(e.to_string()))?;
        let name = image
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let release = name.strip_prefix("vmlinuz-").unwrap_or("");
        let modules = image.parent().and_then(Path::parent).and_then(|top| {
            ["lib/modules", "usr/lib/modules"]
                .iter()
                .map(|m| top.join(m).join(release))
                .find(|d| !release.is_empty() && d.join("modules.dep").is_file())
        });
        return Ok(Kernel {
            image,
            modules,
            name,
            busybox: None,
        });
    }
    if let Some(k) = cached_kernel(&cache_dir(root), t, want) {
        return Ok(k);
    }
    let out = Command::new(root.join("qemu/fetch"))
        .args([arch, want])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Fail::Input(format!("cannot run qemu/fetch: {e}")))?;
    if !out.status.success() {
        return input(format!(
            "cannot fetch kernel package '{want}' for {arch}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .map(PathBuf::from)
    };
    let image = get("KERNEL").ok_or_else(|| Fail::Input("qemu/fetch printed no KERNEL".into()))?;
    Ok(Kernel {
        name: get("KERNEL_RELEASE").map_or(want.to_string(), |p| p.to_string_lossy().into_owned()),
        image,
        modules: get("MODULES"),
        busybox: get("BUSYBOX"),
    })
}

/// What `qemu/fetch ARCH PKG` would print, read from the cache without
/// running it (a bash script and its helpers cost 0.1 s a run), under the
/// same rule: the last resolution of the package counts while no apt
/// package list is newer than it. `None`: ask `qemu/fetch`.
fn cached_kernel(cache: &Path, t: &Target, pkg: &str) -> Option<Kernel> {
    let dir = cache.join(t.get("ARCH").ok()?);
    let resolved = |p: &str| -> Option<PathBuf> {
        let rec = dir.join("resolved").join(p);
        let when = std::fs::metadata(&rec).ok()?.modified().ok()?;
        let newer = std::fs::read_dir("/var/lib/apt/lists")
            .ok()?
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().contains("Packages")
                    && e.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|m| m > when)
            });
        if newer {
            return None;
        }
        let text = std::fs::read_to_string(&rec).ok()?;
        let (name, ver) = text.trim().split_once(' ')?;
        let d = dir
            .join("pkg")
            .join(format!("{name}_{}", ver.replace(':', "%")));
        d.join(".done").is_file().then_some(d)
    };
    let kdir = resolved(pkg)?;
    let image = std::fs::read_dir(kdir.join("boot"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })?;
    let release = image
        .file_name()?
        .to_string_lossy()
        .strip_prefix("vmlinuz-")?
        .to_string();
    let modules = ["lib/modules", "usr/lib/modules"]
        .iter()
        .map(|m| kdir.join(m).join(&release))
        .find(|d| d.join("modules.dep").is_file())?;
    let busybox = resolved(t.get("BUSYBOX_PKG").ok()?)?.join("bin/busybox");
    Some(Kernel {
        image,
        modules: Some(modules),
        name: release,
        busybox: busybox.is_file().then_some(busybox),
    })
}

/// vigil for `t`'s arch, built if needed.
pub fn vigil_for(root: &Path, t: &Target) -> Result<PathBuf, Fail> {
    vigil_binary(root, t, None)
}

/// vigil for `arch`: `--vigil`, or the repository's release build, built
/// (or rebuilt, when a source is newer) with cargo.
fn vigil_binary(root: &Path, t: &Target, given: Option<&Path>) -> Result<PathBuf, Fail> {
    if let Some(p) = given {
        if !p.is_file() {
            return input(format!("--vigil {}: no such file", p.display()));
        }
        return Ok(p.to_path_buf());
    }
    let rust_target = t.get("RUST_TARGET").map_err(Fail::Input)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target_dir.join(rust_target).join("release/vigil");
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let stale = match built {
        None => true,
        Some(b) => newest(&[
            root.join("src"),
            root.join("policy"),
            root.join("build.rs"),
            root.join("Cargo.toml"),
            root.join("Cargo.lock"),
        ])
        .is_some_and(|n| n > b),
    };
    if stale {
        eprintln!("vigil-qemu: building vigil for {rust_target}");
        let st = Command::new("cargo")
            .args(["build", "-q", "--release", "--target", rust_target])
            .current_dir(root)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| Fail::Input(format!("cannot run cargo: {e}")))?;
        if !st.success() || !bin.is_file() {
            return input(format!(
                "cargo build --release --target {rust_target} failed"
            ));
        }
    }
    Ok(bin)
}

/// The newest modification time under these paths.
fn newest(paths: &[PathBuf]) -> Option<std::time::SystemTime> {
    let mut best = None;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if let Ok(t) = m.modified() {
            best = best.max(Some(t));
        }
    }
    best
}

/// How the test program gets into the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Packed at its path.
    Packed,
    /// Run from the share of the host's `/`.
    HostRoot,
    /// A `#!/bin/sh` script under the guest's busybox.
    Busybox,
}

/// Decide how `prog` (absolute) runs in a guest of `arch` on this host.
pub fn program_mode(prog: &Path, arch: &str, host_arch: &str) -> Result<Mode, String> {
    let shown = prog.display();
    match elf::classify_file(prog)? {
        Kind::Elf { arch: a, interp } if a != arch => {
            let dynamic = if interp.is_some() {
                "a dynamic "
            } else {
                "an "
            };
            Err(format!(
                "{shown} is {dynamic}ELF program for {a}; the guest is {arch} (--arch {a}?)"
            ))
        }
        Kind::Elf { interp: None, .. } => Ok(Mode::Packed),
        Kind::Elf {
            interp: Some(i), ..
        } => {
            if arch != host_arch {
                Err(format!(
                    "{shown} is a dynamic {arch} program (interpreter {i}); only a host-arch \
                     ({host_arch}) guest can run dynamic programs, from the host's /: build it static"
                ))
            } else {
                Ok(Mode::HostRoot)
            }
        }
        Kind::Script { interp, arg } => {
            let sh = interp == "/bin/sh"
                || ((interp == "/usr/bin/env" || interp == "/bin/env")
                    && arg.as_deref() == Some("sh"));
            if arch == host_arch {
                let ip = Path::new(&interp);
                if !ip.is_file() {
                    return Err(format!(
                        "{shown}: its interpreter {interp} is not on this host"
                    ));
                }
                match program_mode(ip, arch, host_arch)? {
                    Mode::Packed => Ok(Mode::HostRoot),
                    m => Ok(m),
                }
            } else if sh {
                Ok(Mode::Busybox)
            } else {
                Err(format!(
                    "{shown} is a script for {interp}, which an {arch} guest does not have \
                     (a #!/bin/sh script runs under the guest's busybox)"
                ))
            }
        }
        Kind::Other => Err(format!("{shown} is neither an ELF program nor a #! script")),
    }
}

/// One word of the generated config, quoted as its lexer wants.
pub fn quote(w: &str) -> Result<String, String> {
    if w.contains('\n') || w.contains('\r') || w.contains('\0') {
        return Err(format!(
            "{w:?}: a newline or NUL cannot go into the guest config"
        ));
    }
    let plain =
        !w.is_empty() && !w.contains([' ', '\t', '"', '\'', '#', '{', '}']) && !w.starts_with('#');
    if plain {
        Ok(w.into())
    } else if !w.contains('\'') {
        Ok(format!("'{w}'"))
    } else if !w.contains('"') {
        Ok(format!("\"{w}\""))
    } else {
        Err(format!(
            "{w:?} has both kinds of quote, which the guest config cannot hold: pass it in a \
             file (--file) or a script"
        ))
    }
}

/// The config's line limit (the guest's fixed-size parser).
const MAX_LINE: usize = 256;
/// Arguments of one command in the guest config.
const MAX_ARGS: usize = 16;

fn words_line(words: &[&str]) -> Result<String, String> {
    let q: Result<Vec<String>, String> = words.iter().map(|w| quote(w)).collect();
    Ok(q?.join(" "))
}

/// What the guest needs: its config, and what goes in the initramfs.
pub struct Plan {
    pub config: String,
    pub fs: Option<Fs>,
    /// (tag, host dir, read-only) for each share QEMU must offer.
    pub exports: Vec<(String, PathBuf, bool)>,
}

/// The guest config for a run. `prog` is the absolute host path.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    a: &RunArgs,
    shares: &[Share],
    prog: &Path,
    mode: Mode,
    fs: Option<Fs>,
    cwd: &Path,
    module_lines: &[String],
    host_env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, String> {
    let mut c = String::from("# written by vigil-qemu run\n");
    c.push_str(if a.verbose {
        "log info\n"
    } else {
        "log quiet\n"
    });
    c.push_str("grace 1s\n");
    for m in module_lines {
        c.push_str(&format!("module /lib/modules/{m}.ko\n"));
    }
    let mut exports = Vec::new();
    let fsname = fs.map(Fs::name).unwrap_or("");
    let fsopts = |ro: bool| match fs {
        Some(Fs::NineP) => {
            let o = "trans=virtio,version=9p2000.L,msize=262144,cache=mmap";
            if ro {
                format!("ro,{o}")
            } else {
                o.to_string()
            }
        }
        _ => (if ro { "ro" } else { "" }).to_string(),
    };
    let base = if mode == Mode::HostRoot { "/host" } else { "" };
    if mode == Mode::HostRoot {
        exports.push(("vigilroot".to_string(), PathBuf::from("/"), true));
        c.push_str(&format!(
            "mount vigilroot /host {fsname} {}\n",
            fsopts(true)
        ));
        for (src, at, ty) in [
            ("proc", "/proc", "proc"),
            ("sysfs", "/sys", "sysfs"),
            ("devtmpfs", "/dev", "devtmpfs"),
            ("tmpfs", "/dev/shm", "tmpfs"),
            ("devpts", "/dev/pts", "devpts"),
            ("tmpfs", "/tmp", "tmpfs"),
            ("tmpfs", "/run", "tmpfs"),
        ] {
            c.push_str(&format!("mount {src} /host{at} {ty}\n"));
        }
    }
    // Parents before children.
    let mut shares: Vec<&Share> = shares.iter().collect();
    shares.sort_by_key(|s| s.guest.matches('/').count());
    for (i, s) in shares.iter().enumerate() {
        let tag = format!("vigilshare{i}");
        let target = format!("{base}{}", s.guest);
        let opts = fsopts(s.ro);
        let mut w = vec!["mount", &tag, &target, fsname];
        if !opts.is_empty() {
            w.push(&opts);
        }
        c.push_str(&words_line(&w)?);
        c.push('\n');
        exports.push((tag, s.host.clone(), s.ro));
    }
    if let Some(p) = &a.policy {
        if p != "default" && p != "none" {
            let text = std::fs::read_to_string(p).map_err(|e| format!("--policy {p}: {e}"))?;
            c.push_str("policy user {\n");
            for l in text.lines() {
                c.push_str(l);
                c.push('\n');
            }
            c.push_str("}\n");
        }
    }
    c.push_str("service test {\n    kind test\n");
    let prog_s = prog.to_string_lossy();
    let mut argv: Vec<&str> = vec![&prog_s];
    argv.extend(a.prog.iter().skip(1).map(String::as_str));
    if argv.len() > MAX_ARGS + 1 {
        return Err(format!(
            "{} arguments: the guest runs at most {MAX_ARGS} (put the command in a script)",
            argv.len() - 1
        ));
    }
    let exec = format!("    exec {}", words_line(&argv)?);
    if exec.len() > MAX_LINE {
        return Err(format!(
            "the command line is {} bytes; the guest config takes lines of at most {MAX_LINE} \
             (put the command in a script)",
            exec.len()
        ));
    }
    c.push_str(&exec);
    c.push('\n');
    if mode == Mode::HostRoot {
        c.push_str("    root /host\n");
        c.push_str(&format!("    cwd {}\n", quote(&cwd.to_string_lossy())?));
    }
    let mut env: Vec<String> = Vec::new();
    for k in ["PATH", "HOME", "LANG", "LC_ALL", "TERM"] {
        if mode != Mode::HostRoot && (k == "PATH" || k == "HOME") {
            continue;
        }
        if let Some(v) = host_env(k) {
            env.push(format!("{k}={v}"));
        }
    }
    for e in &a.env {
        let k = e.split('=').next().unwrap_or("");
        env.retain(|x| x.split('=').next() != Some(k));
        env.push(e.clone());
    }
    for e in &env {
        let l = format!("    env {}", quote(e)?);
        if l.len() > MAX_LINE {
            if a.env.contains(e) {
                return Err(format!("--env {e}: longer than a guest config line"));
            }
            continue;
        }
        c.push_str(&l);
        c.push('\n');
    }
    c.push_str(&format!(
        "    policy {}\n",
        match a.policy.as_deref() {
            None | Some("none") => "none",
            Some("default") => "default",
            Some(_) => "user",
        }
    ));
    c.push_str("}\n");
    Ok(Plan {
        config: c,
        fs,
        exports,
    })
}

/// Where virtiofsd is: `$VIGIL_VIRTIOFSD`, the cache (`qemu/setup` builds
/// it there), `$PATH`, Debian's and Fedora's places.
pub fn find_virtiofsd(root: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VIGIL_VIRTIOFSD") {
        return Some(PathBuf::from(p));
    }
    let mut c = vec![cache_dir(root).join("tools/bin/virtiofsd")];
    if let Some(path) = std::env::var_os("PATH") {
        c.extend(std::env::split_paths(&path).map(|d| d.join("virtiofsd")));
    }
    c.push("/usr/libexec/virtiofsd".into());
    c.push("/usr/lib/qemu/virtiofsd".into());
    c.into_iter().find(|p| p.is_file())
}

/// The modules a kernel needs for the channel and the share transport,
/// in load order (built-ins left out), or why it cannot.
pub fn needed_modules(md: Option<&ModDir>, fs: Option<Fs>) -> Result<Vec<String>, String> {
    let mut names: Vec<&str> = vec!["virtio_pci", "virtio_console"];
    match fs {
        Some(Fs::VirtioFs) => names.push("virtiofs"),
        Some(Fs::NineP) => names.extend(["9pnet_virtio", "9p"]),
        None => {}
    }
    let Some(md) = md else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    for (_, pick) in md.resolve(&names)? {
        if let Pick::Load(v) = pick {
            out.extend(v.into_iter().map(|(n, _)| n));
        }
    }
    Ok(out)
}

/// Which transports a kernel has (built in, or as a module).
pub fn kernel_has(md: &ModDir, fs: Fs) -> bool {
    let names: &[&str] = match fs {
        Fs::VirtioFs => &["virtiofs"],
        Fs::NineP => &["9p", "9pnet_virtio"],
    };
    names.iter().all(|n| md.resolve(&[n.to_string()]).is_ok())
}

/// A running virtiofsd, stopped when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A temporary directory of our own, removed when dropped (unless kept).
struct Work {
    dir: PathBuf,
    keep: bool,
}

impl Drop for Work {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("vigil-qemu: work directory kept: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn work_dir(keep: bool) -> Result<Work, Fail> {
    let base = std::env::temp_dir();
    for i in 0..100u32 {
        let d = base.join(format!("vigil-run.{}.{i}", std::process::id()));
        if std::fs::create_dir(&d).is_ok() {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700));
            return Ok(Work { dir: d, keep });
        }
    }
    Err(Fail::Rig("cannot make a work directory".into()))
}

fn add_host_path(ar: &mut Archive, dest: &str, src: &Path) -> Result<(), String> {
    let m = std::fs::symlink_metadata(src).map_err(|e| format!("{}: {e}", src.display()))?;
    if m.file_type().is_symlink() {
        let t = std::fs::read_link(src).map_err(|e| format!("{}: {e}", src.display()))?;
        return ar.add(dest, Node::Symlink(t.to_string_lossy().into_owned()));
    }
    if m.is_dir() {
        ar.add(dest, Node::Dir)?;
        let mut entries: Vec<_> = std::fs::read_dir(src)
            .map_err(|e| format!("{}: {e}", src.display()))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            add_host_path(
                ar,
                &format!("{}/{}", dest.trim_end_matches('/'), name.to_string_lossy()),
                &e.path(),
            )?;
        }
        return Ok(());
    }
    use std::os::unix::fs::PermissionsExt;
    let data = std::fs::read(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let exec = m.permissions().mode() & 0o111 != 0;
    ar.add(dest, Node::File { data, exec })
}

/// Paths of the guest that `run` owns: a file or PROG may not go there.
fn reserved(dest: &str) -> bool {
    let d = dest.trim_end_matches('/');
    [
        "/init",
        "/etc/vigil.conf",
        "/lib/modules",
        "/proc",
        "/sys",
        "/dev",
        "/host",
    ]
    .iter()
    .any(|r| d == *r || d.starts_with(&format!("{r}/")))
}

/// Under what PID 1 mounts a tmpfs on at boot.
fn hidden(dest: &str) -> bool {
    ["/tmp", "/run"]
        .iter()
        .any(|r| dest == *r || dest.starts_with(&format!("{r}/")))
}

/// Check everything, build the guest, boot it. Returns the verdict.
pub fn run(a: &RunArgs) -> Result<Verdict, Fail> {
    let host_arch = std::env::consts::ARCH;
    let arch = a.arch.clone().unwrap_or_else(|| host_arch.to_string());
    let t = Target::load(&arch).map_err(|e| Fail::Input(format!("--arch {arch}: {e}")))?;
    let root = repo_root()?;

    // The program, the files and the shares, before anything slow.
    let prog = elf::find_program(&a.prog[0]).map_err(Fail::Input)?;
    let mode = program_mode(&prog, &arch, host_arch).map_err(Fail::Input)?;
    // A packed program goes at its own path, unless the guest mounts
    // something there (/tmp, /run: vigil's tmpfs) or vigil-qemu uses it.
    let mut guest_prog = prog.to_string_lossy().into_owned();
    if mode != Mode::HostRoot && (reserved(&guest_prog) || hidden(&guest_prog)) {
        guest_prog = format!("/packed{guest_prog}");
    }
    for (d, s) in &a.files {
        if !s.exists() {
            return input(format!("--file {d}={}: no such file", s.display()));
        }
        if reserved(d) {
            return input(format!("--file {d}: vigil-qemu packs its own files there"));
        }
        if hidden(d) {
            return input(format!(
                "--file {d}: the guest mounts a tmpfs over {} at boot, which would hide it",
                if d.starts_with("/tmp") {
                    "/tmp"
                } else {
                    "/run"
                }
            ));
        }
    }
    for s in &a.shares {
        if !s.host.is_dir() {
            return input(format!("--share {}: no such directory", s.host.display()));
        }
        if reserved(&s.guest) || s.guest == "/" {
            return input(format!("--share ...={}: not a place for a share", s.guest));
        }
    }
    if let Some(p) = &a.policy {
        if p != "default" && p != "none" && !Path::new(p).is_file() {
            return input(format!("--policy {p}: no such file"));
        }
    }
    let cwd =
        std::env::current_dir().map_err(|e| Fail::Input(format!("current directory: {e}")))?;

    // The kernel, its modules, the transport for the shares.
    let kernel = resolve_kernel(&root, &arch, &t, a.kernel.as_deref())?;
    let moddir_path = a.modules.clone().or(kernel.modules.clone());
    let md = match &moddir_path {
        Some(d) => Some(ModDir::open(d).map_err(Fail::Input)?),
        None => None,
    };
    let need_share = mode == Mode::HostRoot || !a.shares.is_empty();
    let virtiofsd = find_virtiofsd(&root);
    let fs = if !need_share {
        None
    } else {
        let has = |f| md.as_ref().is_some_and(|m| kernel_has(m, f));
        let pick = match a.fs {
            Some(f) => f,
            None if has(Fs::VirtioFs) && virtiofsd.is_some() => Fs::VirtioFs,
            None if has(Fs::NineP) => Fs::NineP,
            None if has(Fs::VirtioFs) => {
                return input(format!(
                    "kernel {} has virtio-fs but not 9p, and there is no virtiofsd on this host \
                     (qemu/setup builds one into the cache; or set VIGIL_VIRTIOFSD)",
                    kernel.name
                ))
            }
            None => {
                return input(format!(
                    "kernel {} has neither virtio-fs nor 9p (or its modules were not found: \
                     --modules DIR); a share needs one",
                    kernel.name
                ))
            }
        };
        if md.is_some() && !has(pick) {
            return input(format!(
                "kernel {} has no {} support",
                kernel.name,
                pick.name()
            ));
        }
        if pick == Fs::VirtioFs && virtiofsd.is_none() {
            return input("--fs virtiofs: no virtiofsd on this host (qemu/setup builds one)");
        }
        Some(pick)
    };
    let mods = needed_modules(md.as_ref(), fs).map_err(|e| {
        Fail::Input(format!(
            "kernel {}: {e} (vigil-qemu run needs virtio-pci and virtio-console, built in or as modules)",
            kernel.name
        ))
    })?;
    if md.is_none() {
        eprintln!(
            "vigil-qemu: no modules directory for {}: assuming virtio-pci, virtio-console{} are built in",
            kernel.name,
            fs.map_or(String::new(), |f| format!(" and {}", f.name()))
        );
    }
    if mods.len() > 16 {
        return input(format!(
            "{} modules to load; the guest config takes 16",
            mods.len()
        ));
    }
    if mode == Mode::Busybox && kernel.busybox.is_none() {
        return input(
            "a #!/bin/sh script for another arch needs the cached busybox: --kernel PACKAGE",
        );
    }

    // From the host's /, the guest's own /tmp and /run would hide a
    // program or a working directory there: those directories come as
    // read-only shares of their own (unless the user shared them).
    let mut shares = a.shares.clone();
    if mode == Mode::HostRoot {
        for d in [prog.parent().unwrap_or(Path::new("/")), cwd.as_path()] {
            let ds = d.to_string_lossy().into_owned();
            let covered = shares
                .iter()
                .any(|s| ds == s.guest || ds.starts_with(&format!("{}/", s.guest)));
            if !hidden(&ds) || covered {
                continue;
            }
            if ds == "/tmp" || ds == "/run" {
                return input(format!(
                    "{ds} itself cannot be shared read-only over the guest's own {ds}: run \
                     from a directory below it, or --share it"
                ));
            }
            shares.push(Share {
                host: d.to_path_buf(),
                guest: ds,
                ro: true,
            });
        }
        shares.sort_by_key(|s| s.guest.len());
        shares.dedup_by(|b, a| b.guest.starts_with(&format!("{}/", a.guest)));
    }
    let env = |k: &str| std::env::var(k).ok();
    let plan = plan(
        a,
        &shares,
        Path::new(&guest_prog),
        mode,
        fs,
        &cwd,
        &mods,
        &env,
    )
    .map_err(Fail::Input)?;
    if let Some(p) = &a.policy {
        if p != "default" && p != "none" {
            check_policy(&root, p, &arch)?;
        }
    }
    let vigil = vigil_binary(&root, &t, a.vigil.as_deref())?;

    // The initramfs.
    let work = work_dir(a.keep || a.dry_run)?;
    let mut ar = Archive::default();
    let add = |ar: &mut Archive, d: &str, n: Node| ar.add(d, n).map_err(Fail::Input);
    add(&mut ar, "/init", file_node(&vigil, true)?)?;
    add(
        &mut ar,
        "/etc/vigil.conf",
        Node::File {
            data: plan.config.clone().into_bytes(),
            exec: false,
        },
    )?;
    for d in ["/proc", "/sys", "/dev", "/run", "/tmp", "/root"] {
        add(&mut ar, d, Node::Dir)?;
    }
    add(&mut ar, "/dev/console", Node::CharDev(5, 1))?;
    if mode == Mode::HostRoot {
        add(&mut ar, "/host", Node::Dir)?;
    } else {
        add(&mut ar, &guest_prog, file_node(&prog, true)?)?;
    }
    if mode == Mode::Busybox {
        let bb = kernel.busybox.as_ref().unwrap();
        add(&mut ar, "/bin/busybox", file_node(bb, true)?)?;
        add(&mut ar, "/bin/sh", Node::Symlink("busybox".into()))?;
        add(
            &mut ar,
            "/usr/bin/env",
            Node::Symlink("/bin/busybox".into()),
        )?;
    }
    if let Some(md) = &md {
        for (n, p) in md
            .resolve(&mods)
            .map_err(Fail::Input)?
            .into_iter()
            .filter_map(|(_, p)| match p {
                Pick::Load(v) => Some(v),
                Pick::Builtin(_) => None,
            })
            .flatten()
        {
            let data = modules::read_module(&p).map_err(Fail::Input)?;
            add(
                &mut ar,
                &format!("/lib/modules/{n}.ko"),
                Node::File { data, exec: false },
            )?;
        }
    }
    for (d, s) in &a.files {
        add_host_path(&mut ar, d, s).map_err(Fail::Input)?;
    }
    let initrd = work.dir.join("initrd.cpio");
    let mut buf = Vec::new();
    ar.write(&mut buf).map_err(|e| Fail::Rig(e.to_string()))?;
    std::fs::write(&initrd, buf).map_err(|e| Fail::Rig(format!("{}: {e}", initrd.display())))?;
    if a.keep {
        let _ = std::fs::write(work.dir.join("vigil.conf"), &plan.config);
    }

    // The shares: one virtiofsd each, or QEMU's own 9p server.
    let mut qemu_args: Vec<String> = Vec::new();
    let mut daemons = Vec::new();
    let mem = a.mem.to_string();
    if plan.fs == Some(Fs::VirtioFs) && !plan.exports.is_empty() {
        qemu_args.extend([
            "-object".into(),
            format!("memory-backend-memfd,id=vigilmem,size={mem}M,share=on"),
            "-machine".into(),
            "memory-backend=vigilmem".into(),
        ]);
    }
    for (i, (tag, host, ro)) in plan.exports.iter().enumerate() {
        match plan.fs {
            Some(Fs::VirtioFs) => {
                let sock = work.dir.join(format!("vfs{i}.sock"));
                let log = work.dir.join(format!("virtiofsd{i}.log"));
                if !a.dry_run {
                    daemons.push(start_virtiofsd(
                        virtiofsd.as_deref().unwrap(),
                        host,
                        *ro,
                        &sock,
                        &log,
                    )?);
                }
                qemu_args.extend([
                    "-chardev".into(),
                    format!("socket,id=vfs{i},path={}", sock.display()),
                    "-device".into(),
                    format!("vhost-user-fs-pci,chardev=vfs{i},tag={tag}"),
                ]);
            }
            Some(Fs::NineP) => {
                let p = host.to_string_lossy();
                if p.contains(',') {
                    return input(format!(
                        "--share {p}: a 9p share's path may not contain ','"
                    ));
                }
                let ro = if *ro { ",readonly=on" } else { "" };
                qemu_args.extend([
                    "-fsdev".into(),
                    format!("local,id=fs{i},path={p},security_model=none,multidevs=remap{ro}"),
                    "-device".into(),
                    format!("virtio-9p-pci,fsdev=fs{i},mount_tag={tag}"),
                ]);
            }
            None => {}
        }
    }

    let mut b = BootArgs::new(&arch);
    // A bzImage boots from its vmlinux, unpacked once into the cache.
    b.kernel = crate::unpack::boot_image(&kernel.image, &cache_dir(&root).join(&arch).join("boot"));
    b.initrd = initrd;
    b.timeout = a.timeout;
    b.mem = mem;
    b.smp = a.smp.to_string();
    b.qemu_args = qemu_args;
    b.channel = Some(work.dir.join("result"));
    b.expect_test = true;
    b.quiet = !a.verbose;
    b.crlf = true;
    b.log = a.log.clone();
    b.label = Some(format!(
        "{} {}",
        kernel.name,
        Path::new(&a.prog[0])
            .file_name()
            .map_or(a.prog[0].clone(), |n| n.to_string_lossy().into_owned())
    ));
    let mut append = String::new();
    if !a.verbose {
        // The output is the test's own: the kernel says only what is
        // grave (a panic is KERN_EMERG).
        append.push_str("quiet loglevel=3");
    }
    for x in &a.append {
        if !append.is_empty() {
            append.push(' ');
        }
        append.push_str(x);
    }
    b.append = append;
    if a.dry_run {
        // What would run, for a look or a test: nothing is started.
        let q = boot::qemu_command(&t, &b).map_err(Fail::Rig)?;
        println!("initramfs {}", b.initrd.display());
        for (tag, host, ro) in &plan.exports {
            let via = plan.fs.map_or("", Fs::name);
            let ro = if *ro { " ro" } else { "" };
            println!("share {tag} {} {via}{ro}", host.display());
        }
        println!("qemu {}", boot::shell_line(&q));
        print!("{}", plan.config);
        return Ok(Verdict::Clean("dry run".into()));
    }
    let v = boot::run_boot(&b).map_err(Fail::Rig)?;
    drop(daemons);
    Ok(v)
}

fn file_node(p: &Path, exec: bool) -> Result<Node, Fail> {
    let data = std::fs::read(p).map_err(|e| Fail::Input(format!("{}: {e}", p.display())))?;
    Ok(Node::File { data, exec })
}

/// `--policy FILE` must parse for the guest's arch: checked on the host
/// by vigil itself (the host's build), so the error is a file:line:col
/// before QEMU starts.
fn check_policy(root: &Path, file: &str, arch: &str) -> Result<(), Fail> {
    let host = Target::load(std::env::consts::ARCH).map_err(Fail::Input)?;
    let vigil = vigil_binary(root, &host, None)?;
    let out = Command::new(&vigil)
        .args(["check", file, "--arch", arch])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Fail::Input(format!("cannot run {}: {e}", vigil.display())))?;
    if !out.status.success() {
        let mut m = String::from_utf8_lossy(&out.stdout).into_owned();
        m.push_str(&String::from_utf8_lossy(&out.stderr));
        return input(format!(
            "--policy {file} does not check for {arch}:\n{}",
            m.trim_end()
        ));
    }
    Ok(())
}

/// A virtiofsd for `dir`, up once its socket exists. Its namespace
/// sandbox needs root (or user namespaces); where it cannot set one up,
/// it is started again without one.
fn start_virtiofsd(
    bin: &Path,
    dir: &Path,
    ro: bool,
    sock: &Path,
    log: &Path,
) -> Result<Daemon, Fail> {
    match spawn_virtiofsd(bin, dir, ro, sock, log, "namespace") {
        Err(Fail::Rig(first)) if !sock.exists() => spawn_virtiofsd(bin, dir, ro, sock, log, "none")
            .map_err(|e| match e {
                Fail::Rig(m) | Fail::Input(m) => {
                    Fail::Rig(format!("{m} (with its namespace sandbox: {first})"))
                }
            }),
        r => r,
    }
}

fn spawn_virtiofsd(
    bin: &Path,
    dir: &Path,
    ro: bool,
    sock: &Path,
    log: &Path,
    sandbox: &str,
) -> Result<Daemon, Fail> {
    let logf = std::fs::File::create(log).map_err(|e| Fail::Rig(e.to_string()))?;
    let mut c = Command::new(bin);
    c.arg("--shared-dir")
        .arg(dir)
        .arg("--socket-path")
        .arg(sock)
        .args(["--cache", "auto", "--sandbox", sandbox]);
    if ro {
        c.arg("--readonly");
    }
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(logf)
        .spawn()
        .map_err(|e| Fail::Rig(format!("cannot start {}: {e}", bin.display())))?;
    let mut d = Daemon(child);
    let t0 = Instant::now();
    while !sock.exists() {
        if let Ok(Some(st)) = d.0.try_wait() {
            let l = std::fs::read_to_string(log).unwrap_or_default();
            return Err(Fail::Rig(format!(
                "virtiofsd for {} exited ({st}): {}",
                dir.display(),
                l.trim()
            )));
        }
        if t0.elapsed() > Duration::from_secs(10) {
            return Err(Fail::Rig(format!(
                "virtiofsd for {} made no socket in 10s",
                dir.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares() {
        let s = parse_share("/srv/data=/data:ro").unwrap();
        assert_eq!(
            s,
            Share {
                host: "/srv/data".into(),
                guest: "/data".into(),
                ro: true
            }
        );
        let s = parse_share("/srv/out").unwrap();
        assert_eq!((s.guest.as_str(), s.ro), ("/srv/out", false));
        assert!(parse_share("/a=rel").is_err());
        assert!(parse_share("=/x").is_err());
        assert!(parse_share("/a=/b/../c").is_err());
        let rel = parse_share("out:rw").unwrap();
        assert!(rel.host.is_absolute() && rel.guest.ends_with("/out"));
    }

    #[test]
    fn args() {
        let a = parse_args(
            [
                "--arch",
                "aarch64",
                "--timeout",
                "30",
                "--share",
                "/tmp",
                "-v",
                "--",
                "prog",
                "-x",
            ]
            .map(String::from)
            .to_vec(),
        )
        .unwrap();
        assert_eq!(a.arch.as_deref(), Some("aarch64"));
        assert_eq!(a.timeout, 30);
        assert!(a.verbose);
        assert_eq!(a.prog, ["prog", "-x"]);
        // Without `--`, the first non-option starts the command.
        let a = parse_args(["true", "--arch"].map(String::from).to_vec()).unwrap();
        assert_eq!(a.prog, ["true", "--arch"]);
        for bad in [
            &["--timeout", "0", "--", "x"][..],
            &["--file", "rel=x", "--", "x"],
            &["--fs", "nfs", "--", "x"],
            &["--env", "NOEQUALS", "--", "x"],
            &["--frob", "1", "--", "x"],
            &["--arch"],
            &["--"],
        ] {
            assert!(
                parse_args(bad.iter().map(|s| s.to_string()).collect()).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("plain").unwrap(), "plain");
        assert_eq!(quote("two words").unwrap(), "'two words'");
        assert_eq!(quote("it's").unwrap(), "\"it's\"");
        assert_eq!(quote("print(\"x\")").unwrap(), "'print(\"x\")'");
        assert_eq!(quote("#x").unwrap(), "'#x'");
        assert_eq!(quote("").unwrap(), "''");
        assert_eq!(quote("{").unwrap(), "'{'");
        assert!(quote("both ' and \"").is_err());
        assert!(quote("a\nb").is_err());
    }

    fn args_for(prog: &[&str]) -> RunArgs {
        RunArgs {
            prog: prog.iter().map(|s| s.to_string()).collect(),
            ..RunArgs::default()
        }
    }

    #[test]
    fn plans() {
        let no_env = |_: &str| None;
        let mut a = args_for(&["/bin/t", "a b", "c"]);
        a.shares.push(parse_share("/srv/out=/out").unwrap());
        a.shares.push(parse_share("/srv=/srv:ro").unwrap());
        let p = plan(
            &a,
            &a.shares,
            Path::new("/bin/t"),
            Mode::Packed,
            Some(Fs::VirtioFs),
            Path::new("/"),
            &["virtio".into(), "virtiofs".into()],
            &no_env,
        )
        .unwrap();
        assert!(p.config.contains("log quiet\n"));
        assert!(p
            .config
            .contains("module /lib/modules/virtio.ko\nmodule /lib/modules/virtiofs.ko\n"));
        assert!(
            p.config.contains("mount vigilshare0 /out virtiofs\n"),
            "{}",
            p.config
        );
        assert!(p.config.contains("mount vigilshare1 /srv virtiofs ro\n"));
        assert!(p.config.contains("    exec /bin/t 'a b' c\n"));
        assert!(p.config.contains("    kind test\n"));
        assert!(p.config.contains("    policy none\n"));
        assert!(!p.config.contains("root /host"));
        assert_eq!(p.exports.len(), 2);
        // The generated config parses for the guest (the same parser).
        assert!(vigil::config::parse(&p.config).is_ok(), "{}", p.config);

        let env = |k: &str| (k == "PATH").then(|| "/usr/bin:/bin".to_string());
        let mut a = args_for(&["/usr/bin/python3", "-c", "print('hi')"]);
        a.policy = Some("default".into());
        a.env.push("X=1".into());
        let p = plan(
            &a,
            &a.shares,
            Path::new("/usr/bin/python3"),
            Mode::HostRoot,
            Some(Fs::NineP),
            Path::new("/work dir"),
            &[],
            &env,
        )
        .unwrap();
        assert!(
            p.config
                .contains("mount vigilroot /host 9p ro,trans=virtio"),
            "{}",
            p.config
        );
        assert!(p.config.contains("mount proc /host/proc proc\n"));
        assert!(p.config.contains("    root /host\n    cwd '/work dir'\n"));
        assert!(p
            .config
            .contains("    env PATH=/usr/bin:/bin\n    env X=1\n"));
        assert!(p.config.contains("    policy default\n"));
        assert_eq!(p.exports[0], ("vigilroot".into(), PathBuf::from("/"), true));
        assert!(vigil::config::parse(&p.config).is_ok(), "{}", p.config);

        // Too long, too many, unquotable: refused with the reason.
        let long = "x".repeat(300);
        let e = plan(
            &args_for(&["/t", &long]),
            &[],
            Path::new("/t"),
            Mode::Packed,
            None,
            Path::new("/"),
            &[],
            &no_env,
        );
        assert!(e.err().unwrap().contains("at most 256"));
        let many: Vec<&str> = std::iter::once("/t")
            .chain(std::iter::repeat_n("a", 17))
            .collect();
        let e = plan(
            &args_for(&many),
            &[],
            Path::new("/t"),
            Mode::Packed,
            None,
            Path::new("/"),
            &[],
            &no_env,
        );
        assert!(e.err().unwrap().contains("at most 16"));
        let e = plan(
            &args_for(&["/t", "'\""]),
            &[],
            Path::new("/t"),
            Mode::Packed,
            None,
            Path::new("/"),
            &[],
            &no_env,
        );
        assert!(e.err().unwrap().contains("both kinds of quote"));
    }

    #[test]
    fn modes() {
        let host = std::env::consts::ARCH;
        let other = if host == "x86_64" {
            "aarch64"
        } else {
            "x86_64"
        };
        let sh = elf::find_program("sh").unwrap();
        assert_eq!(program_mode(&sh, host, host).unwrap(), Mode::HostRoot);
        let e = program_mode(&sh, other, host).unwrap_err();
        assert!(e.contains(&format!("the guest is {other}")), "{e}");
        let dir = std::env::temp_dir().join(format!("vigil-qemu-modes.{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("t.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 3\n").unwrap();
        assert_eq!(program_mode(&script, host, host).unwrap(), Mode::HostRoot);
        assert_eq!(program_mode(&script, other, host).unwrap(), Mode::Busybox);
        let py = dir.join("t.py");
        std::fs::write(&py, "#!/usr/bin/python3\n").unwrap();
        assert!(program_mode(&py, other, host)
            .unwrap_err()
            .contains("does not have"));
        let junk = dir.join("junk");
        std::fs::write(&junk, "hello").unwrap();
        assert!(program_mode(&junk, host, host)
            .unwrap_err()
            .contains("neither"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reserved_paths() {
        assert!(reserved("/init"));
        assert!(reserved("/lib/modules/x.ko"));
        assert!(reserved("/dev/"));
        assert!(!reserved("/lib/x"));
        assert!(!reserved("/devices"));
    }
}
