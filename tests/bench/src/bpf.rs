//! A classic-BPF interpreter over `seccomp_data` that counts executed
//! instructions, and readers for the two programs it compares: libseccomp's
//! raw export and the listing `vigil compile` prints.

pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct seccomp_data`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Data {
    pub nr: i32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl Data {
    pub fn x86_64(nr: i32, args: [u64; 6]) -> Data {
        Data {
            nr,
            arch: AUDIT_ARCH_X86_64,
            ip: 0,
            args,
        }
    }

    fn word(&self, off: u32) -> Option<u32> {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&self.ip.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        let o = off as usize;
        if !o.is_multiple_of(4) || o + 4 > 64 {
            return None;
        }
        Some(u32::from_ne_bytes(b[o..o + 4].try_into().unwrap()))
    }
}

/// The return value and the number of instructions executed.
pub fn run(prog: &[Insn], d: &Data) -> Result<(u32, usize), String> {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    let mut count = 0;
    loop {
        let i = *prog.get(pc).ok_or(format!("pc {pc} out of the program"))?;
        count += 1;
        pc += 1;
        let src = if i.code & 0x08 != 0 { x } else { i.k };
        match i.code & 0x07 {
            0x00 | 0x01 => {
                // LD / LDX
                let v = match i.code & 0xe0 {
                    0x00 => i.k,                                             // IMM
                    0x20 => d.word(i.k).ok_or(format!("bad load {}", i.k))?, // ABS
                    0x60 => mem[i.k as usize & 15],                          // MEM
                    0x80 => 64,                                              // LEN
                    m => return Err(format!("load mode {m:#x}")),
                };
                if i.code & 0x07 == 0 {
                    a = v
                } else {
                    x = v
                }
            }
            0x02 => mem[i.k as usize & 15] = a,
            0x03 => mem[i.k as usize & 15] = x,
            0x04 => {
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 => a.checked_div(src).ok_or("div by 0")?,
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(src).ok_or("mod by 0")?,
                    0xa0 => a ^ src,
                    op => return Err(format!("alu op {op:#x}")),
                }
            }
            0x05 => {
                let op = i.code & 0xf0;
                if op == 0x00 {
                    pc += i.k as usize;
                } else {
                    let t = match op {
                        0x10 => a == src,
                        0x20 => a > src,
                        0x30 => a >= src,
                        0x40 => a & src != 0,
                        _ => return Err(format!("jump op {op:#x}")),
                    };
                    pc += if t { i.jt } else { i.jf } as usize;
                }
            }
            0x06 => {
                let v = match i.code & 0x18 {
                    0x10 => a,
                    _ => i.k,
                };
                return Ok((v, count));
            }
            _ => match i.code {
                0x07 => x = a,
                0x87 => a = x,
                c => return Err(format!("misc op {c:#x}")),
            },
        }
    }
}

/// `struct sock_filter` array, native endian, as `seccomp_export_bpf` writes.
pub fn from_raw(bytes: &[u8]) -> Vec<Insn> {
    bytes
        .chunks_exact(8)
        .map(|c| Insn {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

/// The program behind `vigil compile`'s listing (`  12: jeq #59 (execve)
/// jt 13 jf 14`). Jump targets there are absolute.
pub fn from_listing(text: &str) -> Result<Vec<Insn>, String> {
    let mut prog = Vec::new();
    for line in text.lines() {
        let Some((pc, rest)) = line.trim_start().split_once(": ") else {
            continue;
        };
        let Ok(pc) = pc.parse::<usize>() else {
            continue;
        };
        if pc != prog.len() {
            return Err(format!("listing: instruction {pc} out of order"));
        }
        prog.push(parse_insn(pc, rest).map_err(|e| format!("listing line `{line}`: {e}"))?);
    }
    if prog.is_empty() {
        return Err("listing: no instructions".into());
    }
    Ok(prog)
}

fn num(s: &str) -> Result<u32, String> {
    let s = s.trim_start_matches('#');
    let r = match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("bad number `{s}`"))
}

fn bracket(s: &str) -> Result<u32, String> {
    let inner = s
        .split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .ok_or("no [k]")?
        .0;
    num(inner)
}

fn parse_insn(pc: usize, s: &str) -> Result<Insn, String> {
    let mut w = s.split_whitespace();
    let op = w.next().ok_or("empty")?;
    let arg = w.next().unwrap_or("");
    let ins = |code: u16, k: u32| Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let rel = |target: u32| -> Result<u8, String> {
        (target as usize)
            .checked_sub(pc + 1)
            .and_then(|d| u8::try_from(d).ok())
            .ok_or(format!("jump target {target} unreachable"))
    };
    Ok(match op {
        "ld" if arg.starts_with('[') => ins(0x20, bracket(arg)?),
        "ld" if arg == "len" => ins(0x80, 0),
        "ldx" if arg == "len" => ins(0x81, 0),
        "ld" if arg.starts_with('#') => ins(0x00, num(arg)?),
        "ldx" if arg.starts_with('#') => ins(0x01, num(arg)?),
        "ld" => ins(0x60, bracket(arg)?),
        "ldx" => ins(0x61, bracket(arg)?),
        "st" => ins(0x02, bracket(arg)?),
        "stx" => ins(0x03, bracket(arg)?),
        "tax" => ins(0x07, 0),
        "txa" => ins(0x87, 0),
        "ja" => {
            let t = num(arg)?;
            ins(
                0x05,
                (t as usize).checked_sub(pc + 1).ok_or("ja backwards")? as u32,
            )
        }
        "jeq" | "jgt" | "jge" | "jset" => {
            let base = match op {
                "jeq" => 0x15,
                "jgt" => 0x25,
                "jge" => 0x35,
                _ => 0x45,
            };
            let toks: Vec<&str> = s.split_whitespace().collect();
            let find = |key: &str| -> Result<u32, String> {
                let i = toks
                    .iter()
                    .position(|t| *t == key)
                    .ok_or(format!("no {key}"))?;
                num(toks.get(i + 1).ok_or(format!("no {key} target"))?)
            };
            let (jt, jf) = (rel(find("jt")?)?, rel(find("jf")?)?);
            let (code, k) = if arg == "x" {
                (base | 0x08, 0)
            } else {
                (base, num(arg)?)
            };
            Insn { code, jt, jf, k }
        }
        "add" | "sub" | "mul" | "div" | "or" | "and" | "lsh" | "rsh" | "neg" | "mod" | "xor" => {
            let ops = [
                "add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "neg", "mod", "xor",
            ];
            let n = ops.iter().position(|o| *o == op).unwrap() as u16;
            match arg {
                "x" => ins(0x04 | (n << 4) | 0x08, 0),
                "" => ins(0x04 | (n << 4), 0),
                a => ins(0x04 | (n << 4), num(a)?),
            }
        }
        "ret" if arg == "a" => ins(0x16, 0),
        "ret" => ins(0x06, ret_value(arg)?),
        ".insn" => {
            let field = |key: &str| -> Result<u32, String> {
                let t = s
                    .split_whitespace()
                    .find_map(|t| t.strip_prefix(key))
                    .ok_or(format!("no {key}"))?;
                num(t)
            };
            Insn {
                code: field("code=")? as u16,
                jt: field("jt=")? as u8,
                jf: field("jf=")? as u8,
                k: field("k=")?,
            }
        }
        _ => return Err(format!("unknown op `{op}`")),
    })
}

/// `ALLOW`, `ERRNO(1)`, `USER_NOTIF`, `TRAP(5)`, `0x7fff0000`.
fn ret_value(s: &str) -> Result<u32, String> {
    let (name, data) = match s.split_once('(') {
        Some((n, d)) => (n, num(d.trim_end_matches(')'))?),
        None => (s, 0),
    };
    let action = match name {
        "KILL_PROCESS" => 0x8000_0000,
        "KILL_THREAD" => 0,
        "TRAP" => 0x0003_0000,
        "ERRNO" => 0x0005_0000,
        "USER_NOTIF" => 0x7fc0_0000,
        "TRACE" => 0x7ff0_0000,
        "LOG" => 0x7ffc_0000,
        "ALLOW" => 0x7fff_0000,
        other => return num(other),
    };
    Ok(action | (data & 0xffff))
}

/// A readable name for a seccomp return value.
pub fn action_name(v: u32) -> String {
    match v & 0xffff_0000 {
        0x8000_0000 => "kill".into(),
        0 => "kill-thread".into(),
        0x0003_0000 => "trap".into(),
        0x0005_0000 => format!("errno {}", v & 0xffff),
        0x7fc0_0000 => "notify".into(),
        0x7ff0_0000 => "trace".into(),
        0x7ffc_0000 => "log".into(),
        0x7fff_0000 => "allow".into(),
        _ => format!("{v:#x}"),
    }
}
