//! Boot a kernel + initramfs under QEMU, stream the console, and turn how
//! the guest ended into an exit status (the table is `Verdict::code`).
//!
//! Two ways to learn the test's result:
//! - the result channel (`channel`): a virtio-serial port only the guest's
//!   PID 1 holds, written to a file of ours. When there is one, the
//!   console is never believed for the result: any service can print on
//!   it. Until PID 1 says `up` on the channel no service has run, so the
//!   console is still vigil's and the kernel's, and tells a config error
//!   or a panic apart.
//! - the console line `vigil: test exit=N` (boots without a channel: the
//!   rig's selftest, the suite's boots of their own configs).

use crate::targets::Target;
use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const EXIT_USAGE: i32 = 2;
pub const EXIT_BAD_GUEST: i32 = 123;
pub const EXIT_TIMEOUT: i32 = 124;
pub const EXIT_QEMU: i32 = 125;
pub const EXIT_PANIC: i32 = 126;

/// The device the guest sees the result channel as: the first virtio
/// device's first port (the channel's device comes first on QEMU's
/// command line, so it is virtio0).
pub const CHANNEL_DEVICE: &str = "/dev/vport0p1";

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
    /// The file QEMU writes the result channel to; adds the device and
    /// `vigil.result=` to the command line.
    pub channel: Option<PathBuf>,
    /// A test program must report (`run`): an orderly shutdown without a
    /// result is a bad guest, not a success.
    pub expect_test: bool,
    /// Print the summary line only when something went wrong (or a
    /// signal ended the test).
    pub quiet: bool,
    /// Undo the console's `\n` -> `\r\n` on the way to stdout, and leave
    /// out the kernel's last words (`reboot: Power down`): the output is
    /// the test's own.
    pub crlf: bool,
    /// Where the console goes: stdout, or nothing (the log still gets it).
    pub echo: bool,
    /// Name the test in messages (`run`), else the kernel.
    pub label: Option<String>,
}

impl BootArgs {
    pub fn new(arch: &str) -> BootArgs {
        BootArgs {
            arch: arch.into(),
            kernel: PathBuf::new(),
            initrd: PathBuf::new(),
            append: String::new(),
            timeout: 60,
            log: None,
            disks: Vec::new(),
            qemu_args: Vec::new(),
            mem: "256".into(),
            smp: "1".into(),
            channel: None,
            expect_test: false,
            quiet: false,
            crlf: false,
            echo: true,
            label: None,
        }
    }
}

/// What a console line tells us.
#[derive(Debug, PartialEq, Clone)]
pub enum Seen {
    Exit(i32),
    Signal(i32),
    /// A kernel panic line (the text).
    Panic(String),
    /// vigil could not boot (the reason).
    CannotBoot(String),
    /// vigil shut the machine down in order (`power off`, `reboot`, `halt`).
    Down(String),
}

pub fn scan_line(line: &str) -> Option<Seen> {
    let num = |s: &str| {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        d.parse::<i32>().ok()
    };
    if let Some(i) = line.find("vigil: test ") {
        let rest = line[i + "vigil: test ".len()..].trim();
        if let Some(n) = rest.strip_prefix("exit=").and_then(num) {
            return Some(Seen::Exit(n));
        }
        if let Some(n) = rest.strip_prefix("signal=").and_then(num) {
            return Some(Seen::Signal(n));
        }
    }
    if line.contains("Kernel panic") || line.contains("Attempted to kill init") {
        let at = line.find("Kernel panic").unwrap_or(0);
        return Some(Seen::Panic(line[at..].trim().to_string()));
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
    if let Some(i) = line.find("vigil: shutdown: ") {
        let rest = &line[i + "vigil: shutdown: ".len()..];
        for a in ["power off", "reboot", "halt"] {
            if rest.starts_with(&format!("{a} (")) {
                return Some(Seen::Down(a.into()));
            }
        }
    }
    None
}

/// What the result channel said.
#[derive(Debug, Default, PartialEq)]
pub struct Channel {
    pub up: bool,
    pub result: Option<Seen>,
    pub error: Option<String>,
    pub down: Option<String>,
}

pub fn parse_channel(text: &str) -> Channel {
    let mut c = Channel::default();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line == "up" {
            c.up = true;
        } else if let Some(r) = line.strip_prefix("test ") {
            if c.result.is_none() {
                let n = |s: &str| s.parse::<i32>().ok();
                c.result = r
                    .strip_prefix("exit=")
                    .and_then(n)
                    .map(Seen::Exit)
                    .or_else(|| r.strip_prefix("signal=").and_then(n).map(Seen::Signal));
            }
        } else if let Some(e) = line.strip_prefix("error ") {
            c.error.get_or_insert_with(|| e.to_string());
        } else if let Some(d) = line.strip_prefix("down ") {
            c.down = Some(d.to_string());
        }
    }
    c
}

/// How the boot ended, as far as the host can tell.
#[derive(Debug, Default)]
pub struct Outcome {
    /// QEMU's exit code (through timeout(1)); `None`: killed by a signal.
    pub qemu_code: Option<i32>,
    /// We stopped QEMU: at the deadline, or after the guest's result.
    pub killed: bool,
    /// ... and that was because the guest did not power off after its
    /// result (the result counts).
    pub killed_after_result: bool,
    /// The console's findings, in order.
    pub console: Vec<Seen>,
    /// The channel's text, when there was a channel.
    pub channel: Option<String>,
    pub timeout: u64,
}

/// The verdict, and the exit status it maps to.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Exit(i32),
    Signal(i32),
    /// An orderly shutdown with no test program (a plain `boot`): 0.
    Clean(String),
    BadGuest(String),
    Timeout(u64),
    Qemu(String),
    Panic(String),
    /// Console protocol only: QEMU ended with nothing to tell.
    NoResult(String),
}

impl Verdict {
    pub fn code(&self) -> i32 {
        match self {
            Verdict::Exit(n) => (*n).clamp(0, 255),
            Verdict::Signal(n) => (128 + n).min(255),
            Verdict::Clean(_) => 0,
            Verdict::BadGuest(_) => EXIT_BAD_GUEST,
            Verdict::Timeout(_) => EXIT_TIMEOUT,
            Verdict::Qemu(_) | Verdict::NoResult(_) => EXIT_QEMU,
            Verdict::Panic(_) => EXIT_PANIC,
        }
    }

    /// A short class name, for tables.
    pub fn class(&self) -> &'static str {
        match self {
            Verdict::Exit(0) => "pass",
            Verdict::Exit(_) => "fail",
            Verdict::Signal(_) => "signal",
            Verdict::Clean(_) => "clean",
            Verdict::BadGuest(_) => "bad-guest",
            Verdict::Timeout(_) => "timeout",
            Verdict::Qemu(_) => "qemu-failed",
            Verdict::Panic(_) => "panic",
            Verdict::NoResult(_) => "no-result",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Verdict::Exit(n) => format!("test exit={n}"),
            Verdict::Signal(n) => format!("test killed by signal {n}"),
            Verdict::Clean(a) => format!("the guest shut down in order ({a}), no test program"),
            Verdict::BadGuest(w) => format!("BAD GUEST SETUP: {w}"),
            Verdict::Timeout(s) => format!("TIMEOUT: no result within {s}s, QEMU killed"),
            Verdict::Qemu(w) => format!("QEMU FAILED: {w}"),
            Verdict::Panic(w) => format!("KERNEL PANIC: {w}"),
            Verdict::NoResult(w) => format!("NO RESULT: {w}"),
        }
    }
}

fn qemu_failed(o: &Outcome) -> Option<String> {
    if o.killed {
        return None;
    }
    match o.qemu_code {
        Some(0) => None,
        Some(126 | 127) => Some("QEMU could not be started".into()),
        Some(n) => Some(format!("QEMU exited with status {n}")),
        None => Some("QEMU was killed by a signal".into()),
    }
}

/// The verdict of a boot. See the module comment for what is trusted.
pub fn verdict(o: &Outcome, expect_test: bool) -> Verdict {
    let first = |f: &dyn Fn(&Seen) -> Option<String>| o.console.iter().find_map(f);
    let panic_line = first(&|s| match s {
        Seen::Panic(l) => Some(l.clone()),
        _ => None,
    });
    let cannot_boot = first(&|s| match s {
        Seen::CannotBoot(w) => Some(w.clone()),
        _ => None,
    });
    let timed_out = o.killed && !o.killed_after_result;
    let Some(text) = &o.channel else {
        // The console protocol: the first result line counts; a panic
        // wins even after it.
        let result = o
            .console
            .iter()
            .find(|s| matches!(s, Seen::Exit(_) | Seen::Signal(_)));
        let down = first(&|s| match s {
            Seen::Down(a) => Some(a.clone()),
            _ => None,
        });
        return if let Some(p) = panic_line {
            Verdict::Panic(p)
        } else if let Some(r) = result {
            match r {
                Seen::Exit(n) => Verdict::Exit(*n),
                Seen::Signal(n) => Verdict::Signal(*n),
                _ => unreachable!(),
            }
        } else if timed_out {
            Verdict::Timeout(o.timeout)
        } else if let Some(w) = qemu_failed(o) {
            Verdict::Qemu(w)
        } else if let Some(w) = cannot_boot {
            Verdict::BadGuest(w)
        } else if let (Some(a), false) = (&down, expect_test) {
            Verdict::Clean(a.clone())
        } else if down.is_some() {
            Verdict::BadGuest("the guest shut down before a test program ended".into())
        } else {
            Verdict::NoResult("QEMU ended without a 'vigil: test exit=N|signal=N' line".into())
        };
    };
    let ch = parse_channel(text);
    if !ch.up {
        // PID 1 never held the channel: no service ran, the console is
        // only the kernel's and vigil's.
        return if timed_out {
            Verdict::Timeout(o.timeout)
        } else if let Some(w) = qemu_failed(o) {
            Verdict::Qemu(w)
        } else if let Some(p) = panic_line {
            Verdict::Panic(p)
        } else if let Some(w) = cannot_boot {
            Verdict::BadGuest(w)
        } else {
            Verdict::Panic("the guest ended before vigil took the result channel".into())
        };
    }
    let went_down = |what: &str| {
        let why = panic_line
            .clone()
            .unwrap_or_else(|| "no panic line on the console".into());
        Verdict::Panic(format!("the guest kernel went down {what} ({why})"))
    };
    if let Some(r) = &ch.result {
        let r = match r {
            Seen::Exit(n) => Verdict::Exit(*n),
            _ => match r {
                Seen::Signal(n) => Verdict::Signal(*n),
                _ => unreachable!(),
            },
        };
        // The guest powered off in order, or hung after its result: the
        // result stands. QEMU ending without vigil's `down` is the kernel
        // dying under it.
        return if ch.down.is_some() || o.killed {
            r
        } else if let Some(w) = qemu_failed(o) {
            Verdict::Qemu(w)
        } else {
            went_down("after the test's result, before vigil's power-off")
        };
    }
    if let Some(e) = ch.error {
        return Verdict::BadGuest(e);
    }
    if timed_out {
        return Verdict::Timeout(o.timeout);
    }
    if let Some(w) = qemu_failed(o) {
        return Verdict::Qemu(w);
    }
    match (ch.down, expect_test) {
        (Some(a), false) => Verdict::Clean(a),
        (Some(a), true) => Verdict::BadGuest(format!(
            "vigil shut the guest down ({a}) before the test program ended"
        )),
        (None, _) => went_down("without vigil's shutdown"),
    }
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
    if a.channel.is_some() {
        append.push_str(" vigil.result=");
        append.push_str(CHANNEL_DEVICE);
    }
    if !a.append.is_empty() {
        append.push(' ');
        append.push_str(&a.append);
    }
    c.arg("-append").arg(append);
    if let Some(ch) = &a.channel {
        // First of the virtio devices: the guest names it virtio0.
        let p = ch.to_str().ok_or("channel path is not UTF-8")?;
        if p.contains(',') {
            return Err(format!("channel path may not contain ',': {p}"));
        }
        c.args(["-device", "virtio-serial-pci,id=vigilser"]);
        c.arg("-chardev").arg(format!("file,id=vigilres,path={p}"));
        c.args([
            "-device",
            "virtserialport,bus=vigilser.0,chardev=vigilres,name=vigil.result",
        ]);
    }
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

/// The kernel's last line before QEMU ends: `[ 3.29] reboot: Power down`.
pub fn is_power_down(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((stamp, msg)) = rest.split_once("] ") else {
        return false;
    };
    stamp.trim().chars().all(|c| c.is_ascii_digit() || c == '.')
        && matches!(
            msg,
            "reboot: Power down" | "reboot: Restarting system" | "reboot: System halted"
        )
}

/// The tty turned every `\n` into `\r\n`: each `\r\n` back to `\n`.
/// A `\r` at the end of a chunk waits in `held` for the next byte.
pub fn undo_crlf(held: &mut bool, chunk: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len() + 1);
    for &b in chunk {
        if *held {
            *held = false;
            if b != b'\n' {
                out.push(b'\r');
            }
        }
        if b == b'\r' {
            *held = true;
        } else {
            out.push(b);
        }
    }
    out
}

/// Copies the console to stdout (and the log), turning `\r\n` back into
/// `\n` when asked, and reports what its lines say.
struct Console {
    log: Option<File>,
    echo: bool,
    crlf: bool,
    /// A `\r` held back: the next byte decides whether it was the tty's.
    held_cr: bool,
    line: Vec<u8>,
    /// A kernel-looking line being held (see `drop_power_down`).
    kline: Vec<u8>,
    /// Bytes of the current output line so far.
    col: usize,
}

impl Console {
    fn feed(&mut self, chunk: &[u8], tx: &mpsc::Sender<Seen>) {
        if let Some(l) = self.log.as_mut() {
            let _ = l.write_all(chunk);
        }
        if self.echo {
            let out = if self.crlf {
                let o = undo_crlf(&mut self.held_cr, chunk);
                self.drop_power_down(o)
            } else {
                chunk.to_vec()
            };
            let so = std::io::stdout();
            let mut so = so.lock();
            let _ = so.write_all(&out);
            let _ = so.flush();
        }
        for &b in chunk {
            if b == b'\n' {
                if let Some(s) = scan_line(&String::from_utf8_lossy(&self.line)) {
                    let _ = tx.send(s);
                }
                self.line.clear();
            } else if b != b'\r' && self.line.len() < 4096 {
                self.line.push(b);
            }
        }
    }

    /// A line that starts like a kernel message (`[    3.29] `) is held
    /// until its end, and dropped if it is the power-off or reboot line.
    fn drop_power_down(&mut self, chunk: Vec<u8>) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len());
        for b in chunk {
            let at_start = self.kline.is_empty() && self.col == 0;
            if at_start && b == b'[' || !self.kline.is_empty() {
                self.kline.push(b);
                if b == b'\n' {
                    let l = String::from_utf8_lossy(&self.kline);
                    if !is_power_down(l.trim_end()) {
                        out.extend_from_slice(&self.kline);
                    }
                    self.kline.clear();
                    self.col = 0;
                }
                continue;
            }
            out.push(b);
            self.col = if b == b'\n' { 0 } else { self.col + 1 };
        }
        out
    }

    fn end(&mut self, tx: &mpsc::Sender<Seen>) {
        if self.echo {
            let mut rest = std::mem::take(&mut self.kline);
            if self.held_cr {
                rest.push(b'\r');
            }
            let _ = std::io::stdout().write_all(&rest);
        }
        if let Some(s) = scan_line(&String::from_utf8_lossy(&self.line)) {
            let _ = tx.send(s);
        }
    }
}

pub fn shell_line(c: &Command) -> String {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Boot and wait for the verdict.
pub fn run_boot(a: &BootArgs) -> Result<Verdict, String> {
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
    let cmdline = shell_line(&qemu);
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
    let mut console = Console {
        log,
        echo: a.echo,
        crlf: a.crlf,
        held_cr: false,
        line: Vec::new(),
        kline: Vec::new(),
        col: 0,
    };
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let n = match out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            console.feed(&buf[..n], &tx);
        }
        console.end(&tx);
    });

    let hard = Duration::from_secs(a.timeout + 5);
    let grace = Duration::from_secs(10);
    let mut o = Outcome {
        timeout: a.timeout,
        ..Outcome::default()
    };
    let mut result_at: Option<Instant> = None;
    let mut last_channel_check = Instant::now();
    let status = loop {
        while let Ok(s) = rx.try_recv() {
            if a.channel.is_none() && matches!(s, Seen::Exit(_) | Seen::Signal(_)) {
                result_at.get_or_insert_with(Instant::now);
            }
            o.console.push(s);
        }
        if let Some(ch) = &a.channel {
            if result_at.is_none() && last_channel_check.elapsed() > Duration::from_millis(200) {
                last_channel_check = Instant::now();
                let text = std::fs::read_to_string(ch).unwrap_or_default();
                if parse_channel(&text).result.is_some() {
                    result_at = Some(Instant::now());
                }
            }
        }
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        let stuck = result_at.is_some_and(|t| t.elapsed() > grace);
        if start.elapsed() > hard || stuck {
            if stuck && !o.killed {
                eprintln!(
                    "vigil-qemu: guest did not power off within {}s of its result; killing QEMU",
                    grace.as_secs()
                );
                o.killed_after_result = true;
            }
            if !o.killed {
                // TERM to timeout(1) is passed on to QEMU (then KILL after 2s).
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                o.killed = true;
            } else if start.elapsed() > hard + Duration::from_secs(5) {
                let _ = child.kill();
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = reader.join();
    o.console.extend(rx.try_iter());
    o.qemu_code = status.code();
    // timeout(1) says 124 when it stopped QEMU at the deadline.
    if o.qemu_code == Some(124) || o.qemu_code == Some(137) {
        o.killed = true;
    }
    if let Some(ch) = &a.channel {
        o.channel = Some(std::fs::read_to_string(ch).unwrap_or_default());
    }
    let v = verdict(&o, a.expect_test);
    let secs = start.elapsed().as_secs_f64();
    let quiet_ok = a.quiet && matches!(v, Verdict::Exit(_) | Verdict::Clean(_));
    if !quiet_ok {
        let label = a.label.clone().unwrap_or_else(|| {
            a.kernel
                .file_name()
                .map_or("".into(), |s| s.to_string_lossy().into_owned())
        });
        eprintln!(
            "vigil-qemu: {} {label}: {} -> exit {} ({secs:.2}s)",
            a.arch,
            v.describe(),
            v.code()
        );
    }
    Ok(v)
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
        assert!(matches!(
            scan_line("---[ end Kernel panic - not syncing: x ]---"),
            Some(Seen::Panic(_))
        ));
        assert_eq!(
            scan_line("Kernel panic - not syncing: Attempted to kill init! exitcode=0x0"),
            Some(Seen::Panic(
                "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0".into()
            ))
        );
        assert_eq!(
            scan_line("vigil: error: cannot boot: the config is invalid"),
            Some(Seen::CannotBoot("the config is invalid".into()))
        );
        assert_eq!(
            scan_line("vigil: shutdown: power off (12 ms)"),
            Some(Seen::Down("power off".into()))
        );
        assert_eq!(scan_line("vigil: shutdown: synced (12 ms)"), None);
        assert_eq!(scan_line("hello"), None);
    }

    fn with_channel(text: &str, console: Vec<Seen>) -> Outcome {
        Outcome {
            qemu_code: Some(0),
            console,
            channel: Some(text.into()),
            timeout: 60,
            ..Outcome::default()
        }
    }

    #[test]
    fn the_channel_is_believed_and_the_console_is_not() {
        let forged = vec![Seen::Exit(0)];
        let o = with_channel("up\ntest exit=1\ndown poweroff\n", forged.clone());
        assert_eq!(verdict(&o, true), Verdict::Exit(1));
        let o = with_channel("up\ntest signal=9\ndown poweroff\n", vec![]);
        assert_eq!(verdict(&o, true).code(), 137);
        // No result on the channel: a forged console line changes nothing.
        let o = with_channel("up\ndown poweroff\n", forged.clone());
        assert_eq!(verdict(&o, true).code(), EXIT_BAD_GUEST);
        // A forged panic line after `up` does not turn a result into a panic.
        let o = with_channel(
            "up\ntest exit=0\ndown poweroff\n",
            vec![Seen::Panic("Kernel panic - forged".into())],
        );
        assert_eq!(verdict(&o, true), Verdict::Exit(0));
        // A forged `vigil: test` line cannot be written on the channel by a
        // service; a second `test` line (there is none) would not count.
        assert_eq!(
            parse_channel("up\ntest exit=3\ntest exit=0\n").result,
            Some(Seen::Exit(3))
        );
    }

    #[test]
    fn classes() {
        // The kernel died under vigil: up, no down, QEMU ended by itself.
        let o = with_channel("up\n", vec![Seen::Panic("Kernel panic - x".into())]);
        assert_eq!(verdict(&o, true).code(), EXIT_PANIC);
        let o = with_channel("up\ntest exit=0\n", vec![]);
        assert_eq!(verdict(&o, true).code(), EXIT_PANIC);
        // Before `up`, the console is trusted.
        let o = with_channel("", vec![Seen::CannotBoot("a mount line failed".into())]);
        assert_eq!(verdict(&o, true).code(), EXIT_BAD_GUEST);
        let o = with_channel("up\nerror a mount line failed\ndown poweroff\n", vec![]);
        assert_eq!(
            verdict(&o, true),
            Verdict::BadGuest("a mount line failed".into())
        );
        let o = with_channel("", vec![]);
        assert_eq!(verdict(&o, true).code(), EXIT_PANIC);
        // Timeout, unless the result came and the guest hung after it.
        let mut o = with_channel("up\n", vec![]);
        o.killed = true;
        o.qemu_code = Some(124);
        assert_eq!(verdict(&o, true), Verdict::Timeout(60));
        let mut o = with_channel("up\ntest exit=5\n", vec![]);
        o.killed = true;
        o.killed_after_result = true;
        assert_eq!(verdict(&o, true), Verdict::Exit(5));
        // QEMU could not start, or failed.
        let mut o = with_channel("", vec![]);
        o.qemu_code = Some(1);
        assert_eq!(verdict(&o, true).code(), EXIT_QEMU);
        o.qemu_code = Some(127);
        assert_eq!(
            verdict(&o, true),
            Verdict::Qemu("QEMU could not be started".into())
        );
        // A plain boot that powers off in order is a success.
        let o = with_channel("up\ndown poweroff\n", vec![]);
        assert_eq!(verdict(&o, false), Verdict::Clean("poweroff".into()));
    }

    #[test]
    fn console_protocol() {
        let c = |console: Vec<Seen>| Outcome {
            qemu_code: Some(0),
            console,
            timeout: 60,
            ..Outcome::default()
        };
        assert_eq!(verdict(&c(vec![Seen::Exit(3)]), true), Verdict::Exit(3));
        assert_eq!(
            verdict(
                &c(vec![Seen::Exit(0), Seen::Panic("Kernel panic".into())]),
                true
            )
            .code(),
            EXIT_PANIC
        );
        assert_eq!(
            verdict(&c(vec![Seen::Down("power off".into())]), false).code(),
            0
        );
        assert_eq!(
            verdict(
                &c(vec![
                    Seen::CannotBoot("the config is invalid".into()),
                    Seen::Down("power off".into())
                ]),
                false
            )
            .code(),
            EXIT_BAD_GUEST
        );
        assert_eq!(verdict(&c(vec![]), false).code(), EXIT_QEMU);
    }

    #[test]
    fn power_down_line() {
        assert!(is_power_down("[    3.294252] reboot: Power down"));
        assert!(is_power_down("[   12.5] reboot: Restarting system"));
        assert!(!is_power_down("[x] reboot: Power down"));
        assert!(!is_power_down("reboot: Power down"));
        assert!(!is_power_down("[    3.2] reboot: Power down now"));
        let (tx, _rx) = mpsc::channel();
        let mut c = Console {
            log: None,
            echo: true,
            crlf: true,
            held_cr: false,
            line: Vec::new(),
            kline: Vec::new(),
            col: 0,
        };
        let out = c.drop_power_down(b"[not kernel] x\na [b]\n[    1.0] reboot: Po".to_vec());
        assert_eq!(out, b"[not kernel] x\na [b]\n");
        assert_eq!(c.drop_power_down(b"wer down\n".to_vec()), b"");
        c.feed(b"", &tx);
    }

    #[test]
    fn crlf_is_undone_across_chunks() {
        let mut held = false;
        let mut out = undo_crlf(&mut held, b"a\r");
        assert!(held);
        out.extend(undo_crlf(&mut held, b"\nb\r\r\nc\rd"));
        // The program's own "\r\n" came through the tty as "\r\r\n".
        assert_eq!(out, b"a\nb\r\nc\rd");
        assert!(!held);
    }
}
