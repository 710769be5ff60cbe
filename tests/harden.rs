//! Issue 12 on the host: attacks on the sandbox and on `vigil run`, run for
//! real under the policy a user naturally writes (`tests/progs/attack.c`),
//! and well-behaved programs under the same kind of policy.

mod common;

use common::*;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The natural policy: everything allowed, the file calls decided by path
/// (allow DIR, otherwise EACCES), not one line about the escapes.
fn natural(name: &str, allowed: &[&Path]) -> PathBuf {
    let mut body = String::new();
    for a in allowed {
        body += &format!("    allow {}\n", a.display());
    }
    policy(
        name,
        &format!(
            "default allow\n\
             open?, openat, creat?, mkdir?, mkdirat, unlink?, unlinkat, rmdir?, rename?, \
             renameat, renameat2, link?, linkat, symlink?, symlinkat: notify paths {{\n\
             {body}    otherwise errno EACCES\n}}\n"
        ),
    )
}

/// A directory the policy allows and a secret outside it, on the same
/// filesystem.
fn places(name: &str) -> (PathBuf, PathBuf) {
    let base = tmp().join(format!("harden-{name}"));
    let _ = std::fs::remove_dir_all(&base);
    let dir = base.join("allowed");
    let secret = base.join("secret");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(secret.join("s"), "top secret\n").unwrap();
    (dir, secret)
}

/// `vigil run` in a process group of its own (signals the tests send to
/// vigil's group stay there), stdin closed, with a deadline.
fn vigil_run(args: &[&str], extra: impl FnOnce(&mut Command)) -> Output {
    vigil_run_of(&vigil(), args, extra)
}

/// `vigil_run` with the binary at `vigil` (a copy another uid can reach).
fn vigil_run_of(vigil: &Path, args: &[&str], extra: impl FnOnce(&mut Command)) -> Output {
    let mut c = Command::new(vigil);
    c.arg("run").args(args).stdin(Stdio::null());
    c.process_group(0);
    extra(&mut c);
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            // SAFETY-free: a plain kill of our own child's group.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = tx.send(());
    out
}

fn attack(policy: Option<&Path>, args: &[&str]) -> Output {
    let prog = prog("attack");
    let mut a: Vec<&str> = Vec::new();
    if let Some(p) = policy {
        a.extend(["--policy", p.to_str().unwrap()]);
    }
    a.push("--");
    a.push(prog.to_str().unwrap());
    a.extend(args);
    vigil_run(&a, |_| {})
}

/// The attack's own report says it was blocked, and vigil lived to pass on
/// its exit status 0.
fn assert_blocked(o: &Output, what: &str) {
    let out = stdout(o);
    assert!(
        out.contains(": blocked") && !out.contains("ESCAPED") && o.status.code() == Some(0),
        "{what}: status {:?}\n{out}\n{}",
        o.status,
        stderr(o)
    );
    assert!(!out.contains("top secret"), "{what}: {out}");
}

// --- items 1-4: escapes from a path policy ------------------------------

#[test]
fn natural_policy_blocks_openat2_io_uring_and_file_handles() {
    let (dir, secret) = places("read");
    let p = natural("harden-read", &[&dir]);
    let file = secret.join("s");
    let f = file.to_str().unwrap();
    // The allowed directory itself still works through the emulated open.
    std::fs::write(dir.join("mine"), "mine\n").unwrap();
    // So does openat2 inside it, emulated with its resolve flags.
    let o = attack(Some(&p), &["openat2", dir.join("mine").to_str().unwrap()]);
    assert!(stdout(&o).contains("read \"mine\""), "{}", stdout(&o));
    for args in [
        vec!["openat2", f],
        vec!["uring", f],
        vec!["handle", f, dir.to_str().unwrap()],
    ] {
        assert_blocked(&attack(Some(&p), &args), args[0]);
    }
}

#[test]
fn natural_policy_blocks_mknod_and_truncate() {
    let (dir, secret) = places("write");
    let p = natural("harden-write", &[&dir]);
    let created = secret.join("new");
    let o = attack(Some(&p), &["mknod", created.to_str().unwrap()]);
    assert_blocked(&o, "mknod");
    assert!(!created.exists());
    let keep = secret.join("s");
    let o = attack(Some(&p), &["truncate", keep.to_str().unwrap()]);
    assert_blocked(&o, "truncate");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "top secret\n");
    // Inside the allowed directory, the emulated mknodat makes the file.
    let node = dir.join("node");
    let _ = attack(Some(&p), &["mknod", node.to_str().unwrap()]);
    assert!(node.exists());
}

/// A policy that names `openat` alone: `creat`, of the same kind, gets its
/// paths rule (emulated: allowed inside, refused outside), not the default.
#[cfg(target_arch = "x86_64")]
#[test]
fn an_added_equivalent_is_emulated_under_the_same_rule() {
    let (dir, secret) = places("creat");
    let p = policy(
        "harden-creat",
        &format!(
            "default allow\nopenat: notify paths {{\n    allow {}\n}}\n",
            dir.display()
        ),
    );
    let outside = secret.join("new");
    let o = attack(Some(&p), &["creat", outside.to_str().unwrap()]);
    assert_blocked(&o, "creat outside");
    assert!(!outside.exists());
    let inside = dir.join("new");
    let o = attack(Some(&p), &["creat", inside.to_str().unwrap()]);
    assert!(stdout(&o).contains("ESCAPED (created"), "{}", stdout(&o));
    assert!(inside.exists());
    assert!(
        stderr(&o).contains("creat \"") && stderr(&o).contains("allow (emulated)"),
        "{}",
        stderr(&o)
    );
}

// --- item 5: the listener -----------------------------------------------

#[test]
fn the_listener_cannot_be_stolen() {
    let (dir, secret) = places("steal");
    let p = natural("harden-steal", &[&dir]);
    let o = attack(Some(&p), &["steal", secret.join("s").to_str().unwrap()]);
    assert_blocked(&o, "steal");
    assert!(stdout(&o).contains("pidfd_open(vigil): Operation not permitted"));
}

/// A pidfd of vigil without `pidfd_open`: a fanotify event (FAN_REPORT_PIDFD)
/// for a file vigil opened for the program, under a paths block that only
/// logs (`allow /`, which restricts nothing, so vigil adds no bypass
/// denials: fanotify_init runs). Every filter refuses `pidfd_getfd`: vigil's
/// descriptors, its listener among them, stay its own.
#[test]
fn vigil_fds_cannot_be_taken_with_a_pidfd_from_fanotify() {
    if unsafe { libc::getuid() } != 0 {
        return;
    }
    let (dir, _) = places("fanotify");
    let file = dir.join("watched");
    std::fs::write(&file, "x\n").unwrap();
    let p = policy(
        "harden-fanotify",
        "default allow\nopen?, openat: notify paths {\n    allow /\n}\n",
    );
    let o = attack(Some(&p), &["fanotify", file.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(
        out.contains("fanotify: got a pidfd of vigil"),
        "{out}\n{}",
        stderr(&o)
    );
    assert!(
        out.contains("blocked (pidfd_getfd(vigil): Operation not permitted)"),
        "{out}"
    );
    assert_blocked(&o, "fanotify");
}

// --- items 11-13: signals, tracing, limits -------------------------------

/// Every way to signal vigil, under a policy of one line, and under the
/// embedded default policy (no --policy).
#[test]
fn vigil_cannot_be_signalled() {
    let p = policy("harden-allow", "default allow\n");
    for pol in [Some(p.as_path()), None] {
        for args in [
            &["kill64", "9"][..],
            &["tgsigqueue", "9"],
            &["setown", "9"],
            &["pidfd-proc", "9"],
            &["group"],
            &["all"],
        ] {
            let o = attack(pol, args);
            assert_blocked(&o, args[0]);
        }
    }
    // pidfd_send_signal answers ENOSYS: programs fall back to kill(2).
    let o = attack(Some(&p), &["pidfd-proc", "0"]);
    assert!(
        stdout(&o).contains("Function not implemented"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn vigil_cannot_be_traced_limited_or_starved() {
    let p = policy("harden-allow2", "default allow\n");
    for args in [
        &["seize"][..],
        &["prlimit"],
        &["perf"],
        &["nice"],
        &["machine"],
    ] {
        let o = attack(Some(&p), args);
        assert_blocked(&o, args[0]);
    }
}

#[test]
fn the_program_has_a_session_of_its_own_and_no_inherited_fds() {
    let o = attack(None, &["session"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // An fd the caller left open (here 7, to /dev/null) does not reach the
    // program, unless asked for.
    let prog = prog("attack");
    let with_fd7 = |c: &mut Command| {
        // SAFETY: dup2 between fork and exec, nothing else.
        unsafe {
            c.pre_exec(|| {
                let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
                libc::dup2(fd, 7);
                Ok(())
            });
        }
    };
    let o = vigil_run(&["--", prog.to_str().unwrap(), "fd", "7"], with_fd7);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("fd: 7 is closed"));
    let o = vigil_run(
        &["--keep-fds", "--", prog.to_str().unwrap(), "fd", "7"],
        with_fd7,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("fd: 7 is open"));
}

/// vigil started with fds 0-2 closed (as PID 1 is when the initramfs has
/// no /dev/console) fills them with /dev/null before it opens anything:
/// the program gets them as its stdio, and none of vigil's own files can
/// take those numbers (log lines meant for stderr would go there).
#[test]
fn closed_stdio_is_filled_with_dev_null() {
    let dir = tmp();
    let out = dir.join("closed-stdio-fds");
    // The shell's own fds, listed while none of them is redirected.
    let script = format!("f=$(ls -l /proc/$$/fd); echo \"$f\" > {}", out.display());
    let closed = |c: &mut Command| {
        // SAFETY: close between fork and exec, nothing else.
        unsafe {
            c.pre_exec(|| {
                for n in 0..3 {
                    libc::close(n);
                }
                Ok(())
            });
        }
    };
    let o = vigil_run(&["--", "/bin/sh", "-c", &script], closed);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let fds = std::fs::read_to_string(&out).unwrap();
    for n in 0..3 {
        assert!(
            fds.lines()
                .any(|l| l.contains(&format!(" {n} -> /dev/null"))),
            "fd {n} is not /dev/null:\n{fds}"
        );
    }
}

/// A program that makes vigil its tracer and stops: vigil does not take
/// the stop for an exit (it used to exit at once with status 1, leaving
/// the program stopped behind it).
#[test]
fn a_tracee_stop_is_no_exit() {
    let prog = prog("attack");
    let mut child = Command::new(vigil())
        .args(["run", "--", prog.to_str().unwrap(), "traceme"])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "vigil exited");
    // The stopped program is vigil's only child.
    let kids = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
        .unwrap_or_default();
    let kid: i32 = kids.split_whitespace().next().unwrap().parse().unwrap();
    unsafe { libc::kill(kid, libc::SIGKILL) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
}

/// RLIMIT_CPU: vigil lifts its own (the kernel's SIGKILL at the hard limit
/// would end it), gives the program the one it was started with, and puts
/// its own back when someone lowers it. (Soft limits only: the hard one
/// goes back up only with CAP_SYS_RESOURCE, which a test cannot count on;
/// PID 1 has it, and the QEMU boots lower the hard limit.)
#[test]
fn vigil_lifts_and_watches_its_limits() {
    let p = policy("harden-limits", "default allow\ngetppid: notify return 1\n");
    let script = "grep 'Max cpu time' /proc/$PPID/limits; grep 'Max cpu time' /proc/self/limits; \
                  read x; cat /proc/$PPID/limits | grep 'Max cpu time'";
    let mut child = Command::new("prlimit")
        .args(["--cpu=500:unlimited", "--"])
        .arg(vigil())
        .args([
            "run",
            "--policy",
            p.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            script,
        ])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Lower vigil's limit from outside, past the filter, then wake its loop.
    std::thread::sleep(Duration::from_millis(500));
    let vigil_pid = child.id();
    let st = Command::new("prlimit")
        .args(["--pid", &vigil_pid.to_string(), "--cpu=300:"])
        .status()
        .unwrap();
    assert!(st.success());
    std::thread::sleep(Duration::from_millis(1100));
    unsafe { libc::kill(vigil_pid as i32, libc::SIGWINCH) };
    std::thread::sleep(Duration::from_millis(200));
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let o = child.wait_with_output().unwrap();
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}\n{}", stderr(&o));
    assert!(lines[0].contains("unlimited"), "vigil's own: {out}");
    assert!(lines[1].contains("500"), "the program's: {out}");
    assert!(
        lines[2].contains("unlimited"),
        "vigil's, after the reset: {out}"
    );
    assert!(
        stderr(&o).contains(
            "RLIMIT_CPU of vigil was lowered to 300/unlimited: reset to unlimited/unlimited"
        ),
        "{}",
        stderr(&o)
    );
}

/// An unprivileged vigil: the hand-over still works (the child is dumpable
/// again for pidfd_getfd), and a program of the same uid cannot open
/// vigil's memory through /proc, a path no syscall rule guards.
#[test]
fn unprivileged_vigil_is_not_dumpable() {
    if unsafe { libc::getuid() } != 0 {
        return;
    }
    // vigil itself runs as uid 1000 here: its binary, the policy and the
    // program must be within that uid's reach.
    let world = WorldDir::new("harden-user");
    let vigil = world.program(&vigil());
    let p = world.join("harden-user.policy");
    std::fs::write(&p, "default allow\ngetppid: notify return 4242\n").unwrap();
    let _ = std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let prog = world.program(&prog("getppid"));
    let o = vigil_run_of(
        &vigil,
        &[
            "--policy",
            p.to_str().unwrap(),
            "--",
            prog.to_str().unwrap(),
        ],
        |c| {
            c.uid(1000).gid(1000);
        },
    );
    assert_eq!(stdout(&o).trim(), "4242", "{}", stderr(&o));
    let o = vigil_run_of(
        &vigil,
        &[
            "--",
            "/bin/sh",
            "-c",
            "(exec 3<>/proc/$PPID/mem) 2>/dev/null && echo opened || echo refused",
        ],
        |c| {
            c.uid(1000).gid(1000);
        },
    );
    assert_eq!(stdout(&o).trim(), "refused", "{}", stderr(&o));
}

/// A root program under a policy loses CAP_SYS_PTRACE (unless a
/// `capabilities` line keeps it), so it cannot open vigil's memory
/// through /proc either: not itself, and not by an open vigil's worker
/// performs for it under a paths rule that allows all of `/` (the worker
/// takes on the program's capabilities). With it, root could write into
/// vigil, or into the worker, and rewrite the rules that hold it.
#[test]
fn root_under_a_policy_cannot_open_vigils_memory() {
    if unsafe { libc::getuid() } != 0 {
        return;
    }
    let open_mem = "grep CapBnd /proc/self/status; \
                    (exec 3<>/proc/$PPID/mem) 2>/dev/null && echo opened || echo refused";
    let plain = policy("harden-mem", "default allow\n");
    let paths = policy(
        "harden-mem-paths",
        "default allow\ndecision-log off\nopen?, openat, openat2: notify paths {\n    \
         allow /\n    otherwise errno EACCES\n}\n",
    );
    for p in [&plain, &paths] {
        let o = vigil_run(
            &[
                "--policy",
                p.to_str().unwrap(),
                "--",
                "/bin/sh",
                "-c",
                open_mem,
            ],
            |_| {},
        );
        let out = stdout(&o);
        let bnd = out
            .split_whitespace()
            .nth(1)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or_else(|| panic!("{out}{}", stderr(&o)));
        // CAP_SYS_PTRACE is capability 19.
        assert_eq!(bnd & (1 << 19), 0, "{out}");
        assert_eq!(out.lines().last(), Some("refused"), "{out}{}", stderr(&o));
    }
}

// --- nothing well-behaved breaks ------------------------------------------

fn busybox() -> PathBuf {
    if let Some(b) = std::env::var_os("VIGIL_BUSYBOX") {
        return b.into();
    }
    let arch = std::env::consts::ARCH;
    let pkg = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".cache")
        .join(arch)
        .join("pkg");
    for e in std::fs::read_dir(&pkg).into_iter().flatten().flatten() {
        let b = e.path().join("bin/busybox");
        if e.file_name()
            .to_string_lossy()
            .starts_with("busybox-static")
            && b.exists()
        {
            return b;
        }
    }
    panic!(
        "no busybox in {} (run qemu/setup, or set VIGIL_BUSYBOX)",
        pkg.display()
    );
}

/// What dynamic programs read: their libraries, /etc, /proc, /dev.
fn system_dirs() -> Vec<PathBuf> {
    ["/usr", "/lib", "/lib64", "/etc", "/proc", "/dev", "/sys"]
        .iter()
        .map(PathBuf::from)
        .collect()
}

fn well_behaved(name: &str, args: &[&str], env: &[(&str, &str)]) -> (PathBuf, Output) {
    let (dir, _) = places(name);
    let mut allowed = system_dirs();
    allowed.push(dir.clone());
    let refs: Vec<&Path> = allowed.iter().map(|p| p.as_path()).collect();
    let p = natural(&format!("harden-{name}"), &refs);
    let mut a = vec!["--policy", p.to_str().unwrap(), "--"];
    a.extend(args);
    let d = dir.clone();
    let o = vigil_run(&a, |c| {
        c.current_dir(&d).env_clear();
        for (k, v) in env {
            c.env(k, v);
        }
    });
    (dir, o)
}

#[test]
fn busybox_works_under_a_paths_policy() {
    let bb = busybox();
    let bb = bb.to_str().unwrap();
    let script = format!(
        "set -e; B={bb}; $B mkdir -p a/b; echo hello > a/b/f; $B cp a/b/f a/g; \
         $B ln -s g a/link; $B ln a/g a/hard; $B mv a/hard a/moved; $B ls a; \
         $B tar cf t.tar a; $B rm -r a; $B tar xf t.tar; $B cat a/b/f a/link; \
         $B chmod 600 a/g; $B rmdir a/b 2>/dev/null || $B rm -r a/b; echo done"
    );
    let (dir, o) = well_behaved("busybox", &[bb, "sh", "-c", &script], &[]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(out.contains("hello\nhello\ndone"), "{out}");
    assert!(dir.join("a/g").exists() && dir.join("t.tar").exists());
}

#[test]
fn python3_works_under_a_paths_policy() {
    let py = "/usr/bin/python3";
    if !Path::new(py).exists() {
        panic!("{py} is missing (qemu/setup installs python3-minimal)");
    }
    let code = "import os, shutil, subprocess, tempfile\n\
                os.makedirs('x/y', exist_ok=True)\n\
                open('x/y/f', 'w').write('data')\n\
                shutil.copytree('x', 'z')\n\
                os.rename('z/y/f', 'z/y/g')\n\
                os.symlink('g', 'z/y/l')\n\
                os.chmod('z/y/g', 0o640)\n\
                shutil.rmtree('x')\n\
                with tempfile.NamedTemporaryFile(dir='.') as t: t.write(b'1')\n\
                r = subprocess.run(['/bin/sh', '-c', 'echo child'], capture_output=True)\n\
                print(open('z/y/l').read(), r.stdout.decode().strip(), sorted(os.listdir('z/y')))\n";
    let (_, o) = well_behaved("python", &[py, "-I", "-c", code], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).trim(), "data child ['g', 'l']", "{}", stderr(&o));
}

#[test]
fn git_works_under_a_paths_policy() {
    let git = "/usr/bin/git";
    if !Path::new(git).exists() {
        panic!("{git} is missing (qemu/setup installs git)");
    }
    let (dir, _) = places("git-home");
    let home = dir.to_str().unwrap().to_string();
    let script = "set -e; git init -q r; cd r; echo a > a; git add a; \
                  git -c user.name=t -c user.email=t@t commit -qm one; \
                  git mv a b; git -c user.name=t -c user.email=t@t commit -qm two; \
                  git log --oneline | wc -l";
    let (_, o) = well_behaved(
        "git",
        &["/bin/sh", "-c", script],
        &[("HOME", &home), ("PATH", "/usr/bin:/bin")],
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).trim(), "2");
}

// --- vigil check and compile ----------------------------------------------

#[test]
fn check_notes_what_vigil_adds_and_warns() {
    let p = policy(
        "harden-check",
        "default allow\nopenat: notify paths {\n    allow /srv\n}\n\
         mknodat: allow\nstat?, newfstatat: notify paths {\n    allow /srv\n}\n",
    );
    let o = Command::new(vigil()).arg("check").arg(&p).output().unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let f = p.display().to_string();
    for want in [
        "`openat2`: the paths rule of line 2 (they can open or create files too, and vigil emulates them)".to_string(),
        format!("{f}:2:1: note: vigil adds `io_uring_setup`, `io_uring_enter`, `io_uring_register`: errno ENOSYS"),
        format!("{f}: note: vigil adds `reboot`, `kexec_load`, `kexec_file_load`: errno EPERM"),
        format!("{f}: note: every filter protects vigil: "),
        format!("{f}:5:1: warning: `mknodat` is named here, so vigil adds nothing to it"),
        format!("{f}:6:8: warning: `newfstatat` under a paths block is only a hint"),
    ] {
        assert!(err.contains(&want), "missing {want:?} in\n{err}");
    }
    assert!(err.ends_with("BPF instructions)\n"), "{err}");
    let o = Command::new(vigil())
        .arg("compile")
        .arg(&p)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(out.starts_with("# added: vigil adds"), "{out}");
    assert!(out.contains("\nx86_64 filter: ") || out.contains("\naarch64 filter: "));
}

/// A policy file that cannot be read, is too big or is not text is refused
/// with its name and the reason, never parsed as something else; PID 1
/// reads its config through the same function (`input::read_text`).
#[test]
fn check_names_a_policy_file_it_cannot_use() {
    let missing = tmp().join("no-such.policy");
    let big = policy("harden-big", &"#".repeat(64 * 1024));
    let bad = tmp().join("harden-latin1.policy");
    std::fs::write(&bad, b"default \xe9allow\n").unwrap();
    for (p, want) in [
        (&missing, "cannot read the policy: ENOENT"),
        (&big, "cannot read the policy: larger than 65536 bytes"),
        (&bad, "the policy is not UTF-8 text (byte 8)"),
    ] {
        let o = Command::new(vigil()).arg("check").arg(p).output().unwrap();
        let err = stderr(&o);
        assert!(!o.status.success(), "{err}");
        let want = format!("vigil: error: {}: {want}\n", p.display());
        assert_eq!(err, want);
    }
}

// --- item 14: vigil as PID 1 of a container -------------------------------

/// vigil as PID 1 of a pid and mount namespace on this host, the way tini
/// is used: chrooted into a directory of its own, where the host's mounts
/// are out of sight, and with a uts namespace of its own, so that even a
/// broken vigil could not change the host (that a container's vigil leaves
/// the machine's mounts and hostname alone is shown in QEMU, where it is
/// safe to get wrong: qemu/boots/harden.sh). Here: the container is
/// detected, shutdown says it leaves the mounts alone, the host's mount
/// table is the same before and after, and the namespace ends with the
/// status the README gives.
#[test]
fn container_pid1_leaves_the_host_alone() {
    if unsafe { libc::getuid() } != 0 || Command::new("unshare").arg("--help").output().is_err() {
        return;
    }
    let root = tmp().join("harden-container");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy(vigil(), root.join("init")).unwrap();
    std::fs::copy(busybox(), root.join("busybox")).unwrap();
    std::fs::write(
        root.join("etc/vigil.conf"),
        "grace 1s\nhostname vigil-in-a-container\n\
         service stop {\n    exec /busybox sh -c 'echo ready; /busybox sleep 1; /busybox kill -USR2 1'\n    policy none\n}\n\
         service tries {\n    exec /busybox sh -c '/busybox kill -TERM 1; echo kill: $?'\n}\n",
    )
    .unwrap();
    let mounts = || std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let hostname = || std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let (before, host_before) = (mounts(), hostname());
    let start = Instant::now();
    let o = Command::new("unshare")
        .args([
            "--pid",
            "--mount",
            "--uts",
            "--fork",
            "--propagation",
            "private",
            "--",
        ])
        .arg("chroot")
        .arg(&root)
        .arg("/init")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = format!("{}{}", stdout(&o), stderr(&o));
    // Other tests of this binary may mount and unmount meanwhile: what
    // counts is that none of the host's mounts went, and that nothing was
    // mounted on the places a machine's init mounts.
    let after = mounts();
    let point = |l: &str| l.split(' ').nth(4).unwrap_or("").to_string();
    for l in before.lines() {
        assert!(after.contains(l), "the host lost a mount: {l}\n{log}");
    }
    for l in after.lines().filter(|l| !before.contains(*l)) {
        let p = point(l);
        assert!(
            ![
                "/proc",
                "/sys",
                "/dev",
                "/run",
                "/dev/pts",
                "/dev/shm",
                "/sys/fs/cgroup"
            ]
            .contains(&p.as_str()),
            "a mount on the host's {p}\n{log}"
        );
    }
    assert_eq!(hostname(), host_before, "{log}");
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(log.contains("PID 1 of a container"), "{log}");
    // In the machine's cgroup namespace, a cgroup2 mount would set the
    // machine's cgroup2 options (nsdelegate) for everyone.
    assert!(
        log.contains("cgroup2: not mounted: this container shares the machine's cgroup namespace"),
        "{log}"
    );
    assert!(
        log.contains("in a container: the machine's mounts are left alone"),
        "{log}"
    );
    // The default policy keeps services from signalling PID 1.
    assert!(log.contains("kill: 1"), "{log}");
    assert!(log.contains("shutdown (SIGUSR2): power off"), "{log}");
    // reboot(2) ends the namespace: its parent sees SIGINT for power off.
    use std::os::unix::process::ExitStatusExt;
    assert!(
        o.status.signal() == Some(libc::SIGINT) || o.status.code() == Some(130),
        "{:?}\n{log}",
        o.status
    );
}
