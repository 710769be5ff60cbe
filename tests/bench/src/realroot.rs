//! Section 7: booting a real root. From the kernel's start to the first
//! program of a squashfs root on a virtio disk (its own line in /dev/kmsg,
//! stamped by the kernel), same kernel, same disk image, same run:
//! - a busybox-shell initramfs `/init` that loads the same modules, polls
//!   for /dev/vda (10 ms steps), mounts it and `switch_root`s to the
//!   program (the usual hand-written initramfs);
//! - vigil with `init=`: the same switch, then PID 1 handed over;
//! - vigil staying PID 1: the program is the first service of the root's
//!   `/etc/vigil.conf`, under the default policy.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, median, run_ok, Ctx};

/// The busybox `/init`: what a hand-written initramfs does.
const BUSYBOX_INIT: &str = "#!/bin/busybox sh
export PATH=/bin
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
for m in $(busybox cat /lib/modules/load-order); do busybox insmod /lib/modules/$m.ko; done
while [ ! -b /dev/vda ]; do busybox usleep 10000; done
busybox mount -t squashfs -o ro /dev/vda /newroot
for d in dev proc sys; do busybox mount --move /$d /newroot/$d; done
exec busybox switch_root /newroot /bin/first
";

/// A kernel timestamp `[    1.234567]` on the line with `what`, in us.
fn stamp(log: &str, what: &str) -> Option<f64> {
    let line = log.lines().find(|l| l.contains(what))?;
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let secs: f64 = line[open + 1..close].trim().parse().ok()?;
    Some(secs * 1e6)
}

fn kv(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("qemu/fetch: no {key}"))
        .trim_matches('"')
        .to_owned()
}

pub fn realroot(ctx: &Ctx, r: &mut String) {
    let root = &ctx.root;
    cargo(root, &["build", "-q", "-p", "vigil-qemu"], &[]);
    let tool = ctx.work.parent().unwrap().join("debug/vigil-qemu");
    let fetched = run_ok(
        Command::new(root.join("qemu/fetch"))
            .arg("x86_64")
            .current_dir(root),
        "qemu/fetch x86_64",
    );
    let (kernel, release) = (kv(&fetched, "KERNEL"), kv(&fetched, "KERNEL_RELEASE"));
    let (moddir, busybox) = (kv(&fetched, "MODULES"), kv(&fetched, "BUSYBOX"));
    let first = crate::boot::peer_static(ctx, "first");
    let w = ctx.work.join("realroot");
    let _ = std::fs::remove_dir_all(&w);

    // The root: the first program, vigil's config for it, mount points.
    let tree = w.join("tree");
    for d in ["bin", "etc", "dev", "proc", "sys", "run", "tmp"] {
        std::fs::create_dir_all(tree.join(d)).unwrap();
    }
    std::fs::copy(&first, tree.join("bin/first")).unwrap();
    std::fs::write(
        tree.join("etc/vigil.conf"),
        "service first {\n    exec /bin/first\n    restart never\n}\n",
    )
    .unwrap();
    let disk = w.join("root.sqfs");
    run_ok(
        Command::new("mksquashfs")
            .arg(&tree)
            .arg(&disk)
            .args(["-noappend", "-quiet", "-all-root"]),
        "mksquashfs (install squashfs-tools)",
    );

    // The modules both initramfs load, in order.
    let order = run_ok(
        Command::new(&tool)
            .args(["modules", "--moddir", &moddir])
            .args(["virtio_pci", "virtio_blk", "squashfs"]),
        "vigil-qemu modules",
    );
    let mut conf = String::from("log info\n");
    for l in order.lines() {
        if let Some((name, p)) = l.split_once(' ') {
            if p != "builtin" {
                let _ = writeln!(conf, "module /lib/modules/{name}.ko");
            }
        }
    }
    std::fs::write(w.join("initramfs.conf"), &conf).unwrap();
    std::fs::write(w.join("busybox-init"), BUSYBOX_INIT).unwrap();
    run_ok(
        Command::new("chmod").arg("755").arg(w.join("busybox-init")),
        "chmod",
    );
    let initrd = |name: &str, files: &[String]| -> PathBuf {
        let out = w.join(format!("{name}.cpio"));
        let mut c = Command::new(&tool);
        c.arg("initramfs").arg("--out").arg(&out);
        for d in ["/proc", "/sys", "/dev", "/run", "/tmp", "/newroot"] {
            c.args(["--dir", d]);
        }
        c.args(["--cdev", "/dev/console=5:1"]);
        c.args(files);
        c.args(["--moddir", &moddir]);
        c.args([
            "--module",
            "virtio_pci",
            "--module",
            "virtio_blk",
            "--module",
            "squashfs",
        ]);
        run_ok(&mut c, "vigil-qemu initramfs");
        out
    };
    let vig = initrd(
        "vigil",
        &[
            "--file".into(),
            format!("/init={}", ctx.vigil.display()),
            "--file".into(),
            format!("/etc/vigil.conf={}", w.join("initramfs.conf").display()),
        ],
    );
    let bb = initrd(
        "busybox",
        &[
            "--file".into(),
            format!("/init={}", w.join("busybox-init").display()),
            "--file".into(),
            format!("/bin/busybox={busybox}"),
        ],
    );

    let boot_once = |initrd: &Path, append: &str, name: &str, i: usize| -> Option<f64> {
        let log = w.join(format!("boot-{name}-{i}.log"));
        let _ = Command::new(&tool)
            .args(["boot", "--arch", "x86_64", "--kernel", &kernel])
            .arg("--initrd")
            .arg(initrd)
            .arg("--disk")
            .arg(&disk)
            .args(["--append", &format!("printk.time=1 {append}")])
            .args(["--timeout", "90", "--log"])
            .arg(&log)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let t = stamp(&text, "bench: first exec");
        if t.is_none() {
            eprintln!(
                "vigil-bench: realroot {name} {i}: no first line in {}",
                log.display()
            );
        }
        t
    };
    let modes: [(&str, &Path, &str); 3] = [
        ("busybox sh /init + switch_root", &bb, ""),
        (
            "vigil, init= hand-over",
            &vig,
            "root=/dev/vda rootfstype=squashfs init=/bin/first",
        ),
        (
            "vigil, stays PID 1 (first service)",
            &vig,
            "root=/dev/vda rootfstype=squashfs",
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for i in 0..ctx.opts.boots {
        for (k, (name, initrd, append)) in modes.iter().enumerate() {
            if let Some(t) = boot_once(initrd, append, &name[..5], i * modes.len() + k) {
                times[k].push(t);
            }
        }
    }
    let _ = writeln!(
        r,
        "## 7. Real root (QEMU, TCG, x86_64, kernel {release})\n\n\
         From the kernel's start to the first program of a squashfs root on a virtio disk (its \
         line in /dev/kmsg, stamped by the kernel), median of {} boots each, interleaved; same \
         kernel, same modules (virtio_pci, virtio_blk, squashfs), same image.\n",
        ctx.opts.boots
    );
    if times.iter().any(Vec::is_empty) {
        let _ = writeln!(
            r,
            "Measurement failed: see target/bench/realroot/boot-*.log\n"
        );
        return;
    }
    let meds: Vec<f64> = times.iter_mut().map(|v| median(v)).collect();
    let _ = writeln!(
        r,
        "| /init | to the first program, ms | min-max | / busybox |\n|---|---:|---:|---:|"
    );
    for (k, (name, _, _)) in modes.iter().enumerate() {
        let v = &times[k];
        let _ = writeln!(
            r,
            "| {name} | {:.0} | {:.0}-{:.0} | {:.2}x |",
            meds[k] / 1e3,
            v[0] / 1e3,
            v[v.len() - 1] / 1e3,
            meds[k] / meds[0]
        );
    }
    let _ = writeln!(r);
}
