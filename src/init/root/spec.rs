//! What the boot asks for: which device is the root, how to mount it, and
//! what to run after the switch. Pure: the kernel command line and the
//! config's `sysroot` block are both read into a `Request`, the command
//! line winning field by field.
//!
//! Command line names are the ones users already know:
//! - the kernel's own (also dracut's and tiny-initramfs's): `root=`,
//!   `rootfstype=`, `rootflags=`, `ro`, `rw`, `rootwait`, `rootwait=SECS`
//!   (Linux 6.6+), `rootdelay=SECS`, `init=`;
//! - systemd's for dm-verity (systemd-veritysetup-generator): `roothash=`,
//!   `systemd.verity_root_data=`, `systemd.verity_root_hash=`,
//!   `systemd.verity_root_options=`; and `systemd.volatile=overlay` for a
//!   tmpfs overlay over a read-only root.

/// How long the root device is waited for unless told otherwise: 180 s,
/// tiny-initramfs's default (and dracut's `rd.retry`).
pub const DEFAULT_WAIT_MS: u32 = 180_000;

/// A device, in `root=` syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevSpec<'a> {
    /// `/dev/NAME`: the kernel's name, without `/dev/`.
    Name(&'a str),
    /// `PARTUUID=`: a partition's GPT GUID or MBR `SSSSSSSS-NN`.
    PartUuid(&'a str),
    /// `PARTLABEL=`: a GPT partition name.
    PartLabel(&'a str),
    /// `UUID=`: a filesystem UUID (ext2/3/4).
    Uuid(&'a str),
    /// `LABEL=`: a filesystem label (ext2/3/4).
    Label(&'a str),
    /// `MAJ:MIN` or `0xMAJMIN` (the kernel's old 8:8 form).
    Number(u32, u32),
}

impl DevSpec<'_> {
    /// The tag as the user writes it, for messages.
    pub fn tag(&self) -> &'static str {
        match self {
            DevSpec::Name(_) => "/dev/",
            DevSpec::PartUuid(_) => "PARTUUID=",
            DevSpec::PartLabel(_) => "PARTLABEL=",
            DevSpec::Uuid(_) => "UUID=",
            DevSpec::Label(_) => "LABEL=",
            DevSpec::Number(..) => "",
        }
    }

    /// Does this spec need the filesystem's superblock to match?
    pub fn needs_superblock(&self) -> bool {
        matches!(self, DevSpec::Uuid(_) | DevSpec::Label(_))
    }
}

/// Parse a device in `root=` syntax; udev's `/dev/disk/by-*` paths (there
/// is no udev here to make them) are read as the tag they stand for.
pub fn parse_dev(s: &str) -> Result<DevSpec<'_>, &'static str> {
    let s = unquote(s);
    const TAGS: [(&str, &str); 8] = [
        ("PARTUUID=", "p"),
        ("PARTLABEL=", "l"),
        ("UUID=", "u"),
        ("LABEL=", "L"),
        ("/dev/disk/by-partuuid/", "p"),
        ("/dev/disk/by-partlabel/", "l"),
        ("/dev/disk/by-uuid/", "u"),
        ("/dev/disk/by-label/", "L"),
    ];
    for (tag, kind) in TAGS {
        let Some(v) = s.strip_prefix(tag) else {
            continue;
        };
        let v = unquote(v);
        if v.is_empty() {
            return Err("an empty value");
        }
        return match kind {
            "p" | "u" => {
                if v.contains("/PARTNROFF=") {
                    return Err("PARTNROFF= is not supported");
                }
                if !v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                    return Err("a UUID is hexadecimal digits and `-`");
                }
                Ok(if kind == "p" {
                    DevSpec::PartUuid(v)
                } else {
                    DevSpec::Uuid(v)
                })
            }
            "l" => Ok(DevSpec::PartLabel(v)),
            _ => Ok(DevSpec::Label(v)),
        };
    }
    if let Some(name) = s.strip_prefix("/dev/") {
        if name.is_empty()
            || name
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err("not a device name under /dev");
        }
        return Ok(DevSpec::Name(name));
    }
    if let Some((ma, mi)) = s.split_once(':') {
        if let (Some(ma), Some(mi)) = (decimal(ma), decimal(mi)) {
            return Ok(DevSpec::Number(ma, mi));
        }
    }
    if let Some(h) = s.strip_prefix("0x") {
        if !h.is_empty() && h.len() <= 8 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
            let v = u32::from_str_radix(h, 16).map_err(|_| "bad number")?;
            return Ok(DevSpec::Number(v >> 8, v & 0xff));
        }
    }
    Err("not a device (use /dev/NAME, PARTUUID=, PARTLABEL=, UUID=, LABEL= or MAJ:MIN)")
}

fn decimal(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `"..."` around a whole value, as the kernel lets one quote a word.
fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(s)
}

/// How long to wait for the root device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// At most this many milliseconds, then fail.
    Bounded(u32),
    /// Until it comes (`rootwait`), saying what is there every 30 s.
    Forever,
}

/// The writable layer over a read-only root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay<'a> {
    /// Changes live in memory and are gone at the next boot.
    Tmpfs,
    /// Changes persist on this device (`upper/` and `work/` at its top);
    /// if it is missing or will not mount: a tmpfs, with a warning.
    Device {
        dev: DevSpec<'a>,
        fstype: Option<&'a str>,
    },
}

/// What dm-verity does with a block that does not match its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// The read fails with EIO (the kernel's default).
    Eio,
    Restart,
    Panic,
    /// Logged and returned anyway: no protection. Only when asked.
    Ignore,
}

/// The verity options vigil knows, from `systemd.verity_root_options=`
/// (a subset of systemd-veritysetup's): `hash-offset=BYTES`,
/// `superblock=yes`, and one of `restart-on-corruption`,
/// `panic-on-corruption`, `ignore-corruption`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerityOptions {
    pub hash_offset: u64,
    pub on_corruption: Corruption,
}

pub fn parse_verity_options(s: &str) -> Result<VerityOptions, &'static str> {
    let mut o = VerityOptions {
        hash_offset: 0,
        on_corruption: Corruption::Eio,
    };
    for opt in s.split(',').filter(|x| !x.is_empty()) {
        if let Some(v) = opt.strip_prefix("hash-offset=") {
            o.hash_offset = v
                .parse::<u64>()
                .ok()
                .filter(|n| n.is_multiple_of(512))
                .ok_or("hash-offset= takes a number of bytes, a multiple of 512")?;
        } else {
            o.on_corruption = match opt {
                "superblock=yes" | "superblock=true" | "superblock=1" => continue,
                "restart-on-corruption" => Corruption::Restart,
                "panic-on-corruption" => Corruption::Panic,
                "ignore-corruption" => Corruption::Ignore,
                "superblock=no" | "superblock=false" | "superblock=0" => {
                    return Err("superblock=no is not supported: vigil reads the verity superblock")
                }
                _ => {
                    return Err(
                        "unknown verity option (vigil knows hash-offset=, superblock=yes, \
                                restart-on-corruption, panic-on-corruption, ignore-corruption)",
                    )
                }
            };
        }
    }
    Ok(o)
}

/// A root hash: hexadecimal, of a whole number of bytes, at most 64.
pub fn check_root_hash(h: &str) -> Result<(), &'static str> {
    if h.is_empty()
        || !h.len().is_multiple_of(2)
        || h.len() > 128
        || !h.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err("a root hash is an even number of hexadecimal digits (at most 128)");
    }
    Ok(())
}

/// Everything the boot was asked about the root. Every field is optional:
/// the command line's win over the config's (`merge`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request<'a> {
    pub device: Option<DevSpec<'a>>,
    pub fstype: Option<&'a str>,
    /// Mount options: the flags vigil knows (`nosuid`, ...) become mount
    /// flags, the rest is the filesystem's data.
    pub options: Option<&'a str>,
    /// `rw` (true) or `ro` (false); read-only when not said, as the kernel.
    pub read_write: Option<bool>,
    pub wait: Option<Wait>,
    pub delay_ms: Option<u32>,
    /// The program to hand PID 1 to; vigil stays PID 1 without one.
    pub init: Option<&'a str>,
    pub overlay: Option<Overlay<'a>>,
    pub root_hash: Option<&'a str>,
    pub verity_data: Option<DevSpec<'a>>,
    pub verity_hash: Option<DevSpec<'a>>,
    pub verity_options: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// Nothing asked (`Default`, for a `const`).
    pub const NONE: Request<'static> = Request {
        device: None,
        fstype: None,
        options: None,
        read_write: None,
        wait: None,
        delay_ms: None,
        init: None,
        overlay: None,
        root_hash: None,
        verity_data: None,
        verity_hash: None,
        verity_options: None,
    };

    /// `self` (the command line) over `under` (the config).
    pub fn merge(&self, under: &Request<'a>) -> Request<'a> {
        Request {
            device: self.device.or(under.device),
            fstype: self.fstype.or(under.fstype),
            options: self.options.or(under.options),
            read_write: self.read_write.or(under.read_write),
            wait: self.wait.or(under.wait),
            delay_ms: self.delay_ms.or(under.delay_ms),
            init: self.init.or(under.init),
            overlay: self.overlay.or(under.overlay),
            root_hash: self.root_hash.or(under.root_hash),
            verity_data: self.verity_data.or(under.verity_data),
            verity_hash: self.verity_hash.or(under.verity_hash),
            verity_options: self.verity_options.or(under.verity_options),
        }
    }

    /// Does anything here ask for a switch to a real root?
    pub fn wants_root(&self) -> bool {
        self.device.is_some() || self.root_hash.is_some()
    }

    /// The wait, with the default.
    pub fn wait(&self) -> Wait {
        self.wait.unwrap_or(Wait::Bounded(DEFAULT_WAIT_MS))
    }

    /// The checks that need the whole request; the reason if it cannot be
    /// carried out.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.device.is_none() && self.verity_data.is_none() {
            return Err("no root device: give root= or a `device` line in the sysroot block");
        }
        if let Some(h) = self.root_hash {
            check_root_hash(h)?;
            parse_verity_options(self.verity_options.unwrap_or(""))?;
        } else if self.verity_data.is_some()
            || self.verity_hash.is_some()
            || self.verity_options.is_some()
        {
            return Err("verity devices or options without a root hash (roothash=)");
        }
        if let Some(i) = self.init {
            if !i.starts_with('/') {
                return Err("init= must be an absolute path");
            }
        }
        Ok(())
    }
}

/// The command line's keys, by index in `KEYS`.
const KEYS: [&str; 14] = [
    "root",
    "rootfstype",
    "rootflags",
    "ro",
    "rw",
    "rootwait",
    "rootdelay",
    "init",
    "roothash",
    "systemd.verity_root_data",
    "systemd.verity_root_hash",
    "systemd.verity_root_options",
    "systemd.volatile",
    "--",
];

/// Read the root keys of the kernel command line into `req` (later words
/// win, as in the kernel). A bad value is reported through `bad(word,
/// why)` and leaves its field alone, except `root=`: a root that cannot
/// be understood sets `*broken`, so that the boot fails rather than run
/// the initramfs as if no root had been asked for.
pub fn parse_cmdline<'a>(
    text: &'a [u8],
    req: &mut Request<'a>,
    broken: &mut Option<&'static str>,
    mut bad: impl FnMut(&'a [u8], &'static str),
) {
    for raw in words(text) {
        let (key, value) = match raw.iter().position(|&b| b == b'=') {
            Some(i) => (&raw[..i], Some(&raw[i + 1..])),
            None => (raw, None),
        };
        let Some(k) = KEYS.iter().position(|k| k.as_bytes() == key) else {
            continue;
        };
        if k == 13 {
            break; // the rest is init's
        }
        let Ok(value) = core::str::from_utf8(value.unwrap_or(b"")) else {
            bad(raw, "not UTF-8: ignored");
            if k == 0 {
                *broken = Some("root= is not UTF-8");
            }
            continue;
        };
        let value = unquote(value);
        let r: Result<(), &'static str> = (|| {
            match k {
                0 => {
                    req.device = Some(parse_dev(value).inspect_err(|e| *broken = Some(e))?);
                }
                1 => req.fstype = Some(nonempty(value)?),
                2 => req.options = Some(value),
                3 | 4 => req.read_write = Some(k == 4),
                5 => {
                    req.wait = Some(match raw.contains(&b'=') {
                        false => Wait::Forever,
                        true => Wait::Bounded(seconds(value)?),
                    })
                }
                6 => req.delay_ms = Some(seconds(value)?),
                7 => req.init = Some(nonempty(value)?),
                8 => {
                    check_root_hash(value)?;
                    req.root_hash = Some(value);
                }
                9 => req.verity_data = Some(parse_dev(value)?),
                10 => req.verity_hash = Some(parse_dev(value)?),
                11 => req.verity_options = Some(value),
                _ => match value {
                    "overlay" => req.overlay = Some(Overlay::Tmpfs),
                    _ => return Err("vigil supports systemd.volatile=overlay only"),
                },
            }
            Ok(())
        })();
        if let Err(why) = r {
            bad(raw, why);
        }
    }
}

fn nonempty(v: &str) -> Result<&str, &'static str> {
    if v.is_empty() {
        Err("an empty value")
    } else {
        Ok(v)
    }
}

/// Whole seconds, as the kernel takes them, in milliseconds.
fn seconds(v: &str) -> Result<u32, &'static str> {
    decimal(v)
        .map(|s| s.saturating_mul(1000))
        .ok_or("a number of seconds")
}

/// Split on spaces, keeping `"..."` together, as the kernel does.
pub fn words(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let space = |c: u8| c == b' ' || c == b'\n' || c == b'\t';
    let mut i = 0;
    core::iter::from_fn(move || {
        while i < b.len() && space(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        let mut quoted = false;
        while i < b.len() && (quoted || !space(b[i])) {
            quoted ^= b[i] == b'"';
            i += 1;
        }
        Some(&b[start..i])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices() {
        assert_eq!(parse_dev("/dev/vda2"), Ok(DevSpec::Name("vda2")));
        assert_eq!(
            parse_dev("PARTUUID=1234abcd-02"),
            Ok(DevSpec::PartUuid("1234abcd-02"))
        );
        assert_eq!(
            parse_dev("PARTLABEL=\"my root\""),
            Ok(DevSpec::PartLabel("my root"))
        );
        assert_eq!(parse_dev("\"LABEL=a b\""), Ok(DevSpec::Label("a b")));
        assert_eq!(
            parse_dev("/dev/disk/by-uuid/ab-cd"),
            Ok(DevSpec::Uuid("ab-cd"))
        );
        assert_eq!(
            parse_dev("/dev/disk/by-label/sys"),
            Ok(DevSpec::Label("sys"))
        );
        assert_eq!(parse_dev("8:3"), Ok(DevSpec::Number(8, 3)));
        assert_eq!(parse_dev("0x803"), Ok(DevSpec::Number(8, 3)));
        for bad in [
            "",
            "sda",
            "/dev/",
            "/dev/../etc",
            "/dev/a//b",
            "UUID=",
            "UUID=xyz",
            "PARTUUID=ab/PARTNROFF=1",
            "1:",
            "0x",
            "0x123456789",
            "FOO=bar",
        ] {
            assert!(parse_dev(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn command_line() {
        let text = b"console=ttyS0 root=/dev/vda ro rootfstype=ext4 root=PARTLABEL=sys \
            rootflags=noatime rw rootwait rootdelay=2 init=/sbin/init roothash=ab12 \
            systemd.verity_root_hash=/dev/vdb systemd.volatile=overlay quiet -- root=/dev/nope";
        let mut r = Request::default();
        let mut broken = None;
        let mut bad = Vec::new();
        parse_cmdline(text, &mut r, &mut broken, |w, why| bad.push((w, why)));
        assert_eq!(bad, vec![]);
        assert_eq!(broken, None);
        assert_eq!(r.device, Some(DevSpec::PartLabel("sys")));
        assert_eq!(r.fstype, Some("ext4"));
        assert_eq!(r.options, Some("noatime"));
        assert_eq!(r.read_write, Some(true));
        assert_eq!(r.wait, Some(Wait::Forever));
        assert_eq!(r.delay_ms, Some(2000));
        assert_eq!(r.init, Some("/sbin/init"));
        assert_eq!(r.root_hash, Some("ab12"));
        assert_eq!(r.verity_hash, Some(DevSpec::Name("vdb")));
        assert_eq!(r.overlay, Some(Overlay::Tmpfs));
        assert_eq!(r.check(), Ok(()));
    }

    #[test]
    fn command_line_errors() {
        let mut r = Request::default();
        let mut broken = None;
        let mut bad = Vec::new();
        parse_cmdline(
            b"root=sda1 rootwait=x roothash=xyz rootdelay=-1 systemd.volatile=yes init= r\xffoot=1",
            &mut r,
            &mut broken,
            |w, _| bad.push(w),
        );
        assert_eq!(bad.len(), 6, "{bad:?}");
        assert!(broken.is_some());
        assert_eq!(r, Request::default());
        let mut r = Request::default();
        parse_cmdline(b"root=/dev/vda rootwait=30", &mut r, &mut broken, |_, _| {});
        assert_eq!(r.wait(), Wait::Bounded(30_000));
        assert!(r.wants_root());
    }

    #[test]
    fn merge_and_check() {
        let cfg = Request {
            device: Some(DevSpec::Label("cfg")),
            fstype: Some("squashfs"),
            init: Some("/sbin/init"),
            ..Request::default()
        };
        let cmd = Request {
            device: Some(DevSpec::Name("vda")),
            ..Request::default()
        };
        let m = cmd.merge(&cfg);
        assert_eq!(m.device, Some(DevSpec::Name("vda")));
        assert_eq!(m.fstype, Some("squashfs"));
        assert_eq!(m.wait(), Wait::Bounded(DEFAULT_WAIT_MS));
        let mut v = m;
        v.verity_options = Some("hash-offset=4096");
        assert!(v.check().is_err(), "verity options without a hash");
        v.root_hash = Some("00ff");
        assert_eq!(v.check(), Ok(()));
        v.init = Some("sbin/init");
        assert!(v.check().is_err());
        assert!(Request::default().check().is_err());
    }

    #[test]
    fn verity_options() {
        let o =
            parse_verity_options("hash-offset=8192,panic-on-corruption,superblock=yes").unwrap();
        assert_eq!((o.hash_offset, o.on_corruption), (8192, Corruption::Panic));
        assert!(parse_verity_options("hash-offset=100").is_err());
        assert!(parse_verity_options("superblock=no").is_err());
        assert!(parse_verity_options("fec-device=/dev/x").is_err());
        assert_eq!(
            parse_verity_options("").unwrap().on_corruption,
            Corruption::Eio
        );
    }
}
