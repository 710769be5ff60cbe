//! vigil-qemu: the host side of vigil's QEMU test rig.
//! See qemu/README.md for the result-line protocol and the scripts.

mod boot;
mod cpio;
mod elf;
mod matrix;
mod modules;
mod run;
mod targets;
mod unpack;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE_HEAD: &str = "\
usage:
";
const USAGE_TAIL: &str = "\
  vigil-qemu initramfs --out FILE [--file DEST=SRC]... [--dir DEST]...
                       [--symlink DEST=TARGET]... [--cdev DEST=MAJOR:MINOR]...
                       [--moddir DIR --module NAME...]
      newc cpio; --module copies NAME and its dependencies (modules.dep of
      --moddir) to /lib/modules/NAME.ko, decompressed, and lists them in load
      order in /lib/modules/load-order (built-in modules are skipped).
  vigil-qemu modules --moddir DIR NAME...
      print the modules to load for NAME..., dependencies first
  vigil-qemu boot --arch ARCH --kernel FILE --initrd FILE [--append ARGS]
                  [--timeout SECS] [--log FILE] [--disk FILE]... [--mem MB]
                  [--smp N] [--channel FILE] [--qemu-arg ARG]...
      exit status: N for the test's exit=N, 128+N for signal=N, 0 for an
      orderly shutdown without a test, 123 vigil could not boot, 124
      timeout, 125 QEMU failed or no result, 126 kernel panic. --channel:
      the result comes from a virtio-serial port PID 1 holds (written to
      FILE), never from the console.
  vigil-qemu target ARCH KEY     print one value of targets/ARCH
";

fn usage() -> String {
    format!(
        "{USAGE_HEAD}{}{}{USAGE_TAIL}",
        run::RUN_USAGE,
        matrix::MATRIX_USAGE
    )
}

struct Args {
    rest: std::vec::IntoIter<String>,
}

impl Args {
    fn value(&mut self, flag: &str) -> Result<String, String> {
        self.rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))
    }
}

fn pair<'a>(flag: &str, v: &'a str, sep: char) -> Result<(&'a str, &'a str), String> {
    v.split_once(sep)
        .ok_or_else(|| format!("{flag} wants A{sep}B, got '{v}'"))
}

fn cmd_initramfs(mut a: Args) -> Result<i32, String> {
    let mut ar = cpio::Archive::default();
    let mut out = None;
    let mut moddir = None;
    let mut mods = Vec::new();
    while let Some(f) = a.rest.next() {
        match f.as_str() {
            "--out" => out = Some(a.value(&f)?),
            "--file" => {
                let v = a.value(&f)?;
                let (dest, src) = pair(&f, &v, '=')?;
                let data = std::fs::read(src).map_err(|e| format!("{src}: {e}"))?;
                let exec = is_exec(Path::new(src));
                ar.add(dest, cpio::Node::File { data, exec })?;
            }
            "--dir" => ar.add(&a.value(&f)?, cpio::Node::Dir)?,
            "--symlink" => {
                let v = a.value(&f)?;
                let (dest, target) = pair(&f, &v, '=')?;
                ar.add(dest, cpio::Node::Symlink(target.into()))?;
            }
            "--cdev" => {
                let v = a.value(&f)?;
                let (dest, mm) = pair(&f, &v, '=')?;
                let (ma, mi) = pair(&f, mm, ':')?;
                let num = |s: &str| {
                    s.parse::<u32>()
                        .map_err(|_| format!("{f}: bad number '{s}'"))
                };
                ar.add(dest, cpio::Node::CharDev(num(ma)?, num(mi)?))?;
            }
            "--moddir" => moddir = Some(PathBuf::from(a.value(&f)?)),
            "--module" => mods.push(a.value(&f)?),
            _ => return Err(format!("initramfs: unknown argument '{f}'")),
        }
    }
    let out = out.ok_or("initramfs: --out FILE is required")?;
    if !mods.is_empty() {
        let dir = moddir.ok_or("--module needs --moddir DIR")?;
        let md = modules::ModDir::open(&dir)?;
        let mut order = String::new();
        for (_, pick) in md.resolve(&mods)? {
            match pick {
                modules::Pick::Builtin(n) => eprintln!("vigil-qemu: {n} is built into this kernel"),
                modules::Pick::Load(v) => {
                    for (n, p) in v {
                        let data = modules::read_module(&p)?;
                        ar.add(
                            &format!("/lib/modules/{n}.ko"),
                            cpio::Node::File { data, exec: false },
                        )?;
                        order.push_str(&n);
                        order.push('\n');
                    }
                }
            }
        }
        ar.add(
            "/lib/modules/load-order",
            cpio::Node::File {
                data: order.into_bytes(),
                exec: false,
            },
        )?;
    }
    let mut buf = Vec::new();
    ar.write(&mut buf).map_err(|e| e.to_string())?;
    std::fs::write(&out, buf).map_err(|e| format!("{out}: {e}"))?;
    Ok(0)
}

fn is_exec(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

fn cmd_modules(mut a: Args) -> Result<i32, String> {
    let mut dir = None;
    let mut names = Vec::new();
    while let Some(f) = a.rest.next() {
        match f.as_str() {
            "--moddir" => dir = Some(PathBuf::from(a.value(&f)?)),
            _ if f.starts_with("--") => return Err(format!("modules: unknown argument '{f}'")),
            _ => names.push(f),
        }
    }
    let md = modules::ModDir::open(&dir.ok_or("modules: --moddir DIR is required")?)?;
    for (_, pick) in md.resolve(&names)? {
        match pick {
            modules::Pick::Builtin(n) => println!("{n} builtin"),
            modules::Pick::Load(v) => {
                for (n, p) in v {
                    println!("{n} {}", p.display());
                }
            }
        }
    }
    Ok(0)
}

fn cmd_boot(mut a: Args) -> Result<i32, String> {
    let mut b = boot::BootArgs::new("");
    while let Some(f) = a.rest.next() {
        match f.as_str() {
            "--arch" => b.arch = a.value(&f)?,
            "--kernel" => b.kernel = a.value(&f)?.into(),
            "--initrd" => b.initrd = a.value(&f)?.into(),
            "--append" => {
                let v = a.value(&f)?;
                if !b.append.is_empty() {
                    b.append.push(' ');
                }
                b.append.push_str(&v);
            }
            "--timeout" => {
                b.timeout = a
                    .value(&f)?
                    .parse()
                    .map_err(|_| "--timeout wants whole seconds")?
            }
            "--log" => b.log = Some(a.value(&f)?.into()),
            "--disk" => b.disks.push(a.value(&f)?.into()),
            "--mem" => b.mem = a.value(&f)?,
            "--smp" => b.smp = a.value(&f)?,
            "--channel" => b.channel = Some(a.value(&f)?.into()),
            "--qemu-arg" => b.qemu_args.push(a.value(&f)?),
            _ => return Err(format!("boot: unknown argument '{f}'")),
        }
    }
    if b.arch.is_empty() || b.kernel.as_os_str().is_empty() || b.initrd.as_os_str().is_empty() {
        return Err("boot: --arch, --kernel and --initrd are required".into());
    }
    if let Some(c) = &b.channel {
        // A fresh file: what is in it is this boot's.
        std::fs::write(c, "").map_err(|e| format!("--channel {}: {e}", c.display()))?;
    }
    boot::run_boot(&b).map(|v| v.code())
}

fn cmd_run(a: Args) -> Result<i32, String> {
    let args = match run::parse_args(a.rest.collect()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vigil-qemu: {e}");
            return Ok(boot::EXIT_USAGE);
        }
    };
    let (code, class, what) = match run::run(&args) {
        Ok(v) => (v.code(), v.class(), v.describe()),
        Err(f) => {
            eprintln!("vigil-qemu: {}", f.message());
            let class = if f.code() == boot::EXIT_USAGE {
                "bad-input"
            } else {
                "qemu-failed"
            };
            (
                f.code(),
                class,
                f.message().lines().next().unwrap_or("").to_string(),
            )
        }
    };
    if let Some(p) = &args.status_file {
        std::fs::write(p, format!("{code} {class} {what}\n"))
            .map_err(|e| format!("--status-file {}: {e}", p.display()))?;
    }
    Ok(code)
}

fn cmd_target(mut a: Args) -> Result<i32, String> {
    let arch = a.rest.next().ok_or("target: ARCH KEY")?;
    let key = a.rest.next().ok_or("target: ARCH KEY")?;
    println!("{}", targets::Target::load(&arch)?.get(&key)?);
    Ok(0)
}

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv[0] == "-h" || argv[0] == "--help" {
        eprint!("{}", usage());
        return ExitCode::from(if argv.is_empty() { 2 } else { 0 });
    }
    let sub = argv.remove(0);
    let a = Args {
        rest: argv.into_iter(),
    };
    let r = match sub.as_str() {
        "initramfs" => cmd_initramfs(a),
        "modules" => cmd_modules(a),
        "boot" => cmd_boot(a),
        "run" => cmd_run(a),
        "matrix" => matrix::cmd(a.rest.collect()),
        "target" => cmd_target(a),
        _ => Err(format!("unknown subcommand '{sub}'\n{}", usage())),
    };
    match r {
        Ok(c) => ExitCode::from(c.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("vigil-qemu: {e}");
            // For boot, a rig failure is "no result" (125), like a guest
            // that never reported; other subcommands fail with 2.
            ExitCode::from(if sub == "boot" {
                boot::EXIT_QEMU as u8
            } else {
                2
            })
        }
    }
}
