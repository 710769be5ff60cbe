//! `vigil-qemu matrix`: the same test on every arch x kernel of
//! `targets/` (or a selection), several VMs at once, then a table of
//! status and time per cell, and a JUnit XML file for CI systems to
//! gather.
//!
//! Each cell is its own `vigil-qemu run` process, its output in a log of
//! its own. vigil is built and each kernel fetched once, one after the
//! other, before any cell starts: parallel builds and fetches would wait
//! on each other's locks, or race in the cache.

use crate::run::{self, Fail};
use crate::targets::{self, Target};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

pub const MATRIX_USAGE: &str =
    "  vigil-qemu matrix [--arch A]... [--kernel [ARCH:]PACKAGE|PATH]... [-j N]
                    [--junit FILE] [--logs DIR] [RUN OPTIONS] -- PROG [ARGS...]
      `run` on every arch x kernel (default: every targets/ARCH and its
      KERNEL_PKGS), N at once (default: the CPU count); `{arch}` in PROG,
      its arguments and --file sources becomes each cell's arch. Prints a
      table of status and time per cell; exit 0 if every cell exited 0,
      1 if one did not, 2 for bad input.
";

struct Cell {
    arch: String,
    kernel: String,
    log: PathBuf,
    status: PathBuf,
    code: Option<i32>,
    class: String,
    what: String,
    secs: f64,
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn tail(p: &PathBuf, n: usize) -> String {
    let t = std::fs::read_to_string(p).unwrap_or_default();
    let lines: Vec<&str> = t.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn cmd(argv: Vec<String>) -> Result<i32, String> {
    let mut arches: Vec<String> = Vec::new();
    let mut kernels: Vec<String> = Vec::new();
    let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut junit: Option<PathBuf> = None;
    let mut logs: Option<PathBuf> = None;
    let mut pass: Vec<String> = Vec::new();
    let mut prog: Vec<String> = Vec::new();
    let mut it = argv.into_iter();
    while let Some(f) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{f} needs a value"));
        match f.as_str() {
            "--" => {
                prog = it.collect();
                break;
            }
            "--arch" => arches.push(val()?),
            "--kernel" => kernels.push(val()?),
            "-j" | "--jobs" => {
                let v = val()?;
                jobs = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("-j wants a positive number, got '{v}'"))?;
            }
            "--junit" => junit = Some(val()?.into()),
            "--logs" => logs = Some(val()?.into()),
            "-v" | "--verbose" | "--keep" => pass.push(f),
            _ if f.starts_with('-') => {
                let v = val()?;
                pass.extend([f, v]);
            }
            _ => {
                prog = std::iter::once(f).chain(it).collect();
                break;
            }
        }
    }
    if prog.is_empty() {
        eprintln!("vigil-qemu: matrix: no program given");
        return Ok(2);
    }
    // The run options are checked once, here, as `run` would.
    let mut check = pass.clone();
    check.push("--".into());
    check.extend(prog.iter().cloned());
    if let Err(e) = run::parse_args(check) {
        eprintln!("vigil-qemu: matrix: {e}");
        return Ok(2);
    }
    if arches.is_empty() {
        let dir = targets::targets_dir()?;
        let mut all: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        all.sort();
        arches = all;
    }
    let root = targets::targets_dir()?
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let logdir = match &logs {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("vigil-matrix.{}", std::process::id())),
    };
    std::fs::create_dir_all(&logdir).map_err(|e| format!("{}: {e}", logdir.display()))?;

    // Cells, with vigil built and the kernels fetched, one at a time.
    let mut cells: Vec<(Cell, Vec<String>)> = Vec::new();
    for arch in &arches {
        let t = Target::load(arch)?;
        let mine: Vec<String> = if kernels.is_empty() {
            t.get("KERNEL_PKGS")?
                .split_whitespace()
                .map(String::from)
                .collect()
        } else {
            kernels
                .iter()
                .filter_map(|k| match k.split_once(':') {
                    Some((a, k)) if !k.starts_with('/') || a == arch => {
                        (a == arch).then(|| k.to_string())
                    }
                    _ => Some(k.clone()),
                })
                .collect()
        };
        let sub = |s: &str| s.replace("{arch}", arch);
        let vigil = match run::vigil_for(&root, &t) {
            Ok(v) => v,
            Err(Fail::Input(e) | Fail::Rig(e)) => {
                eprintln!("vigil-qemu: matrix: {arch}: {e}");
                return Ok(2);
            }
        };
        for k in mine {
            let name = match run::resolve_kernel(&root, arch, &t, Some(&k)) {
                Ok(kern) => kern.name,
                Err(f) => {
                    eprintln!("vigil-qemu: matrix: {arch} {k}: {}", f.message());
                    return Ok(2);
                }
            };
            let slug = format!("{arch}-{name}").replace('/', "_");
            let mut a = vec!["run".to_string(), "--arch".into(), arch.clone()];
            a.extend(["--kernel".into(), k.clone()]);
            a.extend(["--vigil".into(), vigil.to_string_lossy().into_owned()]);
            let status = logdir.join(format!("{slug}.status"));
            a.extend([
                "--status-file".into(),
                status.to_string_lossy().into_owned(),
            ]);
            a.extend(pass.iter().map(|p| sub(p)));
            a.push("--".into());
            a.extend(prog.iter().map(|p| sub(p)));
            cells.push((
                Cell {
                    arch: arch.clone(),
                    kernel: name,
                    log: logdir.join(format!("{slug}.log")),
                    status,
                    code: None,
                    class: String::new(),
                    what: String::new(),
                    secs: 0.0,
                },
                a,
            ));
        }
    }

    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let mut next = 0;
    let mut running: Vec<(usize, std::process::Child, Instant)> = Vec::new();
    while next < cells.len() || !running.is_empty() {
        while running.len() < jobs && next < cells.len() {
            let (c, a) = &cells[next];
            let log =
                std::fs::File::create(&c.log).map_err(|e| format!("{}: {e}", c.log.display()))?;
            let err = log.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new(&me)
                .args(a)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", me.display()))?;
            running.push((next, child, Instant::now()));
            next += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut i = 0;
        while i < running.len() {
            if let Ok(Some(st)) = running[i].1.try_wait() {
                let (idx, _, started) = running.remove(i);
                let c = &mut cells[idx].0;
                c.secs = started.elapsed().as_secs_f64();
                c.code = st.code();
                let s = std::fs::read_to_string(&c.status).unwrap_or_default();
                let mut parts = s.trim().splitn(3, ' ');
                let (_, class, what) = (parts.next(), parts.next(), parts.next());
                c.class = class.unwrap_or("no-status").into();
                c.what = what.unwrap_or("").into();
                eprintln!(
                    "vigil-qemu: matrix: {} {}: exit {} ({}) in {:.1}s",
                    c.arch,
                    c.kernel,
                    c.code.map_or("?".into(), |n| n.to_string()),
                    c.class,
                    c.secs
                );
            } else {
                i += 1;
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();

    let cells: Vec<Cell> = cells.into_iter().map(|(c, _)| c).collect();
    let kw = cells
        .iter()
        .map(|c| c.kernel.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!(
        "{:<8} {:<kw$} {:>6} {:<12} {:>8}",
        "arch", "kernel", "status", "class", "time"
    );
    for c in &cells {
        println!(
            "{:<8} {:<kw$} {:>6} {:<12} {:>7.1}s",
            c.arch,
            c.kernel,
            c.code.map_or("?".into(), |n| n.to_string()),
            c.class,
            c.secs
        );
    }
    let failed: Vec<&Cell> = cells.iter().filter(|c| c.code != Some(0)).collect();
    println!(
        "{} cells, {} passed, {} failed, {wall:.1}s wall clock with -j {jobs}",
        cells.len(),
        cells.len() - failed.len(),
        failed.len()
    );
    for c in &failed {
        println!(
            "--- {} {} ({}): last lines of {}",
            c.arch,
            c.kernel,
            c.what,
            c.log.display()
        );
        for l in tail(&c.log, 15).lines() {
            println!("    | {l}");
        }
    }
    if let Some(j) = &junit {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str(&format!(
            "<testsuites><testsuite name=\"vigil-qemu matrix\" tests=\"{}\" failures=\"{}\" time=\"{wall:.3}\">\n",
            cells.len(),
            failed.len()
        ));
        for c in &cells {
            x.push_str(&format!(
                "  <testcase classname=\"vigil-qemu.{}\" name=\"{} {}\" time=\"{:.3}\">",
                xml(&c.arch),
                xml(&c.arch),
                xml(&c.kernel),
                c.secs
            ));
            if c.code != Some(0) {
                x.push_str(&format!(
                    "\n    <failure message=\"exit {} ({}): {}\" type=\"{}\"/>",
                    c.code.map_or("?".into(), |n| n.to_string()),
                    xml(&c.class),
                    xml(&c.what),
                    xml(&c.class)
                ));
            }
            x.push_str(&format!(
                "\n    <system-out>{}</system-out>\n  </testcase>\n",
                xml(&tail(&c.log, 200))
            ));
        }
        x.push_str("</testsuite></testsuites>\n");
        std::fs::write(j, x).map_err(|e| format!("{}: {e}", j.display()))?;
    }
    if logs.is_none() && failed.is_empty() {
        let _ = std::fs::remove_dir_all(&logdir);
    }
    Ok(if failed.is_empty() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_escapes() {
        assert_eq!(super::xml("a<b>&\"c\"\x07"), "a&lt;b&gt;&amp;&quot;c&quot;");
    }
}
