//! The monitor under attack (issue 12, part B): a target that freezes
//! whoever reads its memory, aliases a forbidden directory through a mount
//! namespace of its own, renames a denied subtree out from under its rule,
//! or drops capabilities and has vigil use its own; and the calls vigil now
//! emulates. Each test runs the attack for real under `vigil run` with the
//! policy a user naturally writes, and fails if it succeeds.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The calls a paths block naturally governs (and those vigil emulates
/// since: truncate, mknod(at), openat2).
const CALLS: &str = "open?, openat, openat2, creat?, mkdir?, mkdirat, unlink?, unlinkat, \
    rmdir?, rename?, renameat?, renameat2, link?, linkat, symlink?, symlinkat, chmod?, \
    fchmodat, fchmodat2, chown?, fchownat, lchown?, truncate, mknod?, mknodat";

/// `default allow`, and the calls above allowed under `allow` (each a
/// prefix line of the block, `deny PREFIX` for denials) else EACCES.
fn natural(name: &str, lines: &[String]) -> PathBuf {
    policy(name, &natural_text(lines))
}

/// The text of `natural`'s policy.
fn natural_text(lines: &[String]) -> String {
    let mut text = format!("default allow\n{CALLS}: notify paths {{\n");
    for l in lines {
        text.push_str(&format!("    {l}\n"));
    }
    text.push_str("    otherwise errno EACCES\n}\n");
    text
}

fn fresh(name: &str) -> PathBuf {
    let d = tmp().join(format!("mon-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn is_root() -> bool {
    rustix_free_euid() == 0
}

fn rustix_free_euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `pathops ARGS` under `policy`: its stdout and vigil's stderr.
fn ops(policy: &Path, args: &[&str]) -> (String, String) {
    let mut a = vec![prog("pathops").to_str().unwrap().to_string()];
    a.extend(args.iter().map(|x| x.to_string()));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = run(policy, &a);
    (stdout(&o), stderr(&o))
}

fn world_open(d: &Path) {
    Command::new("chmod")
        .args(["-R", "a+rwX", s(d)])
        .status()
        .unwrap();
}

// ---- item 10: a target must not freeze the monitor ---------------------

type Held = (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    Instant,
);

/// Start `uffd HOLD` under a paths policy; returns the child, its stdout
/// and the moment it said `holding` (None: no userfaultfd here).
fn hold(name: &str, secs: &str) -> Option<Held> {
    let d = fresh(name);
    // userfaultfd and ioctl named, so that vigil adds no denial of them
    // beside the paths block (which it does for the policy a user
    // naturally writes): the attack needs userfaultfd, and the test is of
    // the worker, not the hardening. Root under a policy has no
    // CAP_SYS_PTRACE, so the syscall refuses faults the kernel takes; the
    // program then uses /dev/userfaultfd.
    let text = natural_text(&[format!("allow {}", s(&d)), "allow /dev/userfaultfd".into()]);
    let p = policy(name, &format!("{text}userfaultfd: allow\nioctl: allow\n"));
    let mut v = Command::new(vigil())
        .args(["run", "--policy", s(&p), "--"])
        .arg(prog("uffd"))
        .arg(secs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(v.stdout.take().unwrap());
    let mut l = String::new();
    out.read_line(&mut l).unwrap();
    if l.starts_with("no userfaultfd") {
        eprintln!("skipped: {l}");
        let _ = v.kill();
        let _ = v.wait();
        return None;
    }
    assert_eq!(l.trim(), "holding", "{l}");
    Some((v, out, Instant::now()))
}

#[test]
fn a_fault_held_in_a_path_argument_does_not_freeze_vigil() {
    // vigil must still forward signals (and, as PID 1, answer every other
    // service) while the target holds its fault; before the worker, vigil
    // slept in process_vm_readv until the hold ended.
    let Some((v, _out, t)) = hold("freeze-signal", "8") else {
        return;
    };
    let pid = v.id();
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let o = v.wait_with_output().unwrap();
    let took = t.elapsed();
    assert_eq!(o.status.code(), Some(128 + 15), "{}", stderr(&o));
    assert!(took < Duration::from_secs(3), "SIGTERM took {took:?}");
}

#[test]
fn a_fault_held_past_the_deadline_stops_the_program() {
    let Some((v, mut out, t)) = hold("freeze-deadline", "30") else {
        return;
    };
    let o = v.wait_with_output().unwrap();
    let took = t.elapsed();
    let err = stderr(&o);
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut out, &mut rest);
    // The call failed (EIO) and the program was stopped (SIGKILL); it may
    // have printed the failure first.
    assert_eq!(o.status.code(), Some(128 + 9), "{err}");
    assert!(
        !rest.contains("openat=") || rest.contains("errno=EIO"),
        "{rest}"
    );
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(14),
        "stopped after {took:?}"
    );
    assert!(
        err.contains(
            "openat: not served within 10 s: its worker is killed, the call fails with EIO"
        ),
        "{err}"
    );
}

// ---- item 6: namespace aliasing -----------------------------------------

/// DIR/allowed/x (a mount point to be), DIR/secret/data (readable by all:
/// only the policy keeps it), and the natural policy allowing DIR/allowed.
/// The aliasing tests' directory and policy. Their target becomes uid
/// 1000 before it acts on the directory: it lives where that uid can reach.
fn alias_setup(name: &str) -> (WorldDir, PathBuf) {
    let d = WorldDir::new(&format!("mon-{name}"));
    std::fs::create_dir_all(d.join("allowed/x")).unwrap();
    std::fs::create_dir_all(d.join("secret")).unwrap();
    std::fs::write(d.join("secret/data"), "SECRET\n").unwrap();
    world_open(&d);
    // The calls that make namespaces and mounts are named, so vigil adds
    // no denials for them (tests/harden.rs attacks with those): what is
    // tested here is the monitor's own check, the second line.
    let mut text = format!(
        "default allow\nunshare, clone, mount, open_tree?: allow\n{CALLS}: notify paths {{\n"
    );
    text.push_str(&format!("    allow {}\n", s(&d.join("allowed"))));
    text.push_str("    otherwise errno EACCES\n}\n");
    (d, policy(name, &text))
}

fn assert_no_secret(out: &str, err: &str) {
    assert!(!out.contains("SECRET"), "the secret leaked:\n{out}\n{err}");
}

#[test]
fn a_bind_mount_in_a_namespace_of_its_own_aliases_nothing() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let (d, p) = alias_setup("alias-unshare");
    let (secret, x) = (d.join("secret"), d.join("allowed/x"));
    let data = x.join("data");
    let (out, err) = ops(
        &p,
        &[
            "unshare",
            ":",
            "bind",
            s(&secret),
            s(&x),
            ":",
            "read",
            s(&data),
        ],
    );
    assert!(out.contains("bind"), "{out}{err}");
    assert_no_secret(&out, &err);
    assert!(out.contains(&format!("read {}: EXDEV", s(&data))), "{out}");
    assert!(
        err.contains("mount namespace is not the one it started with"),
        "{err}"
    );
}

#[test]
fn as_uid_1000_a_user_namespace_aliases_nothing() {
    if !is_root() {
        eprintln!("skipped: needs root to become uid 1000");
        return;
    }
    let (d, p) = alias_setup("alias-userns");
    let (secret, x) = (d.join("secret"), d.join("allowed/x"));
    let data = x.join("data");
    let (out, err) = ops(
        &p,
        &[
            "uid",
            "1000",
            ":",
            "userns",
            ":",
            "bind",
            s(&secret),
            s(&x),
            ":",
            "read",
            s(&data),
        ],
    );
    if out.contains("userns user+mnt: EPERM") || out.contains("userns user+mnt: ENOSPC") {
        eprintln!("skipped: no unprivileged user namespaces here");
        return;
    }
    assert!(out.contains(&format!("bind {}: ok", s(&x))), "{out}{err}");
    assert_no_secret(&out, &err);
    assert!(out.contains(&format!("read {}: EXDEV", s(&data))), "{out}");
    // The same from a child made with clone(CLONE_NEWUSER | CLONE_NEWNS).
    let (out, err) = ops(
        &p,
        &[
            "uid",
            "1000",
            ":",
            "clone-read",
            s(&secret),
            s(&x),
            s(&data),
        ],
    );
    assert_no_secret(&out, &err);
    assert!(out.contains("clone-read"), "{out}{err}");
}

#[test]
fn a_directory_fd_from_another_namespace_aliases_nothing() {
    if !is_root() {
        eprintln!("skipped: needs root to become uid 1000");
        return;
    }
    // A child binds the secret in a namespace of its own and passes the
    // directory over; the target's namespace never changed.
    let (d, p) = alias_setup("alias-fd");
    let (secret, x) = (d.join("secret"), d.join("allowed/x"));
    let (out, err) = ops(
        &p,
        &["uid", "1000", ":", "passfd", s(&secret), s(&x), "data"],
    );
    if out.contains("passfd unshare: EPERM") {
        eprintln!("skipped: no unprivileged user namespaces here");
        return;
    }
    assert_no_secret(&out, &err);
    assert!(out.contains("passfd data: EXDEV"), "{out}{err}");
    assert!(
        err.contains("its dirfd or cwd is not the one its path names"),
        "{err}"
    );
}

// ---- item 7: rename and link never move a denied subtree ----------------

#[test]
fn renaming_an_ancestor_of_a_denied_prefix_is_refused() {
    let d = fresh("rename");
    let a = d.join("a");
    std::fs::create_dir_all(a.join("sub/private")).unwrap();
    std::fs::create_dir_all(a.join("pub")).unwrap();
    std::fs::write(a.join("sub/private/data"), "SECRET\n").unwrap();
    let p = natural(
        "rename",
        &[
            format!("allow {}", s(&a)),
            format!("deny {} errno EPERM", s(&a.join("sub/private"))),
        ],
    );
    let (sub, sub2) = (a.join("sub"), a.join("sub2"));
    let (out, err) = ops(
        &p,
        &[
            "rename",
            s(&sub),
            s(&sub2),
            ":",
            "read",
            s(&sub2.join("private/data")),
            ":",
            "exchange",
            s(&a.join("pub")),
            s(&sub),
            ":",
            "read",
            s(&a.join("pub/private/data")),
            ":",
            "rename",
            s(&a.join("pub")),
            s(&a.join("pub2")),
        ],
    );
    assert_no_secret(&out, &err);
    assert!(
        out.contains(&format!("rename {}: EPERM", s(&sub))),
        "{out}{err}"
    );
    assert!(
        out.contains(&format!("exchange {}: EPERM", s(&a.join("pub")))),
        "{out}"
    );
    assert!(err.contains("it would move a path across a rule"), "{err}");
    // What moves nothing across a rule still works.
    assert!(
        out.contains(&format!("rename {}: ok", s(&a.join("pub")))),
        "{out}"
    );
    assert!(sub.join("private/data").exists());
}

#[test]
fn a_second_paths_block_cannot_move_what_the_first_denies() {
    // The rename block allows everything; the open block does not: moving
    // the secret under the open block's allowed prefix would open it.
    let d = fresh("rename-blocks");
    std::fs::create_dir_all(d.join("pub")).unwrap();
    std::fs::create_dir_all(d.join("secret")).unwrap();
    std::fs::write(d.join("secret/data"), "SECRET\n").unwrap();
    let p = policy(
        "rename-blocks",
        &format!(
            "default allow\nopen?, openat: notify paths {{\n    allow {pub_}\n    otherwise errno EACCES\n}}\n\
             rename?, renameat?, renameat2, link?, linkat: notify paths {{\n    allow /\n}}\n",
            pub_ = s(&d.join("pub"))
        ),
    );
    let (out, err) = ops(
        &p,
        &[
            "rename",
            s(&d.join("secret")),
            s(&d.join("pub/s")),
            ":",
            "read",
            s(&d.join("pub/s/data")),
            ":",
            "link",
            s(&d.join("secret/data")),
            s(&d.join("pub/data")),
            ":",
            "read",
            s(&d.join("pub/data")),
        ],
    );
    assert_no_secret(&out, &err);
    assert!(
        out.contains(&format!("rename {}: EACCES", s(&d.join("secret")))),
        "{out}{err}"
    );
    assert!(
        out.contains(&format!("link {}: EACCES", s(&d.join("secret/data")))),
        "{out}"
    );
}

// ---- capabilities ------------------------------------------------------

#[test]
fn a_root_target_without_capabilities_gets_none_through_vigil() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // Without CAP_DAC_OVERRIDE, the target must reach its files itself.
    let d = WorldDir::new("mon-caps");
    let f = d.join("theirs");
    std::fs::write(&f, "SECRET\n").unwrap();
    let own = |p: &Path, mode: &str| {
        Command::new("chown")
            .args(["4242:4242", s(p)])
            .status()
            .unwrap();
        Command::new("chmod").args([mode, s(p)]).status().unwrap();
    };
    own(&f, "600");
    let dir = d.join("their-dir");
    std::fs::create_dir_all(&dir).unwrap();
    own(&dir, "755");
    let p = natural("caps", &["allow /".to_string()]);
    let (out, err) = ops(
        &p,
        &[
            "nocaps",
            ":",
            "read",
            s(&f),
            ":",
            "write",
            s(&dir.join("x")),
            "x",
            ":",
            "chmod2",
            s(&f),
            "644",
        ],
    );
    assert!(out.contains("nocaps all: ok"), "{out}{err}");
    assert_no_secret(&out, &err);
    assert!(
        out.contains(&format!("read {}: EACCES", s(&f))),
        "{out}{err}"
    );
    assert!(
        out.contains(&format!("write {}: EACCES", s(&dir.join("x")))),
        "{out}"
    );
    assert!(out.contains(&format!("chmod2 {}: EPERM", s(&f))), "{out}");
    // With its capabilities, root still may.
    let (out, _) = ops(&p, &["read", s(&f)]);
    assert!(out.contains("ok SECRET"), "{out}");
}

// ---- the calls vigil now emulates ----------------------------------------

/// DIR/in (allowed), DIR/out (not), DIR/in/ln -> DIR/out (a symlink
/// inside that points out), and files in both.
fn calls_setup(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let d = fresh(name);
    let (i, o) = (d.join("in"), d.join("out"));
    std::fs::create_dir_all(&i).unwrap();
    std::fs::create_dir_all(&o).unwrap();
    std::fs::write(i.join("f"), "inside\n").unwrap();
    std::fs::write(o.join("f"), "outside\n").unwrap();
    std::os::unix::fs::symlink(&o, i.join("ln")).unwrap();
    let p = natural(name, &[format!("allow {}", s(&i))]);
    (i, o, p)
}

#[test]
fn truncate_is_emulated_and_checked_where_it_lands() {
    let (i, o, p) = calls_setup("truncate");
    let (out, err) = ops(
        &p,
        &[
            "truncate",
            s(&i.join("f")),
            "2",
            ":",
            "truncate",
            s(&o.join("f")),
            "0",
            ":",
            "truncate",
            s(&i.join("ln/f")),
            "0",
            ":",
            "truncate",
            s(&i),
            "0",
        ],
    );
    assert!(
        out.contains(&format!("truncate {}: ok", s(&i.join("f")))),
        "{out}{err}"
    );
    assert_eq!(std::fs::read_to_string(i.join("f")).unwrap(), "in");
    assert!(
        out.contains(&format!("truncate {}: EACCES", s(&o.join("f")))),
        "{out}"
    );
    // Through a symlink inside that points outside: checked where it lands.
    assert!(
        out.contains(&format!("truncate {}: EACCES", s(&i.join("ln/f")))),
        "{out}"
    );
    assert!(
        out.contains(&format!("truncate {}: EISDIR", s(&i))),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(o.join("f")).unwrap(), "outside\n");
    assert!(
        err.contains("truncate") && err.contains("(emulated)"),
        "{err}"
    );
}

#[test]
fn mknod_is_emulated_and_never_makes_a_device() {
    let (i, o, p) = calls_setup("mknod");
    let (out, err) = ops(
        &p,
        &[
            "mknod",
            s(&i.join("fifo")),
            "fifo",
            ":",
            "mknod",
            s(&i.join("reg")),
            "reg",
            ":",
            "mknod",
            s(&i.join("ln/evil")),
            "fifo",
            ":",
            "mknod",
            s(&o.join("evil")),
            "reg",
            ":",
            "mknod",
            s(&i.join("disk")),
            "blk",
            "8",
            "0",
            ":",
            "mknod",
            s(&i.join("mem")),
            "chr",
            "1",
            "1",
        ],
    );
    assert!(
        out.contains(&format!("mknod {}: ok", s(&i.join("fifo")))),
        "{out}{err}"
    );
    assert!(
        out.contains(&format!("mknod {}: ok", s(&i.join("reg")))),
        "{out}"
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(i.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(
        out.contains(&format!("mknod {}: EACCES", s(&i.join("ln/evil")))),
        "{out}"
    );
    assert!(
        out.contains(&format!("mknod {}: EACCES", s(&o.join("evil")))),
        "{out}"
    );
    assert!(!o.join("evil").exists());
    // A device node in an allowed directory is the whole device.
    assert!(
        out.contains(&format!("mknod {}: EPERM", s(&i.join("disk")))),
        "{out}"
    );
    assert!(
        out.contains(&format!("mknod {}: EPERM", s(&i.join("mem")))),
        "{out}"
    );
    assert!(!i.join("disk").exists() && !i.join("mem").exists());
    assert!(err.contains("(a device node)"), "{err}");
}

#[test]
fn openat2_is_emulated_with_its_resolve_flags() {
    let (i, o, p) = calls_setup("openat2");
    std::fs::create_dir_all(i.join("sub")).unwrap();
    std::os::unix::fs::symlink("../f", i.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("/f", i.join("sub/abs")).unwrap();
    let (out, err) = ops(
        &p,
        &[
            "openat2",
            s(&i),
            "f",
            "-",
            ":",
            "openat2",
            s(&o),
            "f",
            "-",
            ":",
            "openat2",
            s(&i),
            "ln/f",
            "-",
            ":",
            "openat2",
            s(&i.join("sub")),
            "../f",
            "beneath",
            ":",
            "openat2",
            s(&i.join("sub")),
            "../../out/f",
            "in_root",
            ":",
            "openat2",
            s(&i.join("sub")),
            "up",
            "beneath",
            ":",
            "openat2",
            s(&i),
            "sub/up",
            "beneath",
            ":",
            "openat2",
            s(&i),
            "sub/abs",
            "in_root",
            ":",
            "openat2",
            s(&i),
            "sub/up",
            "no_symlinks",
            ":",
            "openat2",
            s(&i),
            "f",
            "cached",
            ":",
            "openat2",
            s(&i),
            "new",
            "-",
            "creat",
            ":",
            "openat2-size",
            s(&i.join("f")),
            "16",
            ":",
            "openat2-size",
            s(&i.join("f")),
            "48",
            "dirty",
            ":",
            "openat2-size",
            s(&i.join("f")),
            "48",
        ],
    );
    let has = |what: &str| assert!(out.contains(what), "want `{what}` in:\n{out}\n{err}");
    has("openat2 f: ok inside");
    // Outside (the directory itself cannot be opened), and through a
    // symlink that leads outside.
    assert!(!out.contains("outside"), "{out}");
    has("openat2 f: EBADF");
    has("openat2 ln/f: EACCES");
    // RESOLVE_BENEATH: `..` out of the dirfd is EXDEV (the kernel's answer).
    has("openat2 ../f: EXDEV");
    // RESOLVE_IN_ROOT: `..` stops at the dirfd: sub/../../out/f is sub/out/f.
    has("openat2 ../../out/f: ENOENT");
    // A relative symlink out of the dirfd under BENEATH; from higher up it
    // stays beneath.
    has("openat2 up: EXDEV");
    has("openat2 sub/up: ok inside");
    // IN_ROOT: an absolute symlink lands in the dirfd.
    has("openat2 sub/abs: ok inside");
    has("openat2 sub/up: ELOOP");
    has("openat2 f: EAGAIN");
    has("openat2 new: ok");
    assert!(i.join("new").exists());
    has(&format!("openat2-size {}: EINVAL", s(&i.join("f"))));
    has(&format!("openat2-size {}: E2BIG", s(&i.join("f"))));
    has(&format!("openat2-size {}: ok inside", s(&i.join("f"))));
    // O_PATH: the target gets a usable descriptor (seccomp cannot hand
    // over an O_PATH one), and only where the rule allows.
    let (out, err) = ops(
        &p,
        &["opath", s(&i.join("f")), ":", "opath", s(&o.join("f"))],
    );
    assert!(
        out.contains(&format!("opath {}: ok", s(&i.join("f")))),
        "{out}{err}"
    );
    assert!(
        out.contains(&format!("opath {}: EACCES", s(&o.join("f")))),
        "{out}"
    );
}

#[test]
fn fchmodat2_is_emulated() {
    let (i, o, p) = calls_setup("fchmodat2");
    let (out, err) = ops(
        &p,
        &[
            "chmod2",
            s(&i.join("f")),
            "600",
            ":",
            "chmod2",
            s(&o.join("f")),
            "600",
            ":",
            "chmod2",
            s(&i.join("ln/f")),
            "600",
        ],
    );
    use std::os::unix::fs::PermissionsExt;
    assert!(
        out.contains(&format!("chmod2 {}: ok", s(&i.join("f")))),
        "{out}{err}"
    );
    assert_eq!(
        std::fs::metadata(i.join("f")).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        out.contains(&format!("chmod2 {}: EACCES", s(&o.join("f")))),
        "{out}"
    );
    assert!(
        out.contains(&format!("chmod2 {}: EACCES", s(&i.join("ln/f")))),
        "{out}"
    );
    assert_ne!(
        std::fs::metadata(o.join("f")).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

// ---- well-behaved programs ------------------------------------------------

/// A policy for ordinary programs: the system directories, /tmp, /dev and
/// /proc, and a work directory; nothing else (/var/lib, the homes, ...).
fn everyday(name: &str, work: &Path) -> PathBuf {
    let mut lines: Vec<String> = [
        "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/dev", "/proc", "/sys", "/tmp",
        "/var/tmp",
    ]
    .iter()
    .map(|p| format!("allow {p}"))
    .collect();
    lines.push(format!("allow {}", s(work)));
    natural(name, &lines)
}

fn busybox() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = root.join(".cache/x86_64/pkg");
    let found = std::fs::read_dir(&cache).ok()?.flatten().find_map(|e| {
        let b = e.path().join("bin/busybox");
        b.exists().then_some(b)
    });
    found.or_else(|| {
        ["/bin/busybox", "/usr/bin/busybox"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    })
}

#[test]
fn busybox_works_under_a_paths_policy() {
    if std::env::consts::ARCH != "x86_64" {
        return;
    }
    let Some(bb) = busybox() else {
        eprintln!("skipped: no busybox (qemu/setup fetches one into .cache)");
        return;
    };
    let w = fresh("busybox");
    let p = everyday("busybox", &w);
    let script = format!(
        "set -e; cd {w}; mkdir -p a/b/c; echo hello > a/b/c/f; cp -r a copy; \
         ls copy/b/c; tar cf t.tar a; mkdir x; cd x; tar xf ../t.tar; cat a/b/c/f; \
         mv a/b/c a/b/d; ln -s d a/b/l; cat a/b/l/f; rm -r a; ls ..; \
         cat /var/lib/dpkg/status 2>/dev/null && echo LEAK; echo done",
        w = s(&w)
    );
    let o = run(&p, &[s(&bb), "sh", "-c", &script]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(
        out.contains("hello\nhello\n") && out.ends_with("done\n"),
        "{out}"
    );
    assert!(!out.contains("LEAK"), "{out}");
}

#[test]
fn python_and_git_work_under_a_paths_policy() {
    let w = fresh("dynamic");
    let p = everyday("dynamic", &w);
    if Path::new("/usr/bin/python3").exists() {
        let code = format!(
            "import json, os, pathlib, shutil, subprocess, tempfile\n\
             d = pathlib.Path('{w}') / 'py'\n\
             (d / 'x').mkdir(parents=True)\n\
             (d / 'x' / 'a.json').write_text(json.dumps({{'k': [1, 2]}}))\n\
             shutil.copytree(d / 'x', d / 'y')\n\
             os.rename(d / 'y' / 'a.json', d / 'y' / 'b.json')\n\
             with tempfile.NamedTemporaryFile(dir=d) as t: t.write(b'x')\n\
             print(json.loads((d / 'y' / 'b.json').read_text())['k'][1])\n\
             print(subprocess.run(['/usr/bin/env', 'true']).returncode)\n\
             try:\n    open('/var/lib/dpkg/status').read(); print('LEAK')\n\
             except PermissionError: print('denied')\n",
            w = s(&w)
        );
        let o = run(&p, &["/usr/bin/python3", "-S", "-c", &code]);
        assert_eq!(stdout(&o), "2\n0\ndenied\n", "{}", stderr(&o));
    }
    if Path::new("/usr/bin/git").exists() {
        let repo = w.join("repo");
        let script = format!(
            "set -e; export HOME={w} GIT_CONFIG_NOSYSTEM=1; mkdir {r}; cd {r}; \
             /usr/bin/git init -q; echo hi > f; /usr/bin/git add f; \
             /usr/bin/git -c user.name=t -c user.email=t@t commit -qm one; \
             /usr/bin/git log --oneline | wc -l",
            w = s(&w),
            r = s(&repo)
        );
        let o = run(&p, &["/bin/sh", "-c", &script]);
        assert_eq!(stdout(&o).trim(), "1", "{}", stderr(&o));
    }
}
