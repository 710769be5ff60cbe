//! Boot a kernel + initramfs under QEMU, stream the console, and turn the
//! guest's result line into an exit status.

use crate::targets::Target;
use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const EXIT_BAD_GUEST: i32 = 123;
pub const EXIT_TIMEOUT: i32 = 124;
pub const EXIT_NO_RESULT: i32 = 125;
pub const EXIT_PANIC: i32 = 126;

pub struct BootArgs {
    pub arch: String,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub append: String,
    pub timeout: u64,
    pub log: Option<PathBuf>,
    pub disks: Vec<PathBuf>,
    pub qemu_args: Vec<String>,
    pub mem: String,
    pub smp: String,
}

/// What a console line tells us.
#[derive(Debug, PartialEq)]
pub enum Seen {
    Exit(i32),
    Signal(i32),
    Panic,
    /// vigil could not boot (the reason).
    CannotBoot(String),
}

pub fn scan_line(line: &str) -> Option<Seen> {
    if let Some(i) = line.find("vigil: test ") {
        let rest = line[i + "vigil: test ".len()..].trim();
        let num = |s: &str| {
            let d: String = s.chars().take_while(char::is_ascii_digit).collect();
            d.parse::<i32>().ok()
        };
        if let Some(n) = rest.strip_prefix("exit=").and_then(num) {
            return Some(Seen::Exit(n));
        }
        if let Some(n) = rest.strip_prefix("signal=").and_then(num) {
            return Some(Seen::Signal(n));
        }
    }
    if line.contains("Kernel panic") || line.contains("Attempted to kill init") {
        return Some(Seen::Panic);
    }
    if let Some(i) = line.find("vigil: error: cannot boot: ") {
        return Some(Seen::CannotBoot(
            line[i + "vigil: error: cannot boot: ".len()..]
                .trim()
                .into(),
        ));
    }
    if let Some(i) = line.find("vigil: error: [") {
        if line.ends_with("required oneshot failed: stopping the boot") {
            return Some(Seen::CannotBoot(line[i + "vigil: error: ".len()..].into()));
        }
    }
    None
}

pub fn qemu_command(t: &Target, a: &BootArgs) -> Result<Command, String> {
    let mut c = Command::new(t.get("QEMU")?);
    c.args(["-accel", "tcg", "-M", t.get("QEMU_MACHINE")?]);
    if let Some(cpu) = t.opt("QEMU_CPU") {
        c.args(["-cpu", cpu]);
    }
    c.args(["-m", &a.mem, "-smp", &a.smp]);
    c.args([
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-serial",
        "stdio",
        "-no-reboot",
    ]);
    c.arg("-kernel")
        .arg(&a.kernel)
        .arg("-initrd")
        .arg(&a.initrd);
    let mut append = format!("console={} panic=-1", t.get("CONSOLE")?);
    if let Some(k) = t.opt("KERNEL_ARGS") {
        append.push(' ');
        append.push_str(k);
    }
    if !a.append.is_empty() {
        append.push(' ');
        append.push_str(&a.append);
    }
    c.arg("-append").arg(append);
    let dev = t.opt("DISK_DEVICE").unwrap_or("virtio-blk-pci");
    for (i, d) in a.disks.iter().enumerate() {
        let p = d.to_str().ok_or("disk path is not UTF-8")?;
        if p.contains(',') {
            return Err(format!("disk path may not contain ',': {p}"));
        }
        c.arg("-drive")
            .arg(format!("file={p},format=raw,if=none,id=d{i}"));
        c.arg("-device").arg(format!("{dev},drive=d{i}"));
    }
    c.args(&a.qemu_args);
    Ok(c)
}

pub fn boot(a: &BootArgs) -> Result<i32, String> {
    let t = Target::load(&a.arch)?;
    for f in [&a.kernel, &a.initrd].into_iter().chain(&a.disks) {
        if !f.is_file() {
            return Err(format!("{}: no such file", f.display()));
        }
    }
    let qemu = qemu_command(&t, a)?;
    // coreutils timeout(1) is the hard deadline even if we die: TERM at the
    // deadline, KILL two seconds later. We also keep our own backstop below.
    let mut cmd = Command::new("timeout");
    cmd.args(["--kill-after=2", &format!("{}s", a.timeout)]);
    cmd.arg(qemu.get_program()).args(qemu.get_args());
    let mut log = match &a.log {
        Some(p) => Some(File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let cmdline = std::iter::once(qemu.get_program())
        .chain(qemu.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(l) = log.as_mut() {
        let _ = writeln!(l, "# {cmdline}");
    }
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start QEMU ({cmdline}): {e}"))?;

    // Reader thread: copy the console to stdout/log, report findings.
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Seen>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut line = Vec::new();
        let stdout = std::io::stdout();
        loop {
            let n = match out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let mut so = stdout.lock();
            let _ = so.write_all(chunk);
            let _ = so.flush();
            if let Some(l) = log.as_mut() {
                let _ = l.write_all(chunk);
            }
            for &b in chunk {
                if b == b'\n' {
                    if let Some(s) = scan_line(&String::from_utf8_lossy(&line)) {
                        let _ = tx.send(s);
                    }
                    line.clear();
                } else if b != b'\r' && line.len() < 4096 {
                    line.push(b);
                }
            }
        }
        if let Some(s) = scan_line(&String::from_utf8_lossy(&line)) {
            let _ = tx.send(s);
        }
    });

    let hard = Duration::from_secs(a.timeout + 5);
    let grace = Duration::from_secs(10);
    let mut result: Option<Seen> = None;
    let mut panicked = false;
    let mut cannot_boot: Option<String> = None;
    let mut result_at: Option<Instant> = None;
    let mut killed = false;
    let status = loop {
        while let Ok(s) = rx.try_recv() {
            match s {
                Seen::Panic => panicked = true,
                Seen::CannotBoot(why) => {
                    cannot_boot.get_or_insert(why);
                }
                s if result.is_none() => {
                    result = Some(s);
                    result_at = Some(Instant::now());
                }
                _ => {}
            }
        }
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        let stuck = result_at.is_some_and(|t| t.elapsed() > grace);
        if start.elapsed() > hard || stuck {
            if stuck {
                eprintln!(
                    "vigil-qemu: guest did not power off within {}s of its result; killing QEMU",
                    grace.as_secs()
                );
            }
            if !killed {
                // TERM to timeout(1) is passed on to QEMU (then KILL after 2s).
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                killed = true;
            } else if start.elapsed() > hard + Duration::from_secs(5) {
                let _ = child.kill();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = reader.join();
    while let Ok(s) = rx.try_recv() {
        match s {
            Seen::Panic => panicked = true,
            Seen::CannotBoot(why) => {
                cannot_boot.get_or_insert(why);
            }
            s if result.is_none() => result = Some(s),
            _ => {}
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let timed_out = matches!(status.code(), Some(124) | Some(137)) || killed;

    let (code, what) = if panicked {
        (
            EXIT_PANIC,
            format!(
                "KERNEL PANIC in the guest (result line: {})",
                result.as_ref().map_or("none".into(), |r| format!("{r:?}"))
            ),
        )
    } else if let Some(r) = &result {
        match r {
            Seen::Exit(n) => (n.clamp(&0, &255).to_owned(), format!("test exit={n}")),
            Seen::Signal(n) => ((128 + n).min(255), format!("test signal={n}")),
            Seen::Panic | Seen::CannotBoot(_) => unreachable!(),
        }
    } else if let Some(why) = cannot_boot {
        (EXIT_BAD_GUEST, format!("CANNOT BOOT: {why}"))
    } else if timed_out {
        (
            EXIT_TIMEOUT,
            format!(
                "TIMEOUT: QEMU killed after {}s with no result line",
                a.timeout
            ),
        )
    } else {
        (
            EXIT_NO_RESULT,
            format!(
                "NO RESULT: QEMU ended ({status}) without a 'vigil: test exit=N|signal=N' line"
            ),
        )
    };
    eprintln!(
        "vigil-qemu: {} {}: {what} -> exit {code} ({secs:.2}s)",
        a.arch,
        a.kernel
            .file_name()
            .map_or("".into(), |s| s.to_string_lossy())
    );
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(scan_line("vigil: test exit=0"), Some(Seen::Exit(0)));
        assert_eq!(
            scan_line("[    1.2] vigil: test exit=77 "),
            Some(Seen::Exit(77))
        );
        assert_eq!(scan_line("vigil: test signal=9"), Some(Seen::Signal(9)));
        assert_eq!(scan_line("vigil: test exit="), None);
        assert_eq!(scan_line("vigil: testing"), None);
        assert_eq!(
            scan_line("---[ end Kernel panic - not syncing: x ]---"),
            Some(Seen::Panic)
        );
        assert_eq!(
            scan_line("Kernel panic - not syncing: Attempted to kill init! exitcode=0x0"),
            Some(Seen::Panic)
        );
        assert_eq!(scan_line("hello"), None);
        assert_eq!(
            scan_line("vigil: error: cannot boot: root: the root device was not found"),
            Some(Seen::CannotBoot(
                "root: the root device was not found".into()
            ))
        );
        assert_eq!(
            scan_line("vigil: error: [must] required oneshot failed: stopping the boot"),
            Some(Seen::CannotBoot(
                "[must] required oneshot failed: stopping the boot".into()
            ))
        );
    }
}
