//! The Landlock actor: for a service with `landlock-read`/`landlock-write`
//! rules, the operations the monitor emulates run in a process under the
//! same Landlock rules, so that the kernel refuses them exactly as it
//! would refuse the service itself.
//!
//! Why a second process and not the worker itself: a Landlock domain may
//! only ptrace (read the memory of, open `/proc/PID/fd` of, ...) processes
//! in itself or in domains nested in it, and the service's domain is a
//! sibling of any domain the worker could make. So the worker reads the
//! target and resolves its paths, and the actor, forked by the worker once
//! it is in the service's mount namespace and root, takes the located
//! directories (O_PATH fds) and names, wears the target's credentials and
//! performs. Landlock does not restrict resolution, only the operation, so
//! nothing is lost by resolving outside it.

use rustix::fd::{AsFd, OwnedFd};

use super::emulate::{self, Op, Spec, OPS};
use super::reach;
use super::resolve::Entry;
use super::target::{self, Creds, MAX_GROUPS};
use crate::log;
use crate::out::Sink;
use crate::sys::fd::Kept;
use crate::sys::{landlock, proc, sock, Errno};

/// The worker's end of the actor's socket, if it has an actor.
static ACTOR: Kept = Kept::new();

/// Largest request: the words, the groups (a word each), two names and a
/// link target (a length word and bytes each).
const MAX_MSG: usize = 8 * (WORDS + 1 + MAX_GROUPS + 3) + 2 * 256 + 4097;
/// Words of a request before the groups: the operation's, then the
/// credentials'.
const WORDS: usize = 12;

/// Does this worker perform through an actor?
pub fn active() -> bool {
    ACTOR.get().is_some()
}

/// Fork the actor under the Landlock rules `ro` (read) and `rw` (write),
/// and wait until it has them. Where the kernel has no Landlock the
/// service runs without its rules (`landlock optional`), and so does the
/// monitor: no actor.
pub fn start(ro: &[&str], rw: &[&str]) -> Result<(), Errno> {
    if landlock::abi_version().is_err() {
        return Ok(());
    }
    let (ours, theirs) = sock::pair()?;
    let pid = proc::fork()?;
    if pid == 0 {
        drop(ours);
        run(theirs, ro, rw)
    }
    drop(theirs);
    let mut m = [0u8; 8];
    let mut fds = [None, None, None, None];
    match sock::recv(ours.as_fd(), &mut m, &mut fds) {
        Ok(5) if m[0] == 1 => {}
        Ok(5) => {
            let e = u32::from_ne_bytes([m[1], m[2], m[3], m[4]]);
            return Err(Errno::from_raw_os_error(e as i32));
        }
        _ => return Err(Errno::CHILD),
    }
    ACTOR.set(ours);
    Ok(())
}

/// Have the actor perform `s` on the located entries as `creds`.
pub fn perform(
    s: &Spec,
    e: &[Option<Entry>; 2],
    link_target: &[u8],
    creds: &Creds,
) -> Result<Option<OwnedFd>, Errno> {
    let mut m = [0u8; MAX_MSG];
    let mut w = Writer { m: &mut m, at: 0 };
    let words: [u64; WORDS] = [
        s.op as u64,
        s.flags as u64,
        s.mode as u64,
        s.uid as u64,
        s.gid as u64,
        s.arg,
        s.resolve,
        s.follow[0] as u64,
        creds.fsuid as u64,
        creds.fsgid as u64,
        creds.umask as u64,
        creds.caps,
    ];
    for v in words {
        w.word(v);
    }
    w.word(creds.ngroups as u64);
    for &g in creds.groups() {
        w.word(g as u64);
    }
    for x in e {
        w.field(x.as_ref().map_or(&b""[..], |x| x.name.as_bytes()));
    }
    w.field(link_target);
    let len = w.at;
    let a = ACTOR.get().ok_or(Errno::IO)?;
    // The directories, in order (the actor takes them so): a second
    // entry without a first has no place.
    let (fds, n) = match e {
        [Some(x), Some(y)] => ([x.dir.as_fd(), y.dir.as_fd()], 2),
        [Some(x), None] => ([x.dir.as_fd(), a], 1),
        [None, None] => ([a, a], 0),
        [None, Some(_)] => return Err(Errno::IO),
    };
    sock::send(a, &m[..len], &fds[..n]).map_err(|_| Errno::IO)?;
    let mut r = [0u8; 4];
    let mut got = [None, None, None, None];
    match sock::recv(a, &mut r, &mut got) {
        Ok(4) => {}
        _ => return Err(Errno::IO),
    }
    match i32::from_ne_bytes(r) {
        0 => Ok(got[0].take()),
        e => Err(Errno::from_raw_os_error(e)),
    }
}

struct Writer<'a> {
    m: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, b: &[u8]) {
        let end = (self.at + b.len()).min(self.m.len());
        self.m[self.at..end].copy_from_slice(&b[..end - self.at]);
        self.at = end;
    }

    fn word(&mut self, v: u64) {
        self.put(&v.to_ne_bytes());
    }

    /// A length-prefixed field.
    fn field(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        self.put(b);
    }
}

struct Reader<'a> {
    m: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Errno> {
        let b = self.m.get(self.at..self.at + n).ok_or(Errno::INVAL)?;
        self.at += n;
        Ok(b)
    }

    fn word(&mut self) -> Result<u64, Errno> {
        let b = self.take(8)?;
        Ok(u64::from_ne_bytes(b.try_into().map_err(|_| Errno::INVAL)?))
    }

    fn field(&mut self) -> Result<&'a [u8], Errno> {
        let n = self.word()? as usize;
        self.take(n)
    }
}

// ---- the actor's side -------------------------------------------------

fn run(sock_fd: OwnedFd, ro: &[&str], rw: &[&str]) -> ! {
    let parent = rustix::process::getppid();
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if rustix::process::getppid() != parent {
        proc::exit(1);
    }
    let c = sock_fd.as_fd();
    // The worker's listener and channel are not the actor's business.
    super::worker::close_all_but(&[Some(c), reach::proc_fd(), Some(log::console()), log::kmsg()]);
    let mut hello = [0u8; 5];
    match landlock::restrict_beneath(ro, rw) {
        Ok(()) => hello[0] = 1,
        Err(e) => hello[1..].copy_from_slice(&(e.raw_os_error() as u32).to_ne_bytes()),
    }
    if sock::send(c, &hello, &[]).is_err() || hello[0] == 0 {
        proc::exit(1);
    }
    let mut m = [0u8; MAX_MSG];
    loop {
        let mut fds = [None, None, None, None];
        let n = match sock::recv(c, &mut m, &mut fds) {
            Ok(0) | Err(_) => proc::exit(0),
            Ok(n) => n,
        };
        let [d0, d1, ..] = fds;
        let (fd, err) = match serve(&m[..n], [d0, d1]) {
            Ok(Some(f)) => (Some(f), 0),
            Ok(None) => (None, 0),
            Err(e) => (None, e.raw_os_error()),
        };
        let r = err.to_ne_bytes();
        let f;
        let fds = match &fd {
            Some(o) => {
                f = o.as_fd();
                core::slice::from_ref(&f)
            }
            None => &[],
        };
        if sock::send(c, &r, fds).is_err() {
            proc::exit(1);
        }
    }
}

/// One request: decode, wear the target's credentials, perform.
fn serve(m: &[u8], dirs: [Option<OwnedFd>; 2]) -> Result<Option<OwnedFd>, Errno> {
    let mut r = Reader { m, at: 0 };
    let mut v = [0u64; WORDS];
    for slot in v.iter_mut() {
        *slot = r.word()?;
    }
    let op = *OPS.get(v[0] as usize).ok_or(Errno::INVAL)?;
    let s = Spec {
        op,
        flags: v[1] as u32,
        mode: v[2] as u32,
        uid: v[3] as u32,
        gid: v[4] as u32,
        arg: v[5],
        resolve: v[6],
        follow: [v[7] != 0, false],
    };
    let mut c = Creds::zeroed();
    (c.fsuid, c.fsgid, c.umask, c.caps) = (v[8] as u32, v[9] as u32, v[10] as u32, v[11]);
    c.ngroups = (r.word()? as usize).min(MAX_GROUPS);
    for g in c.groups[..c.ngroups].iter_mut() {
        *g = r.word()? as u32;
    }
    let mut e: [Option<Entry>; 2] = [None, None];
    for (slot, dir) in e.iter_mut().zip(dirs) {
        let name = r.field()?;
        if let Some(dir) = dir {
            let mut x = Entry {
                dir,
                name: crate::out::Buf::new(),
            };
            x.name.put(name);
            *slot = Some(x);
        }
    }
    let link = r.field()?;
    if op == Op::Symlink && link.is_empty() {
        return Err(Errno::NOENT);
    }
    let worn = target::wear(&c)?;
    let out = emulate::perform(&s, &e, link);
    drop(worn);
    out
}
