//! The bodies of vigil's fuzz targets, shared by the libFuzzer binaries
//! (`fuzz_targets/*.rs`, run with `cargo +nightly fuzz run TARGET`) and the
//! stable smoke runner (`examples/smoke.rs`, run by `fuzz/smoke`).
//!
//! Each target takes any bytes and panics on a broken invariant; a panic is
//! a finding. The invariants are written against the public API of
//! vigil's language core (`vigil-core`), which is all they need.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use vigil_core::arch::Arch;
use vigil_core::bpf::{self, interp, CompileError};
use vigil_core::config::{self, Config, ConfigErrors, PolicyRef, PolicyText};
use vigil_core::decide::{self, Decision, Step};
use vigil_core::out::{Buf, Sink};
use vigil_core::path::{normalize, PATH_MAX};
use vigil_core::policy::{
    self, prefix_covers, Action, Errors, PathRule, Policy, Reply, SyscallData, MAX_ERRNO,
};
use vigil_core::tables::{AARCH64, X86_64};

/// A fuzz target: its name and its body.
pub type Target = (&'static str, fn(&[u8]));

/// The targets by name, for the smoke runner.
pub const TARGETS: [Target; 3] = [("config", config), ("policy", policy), ("decide", decide)];

/// How much of the deep checks the inputs reached, for the smoke runner's
/// report: parses that succeeded, filter runs compared with `verdict`,
/// `by_paths` decisions compared with the reference.
pub static OK_PARSES: AtomicU64 = AtomicU64::new(0);
pub static FILTER_RUNS: AtomicU64 = AtomicU64::new(0);
pub static PATH_DECISIONS: AtomicU64 = AtomicU64::new(0);

fn count(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

pub static ARCHES: [&Arch; 2] = [&X86_64, &AARCH64];

/// The input as text: as is if it is UTF-8, else with replacement characters.
fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// A sink that never cuts, to check whole renderings.
struct Out(Vec<u8>);

impl Sink for Out {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// Lines a parser numbers in `text`: the last one may lack its newline.
fn line_count(text: &str) -> u32 {
    let n = text.bytes().filter(|&b| b == b'\n').count();
    (n + usize::from(!text.is_empty() && !text.ends_with('\n'))) as u32
}

/// A small deterministic PRNG (splitmix64), seeded from the input.
struct Rng(u64);

impl Rng {
    fn of(data: &[u8]) -> Rng {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for &b in data {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

// --- config ---------------------------------------------------------------

/// `config::parse` on any text; on success `check_policies` for both
/// arches. Every error has a place and renders as `FILE:LINE:COL: error: `.
pub fn config(data: &[u8]) {
    let text = text(data);
    let text: &str = &text;
    let lines = line_count(text);
    match config::parse(text) {
        Err(errs) => {
            assert!(!errs.is_empty(), "Err with no errors");
            check_config_errors(&errs, lines);
        }
        Ok(cfg) => {
            count(&OK_PARSES, 1);
            check_config_model(&cfg, text);
            for arch in ARCHES {
                let mut errs = ConfigErrors::new();
                config::check_policies(&cfg, arch, &mut errs);
                check_config_errors(&errs, lines);
            }
        }
    };
}

fn check_config_errors(errs: &ConfigErrors, lines: u32) {
    for e in &errs.list {
        assert!(e.line >= 1, "config error at line 0: {e:?}");
        assert!(e.col >= 1, "config error at column 0: {e:?}");
        // An unclosed block may point just past the text.
        assert!(
            e.line <= lines + 1,
            "config error at line {} of {lines}: {e:?}",
            e.line
        );
        let mut one = Out(Vec::new());
        e.render("f", &mut one);
        let s = std::str::from_utf8(&one.0).expect("rendered error is not UTF-8");
        let want = format!("f:{}:{}: error: ", e.line, e.col);
        assert!(
            s.starts_with(&want),
            "rendered {s:?}, want it to start {want:?}"
        );
        assert!(s.len() > want.len(), "empty message: {s:?}");
    }
    let mut all = Out(Vec::new());
    errs.render("f", &mut all);
    let s = std::str::from_utf8(&all.0).expect("rendered errors are not UTF-8");
    let want_lines = errs.list.len() + usize::from(errs.dropped > 0);
    // Tokens are slices of one line, so each error is one line.
    assert_eq!(s.lines().count(), want_lines, "rendered: {s:?}");
    // Into a fixed buffer: cut, never a panic.
    let mut b = Buf::<200>::new();
    errs.render("f", &mut b);
    let _ = b.as_str();
}

/// Where `sub` starts in `text`, if it is a slice of it.
fn offset_in(text: &str, sub: &str) -> Option<usize> {
    let (t, s) = (text.as_ptr() as usize, sub.as_ptr() as usize);
    (s >= t && s + sub.len() <= t + text.len()).then(|| s - t)
}

fn check_policy_text(text: &str, body: &PolicyText) {
    let at = offset_in(text, body.text).expect("policy body is not a slice of the config");
    assert!(
        at == 0 || text.as_bytes()[at - 1] == b'\n' || body.text.is_empty(),
        "policy body does not start a line: {body:?}"
    );
    if !body.text.is_empty() {
        let line = text.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        assert_eq!(line as u32, body.first_line, "first_line of {body:?}");
        assert!(
            body.text.ends_with('\n'),
            "policy body lines end with newlines: {body:?}"
        );
    }
}

fn check_config_model(cfg: &Config, text: &str) {
    let cmd_ok = |c: &config::Cmd| {
        assert!(
            c.path.starts_with('/'),
            "relative command path {:?}",
            c.path
        );
        assert!(c.line >= 1);
    };
    cfg.emergency_shell
        .iter()
        .chain(cfg.test.iter())
        .chain(cfg.modules.iter())
        .for_each(cmd_ok);
    if let Some(h) = cfg.hostname {
        assert!(h.len() <= config::MAX_HOSTNAME, "hostname {h:?}");
    }
    let ref_ok = |r: &PolicyRef| match r {
        PolicyRef::Named(i) => assert!(*i < cfg.policies.len(), "policy index {i}"),
        PolicyRef::Inline(t) => check_policy_text(text, t),
        PolicyRef::Default | PolicyRef::None => {}
    };
    ref_ok(&cfg.test_policy);
    for (i, p) in cfg.policies.iter().enumerate() {
        assert!(
            !["default", "none"].contains(&p.name),
            "reserved policy name {:?}",
            p.name
        );
        assert_eq!(
            cfg.policy_index(p.name),
            Some(i),
            "duplicate policy {:?}",
            p.name
        );
        check_policy_text(text, &p.body);
    }
    for (i, s) in cfg.services.iter().enumerate() {
        assert!(
            cfg.services[..i].iter().all(|o| o.name != s.name),
            "duplicate service {:?}",
            s.name
        );
        cmd_ok(&s.exec);
        ref_ok(&s.policy);
        if s.kind == config::Kind::Daemon {
            assert!(!s.required, "required daemon {:?}", s.name);
        }
        if let Some(c) = s.cwd {
            assert!(c.starts_with('/'), "relative cwd {c:?}");
        }
        for io in [s.stdin, s.stdout, s.stderr] {
            if let config::Stdio::Path(p) = io {
                assert!(p.starts_with('/'), "relative stdio path {p:?}");
            }
        }
        assert!(
            s.backoff_min_ms <= s.backoff_max_ms,
            "backoff of {:?}",
            s.name
        );
        assert!(
            (1..=64).contains(&s.stop_signal),
            "stop signal {}",
            s.stop_signal
        );
        for (j, r) in s.rlimits.iter().enumerate() {
            assert!(r.soft <= r.hard, "rlimit {r:?}");
            assert!(
                s.rlimits[..j].iter().all(|o| o.resource != r.resource),
                "duplicate rlimit"
            );
        }
        for (j, e) in s.env.iter().enumerate() {
            let key = |e: &str| e.split('=').next().unwrap_or("").to_owned();
            assert!(e.contains('='), "env {e:?}");
            assert!(
                s.env[..j].iter().all(|o| key(o) != key(e)),
                "duplicate env key {e:?}"
            );
        }
    }
}

// --- policy ---------------------------------------------------------------

/// `policy::parse` for both arches; errors have places and render; a
/// parsed policy is consistent, compiles (or is too long), passes the
/// kernel's static checks, and the filter agrees with `Policy::verdict`.
pub fn policy(data: &[u8]) {
    let text = text(data);
    let text: &str = &text;
    let lines = line_count(text);
    for arch in ARCHES {
        match policy::parse(text, arch) {
            Err(errs) => {
                assert!(!errs.is_empty(), "Err with no errors");
                check_policy_errors(&errs, text, lines);
            }
            Ok(p) => {
                count(&OK_PARSES, 1);
                check_policy_model(&p);
                check_filter(&p, arch, data);
            }
        }
    }
}

fn check_policy_errors(errs: &Errors, text: &str, lines: u32) {
    let lens: Vec<usize> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).len())
        .collect();
    for e in &errs.list {
        assert!(e.line >= 1, "policy error at line 0: {e:?}");
        assert!(e.col >= 1, "policy error at column 0: {e:?}");
        assert!(
            e.line <= lines + 1,
            "policy error at line {} of {lines}: {e:?}",
            e.line
        );
        // At most one past the end of its line (or of the length limit).
        let len = lens.get(e.line as usize - 1).copied().unwrap_or(0);
        let max = len.max(policy::parse::MAX_LINE) + 1;
        assert!(
            e.col as usize <= max,
            "column {} past the end of line {} ({len} bytes): {e:?}",
            e.col,
            e.line
        );
        assert!(e.other_line <= lines + 1, "other_line of {e:?}");
        let mut one = Out(Vec::new());
        e.render("f", &mut one);
        let s = std::str::from_utf8(&one.0).expect("rendered error is not UTF-8");
        let want = format!("f:{}:{}: error: ", e.line, e.col);
        assert!(
            s.starts_with(&want),
            "rendered {s:?}, want it to start {want:?}"
        );
        assert!(!s.contains('\n'), "a newline inside one error: {s:?}");
    }
    let mut all = Out(Vec::new());
    errs.render("f", &mut all);
    let s = std::str::from_utf8(&all.0).expect("rendered errors are not UTF-8");
    assert_eq!(
        s.lines().count(),
        errs.list.len() + usize::from(errs.dropped > 0)
    );
    let mut b = Buf::<128>::new();
    errs.render("f", &mut b);
    let _ = b.as_str();
}

fn errno_ok(e: u16) -> bool {
    (1..=MAX_ERRNO).contains(&e)
}

fn check_action(p: &Policy, a: Action) {
    match a {
        Action::Errno(e) => assert!(errno_ok(e), "errno {e}"),
        Action::Notify(i) => assert!((i as usize) < p.replies.len(), "reply index {i}"),
        _ => {}
    }
}

/// The invariants `Policy` documents, which the compiler and the monitor
/// rely on.
fn check_policy_model(p: &Policy) {
    check_action(p, p.default);
    assert!(!matches!(p.default, Action::Notify(_)) || p.reply(p.default).is_some());
    for w in p.rules.windows(2) {
        assert!(
            w[0].nr < w[1].nr,
            "rules not sorted and unique: {} then {}",
            w[0].nr,
            w[1].nr
        );
    }
    for r in &p.rules {
        // Rules vigil adds to every policy have no place of their own.
        let added = matches!(r.origin, policy::Origin::Added(_));
        assert!(added || (r.line >= 1 && r.col >= 1), "rule place {r:?}");
        check_action(p, r.action);
        check_action(p, r.otherwise);
        for c in [r.cond, p.guard(r.nr).map(|g| g.cond)]
            .into_iter()
            .flatten()
        {
            assert!(c.len >= 1, "empty condition {r:?}");
            assert!(c.range().end <= p.clauses.len(), "condition span {r:?}");
            for cl in &p.clauses[c.range()] {
                assert!(
                    cl.len >= 1 && cl.range().end <= p.cmps.len(),
                    "clause span {cl:?}"
                );
            }
        }
    }
    for g in &p.guards {
        assert!(p.rule(g.nr).is_some(), "guard without a rule {g:?}");
        assert!(errno_ok(g.errno), "guard errno {g:?}");
    }
    for c in &p.cmps {
        assert!(c.arg <= 5, "argument index {}", c.arg);
    }
    for r in &p.replies {
        match *r {
            Reply::Errno(e) => assert!(errno_ok(e), "reply errno {e}"),
            Reply::Paths {
                start,
                len,
                otherwise,
            } => {
                assert!(
                    start as usize + len as usize <= p.paths.len(),
                    "paths span {r:?}"
                );
                assert!(errno_ok(otherwise), "otherwise errno {otherwise}");
            }
            Reply::Return(_) | Reply::Continue => {}
        }
    }
    for pr in &p.paths {
        assert!(
            pr.prefix.starts_with('/'),
            "relative prefix {:?}",
            pr.prefix
        );
        if let Some(e) = pr.deny {
            assert!(errno_ok(e), "deny errno {e}");
        }
    }
}

/// Argument values near `v`: where 64-bit comparisons done on 32-bit
/// halves go wrong.
fn near(v: u64, r: &mut Rng) -> u64 {
    match r.below(9) {
        0 => v,
        1 => v.wrapping_add(1),
        2 => v.wrapping_sub(1),
        3 => v ^ (1 << 32),
        4 => v ^ 0xffff_ffff_0000_0000,
        5 => v ^ 0xffff_ffff,
        6 => v ^ (1u64 << r.below(64)),
        7 => (v & 0xffff_ffff_0000_0000) | (r.next() & 0xffff_ffff),
        _ => [0, 1, u32::MAX as u64, 1 << 32, u64::MAX, r.next()][r.below(6)],
    }
}

fn check_filter(p: &Policy, arch: &Arch, data: &[u8]) {
    // As PID 1 compiles it, and as `vigil run` (its own pid and group, and
    // kill(-1)) would, chosen by the input.
    let mut pr = policy::protect::Protect::pid1(&[]);
    if data.first().is_some_and(|b| b & 1 == 1) {
        pr = policy::protect::Protect::default();
        let _ = pr.pids.push(4242);
        let _ = pr.pgrps.push(4000);
        pr.uid = 1000;
        pr.broadcast = true;
    }
    let mut guards = policy::protect::Guards::default();
    assert!(
        policy::protect::guards(p, arch, &pr, &mut guards),
        "guards did not fit"
    );
    let prog = match bpf::compile(p, arch, &pr) {
        Ok(prog) => prog,
        Err(CompileError::TooLong) => return,
        Err(CompileError::Invalid) => panic!("compile: Invalid for a policy the parser accepted"),
    };
    if let Err(e) = interp::check(&prog) {
        panic!("the kernel would refuse the filter: {e:?}");
    }
    let mut listing = Out(Vec::new());
    bpf::disasm(&prog, arch, &mut listing);
    assert!(!listing.0.is_empty());

    let mut rng = Rng::of(data);
    let mut values: Vec<u64> = p.cmps.iter().chain(&guards.cmps).map(|c| c.value).collect();
    values.extend(p.cmps.iter().filter_map(|c| match c.op {
        policy::Op::MaskedEq(m) => Some(m),
        _ => None,
    }));
    let args_for = |rng: &mut Rng, base: u64| {
        let mut a = [0u64; 6];
        for x in &mut a {
            *x = if values.is_empty() || rng.below(4) == 0 {
                near(base, rng)
            } else {
                near(values[rng.below(values.len())], rng)
            };
        }
        a
    };
    let mut samples: Vec<SyscallData> = Vec::new();
    let at = |nr: u32, args| SyscallData {
        nr: nr as i32,
        arch: arch.audit,
        args,
    };
    // Every named syscall with no arguments; conditional ones many times.
    for g in &guards.items {
        for _ in 0..8 {
            let a = args_for(&mut rng, 1);
            samples.push(at(g.nr, a));
        }
    }
    for r in &p.rules {
        samples.push(at(r.nr, [0; 6]));
        samples.push(at(r.nr.wrapping_add(1), [0; 6]));
        let n = if r.cond.is_some() { 12 } else { 1 };
        for _ in 0..n {
            let a = args_for(&mut rng, 0);
            samples.push(at(r.nr, a));
        }
        // Each clause made to hold, then one comparison nudged.
        if let Some(c) = r.cond {
            for cl in &p.clauses[c.range()] {
                let mut a = args_for(&mut rng, 0);
                for cmp in &p.cmps[cl.range()] {
                    a[cmp.arg as usize] = match cmp.op {
                        policy::Op::Eq | policy::Op::Le | policy::Op::Ge => cmp.value,
                        policy::Op::Ne => cmp.value ^ 1,
                        policy::Op::Lt => cmp.value.saturating_sub(1),
                        policy::Op::Gt => cmp.value.saturating_add(1),
                        policy::Op::MaskedEq(m) => cmp.value | (rng.next() & !m),
                    };
                }
                samples.push(at(r.nr, a));
                if let Some(cmp) = p.cmps[cl.range()].get(rng.below(cl.len as usize)) {
                    let i = cmp.arg as usize;
                    a[i] = near(a[i], &mut rng);
                    samples.push(at(r.nr, a));
                }
            }
        }
    }
    for _ in 0..16 {
        let nr = match rng.below(4) {
            0 => rng.below(600) as u32,
            1 => arch.forced_notify[rng.below(2)],
            2 => rng.next() as u32,
            _ => (rng.below(600) as u32) | arch.x32_bit,
        };
        let a = args_for(&mut rng, 0);
        samples.push(at(nr, a));
    }
    // Another ABI, or garbage, in `arch`.
    for other in [AARCH64.audit, X86_64.audit, rng.next() as u32] {
        let nr = p.rules.first().map_or(0, |r| r.nr);
        samples.push(SyscallData {
            nr: nr as i32,
            arch: other,
            args: [0; 6],
        });
    }
    count(&FILTER_RUNS, samples.len() as u64);
    for d in &samples {
        let want = p.verdict_guarded(arch, d, &guards);
        assert_eq!(
            bpf::ret_of(bpf::ret_value(want)),
            Some(want),
            "ret_of(ret_value({want:?}))"
        );
        let got = interp::run(&prog, d);
        assert_eq!(
            got,
            Ok(bpf::ret_value(want)),
            "filter and verdict differ on {} for {d:?} (verdict {want:?})",
            arch.name
        );
    }
}

// --- decide ---------------------------------------------------------------

/// Policies the decide target draws from, parsed once.
struct Fixed {
    list: Vec<(&'static Arch, Policy<'static>)>,
}

const DEFAULT_POLICY: &str = include_str!("../../policy/default.policy");
const DEMO_CONFIG: &str = include_str!("../../qemu/demo.conf");

/// From tests/run.rs: the seccomp_unotify(2) man page's example.
const MKDIR_PATHS: &str =
    "default allow\nmkdir, mkdirat: notify paths {\n    allow /tmp/\n    otherwise errno EOPNOTSUPP\n}\n";

/// Nested prefixes, allow and deny, every reply and action kind.
const NESTED_X86: &str = "\
default errno EPERM
open, openat, creat: notify paths {
    allow /
    deny /etc errno EACCES
    allow /etc/hosts
    allow /etc/ssl/
    deny /tmp/secret/ errno ENOENT
    allow /tmp
    deny /tmp/a/b/c
    allow /tmp/a/b/c/d
    otherwise errno EOPNOTSUPP
}
mkdir, mkdirat: notify paths {
    allow /var/lib/app/
    deny /var/lib/app/locked
    allow /var/lib/app/locked/ok
}
unlink, unlinkat, rmdir: notify paths {
    otherwise errno EROFS
}
getppid: notify return 4242
getpid: notify errno EOPNOTSUPP
write: notify continue
read: allow if arg0 == 0 || arg2 < 4096 && arg1 & 0xfff == 0 else errno EINVAL
close: notify return -1 if arg0 > 1024 else allow
execve: errno EPERM
execveat: notify continue
kill: kill
ptrace: trap
uname: log
";

const NESTED_AARCH64: &str = "\
default allow
openat: notify paths {
    allow /usr
    allow /usr/local/
    deny /usr/local/secret
    deny /
    otherwise errno 4095
}
mkdirat: notify paths {
    allow /tmp/
}
execve: kill
getppid: notify return -4095
";

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| {
        let mut texts: Vec<(&'static Arch, &'static str)> = vec![
            (&X86_64, DEFAULT_POLICY),
            (&AARCH64, DEFAULT_POLICY),
            (&X86_64, MKDIR_PATHS),
            (&X86_64, NESTED_X86),
            (&AARCH64, NESTED_AARCH64),
        ];
        let cfg = config::parse(DEMO_CONFIG).expect("the demo config parses");
        for p in &cfg.policies {
            texts.push((&X86_64, p.body.text));
            texts.push((&AARCH64, p.body.text));
        }
        let list = texts
            .into_iter()
            .map(|(arch, t)| match policy::parse(t, arch) {
                Ok(p) => (arch, p),
                Err(e) => {
                    let mut o = Out(Vec::new());
                    e.render("embedded", &mut o);
                    panic!("{}: {}", arch.name, String::from_utf8_lossy(&o.0));
                }
            })
            .collect();
        Fixed { list }
    })
}

/// Reads the input front to back; zeros past its end.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_le_bytes(b)
    }
}

/// Reference lexical normalisation, with a stack of components.
fn normalize_ref(p: &[u8]) -> Vec<u8> {
    let mut stack: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                stack.pop();
            }
            c => stack.push(c),
        }
    }
    if stack.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::new();
    for c in stack {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    out
}

fn check_normalized(n: &[u8], raw: &[u8]) {
    let show = || {
        format!(
            "{:?} -> {:?}",
            String::from_utf8_lossy(raw),
            String::from_utf8_lossy(n)
        )
    };
    assert!(n.first() == Some(&b'/'), "not absolute: {}", show());
    assert!(
        n.len() == 1 || n.last() != Some(&b'/'),
        "trailing slash: {}",
        show()
    );
    for c in n[1..].split(|&b| b == b'/') {
        assert!(
            !c.is_empty() || n.len() == 1,
            "empty component (`//`): {}",
            show()
        );
        assert!(c != b"." && c != b"..", "`.` or `..` left: {}", show());
    }
    let w = |s: &[u8]| n.windows(s.len()).any(|x| x == s);
    assert!(!w(b"//") && !w(b"/./") && !w(b"/../"), "{}", show());
}

/// Which rule decides `path` by longest prefix, written independently of
/// `prefix_covers`: `None` if no rule covers it or equally long prefixes
/// disagree (then the order of lines decides, which is no invariant).
fn best_ref(rules: &[PathRule], path: &[u8]) -> Option<Option<Option<u16>>> {
    let covers = |pre: &str| {
        let pre = pre.as_bytes();
        if pre.ends_with(b"/") {
            path.starts_with(pre)
        } else {
            path == pre || (path.starts_with(pre) && path.get(pre.len()) == Some(&b'/'))
        }
    };
    let hits: Vec<&PathRule> = rules.iter().filter(|r| covers(r.prefix)).collect();
    let Some(long) = hits.iter().map(|r| r.prefix.len()).max() else {
        return Some(None);
    };
    let mut top = hits
        .iter()
        .filter(|r| r.prefix.len() == long)
        .map(|r| r.deny);
    let first = top.next().unwrap();
    if top.all(|d| d == first) {
        Some(Some(first))
    } else {
        None
    }
}

/// Check `by_paths` on `rules` against the reference.
fn check_by_paths(p: &Policy, start: u16, len: u16, otherwise: u16, paths: &[&[u8]]) {
    let got = decide::by_paths(p, start, len, otherwise, paths);
    let end = (start as usize + len as usize).min(p.paths.len());
    let rules = &p.paths[(start as usize).min(end)..end];
    let mut want = Some(Decision::Continue);
    for path in paths {
        let best = PathRule::best(rules, path);
        if let Some(b) = best {
            assert!(prefix_covers(b.prefix, path));
            assert!(rules
                .iter()
                .filter(|r| prefix_covers(r.prefix, path))
                .all(|r| r.prefix.len() <= b.prefix.len()));
        }
        match best_ref(rules, path) {
            None => {
                want = None; // ambiguous: skip the comparison
                break;
            }
            Some(None) => {
                assert!(
                    best.is_none(),
                    "best() found {best:?} for {:?}",
                    String::from_utf8_lossy(path)
                );
                want = Some(Decision::Errno(otherwise));
                break;
            }
            Some(Some(Some(e))) => {
                assert_eq!(best.map(|b| b.deny), Some(Some(e)));
                want = Some(Decision::Errno(e));
                break;
            }
            // Under an allowed prefix, and no longer deny covers it: allowed.
            Some(Some(None)) => assert_eq!(best.map(|b| b.deny), Some(None)),
        }
    }
    if let Some(w) = want {
        count(&PATH_DECISIONS, 1);
        assert_eq!(
            got,
            w,
            "by_paths on {:?} with rules {rules:?}",
            paths
                .iter()
                .map(|p| String::from_utf8_lossy(p))
                .collect::<Vec<_>>()
        );
    }
}

/// Arbitrary notification contents (policy, nr, arch, args) and target
/// memory (NUL-separated paths): `by_registers` and `by_paths` never panic
/// and agree with the policy; `normalize` yields clean absolute paths.
pub fn decide(data: &[u8]) {
    let fx = fixed();
    let mut inp = Input(data);
    let pick = inp.u8() as usize;
    let flags = inp.u8();
    let nr_sel = inp.u16();
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = inp.u64();
    }
    let small_out = 1 + (inp.u8() as usize % 64);
    let memory = inp.0;
    let handover = flags & 1 != 0;

    // Paths from the target's memory: NUL-terminated, up to PATH_MAX.
    let raw: Vec<&[u8]> = memory.split(|&b| b == 0).take(8).collect();
    let mut normalized: Vec<Vec<u8>> = Vec::new();
    for r in &raw {
        let mut out = vec![0u8; PATH_MAX];
        let n = normalize(r, &mut out);
        let n = &out[..n];
        check_normalized(n, r);
        if r.len() < out.len() {
            // Nothing was cut: the same as the reference, and idempotent.
            assert_eq!(
                n,
                &normalize_ref(r)[..],
                "normalize({:?})",
                String::from_utf8_lossy(r)
            );
            let mut again = vec![0u8; out.len()];
            let m = normalize(n, &mut again);
            assert_eq!(&again[..m], n, "normalize is not idempotent");
        }
        // A small buffer cuts, but still yields a clean path.
        let mut small = vec![0u8; small_out];
        let m = normalize(r, &mut small);
        assert!(m <= small_out);
        check_normalized(&small[..m], r);
        normalized.push(n.to_vec());
    }
    let paths: Vec<&[u8]> = normalized.iter().map(|v| &v[..]).take(4).collect();

    // A policy of path rules made from the input: prefixes are the raw
    // chunks, allow or deny by their first byte.
    let derived_texts: Vec<String> = raw
        .iter()
        .map(|r| String::from_utf8_lossy(r.get(1..).unwrap_or(b"")).into_owned())
        .collect();
    let mut derived = Policy::new();
    for (r, t) in raw.iter().zip(&derived_texts) {
        let deny = match r.first() {
            Some(&b) if b & 1 == 1 => Some(1 + (b as u16 >> 1)),
            _ => None,
        };
        let _ = derived.paths.push(PathRule { prefix: t, deny });
    }
    let n = derived.paths.len() as u16;
    check_by_paths(&derived, 0, n, 95, &paths);
    check_by_paths(&derived, nr_sel % (n + 1), n, 95, &paths);
    // Spans out of range never panic.
    let _ = decide::by_paths(&derived, nr_sel, u16::MAX, 1, &paths);

    let (arch, p) = &fx.list[pick % fx.list.len()];
    let arch: &Arch = arch;
    let nr = match flags >> 1 & 3 {
        0 if !p.rules.is_empty() => p.rules[nr_sel as usize % p.rules.len()].nr,
        1 => arch.forced_notify[nr_sel as usize & 1],
        _ => nr_sel as u32,
    };
    let step = decide::by_registers(p, arch, nr, &args, handover);
    let want = if handover && arch.forced_notify.contains(&nr) {
        Some(Step::Done(Decision::Continue))
    } else {
        match p.action(nr, &args) {
            Action::Allow | Action::Log => Some(Step::Done(Decision::Continue)),
            Action::Errno(e) => Some(Step::Done(Decision::Errno(e))),
            Action::Kill => Some(Step::Done(Decision::Kill)),
            Action::Trap => Some(Step::Done(Decision::Trap)),
            Action::Notify(i) => match p.replies[i as usize] {
                Reply::Return(v) => Some(Step::Done(Decision::Return(v))),
                Reply::Errno(e) => Some(Step::Done(Decision::Errno(e))),
                Reply::Continue => Some(Step::Done(Decision::Continue)),
                Reply::Paths { .. } => None,
            },
        }
    };
    match (step, want) {
        (
            Step::Paths {
                start,
                len,
                otherwise,
            },
            None,
        ) => {
            assert!(start as usize + len as usize <= p.paths.len());
            check_by_paths(p, start, len, otherwise, &paths);
        }
        (s, Some(w)) => assert_eq!(
            s, w,
            "by_registers({}, {nr}, {args:?}, {handover})",
            arch.name
        ),
        (s, None) => panic!("by_registers gave {s:?} for a paths rule"),
    }
    // Every paths reply of the policy, on the same paths.
    for r in &p.replies {
        if let Reply::Paths {
            start,
            len,
            otherwise,
        } = *r
        {
            check_by_paths(p, start, len, otherwise, &paths);
        }
    }
}
