//! What vigil added to a policy, and where a rule only hints or never
//! applies: `vigil check`'s notes and warnings, `vigil compile`'s header.
//! Notes and warnings, not errors: the policy is valid either way.

use crate::arch::Arch;
use crate::out::Sink;
use crate::policy::harden::{self, Why};
use crate::policy::protect::Guards;
use crate::policy::{Action, Cmp, Origin, Policy, Reply, Rule, Span};

/// How a message starts.
#[derive(Clone, Copy)]
pub enum Style<'a> {
    /// `FILE:LINE:COL: note: ` (`vigil check`).
    Check(&'a str),
    /// `# added: ` (`vigil compile`, before the listing).
    Listing,
}

fn head(out: &mut impl Sink, style: Style, line: u32, col: u32, warning: bool) {
    match style {
        Style::Check(file) => {
            out.s(file);
            if line != 0 {
                out.s(":").u(line as u64).s(":").u(col as u64);
            }
            out.s(if warning { ": warning: " } else { ": note: " });
        }
        Style::Listing => {
            out.s("# added: ");
        }
    }
}

/// Why the rule or guard of `r` was added, if vigil added either.
fn added(p: &Policy, r: &Rule) -> Option<(u8, bool)> {
    match (r.origin, p.guard(r.nr)) {
        (_, Some(g)) => Some((g.why, true)),
        (Origin::Added(w), None) => Some((w, false)),
        _ => None,
    }
}

/// One note per group of rules vigil added for the same reason at the same
/// place with the same outcome; then one for the monitor's guards. Returns
/// how many notes.
pub fn notes(p: &Policy, arch: &Arch, guards: &Guards, style: Style, out: &mut impl Sink) -> usize {
    let key =
        |r: &Rule| added(p, r).map(|w| (w, r.line, r.col, r.action, p.guard(r.nr).map(|g| g.cond)));
    let mut n = 0;
    // By reason: the kinds, the bypasses, the machine.
    for (i, r) in (0..=u8::MAX).flat_map(|c| {
        p.rules
            .iter()
            .enumerate()
            .filter(move |(_, r)| added(p, r).is_some_and(|(w, _)| w == c))
    }) {
        let Some(k) = key(r) else { continue };
        if p.rules[..i].iter().any(|x| key(x) == Some(k)) {
            continue;
        }
        let ((why, guarded), line, col, action, cond) = k;
        head(out, style, line, col, false);
        out.s("vigil adds ");
        let mut first = true;
        for x in p.rules[i..].iter().filter(|x| key(x) == Some(k)) {
            out.s(if first { "`" } else { ", `" });
            out.s(arch.name(x.nr).unwrap_or("?")).s("`");
            first = false;
        }
        out.s(": ");
        let why = Why::of(why);
        match (guarded, why) {
            (true, _) => {
                out.s("errno ");
                errno(out, arch, p.guard(r.nr).map_or(1, |g| g.errno));
                out.s(" if ");
                cond_text(out, p, cond);
            }
            (false, Why::Same(_)) => {
                out.s("the paths rule of line ").u(line as u64);
            }
            (false, _) => {
                action_text(out, p, arch, action);
            }
        }
        out.s(" (");
        match why {
            Why::Same(_) => out
                .s("they can ")
                .s(why.text())
                .s(" too, and vigil emulates them"),
            Why::Denied(_) => out.s("they can ").s(why.text()).s(
                " too, and vigil does not emulate them: the kernel would read a checked path again",
            ),
            _ => out.s(why.text()),
        };
        if style_is_listing(style) && line != 0 {
            out.s("; line ").u(line as u64);
        }
        out.s(")\n");
        n += 1;
    }
    n + monitor_note(arch, guards, style, out)
}

fn style_is_listing(s: Style) -> bool {
    matches!(s, Style::Listing)
}

/// The guards that protect vigil, in one note.
fn monitor_note(arch: &Arch, g: &Guards, style: Style, out: &mut impl Sink) -> usize {
    if g.items.is_empty() {
        return 0;
    }
    head(out, style, 0, 0, false);
    out.s("every filter protects vigil: ");
    let mut first = true;
    for i in g.items.iter().filter(|i| i.cond.is_some()) {
        out.s(if first { "`" } else { ", `" });
        out.s(arch.name(i.nr).unwrap_or("?")).s("`");
        first = false;
    }
    if !first {
        out.s(": errno EPERM when they name vigil's pid or process group (also in the high half of a 64-bit register)");
    }
    for i in g.items.iter().filter(|i| i.cond.is_none()) {
        out.s(if first { "`" } else { "; `" });
        let name = arch.name(i.nr).unwrap_or("?");
        out.s(name).s("`: errno ");
        errno(out, arch, i.errno);
        out.s(if name == "pidfd_getfd" {
            " (a pidfd of vigil comes from more than pidfd_open, a fanotify event for one: no register tells whose)"
        } else {
            " (a /proc/PID directory works as a pidfd: no register tells whose)"
        });
        first = false;
    }
    out.s("\n");
    1
}

fn errno(out: &mut impl Sink, arch: &Arch, e: u16) {
    match arch.errno_name(e) {
        Some(n) => out.s(n),
        None => out.u(e as u64),
    };
}

fn action_text(out: &mut impl Sink, p: &Policy, arch: &Arch, a: Action) {
    match a {
        Action::Allow => out.s("allow"),
        Action::Kill => out.s("kill"),
        Action::Log => out.s("log"),
        Action::Trap => out.s("trap"),
        Action::Errno(e) => {
            out.s("errno ");
            errno(out, arch, e);
            out
        }
        Action::Notify(_) => match p.reply(a) {
            Some(Reply::Paths { .. }) => out.s("notify paths"),
            _ => out.s("notify"),
        },
    };
}

/// `arg0 & 0x20000 == 0x20000 || ...`
fn cond_text(out: &mut impl Sink, p: &Policy, cond: Option<Span>) {
    let Some(cond) = cond else { return };
    for (i, cl) in p
        .clauses
        .get(cond.range())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.s(" || ");
        }
        for (j, c) in p.cmps.get(cl.range()).unwrap_or(&[]).iter().enumerate() {
            if j > 0 {
                out.s(" && ");
            }
            cmp_text(out, c);
        }
    }
}

fn cmp_text(out: &mut impl Sink, c: &Cmp) {
    out.s("arg").u(c.arg as u64);
    let op = match c.op {
        crate::policy::Op::MaskedEq(m) => {
            out.s(" & ").x(m);
            " == "
        }
        crate::policy::Op::Eq => " == ",
        crate::policy::Op::Ne => " != ",
        crate::policy::Op::Lt => " < ",
        crate::policy::Op::Le => " <= ",
        crate::policy::Op::Gt => " > ",
        crate::policy::Op::Ge => " >= ",
    };
    out.s(op).x(c.value);
}

/// Rules that only hint, never apply, or leave a paths block's kind open.
/// Returns how many warnings.
pub fn warnings(p: &Policy, arch: &Arch, file: &str, out: &mut dyn Sink) -> usize {
    let mut n = 0;
    let restricts = p.rules.iter().any(|r| harden::restricting(p, r).is_some());
    for (i, r) in p.rules.iter().enumerate() {
        if r.origin != Origin::Named {
            continue;
        }
        let name = arch.name(r.nr).unwrap_or("?");
        let paths = matches!(p.reply(r.action), Some(Reply::Paths { .. }));
        if paths && name == "openat2" {
            warn(out, &mut n, file, r).s("`openat2` under a paths block always fails with ENOSYS: vigil does not emulate its resolve flags (C libraries fall back to openat)\n");
        } else if paths && !harden::emulated(name) {
            warn(out, &mut n, file, r).s("`").s(name).s("` under a paths block is only a hint: vigil checks the path as written, then the kernel reads it again, which another thread can change in between (deny it with a register rule where that matters)\n");
        }
        if p.runs(r.action) && !paths {
            // A named call left open where vigil would have closed it.
            for (k, kind) in harden::KINDS.iter().enumerate() {
                let member = crate::words::find(kind.1, name).is_some()
                    || crate::words::find(kind.2, name).is_some();
                if let Some(g) = harden::governing(p, arch, k).filter(|_| member) {
                    warn(out, &mut n, file, r)
                        .s("`")
                        .s(name)
                        .s("` is named here, so vigil adds nothing to it: it can ")
                        .s(kind.0)
                        .s(" outside the paths block at line ")
                        .u(g.line as u64)
                        .s("\n");
                    break;
                }
            }
            let bypass = harden::BYPASS
                .iter()
                .find(|b| crate::words::find(b.0, name).is_some());
            if let Some(&(_, _, why)) = bypass.filter(|_| restricts) {
                warn(out, &mut n, file, r)
                    .s("`")
                    .s(name)
                    .s("` is named here, so vigil adds nothing to it: ")
                    .s(Why::Bypass(why).text())
                    .s("\n");
            }
            if name == "pidfd_send_signal" {
                warn(out, &mut n, file, r).s("`pidfd_send_signal` is named here: no register tells which process a pidfd names (a /proc/PID directory works as one), so a service can signal vigil with it\n");
            }
            if name == "pidfd_getfd" {
                warn(out, &mut n, file, r).s("`pidfd_getfd` is named here: no register tells which process a pidfd names (a fanotify event gives one of vigil's), so a service can take vigil's descriptors, its listeners among them, with it\n");
            }
        }
        // Conditions that hold always or never, once per written rule.
        let Some(cond) = r.cond else { continue };
        if r.action == r.otherwise
            || p.rules[..i]
                .iter()
                .any(|x| x.line == r.line && x.cond == Some(cond))
        {
            continue;
        }
        let known = |cl: &Span| {
            let cmps = p.cmps.get(cl.range()).unwrap_or(&[]);
            if cmps.iter().any(|c| c.known() == Some(false)) {
                Some(false)
            } else if cmps.iter().all(|c| c.known() == Some(true)) {
                Some(true)
            } else {
                None
            }
        };
        let clauses = p.clauses.get(cond.range()).unwrap_or(&[]);
        if clauses.iter().all(|cl| known(cl) == Some(false)) {
            warn(out, &mut n, file, r).s("this condition can never hold: the rule's action never applies, its `else` always does\n");
        } else if clauses.iter().any(|cl| known(cl) == Some(true)) {
            warn(out, &mut n, file, r)
                .s("this condition always holds: the rule's `else` never applies\n");
        }
    }
    n
}

/// Start a warning at `r`'s place; count it.
fn warn<'s>(out: &'s mut dyn Sink, n: &mut usize, file: &str, r: &Rule) -> Dyn<'s> {
    *n += 1;
    let mut d = Dyn(out);
    head(&mut d, Style::Check(file), r.line, r.col, true);
    d
}

/// Any sink, as a `Sink` by value.
struct Dyn<'s>(&'s mut dyn Sink);

impl Sink for Dyn<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.put(bytes)
    }
}
