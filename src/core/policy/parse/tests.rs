use super::paths::normalised;
use super::*;
use crate::out::Buf;
use crate::policy::ErrorKind as K;
use crate::policy::{Action, Cmp, Op, Origin, PathRule, Reply, MAX_ERRNO};
use crate::tables::{AARCH64, X86_64};

fn errors(text: &str, arch: &Arch) -> std::vec::Vec<(u32, u32, ErrorKind)> {
    match parse(text, arch) {
        Ok(_) => panic!("no error in {text:?}"),
        Err(e) => e.list.iter().map(|e| (e.line, e.col, e.kind)).collect(),
    }
}

fn one_error<'a>(text: &'a str, arch: &Arch) -> Error<'a> {
    let e = parse(text, arch).expect_err(text);
    assert_eq!(e.list.len(), 1, "{:?}", e.list);
    e.list[0]
}

fn ok<'a>(text: &'a str, arch: &Arch) -> Policy<'a> {
    match parse(text, arch) {
        Ok(p) => p,
        Err(e) => {
            let mut b = Buf::<4096>::new();
            e.render("t", &mut b);
            panic!("{}", b.as_str());
        }
    }
}

fn rendered(text: &str, arch: &Arch) -> std::string::String {
    let mut b = Buf::<4096>::new();
    parse(text, arch)
        .expect_err(text)
        .render("policy.txt", &mut b);
    b.as_str().into()
}

fn nr(name: &str) -> u32 {
    X86_64.nr(name).unwrap()
}

const NO_ARGS: [u64; 6] = [0; 6];

/// Rules the policy wrote, not those vigil added (`harden`).
fn written(p: &Policy) -> usize {
    p.rules
        .iter()
        .filter(|r| !matches!(r.origin, Origin::Added(_)))
        .count()
}

fn args(a0: u64, a1: u64) -> [u64; 6] {
    [a0, a1, 0, 0, 0, 0]
}

#[test]
fn syscall_numbers_fit_the_sets() {
    for arch in [&X86_64, &AARCH64] {
        assert!(arch.syscalls().all(|(_, nr)| (nr as usize) < NR_LIMIT));
    }
}

// --- errors, one per kind ---

#[test]
fn unknown_syscall() {
    assert_eq!(
        errors("read: allow\n  read, frobnicate: allow\n", &X86_64),
        [(2, 9, K::UnknownSyscall)]
    );
    assert_eq!(one_error("frobnicate: allow", &X86_64).token, "frobnicate");
}

#[test]
fn unknown_errno() {
    assert_eq!(
        errors("read: errno EFOO", &X86_64),
        [(1, 13, K::UnknownErrno)]
    );
    assert_eq!(errors("read: errno 0", &X86_64), [(1, 13, K::UnknownErrno)]);
    assert_eq!(
        errors("read: errno 4096", &X86_64),
        [(1, 13, K::UnknownErrno)]
    );
    assert_eq!(
        errors("read: notify errno eperm", &X86_64),
        [(1, 20, K::UnknownErrno)]
    );
    let p = ok("read: errno 4095\nwrite: errno EOPNOTSUPP\n", &X86_64);
    assert_eq!(p.action(nr("read"), &NO_ARGS), Action::Errno(4095));
    assert_eq!(p.action(nr("write"), &NO_ARGS), Action::Errno(95));
}

#[test]
fn conflict() {
    let e = one_error("read: allow\nwrite: allow\nclose, read: kill\n", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.token, e.other_line),
        (3, 8, K::Conflict, "read", 1)
    );
    // The same rule again is no conflict.
    ok(
        "read: allow if arg0 == 1\nread: allow if arg0 == 1\nread, read: allow if arg0 == 1",
        &X86_64,
    );
    // A different condition, or else-action, is.
    assert_eq!(
        errors(
            "read: allow if arg0 == 1\nread: allow if arg0 == 2",
            &X86_64
        ),
        [(2, 1, K::Conflict)]
    );
    assert_eq!(
        errors(
            "read: allow if arg0 == 1 else kill\nread: allow if arg0 == 1 else trap",
            &X86_64
        ),
        [(2, 1, K::Conflict)]
    );
    assert_eq!(
        errors("read: notify return 1\nread: notify return 2", &X86_64),
        [(2, 1, K::Conflict)]
    );
    // Two groups disagreeing.
    let e = one_error("@basic-io: allow\n@file-system: log\n", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.token, e.other_line),
        (2, 1, K::Conflict, "close", 1)
    );
}

#[test]
fn line_too_long() {
    let long = "#".repeat(MAX_LINE + 1);
    let text = std::format!("read: allow\n{long}\nbogus: allow\n");
    assert_eq!(
        errors(&text, &X86_64),
        [(2, 257, K::LineTooLong), (3, 1, K::UnknownSyscall)]
    );
    // Exactly MAX_LINE is fine, and so is a CRLF ending on it.
    let max = std::format!("read: allow{}\r\n", " ".repeat(MAX_LINE - 11));
    ok(&max, &X86_64);
}

#[test]
fn bad_number() {
    assert_eq!(
        errors("read: allow if arg0 == 12abc", &X86_64),
        [(1, 24, K::BadNumber)]
    );
    assert_eq!(
        errors("read: allow if arg0 == 18446744073709551616", &X86_64),
        [(1, 24, K::BadNumber)]
    );
    assert_eq!(
        errors("read: allow if arg0 == 0x", &X86_64),
        [(1, 24, K::BadNumber)]
    );
    assert_eq!(
        errors("read: allow if arg0 == +1", &X86_64),
        [(1, 24, K::BadNumber)]
    );
    assert_eq!(
        errors("read: allow if arg0 == -0x1", &X86_64),
        [(1, 24, K::BadNumber)]
    );
    assert_eq!(
        errors("read: allow if arg0 & 0o8 == 0", &X86_64),
        [(1, 23, K::BadNumber)]
    );
    assert_eq!(
        errors("read: notify return 9223372036854775808", &X86_64),
        [(1, 21, K::BadNumber)]
    );
    assert_eq!(
        errors("read: allow if arg0 ==", &X86_64),
        [(1, 23, K::Expected("a number"))]
    );
}

#[test]
fn no_such_argument() {
    assert_eq!(
        errors("read: allow if arg6 == 1", &X86_64),
        [(1, 16, K::NoSuchArgument)]
    );
    assert_eq!(
        errors("read: allow if arg0 == 1 && arg12 == 1", &X86_64),
        [(1, 29, K::NoSuchArgument)]
    );
    assert_eq!(
        errors("read: allow if argv == 1", &X86_64),
        [(1, 16, K::Expected("an argument (`arg0` .. `arg5`)"))]
    );
}

#[test]
fn unclosed_block() {
    let e = one_error("read: allow\nopen: notify paths {\n  allow /tmp\n", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.other_line),
        (4, 1, K::UnclosedBlock, 2)
    );
    let e = one_error("open: notify paths {\n  allow /tmp", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.other_line),
        (2, 1, K::UnclosedBlock, 1)
    );
}

#[test]
fn stray_close() {
    assert_eq!(
        errors("read: allow\n  }\n", &X86_64),
        [(2, 3, K::StrayClose)]
    );
    assert_eq!(
        errors("open: notify paths {\n}\n}", &X86_64),
        [(3, 1, K::StrayClose)]
    );
}

#[test]
fn syscall_not_on_arch() {
    let e = one_error("read: allow\nopen: allow\n", &AARCH64);
    assert_eq!(
        (e.line, e.col, e.kind, e.token),
        (2, 1, K::SyscallNotOnArch, "open")
    );
    assert_eq!(
        rendered("read: allow\nopen: allow\n", &AARCH64),
        "policy.txt:2:1: error: syscall `open` does not exist on this architecture (use openat)\n"
    );
    let p = ok("read: allow\nopen: allow\n", &X86_64);
    assert_eq!(p.action(nr("open"), &NO_ARGS), Action::Allow);
    // A group naming legacy syscalls is fine on both.
    ok("@file-system: allow", &AARCH64);
}

#[test]
fn unknown_group() {
    let e = one_error("read, @nope: allow", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.token),
        (1, 7, K::UnknownGroup, "@nope")
    );
}

#[test]
fn prefixes_must_be_normalised() {
    for bad in ["/tmp/../etc", "/tmp//x", "/./tmp", "/tmp/.", "/tmp/.."] {
        let text = format!("openat: notify paths {{\n  deny {bad}\n}}\n");
        let e = one_error(&text, &X86_64);
        assert_eq!(
            (e.line, e.col, e.kind, e.token),
            (2, 8, K::RelativePrefix, bad)
        );
    }
    assert!(parse(
        "openat: notify paths {\n  allow /tmp/\n  allow /\n  allow /a.b/..c\n}\n",
        &X86_64
    )
    .is_ok());
}

/// `normalised` against the plain definition, on every short path.
#[test]
fn normalised_agrees_with_its_definition() {
    let reference = |p: &str| {
        let body = p.strip_suffix('/').unwrap_or(p);
        body.is_empty()
            || body
                .split('/')
                .skip(1)
                .all(|c| c.len() > 2 || c.bytes().any(|b| b != b'.'))
    };
    let mut stack = vec![std::string::String::from("/")];
    while let Some(p) = stack.pop() {
        assert_eq!(normalised(&p), reference(&p), "{p:?}");
        if p.len() < 8 {
            for c in ['/', '.', 'a'] {
                stack.push(format!("{p}{c}"));
            }
        }
    }
}

#[test]
fn relative_prefix() {
    let e = one_error("openat: notify paths {\n  allow tmp\n}\n", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.token),
        (2, 9, K::RelativePrefix, "tmp")
    );
}

#[test]
fn no_path_argument() {
    let e = one_error("getppid: notify paths {\n  allow /tmp\n}\n", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.token),
        (1, 1, K::NoPathArgument, "getppid")
    );
    assert_eq!(
        errors("open, read: notify paths {\n}\n", &X86_64),
        [(1, 7, K::NoPathArgument)]
    );
}

#[test]
fn duplicate_default_and_otherwise() {
    let e = one_error("default allow\nread: allow\ndefault kill\n", &X86_64);
    assert_eq!(
        (e.line, e.col, e.kind, e.other_line),
        (3, 1, K::DuplicateDefault, 1)
    );
    let e = one_error(
        "open: notify paths {\notherwise errno EPERM\notherwise errno EPERM\n}",
        &X86_64,
    );
    assert_eq!(
        (e.line, e.col, e.kind, e.other_line),
        (3, 1, K::DuplicateOtherwise, 2)
    );
}

#[test]
fn syntax_errors() {
    assert_eq!(
        errors("read write: allow", &X86_64),
        [(1, 6, K::Expected("`,` or `:`"))]
    );
    assert_eq!(
        errors("read,: allow", &X86_64),
        [(1, 6, K::Expected("a syscall name or @group"))]
    );
    assert_eq!(
        errors("read: allow if arg0 == 1 junk", &X86_64),
        [(1, 26, K::TrailingInput)]
    );
    assert_eq!(
        errors("read: allow else kill", &X86_64),
        [(1, 13, K::TrailingInput)]
    );
    assert_eq!(
        errors("default allow if arg0 == 1", &X86_64),
        [(1, 15, K::TrailingInput)]
    );
    assert_eq!(
        errors("decision-log maybe", &X86_64),
        [(1, 14, K::Expected("`on` or `off`"))]
    );
    assert_eq!(errors("read: allow if arg0 = 1", &X86_64)[0].1, 21);
    assert!(matches!(
        errors("read: permit", &X86_64)[..],
        [(1, 7, K::Expected(_))]
    ));
    assert!(matches!(
        errors("read: notify maybe", &X86_64)[..],
        [(1, 14, K::Expected(_))]
    ));
    // A paths block only as a rule's sole action: the block is skipped.
    assert!(matches!(
        errors(
            "read: allow if arg0 == 1 else notify paths {\n allow /x\n}\n",
            &X86_64
        )[..],
        [(1, 38, K::Expected(_))]
    ));
    assert!(matches!(
        errors("default notify paths {\n}\nread: allow", &X86_64)[..],
        [(1, 16, K::Expected(_))]
    ));
    assert_eq!(
        rendered("open: notify paths if arg0 == 1 {\n allow /x\n}\n", &X86_64),
        "policy.txt:1:20: error: expected `{` (a paths block takes no condition), found `if`\n"
    );
    assert_eq!(
        errors("open: notify paths { allow /x }", &X86_64),
        [(1, 22, K::TrailingInput)]
    );
    assert!(matches!(
        errors("open: notify paths {\n read: allow\n}", &X86_64)[..],
        [(2, 2, K::Expected(_))]
    ));
}

#[test]
fn all_errors_reported() {
    let text = "\
default allow
frobnicate: allow
read: errno ENOPE
write: allow if arg7 == 1
openat: notify paths {
    allow relative
    deny /etc errno 99999
}
}
close: allow
close: kill
";
    assert_eq!(
        errors(text, &X86_64),
        [
            (2, 1, K::UnknownSyscall),
            (3, 13, K::UnknownErrno),
            (4, 17, K::NoSuchArgument),
            (6, 11, K::RelativePrefix),
            (7, 21, K::UnknownErrno),
            (9, 1, K::StrayClose),
            (11, 1, K::Conflict),
        ]
    );
}

#[test]
fn render_format() {
    assert_eq!(
        rendered("read: allow\nfrobnicate: allow\nread: errno 0\n", &X86_64),
        "policy.txt:2:1: error: unknown syscall `frobnicate`\n\
             policy.txt:3:13: error: unknown errno `0` (a name like EPERM, or 1..4095)\n"
    );
}

// --- meaning ---

#[test]
fn conditions() {
    let p = ok(
        "default errno EPERM\nread: allow if arg0 == 1 && arg1 > 5 || arg0 & 0x3 == 2 else kill\n",
        &X86_64,
    );
    let r = p.rule(nr("read")).unwrap();
    let cond = r.cond.unwrap();
    assert_eq!(cond.len, 2);
    let clauses = &p.clauses[cond.range()];
    assert_eq!(
        p.cmps[clauses[0].range()],
        [
            Cmp {
                arg: 0,
                op: Op::Eq,
                value: 1
            },
            Cmp {
                arg: 1,
                op: Op::Gt,
                value: 5
            }
        ]
    );
    assert_eq!(
        p.cmps[clauses[1].range()],
        [Cmp {
            arg: 0,
            op: Op::MaskedEq(3),
            value: 2
        }]
    );
    let read = nr("read");
    assert_eq!(p.action(read, &args(1, 6)), Action::Allow);
    assert_eq!(p.action(read, &args(1, 5)), Action::Kill);
    assert_eq!(p.action(read, &args(0x42, 0)), Action::Allow);
    assert_eq!(p.action(read, &args(0x43, 0)), Action::Kill);
    assert_eq!(p.action(nr("write"), &NO_ARGS), Action::Errno(1));
}

#[test]
fn operators_and_numbers() {
    let p = ok(
        "read: allow if arg0==-1\n\
             write: allow if arg0 != 0o17 && arg1 <= 0xFF\n\
             close: allow if arg0 < 3 || arg0 >= 100\n",
        &X86_64,
    );
    assert_eq!(p.action(nr("read"), &args(1, 0)), Action::Kill);
    let c = p.rule(nr("read")).unwrap().cond.unwrap();
    assert_eq!(
        p.cmps[p.clauses[c.start as usize].range()],
        [Cmp {
            arg: 0,
            op: Op::Eq,
            value: u64::MAX
        }]
    );
    assert_eq!(p.action(nr("read"), &args(u64::MAX, 0)), Action::Allow);
    assert_eq!(p.action(nr("write"), &args(15, 0xff)), Action::Kill);
    assert_eq!(p.action(nr("write"), &args(16, 0xff)), Action::Allow);
    assert_eq!(p.action(nr("write"), &args(16, 0x100)), Action::Kill);
    assert_eq!(p.action(nr("close"), &args(2, 0)), Action::Allow);
    assert_eq!(p.action(nr("close"), &args(3, 0)), Action::Kill);
    assert_eq!(p.action(nr("close"), &args(100, 0)), Action::Allow);
    assert!(ok("read: allow if arg0 == -9223372036854775808", &X86_64)
        .rule(nr("read"))
        .is_some());
}

#[test]
fn equal_conditions_are_shared() {
    let p = ok(
        "read: allow if arg0 == 1 || arg1 == 2\nwrite: log if arg0 == 1 || arg1 == 2\n",
        &X86_64,
    );
    assert_eq!(p.clauses.len(), 2);
    assert_eq!(p.cmps.len(), 2);
    assert_eq!(
        p.rule(nr("read")).unwrap().cond,
        p.rule(nr("write")).unwrap().cond
    );
}

#[test]
fn notify_replies() {
    let p = ok(
        "getppid: notify return -1\n\
             uname: notify errno EPERM\n\
             getpid: notify continue\n\
             gettid: notify return -1\n",
        &X86_64,
    );
    let reply = |name| p.reply(p.action(nr(name), &NO_ARGS));
    assert_eq!(reply("getppid"), Some(Reply::Return(-1)));
    assert_eq!(reply("uname"), Some(Reply::Errno(1)));
    assert_eq!(reply("getpid"), Some(Reply::Continue));
    assert_eq!(reply("gettid"), Some(Reply::Return(-1)));
    assert_eq!(p.replies.len(), 3);
    assert_eq!(
        p.action(nr("getppid"), &NO_ARGS),
        p.action(nr("gettid"), &NO_ARGS)
    );
    let p = ok(
        "read: notify return 0x10 if arg0 == 0 else notify errno 5",
        &X86_64,
    );
    assert_eq!(
        p.reply(p.action(nr("read"), &NO_ARGS)),
        Some(Reply::Return(16))
    );
    assert_eq!(
        p.reply(p.action(nr("read"), &args(1, 0))),
        Some(Reply::Errno(5))
    );
}

#[test]
fn paths_block() {
    let text = "\
open, openat: notify paths {   # files
    allow /tmp
    deny /tmp/keep
    deny /tmp/keep/open errno EPERM
    allow /tmp/keep/open/really
    # a comment
    otherwise errno ENOENT
}
execve: notify paths {
}
";
    let p = ok(text, &X86_64);
    let open = p.reply(p.action(nr("open"), &NO_ARGS)).unwrap();
    assert_eq!(Some(open), p.reply(p.action(nr("openat"), &NO_ARGS)));
    let Reply::Paths {
        start,
        len,
        otherwise,
    } = open
    else {
        panic!("{open:?}")
    };
    assert_eq!((start, len, otherwise), (0, 4, 2));
    let rules = &p.paths[start as usize..(start + len) as usize];
    let decide = |path: &[u8]| PathRule::best(rules, path).map_or(Some(otherwise), |r| r.deny);
    assert_eq!(decide(b"/tmp/a"), None);
    assert_eq!(decide(b"/tmp/keep/a"), Some(2));
    assert_eq!(decide(b"/tmp/keep/open/x"), Some(1));
    assert_eq!(decide(b"/tmp/keep/open/really/x"), None);
    assert_eq!(decide(b"/etc/passwd"), Some(2));
    assert_eq!(decide(b"/tmpfoo"), Some(2));
    // The prefixes are slices of the text.
    assert!(text.contains(rules[0].prefix));
    assert_eq!(
        p.reply(p.action(nr("execve"), &NO_ARGS)),
        Some(Reply::Paths {
            start: 4,
            len: 0,
            otherwise: 13
        })
    );
    let r = p.rule(nr("openat")).unwrap();
    assert_eq!((r.line, r.col), (1, 7));
}

#[test]
fn default_resolved_at_the_end() {
    let p = ok(
        "decision-log off\nread: allow if arg0 == 0\nwrite: allow\ndefault errno EPERM\n",
        &X86_64,
    );
    assert!(!p.log_decisions);
    assert_eq!(p.default, Action::Errno(1));
    let r = p.rule(nr("read")).unwrap();
    assert_eq!(r.otherwise, Action::Errno(1));
    assert_eq!(p.action(nr("read"), &args(1, 0)), Action::Errno(1));
    assert_eq!(p.action(nr("close"), &NO_ARGS), Action::Errno(1));
    let p = ok("read: allow", &X86_64);
    assert_eq!(p.default, Action::Kill);
    assert!(p.log_decisions);
    let p = ok("default notify errno EPERM", &X86_64);
    assert_eq!(p.reply(p.default), Some(Reply::Errno(1)));
}

#[test]
fn explicit_beats_group() {
    let p = ok(
        "@basic-io: allow\nwrite: errno EPERM\n@basic-io, dup: allow\n",
        &X86_64,
    );
    assert_eq!(p.action(nr("read"), &NO_ARGS), Action::Allow);
    assert_eq!(p.action(nr("write"), &NO_ARGS), Action::Errno(1));
    let w = p.rule(nr("write")).unwrap();
    assert_eq!((w.line, w.col), (2, 1));
    let r = p.rule(nr("read")).unwrap();
    assert_eq!((r.line, r.col), (1, 1));
    // Explicit first, group later: the same.
    let p = ok("write: kill\n@basic-io: allow\n", &AARCH64);
    assert_eq!(
        p.action(AARCH64.nr("write").unwrap(), &NO_ARGS),
        Action::Kill
    );
    assert_eq!(
        p.action(AARCH64.nr("dup3").unwrap(), &NO_ARGS),
        Action::Allow
    );
    assert!(p.rules.windows(2).all(|w| w[0].nr < w[1].nr));
    // The big union parses on both arches.
    ok("@system-service: allow\ndefault kill", &AARCH64);
    let p = ok("@system-service: allow\ndefault kill", &X86_64);
    assert!(p.rules.len() > 200);
    assert!(p.rules.windows(2).all(|w| w[0].nr < w[1].nr));
}

#[test]
fn optional_names_are_skipped_where_missing() {
    let text = "default allow\nmkdir?, mkdirat: errno EACCES\nnosuch?: allow\n";
    let errs = parse(text, &AARCH64).unwrap_err();
    assert_eq!(errs.list.len(), 1);
    assert_eq!((errs.list[0].line, errs.list[0].col), (3, 1));
    let text = "default allow\nmkdir?, mkdirat: errno EACCES\n";
    let a = parse(text, &AARCH64).unwrap();
    assert_eq!(written(&a), 1);
    let x = parse(text, &X86_64).unwrap();
    assert_eq!(written(&x), 2);
    assert_eq!(
        x.action(X86_64.nr("mkdir").unwrap(), &[0; 6]),
        Action::Errno(13)
    );
}

#[test]
fn comments_and_blank_lines() {
    let p = ok(
        "# a policy\n\n   \t\nread: allow # reading\n#write: allow\n",
        &X86_64,
    );
    assert_eq!(p.rules.len(), 1);
    assert_eq!(
        errors("write#x: allow", &X86_64),
        [(1, 1, K::UnknownSyscall)]
    );
    ok("", &X86_64);
}

// --- robustness ---

#[test]
fn full_tables_are_errors() {
    let mut text = std::string::String::new();
    for (i, (name, _)) in X86_64.syscalls().enumerate() {
        text += &std::format!("{name}: allow if arg0 == {i} || arg1 == {i}\n");
    }
    let e = parse(&text, &X86_64).expect_err("full");
    assert!(
        e.list.iter().any(|e| e.kind == K::TooMany("conditions")),
        "{:?}",
        e.list
    );

    let mut text = std::string::String::new();
    for (i, (name, _)) in X86_64.syscalls().enumerate() {
        text += &std::format!("{name}: notify return {i}\n");
    }
    let e = parse(&text, &X86_64).expect_err("full");
    assert!(e
        .list
        .iter()
        .any(|e| e.kind == K::TooMany("notify replies")));
    assert!(e.dropped > 0);

    let mut text = std::string::String::from("open: notify paths {\n");
    for i in 0..200 {
        text += &std::format!("allow /p{i}\n");
    }
    text += "}\n";
    let e = parse(&text, &X86_64).expect_err("full");
    assert_eq!(e.list[0].kind, K::TooMany("path rules"));
}

#[test]
fn garbage_never_panics() {
    const SOUP: &[&str] = &[
        "read",
        "write",
        "open",
        "openat",
        "@basic-io",
        "@nope",
        "@",
        ":",
        ",",
        "{",
        "}",
        "allow",
        "deny",
        "kill",
        "log",
        "trap",
        "errno",
        "EPERM",
        "0",
        "4096",
        "notify",
        "return",
        "-1",
        "continue",
        "paths",
        "if",
        "else",
        "arg0",
        "arg5",
        "arg6",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&",
        "&&",
        "||",
        "|",
        "=",
        "!",
        "0x",
        "0xffffffffffffffffff",
        "-",
        "/tmp",
        "tmp",
        "otherwise",
        "default",
        "decision-log",
        "on",
        "#",
        "é",
        "\t",
        "\r",
        "x",
        "",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const LINES: &[&str] = &[
        "read: allow",
        "write, @basic-io: errno EPERM if arg0 == 1 && arg1 & 0x3 == 2 || arg2 >= 7",
        "open, openat: notify paths {",
        "allow /tmp",
        "deny /etc errno ENOENT",
        "otherwise errno EACCES",
        "}",
        "default kill",
        "default notify return -1",
        "close: notify continue if arg0 > 2 else log",
        "@system-service: allow",
        "decision-log off",
    ];
    let mut lines = std::vec::Vec::new();
    for _ in 0..20_000 {
        let mut line = std::string::String::new();
        if rand() % 2 == 0 {
            line += LINES[(rand() % LINES.len() as u64) as usize];
        } else {
            for _ in 0..rand() % 12 {
                line += SOUP[(rand() % SOUP.len() as u64) as usize];
                if rand() % 4 != 0 {
                    line.push(' ');
                }
            }
        }
        if rand() % 50 == 0 {
            line += &"y".repeat(MAX_LINE);
        }
        lines.push(line);
    }
    let mut oks = 0;
    for arch in [&X86_64, &AARCH64] {
        let all = lines.join("\n");
        let _ = parse(&all, arch);
        let mut i = 0;
        while i < lines.len() {
            let n = 1 + (rand() % 5) as usize;
            let text = lines[i..(i + n).min(lines.len())].join("\n");
            i += n;
            let result = parse(&text, arch);
            match result {
                Ok(p) => {
                    oks += 1;
                    check_invariants(&p);
                }
                Err(e) => {
                    for e in &e.list {
                        assert!(e.line >= 1 && e.line as usize <= n + 1, "{e:?} in {text:?}");
                        assert!(
                            e.col >= 1 && e.col as usize <= MAX_LINE + 1,
                            "{e:?} in {text:?}"
                        );
                    }
                }
            }
        }
    }
    assert!(oks > 100, "{oks}");
}

/// Whatever parses must be safe for the compiler and the monitor to index.
fn check_invariants(p: &Policy) {
    assert!(p.rules.windows(2).all(|w| w[0].nr < w[1].nr));
    let check_action = |a: Action| match a {
        Action::Notify(i) => match p.replies[i as usize] {
            Reply::Paths {
                start,
                len,
                otherwise,
            } => {
                assert!((start + len) as usize <= p.paths.len());
                assert!((1..=MAX_ERRNO).contains(&otherwise));
            }
            Reply::Errno(e) => assert!((1..=MAX_ERRNO).contains(&e)),
            _ => {}
        },
        Action::Errno(e) => assert!((1..=MAX_ERRNO).contains(&e)),
        _ => {}
    };
    check_action(p.default);
    for r in &p.rules {
        check_action(r.action);
        check_action(r.otherwise);
        if let Some(c) = r.cond {
            assert!(c.len > 0);
            for clause in &p.clauses[c.range()] {
                assert!(clause.len > 0);
                for cmp in &p.cmps[clause.range()] {
                    assert!(cmp.arg < 6);
                }
            }
        }
    }
    for path in &p.paths {
        assert!(path.prefix.starts_with('/'));
        assert_ne!(path.deny, Some(0));
    }
}
