//! A stable, seconds-long stand-in for the fuzzers, for CI: every target
//! over its whole committed corpus, then over inputs mutated from it by a
//! seeded PRNG until its time is up.
//!
//! ```text
//! smoke [--secs S] [--seed N] [TARGET...]   # default: 2 s per target, all targets
//! smoke --run TARGET FILE|DIR...            # replay inputs (a crash, a corpus)
//! ```
//!
//! Prints one line per target and `N passed, M failed`; exits 1 on a failure
//! and saves each failing input under `smoke-failures/` next to the corpus.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicU64, Ordering};

use vigil_fuzz::{FILTER_RUNS, OK_PARSES, PATH_DECISIONS, TARGETS};

fn take(c: &AtomicU64) -> u64 {
    c.swap(0, Ordering::Relaxed)
}

/// Tokens the mutator splices in: the languages' words and punctuation.
// Packed, not one token a line as rustfmt would have it.
#[rustfmt::skip]
const DICT: &[&str] = &[
    "\n", " ", "\t", "\r\n", "#", "{", "}", "{\n", "\n}\n", ":", ",", "\"", "'", "@", "=",
    "default ", "allow", "kill", "log", "trap", "errno ", "notify ", "return ", "continue",
    "paths {\n", "otherwise errno ", "deny /", "allow /", "if ", "else ", "&&", "||", "&",
    "==", "!=", "<", "<=", ">", ">=", "arg0", "arg5", "arg6", "0x", "0o", "-",
    "18446744073709551615", "18446744073709551616", "4095", "4096", "0", "EPERM",
    "EOPNOTSUPP", "read", "openat", "open", "mkdir", "execve", "getppid", "@basic-io",
    "@file-system", "decision-log off", "service s {\n", "policy p {\n", "exec /bin/x\n",
    "kind oneshot\n", "required yes\n", "policy p\n", "policy {\n", "test-policy {\n",
    "test /bin/t\n", "rlimit nofile 10 5\n", "backoff 10s 1s\n", "stop-signal ",
    "SIGTERM", "65", "env A=1\n", "hostname ", "grace ", "100ms", "2m", "module /m\n",
    "emergency-shell /bin/sh\n", "stdout /log\n", "cwd rel\n", "user 4294967296\n",
    "restart-limit 5 60s\n", "groups 1 2 3\n", "/", "/.", "/..", "//", "/tmp/", "\0",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let corpus_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let failures_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("smoke-failures");

    // The panic message of the last failure, instead of the default hook's
    // print per panic.
    thread_local!(static LAST: RefCell<String> = const { RefCell::new(String::new()) });
    thread_local!(static IN_TARGET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        if !IN_TARGET.with(|t| t.get()) {
            eprintln!("smoke: {msg}{at}");
        }
        LAST.with(|l| *l.borrow_mut() = format!("{msg}{at}"));
    }));
    let run_one = |f: fn(&[u8]), input: &[u8]| -> Result<(), String> {
        IN_TARGET.with(|t| t.set(true));
        let r = panic::catch_unwind(AssertUnwindSafe(|| f(input)));
        IN_TARGET.with(|t| t.set(false));
        r.map_err(|_| LAST.with(|l| l.borrow().clone()))
    };

    if args.first().map(String::as_str) == Some("--run") {
        let name = args.get(1).expect("--run TARGET FILE...");
        let f = target(name);
        // Files, or directories of them (a corpus).
        let mut files: Vec<PathBuf> = Vec::new();
        for a in &args[2..] {
            let p = PathBuf::from(a);
            match std::fs::read_dir(&p) {
                Ok(d) => files.extend(
                    d.filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|p| p.is_file()),
                ),
                Err(_) => files.push(p),
            }
        }
        files.sort();
        let (mut ok, mut failed) = (0, 0);
        for file in &files {
            let input = match std::fs::read(file) {
                Ok(b) => b,
                Err(e) => {
                    // A corpus a running fuzzer is reducing loses files.
                    eprintln!("{}: {e}", file.display());
                    continue;
                }
            };
            match run_one(f, &input) {
                Ok(()) => ok += 1,
                Err(m) => {
                    failed += 1;
                    println!("{}: FAILED: {m}", file.display());
                }
            }
        }
        println!(
            "{ok} ok, {failed} failed; {} parsed, {} filter runs, {} by_paths decisions checked",
            take(&OK_PARSES),
            take(&FILTER_RUNS),
            take(&PATH_DECISIONS)
        );
        std::process::exit(i32::from(failed > 0));
    }

    let mut secs = 2.0f64;
    let mut seed = 0x5eed_u64;
    let mut names: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => {
                secs = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--secs SECONDS")
            }
            "--seed" => {
                seed = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--seed NUMBER")
            }
            n => names.push(n),
        }
    }
    if names.is_empty() {
        names = TARGETS.iter().map(|(n, _)| *n).collect();
    }

    let (mut passed, mut failed) = (0, 0);
    for name in names {
        let f = target(name);
        let corpus = read_corpus(&corpus_root.join(name));
        let mut rng = Rng(seed ^ fnv(name.as_bytes()));
        let mut fails: Vec<(Vec<u8>, String)> = Vec::new();
        let start = Instant::now();
        for input in &corpus {
            if let Err(m) = run_one(f, input) {
                fails.push((input.clone(), m));
            }
        }
        let budget = Duration::from_secs_f64(secs);
        let mut generated = 0u64;
        while start.elapsed() < budget {
            let input = mutate(&mut rng, &corpus);
            generated += 1;
            if let Err(m) = run_one(f, &input) {
                fails.push((input, m));
            }
        }
        let took = start.elapsed().as_secs_f64();
        let deep = match name {
            "decide" => format!("{} by_paths decisions checked", take(&PATH_DECISIONS)),
            "policy" => format!(
                "{} parsed, {} filter runs checked",
                take(&OK_PARSES),
                take(&FILTER_RUNS)
            ),
            _ => format!("{} parsed", take(&OK_PARSES)),
        };
        let what = format!(
            "{} corpus inputs + {generated} generated, {deep}, {took:.1} s",
            corpus.len()
        );
        if fails.is_empty() {
            passed += 1;
            println!("{name}: passed ({what})");
        } else {
            failed += 1;
            println!("{name}: FAILED on {} inputs ({what})", fails.len());
            let _ = std::fs::create_dir_all(&failures_dir);
            for (input, m) in fails.iter().take(5) {
                let file = failures_dir.join(format!("{name}-{:016x}", fnv(input)));
                let _ = std::fs::write(&file, input);
                println!("  {m}\n  input: {} ({} bytes)", show(&file), input.len());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    std::process::exit(i32::from(failed > 0));
}

fn target(name: &str) -> fn(&[u8]) {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, f)) => *f,
        None => {
            let all: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
            eprintln!("unknown target {name:?} (targets: {})", all.join(", "));
            std::process::exit(2);
        }
    }
}

/// A path relative to the current directory where that is shorter.
fn show(p: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|d| p.strip_prefix(d).ok().map(PathBuf::from));
    rel.unwrap_or_else(|| p.to_path_buf()).display().to_string()
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// xorshift64*: seeded, so a failure is found again on the next run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0 | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const MAX_LEN: usize = 1 << 16;

/// One corpus input with one to eight edits; now and then pure noise.
fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if rng.below(32) == 0 {
        let n = rng.below(512);
        return (0..n).map(|_| rng.next() as u8).collect();
    }
    let mut v = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(11) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            2 => v.insert(at, rng.next() as u8),
            3 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            4..=6 => {
                let t = DICT[rng.below(DICT.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            7 => {
                // Splice in a piece of another input.
                let o = &corpus[rng.below(corpus.len())];
                let s = rng.below(o.len() + 1);
                let e = (s + rng.below(64)).min(o.len());
                v.splice(at..at, o[s..e].iter().copied());
            }
            8 => {
                // Repeat a piece: long lines, many lines, deep nesting.
                let s = rng.below(v.len() + 1);
                let e = (s + 1 + rng.below(32)).min(v.len());
                let piece = v[s..e].to_vec();
                for _ in 0..rng.below(300) {
                    v.splice(at..at, piece.iter().copied());
                    if v.len() > MAX_LEN {
                        break;
                    }
                }
            }
            9 => {
                // A decimal number somewhere, often huge.
                let n = match rng.below(3) {
                    0 => rng.next(),
                    1 => rng.next() % 5000,
                    _ => u64::MAX - rng.below(3) as u64,
                };
                v.splice(at..at, n.to_string().into_bytes());
            }
            _ => v.truncate(at),
        }
        v.truncate(MAX_LEN);
    }
    v
}
