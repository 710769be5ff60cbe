//! Golden filters: the BPF programs vigil compiles for every policy file of
//! the repository (`policy/`, `tests/`) and for the bench's realistic
//! 117-rule policy, on both arches, compared instruction by instruction
//! with the copies committed under `tests/golden/`. A refactor that
//! changes one instruction of one program fails here; a change meant to
//! alter programs shows, in its diff of `tests/golden/`, what it altered.
//!
//! To regenerate the copies after a change that is meant to alter them:
//!
//! ```sh
//! VIGIL_BLESS=1 cargo test --test golden
//! ```
//!
//! and read the diff before committing it.
//!
//! Each program is compiled in the two contexts vigil compiles in: as PID 1
//! (`vigil compile`, services), and as `vigil run` with a worker, whose
//! pids, process group and uid are fixed here so that the copies do not
//! depend on the machine. A policy that does not parse for an arch has its
//! error messages as its copy instead (`tests/qemu/bad.policy`, or the
//! x86_64 names of the bench's policy on aarch64).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vigil::arch::Arch;
use vigil::bpf;
use vigil::out::Sink;
use vigil::policy::{self, protect::Protect};
use vigil::tables::{AARCH64, X86_64};

// The bench's rule tables: the one source of its vigil policy text and of
// its libseccomp rules (the bench has no library target to depend on).
#[allow(dead_code)]
#[path = "bench/src/policy.rs"]
mod bench_policy;

const BLESS: &str = "VIGIL_BLESS";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    root().join("tests/golden")
}

fn blessing() -> bool {
    std::env::var_os(BLESS).is_some_and(|v| !v.is_empty() && v != "0")
}

/// A `Sink` into a `String`, for error messages.
struct Text(String);

impl Sink for Text {
    fn put(&mut self, bytes: &[u8]) {
        self.0.push_str(&String::from_utf8_lossy(bytes));
    }
}

/// The contexts a filter is compiled in, by name.
fn contexts() -> [(&'static str, Protect); 2] {
    let pid1 = Protect::pid1(&[]);
    let mut run = Protect::default();
    run.pids.push(4242).unwrap();
    run.pgrps.push(4000).unwrap();
    run.uid = 1000;
    run.broadcast = true;
    run.add_helper(4243).unwrap();
    [("pid1", pid1), ("run", run)]
}

/// The copy for `text` on `arch`: a header, then per context one line per
/// instruction, `code jt jf k` in hex (`struct sock_filter`, field by
/// field), or the parse errors.
fn render(name: &str, text: &str, arch: &Arch) -> String {
    let mut out = format!("# {name} for {}\n", arch.name);
    let policy = match policy::parse(text, arch) {
        Ok(p) => p,
        Err(errs) => {
            let mut t = Text(String::new());
            errs.render(name, &mut t);
            out += "## does not parse\n";
            out += &t.0;
            return out;
        }
    };
    for (ctx, protect) in contexts() {
        match bpf::compile(&policy, arch, &protect) {
            Ok(prog) => {
                let _ = writeln!(out, "## {ctx}: {} instructions", prog.len());
                for i in &prog {
                    let _ = writeln!(
                        out,
                        "{:#06x} {:#04x} {:#04x} {:#010x}",
                        i.code, i.jt, i.jf, i.k
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(out, "## {ctx}: does not compile: {}", e.describe());
            }
        }
    }
    out
}

/// Every `*.policy` under `dir`, recursively, sorted.
fn policy_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            policy_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "policy") {
            out.push(p);
        }
    }
}

/// The bench's policy with every syscall name marked `?` (skipped where
/// the arch lacks it), so that it compiles on aarch64 too.
fn portable(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once(':') {
            Some((names, rest)) if !line.starts_with('#') && !line.starts_with("default") => {
                let names: Vec<String> = names.split(", ").map(|n| format!("{n}?")).collect();
                out += &names.join(", ");
                out += ":";
                out += rest;
            }
            _ => out += line,
        }
        out += "\n";
    }
    out
}

/// Compare `actual` with the committed copy `file` (or write it when
/// blessing); a mismatch is described, not asserted, so that every copy
/// is checked in one run.
fn check(file: &str, actual: &str, failures: &mut Vec<String>) {
    let path = golden_dir().join(file);
    if blessing() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let Ok(expected) = std::fs::read_to_string(&path) else {
        failures.push(format!("{file}: no committed copy"));
        return;
    };
    if expected == actual {
        return;
    }
    let (e, a): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    let at = (0..e.len().max(a.len()))
        .find(|&i| e.get(i) != a.get(i))
        .unwrap_or(0);
    failures.push(format!(
        "{file}:{}: expected {:?}, compiled {:?} ({} lines committed, {} now)",
        at + 1,
        e.get(at).copied().unwrap_or("<end>"),
        a.get(at).copied().unwrap_or("<end>"),
        e.len(),
        a.len()
    ));
}

#[test]
fn filters_match_their_committed_copies() {
    let mut failures = Vec::new();
    let mut written = Vec::new();

    // The bench's policy, generated as the bench generates it; its text is
    // committed too, so that it can be read and `vigil compile`d by hand.
    let realistic = bench_policy::vigil_text();
    assert_eq!(
        bench_policy::rule_count(),
        117,
        "the bench's policy changed size"
    );
    check("realistic.policy", &realistic, &mut failures);
    let portable = portable(&realistic);
    let mut inputs = vec![
        (
            "realistic".to_string(),
            "realistic.policy".to_string(),
            realistic,
        ),
        (
            "realistic-portable".to_string(),
            "realistic.policy, names marked `?`".to_string(),
            portable,
        ),
    ];

    let mut files = Vec::new();
    policy_files(&root().join("policy"), &mut files);
    policy_files(&root().join("tests"), &mut files);
    for f in files {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        if rel.starts_with("tests/golden/") || rel.starts_with("tests/bench/") {
            continue;
        }
        let stem = rel
            .trim_start_matches("tests/")
            .trim_end_matches(".policy")
            .replace('/', "-");
        let text = std::fs::read_to_string(&f).unwrap();
        inputs.push((stem, rel, text));
    }

    for (stem, name, text) in &inputs {
        for arch in [&X86_64, &AARCH64] {
            let file = format!("{stem}.{}.bpf", arch.name);
            check(&file, &render(name, text, arch), &mut failures);
            written.push(file);
        }
    }

    // A copy no policy produces any more is a stale one.
    for e in std::fs::read_dir(golden_dir()).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        if n.ends_with(".bpf") && !written.contains(&n) {
            if blessing() {
                std::fs::remove_file(golden_dir().join(&n)).unwrap();
            } else {
                failures.push(format!("{n}: no policy compiles to it any more"));
            }
        }
    }

    assert!(
        failures.is_empty(),
        "filters differ from tests/golden/ (if meant, regenerate with {BLESS}=1 cargo test --test golden \
         and review the diff):\n{}",
        failures.join("\n")
    );
}
