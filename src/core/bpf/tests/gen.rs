//! Random policies and syscalls, from a seeded xorshift generator.

use super::*;

pub struct Rng(u64);

/// `arch`'s syscall numbers in name order, collected once: the tests draw
/// from them often.
fn syscall_nrs(arch: &Arch) -> &'static [u32] {
    use std::sync::Mutex;
    static CACHE: Mutex<Vec<(u32, &'static [u32])>> = Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap();
    if let Some(&(_, nrs)) = cache.iter().find(|(audit, _)| *audit == arch.audit) {
        return nrs;
    }
    let nrs: &'static [u32] = Vec::leak(arch.syscalls().map(|(_, nr)| nr).collect());
    cache.push((arch.audit, nrs));
    nrs
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A value near the places 64-bit comparisons on 32-bit halves get wrong.
    pub fn value(&mut self) -> u64 {
        let r = self.next();
        match self.below(12) {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            3 => u64::MAX - 1,
            4 => 0xffff_ffff,
            5 => 0x1_0000_0000,
            6 => 0x1_0000_0001,
            7 => 0x7fff_ffff,
            8 => r & 0xff,
            9 => r << 32,
            10 => r & 0xffff_ffff,
            _ => r,
        }
    }

    pub fn mask(&mut self) -> u64 {
        let r = self.next();
        self.pick(&[
            0,
            0xff,
            0xffff_ffff,
            0xffff_ffff_0000_0000,
            u64::MAX,
            1 << (r % 64),
            r,
            r & 0xf0f0,
            r | 0xff,
        ])
    }

    pub fn action(&mut self) -> Action {
        match self.below(7) {
            0 => Action::Allow,
            1 => Action::Kill,
            2 => Action::Log,
            3 => Action::Trap,
            4 => Action::Notify(self.below(4) as u16),
            5 => Action::Errno(1 + self.below(4095) as u16),
            _ => Action::Errno(self.pick(&[1, 13, 38, 4095])),
        }
    }

    pub fn cmp(&mut self) -> Cmp {
        let arg = self.below(6) as u8;
        let mut value = self.value();
        let op = match self.below(7) {
            0 => Op::Eq,
            1 => Op::Ne,
            2 => Op::Lt,
            3 => Op::Le,
            4 => Op::Gt,
            5 => Op::Ge,
            _ => {
                let m = self.mask();
                if self.chance(80) {
                    value &= m;
                }
                Op::MaskedEq(m)
            }
        };
        Cmp { arg, op, value }
    }

    /// A condition of 1-3 clauses of 1-3 comparisons, if the pools have room.
    /// Push one clause of `m` random comparisons (the caller checked room).
    pub fn clause(&mut self, p: &mut Policy, m: usize) {
        let start = p.cmps.len() as u16;
        for _ in 0..m {
            let c = self.cmp();
            p.cmps.push(c).unwrap();
        }
        p.clauses
            .push(Span {
                start,
                len: m as u16,
            })
            .unwrap();
    }

    pub fn cond(&mut self, p: &mut Policy) -> Option<Span> {
        let n = 1 + self.below(3);
        if p.clauses.len() + n > p.clauses.capacity() || p.cmps.len() + 3 * n > p.cmps.capacity() {
            return None;
        }
        let start = p.clauses.len() as u16;
        for _ in 0..n {
            let m = 1 + self.below(3);
            self.clause(p, m);
        }
        Some(Span {
            start,
            len: n as u16,
        })
    }

    /// A policy naming `n` random syscalls of `arch`, `cond_percent` of them
    /// with a condition.
    pub fn policy(&mut self, arch: &Arch, n: usize, cond_percent: usize) -> Policy<'static> {
        let mut p = Policy::new();
        p.default = self.action();
        let mut nrs: Vec<u32> = (0..n).map(|_| self.pick(syscall_nrs(arch))).collect();
        nrs.sort_unstable();
        nrs.dedup();
        for nr in nrs {
            let mut r = rule(nr, self.action());
            if self.chance(cond_percent) {
                r.cond = self.cond(&mut p);
                r.otherwise = self.action();
            }
            // A guard, as `harden` adds them.
            if self.chance(cond_percent / 4) && !p.guards.is_full() {
                if let Some(cond) = self.cond(&mut p) {
                    let errno = self.pick(&[1, 38, 4095]);
                    let g = Guard {
                        nr,
                        cond,
                        errno,
                        why: 0,
                    };
                    p.guards.push(g).unwrap();
                }
            }
            p.rules.push(r).unwrap();
        }
        p
    }

    /// Who a filter protects, at random: pids, groups, uid, or nothing.
    pub fn protect(&mut self) -> Protect {
        if self.chance(10) {
            return Protect::none();
        }
        let mut pr = Protect::default();
        for _ in 0..1 + self.below(MAX_PIDS) {
            let _ = pr
                .pids
                .push(self.pick(&[1, 2, 4242, 0x7fff_ffff, u32::MAX - 5]));
        }
        for _ in 0..self.below(MAX_PGRPS + 1) {
            let _ = pr.pgrps.push(self.pick(&[1, 300, 4242]));
        }
        pr.uid = self.pick(&[0, 1000]);
        pr.broadcast = self.chance(50);
        pr
    }

    /// A syscall the guards of `pr` are about, with arguments at their
    /// edges (protected pids, their negatives, high bits set, commands).
    pub fn guarded_syscall(&mut self, arch: &Arch, pr: &Protect) -> SyscallData {
        let names: Vec<&str> = GUARDED.split(' ').collect();
        let nr = arch.nr(self.pick(&names)).unwrap_or(0);
        let mut values: Vec<u64> = vec![0, 1, 2, 3, 8, 15, 0x8901, 0x8902, u32::MAX as u64];
        for &v in pr.pids.iter().chain(&pr.pgrps) {
            values.extend([v as u64, v.wrapping_neg() as u64, (v as i32) as i64 as u64]);
        }
        values.push(pr.uid as u64);
        let mut args = [0u64; 6];
        for a in &mut args {
            let v = if self.chance(80) {
                self.pick(&values)
            } else {
                self.value()
            };
            *a = match self.below(6) {
                0 => v | 1 << 32,
                1 => v | 0xffff_ffff_0000_0000,
                2 => v.wrapping_add(1),
                _ => v,
            };
        }
        SyscallData {
            nr: nr as i32,
            arch: arch.audit,
            args,
        }
    }

    /// A syscall aimed at `p`'s rules and the edges of their comparisons.
    pub fn syscall(&mut self, arch: &Arch, p: &Policy) -> SyscallData {
        let nr = match self.below(20) {
            0..=11 if !p.rules.is_empty() => p.rules[self.below(p.rules.len())].nr,
            12..=14 => self.pick(syscall_nrs(arch)),
            15 => self.pick(&arch.forced_notify),
            16 => self.next() as u32,
            17 => (self.below(600) as u32) | arch.x32_bit,
            18 => self.pick(&[u32::MAX, 0, 0x8000_0000, 0x3fff_ffff, 1000, 512]),
            _ => self.below(1024) as u32,
        };
        let mut args = [0u64; 6];
        for a in args.iter_mut() {
            *a = self.value();
        }
        if let Some(cond) = p.rule(nr).and_then(|r| r.cond) {
            for cl in &p.clauses[cond.range()] {
                for c in &p.cmps[cl.range()] {
                    if self.chance(60) {
                        let v = match c.op {
                            Op::MaskedEq(m) if self.chance(50) => c.value | (self.next() & !m),
                            _ => c.value,
                        };
                        args[c.arg as usize] = match self.below(5) {
                            0 => v.wrapping_add(1),
                            1 => v.wrapping_sub(1),
                            2 => v ^ (1 << 32),
                            _ => v,
                        };
                    }
                }
            }
        }
        let audit = match self.below(40) {
            0 => self.pick(&[X86_64.audit, AARCH64.audit, 0x4000_0003, 0]),
            1 => arch.audit ^ (1 << self.below(32)),
            _ => arch.audit,
        };
        SyscallData {
            nr: nr as i32,
            arch: audit,
            args,
        }
    }
}
