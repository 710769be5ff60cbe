//! Section 6: a test run in a VM, from the command to the program's
//! status.
//!
//! (a) `vigil-qemu run -- runtest exit 3` against a bare QEMU boot of the
//!     same kernel, same QEMU machine and memory, whose static `/init`
//!     (`peers/run_init.c`) runs the same program at once, prints its
//!     status and powers off: what vigil-qemu adds (checking, packing,
//!     vigil as PID 1, the result channel and the modules it needs), as a
//!     ratio per arch and kernel. Wall time from spawning the command to
//!     its exit, median of N interleaved runs.
//! (b) `vigil-qemu run` against virtme-ng (`vng --disable-kvm
//!     --disable-microvm -r KERNEL --force-9p --exec CMD`) on Debian's
//!     generic x86_64 kernel, the same commands from the host's `/` over
//!     9p: wall time, exit status, and output against the host's own.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{cargo, median, run_ok, Ctx};

struct Fetched {
    kernel: String,
    release: String,
}

fn fetch(root: &Path, arch: &str, pkg: &str) -> Fetched {
    let out = run_ok(
        Command::new(root.join("qemu/fetch"))
            .args([arch, pkg])
            .current_dir(root),
        &format!("qemu/fetch {arch} {pkg}"),
    );
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or("?")
            .to_string()
    };
    Fetched {
        kernel: get("KERNEL="),
        release: get("KERNEL_RELEASE="),
    }
}

/// `KEY=value` of `targets/ARCH`.
fn target(root: &Path, arch: &str, key: &str) -> String {
    let text = std::fs::read_to_string(root.join("targets").join(arch)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or("")
        .trim_matches('"')
        .to_string()
}

/// Run a command, time it, keep its status and stdout.
fn timed(c: &mut Command) -> (f64, Option<i32>, String) {
    let t0 = Instant::now();
    let o = c
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("spawn");
    (
        t0.elapsed().as_secs_f64(),
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

pub fn vm_run(ctx: &Ctx, r: &mut String) {
    let root = &ctx.root;
    cargo(root, &["build", "-q", "--release", "-p", "vigil-qemu"], &[]);
    let tool = ctx.work.parent().unwrap().join("release/vigil-qemu");
    let n = ctx.opts.boots.max(1);
    let _ = writeln!(
        r,
        "## 6. A test run in a VM (QEMU, TCG)\n\n\
         (a) From spawning the command to its exit, median of {n} interleaved runs: \
         `vigil-qemu run -- runtest exit 3` (release tool binary, vigil prebuilt, kernel cached) \
         against a bare QEMU boot of the same kernel and machine whose static `/init` \
         (`peers/run_init.c`) runs the same program, prints its status and powers off. Both \
         must report status 3. vigil-qemu boots an x86 bzImage from its vmlinux, unpacked \
         once into the cache; the ratio is against the bare boot of that same image, and the \
         bare boot of the image as Debian ships it is shown beside.\n\n\
         | arch | kernel | bare, shipped image, s | bare, vigil-qemu's image, s | vigil-qemu run, s | ratio | goal <= 1.10x |\n\
         |---|---|---:|---:|---:|---:|---|"
    );
    for arch in ["x86_64", "aarch64"] {
        let cc = target(root, arch, "CC");
        let rust_target = target(root, arch, "RUST_TARGET");
        cargo(
            root,
            &["build", "-q", "--release", "--target", &rust_target],
            &[],
        );
        let vigil = ctx
            .work
            .parent()
            .unwrap()
            .join(&rust_target)
            .join("release/vigil");
        let build = |name: &str, src: &Path| -> PathBuf {
            let exe = ctx.work.join(format!("vmrun-{name}-{arch}"));
            run_ok(
                Command::new(&cc)
                    .args(["-static", "-O2", "-o"])
                    .arg(&exe)
                    .arg(src),
                &format!("{cc} {}", src.display()),
            );
            exe
        };
        let prog = build("runtest", &root.join("tests/guest/runtest.c"));
        let init = build("init", &root.join("tests/bench/peers/run_init.c"));
        for pkg in target(root, arch, "KERNEL_PKGS").split_whitespace() {
            let k = fetch(root, arch, pkg);
            let initrd = ctx
                .work
                .join(format!("vmrun-bare-{arch}-{}.cpio", k.release));
            let mut c = Command::new(&tool);
            c.args(["initramfs", "--out"]).arg(&initrd);
            c.arg("--file").arg(format!("/init={}", init.display()));
            c.arg("--file").arg(format!("/bin/prog={}", prog.display()));
            c.args(["--dir", "/proc", "--cdev", "/dev/console=5:1"]);
            run_ok(&mut c, "vigil-qemu initramfs");
            let mut append = format!(
                "console={} panic=-1 quiet loglevel=3",
                target(root, arch, "CONSOLE")
            );
            let extra = target(root, arch, "KERNEL_ARGS");
            if !extra.is_empty() {
                append = format!("{append} {extra}");
            }
            // The image vigil-qemu boots (its dry run says).
            let dry = run_ok(
                Command::new(&tool)
                    .args([
                        "run",
                        "--dry-run",
                        "--arch",
                        arch,
                        "--kernel",
                        pkg,
                        "--vigil",
                    ])
                    .arg(&vigil)
                    .arg("--")
                    .arg(&prog),
                "vigil-qemu run --dry-run",
            );
            let image = dry
                .split_whitespace()
                .skip_while(|w| *w != "-kernel")
                .nth(1)
                .unwrap_or(&k.kernel)
                .to_string();
            if let Some(dir) = dry.lines().find_map(|l| l.strip_prefix("initramfs ")) {
                let _ = std::fs::remove_dir_all(Path::new(dir).parent().unwrap());
            }
            let bare = |kernel: &str| {
                let mut q = Command::new(target(root, arch, "QEMU"));
                q.args(["-accel", "tcg", "-M"])
                    .arg(target(root, arch, "QEMU_MACHINE"));
                let cpu = target(root, arch, "QEMU_CPU");
                if !cpu.is_empty() {
                    q.args(["-cpu", &cpu]);
                }
                q.args(["-m", "256", "-smp", "1", "-nodefaults", "-no-user-config"]);
                q.args(["-display", "none", "-serial", "stdio", "-no-reboot"]);
                q.arg("-kernel").arg(kernel);
                q.arg("-initrd").arg(&initrd);
                q.arg("-append").arg(&append);
                timed(&mut q)
            };
            let run = || {
                let mut c = Command::new(&tool);
                c.args(["run", "--arch", arch, "--kernel", pkg, "--vigil"])
                    .arg(&vigil)
                    .arg("--")
                    .arg(&prog)
                    .args(["exit", "3"]);
                timed(&mut c)
            };
            let (mut ts, mut tb, mut tv) = (Vec::new(), Vec::new(), Vec::new());
            let mut ok = true;
            for _ in 0..n {
                let (t, _, out) = bare(&k.kernel);
                ok &= out.contains("status 3");
                ts.push(t);
                let (t, _, out) = bare(&image);
                ok &= out.contains("status 3");
                tb.push(t);
                let (t, code, out) = run();
                ok &= code == Some(3) && out.trim_end() == "exiting 3";
                tv.push(t);
            }
            let (sh, b, v) = (median(&mut ts), median(&mut tb), median(&mut tv));
            let _ = writeln!(
                r,
                "| {arch} | {} | {sh:.2} | {b:.2} | {v:.2} | {:.2}x | {}{} |",
                k.release,
                v / b,
                crate::goal(v / b <= 1.10),
                if ok {
                    ""
                } else {
                    " (a status or output was wrong!)"
                }
            );
        }
    }

    // (b) against virtme-ng, x86_64 only (vng runs host programs).
    let pkg = target(root, "x86_64", "EXTRA_KERNEL_PKGS");
    let k = fetch(root, "x86_64", &pkg);
    let _ = writeln!(
        r,
        "\n(b) Against virtme-ng on Debian's generic kernel {} (9p: the cloud kernels have \
         none), host programs from the host's `/` over 9p both ways, median of {n} runs: \
         `vng --disable-kvm --disable-microvm -r KERNEL --force-9p --exec CMD` and \
         `vigil-qemu run --kernel {pkg} --fs 9p -- CMD`. Output: the command's stdout \
         compared with the host's.\n\n\
         | command | host: status | vng, s | vng: status | vng: output | vigil-qemu, s | \
         vigil-qemu: status | vigil-qemu: output | vigil-qemu / vng |\n\
         |---|---:|---:|---:|---|---:|---:|---|---:|",
        k.release
    );
    let have_vng = Command::new("vng")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_vng {
        let _ = writeln!(
            r,
            "\nvng not found: `pip install virtme-ng` (and busybox on the host).\n"
        );
        return;
    }
    let cmds: [&[&str]; 3] = [
        &["true"],
        &["sh", "-c", "exit 3"],
        &["echo", "hello from the guest"],
    ];
    let (mut all_right, mut ratios) = (true, Vec::new());
    for cmd in cmds {
        let host = Command::new(cmd[0]).args(&cmd[1..]).output().unwrap();
        let shell = cmd
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let (mut tg, mut tv) = (Vec::new(), Vec::new());
        let (mut g_last, mut v_last) = ((None, String::new()), (None, String::new()));
        for _ in 0..n {
            let (t, code, out) = timed(
                Command::new("vng")
                    .args(["--disable-kvm", "--disable-microvm", "-r", &k.kernel])
                    .args(["--force-9p", "--exec", &shell]),
            );
            tg.push(t);
            g_last = (code, out);
            let (t, code, out) = timed(
                Command::new(&tool)
                    .args(["run", "--kernel", &pkg, "--fs", "9p", "--"])
                    .args(cmd),
            );
            tv.push(t);
            v_last = (code, out);
        }
        let (g, v) = (median(&mut tg), median(&mut tv));
        let want = String::from_utf8_lossy(&host.stdout).into_owned();
        let same = |o: &str| if o == want { "same" } else { "differs" };
        all_right &= v_last.0 == host.status.code() && v_last.1 == want;
        ratios.push(v / g);
        let _ = writeln!(
            r,
            "| `{shell}` | {} | {g:.2} | {} | {} | {v:.2} | {} | {} | {:.2}x |",
            host.status.code().unwrap_or(-1),
            g_last.0.map_or("?".into(), |c| c.to_string()),
            same(&g_last.1),
            v_last.0.map_or("?".into(), |c| c.to_string()),
            same(&v_last.1),
            v / g
        );
    }
    let worst = ratios.iter().cloned().fold(0.0, f64::max);
    let _ = writeln!(
        r,
        "\n- vigil-qemu's wall time against vng's: at most **{worst:.2}x** (goal <= 0.5x: {}); \
         every status and output of vigil-qemu right: {}\n",
        crate::goal(worst <= 0.5),
        if all_right { "yes" } else { "NO" }
    );
}
