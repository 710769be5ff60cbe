use super::*;
use crate::out::Buf;
use crate::tables;
use std::vec::Vec;
use ConfigErrorKind as K;

const DEMO: &str = include_str!("../../../qemu/demo.conf");

fn ok(text: &str) -> Config<'_> {
    match parse(text) {
        Ok(c) => c,
        Err(e) => panic!("unexpected errors:\n{}", render(&e)),
    }
}

fn render(e: &ConfigErrors) -> String {
    let mut b = Buf::<8192>::new();
    e.render("vigil.conf", &mut b);
    b.as_str().to_string()
}

fn errors(text: &str) -> ConfigErrors<'_> {
    match parse(text) {
        Ok(_) => panic!("no error in:\n{text}"),
        Err(e) => e,
    }
}

/// The only error of `text`, as (line, col, kind, token).
fn one(text: &str) -> (u32, u32, ConfigErrorKind, &str) {
    let e = errors(text);
    assert_eq!(e.list.len(), 1, "{}", render(&e));
    let x = e.list[0];
    (x.line, x.col, x.kind, x.token)
}

/// The only error of `text`, rendered.
fn message(text: &str) -> String {
    let e = errors(text);
    assert_eq!(e.list.len(), 1, "{}", render(&e));
    render(&e)
}

/// `text` inside a service that is otherwise fine (the service starts at line 1).
fn svc(body: &str) -> String {
    format!("service web {{\n    exec /bin/web\n{body}}}\n")
}

#[test]
fn demo_config_parses() {
    let c = ok(DEMO);
    assert_eq!(c.hostname, Some("vigil-demo"));
    assert_eq!(c.grace_ms, 2000);
    assert_eq!(c.log, LogLevel::Info);
    assert_eq!(c.policies.len(), 1);
    let demo = &c.policies[0];
    assert_eq!(demo.name, "demo");
    let first = DEMO
        .lines()
        .position(|l| l.starts_with("policy demo {"))
        .unwrap() as u32
        + 2;
    assert_eq!(demo.body.first_line, first);
    assert!(demo.body.text.contains("getppid: notify return 4242"));
    assert!(demo.body.text.contains("otherwise errno EACCES\n    }\n"));
    assert!(!demo.body.text.contains("policy demo"));

    let names: Vec<&str> = c.services.iter().map(|s| s.name).collect();
    assert_eq!(names, ["setup", "greeter", "crasher", "timer"]);

    let setup = c.service("setup").unwrap();
    assert_eq!(setup.kind, Kind::Oneshot);
    assert!(setup.required);
    assert_eq!(setup.restart, Restart::Never);
    assert_eq!(setup.exec.path, "/bin/busybox");
    assert_eq!(&setup.exec.args[..], ["mkdir", "-p", "/run/demo"]);
    assert_eq!(setup.policy, PolicyRef::Default);

    let greeter = c.service("greeter").unwrap();
    assert_eq!(greeter.kind, Kind::Daemon);
    assert!(!greeter.required);
    assert_eq!(greeter.restart, Restart::OnFailure);
    assert_eq!(greeter.policy, PolicyRef::Named(0));
    assert_eq!(greeter.exec.args.len(), 3);
    assert_eq!(greeter.exec.args[1], "-c");
    assert!(greeter.exec.args[2].starts_with("echo \"my parent is $PPID\"; mkdir /tmp/ok"));
    assert!(greeter.exec.args[2].ends_with("sleep 100"));
    assert_eq!(&greeter.env[..], ["GREETING=hello"]);
    assert_eq!(greeter.cwd, Some("/run/demo"));
    assert_eq!(
        &greeter.rlimits[..],
        [Rlimit {
            resource: Resource::Nofile,
            soft: 256,
            hard: 1024
        }]
    );

    let crasher = c.service("crasher").unwrap();
    assert_eq!(crasher.restart, Restart::OnFailure);
    assert_eq!(
        (crasher.backoff_min_ms, crasher.backoff_max_ms),
        (200, 2000)
    );
    assert_eq!(
        (crasher.restart_limit, crasher.restart_window_ms),
        (3, 10_000)
    );

    let timer = c.service("timer").unwrap();
    assert_eq!(timer.restart, Restart::Never);
    assert_eq!(timer.policy, PolicyRef::None);
    assert_eq!(timer.stop_signal, SIGTERM);
    assert!(timer.exec.args[2].contains("kill -USR2 1"));

    let mut e = ConfigErrors::new();
    check_policies(&c, tables::native(), &mut e);
    assert!(e.is_empty(), "{}", render(&e));
}

#[test]
fn defaults() {
    let c = ok("service a {\n exec /a\n}\nservice b {\n exec /b\n kind oneshot\n}\n");
    assert_eq!(c.grace_ms, DEFAULT_GRACE_MS);
    assert_eq!(c.hostname, None);
    let a = &c.services[0];
    assert_eq!(
        (a.kind, a.required, a.restart),
        (Kind::Daemon, false, Restart::OnFailure)
    );
    assert_eq!(
        (a.stdin, a.stdout, a.stderr),
        (Stdio::Null, Stdio::Console, Stdio::Console)
    );
    assert_eq!((a.backoff_min_ms, a.backoff_max_ms), (100, 10_000));
    assert_eq!((a.restart_limit, a.restart_window_ms), (5, 60_000));
    assert_eq!(a.stop_signal, 15);
    assert_eq!(a.policy, PolicyRef::Default);
    assert!(a.exec.args.is_empty());
    let b = &c.services[1];
    assert_eq!(
        (b.kind, b.required, b.restart),
        (Kind::Oneshot, true, Restart::Never)
    );
    let c = ok("service b {\n exec /b\n required no\n kind oneshot\n}\n");
    assert!(!c.services[0].required);
    assert!(ok("").services.is_empty());
    assert!(ok("# only a comment\n\n   \n").services.is_empty());
}

#[test]
fn every_directive() {
    let text = "\
hostname box
log debug
grace 500ms
emergency-shell /bin/sh -i
module /lib/modules/virtio.ko debug=1 x=2
module /lib/modules/net.ko
test /bin/check --all
test-policy strict
policy strict {
    default kill
}
service s {
    exec /bin/s a 'b c' \"d 'e'\" ''
    kind daemon
    env A=1
    env 'B=two words'
    cwd /srv
    user 1000
    group 100
    groups 1 2 3
    stdin /dev/zero
    stdout null
    stderr /var/log/s.log
    rlimit core unlimited
    rlimit nofile 64
    policy {
        default allow
    }
    restart always
    backoff 1s 1m
    restart-limit 10 5m
    stop-signal INT
}
";
    let c = ok(text);
    assert_eq!(c.log, LogLevel::Debug);
    assert_eq!(c.grace_ms, 500);
    let sh = c.emergency_shell.as_ref().unwrap();
    assert_eq!(
        (sh.path, &sh.args[..], sh.line),
        ("/bin/sh", &["-i"][..], 4)
    );
    assert_eq!(c.modules.len(), 2);
    assert_eq!(&c.modules[0].args[..], ["debug=1", "x=2"]);
    assert_eq!(c.test.as_ref().unwrap().path, "/bin/check");
    assert_eq!(c.test_policy, PolicyRef::Named(0));
    assert_eq!(
        c.policies[0].body,
        PolicyText {
            text: "    default kill\n",
            first_line: 10
        }
    );
    let s = &c.services[0];
    assert_eq!(s.line, 12);
    assert_eq!(&s.exec.args[..], ["a", "b c", "d 'e'", ""]);
    assert_eq!(&s.env[..], ["A=1", "B=two words"]);
    assert_eq!(s.cwd, Some("/srv"));
    assert_eq!(
        (s.user, s.group, &s.groups[..]),
        (Some(1000), Some(100), &[1, 2, 3][..])
    );
    assert_eq!(s.stdin, Stdio::Path("/dev/zero"));
    assert_eq!(s.stdout, Stdio::Null);
    assert_eq!(s.stderr, Stdio::Path("/var/log/s.log"));
    assert_eq!(
        &s.rlimits[..],
        [
            Rlimit {
                resource: Resource::Core,
                soft: RLIM_INFINITY,
                hard: RLIM_INFINITY
            },
            Rlimit {
                resource: Resource::Nofile,
                soft: 64,
                hard: 64
            },
        ]
    );
    assert_eq!(
        s.policy,
        PolicyRef::Inline(PolicyText {
            text: "        default allow\n",
            first_line: 27
        })
    );
    assert_eq!(s.restart, Restart::Always);
    assert_eq!((s.backoff_min_ms, s.backoff_max_ms), (1000, 60_000));
    assert_eq!((s.restart_limit, s.restart_window_ms), (10, 300_000));
    assert_eq!(s.stop_signal, 2);
    assert_eq!(c.policy_text(&s.policy).unwrap().first_line, 27);
    assert_eq!(c.policy_text(&PolicyRef::Named(0)).unwrap().first_line, 10);
    assert_eq!(c.policy_text(&PolicyRef::Default), None);
    assert_eq!(c.policy_text(&PolicyRef::Named(7)), None);
}

#[test]
fn inline_test_policy_and_crlf() {
    let c = ok("test /t\r\ntest-policy {\r\n  default allow\r\n}\r\n");
    assert_eq!(
        c.test_policy,
        PolicyRef::Inline(PolicyText {
            text: "  default allow\r\n",
            first_line: 3
        })
    );
    let c = ok("test-policy none\ntest /t\n");
    assert_eq!(c.test_policy, PolicyRef::None);
}

#[test]
fn nested_blocks_in_policy_bodies() {
    let text = "policy p {\n  a: notify paths {\n    allow /x\n  }\n  b: notify paths{ # c\n  } # end\n}\nservice s {\n exec /s\n policy p\n}\n";
    let c = ok(text);
    let body = c.policies[0].body;
    assert_eq!(body.first_line, 2);
    assert!(body.text.ends_with("  } # end\n"));
    assert_eq!(c.services[0].policy, PolicyRef::Named(0));
    // An empty body.
    let c = ok("policy q {\n}\n");
    assert_eq!(
        c.policies[0].body,
        PolicyText {
            text: "",
            first_line: 2
        }
    );
}

#[test]
fn quoting() {
    let c = ok("service s {\n exec /bin/sh -c \"echo '#not a comment'\" # a comment\n}\n");
    assert_eq!(
        &c.services[0].exec.args[..],
        ["-c", "echo '#not a comment'"]
    );
    let c = ok("service s {\n exec /bin/x a#b '}' \"{\"\n}\n");
    assert_eq!(&c.services[0].exec.args[..], ["a#b", "}", "{"]);
    assert_eq!(
        one("service s {\n exec /bin/sh -c 'echo\n}\n"),
        (2, 18, K::UnterminatedQuote, "")
    );
    assert_eq!(
        one("service s {\n exec /bin/sh 'a'b c\n}\n"),
        (2, 18, K::QuoteNotSeparated, "b")
    );
    // A quoted `}` does not close a block.
    let e = errors("service s {\n exec /s\n '}'\n");
    assert_eq!((e.list[0].line, e.list[0].kind), (1, K::UnclosedBlock));
    assert_eq!(
        (e.list[1].line, e.list[1].kind, e.list[1].token),
        (3, K::UnknownDirective, "}")
    );
}

#[test]
fn lexical_errors() {
    let long = format!("hostname {}\n", "x".repeat(300));
    assert_eq!(one(&long), (1, 257, K::LineTooLong, ""));
    let at_limit = format!("# {}\n", "x".repeat(254));
    assert_eq!(at_limit.len(), 257);
    ok(&at_limit);
    assert_eq!(one("hostname 'a\n"), (1, 10, K::UnterminatedQuote, ""));
}

#[test]
fn top_level_errors() {
    assert_eq!(
        one("frobnicate 3\n"),
        (1, 1, K::UnknownDirective, "frobnicate")
    );
    assert_eq!(
        one("\"hostname\" x\n"),
        (1, 1, K::UnknownDirective, "hostname")
    );
    assert_eq!(one("hostname\n"), (1, 9, K::Expected("a hostname"), ""));
    assert_eq!(one("hostname a b\n"), (1, 12, K::TrailingInput, "b"));
    assert_eq!(one("hostname ''\n"), (1, 10, K::Expected("a hostname"), ""));
    let h = format!("hostname {}\n", "h".repeat(65));
    assert_eq!(one(&h).2, K::HostnameTooLong);
    assert_eq!(
        one("log loud\n"),
        (1, 5, K::Expected("`quiet`, `info` or `debug`"), "loud")
    );
    assert_eq!(one("grace 5\n"), (1, 7, K::BadDuration, "5"));
    assert_eq!(one("grace 5h\n"), (1, 7, K::BadDuration, "5h"));
    assert_eq!(one("grace ms\n"), (1, 7, K::BadDuration, "ms"));
    assert_eq!(
        one("grace 99999999m\n"),
        (1, 7, K::BadDuration, "99999999m")
    );
    assert_eq!(
        one("hostname a\nhostname b\n"),
        (2, 1, K::Duplicate("directive"), "hostname")
    );
    assert_eq!(
        one("emergency-shell sh\n"),
        (1, 17, K::RelativePath("emergency-shell"), "sh")
    );
    assert_eq!(one("module\n"), (1, 7, K::Expected("a program path"), ""));
    assert_eq!(
        one("test-policy\n"),
        (
            1,
            12,
            K::Expected("a policy name, `default`, `none` or `{`"),
            ""
        )
    );
    assert_eq!(
        one("test /t\ntest-policy nope\n"),
        (2, 13, K::UnknownPolicy, "nope")
    );
    // Quoted, `{` is a bad name, while `default` and `none` keep their
    // meaning.
    assert_eq!(one("test-policy '{'\n"), (1, 13, K::BadName, "{"));
    let c = parse("test-policy 'default'\n").unwrap();
    assert_eq!(c.test_policy, PolicyRef::Default);
    assert_eq!(one("policy 'none' {\n}\n"), (1, 8, K::ReservedName, "none"));
    assert_eq!(one("}\n"), (1, 1, K::StrayClose, "}"));
    assert_eq!(
        one("service a {\n exec /a\n}\n}\n"),
        (4, 1, K::StrayClose, "}")
    );
}

#[test]
fn block_errors() {
    assert_eq!(
        one("service {\n"),
        (1, 9, K::Expected("a service name"), "{")
    );
    assert_eq!(one("service a\n"), (1, 10, K::Expected("`{`"), ""));
    assert_eq!(one("service a b {\n}\n"), (1, 11, K::Expected("`{`"), "b"));
    assert_eq!(one("service a { x\n"), (1, 13, K::TrailingInput, "x"));
    assert_eq!(
        one("service a/b {\n exec /a\n}\n"),
        (1, 9, K::BadName, "a/b")
    );
    assert_eq!(
        one("policy default {\n}\n"),
        (1, 8, K::ReservedName, "default")
    );
    assert_eq!(one("policy none {\n}\n"), (1, 8, K::ReservedName, "none"));
    assert_eq!(
        one("policy p {\n}\npolicy p {\n  default allow\n}\n"),
        (3, 8, K::Duplicate("policy"), "p")
    );
    let e = errors("service a {\n exec /a\n}\nservice a {\n exec /b\n}\n");
    assert_eq!(e.list.len(), 1);
    assert_eq!(
        (
            e.list[0].line,
            e.list[0].col,
            e.list[0].kind,
            e.list[0].other_line
        ),
        (4, 9, K::Duplicate("service"), 1)
    );
    assert_eq!(one("service a {\n exec /a\n"), (1, 1, K::UnclosedBlock, ""));
    assert_eq!(
        one("policy p {\n default allow\n"),
        (1, 10, K::UnclosedBlock, "")
    );
    assert_eq!(
        one("policy p {\n a: notify paths {\n }\n"),
        (1, 10, K::UnclosedBlock, "")
    );
    assert_eq!(
        one("service a {\n exec /a\n policy {\n"),
        (3, 9, K::UnclosedBlock, "")
    );
    // A block that failed to open is skipped whole.
    assert_eq!(
        one("servce a {\n exec /a\n x {\n }\n}\nhostname h\n"),
        (1, 1, K::UnknownDirective, "servce")
    );
    let c =
        parse("policy p {\n}\npolicy default {\n  garbage {\n  }\n}\nhostname h\n").unwrap_err();
    assert_eq!(c.list.len(), 1);
}

#[test]
fn nested_service() {
    let text = "service a {\n exec /a\nservice b {\n exec /b\n}\n";
    let e = errors(text);
    assert_eq!(e.list.len(), 1, "{}", render(&e));
    assert_eq!(
        (e.list[0].line, e.list[0].col, e.list[0].kind),
        (3, 1, K::NestedService)
    );
    assert_eq!(
        render(&e),
        "vigil.conf:3:1: error: service `a`: `service` inside a service block (is a `}` missing?)\n"
    );
}

#[test]
fn service_errors() {
    assert_eq!(one("service a {\n}\n"), (1, 1, K::MissingExec, ""));
    assert_eq!(
        one(&svc(" bogus 1\n")),
        (3, 2, K::UnknownDirective, "bogus")
    );
    assert_eq!(
        one("service a {\n exec bin/a\n}\n"),
        (2, 7, K::RelativePath("exec"), "bin/a")
    );
    assert_eq!(
        one("service a {\n exec\n}\n"),
        (2, 6, K::Expected("a program path"), "")
    );
    assert_eq!(
        one(&svc(" exec /b\n")),
        (3, 2, K::Duplicate("directive"), "exec")
    );
    assert_eq!(
        one(&svc(" kind forever\n")),
        (
            3,
            7,
            K::Expected("`daemon`, `oneshot` or `test`"),
            "forever"
        )
    );
    assert_eq!(
        one(&svc(" required yes\n")),
        (3, 2, K::RequiredOnDaemon, "required")
    );
    assert_eq!(
        one(&svc(" required maybe\n kind oneshot\n")),
        (3, 11, K::Expected("`yes` or `no`"), "maybe")
    );
    assert_eq!(one(&svc(" env FOO\n")), (3, 6, K::BadEnv, "FOO"));
    assert_eq!(one(&svc(" env =x\n")), (3, 6, K::BadEnv, "=x"));
    assert_eq!(
        one(&svc(" env A=1\n env A=2\n")),
        (4, 6, K::Duplicate("env key"), "A")
    );
    assert_eq!(
        one(&svc(" cwd srv\n")),
        (3, 6, K::RelativePath("cwd"), "srv")
    );
    assert_eq!(one(&svc(" user root\n")), (3, 7, K::BadNumber, "root"));
    assert_eq!(one(&svc(" group -1\n")), (3, 8, K::BadNumber, "-1"));
    assert_eq!(
        one(&svc(" user 4294967296\n")),
        (3, 7, K::BadNumber, "4294967296")
    );
    assert_eq!(one(&svc(" groups 1 x\n")), (3, 11, K::BadNumber, "x"));
    // A `user` without a `group` would keep gid 0: an error at the `user`.
    let why = "`user` needs a `group` line (without one the service would keep gid 0)";
    assert_eq!(
        one(&svc(" groups 5\n  user 1000\n")),
        (4, 3, K::Range(why), "")
    );
    assert!(
        message(&svc("  user 0\n")).contains(":3:3: error: service `web`: `user` needs a `group`")
    );
    ok(&svc(" group 100\n"));
    ok(&svc(" user 1000\n group 1000\n"));
    assert_eq!(one(&svc(" groups\n")), (3, 8, K::Expected("a gid"), ""));
    assert_eq!(
        one(&svc(" stdout log.txt\n")),
        (3, 9, K::RelativePath("stdout"), "log.txt")
    );
    assert_eq!(
        one(&svc(" stdin 'console'\n")),
        (3, 8, K::RelativePath("stdin"), "console")
    );
    assert_eq!(
        one(&svc(" rlimit files 1\n")),
        (3, 9, K::UnknownRlimit, "files")
    );
    assert_eq!(
        one(&svc(" rlimit nofile many\n")),
        (3, 16, K::BadNumber, "many")
    );
    assert_eq!(
        one(&svc(" rlimit nofile 1 2 3\n")),
        (3, 20, K::TrailingInput, "3")
    );
    assert_eq!(
        one(&svc(" rlimit nofile\n")).2,
        K::Expected("a soft limit (a number or `unlimited`)")
    );
    assert_eq!(
        one(&svc(" rlimit nofile 10 5\n")).2,
        K::Range("rlimit: the soft limit is above the hard limit")
    );
    assert_eq!(one(&svc(" rlimit nofile unlimited 5\n")).1, 16);
    assert_eq!(
        one(&svc(" rlimit nofile 1\n rlimit nofile 2\n")),
        (4, 9, K::Duplicate("rlimit"), "nofile")
    );
    assert_eq!(
        one(&svc(" policy nope\n")),
        (3, 9, K::UnknownPolicy, "nope")
    );
    assert_eq!(one(&svc(" policy a:b\n")), (3, 9, K::BadName, "a:b"));
    assert_eq!(
        one(&svc(" policy p {\n }\n")),
        (3, 11, K::TrailingInput, "{")
    );
    assert_eq!(
        one(&svc(" restart sometimes\n")).2,
        K::Expected("`never`, `on-failure` or `always`")
    );
    assert_eq!(
        one(&svc(" backoff 1s\n")),
        (3, 12, K::Expected("the longest delay (a duration)"), "")
    );
    assert_eq!(one(&svc(" backoff 1x 2s\n")), (3, 10, K::BadDuration, "1x"));
    assert_eq!(
        one(&svc(" backoff 2s 1s\n")),
        (
            3,
            10,
            K::Range("backoff: the first delay is longer than the longest"),
            "2s"
        )
    );
    assert_eq!(
        one(&svc(" restart-limit x 1s\n")),
        (3, 16, K::BadNumber, "x")
    );
    assert_eq!(
        one(&svc(" restart-limit 3 3\n")),
        (3, 18, K::BadDuration, "3")
    );
    assert_eq!(
        one(&svc(" stop-signal SIGFOO\n")),
        (3, 14, K::UnknownSignal, "SIGFOO")
    );
    assert_eq!(
        one(&svc(" stop-signal 65\n")),
        (3, 14, K::UnknownSignal, "65")
    );
    assert_eq!(
        one(&svc(" stop-signal 0\n")),
        (3, 14, K::UnknownSignal, "0")
    );
    assert_eq!(
        one("service a {\n exec /a\n} x\n"),
        (3, 3, K::TrailingInput, "x")
    );
}

#[test]
fn signals_and_values() {
    for (name, n) in [
        ("SIGTERM", 15),
        ("TERM", 15),
        ("KILL", 9),
        ("SIGUSR2", 12),
        ("HUP", 1),
        ("IOT", 6),
        ("SIGIOT", 6),
        ("ABRT", 6),
        ("PWR", 30),
        ("BUS", 7),
        ("SIGCHLD", 17),
        ("SYS", 31),
        ("64", 64),
        ("1", 1),
    ] {
        assert_eq!(lex::signal(name), Some(n), "{name}");
    }
    assert_eq!(lex::signal("SIG"), None);
    assert_eq!(lex::signal("sigterm"), None);
    assert_eq!(lex::signal(""), None);
    assert_eq!(lex::signal("TERM INT"), None);
    assert_eq!(lex::duration_ms("0ms"), Some(0));
    assert_eq!(lex::duration_ms("100ms"), Some(100));
    assert_eq!(lex::duration_ms("5s"), Some(5_000));
    assert_eq!(lex::duration_ms("2m"), Some(120_000));
    assert_eq!(lex::duration_ms("2"), None);
    assert_eq!(lex::duration_ms("2h"), None);
    assert_eq!(lex::duration_ms("2 s"), None);
    assert_eq!(lex::duration_ms("ms"), None);
    assert_eq!(lex::duration_ms("71582m"), Some(4_294_920_000));
    assert_eq!(lex::duration_ms("71583m"), None);
    assert_eq!(lex::duration_ms("+1s"), None);
    assert_eq!(lex::duration_ms(""), None);
    assert_eq!(lex::number("18446744073709551615"), Some(u64::MAX));
    assert_eq!(lex::number("18446744073709551616"), None);
    for (name, r) in Resource::ALL {
        assert_eq!(Resource::by_name(name), Some(r));
        assert_eq!(r.name(), name);
    }
    assert_eq!(Resource::Nofile.number(), 7);
}

#[test]
fn policies_resolve_after_the_fact() {
    let c = ok("service a {\n exec /a\n policy late\n}\ntest /t\ntest-policy late\npolicy early {\n}\npolicy late {\n}\n");
    assert_eq!(c.services[0].policy, PolicyRef::Named(1));
    assert_eq!(c.test_policy, PolicyRef::Named(1));
}

#[test]
fn messages_name_the_service() {
    assert_eq!(
        message("service web {\n exec web\n}\n"),
        "vigil.conf:2:7: error: service `web`: exec path `web` must be absolute\n"
    );
    assert_eq!(
        message("service web {\n}\n"),
        "vigil.conf:1:1: error: service `web`: no `exec` line\n"
    );
    assert_eq!(
        message("hostname a\nhostname b\n"),
        "vigil.conf:2:1: error: duplicate directive `hostname` (the first is at line 1)\n"
    );
    assert_eq!(
        message(&svc(" rlimit nproc 1\n rlimit nproc 2\n")),
        "vigil.conf:4:9: error: service `web`: duplicate rlimit `nproc` (the first is at line 3)\n"
    );
    assert_eq!(
        message(&svc(" policy nope\n")),
        "vigil.conf:3:9: error: service `web`: unknown policy `nope` (define it with `policy nope {`, or use `default` or `none`)\n"
    );
    assert_eq!(
        message(&svc(" rlimit x 1\n")),
        "vigil.conf:3:9: error: service `web`: unknown rlimit `x` (cpu, fsize, data, stack, core, nproc, nofile, memlock, as)\n"
    );
    assert_eq!(
        message("log\n"),
        "vigil.conf:1:4: error: expected `quiet`, `info` or `debug`, found end of line\n"
    );
}

#[test]
fn errors_come_sorted_and_capped() {
    let e = errors("service a {\n exec x\n}\nbogus\nhostname\n");
    let lines: Vec<u32> = e.list.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4, 5]);
    let many = "bogus\n".repeat(100);
    let e = errors(&many);
    assert_eq!(e.list.len(), MAX_ERRORS);
    assert_eq!(e.dropped, 100 - MAX_ERRORS as u32);
    assert_eq!(e.count(), 100);
    assert!(render(&e).ends_with("vigil.conf: 68 more errors not shown\n"));
}

#[test]
fn capacities_are_errors() {
    let mut t = String::new();
    for i in 0..=MAX_SERVICES {
        t += &format!("service s{i} {{\n exec /s\n}}\n");
    }
    let last = (MAX_SERVICES * 3 + 1) as u32;
    assert_eq!(one(&t), (last, 1, K::TooMany("services"), "service"));

    let mut t = String::new();
    for i in 0..=MAX_POLICIES {
        t += &format!("policy p{i} {{\n}}\n");
    }
    assert_eq!(
        one(&t),
        (
            (MAX_POLICIES * 2 + 1) as u32,
            1,
            K::TooMany("policies"),
            "policy"
        )
    );

    let mut t = String::new();
    for _ in 0..=MAX_MODULES {
        t += "module /m\n";
    }
    assert_eq!(
        one(&t),
        ((MAX_MODULES + 1) as u32, 1, K::TooMany("modules"), "module")
    );

    let args = "a ".repeat(MAX_ARGS);
    ok(&svc("").replace("/bin/web", &format!("/bin/web {args}")));
    let text = format!("service s {{\n exec /x {args}z\n}}\n");
    assert_eq!(
        one(&text),
        (2, 10 + 2 * MAX_ARGS as u32, K::TooMany("arguments"), "z")
    );

    let mut env = String::new();
    for i in 0..=MAX_ENV {
        env += &format!(" env K{i}=v\n");
    }
    assert_eq!(
        one(&svc(&env)),
        ((MAX_ENV + 3) as u32, 6, K::TooMany("env entries"), "K16=v")
    );

    let groups = "1 ".repeat(MAX_GROUPS + 1);
    assert_eq!(
        one(&svc(&format!(" groups {groups}\n"))).2,
        K::TooMany("groups")
    );

    let mut rl = String::new();
    for (name, _) in Resource::ALL {
        rl += &format!(" rlimit {name} 1\n");
    }
    assert_eq!(one(&svc(&rl)), (11, 9, K::TooMany("rlimits"), "as"));
}

fn rebased(body: PolicyText<'static>) -> Vec<(u32, u32, u32)> {
    let mut pe = crate::policy::Errors::default();
    pe.push(crate::policy::Error {
        line: 2,
        col: 5,
        kind: crate::policy::ErrorKind::UnknownSyscall,
        token: "nosuch",
        other_line: 0,
    });
    pe.push(crate::policy::Error {
        line: 3,
        col: 1,
        kind: crate::policy::ErrorKind::Conflict,
        token: "read",
        other_line: 1,
    });
    pe.dropped = 2;
    let mut out = ConfigErrors::new();
    add_policy_errors(&pe, body, Context::Policy("p"), &mut out);
    assert_eq!(out.dropped, 2);
    assert_eq!(
        out.list[0].kind,
        K::Policy(crate::policy::ErrorKind::UnknownSyscall)
    );
    assert_eq!(out.list[0].token, "nosuch");
    out.list
        .iter()
        .map(|e| (e.line, e.col, e.other_line))
        .collect()
}

#[test]
fn policy_errors_are_rebased() {
    let body = PolicyText {
        text: "",
        first_line: 10,
    };
    assert_eq!(rebased(body), [(11, 5, 0), (12, 1, 10)]);
    let mut out = ConfigErrors::new();
    out.push(ConfigError {
        line: 11,
        col: 5,
        kind: K::Policy(crate::policy::ErrorKind::UnknownSyscall),
        token: "nosuch",
        other_line: 0,
        context: Context::ServicePolicy("web"),
    });
    assert_eq!(
        render(&out),
        "vigil.conf:11:5: error: service `web`: policy: unknown syscall `nosuch`\n"
    );
}

/// Whatever the policy parser says of a body, `check_policies` says at the
/// body's config lines.
#[test]
fn check_policies_matches_the_policy_parser() {
    let text = "hostname h\n\npolicy p {\n  default allow\n  nosuchcall: allow\n  read: errno ENOPE\n}\nservice s {\n  exec /s\n  policy {\n    frob\n  }\n}\ntest /t\ntest-policy {\n  x: y\n}\n";
    let c = ok(text);
    let arch = tables::native();
    let mut got = ConfigErrors::new();
    check_policies(&c, arch, &mut got);
    let mut want: Vec<(u32, u32, Context)> = Vec::new();
    for (body, ctx) in [
        (c.policies[0].body, Context::Policy("p")),
        (
            c.policy_text(&c.services[0].policy).unwrap(),
            Context::ServicePolicy("s"),
        ),
        (c.policy_text(&c.test_policy).unwrap(), Context::TestPolicy),
    ] {
        if let Err(e) = crate::policy::parse(body.text, arch) {
            for x in &e.list {
                want.push((x.line + body.first_line - 1, x.col, ctx));
            }
        }
    }
    let got: Vec<(u32, u32, Context)> = got
        .list
        .iter()
        .map(|e| (e.line, e.col, e.context))
        .collect();
    assert_eq!(got, want);
    for &(line, _, _) in &got {
        assert!([5, 6, 11, 16].contains(&line), "line {line}");
    }
}

/// xorshift64*: deterministic garbage without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "service",
    "policy",
    "{",
    "}",
    "exec",
    "/bin/x",
    "x",
    "kind",
    "oneshot",
    "daemon",
    "required",
    "yes",
    "no",
    "env",
    "A=1",
    "=",
    "cwd",
    "/",
    "user",
    "group",
    "groups",
    "0",
    "4294967295",
    "99999999999999999999999",
    "stdin",
    "stdout",
    "stderr",
    "console",
    "null",
    "rlimit",
    "nofile",
    "unlimited",
    "restart",
    "always",
    "never",
    "on-failure",
    "backoff",
    "1ms",
    "10s",
    "3m",
    "restart-limit",
    "stop-signal",
    "SIGKILL",
    "64",
    "hostname",
    "log",
    "debug",
    "grace",
    "emergency-shell",
    "module",
    "test",
    "test-policy",
    "default",
    "none",
    "#",
    "'",
    "\"",
    "'a b'",
    "\"{\"",
    "paths",
    "notify",
    "allow",
    "é",
    "\t",
    "\r",
    "a'b",
    "'x'y",
    "read:",
    "{}",
    "p",
];

fn garbage_line(rng: &mut Rng, out: &mut String) {
    match rng.below(20) {
        0 => {
            // Raw bytes, valid UTF-8.
            for _ in 0..rng.below(40) {
                let c = char::from_u32(rng.below(0x300) as u32).unwrap_or('?');
                if c != '\n' {
                    out.push(c);
                }
            }
        }
        1 => out.push_str(&"y".repeat(250 + rng.below(20))),
        _ => {
            for i in 0..rng.below(8) {
                if i > 0 || rng.below(3) == 0 {
                    out.push(' ');
                }
                out.push_str(WORDS[rng.below(WORDS.len())]);
            }
        }
    }
    out.push('\n');
}

fn exercise(text: &str) {
    let arch = tables::native();
    let mut b = Buf::<4096>::new();
    match parse(text) {
        Ok(c) => {
            let mut e = ConfigErrors::new();
            check_policies(&c, arch, &mut e);
            e.render("f", &mut b);
            for s in &c.services {
                let _ = c.policy_text(&s.policy);
            }
        }
        Err(e) => {
            e.render("f", &mut b);
            for x in &e.list {
                assert!(x.line >= 1 && x.col >= 1, "{x:?}");
            }
        }
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    // One big text of 20k lines.
    let mut big = String::new();
    for _ in 0..20_000 {
        garbage_line(&mut rng, &mut big);
    }
    exercise(&big);
    // Many small ones, which get deeper into each directive.
    for _ in 0..3_000 {
        let mut t = String::new();
        for _ in 0..rng.below(12) {
            garbage_line(&mut rng, &mut t);
        }
        exercise(&t);
        // Every prefix of a valid config, cut anywhere.
    }
    for cut in 0..=DEMO.len() {
        if let Some(t) = DEMO.get(..cut) {
            exercise(t);
        }
    }
}

#[test]
fn sandbox_directives() {
    let text = svc("    user 1000\n\
         group 1000\n\
         no-new-privs yes\n\
         capabilities CAP_NET_BIND_SERVICE net_raw\n\
         namespaces net uts ipc cgroup\n\
         read-only /etc /usr\n\
         read-only /srv\n\
         private-tmp yes\n\
         root /srv/jail\n\
         read-only-root yes\n\
         landlock-read /bin /lib\n\
         landlock-write /tmp\n\
         landlock required\n\
         pids-max 16\n\
         memory-max 64M\n\
         cpu-max 50000\n\
         env-pass TERM LANG\n");
    let c = ok(&text);
    let s = &c.services[0];
    let b = &s.confine;
    assert!(b.has(Confine::NO_NEW_PRIVS));
    assert_eq!(b.caps, Some(1 << 10 | 1 << 13));
    // mount is implied by read-only, private-tmp and read-only-root.
    assert_eq!(
        b.namespaces,
        0x4000_0000 | 0x0400_0000 | 0x0800_0000 | 0x0200_0000 | 0x2_0000
    );
    assert_eq!(b.read_only(), ["/etc", "/usr", "/srv"]);
    assert_eq!(b.flags, 15, "every flag set");
    assert_eq!(b.root, Some("/srv/jail"));
    assert_eq!(b.landlock_read(), ["/bin", "/lib"]);
    assert_eq!(b.landlock_write(), ["/tmp"]);
    assert_eq!(b.limits, [16, 64 << 20, 50_000]);
    assert_eq!(b.cpu_period, 100_000);
    assert!(b.has_limits());
    assert_eq!(b.env_pass(), ["TERM", "LANG"]);

    let t2 = svc("    capabilities none\n    namespaces pid\n    cpu-max max 20000\n    memory-max max\n    no-new-privs no\n");
    let c = ok(&t2);
    let b = &c.services[0].confine;
    assert_eq!(b.caps, Some(0));
    assert_eq!(b.namespaces, 0x2000_0000 | 0x2_0000, "pid implies mount");
    assert_eq!(b.limits, [0, u64::MAX, u64::MAX]);
    assert_eq!(b.cpu_period, 20_000);
    assert_eq!(
        b.flags,
        Confine::MASKED,
        "no-new-privs no; root without capabilities"
    );

    // Defaults: nothing but no_new_privs.
    let t3 = svc("");
    let c = ok(&t3);
    let b = &c.services[0].confine;
    assert!(b.flags == Confine::NO_NEW_PRIVS && b.caps.is_none() && b.namespaces == 0);
    assert!(
        !b.has_limits()
            && b.root.is_none()
            && [
                b.read_only(),
                b.landlock_read(),
                b.landlock_write(),
                b.env_pass()
            ]
            .iter()
            .all(|l| l.is_empty())
    );
}

#[test]
fn sandbox_errors() {
    let t = svc("    capabilities CAP_NET_BIND_SERVICE CAP_FLY\n");
    let (line, col, kind, tok) = one(&t);
    assert_eq!((line, col, tok), (3, 39, "CAP_FLY"));
    assert!(matches!(kind, K::Expected(_)));
    assert_eq!(one(&svc("    namespaces net users\n")).1, 20);
    assert_eq!(
        one(&svc("    read-only etc\n")).2,
        K::Expected("an absolute path")
    );
    assert_eq!(one(&svc("    root jail\n")).2, K::RelativePath("root"));
    assert_eq!(
        one(&svc("    private-tmp maybe\n")).2,
        K::Expected("`yes` or `no`")
    );
    assert_eq!(
        one(&svc("    landlock maybe\n")).2,
        K::Expected("`required` or `optional`")
    );
    assert_eq!(one(&svc("    pids-max lots\n")).2, K::BadNumber);
    assert_eq!(one(&svc("    memory-max 12X\n")).2, K::BadNumber);
    assert_eq!(one(&svc("    cpu-max 1000 0\n")).1, 18);
    assert_eq!(one(&svc("    pids-max 5 6\n")).2, K::TrailingInput);
    assert_eq!(one(&svc("    env-pass A=B\n")).3, "A=B");
    assert_eq!(one(&svc("    capabilities none CAP_KILL\n")).3, "none");
    let (line, _, kind, _) = one(&svc("    pids-max 5\n    pids-max 6\n"));
    assert_eq!((line, kind), (4, K::Duplicate("directive")));
    assert_eq!(
        message(&svc("    no-new-privs no\n    landlock-read /bin\n")),
        "vigil.conf:3:5: error: service `web`: Landlock needs `no-new-privs yes`\n"
    );
    assert_eq!(
        message(&svc("    read-only-root yes\n")),
        "vigil.conf:3:5: error: service `web`: `read-only-root` needs `root`\n"
    );
    let nine = "    read-only /a /b /c /d /e /f /g /h /i\n";
    assert_eq!(one(&svc(nine)).2, K::TooMany("paths"));
    // The lists are repeatable up to their capacity.
    let t = svc("    landlock-read /a /b /c /d\n    landlock-read /e /f /g /h\n");
    let c = ok(&t);
    assert_eq!(c.services[0].confine.landlock_read().len(), MAX_PATHS);
    assert_eq!(
        one(&svc(
            "    landlock-read /a /b /c /d /e /f /g /h\n    landlock-read /i\n"
        ))
        .2,
        K::TooMany("entries of this list")
    );
}

/// Every kind's message and every context's prefix, word for word.
#[test]
fn every_message_and_context() {
    let kinds: [(ConfigErrorKind, &str); 25] = [
        (K::LineTooLong, "line too long (the limit is 256 bytes)"),
        (K::UnterminatedQuote, "unterminated quote"),
        (
            K::QuoteNotSeparated,
            "expected a space after the closing quote, found `tok`",
        ),
        (K::UnknownDirective, "unknown directive `tok`"),
        (K::Expected("a thing"), "expected a thing, found `tok`"),
        (
            K::TrailingInput,
            "unexpected `tok` after the end of the directive",
        ),
        (K::BadNumber, "bad number `tok`"),
        (
            K::BadDuration,
            "bad duration `tok` (a number and a unit: 100ms, 5s, 2m)",
        ),
        (
            K::BadName,
            "bad name `tok` (up to 64 letters, digits, `.`, `_` or `-`)",
        ),
        (K::HostnameTooLong, "hostname `tok` is longer than 64 bytes"),
        (K::RelativePath("cwd"), "cwd path `tok` must be absolute"),
        (K::MissingExec, "no `exec` line"),
        (
            K::Duplicate("service"),
            "duplicate service `tok` (the first is at line 7)",
        ),
        (
            K::ReservedName,
            "`tok` is reserved and cannot name a policy",
        ),
        (
            K::UnknownPolicy,
            "unknown policy `tok` (define it with `policy tok {`, or use `default` or `none`)",
        ),
        (
            K::UnknownRlimit,
            "unknown rlimit `tok` (cpu, fsize, data, stack, core, nproc, nofile, memlock, as)",
        ),
        (
            K::UnknownSignal,
            "unknown signal `tok` (a name like SIGTERM or TERM, or 1..64)",
        ),
        (
            K::RequiredOnDaemon,
            "`required` applies to oneshot services only",
        ),
        (K::BadEnv, "`tok` is not KEY=VALUE"),
        (K::Range("a before b"), "a before b"),
        (K::UnclosedBlock, "end of file inside the block opened here"),
        (K::StrayClose, "`}` without an open block"),
        (
            K::NestedService,
            "`service` inside a service block (is a `}` missing?)",
        ),
        (
            K::TooMany("things"),
            "too many things for vigil's fixed tables",
        ),
        (
            K::Policy(crate::policy::ErrorKind::BadNumber),
            "bad number `tok`",
        ),
    ];
    let contexts = [
        (Context::None, ""),
        (Context::Service("web"), "service `web`: "),
        (Context::Policy("p"), "policy `p`: "),
        (Context::ServicePolicy("web"), "service `web`: policy: "),
        (Context::TestPolicy, "test-policy: "),
    ];
    for (kind, msg) in kinds {
        for (context, prefix) in contexts {
            let e = ConfigError {
                line: 3,
                col: 5,
                kind,
                token: "tok",
                other_line: 7,
                context,
            };
            let mut b = Buf::<512>::new();
            e.render("f.conf", &mut b);
            assert_eq!(b.as_str(), format!("f.conf:3:5: error: {prefix}{msg}"));
        }
    }
}

/// Env keys are whole: one a prefix of another is no duplicate.
#[test]
fn env_keys_are_whole() {
    let text = svc(" env AB=1\n env A=2\n env ABC==3\n env A2=\n");
    let c = ok(&text);
    assert_eq!(&c.services[0].env[..], ["AB=1", "A=2", "ABC==3", "A2="]);
    assert_eq!(
        one(&svc(" env A==1\n env A=2\n")),
        (4, 6, K::Duplicate("env key"), "A")
    );
    assert_eq!(
        one(&svc(" env AB=1\n env 'AB=2'\n")),
        (4, 7, K::Duplicate("env key"), "AB")
    );
}

#[test]
fn root_without_cap_sys_admin_is_masked() {
    let masked = |body: &str| {
        let text = svc(body);
        let c = ok(&text);
        let b = &c.services[0].confine;
        let m = b.has(Confine::MASKED);
        assert_eq!(m, b.namespaces & 0x2_0000 != 0, "masks imply mount: {body}");
        m
    };
    assert!(masked("    capabilities none\n"));
    assert!(masked(
        "    user 0\n    group 0\n    capabilities CAP_DAC_OVERRIDE\n"
    ));
    assert!(!masked("    capabilities CAP_SYS_ADMIN\n"));
    assert!(!masked(""), "root with every capability can undo mounts");
    assert!(!masked(
        "    user 1000\n    group 1000\n    capabilities none\n"
    ));
    assert!(!masked(
        "    user 1000\n    group 1000\n    namespaces user\n    capabilities none\n"
    ));
}

#[test]
fn user_namespace_needs_ids_outside() {
    let text = svc("    user 1000\n    group 1000\n    namespaces user net\n");
    let c = ok(&text);
    assert_eq!(c.services[0].confine.namespaces, 0x1000_0000 | 0x4000_0000);
    let why = "`namespaces user` needs `user` and `group` other than 0: the ids the service has outside (inside, they are 0)";
    assert_eq!(
        one(&svc("    namespaces user\n")),
        (3, 5, K::Range(why), "")
    );
    assert_eq!(
        one(&svc(
            "    user 1000\n    group 0\n    namespaces pid user\n"
        )),
        (5, 5, K::Range(why), "")
    );
    let why = "`groups` cannot be used with `namespaces user`: only the service's own gid is mapped into it";
    assert_eq!(
        one(&svc(
            "    user 1000\n    group 1000\n    groups 5\n    namespaces user\n"
        )),
        (5, 5, K::Range(why), "")
    );
}

#[test]
fn mounts_in_order() {
    let c = ok("mount share0 /mnt virtiofs ro,nodev\nmount none /host/proc proc\n");
    assert_eq!(c.mounts.len(), 2);
    let m = c.mounts[0];
    assert_eq!(
        (m.source, m.target, m.fstype, m.options, m.line),
        ("share0", "/mnt", "virtiofs", "ro,nodev", 1)
    );
    assert_eq!(
        (c.mounts[1].target, c.mounts[1].options),
        ("/host/proc", "")
    );
    assert_eq!(
        one("mount share0 mnt 9p\n"),
        (1, 14, K::RelativePath("mount point"), "mnt")
    );
    assert_eq!(
        one("mount share0 /mnt\n"),
        (
            1,
            18,
            K::Expected("a mount point and a filesystem type"),
            ""
        )
    );
    assert_eq!(one("mount a /b c d e\n").2, K::TrailingInput);
    let many: String = (0..=MAX_MOUNTS)
        .map(|i| format!("mount t{i} /m{i} 9p\n"))
        .collect();
    assert_eq!(one(&many).2, K::TooMany("mounts"));
}

#[test]
fn kind_test_is_the_test_program() {
    let c = ok("service t {\n    exec /bin/t -v\n    kind test\n    root /host\n}\n");
    let s = &c.services[0];
    assert!(s.test);
    assert_eq!(s.kind, Kind::Oneshot);
    assert!(!s.required);
    assert_eq!(s.restart, Restart::Never);
    assert_eq!(c.test_service(), Some(0));
    assert_eq!(ok(DEMO_FREE).test_service(), None);
    let why = "one test program at most: one `kind test` service, or a `test` line";
    assert_eq!(
        one("service a {\n exec /a\n kind test\n}\nservice b {\n exec /b\n kind test\n}\n"),
        (7, 2, K::Range(why), "")
    );
    assert_eq!(
        one("test /bin/x\nservice a {\n exec /a\n kind test\n}\n"),
        (1, 1, K::Range(why), "")
    );
    assert_eq!(
        one("service a {\n exec /a\n kind test\n}\ntest /bin/x\n"),
        (5, 1, K::Range(why), "")
    );
    assert!(message(&svc("    kind tset\n")).contains("expected `daemon`, `oneshot` or `test`"));
}

const DEMO_FREE: &str = "service a {\n exec /a\n}\n";
