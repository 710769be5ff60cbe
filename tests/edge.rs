//! Edge cases of seccomp user notification, after the kernel selftests'
//! user_notification_* scenarios, with vigil as the monitor, and the
//! emulated path syscalls under attack.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A fresh directory for one test, and a policy emulating every path
/// syscall: everything allowed but `DIR/forbidden`.
fn setup(name: &str) -> (PathBuf, PathBuf) {
    setup_in(&tmp(), name)
}

/// `setup`, with the directory under `base`.
fn setup_in(base: &std::path::Path, name: &str) -> (PathBuf, PathBuf) {
    let d = base.join(format!("edge-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("forbidden")).unwrap();
    let p = policy(
        &format!("edge-{name}"),
        &format!(
            "default allow\ndecision-log off\n\
             open?, openat, creat?, mkdir?, mkdirat, unlink?, unlinkat, rmdir?, rename?, renameat?, \
             renameat2, link?, linkat, symlink?, symlinkat, chmod?, fchmodat, chown?, fchownat, lchown?: \
             notify paths {{\n    allow /\n    deny {}/forbidden errno EPERM\n    otherwise errno EACCES\n}}\n\
             getppid: notify return 7\n",
            d.display()
        ),
    );
    (d, p)
}

fn spawn(p: &std::path::Path, args: &[&str]) -> Child {
    Command::new(vigil())
        .args(["run", "--policy", p.to_str().unwrap(), "--"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn line(r: &mut impl BufRead) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap();
    s.trim().to_string()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn toctou_flip_never_opens_the_forbidden_file() {
    let (d, p) = setup("toctou");
    // Same length, so a flip mid-read mixes bytes but never overruns.
    let ok = d.join("permitted/secret");
    let bad = d.join("forbidden/secret");
    std::fs::create_dir_all(ok.parent().unwrap()).unwrap();
    std::fs::write(&ok, "public").unwrap();
    std::fs::write(&bad, "SECRET").unwrap();
    let n = std::env::var("VIGIL_TOCTOU_ATTEMPTS").unwrap_or("100000".into());
    let o = run(
        &p,
        &[
            prog("toctou").to_str().unwrap(),
            ok.to_str().unwrap(),
            bad.to_str().unwrap(),
            &n,
        ],
    );
    let out = stdout(&o);
    println!("{}", out.trim());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains(&format!("attempts={n} leaks=0 ")), "{out}");
    // Both sides of the race were really exercised.
    assert!(
        !out.contains(" opened=0 ") && !out.contains(" denied=0 "),
        "{out}"
    );
}

#[test]
fn runs_as_the_target_uid_with_its_umask() {
    if !is_root() {
        eprintln!("skipped: needs root to run a target as another uid");
        return;
    }
    // The target, uid 65534, must reach its directory.
    let world = WorldDir::new("edge-creds");
    let (d, p) = setup_in(&world, "creds");
    let root_only = d.join("root-only");
    std::fs::write(&root_only, "root").unwrap();
    std::fs::set_permissions(
        &root_only,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let made = d.join("made");
    let script = format!(
        "umask 027; cat {r} 2>/dev/null && echo LEAK; mkdir {m} && stat -c %u:%a {m}",
        r = root_only.display(),
        m = made.display()
    );
    let o = run(
        &p,
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "sh",
            "-c",
            &script,
        ],
    );
    assert_eq!(stdout(&o).trim(), "65534:750", "{}", stderr(&o));
}

#[test]
fn target_killed_while_vigil_holds_its_notification() {
    // A tracer stops vigil as it enters an ioctl of the answer path and
    // kills the target there. 0x40082102 = NOTIF_ID_VALID (first check:
    // the effect must not happen), 0xc0182101 = NOTIF_SEND (after the
    // effect: SEND fails with ENOENT). Either way vigil serves on.
    for (req, nth, effect) in [("0x40082102", 1, false), ("0xc0182101", 1, true)] {
        let (d, p) = setup(&format!("held-{nth}-{effect}"));
        let (a, b) = (d.join("by-the-killed"), d.join("after"));
        let mut v = spawn(
            &p,
            &[
                prog("held").to_str().unwrap(),
                a.to_str().unwrap(),
                b.to_str().unwrap(),
            ],
        );
        let mut out = BufReader::new(v.stdout.take().unwrap());
        let target = line(&mut out);
        let mut tracer = Command::new(prog("holdkill"))
            .args([&v.id().to_string(), &target, req, &nth.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut tout = BufReader::new(tracer.stdout.take().unwrap());
        assert_eq!(line(&mut tout), "ready");
        v.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
        assert_eq!(line(&mut tout), "hit");
        assert!(tracer.wait().unwrap().success());
        assert_eq!(line(&mut out), "child=killed after=0");
        let o = v.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(a.exists(), effect, "{req}");
        assert!(b.is_dir());
        assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
    }
}

#[test]
fn sa_restart_signal_does_not_repeat_an_emulated_mkdir() {
    let (d, p) = setup("restart");
    let o = run(
        &p,
        &[
            prog("restart").to_str().unwrap(),
            d.to_str().unwrap(),
            "2000",
        ],
    );
    let out = stdout(&o);
    println!("{}", out.trim());
    assert!(
        out.contains("mkdirs=2000 failures=0 "),
        "{out}{}",
        stderr(&o)
    );
    assert!(!out.contains("signals=0"), "{out}");
}

#[test]
fn flooding_target_does_not_starve_another() {
    let (d, p) = setup("fair");
    let o = run(
        &p,
        &[
            prog("fair").to_str().unwrap(),
            d.to_str().unwrap(),
            "3",
            "2000",
        ],
    );
    let out = stdout(&o);
    println!("{}", out.trim());
    assert!(o.status.success(), "{}", stderr(&o));
    let max: u64 = out
        .split("max=")
        .nth(1)
        .and_then(|s| s.trim().parse().ok())
        .unwrap();
    // Starvation would be unbounded; FIFO service keeps the worst case to
    // a few rounds of the flooders (tens of ms on a loaded 2-CPU VM).
    assert!(max < 1_000_000_000, "{out}");
}

fn fds(pid: u32) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            format!("{} -> {:?}", p.display(), std::fs::read_link(&p).ok())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn addfd_at_rlimit_nofile_gives_emfile_and_leaks_nothing() {
    let (d, p) = setup("nofile");
    let f = d.join("file");
    std::fs::write(&f, "x").unwrap();
    let mut v = spawn(&p, &[prog("nofile").to_str().unwrap(), f.to_str().unwrap()]);
    let mut out = BufReader::new(v.stdout.take().unwrap());
    assert_eq!(line(&mut out), "ready");
    let before = fds(v.id());
    v.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    // 16 minus stdio and whatever else the target inherited.
    let l = line(&mut out);
    assert!(
        l.starts_with("opened=1") && l.ends_with(" errno=EMFILE"),
        "{l}"
    );
    // vigil closes its own copies just after answering: give it a moment.
    // A leak is an fd vigil has now and did not have before (one vigil
    // had open for a moment then, and closed since, is not).
    let leaked = |after: &[String]| -> Vec<String> {
        after
            .iter()
            .filter(|f| !before.contains(f))
            .cloned()
            .collect()
    };
    let mut after = fds(v.id());
    for _ in 0..300 {
        if leaked(&after).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        after = fds(v.id());
    }
    v.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    assert!(v.wait().unwrap().success());
    assert!(
        leaked(&after).is_empty(),
        "leaked: {:?}\nbefore: {before:?}\nafter: {after:?}",
        leaked(&after)
    );
}

#[test]
fn last_task_dies_with_a_notification_pending() {
    let (_d, p) = setup("pending");
    let mut v = spawn(&p, &[prog("pending").to_str().unwrap()]);
    let mut out = BufReader::new(v.stdout.take().unwrap());
    let target: i32 = line(&mut out).parse().unwrap();
    let sig = |pid: i32, s: &str| {
        assert!(Command::new("kill")
            .args([s, &pid.to_string()])
            .status()
            .unwrap()
            .success())
    };
    // The worker serves this listener (the policy has path rules).
    let w = worker_of(v.id()).expect("vigil's worker") as i32;
    sig(v.id() as i32, "-STOP");
    sig(w, "-STOP");
    v.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    // Let the target reach its notified getppid (pending: vigil sleeps).
    std::thread::sleep(std::time::Duration::from_millis(100));
    sig(target, "-KILL");
    sig(w, "-CONT");
    sig(v.id() as i32, "-CONT");
    let o = v.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(128 + 9), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

#[test]
fn every_thread_is_filtered_and_served() {
    let (d, p) = setup("threads");
    let ok = d.join("ok");
    let bad = d.join("forbidden/bad");
    std::fs::write(&ok, "ok").unwrap();
    std::fs::write(&bad, "no").unwrap();
    let o = run(
        &p,
        &[
            prog("threads").to_str().unwrap(),
            ok.to_str().unwrap(),
            bad.to_str().unwrap(),
            "8",
            "200",
        ],
    );
    assert_eq!(
        stdout(&o).trim(),
        "threads=8 calls=3200 bad=0",
        "{}",
        stderr(&o)
    );
}
