//! `vigil run` on the host: real programs under real filters, vigil as
//! their notification monitor and subreaper.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn emulated_return_value() {
    let p = policy("emulate", "default allow\ngetppid: notify return 4242\n");
    let o = run(&p, &[prog("getppid").to_str().unwrap()]);
    assert_eq!(stdout(&o).trim(), "4242", "{}", stderr(&o));
    assert!(o.status.success());
    // The decision is logged with pid, syscall and outcome.
    assert!(
        stderr(&o).contains("getppid: return 4242"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn decision_log_can_be_switched_off() {
    let p = policy(
        "quiet",
        "default allow\ndecision-log off\ngetppid: notify return 7\n",
    );
    let o = run(&p, &[prog("getppid").to_str().unwrap(), "100"]);
    assert_eq!(stdout(&o).trim(), "7");
    assert!(!stderr(&o).contains("getppid"), "{}", stderr(&o));
}

#[test]
fn errno_denial_in_the_filter() {
    let p = policy("deny", "default allow\nmkdir, mkdirat: errno EACCES\n");
    let dir = tmp().join("denied-dir");
    let _ = std::fs::remove_dir(&dir);
    let o = run(&p, &["mkdir", dir.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
    assert!(!dir.exists());
}

#[test]
fn errno_denial_by_vigil() {
    let p = policy(
        "deny-notify",
        "default allow\ngetppid: notify errno EOPNOTSUPP\n",
    );
    let o = run(&p, &[prog("getppid").to_str().unwrap()]);
    // syscall(2) returns -1 with errno set.
    assert_eq!(stdout(&o).trim(), "-1");
    assert!(
        stderr(&o).contains("getppid: deny EOPNOTSUPP"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn kill_action_kills_the_process() {
    let p = policy("kill", "default allow\ngetppid: kill\n");
    let o = run(&p, &[prog("getppid").to_str().unwrap()]);
    // SECCOMP_RET_KILL_PROCESS ends it with SIGSYS: 128 + 31.
    assert_eq!(o.status.code(), Some(159), "{}", stderr(&o));
}

#[test]
fn mkdir_allowed_under_tmp_only() {
    // The seccomp_unotify(2) man page's example, as a policy.
    let p = policy(
        "mkdir-paths",
        "default allow\nmkdir, mkdirat: notify paths {\n    allow /tmp/\n    otherwise errno EOPNOTSUPP\n}\n",
    );
    let ok = format!("/tmp/vigil-test-{}", std::process::id());
    let _ = std::fs::remove_dir(&ok);
    let o = run(&p, &["mkdir", &ok]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::path::Path::new(&ok).is_dir());
    std::fs::remove_dir(&ok).unwrap();
    assert!(
        stderr(&o).contains(&format!("\"{ok}\": allow")),
        "{}",
        stderr(&o)
    );

    // Outside /tmp whatever the checkout's own place (it may be under /tmp).
    let bad = std::path::PathBuf::from(format!(
        "/var/tmp/vigil-not-under-tmp-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir(&bad);
    let o = run(&p, &["mkdir", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("Operation not supported"),
        "{}",
        stderr(&o)
    );
    assert!(!bad.exists());

    // `..` cannot climb out of the allowed prefix.
    let sneaky = format!("/tmp/../var/tmp/vigil-sneaky-{}", std::process::id());
    let o = run(&p, &["mkdir", &sneaky]);
    assert!(!o.status.success(), "{}", stderr(&o));

    // A relative path is resolved against the target's cwd.
    let o = Command::new(vigil())
        .args([
            "run",
            "--policy",
            p.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "cd /tmp && mkdir vigil-rel-$$ && rmdir vigil-rel-$$",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn exit_status_is_propagated() {
    let p = policy("allow", "default allow\n");
    for code in [0, 1, 77, 255] {
        let o = run(&p, &["sh", "-c", &format!("exit {code}")]);
        assert_eq!(o.status.code(), Some(code));
    }
    let o = run(&p, &["sh", "-c", "kill -9 $$"]);
    assert_eq!(o.status.code(), Some(128 + 9));
    let o = run(&p, &["sh", "-c", "kill -TERM $$"]);
    assert_eq!(o.status.code(), Some(128 + 15));
}

#[test]
fn missing_program_is_127() {
    let p = policy("allow2", "default allow\n");
    let o = run(&p, &["/nonexistent/program"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(
        stderr(&o).contains("cannot execute /nonexistent/program: ENOENT"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn signals_are_forwarded() {
    let p = policy("signals", "default allow\n");
    for (sig, name) in [
        (libc_sig::SIGUSR1, "USR1"),
        (libc_sig::SIGTERM, "TERM"),
        (libc_sig::SIGHUP, "HUP"),
    ] {
        let mut child = Command::new(vigil())
            .args(["run", "--policy", p.to_str().unwrap(), "--", "sh", "-c"])
            .arg(format!(
                "trap 'echo got {name}; exit 42' {name}; echo ready; while :; do sleep 0.05; done"
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");
        unsafe_kill(child.id(), sig);
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), format!("got {name}"));
        let st = child.wait().unwrap();
        assert_eq!(st.code(), Some(42));
    }
}

#[test]
fn orphans_are_reaped() {
    let p = policy("orphans", "default allow\n");
    let o = run(&p, &[prog("orphans").to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("orphans=5 zombies=0"), "{}", stdout(&o));
}

#[test]
fn handover_survives_notified_and_denied_hand_over_syscalls() {
    // Every syscall a hand-over could need, notified: still starts, and
    // vigil answers them all.
    let p = policy(
        "notify-handover",
        "default allow\nwrite, close, fcntl, sendmsg, execve, dup3: notify continue\n",
    );
    let o = run(&p, &["sh", "-c", "echo hello; /bin/true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hello\n");
    assert!(stderr(&o).contains("write: allow"), "{}", stderr(&o));

    // The same, denied: vigil's own execve still passes (it is the
    // hand-over) and the program runs to its own exit status.
    let p = policy(
        "deny-handover",
        "default allow\nwrite, close, fcntl, sendmsg, execve, dup3: errno EPERM\n",
    );
    let o = run(&p, &[prog("exitcode").to_str().unwrap(), "3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));

    // A later execve is refused by the policy.
    let p = policy(
        "deny-exec",
        "default allow\nfcntl, sendmsg, execve: errno EPERM\n",
    );
    let o = run(&p, &["sh", "-c", "/bin/true; echo $?"]);
    assert_eq!(stdout(&o).trim(), "126", "{}", stderr(&o));
    assert!(stderr(&o).contains("execve: deny EPERM"), "{}", stderr(&o));

    // A kill rule on execve kills only a later exec.
    let p = policy("kill-exec", "default allow\nexecve: kill\n");
    let o = run(&p, &["sh", "-c", "exec /bin/true; echo unreachable"]);
    assert_eq!(o.status.code(), Some(128 + 9), "{}", stderr(&o));
}

#[test]
fn the_listener_is_not_left_in_the_service() {
    let p = policy("fds", "default allow\n");
    let o = run(
        &p,
        &["sh", "-c", "ls -l /proc/self/fd/ | grep -c seccomp || true"],
    );
    assert_eq!(stdout(&o).trim(), "0", "{}", stderr(&o));
}

#[test]
fn default_policy_is_embedded() {
    let o = Command::new(vigil())
        .args(["run", "--", "sh", "-c", "exit 5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
}

#[test]
fn default_policy_refuses_machine_wide_syscalls() {
    let m = prog("machine");
    // The control: without vigil, root gets past the capability checks
    // (to ENOENT, or ENOSYS on a kernel without modules).
    let o = Command::new(&m).output().unwrap();
    let control = stdout(&o);
    assert!(
        control.starts_with("delete_module=") && !control.contains("EPERM"),
        "the control run needs root: {control}"
    );
    let o = Command::new(vigil())
        .arg("run")
        .arg("--")
        .arg(&m)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "delete_module=EPERM swapoff=EPERM");
}

mod libc_sig {
    pub const SIGHUP: i32 = 1;
    pub const SIGUSR1: i32 = 10;
    pub const SIGTERM: i32 = 15;
}

fn unsafe_kill(pid: u32, sig: i32) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success());
    std::thread::sleep(Duration::from_millis(10));
}

/// The kernel's features, found without a process of vigil's own (a flag
/// check, then the first listener), are logged once. The expected line is
/// derived from the running kernel's version: only the test guesses.
#[test]
fn kernel_features_are_probed_and_logged_once() {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut v = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let version = (v.next().unwrap_or(0), v.next().unwrap_or(0));
    let yes = |since: (u32, u32)| if version >= since { "yes" } else { "no" };
    let want = format!(
        "vigil: kernel: wait-killable-recv {}, sync-wake-up {}, addfd {}, addfd-send {}",
        yes((5, 19)),
        yes((6, 6)),
        yes((5, 9)),
        yes((5, 14))
    );
    let p = policy("features", "default allow\n");
    let o = Command::new(vigil())
        .args(["run", "--log", "debug", "--policy"])
        .arg(&p)
        .args(["--", "true"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("vigil: kernel:").count(), 1, "{err}");
    assert!(err.lines().any(|l| l == want), "want {want:?} in:\n{err}");
}

/// A wrapper says nothing of its own unless something is wrong or it is
/// asked: a program run under a policy that logs no decision leaves stderr
/// to the program alone, with and without `--log info`; `--log quiet`
/// hides even decision lines; a bad `--log` is a usage error.
#[test]
fn run_prints_nothing_of_its_own() {
    let p = policy("silent", "default allow\n");
    for extra in [&[][..], &["--log", "info"][..]] {
        let o = Command::new(vigil())
            .arg("run")
            .args(extra)
            .arg("--policy")
            .arg(&p)
            .args(["--", "sh", "-c", "echo out; echo err >&2"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "out\n");
        assert_eq!(stderr(&o), "err\n", "{extra:?}");
    }
    let logged = policy("logged", "default allow\ngetppid: notify return 7\n");
    let o = run(&logged, &["sh", "-c", "echo $PPID"]);
    assert!(stderr(&o).contains("getppid: return 7"), "{}", stderr(&o));
    let o = Command::new(vigil())
        .args(["run", "--log", "quiet", "--policy"])
        .arg(&logged)
        .args(["--", "sh", "-c", "exit 3"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stderr(&o), "");
    let o = Command::new(vigil())
        .args(["run", "--log", "loud", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--log takes quiet, info or debug"),
        "{}",
        stderr(&o)
    );
}

/// The help and version spellings, an unknown command and none at all.
#[test]
fn help_version_and_unknown_commands() {
    let out = |args: &[&str]| Command::new(vigil()).args(args).output().unwrap();
    let usage =
        "usage: vigil run [--policy FILE] [--log quiet|info|debug] [--keep-fds] [--] PROG [ARGS...]
       vigil check FILE [--arch x86_64|aarch64]
       vigil compile FILE [--arch x86_64|aarch64]
";
    for help in ["--help", "-h", "help"] {
        let o = out(&[help]);
        assert_eq!(o.status.code(), Some(0), "{help}");
        assert_eq!(stdout(&o), usage, "{help}");
    }
    for version in ["--version", "version"] {
        let o = out(&[version]);
        assert_eq!(o.status.code(), Some(0), "{version}");
        assert_eq!(
            stdout(&o),
            format!("vigil {}\n", env!("CARGO_PKG_VERSION")),
            "{version}"
        );
    }
    for (args, first) in [
        (&["frob"][..], "vigil: unknown command `frob`\n"),
        (&["-help"][..], "vigil: unknown command `-help`\n"),
        (&["run check"][..], "vigil: unknown command `run check`\n"),
        (&[][..], "vigil: no command given\n"),
    ] {
        let o = out(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o), format!("{first}{usage}"), "{args:?}");
        assert_eq!(stdout(&o), "", "{args:?}");
    }
}
