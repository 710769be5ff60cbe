//! `vigil check FILE` and `vigil compile FILE`: a policy's errors like a
//! compiler's, or its filter as readable disassembly.

use super::{explain, load_policy, Fd, EXIT_USAGE};
use crate::bpf;
use crate::input::text;
use crate::out::{Buf, Sink};
use crate::policy::protect::{self, Guards, Protect};
use crate::sys::{self, Args};
use crate::tables;

pub fn main(args: &Args, compile: bool) -> i32 {
    let mut file = None;
    let mut arch = tables::native();
    let mut i = 2;
    while let Some(a) = args.get(i) {
        match a {
            b"--arch" => match args.get(i + 1).and_then(|n| tables::by_name(text(n))) {
                Some(found) => {
                    arch = found;
                    i += 1;
                }
                None => return usage("--arch takes x86_64 or aarch64"),
            },
            _ if file.is_none() => file = Some(a),
            _ => return usage("one policy file at a time"),
        }
        i += 1;
    }
    let Some(file) = file else {
        return usage("no policy file given");
    };
    let Some((policy, name)) = load_policy(Some(file), arch) else {
        return EXIT_USAGE;
    };
    let mut prog = bpf::Program::new();
    // As PID 1 protects itself; `vigil run` puts its own pid in place of 1.
    let protect = Protect::pid1(&[]);
    if let Err(e) = bpf::compile_into(policy, arch, &protect, &mut prog) {
        let mut out = Buf::<256>::new();
        out.s(name)
            .s(": error: the policy does not compile for ")
            .s(arch.name)
            .s(": ");
        out.s(e.describe()).s("\n");
        let _ = sys::write_all(sys::fd::stderr(), out.as_bytes());
        return EXIT_USAGE;
    }
    let mut guards = Guards::default();
    protect::guards(policy, arch, &protect, &mut guards);
    if compile {
        let mut out = Fd::new(sys::fd::stdout());
        explain::notes(policy, arch, &guards, explain::Style::Listing, &mut out);
        bpf::disasm(&prog, arch, &mut out);
    } else {
        let mut err = Fd::new(sys::fd::stderr());
        explain::notes(policy, arch, &guards, explain::Style::Check(name), &mut err);
        explain::warnings(policy, arch, name, &mut err);
        drop(err);
        let mut out = Buf::<256>::new();
        out.s(name)
            .s(": ok for ")
            .s(arch.name)
            .s(" (")
            .u(policy.rules.len() as u64)
            .s(" rules, ");
        out.u(prog.len() as u64).s(" BPF instructions)\n");
        let _ = sys::write_all(sys::fd::stderr(), out.as_bytes());
    }
    0
}

fn usage(msg: &str) -> i32 {
    let mut b = Buf::<256>::new();
    b.s("vigil: ").s(msg).s("\n");
    let _ = sys::write_all(sys::fd::stderr(), b.as_bytes());
    EXIT_USAGE
}
