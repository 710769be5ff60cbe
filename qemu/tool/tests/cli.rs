//! `vigil-qemu run` on the host, without booting: bad input is refused
//! before QEMU starts, with the reason and exit 2; `--dry-run` packs the
//! initramfs, which is read back here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil-qemu"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-qemu-cli.{}.{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The kernel cache `qemu/setup` fills; the checks that need a kernel's
/// modules are skipped (and say so) without it.
fn have_kernels() -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cache = std::env::var_os("VIGIL_CACHE")
        .map(PathBuf::from)
        .unwrap_or(root.join(".cache"));
    let ok = cache
        .join("x86_64/resolved/linux-image-cloud-amd64")
        .is_file();
    if !ok {
        eprintln!("no kernel cache: run qemu/setup; kernel checks skipped");
    }
    ok
}

fn refused(args: &[&str], why: &str) {
    let o = tool(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(why),
        "{args:?}: want {why:?} in {}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty(), "{args:?}: printed {:?}", o.stdout);
}

#[test]
fn bad_input_is_refused_before_qemu() {
    let me = std::env::current_exe().unwrap();
    let me = me.to_str().unwrap();
    let host = std::env::consts::ARCH;
    let other = if host == "x86_64" {
        "aarch64"
    } else {
        "x86_64"
    };
    refused(&["run"], "no program given");
    refused(
        &["run", "--frob", "1", "--", "true"],
        "unknown option '--frob'",
    );
    refused(
        &["run", "--timeout", "soon", "--", "true"],
        "positive whole number",
    );
    refused(
        &["run", "--", "no-such-program-anywhere"],
        "not found on PATH",
    );
    refused(&["run", "--", "./no/such/file"], "no such file");
    refused(&["run", "--arch", "sparc", "--", "true"], "--arch sparc");
    refused(
        &["run", "--arch", other, "--", me],
        &format!("is a dynamic ELF program for {host}; the guest is {other}"),
    );
    refused(
        &["run", "--file", "/x=/no/such/source", "--", "true"],
        "--file /x=/no/such/source: no such file",
    );
    refused(
        &["run", "--file", "rel=Cargo.toml", "--", "true"],
        "DEST must be absolute",
    );
    refused(
        &["run", "--file", "/init=Cargo.toml", "--", me],
        "packs its own files there",
    );
    refused(
        &["run", "--file", "/tmp/x=Cargo.toml", "--", me],
        "tmpfs over /tmp",
    );
    refused(
        &["run", "--share", "/no/such/dir", "--", me],
        "no such directory",
    );
    refused(
        &["run", "--share", "/tmp=rel", "--", me],
        "must be absolute",
    );
    refused(
        &["run", "--policy", "/no/such.policy", "--", me],
        "no such file",
    );
    refused(
        &["run", "--kernel", "/no/such/vmlinuz", "--", me],
        "no such file",
    );
    let many: Vec<String> = (0..17).map(|i| i.to_string()).collect();
    let mut args = vec!["run", "--dry-run", "--", "true"];
    args.extend(many.iter().map(String::as_str));
    if have_kernels() {
        refused(&args, "the guest runs at most 16");
        refused(
            &["run", "--", "echo", "both ' and \""],
            "both kinds of quote",
        );
        refused(
            &["run", "--fs", "9p", "--share", "/tmp", "--", me],
            "has no 9p support",
        );
    }
}

/// An archive entry: path, mode, data.
type Entry = (String, u32, Vec<u8>);

/// The entries of a newc archive.
fn cpio(bytes: &[u8]) -> Vec<Entry> {
    let mut v = Vec::new();
    let mut p = 0;
    let field = |p: usize, i: usize| {
        let s = std::str::from_utf8(&bytes[p + 6 + 8 * i..p + 14 + 8 * i]).unwrap();
        u32::from_str_radix(s, 16).unwrap() as usize
    };
    loop {
        assert_eq!(&bytes[p..p + 6], b"070701");
        let (mode, size, nsize) = (field(p, 1) as u32, field(p, 6), field(p, 11));
        let name = std::str::from_utf8(&bytes[p + 110..p + 110 + nsize - 1]).unwrap();
        let d = (p + 110 + nsize + 3) & !3;
        if name == "TRAILER!!!" {
            return v;
        }
        v.push((name.to_string(), mode, bytes[d..d + size].to_vec()));
        p = (d + size + 3) & !3;
    }
}

/// `--dry-run`: the initramfs path, the config, the QEMU command line.
fn dry(args: &[&str]) -> (Vec<Entry>, String, String) {
    let o = tool(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let initrd = out
        .lines()
        .find_map(|l| l.strip_prefix("initramfs "))
        .expect("initramfs line");
    let entries = cpio(&std::fs::read(initrd).unwrap());
    let qemu = out
        .lines()
        .find_map(|l| l.strip_prefix("qemu "))
        .unwrap()
        .to_string();
    let _ = std::fs::remove_dir_all(Path::new(initrd).parent().unwrap());
    (entries, out, qemu)
}

fn static_prog(dir: &Path) -> Option<PathBuf> {
    let src = dir.join("p.c");
    std::fs::write(&src, "int main(void) { return 3; }\n").unwrap();
    let exe = dir.join("p");
    let ok = Command::new("gcc")
        .args(["-static", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(exe)
}

#[test]
fn dry_run_packs_what_the_guest_needs() {
    if !have_kernels() {
        return;
    }
    let d = tmp("pack");
    let Some(prog) = static_prog(&d) else {
        eprintln!("no static gcc: packing checks skipped");
        return;
    };
    std::fs::create_dir_all(d.join("data/sub")).unwrap();
    std::fs::write(d.join("data/sub/f.txt"), "input").unwrap();
    let fake_vigil = d.join("vigil");
    std::fs::write(&fake_vigil, "not really vigil").unwrap();
    let data = format!("/data={}", d.join("data").display());
    let (e, out, qemu) = dry(&[
        "run",
        "--dry-run",
        "--vigil",
        fake_vigil.to_str().unwrap(),
        "--file",
        &data,
        "--share",
        &format!("{}=/out", d.display()),
        "--",
        prog.to_str().unwrap(),
        "two words",
    ]);
    let find = |n: &str| e.iter().find(|(p, _, _)| p == n);
    // vigil as /init, the program under /packed (its path is below /tmp,
    // where the guest mounts a tmpfs), the files, the console node.
    assert_eq!(find("init").unwrap().2, b"not really vigil");
    let packed = format!("packed{}", prog.display());
    let p = find(&packed).unwrap_or_else(|| {
        panic!(
            "no {packed} in {:?}",
            e.iter().map(|x| &x.0).collect::<Vec<_>>()
        )
    });
    assert_eq!(p.1, 0o100755);
    assert_eq!(p.2, std::fs::read(&prog).unwrap());
    assert_eq!(find("data/sub/f.txt").unwrap().2, b"input");
    assert_eq!(find("dev/console").unwrap().1, 0o020600);
    // The modules the config loads are in the archive, in its order.
    let conf = String::from_utf8(find("etc/vigil.conf").unwrap().2.clone()).unwrap();
    let mods: Vec<&str> = conf
        .lines()
        .filter_map(|l| l.strip_prefix("module /"))
        .collect();
    assert!(
        mods.iter().any(|m| m.ends_with("virtio_console.ko")),
        "{conf}"
    );
    for m in &mods {
        let m = find(m).unwrap_or_else(|| panic!("{m} not packed"));
        assert_eq!(&m.2[..4], b"\x7fELF", "a module is a plain .ko");
    }
    assert!(
        conf.contains(&format!("    exec /{packed} 'two words'\n")),
        "{conf}"
    );
    assert!(conf.contains("mount vigilshare0 /out virtiofs\n"), "{conf}");
    assert!(conf.contains("    kind test\n"));
    assert!(!conf.contains("root /host"));
    // QEMU: the channel is the first device, the share a vhost-user-fs.
    let ser = qemu.find("virtio-serial-pci").unwrap();
    let fs = qemu.find("vhost-user-fs-pci").unwrap();
    assert!(ser < fs, "{qemu}");
    assert!(qemu.contains("vigil.result=/dev/vport0p1"));
    assert!(qemu.contains("memory-backend-memfd") && qemu.contains("share=on"));
    assert!(out.contains(&format!("share vigilshare0 {} virtiofs\n", d.display())));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn dry_run_of_a_host_program_uses_the_hosts_root() {
    if !have_kernels() {
        return;
    }
    let d = tmp("host");
    let fake_vigil = d.join("vigil");
    std::fs::write(&fake_vigil, "x").unwrap();
    let (e, out, qemu) = dry(&[
        "run",
        "--dry-run",
        "--vigil",
        fake_vigil.to_str().unwrap(),
        "--fs",
        "virtiofs",
        "--",
        "sh",
        "-c",
        "echo 'hi'",
    ]);
    let conf = String::from_utf8(
        e.iter()
            .find(|(p, _, _)| p == "etc/vigil.conf")
            .unwrap()
            .2
            .clone(),
    )
    .unwrap();
    assert!(
        conf.contains("mount vigilroot /host virtiofs ro\n"),
        "{conf}"
    );
    assert!(conf.contains("mount proc /host/proc proc\n"));
    assert!(conf.contains("mount tmpfs /host/tmp tmpfs\n"));
    assert!(conf.contains("    root /host\n"));
    assert!(
        conf.contains("    exec /usr/bin/sh -c \"echo 'hi'\"\n")
            || conf.contains("    exec /bin/sh -c \"echo 'hi'\"\n"),
        "{conf}"
    );
    // cwd: the tool's (the crate directory), shared from the host's /.
    assert!(
        conf.contains(&format!("    cwd {}\n", env!("CARGO_MANIFEST_DIR"))),
        "{conf}"
    );
    // The program is not packed: it is the host's.
    assert!(!e.iter().any(|(p, _, _)| p.ends_with("bin/sh")));
    assert!(out.contains("share vigilroot / virtiofs ro\n"), "{out}");
    assert!(qemu.contains("vhost-user-fs-pci,chardev=vfs0,tag=vigilroot"));
    std::fs::remove_dir_all(&d).unwrap();
}
