//! The `sysroot { ... }` block of the config: the real root to switch to,
//! the same settings as the kernel command line's root keys (which win
//! over these, see `init::root::spec`):
//!
//! ```text
//! sysroot {
//!     device PARTLABEL=system        # root=
//!     fstype squashfs                # rootfstype= (default: from the superblock)
//!     options noatime                # rootflags=
//!     read-write no                  # rw / ro (default: read-only)
//!     wait 30s                       # rootwait=SECS; `forever`: rootwait (default 180s)
//!     delay 0s                       # rootdelay=
//!     init /sbin/init                # init= (none: vigil stays PID 1)
//!     overlay PARTLABEL=data ext4    # or `overlay tmpfs` (systemd.volatile=overlay)
//!     verity HEX                     # roothash=
//!     verity-data /dev/vda           # systemd.verity_root_data= (default: device)
//!     verity-hash /dev/vdb           # systemd.verity_root_hash= (default: the data device)
//!     verity-options hash-offset=N   # systemd.verity_root_options=
//! }
//! ```

use super::super::spec::{self, Overlay, Request, Wait};
use super::super::{ConfigErrors, PolicyText};
use super::lex::Lexer;
use super::{Context, Parser, Report, State, Tok, Vec, K, MAX_TOKENS};
use crate::words;

const DIRECTIVES: &str = "device fstype options read-write wait delay init overlay verity \
                          verity-data verity-hash verity-options }";

const DEVICE: &str = "a device: /dev/NAME, PARTUUID=, PARTLABEL=, UUID=, LABEL= or MAJ:MIN";

/// `sysroot {`: true if the block opened.
pub(super) fn open<'a>(p: &mut Parser<'a, '_>, t: &[Tok<'a>]) -> bool {
    let Some(b) = p.r.arg(t, 1, "`{`") else {
        return false;
    };
    if !b.is("{") {
        p.r.expected(b, "`{`");
        return false;
    }
    if !p.r.end(t, 2) {
        return false;
    }
    if p.cfg.sysroot_line != 0 {
        let first = p.cfg.sysroot_line;
        p.r.dup(&t[0], "block", first);
        return false;
    }
    p.cfg.sysroot_line = p.r.line;
    p.state = State::Sysroot(p.next_start);
    true
}

/// One line inside the block, whose first line starts at `start`.
pub(super) fn directive<'a>(p: &mut Parser<'a, '_>, start: usize, t: &[Tok<'a>]) -> bool {
    if t.first().is_some_and(|d| d.is("}")) {
        p.r.end(t, 1);
        p.state = State::Top;
        p.cfg.sysroot = Some(PolicyText {
            text: p.text.get(start..p.line_start).unwrap_or(""),
            first_line: p.cfg.sysroot_line.saturating_add(1),
        });
        return false;
    }
    setting(&mut p.r, &mut p.sysroot, t);
    false
}

/// The settings of a checked `sysroot` block's lines (see
/// `Config::sysroot`).
// Stack: out of line, its token table is not part of its callers' frames.
#[inline(never)]
pub fn sysroot_request(block: PolicyText<'_>) -> Request<'_> {
    let mut req = Request::NONE;
    let mut r = Report {
        errs: ConfigErrors::new(),
        line: block.first_line,
        eol_col: 1,
        ctx: Context::None,
    };
    for line in block.text.split('\n') {
        let mut toks: Vec<Tok, MAX_TOKENS> = Vec::new();
        for t in Lexer::new(line.strip_suffix('\r').unwrap_or(line)).flatten() {
            let _ = toks.push(t);
        }
        if !toks.is_empty() {
            setting(&mut r, &mut req, &toks);
        }
    }
    req
}

/// One setting into `req`; errors into `r`.
fn setting<'a>(r: &mut Report<'a>, req: &mut Request<'a>, t: &[Tok<'a>]) {
    let Some(d) = t.first() else { return };
    let k = match words::find(DIRECTIVES, d.s) {
        Some(k) if !d.quoted && k < 12 => k,
        _ => {
            r.err_tok(d, K::UnknownDirective);
            return;
        }
    };
    let taken = match k {
        0 => req.device.is_some(),
        1 => req.fstype.is_some(),
        2 => req.options.is_some(),
        3 => req.read_write.is_some(),
        4 => req.wait.is_some(),
        5 => req.delay_ms.is_some(),
        6 => req.init.is_some(),
        7 => req.overlay.is_some(),
        8 => req.root_hash.is_some(),
        9 => req.verity_data.is_some(),
        10 => req.verity_hash.is_some(),
        _ => req.verity_options.is_some(),
    };
    if taken {
        r.dup(d, "directive", 0);
        return;
    }
    match k {
        0 | 9 | 10 => {
            let Some(a) = r.one(t, DEVICE) else {
                return;
            };
            match spec::parse_dev(a.s) {
                Ok(dev) => {
                    *[&mut req.device, &mut req.verity_data, &mut req.verity_hash][k / 9 + k / 10] =
                        Some(dev)
                }
                Err(why) => r.err_tok(a, K::Range(why)),
            }
        }
        1 | 2 => {
            let what = if k == 1 {
                "a filesystem type"
            } else {
                "mount options"
            };
            if let Some(a) = r.one(t, what) {
                if a.s.is_empty() {
                    r.expected(a, what);
                } else if k == 1 {
                    req.fstype = Some(a.s);
                } else {
                    req.options = Some(a.s);
                }
            }
        }
        3 => {
            if let Some(v) = r.choice(t, "`yes` or `no`", "yes no") {
                req.read_write = Some(v == 0);
            }
        }
        4 => {
            let Some(a) = r.one(t, "a duration or `forever`") else {
                return;
            };
            req.wait = if a.is("forever") {
                Some(Wait::Forever)
            } else {
                r.duration(a).map(Wait::Bounded)
            };
        }
        5 => {
            if let Some(ms) = r.duration_arg(t) {
                req.delay_ms = Some(ms);
            }
        }
        6 => {
            if let Some(a) = r.one(t, "a program path") {
                req.init = r.abs_path(a, "init");
            }
        }
        7 => {
            let Some(a) = r.arg(t, 1, "`tmpfs` or a device") else {
                return;
            };
            if a.is("tmpfs") {
                if r.end(t, 2) {
                    req.overlay = Some(Overlay::Tmpfs);
                }
                return;
            }
            if !r.end(t, 3) {
                return;
            }
            match spec::parse_dev(a.s) {
                Ok(dev) => {
                    req.overlay = Some(Overlay::Device {
                        dev,
                        fstype: t.get(2).map(|f| f.s),
                    })
                }
                Err(why) => r.err_tok(a, K::Range(why)),
            }
        }
        8 => {
            if let Some(a) = r.one(t, "a root hash (hexadecimal)") {
                match spec::check_root_hash(a.s) {
                    Ok(()) => req.root_hash = Some(a.s),
                    Err(why) => r.err_tok(a, K::Range(why)),
                }
            }
        }
        _ => {
            if let Some(a) = r.one(t, "verity options") {
                match spec::parse_verity_options(a.s) {
                    Ok(_) => req.verity_options = Some(a.s),
                    Err(why) => r.err_tok(a, K::Range(why)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::init::config::parse;
    use crate::init::root::spec::{DevSpec, Overlay, Wait};
    use crate::out::Buf;

    #[test]
    fn a_block() {
        let c = parse(
            "sysroot {\n  device PARTLABEL=system\n  fstype squashfs\n  wait 30s\n  \
             overlay PARTLABEL=data ext4\n  init /sbin/init\n  verity 00ff\n  \
             verity-options hash-offset=4096\n}\nhostname h\n",
        )
        .unwrap();
        let r = c.sysroot();
        assert_eq!(c.sysroot_line, 1);
        assert_eq!(r.device, Some(DevSpec::PartLabel("system")));
        assert_eq!(r.fstype, Some("squashfs"));
        assert_eq!(r.wait, Some(Wait::Bounded(30_000)));
        assert_eq!(
            r.overlay,
            Some(Overlay::Device {
                dev: DevSpec::PartLabel("data"),
                fstype: Some("ext4")
            })
        );
        assert_eq!(r.init, Some("/sbin/init"));
        assert_eq!(r.verity_options, Some("hash-offset=4096"));
        assert_eq!(c.hostname, Some("h"));
        let c = parse("sysroot {\n  overlay tmpfs\n  wait forever\n}\n").unwrap();
        assert_eq!(c.sysroot().overlay, Some(Overlay::Tmpfs));
        assert_eq!(c.sysroot().wait, Some(Wait::Forever));
        assert!(!c.sysroot().wants_root());
        assert_eq!(
            parse("hostname x\n").unwrap().sysroot(),
            crate::init::root::spec::Request::NONE
        );
    }

    fn errors(text: &str) -> String {
        let e = parse(text).unwrap_err();
        let mut b = Buf::<4096>::new();
        e.render("c", &mut b);
        b.as_str().to_string()
    }

    #[test]
    fn errors_have_places() {
        let e = errors(
            "sysroot {\n  verity-data sda\n  device /dev/vda\n  device /dev/vdb\n  wait soon\n  init sbin/init\n  \
             verity xyz\n  frob 1\n  verity-options superblock=no\n}\nsysroot {\n}\n",
        );
        for want in [
            "c:2:15: error: not a device",
            "c:4:3: error: duplicate directive `device`",
            "c:5:8: error: bad duration `soon`",
            "c:6:8: error: init path `sbin/init` must be absolute",
            "c:7:10: error: a root hash",
            "c:8:3: error: unknown directive `frob`",
            "c:9:18: error: superblock=no is not supported",
            "c:11:1: error: duplicate block `sysroot`",
        ] {
            assert!(e.contains(want), "{want}\n{e}");
        }
        assert!(
            errors("sysroot {\n  device /dev/vda\n").contains("c:1:1: error: end of file inside")
        );
    }
}
