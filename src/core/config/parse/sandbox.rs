//! A service's confinement directives (`Confine`), and the checks and
//! implied settings of the whole block when it closes.

use heapless::Vec;

use super::super::error::ConfigErrorKind as K;
use super::super::lex::{self, Tok};
use super::super::{cap_number, Confine, Limit, Service, MAX_PATHS};
use super::report::Report;
use super::service::{Scratch, YesNo};
use crate::words::keywords;
use linux_raw_sys::general::{
    CAP_SYS_ADMIN, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID,
    CLONE_NEWUSER, CLONE_NEWUTS,
};

keywords! {
    /// A sandbox directive of a service block.
    pub(super) SandboxWord {
        NoNewPrivs = "no-new-privs",
        PrivateTmp = "private-tmp",
        ReadOnlyRoot = "read-only-root",
        Landlock = "landlock",
        ReadOnly = "read-only",
        LandlockRead = "landlock-read",
        LandlockWrite = "landlock-write",
        Capabilities = "capabilities",
        Namespaces = "namespaces",
        Root = "root",
        PidsMax = "pids-max",
        MemoryMax = "memory-max",
        CpuMax = "cpu-max",
    }
}

impl SandboxWord {
    /// May the directive appear once only in a block?
    pub(super) fn once(self) -> bool {
        !matches!(
            self,
            SandboxWord::ReadOnly | SandboxWord::LandlockRead | SandboxWord::LandlockWrite
        )
    }
}

keywords! {
    /// The value of `landlock`.
    LandlockWord { Required = "required", Optional = "optional" }
}

keywords! {
    /// A kind of namespace, by its `namespaces` name.
    Namespace {
        Mount = "mount",
        Pid = "pid",
        Ipc = "ipc",
        Uts = "uts",
        Net = "net",
        Cgroup = "cgroup",
        User = "user",
    }
}

impl Namespace {
    /// Its `CLONE_NEW*` flag.
    fn flag(self) -> u32 {
        match self {
            Namespace::Mount => CLONE_NEWNS,
            Namespace::Pid => CLONE_NEWPID,
            Namespace::Ipc => CLONE_NEWIPC,
            Namespace::Uts => CLONE_NEWUTS,
            Namespace::Net => CLONE_NEWNET,
            Namespace::Cgroup => CLONE_NEWCGROUP,
            Namespace::User => CLONE_NEWUSER,
        }
    }
}

impl<'a> Report<'a> {
    /// Sandbox directive `w`; `None` after an error.
    pub(super) fn confine(
        &mut self,
        sc: &mut Scratch,
        c: &mut Confine<'a>,
        w: SandboxWord,
        t: &[Tok<'a>],
    ) -> Option<()> {
        let at = Some((self.line, t[0].col));
        match w {
            SandboxWord::NoNewPrivs => {
                let yes = self.choice::<YesNo>(t, "`yes` or `no`")? == YesNo::Yes;
                if !yes {
                    sc.nnp_off = at;
                }
                set_flag(c, Confine::NO_NEW_PRIVS, yes);
            }
            SandboxWord::PrivateTmp => {
                let yes = self.choice::<YesNo>(t, "`yes` or `no`")? == YesNo::Yes;
                set_flag(c, Confine::PRIVATE_TMP, yes);
            }
            SandboxWord::ReadOnlyRoot => {
                let yes = self.choice::<YesNo>(t, "`yes` or `no`")? == YesNo::Yes;
                if yes {
                    sc.ro_root = at;
                }
                set_flag(c, Confine::READ_ONLY_ROOT, yes);
            }
            SandboxWord::Landlock => {
                let v: LandlockWord = self.choice(t, "`required` or `optional`")?;
                set_flag(c, Confine::LANDLOCK_REQUIRED, v == LandlockWord::Required);
            }
            SandboxWord::ReadOnly => self.list(t, &mut c.read_only, false)?,
            SandboxWord::LandlockRead => {
                self.list(t, &mut c.landlock_read, false)?;
            }
            SandboxWord::LandlockWrite => {
                self.list(t, &mut c.landlock_write, false)?;
            }
            SandboxWord::Capabilities => c.caps = Some(self.capabilities(t)?),
            SandboxWord::Namespaces => {
                c.namespaces = self.namespaces(t)?;
                sc.ns_at = at;
            }
            SandboxWord::Root => {
                let a = self.one(t, "a directory")?;
                c.root = Some(self.abs_path(a, "root")?);
            }
            SandboxWord::PidsMax => c.limits[Limit::Pids as usize] = self.cgroup_limit(w, t)?.0,
            SandboxWord::MemoryMax => {
                c.limits[Limit::Memory as usize] = self.cgroup_limit(w, t)?.0;
            }
            SandboxWord::CpuMax => {
                (c.limits[Limit::Cpu as usize], c.cpu_period) = self.cgroup_limit(w, t)?;
            }
        }
        Some(())
    }

    /// A repeatable list: absolute paths, or if `names` variable names
    /// (`env-pass`). The line's entries are stored only if they all fit.
    pub(super) fn list(
        &mut self,
        t: &[Tok<'a>],
        to: &mut Vec<&'a str, MAX_PATHS>,
        names: bool,
    ) -> Option<()> {
        self.arg(t, 1, if names { "a variable name" } else { "a path" })?;
        let mut list: Vec<&'a str, MAX_PATHS> = Vec::new();
        for a in &t[1..] {
            let ok = if names {
                !a.s.is_empty() && !a.s.contains('=')
            } else {
                a.s.starts_with('/')
            };
            if !ok {
                let what = if names {
                    "a variable name (no `=`)"
                } else {
                    "an absolute path"
                };
                self.expected(a, what);
            } else if list.push(a.s).is_err() {
                self.too_many(a, "paths");
                return None;
            }
        }
        if list.iter().any(|p| to.push(p).is_err()) {
            self.too_many(&t[0], "entries of this list");
        }
        Some(())
    }

    /// `capabilities CAP_NAME...|none`: the mask kept (every name is
    /// checked; the mask is kept even after a bad one, as the config fails).
    fn capabilities(&mut self, t: &[Tok<'a>]) -> Option<u64> {
        const WHAT: &str = "capability names (like CAP_NET_BIND_SERVICE) or `none`";
        self.arg(t, 1, WHAT)?;
        let mut mask = 0u64;
        for a in &t[1..] {
            if a.is("none") && t.len() == 2 {
                continue;
            }
            match cap_number(a.s) {
                Some(n) => mask |= 1u64 << n,
                None => self.expected(a, WHAT),
            }
        }
        Some(mask)
    }

    /// `namespaces NAME...`: their `CLONE_NEW*` flags.
    fn namespaces(&mut self, t: &[Tok<'a>]) -> Option<u32> {
        const WHAT: &str = "namespaces: mount, pid, ipc, uts, net or cgroup";
        self.arg(t, 1, WHAT)?;
        let mut mask = 0u32;
        for a in &t[1..] {
            match Namespace::of(a.s) {
                Some(ns) => mask |= ns.flag(),
                None => self.expected(a, WHAT),
            }
        }
        Some(mask)
    }

    /// `pids-max N|max`, `memory-max BYTES|max`, `cpu-max QUOTA|max
    /// [PERIOD]`: the limit (`u64::MAX` for `max`) and the period.
    fn cgroup_limit(&mut self, w: SandboxWord, t: &[Tok<'a>]) -> Option<(u64, u64)> {
        const WHAT: &str = "a number or `max`";
        let a = self.arg(t, 1, WHAT)?;
        let p = t.get(2);
        let cpu = w == SandboxWord::CpuMax;
        self.end(t, if cpu { 3 } else { 2 }).then_some(())?;
        let limit = match a.s {
            "max" => u64::MAX,
            s if w == SandboxWord::MemoryMax => lex::bytes(s).unwrap_or(0),
            s => lex::number(s).unwrap_or(0),
        };
        let mut period = 100_000;
        if let Some(p) = p {
            period = lex::number(p.s).filter(|&v| v > 0).unwrap_or(0);
            if period == 0 {
                self.bad_number(p);
            }
        }
        if limit == 0 {
            self.bad_number(&t[1]);
        }
        if limit == 0 || period == 0 {
            return None;
        }
        Some((limit, period))
    }

    /// The checks of a service's confinement as a whole, when its block
    /// closes, and the masking its capabilities imply.
    pub(super) fn check_confine(&mut self, sc: &Scratch, s: &mut Service<'a>) {
        let c = &s.confine;
        let landlock = !c.landlock_read().is_empty() || !c.landlock_write().is_empty();
        if let (Some((line, col)), true) = (sc.nnp_off, landlock) {
            let why = "Landlock needs `no-new-privs yes`";
            self.err_at(line, col, K::Range(why), "", 0);
        }
        if let (Some((line, col)), true) = (sc.ro_root, c.root.is_none()) {
            let why = "`read-only-root` needs `root`";
            self.err_at(line, col, K::Range(why), "", 0);
        }
        // Without a `group`, the service would keep vigil's gid 0 and its
        // files and directories: vigil reads no user database to guess one.
        if let (Some((line, col)), None) = (sc.user_at, s.group) {
            let why = "`user` needs a `group` line (without one the service would keep gid 0)";
            self.err_at(line, col, K::Range(why), "", 0);
        }
        let userns = c.namespaces & CLONE_NEWUSER != 0;
        // Its ids outside (0 inside): root outside would make the
        // namespace pointless, and only its own ids are mapped into it.
        let outside_root = s.user.unwrap_or(0) == 0 || s.group.unwrap_or(0) == 0;
        if let (Some((line, col)), true, true) = (sc.ns_at, userns, outside_root) {
            let why = "`namespaces user` needs `user` and `group` other than 0: the ids the service has outside (inside, they are 0)";
            self.err_at(line, col, K::Range(why), "", 0);
        }
        if let (Some((line, col)), true) = (sc.groups_at, userns) {
            let why = "`groups` cannot be used with `namespaces user`: only the service's own gid is mapped into it";
            self.err_at(line, col, K::Range(why), "", 0);
        }
        // Root whose capabilities are cut below CAP_SYS_ADMIN is meant to
        // be confined, but still owns the kernel's control files: it gets
        // them masked in a mount namespace of its own (`sandbox::mask`).
        let c = &mut s.confine;
        let cut = c.caps.is_some_and(|m| m & 1 << CAP_SYS_ADMIN == 0);
        if cut && s.user.unwrap_or(0) == 0 && !userns {
            c.flags |= Confine::MASKED;
            c.namespaces |= CLONE_NEWNS;
        }
    }
}

/// The mount namespace that `read-only`, `private-tmp`, `read-only-root`
/// and a pid namespace (its own `/proc`) need.
pub(super) fn imply_mount(c: &mut Confine) {
    if !c.read_only().is_empty()
        || c.has(Confine::PRIVATE_TMP | Confine::READ_ONLY_ROOT)
        || c.namespaces & CLONE_NEWPID != 0
    {
        c.namespaces |= CLONE_NEWNS;
    }
}

fn set_flag(c: &mut Confine, flag: u8, on: bool) {
    if on {
        c.flags |= flag;
    } else {
        c.flags &= !flag;
    }
}
