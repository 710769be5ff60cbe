//! vigil as PID 1 on this host, in a new pid and mount namespace: its
//! resident set while serving 16 services, and its own start-up time
//! natively (the QEMU boot of section 5 runs under TCG).
//!
//! The namespace is always ended with SIGKILL, never by vigil's own
//! shutdown: that unmounts or remounts read-only the disks it sees, and
//! a remount reaches the host's filesystems through the shared superblock.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{median, Ctx};

/// `unshare` a pid and mount namespace whose PID 1 is `init ARGS`, with
/// `etc` bind-mounted on /etc (vigil reads /etc/vigil.conf). `--kill-child`:
/// killing `unshare` kills the namespace.
fn namespace(etc: &Path, init: &[String]) -> Child {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "--mount-proc", "--kill-child"])
        .args(["sh", "-c", "mount --bind \"$0\" /etc && exec \"$@\""])
        .arg(etc)
        .args(init)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare")
}

/// The host pid of the namespace's PID 1 (the child of `unshare`).
fn pid1_of(unshare: &Child) -> Option<u32> {
    let id = unshare.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let kids = std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"));
        if let Some(p) = kids
            .ok()
            .and_then(|k| k.split_whitespace().next()?.parse().ok())
        {
            return Some(p);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn status_kb(pid: u32, key: &str) -> Option<i64> {
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    st.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim_start_matches([':', ' ', '\t']).split(' ').next())
        .and_then(|v| v.parse().ok())
}

fn end(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

fn etc_with(ctx: &Ctx, name: &str, conf: &str) -> PathBuf {
    let etc = ctx.work.join(name);
    std::fs::create_dir_all(&etc).expect("bench etc dir");
    std::fs::write(etc.join("vigil.conf"), conf).expect("vigil.conf");
    etc
}

/// vigil's VmRSS (and what it is made of), as PID 1 serving 16 services
/// that hammer a notified getppid.
pub fn rss(ctx: &Ctx, r: &mut String) -> Option<i64> {
    let secs = ctx.opts.secs.max(2.0);
    let mut conf = String::from(
        "log quiet\npolicy p {\n    default allow\n    decision-log off\n    \
         getppid: notify return 4242\n}\n",
    );
    for i in 0..16 {
        let _ = write!(
            conf,
            "service s{i} {{\n    exec {} load 1 {}\n    policy p\n    stdout null\n    \
             restart never\n}}\n",
            ctx.target.display(),
            secs * 2.0
        );
    }
    let etc = etc_with(ctx, "pid1-rss-etc", &conf);
    let ns = namespace(&etc, &[ctx.vigil.display().to_string()]);
    let pid = pid1_of(&ns);
    std::thread::sleep(Duration::from_secs_f64(secs));
    let got = pid.map(|p| {
        (
            status_kb(p, "VmRSS"),
            status_kb(p, "RssAnon"),
            status_kb(p, "RssFile"),
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children"))
                .map(|k| k.split_whitespace().count())
                .unwrap_or(0),
        )
    });
    end(ns);
    let Some((Some(rss), anon, file, services)) = got else {
        let _ = writeln!(r, "- PID 1 VmRSS: measurement failed (unshare, /proc)\n");
        return None;
    };
    let _ = writeln!(
        r,
        "- vigil as PID 1 (pid and mount namespace on this host) with {services} running \
         services, each hammering a notified getppid, after {secs} s: VmRSS {rss} kB \
         (anonymous {} kB, file {} kB); goal <= 256 KiB: {}\n",
        anon.unwrap_or(-1),
        file.unwrap_or(-1),
        crate::goal(rss <= 256 && services == 16)
    );
    Some(rss)
}

/// Time from spawning the namespace to the first service's first
/// instruction, in us, for `init` as PID 1.
fn to_first(etc: &Path, init: &[String], stamp: &Path) -> Option<f64> {
    let _ = std::fs::remove_file(stamp);
    let t0 = mono_ns();
    let ns = namespace(etc, init);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = None;
    while Instant::now() < deadline && got.is_none() {
        got = std::fs::read_to_string(stamp)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        if got.is_none() {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    end(ns);
    got.map(|t| t.saturating_sub(t0) as f64 / 1000.0)
}

fn mono_ns() -> u64 {
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut [i64; 2]) -> i32;
    }
    let mut ts = [0i64; 2];
    // SAFETY: ts is a valid timespec; CLOCK_MONOTONIC is 1.
    unsafe { clock_gettime(1, &mut ts) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

/// vigil's own start-up on this host: spawn-to-first-service for vigil as
/// PID 1 minus the same for a trivial init that execs the program at once.
pub fn boot(ctx: &Ctx, r: &mut String) {
    let first = crate::boot::peer_static(ctx, "first");
    let trivial = crate::boot::peer_static(ctx, "trivial_init");
    let stamp = ctx.work.join("native-first.stamp");
    let conf = format!(
        "log quiet\nservice first {{\n    exec {} --stamp {}\n    restart never\n}}\n",
        first.display(),
        stamp.display()
    );
    let etc = etc_with(ctx, "pid1-boot-etc", &conf);
    let runs = 21;
    let (mut tv, mut tt) = (Vec::new(), Vec::new());
    // Interleaved, so that drift in the machine's load hits both alike.
    for _ in 0..runs {
        tv.extend(to_first(&etc, &[ctx.vigil.display().to_string()], &stamp));
        let init = [
            trivial.display().to_string(),
            first.display().to_string(),
            "--stamp".into(),
            stamp.display().to_string(),
        ];
        tt.extend(to_first(&etc, &init, &stamp));
    }
    if tv.len() < runs / 2 || tt.len() < runs / 2 {
        let _ = writeln!(r, "Native start-up: measurement failed.\n");
        return;
    }
    let (v, t) = (median(&mut tv), median(&mut tt));
    let own = v - t;
    let _ = writeln!(
        r,
        "### Start-up on this host (no emulation)\n\n\
         vigil as PID 1 of a pid and mount namespace, config from /etc/vigil.conf, one \
         service under the default policy. From spawning `unshare` to the first service's \
         first instruction (CLOCK_MONOTONIC), median of {} interleaved runs each:\n\n\
         | PID 1 | us | min-max |\n|---|---:|---:|\n\
         | trivial static init (execve at once) | {t:.0} | {:.0}-{:.0} |\n\
         | vigil | {v:.0} | {:.0}-{:.0} |\n\n\
         - vigil's own part (vigil - trivial): **{own:.0} us** (goal < 2000 us: {})\n",
        tv.len(),
        tt[0],
        tt[tt.len() - 1],
        tv[0],
        tv[tv.len() - 1],
        crate::goal(own < 2000.0)
    );
}
