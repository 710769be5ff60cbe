//! Tests of the compiler against `Policy::verdict`, through the interpreter,
//! the kernel's action-cache logic and the kernel itself.

mod diff;
mod gen;
// libc's fork and a raw seccomp(2) in a test child, each block with its
// SAFETY line.
#[allow(unsafe_code)]
mod kernel;
mod shape;

use super::insn::*;
use super::*;
use crate::arch::Arch;
use crate::out::Sink;
pub use crate::policy::protect::{self, Guards, Protect, GUARDED, MAX_PGRPS, MAX_PIDS};
use crate::policy::{Action, Cmp, Guard, Op, Policy, Rule, Span, SyscallData};
use crate::tables::{AARCH64, X86_64};

pub fn rule(nr: u32, action: Action) -> Rule {
    Rule {
        otherwise: Action::Allow,
        ..Rule::plain(nr, action)
    }
}

/// Add a conditional rule whose condition is `clauses`, each a list of cmps.
pub fn cond_rule(p: &mut Policy, nr: u32, action: Action, otherwise: Action, clauses: &[&[Cmp]]) {
    let start = p.clauses.len() as u16;
    for cl in clauses {
        let s = p.cmps.len() as u16;
        for c in *cl {
            p.cmps.push(*c).unwrap();
        }
        p.clauses
            .push(Span {
                start: s,
                len: cl.len() as u16,
            })
            .unwrap();
    }
    let cond = Some(Span {
        start,
        len: clauses.len() as u16,
    });
    p.rules
        .push(Rule {
            cond,
            otherwise,
            ..rule(nr, action)
        })
        .unwrap();
}

pub fn data(arch: &Arch, nr: u32, args: [u64; 6]) -> SyscallData {
    SyscallData {
        nr: nr as i32,
        arch: arch.audit,
        args,
    }
}

/// The filter's answer, after checking the program is one the kernel takes.
pub fn run(prog: &[Insn], d: &SyscallData) -> u32 {
    interp::check(prog).unwrap();
    interp::run(prog, d).unwrap()
}

struct Text(Vec<u8>);

impl Sink for Text {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

pub fn listing(prog: &[Insn], arch: &Arch) -> String {
    let mut t = Text(Vec::new());
    disasm(prog, arch, &mut t);
    String::from_utf8(t.0).unwrap()
}

#[test]
fn ret_values_round_trip() {
    for r in [
        Ret::Allow,
        Ret::Kill,
        Ret::Log,
        Ret::Trap,
        Ret::Notify,
        Ret::Errno(1),
        Ret::Errno(4095),
    ] {
        assert_eq!(ret_of(ret_value(r)), Some(r));
    }
    assert_eq!(ret_value(Ret::Errno(1)), 0x0005_0001);
    assert_eq!(ret_value(Ret::Kill), 0x8000_0000);
    assert_eq!(ret_of(0x1234_0000), None);
}

#[test]
fn small_policy() {
    let a = &X86_64;
    let mut p = Policy::new();
    p.default = Action::Errno(1);
    let getppid = a.nr("getppid").unwrap();
    let read = a.nr("read").unwrap();
    let write = a.nr("write").unwrap();
    p.rules.push(rule(read, Action::Allow)).unwrap();
    let fd_is_1 = Cmp {
        arg: 0,
        op: Op::Eq,
        value: 1,
    };
    let stderr = Cmp {
        arg: 0,
        op: Op::Eq,
        value: 2,
    };
    cond_rule(
        &mut p,
        write,
        Action::Allow,
        Action::Errno(9),
        &[&[fd_is_1], &[stderr]],
    );
    p.rules.push(rule(getppid, Action::Errno(42))).unwrap();
    let prog = compile(&p, a, &Protect::none()).unwrap();
    let text = listing(&prog, a);
    assert_eq!(run(&prog, &data(a, read, [0; 6])), RET_ALLOW, "{text}");
    assert_eq!(
        run(&prog, &data(a, write, [1, 0, 0, 0, 0, 0])),
        RET_ALLOW,
        "{text}"
    );
    assert_eq!(
        run(&prog, &data(a, write, [2, 0, 0, 0, 0, 0])),
        RET_ALLOW,
        "{text}"
    );
    assert_eq!(
        run(&prog, &data(a, write, [1 << 32 | 1, 0, 0, 0, 0, 0])),
        RET_ERRNO | 9,
        "{text}"
    );
    assert_eq!(
        run(&prog, &data(a, getppid, [0; 6])),
        RET_ERRNO | 42,
        "{text}"
    );
    assert_eq!(run(&prog, &data(a, 59, [0; 6])), RET_USER_NOTIF, "{text}");
    assert_eq!(run(&prog, &data(a, 1000, [0; 6])), RET_ERRNO | 1, "{text}");
    assert_eq!(
        run(&prog, &data(a, 0x4000_0000, [0; 6])),
        RET_KILL_PROCESS,
        "{text}"
    );
    assert_eq!(
        run(
            &prog,
            &SyscallData {
                arch: AARCH64.audit,
                ..data(a, 0, [0; 6])
            }
        ),
        RET_KILL_PROCESS
    );
    assert!(
        text.starts_with(&format!("x86_64 filter: {} instructions\n", prog.len())),
        "{text}"
    );
    assert!(text.contains("   0: ld [4] (arch)\n"), "{text}");
    assert!(text.contains("jeq #0xc000003e (x86_64)"), "{text}");
    assert!(text.contains("jge #0x40000000"), "{text}");
    assert!(text.contains("ld [16] (arg0.lo)"), "{text}");
    assert!(text.contains("ld [20] (arg0.hi)"), "{text}");
    assert!(text.contains("ret ERRNO(42)"), "{text}");
    assert!(text.contains("ret ERRNO(1) EPERM"), "{text}");
    assert!(text.contains("ret USER_NOTIF"), "{text}");
    assert!(
        text.contains("(execve)") || text.contains("(execveat)"),
        "{text}"
    );
    println!("{text}");
}

#[test]
fn empty_policy_kills_all_but_exec() {
    for a in [&X86_64, &AARCH64] {
        let p = Policy::new();
        let prog = compile(&p, a, &Protect::none()).unwrap();
        assert_eq!(run(&prog, &data(a, 0, [0; 6])), RET_KILL_PROCESS);
        assert_eq!(
            run(&prog, &data(a, a.forced_notify[0], [0; 6])),
            RET_USER_NOTIF
        );
        assert_eq!(
            run(&prog, &data(a, a.forced_notify[1], [0; 6])),
            RET_USER_NOTIF
        );
        assert_eq!(run(&prog, &data(a, u32::MAX, [0; 6])), RET_KILL_PROCESS);
    }
}

#[test]
fn interp_rejects_bad_programs() {
    use interp::{check, run as irun, InterpError as E};
    let d = SyscallData::default();
    assert_eq!(irun(&[], &d), Err(E::BadLength));
    assert_eq!(irun(&[load(64)], &d), Err(E::BadLoad(0)));
    assert_eq!(irun(&[load(2)], &d), Err(E::BadLoad(0)));
    assert_eq!(irun(&[load(0)], &d), Err(E::FellOff));
    assert_eq!(irun(&[stmt(JMP | JA, 5), ret(0)], &d), Err(E::BadJump(0)));
    assert_eq!(
        irun(&[jump(JMP | JEQ | K, 0, 3, 0), ret(0)], &d),
        Err(E::BadJump(0))
    );
    assert_eq!(irun(&[stmt(0xff, 0), ret(0)], &d), Err(E::BadInsn(0)));
    assert_eq!(
        irun(&[stmt(ALU | DIV | K, 0), ret(0)], &d),
        Err(E::BadInsn(0))
    );
    assert_eq!(irun(&[stmt(LD | MEM, 3), ret(0)], &d), Err(E::Uninit(0)));
    assert_eq!(
        check(&[jump(JMP | JEQ | K, 0, 0, 1), ret(0)]),
        Err(E::BadJump(0))
    );
    assert_eq!(check(&[load(0)]), Err(E::FellOff));
}

#[test]
fn interp_runs_the_whole_instruction_set() {
    let d = SyscallData {
        nr: 7,
        arch: 9,
        args: [0x1_0000_0003, 0, 0, 0, 0, 0],
    };
    let prog = [
        load(OFF_NR),           // A = 7
        stmt(ALU | ADD | K, 5), // 12
        stmt(ST, 0),            // M[0] = 12
        stmt(LDX | IMM, 3),     // X = 3
        stmt(ALU | MUL | X, 0), // 36
        stmt(ALU | SUB | K, 6), // 30
        stmt(ALU | DIV | K, 4), // 7
        stmt(ALU | MOD | X, 0), // 1
        stmt(ALU | LSH | K, 4), // 16
        stmt(ALU | OR | K, 1),  // 17
        stmt(ALU | XOR | K, 3), // 18
        stmt(ALU | RSH | K, 1), // 9
        stmt(MISC | TAX, 0),    // X = 9
        load(OFF_ARCH),         // A = 9
        jump(JMP | JEQ | X, 0, 0, 8),
        stmt(LD | MEM, 0),       // 12
        stmt(ALU | NEG, 0),      // -12
        stmt(ALU | ADD | K, 12), // 0
        jump(JMP | JSET | K, 1, 5, 0),
        load(off_arg(0, true)), // 1
        stmt(STX, 1),
        stmt(LDX | MEM, 1),
        stmt(MISC | TXA, 0),
        jump(JMP | JGE | K, 1, 1, 0),
        ret(0xdead),
        stmt(LD | W | LEN, 0), // 64
        stmt(RET | A, 0),
    ];
    assert_eq!(interp::run(&prog, &d), Ok(64));
    assert!(listing(&prog, &X86_64).contains("ld len"));
}
