//! Build script, with the language core (`vigil-core`) as a build
//! dependency (its own build script makes the per-arch tables):
//! 1. embeds the default policy and refuses to build if it does not parse
//!    and compile for both arches, printing the policy's `file:line:col`;
//! 2. embeds the boot config and refuses to build if it, or a policy in it,
//!    is invalid for the target arch, printing the config's `file:line:col`.

use std::env;
use std::fs;
use std::path::PathBuf;

use vigil_core::tables::{AARCH64, X86_64};
use vigil_core::{bpf, config, out, policy};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=build.rs");

    // A host (glibc target) build of the binary, which `cargo test` makes:
    // link it like the musl one, without C start files or libc.
    if env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu") {
        for arg in ["-nostartfiles", "-nostdlib", "-static"] {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }

    // vigil never unwinds (panic = "abort"), yet LTO leaves every function
    // with an .eh_frame entry: core's bitcode asks for unwind tables, and
    // then the module's debug-info CFI goes there too, which stable
    // `-C force-unwind-tables=no` cannot stop. Have the linker drop it
    // (6 KB); INSERT keeps rust-lld's default layout for everything else.
    if env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        let script = out_dir.join("no-eh-frame.ld");
        fs::write(
            &script,
            "SECTIONS {\n  /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) }\n}\nINSERT AFTER .text;\n",
        )
        .unwrap();
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    }

    // The embedded default policy.
    println!("cargo:rerun-if-env-changed=VIGIL_POLICY");
    let policy_path = match env::var("VIGIL_POLICY") {
        Ok(p) if !p.is_empty() => root.join(p),
        _ => root.join("policy/default.policy"),
    };
    println!("cargo:rerun-if-changed={}", policy_path.display());
    let text = fs::read_to_string(&policy_path).unwrap_or_else(|e| {
        fail(&format!(
            "{}: cannot read the default policy: {e}",
            policy_path.display()
        ))
    });
    let shown = policy_path
        .strip_prefix(&root)
        .unwrap_or(&policy_path)
        .display()
        .to_string();
    for a in [&X86_64, &AARCH64] {
        let name = a.name;
        match policy::parse(&text, a) {
            Err(errs) => {
                let mut msg = out::Buf::<8192>::new();
                errs.render(&shown, &mut msg);
                fail(&format!(
                    "the default policy is invalid for {name}:\n{}",
                    msg.as_str()
                ));
            }
            Ok(p) => {
                if let Err(e) = bpf::compile(&p, a, &policy::protect::Protect::pid1(&[])) {
                    fail(&format!(
                        "{shown}: the default policy does not compile for {name}: {e:?}"
                    ));
                }
            }
        }
    }
    // Embedded like the config below: comments out, every line kept.
    let embedded = minify(&text);
    let arch = &X86_64;
    let same = match (policy::parse(&text, arch), policy::parse(&embedded, arch)) {
        (Ok(a), Ok(b)) => {
            bpf::compile(&a, arch, &policy::protect::Protect::pid1(&[])).ok()
                == bpf::compile(&b, arch, &policy::protect::Protect::pid1(&[])).ok()
        }
        _ => false,
    };
    if !same {
        fail(&format!(
            "{shown}: the policy does not survive minifying (a build.rs bug)"
        ));
    }
    let embedded_path = out_dir.join("default.policy");
    fs::write(&embedded_path, embedded).unwrap();
    println!(
        "cargo:rustc-env=VIGIL_POLICY_FILE={}",
        embedded_path.display()
    );

    // The embedded boot config. Its policies may name syscalls only one
    // arch has (`mkdir` is x86_64's), so it is checked for the arch it is
    // built for; for any other target, for both.
    println!("cargo:rerun-if-env-changed=VIGIL_CONFIG");
    let config_path = match env::var("VIGIL_CONFIG") {
        Ok(p) if !p.is_empty() => root.join(p),
        _ => root.join("src/defaults/vigil.conf"),
    };
    println!("cargo:rerun-if-changed={}", config_path.display());
    let text = fs::read_to_string(&config_path).unwrap_or_else(|e| {
        fail(&format!(
            "{}: cannot read the config: {e}",
            config_path.display()
        ))
    });
    let shown = config_path
        .strip_prefix(&root)
        .unwrap_or(&config_path)
        .display()
        .to_string();
    let cfg = config::parse(&text).unwrap_or_else(|errs| {
        let mut msg = out::Buf::<8192>::new();
        errs.render(&shown, &mut msg);
        fail(&format!(
            "the embedded config is invalid:\n{}",
            msg.as_str()
        ))
    });
    let target = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    for a in [&X86_64, &AARCH64] {
        let name = a.name;
        if (target == "x86_64" || target == "aarch64") && target != name {
            continue;
        }
        let mut errs = config::ConfigErrors::new();
        config::check_policies(&cfg, a, &mut errs);
        if !errs.is_empty() {
            let mut msg = out::Buf::<8192>::new();
            errs.render(&shown, &mut msg);
            fail(&format!(
                "a policy of the embedded config is invalid for {name}:\n{}",
                msg.as_str()
            ));
        }
    }
    // Embed the config without its comments and indentation (2 KB of the
    // binary): every line stays, so line numbers are the file's. Both
    // languages treat a line whose first word starts with `#` as empty
    // and ignore leading blanks; the result must parse the same.
    let embedded = minify(&text);
    let same = config::parse(&embedded).is_ok_and(|c| {
        c.services.len() == cfg.services.len() && c.policies.len() == cfg.policies.len()
    });
    if !same {
        fail(&format!(
            "{shown}: the config does not survive minifying (a build.rs bug)"
        ));
    }
    let embedded_path = out_dir.join("vigil.conf");
    fs::write(&embedded_path, embedded).unwrap();
    println!(
        "cargo:rustc-env=VIGIL_CONFIG_FILE={}",
        embedded_path.display()
    );
}

/// `text` with comment lines emptied and each line's leading blanks gone.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let code = line.trim_start_matches([' ', '\t']);
        if !code.starts_with('#') {
            out.push_str(code);
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn fail(msg: &str) -> ! {
    // cargo shows a build script's stderr when it fails.
    eprintln!("{msg}");
    for line in msg.lines() {
        println!("cargo:warning={line}");
    }
    std::process::exit(1);
}
