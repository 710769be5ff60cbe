//! Booting a real root: vigil as the initramfs `/init` finds the root
//! device, mounts it (read-only with an overlay, through dm-verity, as
//! asked), switches to it, and then either hands PID 1 to `init=` or stays
//! PID 1 and runs the services of the new root's config.
//!
//! Every step that fails logs what it tried and why and returns a short
//! reason; the caller then runs the emergency shell and powers off.
//! Nothing here sleeps blind: devices are waited for in a poll on the
//! kernel's uevent socket, with a rescan every second as a backstop.

pub mod devices;
pub mod spec;
pub mod switch;
pub mod verity;

use heapless::Vec;
use linux_raw_sys::general as g;

use crate::log;
use crate::out::{Buf, Sink};
use crate::service::mount::{mount, unmount};
use crate::sys::poll::{self, PollFd, POLLIN};
use crate::sys::{self, blk, Args, Errno};
use devices::{Dev, MAX_DEVICES};
use spec::{DevSpec, Overlay, Request, Wait};
use switch::NEW_ROOT;

/// Where the layers of an overlay root are mounted; `/run` moves into the
/// new root, so they stay visible there (OpenWrt's `/rom` and `/overlay`).
pub const LOWER: &str = "/run/vigil/lower";
pub const DATA: &str = "/run/vigil/data";

/// How long an optional device (the overlay's data partition) is waited
/// for once the required ones are there.
const OPTIONAL_GRACE_NS: u64 = 2_000_000_000;
/// How often `rootwait` says what it sees.
const REPORT_NS: u64 = 30_000_000_000;

/// How a wait went, for the log: its time, the scans of
/// `/sys/class/block`, and the uevents that woke it.
#[derive(Clone, Copy, Default)]
struct Waited {
    ms: u64,
    scans: u32,
    uevents: u32,
}

/// A device being looked for.
struct Wanted<'a> {
    spec: DevSpec<'a>,
    /// `root`, `verity hash device`, ...: for messages.
    what: &'static str,
    found: Option<Dev>,
}

/// Find, check, mount and switch to the root `req` asks for. Returns once
/// vigil runs in the new root; on an error (logged), the reason.
#[inline(never)]
pub fn boot(req: &Request) -> Result<(), &'static str> {
    let t0 = poll::now_ns();
    req.check().inspect_err(|why| {
        let mut l = log::start(log::Level::Error);
        l.s("root: ").s(why);
        l.end();
    })?;
    let verity = req.root_hash.is_some();
    // Verity's data device is the root unless said otherwise.
    let data_spec = match (verity, req.verity_data, req.device) {
        (true, Some(d), _) => d,
        (_, _, Some(d)) => d,
        (_, Some(d), None) => d,
        (_, None, None) => return Err("no root device"),
    };
    let mut wanted: Vec<Wanted, 2> = Vec::new();
    let _ = wanted.push(Wanted {
        spec: data_spec,
        what: if verity {
            "verity data device"
        } else {
            "root device"
        },
        found: None,
    });
    let hash_spec = req.verity_hash.filter(|h| verity && *h != data_spec);
    if let Some(h) = hash_spec {
        let _ = wanted.push(Wanted {
            spec: h,
            what: "verity hash device",
            found: None,
        });
    }
    let mut data_dev = match req.overlay {
        Some(Overlay::Device { dev, .. }) => Some(Wanted {
            spec: dev,
            what: "overlay data device",
            found: None,
        }),
        _ => None,
    };
    let waited = wait_for(
        &mut wanted,
        data_dev.as_mut(),
        req.wait(),
        req.delay_ms.unwrap_or(0),
    )?;
    let mut root = wanted[0].found.take().ok_or("no root device")?;
    devices::probe(&mut root);
    let mut what = Buf::<160>::new();
    devices::spec_text(&data_spec, &mut what);
    info(|l| {
        l.s("root: ").put(what.as_bytes());
        l.s(" is ");
        root.describe(l);
        l.s(" (after ")
            .u(waited.ms)
            .s(" ms, ")
            .u(waited.scans as u64)
            .s(" scans, ");
        l.u(waited.uevents as u64).s(" uevents)");
    });

    if verity {
        let hash = match wanted.get_mut(1) {
            Some(w) => w.found.take().ok_or("no verity hash device")?,
            None => root.clone(),
        };
        root = setup_verity(req, &root, &hash)?;
    }
    devices::probe(&mut root);
    let rw = req.read_write.unwrap_or(false);
    let (set, clear, data) = split_options(req.options.unwrap_or(""));
    let flags =
        (set | if rw && req.overlay.is_none() {
            0
        } else {
            g::MS_RDONLY
        }) & !clear_rdonly(clear, rw);
    let _ = rustix::fs::mkdir(NEW_ROOT.as_bytes(), rustix::fs::Mode::from_raw_mode(0o755));
    match req.overlay {
        None => {
            mount_dev(&root, NEW_ROOT, req.fstype, flags, &data)?;
        }
        Some(o) => {
            mkdirs(LOWER);
            mkdirs(DATA);
            mount_dev(&root, LOWER, req.fstype, flags | g::MS_RDONLY, &data)?;
            let fallback = match o {
                Overlay::Tmpfs => Some("the overlay is a tmpfs (systemd.volatile=overlay)"),
                Overlay::Device { fstype, .. } => match data_dev.and_then(|w| w.found) {
                    None => Some(
                        "the overlay data device was not found: changes go to a tmpfs and are lost at power-off",
                    ),
                    Some(mut d) => {
                        devices::probe(&mut d);
                        match mount_dev(&d, DATA, fstype, g::MS_NOSUID | g::MS_NODEV, &Buf::new())
                            .and_then(|_| upper_dirs())
                        {
                            Ok(()) => None,
                            Err(_) => {
                                let _ = unmount(DATA.as_bytes(), rustix::mount::UnmountFlags::DETACH);
                                Some("the overlay data device cannot be used: changes go to a tmpfs and are lost at power-off")
                            }
                        }
                    }
                },
            };
            if let Some(why) = fallback {
                let level = if o == Overlay::Tmpfs {
                    log::Level::Info
                } else {
                    log::Level::Warn
                };
                let mut l = log::start(level);
                l.s("root: ").s(why);
                l.end();
                mount(
                    b"tmpfs",
                    DATA.as_bytes(),
                    b"tmpfs",
                    g::MS_NOSUID | g::MS_NODEV,
                    Some(c"mode=0755"),
                )
                .map_err(|e| fail("mounting the overlay's tmpfs", e))?;
                upper_dirs()?;
            }
            let mut opts = Buf::<192>::new();
            opts.s("lowerdir=")
                .s(LOWER)
                .s(",upperdir=")
                .s(DATA)
                .s("/upper,workdir=")
                .s(DATA)
                .s("/work");
            opts.put(b"\0");
            let c = core::ffi::CStr::from_bytes_until_nul(opts.as_bytes()).unwrap_or(c"");
            mount(b"overlay", NEW_ROOT.as_bytes(), b"overlay", 0, Some(c))
                .map_err(|e| fail("mounting the overlay (is the overlay module loaded?)", e))?;
            info(|l| {
                l.s("root: overlay on ")
                    .s(NEW_ROOT)
                    .s(": ")
                    .s(LOWER)
                    .s(" under ")
                    .s(DATA)
                    .s("/upper");
            });
        }
    }
    if let Some(init) = req.init {
        let mut p = Buf::<300>::new();
        p.s(NEW_ROOT).s(init);
        if rustix::fs::access(p.as_bytes(), rustix::fs::Access::EXEC_OK).is_err() {
            let mut l = log::start(log::Level::Error);
            l.s("root: init=")
                .s(init)
                .s(" is not an executable file in the new root");
            l.end();
            return Err("init= is missing from the new root");
        }
    }
    switch::preflight().map_err(|why| {
        let mut l = log::start(log::Level::Error);
        l.s("root: switch_root refused: ").s(why);
        l.end();
        "switch_root refused"
    })?;
    let mut table = [0u8; 16 * 1024];
    let n = sys::read_file(b"/proc/self/mounts", &mut table).unwrap_or(0);
    switch::switch(&table[..n]).map_err(|(what, e)| fail(what, e))?;
    info(|l| {
        l.s("root: switched to ").put(what.as_bytes());
        l.s(" in ").u((poll::now_ns() - t0) / 1_000_000).s(" ms");
    });
    Ok(())
}

/// Wait until every device of `wanted` is there (and `optional`, for at
/// most `OPTIONAL_GRACE_NS` more), or the wait is over.
// Stack: out of line, the device table lives only while it runs.
#[inline(never)]
fn wait_for<'a>(
    wanted: &mut [Wanted<'a>],
    optional: Option<&mut Wanted<'a>>,
    wait: Wait,
    delay_ms: u32,
) -> Result<Waited, &'static str> {
    let sock = blk::uevent_socket()
        .inspect_err(|&e| {
            let mut l = log::start(log::Level::Debug);
            l.s("root: no uevent socket (rescanning instead): ");
            l.end_errno(e);
        })
        .ok();
    let r = wait_on(sock, wanted, optional, wait, delay_ms);
    if let Some(fd) = sock {
        sys::proc::close(fd);
    }
    r
}

fn wait_on<'a>(
    sock: Option<i32>,
    wanted: &mut [Wanted<'a>],
    mut optional: Option<&mut Wanted<'a>>,
    wait: Wait,
    delay_ms: u32,
) -> Result<Waited, &'static str> {
    let mut w = Waited::default();
    if delay_ms > 0 {
        info(|l| {
            l.s("root: waiting ")
                .u(delay_ms as u64)
                .s(" ms first (rootdelay)");
        });
        let until = poll::now_ns() + delay_ms as u64 * 1_000_000;
        while poll::now_ns() < until {
            w.uevents += events(sock, until.saturating_sub(poll::now_ns()));
        }
    }
    let start = poll::now_ns();
    let mut table: Vec<Dev, MAX_DEVICES> = Vec::new();
    let mut extra = 0;
    let mut all_since = None;
    let mut next_report = start + REPORT_NS;
    loop {
        devices::scan(&mut table, &mut extra);
        w.scans += 1;
        let mut all = true;
        for w in wanted.iter_mut().chain(optional.as_deref_mut()) {
            if w.found.is_some() {
                continue;
            }
            match devices::find(&mut table, &w.spec) {
                Ok(Some(i)) => w.found = Some(table[i].clone()),
                Ok(None) => {}
                Err((a, b)) => {
                    let mut l = log::start(log::Level::Error);
                    l.s("root: ").s(w.what).s(" ");
                    devices::spec_text(&w.spec, &mut *l);
                    l.s(" matches both ").put(&table[a].name);
                    l.s(" and ");
                    l.put(&table[b].name);
                    l.s(": refusing to guess");
                    l.end();
                    return Err("two devices match the root");
                }
            }
        }
        for w in wanted.iter() {
            all &= w.found.is_some();
        }
        let now = poll::now_ns();
        if all {
            let since = *all_since.get_or_insert(now);
            if optional.as_ref().is_none_or(|o| o.found.is_some())
                || now.saturating_sub(since) >= OPTIONAL_GRACE_NS
            {
                w.ms = (now - start) / 1_000_000;
                return Ok(w);
            }
        }
        let deadline = match wait {
            Wait::Bounded(ms) => Some(start + ms as u64 * 1_000_000),
            Wait::Forever => None,
        };
        if !all && w.scans == 1 {
            if let Some(m) = wanted.iter().find(|m| m.found.is_none()) {
                info(|l| {
                    l.s("root: waiting for the ").s(m.what).s(" ");
                    devices::spec_text(&m.spec, l);
                    match wait {
                        Wait::Bounded(ms) => l.s(" (at most ").u(ms as u64).s(" ms)"),
                        Wait::Forever => l.s(" (rootwait: no limit)"),
                    };
                });
            }
        }
        if !all && deadline.is_some_and(|d| now >= d) {
            let missing = wanted.iter().find(|w| w.found.is_none());
            let mut l = log::start(log::Level::Error);
            l.s("root: ");
            if let Some(w) = missing {
                l.s(w.what).s(" ");
                devices::spec_text(&w.spec, &mut *l);
            }
            l.s(" not found after ")
                .u((now - start) / 1_000_000)
                .s(" ms; block devices seen:");
            l.end();
            list(&mut table, extra, log::Level::Error);
            return Err("the root device was not found");
        }
        if !all && now >= next_report {
            next_report = now + REPORT_NS;
            info(|l| {
                l.s("root: still waiting (rootwait); block devices seen:");
            });
            list(&mut table, extra, log::Level::Info);
        }
        let backstop = if sock.is_some() {
            1_000_000_000
        } else {
            100_000_000
        };
        let mut t = backstop.min(next_report.saturating_sub(now));
        if let Some(d) = deadline {
            t = t.min(d.saturating_sub(now));
        }
        if all {
            t = t.min(OPTIONAL_GRACE_NS);
        }
        w.uevents += events(sock, t);
    }
}

/// Wait up to `ns` for uevents, and drain them: how many came.
fn events(sock: Option<i32>, ns: u64) -> u32 {
    let Some(fd) = sock else {
        let _ = poll::poll(&mut [], Some(ns));
        return 0;
    };
    let mut n = 0;
    let mut fds = [PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    }];
    if let Ok(1) = poll::poll(&mut fds, Some(ns)) {
        // What the events say does not matter: the scan that follows
        // sees the devices. At most a few dozen per turn.
        let mut b = [0u8; 2048];
        for _ in 0..64 {
            if !matches!(rustix::io::read(sys::borrow(fd), &mut b), Ok(1..)) {
                break;
            }
            n += 1;
        }
    }
    n
}

/// One line per device, content read.
fn list(table: &mut [Dev], extra: u32, level: log::Level) {
    if table.is_empty() {
        let mut l = log::start(level);
        l.s("root:   none (are the disk's modules in `module` lines?)");
        l.end();
    }
    for d in table.iter_mut() {
        devices::probe(d);
        let mut l = log::start(level);
        l.s("root:   ");
        d.describe(&mut *l);
        l.end();
    }
    if extra > 0 {
        let mut l = log::start(level);
        l.s("root:   and ").u(extra as u64).s(" more");
        l.end();
    }
}

/// The verity device over `data` with hashes on `hash`, checked by
/// reading its first block back: it replaces `data` as the root.
#[inline(never)]
fn setup_verity(req: &Request, data: &Dev, hash: &Dev) -> Result<Dev, &'static str> {
    let root_hash = req.root_hash.unwrap_or("");
    let opts = spec::parse_verity_options(req.verity_options.unwrap_or(""))?;
    let refuse = |why: &'static str| {
        let mut l = log::start(log::Level::Error);
        l.s("root: verity: ").s(why);
        l.end();
        why
    };
    let sb = verity::read_superblock(hash, opts.hash_offset).map_err(refuse)?;
    let start = verity::check(&sb, data, hash, &opts, root_hash).map_err(refuse)?;
    let mut params = Buf::<1024>::new();
    verity::table_params(
        (data.major, data.minor),
        (hash.major, hash.minor),
        &sb,
        start,
        root_hash,
        opts.on_corruption,
        &mut params,
    );
    let (major, minor) = verity::create(params.as_bytes(), sb.data_bytes() / 512)
        .map_err(|(what, e)| fail(what, e))?;
    let node = verity::node(major, minor);
    info(|l| {
        l.s("root: verity: ").put(node.as_bytes());
        l.s(" over ").put(&data.name);
        l.s(", hashes on ").put(&hash.name);
        l.s(" at ")
            .u(opts.hash_offset)
            .s(", ")
            .s(sb.algorithm())
            .s(", ")
            .u(sb.data_blocks)
            .s(" blocks");
    });
    // dm-verity checks the root hash on the first read: a mismatch is
    // EIO here, and the boot is refused with that reason.
    let mut first = [0u8; 4096];
    match devices::read_head(node.as_bytes(), &mut first) {
        Ok(_) => {}
        Err(e) => {
            let mut l = log::start(log::Level::Error);
            l.s("root: verity: reading the first block of ")
                .put(node.as_bytes());
            l.s(" failed (");
            log::errno(&mut l, e);
            l.s("): the data or its hashes do not match roothash=, refusing to boot");
            l.end();
            return Err("verity: the root hash does not match");
        }
    }
    let mut d = data.clone();
    d.name.clear();
    let _ = d.name.extend_from_slice(&node.as_bytes()[5..]);
    d.major = major;
    d.minor = minor;
    d.partn = 0;
    d.bytes = sb.data_bytes();
    d.content = devices::Content::NotRead;
    Ok(d)
}

/// Mount `dev` on `target`: as `fstype` if given, else as what its
/// superblock says, else as each filesystem of the kernel in turn (as the
/// kernel does).
#[inline(never)]
fn mount_dev(
    dev: &Dev,
    target: &str,
    fstype: Option<&str>,
    flags: u32,
    data: &Buf<256>,
) -> Result<(), &'static str> {
    let path = dev.path();
    let mut d = Buf::<257>::new();
    d.put(data.as_bytes());
    d.put(b"\0");
    let c = core::ffi::CStr::from_bytes_until_nul(d.as_bytes()).unwrap_or(c"");
    let try_one = |fs: &str| {
        let r = mount(
            path.as_bytes(),
            target.as_bytes(),
            fs.as_bytes(),
            flags,
            Some(c),
        );
        let mut l = log::start(if r.is_ok() {
            log::Level::Info
        } else {
            log::Level::Error
        });
        l.s("root: mount ").put(path.as_bytes());
        l.s(" on ").s(target).s(" as ").s(fs);
        l.s(if flags & g::MS_RDONLY != 0 {
            " (read-only)"
        } else {
            " (read-write)"
        });
        match r {
            Ok(()) => l.end(),
            Err(e) => {
                l.s(": ");
                log::errno(&mut l, e);
                l.s(hint(e));
                l.end();
            }
        }
        r
    };
    if let Some(fs) = fstype.or(dev.fstype()) {
        return try_one(fs).map_err(|_| "the root filesystem cannot be mounted");
    }
    let mut list = [0u8; 2048];
    let n = sys::read_file(b"/proc/filesystems", &mut list).unwrap_or(0);
    let mut any = false;
    for line in list[..n].split(|&b| b == b'\n') {
        if line.starts_with(b"nodev") {
            continue;
        }
        let Ok(fs) = core::str::from_utf8(line.trim_ascii()) else {
            continue;
        };
        if fs.is_empty() {
            continue;
        }
        any = true;
        if try_one(fs).is_ok() {
            return Ok(());
        }
    }
    let mut l = log::start(log::Level::Error);
    l.s("root: ").put(path.as_bytes());
    l.s(if any {
        ": no filesystem of this kernel mounts it (give rootfstype=)"
    } else {
        ": the kernel has no disk filesystem at all"
    });
    l.end();
    Err("the root filesystem cannot be mounted")
}

/// What an errno of `mount(2)` usually means here.
fn hint(e: Errno) -> &'static str {
    match e {
        Errno::NODEV => " (the kernel has no such filesystem: a missing `module` line?)",
        Errno::INVAL => " (not a filesystem of that type, or bad options)",
        Errno::BADMSG | Errno::UCLEAN => " (corrupt: a checksum does not match)",
        Errno::IO => " (read error, or data that fails verity)",
        Errno::NOTBLK | Errno::NOENT | Errno::NXIO => " (no such device)",
        Errno::ROFS | Errno::ACCESS => " (the device is read-only)",
        _ => "",
    }
}

/// `upper/` and `work/` on the data layer.
fn upper_dirs() -> Result<(), &'static str> {
    for (d, mode) in [("/upper", 0o755), ("/work", 0o700)] {
        let mut p = Buf::<64>::new();
        p.s(DATA).s(d);
        match rustix::fs::mkdir(p.as_bytes(), rustix::fs::Mode::from_raw_mode(mode)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(fail("making the overlay's upper and work directories", e)),
        }
    }
    Ok(())
}

/// `mkdir -p`, errors left to the mount that follows.
fn mkdirs(path: &str) {
    let p = path.as_bytes();
    for end in (1..=p.len()).filter(|&i| i == p.len() || p[i] == b'/') {
        let _ = rustix::fs::mkdir(&p[..end], rustix::fs::Mode::from_raw_mode(0o755));
    }
}

/// Mount options as mount(8) splits them: the flags it knows become
/// `MS_*` bits (set, and cleared by their opposites), the rest is the
/// filesystem's data, comma-separated.
pub fn split_options(opts: &str) -> (u32, u32, Buf<256>) {
    const FLAGS: [(&str, u32, bool); 18] = [
        ("ro", g::MS_RDONLY, true),
        ("rw", g::MS_RDONLY, false),
        ("nosuid", g::MS_NOSUID, true),
        ("suid", g::MS_NOSUID, false),
        ("nodev", g::MS_NODEV, true),
        ("dev", g::MS_NODEV, false),
        ("noexec", g::MS_NOEXEC, true),
        ("exec", g::MS_NOEXEC, false),
        ("sync", g::MS_SYNCHRONOUS, true),
        ("async", g::MS_SYNCHRONOUS, false),
        ("dirsync", g::MS_DIRSYNC, true),
        ("noatime", g::MS_NOATIME, true),
        ("atime", g::MS_NOATIME, false),
        ("nodiratime", g::MS_NODIRATIME, true),
        ("relatime", g::MS_RELATIME, true),
        ("norelatime", g::MS_RELATIME, false),
        ("strictatime", g::MS_STRICTATIME, true),
        ("lazytime", g::MS_LAZYTIME, true),
    ];
    let (mut set, mut clear) = (0, 0);
    let mut data = Buf::new();
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match FLAGS.iter().find(|f| f.0 == o) {
            Some(&(_, bit, true)) => set |= bit,
            Some(&(_, bit, false)) => clear |= bit,
            None => {
                if !data.is_empty() {
                    data.s(",");
                }
                data.s(o);
            }
        }
    }
    (set & !clear, clear, data)
}

/// `rw` in the options clears read-only only when the request is `rw`
/// too; `ro` in them always wins.
fn clear_rdonly(clear: u32, rw: bool) -> u32 {
    if rw {
        clear & g::MS_RDONLY
    } else {
        0
    }
}

/// Log why a step failed; its reason.
fn fail(what: &'static str, e: Errno) -> &'static str {
    let mut l = log::start(log::Level::Error);
    l.s("root: ").s(what).s(": ");
    l.end_errno(e);
    what
}

fn info(f: impl FnOnce(&mut log::Line)) {
    let mut l = log::start(log::Level::Info);
    f(&mut l);
    l.end();
}

/// Hand PID 1 to `init` in the new root, as busybox `switch_root` does:
/// the kernel's arguments and environment passed on, the signal mask
/// cleared. Returns only if the exec failed.
pub fn hand_over(init: &str, args: &Args) -> Errno {
    let mut exec = sys::exec::ExecBuf::new();
    let _ = exec.arg(init.as_bytes());
    for i in 1..args.len() {
        if let Some(a) = args.get(i) {
            let _ = exec.arg(a);
        }
    }
    exec.inherit_env(args.envp());
    info(|l| {
        l.s("root: handing PID 1 to ").s(init);
    });
    let _ = sys::signal::set_mask(sys::signal::SigSet(0));
    let e = exec.exec(init.as_bytes());
    let _ = sys::signal::set_mask(crate::init::SIGNALS);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let (set, clear, data) = split_options("noatime,data=ordered,rw,,nosuid,errors=remount-ro");
        assert_eq!(set, g::MS_NOATIME | g::MS_NOSUID);
        assert_eq!(clear, g::MS_RDONLY);
        assert_eq!(data.as_str(), "data=ordered,errors=remount-ro");
        let (set, _, data) = split_options("");
        assert_eq!((set, data.as_str()), (0, ""));
    }
}
