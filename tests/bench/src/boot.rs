//! Section 5: boot time in a QEMU guest (TCG). The time from the kernel's
//! `Run /init as init process` to the first service's own line in the
//! kernel log, both stamped by the kernel, for vigil as /init and for a
//! trivial static /init that execs the same program.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, median, run_ok, Ctx};

const CONF: &str = "# vigil-bench boot: one service under the default policy\n\
log info\n\
service first {\n    exec /bin/first\n    restart never\n}\n";

/// A kernel timestamp `[    1.234567]` at the start of a line (after any
/// prefix), in microseconds.
fn stamp(line: &str) -> Option<f64> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let secs: f64 = line[open + 1..close].trim().parse().ok()?;
    Some(secs * 1e6)
}

struct Boot {
    /// `Run /init` to `bench: first exec`, us.
    to_first: f64,
    /// vigil's own `PID 1 up in N us`.
    up_us: Option<f64>,
}

fn parse(log: &str) -> Option<Boot> {
    let run = log
        .lines()
        .find(|l| l.contains("Run /init as init process"))
        .and_then(stamp)?;
    let first = log
        .lines()
        .find(|l| l.contains("bench: first exec"))
        .and_then(stamp)?;
    let up_us = log
        .lines()
        .find_map(|l| l.split("PID 1 up in ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    Some(Boot {
        to_first: first - run,
        up_us,
    })
}

/// `tests/bench/peers/NAME.c` built static and stripped: the first
/// program and the trivial init, for the guest and for the host alike.
pub fn peer_static(ctx: &Ctx, name: &str) -> PathBuf {
    let exe = ctx.work.join(format!("boot-{name}"));
    run_ok(
        Command::new("gcc")
            .args(["-Os", "-static", "-s", "-o"])
            .arg(&exe)
            .arg(ctx.root.join(format!("tests/bench/peers/{name}.c"))),
        &format!("gcc {name}.c"),
    );
    exe
}

pub fn boot(ctx: &Ctx, r: &mut String) {
    let root = &ctx.root;
    cargo(root, &["build", "-q", "-p", "vigil-qemu"], &[]);
    let tdir = ctx.work.parent().unwrap();
    let tool = tdir.join("debug/vigil-qemu");
    // The kernel the demo uses (VIGIL_CACHE from the caller's environment).
    let fetched = run_ok(
        Command::new(root.join("qemu/fetch"))
            .arg("x86_64")
            .current_dir(root),
        "qemu/fetch x86_64",
    );
    let kernel = fetched
        .lines()
        .find_map(|l| l.strip_prefix("KERNEL="))
        .expect("qemu/fetch: no KERNEL")
        .trim_matches('"')
        .to_owned();
    let release = fetched
        .lines()
        .find_map(|l| l.strip_prefix("KERNEL_RELEASE="))
        .unwrap_or("?")
        .trim_matches('"')
        .to_owned();
    let first = peer_static(ctx, "first");
    let trivial = peer_static(ctx, "trivial_init");
    let conf = ctx.work.join("boot-vigil.conf");
    std::fs::write(&conf, CONF).unwrap();

    let initrd = |name: &str, init: &Path, extra: &[String]| -> PathBuf {
        let out = ctx.work.join(format!("boot-{name}.cpio"));
        let mut c = Command::new(&tool);
        c.arg("initramfs").arg("--out").arg(&out);
        c.arg("--file").arg(format!("/init={}", init.display()));
        c.arg("--file")
            .arg(format!("/bin/first={}", first.display()));
        for d in ["/proc", "/sys", "/dev", "/run", "/tmp", "/etc"] {
            c.args(["--dir", d]);
        }
        c.args(["--cdev", "/dev/console=5:1", "--cdev", "/dev/kmsg=1:11"]);
        c.args(extra);
        run_ok(&mut c, "vigil-qemu initramfs");
        out
    };
    let vig = initrd(
        "vigil",
        &ctx.vigil,
        &[
            "--file".into(),
            format!("/etc/vigil.conf={}", conf.display()),
        ],
    );
    let triv = initrd("trivial", &trivial, &[]);

    let boot_once = |initrd: &Path, name: &str, i: usize| -> Option<Boot> {
        let log = ctx.work.join(format!("boot-{name}-{i}.log"));
        let _ = Command::new(&tool)
            .args(["boot", "--arch", "x86_64", "--kernel", &kernel])
            .arg("--initrd")
            .arg(initrd)
            .args(["--append", "printk.time=1", "--timeout", "90", "--log"])
            .arg(&log)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let b = parse(&text);
        if b.is_none() {
            eprintln!(
                "vigil-bench: boot {name} {i}: no timestamps in {}",
                log.display()
            );
        }
        b
    };
    let (mut tv, mut tt, mut up) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..ctx.opts.boots {
        if let Some(b) = boot_once(&vig, "vigil", i) {
            tv.push(b.to_first);
            up.extend(b.up_us);
        }
        if let Some(b) = boot_once(&triv, "trivial", i) {
            tt.push(b.to_first);
        }
    }
    let _ = writeln!(
        r,
        "## 5. Boot (QEMU, TCG, x86_64, kernel {release})\n\n\
         From the kernel's `Run /init as init process` to the first service's own line in \
         /dev/kmsg (both stamped by the kernel), median of {} boots. The first service runs \
         under vigil's default policy (filter, listener hand-over).\n",
        ctx.opts.boots
    );
    if tv.is_empty() || tt.is_empty() {
        let _ = writeln!(
            r,
            "Boot measurement failed: see the logs in target/bench/boot-*.log\n"
        );
        return;
    }
    let (v, t) = (median(&mut tv), median(&mut tt));
    let _ = writeln!(
        r,
        "| /init | to first exec, us | min-max | / trivial |\n|---|---:|---:|---:|\n\
         | trivial static init (execve at once) | {t:.0} | {:.0}-{:.0} | 1.00x |\n\
         | vigil | {v:.0} | {:.0}-{:.0} | {:.2}x |\n",
        tt[0],
        tt[tt.len() - 1],
        tv[0],
        tv[tv.len() - 1],
        v / t
    );
    let own = v - t;
    let upm = if up.is_empty() {
        None
    } else {
        Some(median(&mut up))
    };
    let _ = writeln!(
        r,
        "- vigil's own part (vigil - trivial): **{own:.0} us** under TCG (goal < 2000 us: {})\n\
         - vigil's log `PID 1 up in N us` (main to config checked, before any service): {}\n",
        crate::goal(own < 2000.0),
        upm.map(|u| format!("{u:.0} us"))
            .unwrap_or("not found".into())
    );
}
