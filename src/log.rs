//! Log lines: `vigil: ...` to the console (stderr) and, in PID 1 mode, to
//! `/dev/kmsg` with a priority so that `dmesg` shows them.

use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use rustix::fd::{BorrowedFd, OwnedFd};

use crate::out::{Buf, Sink};
use crate::sys;
use crate::sys::cell::Shared;
use crate::sys::fd::Kept;

/// A log line under construction.
pub type Line = Buf<640>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Error = 3,
    Warn = 4,
    Info = 6,
    Debug = 7,
}

/// Highest level printed (`vigil.log=quiet|info|debug`).
static MAX: AtomicU8 = AtomicU8::new(Level::Info as u8);
static CONSOLE: Kept = Kept::stderr();
static KMSG: Kept = Kept::new();
/// The console fd is non-blocking: lines it cannot take wait in `PENDING`.
static NONBLOCKING: AtomicBool = AtomicBool::new(false);

/// Console lines not written yet, oldest first, and how many did not fit.
struct Pending {
    len: usize,
    /// The most `len` was since the buffer was last empty.
    high: usize,
    dropped: u32,
    buf: [u8; PENDING_MAX],
}

/// A busy console delays about 1000 lines before it drops any: a boot
/// that starts many services at once on a slow serial console (an emulated
/// UART on a loaded host) overflowed one page.
const PENDING_MAX: usize = 64 * 1024;

/// All zeros: in `.bss`, and resident only while lines wait (its pages
/// are given back when it empties).
static PENDING: Shared<Pending> = Shared::new(Pending {
    len: 0,
    high: 0,
    dropped: 0,
    buf: [0; PENDING_MAX],
});

pub fn set_max(level: Level) {
    MAX.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX.load(Ordering::Relaxed)
}

/// PID 1 writes its lines to a non-blocking console of its own: writing to
/// a tty waits for its write lock, which a service writing to the console
/// holds for as long as its write lasts, and a service throttled by its
/// cgroup can sit on it for seconds. Lines the console cannot take now
/// wait in a fixed buffer and go out from the poll loop (`flush`);
/// past it they are dropped and counted (kmsg has every line).
pub fn set_console_nonblocking(fd: OwnedFd) {
    CONSOLE.set(fd);
    NONBLOCKING.store(true, Ordering::Relaxed);
}

/// Are console lines waiting? (The poll loop then calls `flush` soon.)
pub fn pending() -> bool {
    NONBLOCKING.load(Ordering::Relaxed)
        && PENDING.with(|p| p.len > 0 || p.dropped > 0) == Some(true)
}

/// Write what the console takes now of the waiting lines.
pub fn flush() {
    let _ = PENDING.with(|p| p.flush(console()));
}

/// How long the last lines may wait for the console: a service can hold
/// its write lock, or stop its output (`tcflow(TCOOFF)`, open to anyone
/// who has it open) and leave it stopped, and PID 1 never waits on it for
/// good.
const LAST_WAIT_NS: u64 = 5_000_000_000;

/// Write the waiting lines, then `last` whole (the test result line, or
/// nothing), waiting for the console up to `LAST_WAIT_NS`. Whether `last`
/// went out (if not, kmsg says so).
pub fn flush_last(last: &[u8]) -> bool {
    flush_within(last, LAST_WAIT_NS)
}

/// How long a worker about to exit waits for the console to take its
/// waiting lines: they are the decisions it logged, and its process, with
/// the lines in its memory, is about to go.
pub const EXIT_WAIT_NS: u64 = 1_000_000_000;

/// Write the waiting lines, then `last` whole, waiting for the console up
/// to `wait_ns`. Whether `last` went out.
pub fn flush_within(last: &[u8], wait_ns: u64) -> bool {
    let fd = console();
    if !NONBLOCKING.load(Ordering::Relaxed) {
        return sys::write_all(fd, last).is_ok();
    }
    let deadline = crate::sys::poll::now_ns() + wait_ns;
    let mut rest = last;
    let _ = PENDING.with(|p| loop {
        p.flush(fd);
        while p.len == 0 && !rest.is_empty() {
            match rustix::io::write(fd, rest) {
                Ok(n) => rest = &rest[n..],
                Err(sys::Errno::INTR) => {}
                Err(sys::Errno::AGAIN) => break,
                Err(_) => return,
            }
        }
        if (p.len == 0 && rest.is_empty()) || crate::sys::poll::now_ns() >= deadline {
            return;
        }
        let _ = crate::sys::poll::poll(&mut [], Some(LOG_WAIT_STEP_NS));
    });
    if !rest.is_empty() {
        let mut l = start(Level::Error);
        l.s("the console was busy for ")
            .u(wait_ns / 1_000_000_000)
            .s(" s: not written to it: ");
        l.esc(last.strip_suffix(b"\n").unwrap_or(last));
        l.end();
    }
    rest.is_empty()
}

/// How often `flush_last` tries again.
const LOG_WAIT_STEP_NS: u64 = 10_000_000;

impl Pending {
    /// Queue `line` (whole, or not at all), then write what fits.
    fn put(&mut self, fd: BorrowedFd<'_>, line: &[u8]) {
        if self.len + line.len() <= PENDING_MAX {
            self.buf[self.len..self.len + line.len()].copy_from_slice(line);
            self.len += line.len();
            self.high = self.high.max(self.len);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
        self.flush(fd);
    }

    fn flush(&mut self, fd: BorrowedFd<'_>) {
        while self.len > 0 {
            match rustix::io::write(fd, &self.buf[..self.len]) {
                Ok(n) if n > 0 => {
                    self.buf.copy_within(n..self.len, 0);
                    self.len -= n;
                }
                Err(sys::Errno::INTR) => {}
                // EAGAIN: busy, later. Anything else: no console to wait for.
                Err(sys::Errno::AGAIN) => return,
                _ => self.len = 0,
            }
        }
        // A burst that filled pages of it leaves them resident, PID 1's
        // footprint for good, unless they are given back now it is empty.
        if self.high > sys::pages::PAGE {
            self.high = 0;
            sys::pages::release(&mut self.buf);
        }
        if self.dropped > 0 {
            let mut b = Buf::<128>::new();
            b.s("vigil: warning: ")
                .u(self.dropped as u64)
                .s(" log lines dropped: the console was busy (kmsg has them)\n");
            if self.len + b.len() <= PENDING_MAX {
                self.dropped = 0;
                self.put(fd, b.as_bytes());
            }
        }
    }
}

/// Also send every line to this `/dev/kmsg` fd.
pub fn set_kmsg(fd: OwnedFd) {
    KMSG.set(fd);
}

/// The fd console lines go to: stderr, or PID 1's own (a worker keeps it).
pub fn console() -> BorrowedFd<'static> {
    CONSOLE.get().unwrap_or_else(sys::fd::stderr)
}

/// The `/dev/kmsg` fd, if any (a worker keeps it).
pub fn kmsg() -> Option<BorrowedFd<'static>> {
    KMSG.get()
}

/// A log line under construction, with its level: `start`, write to it
/// (it derefs to a `Line`), then `end`.
// Size: a closure per call site (its body, vtable and call shim) made the
// binary 3.9 KB larger than this builder (measured).
pub struct Msg {
    level: Level,
    line: Line,
}

/// Begin a line at `level` (whether or not the level is enabled).
#[inline(never)]
pub fn start(level: Level) -> Msg {
    let mut m = Msg {
        level,
        line: Line::new(),
    };
    m.line.s("vigil: ");
    if level == Level::Error {
        m.line.s("error: ");
    } else if level == Level::Warn {
        m.line.s("warning: ");
    }
    m
}

/// Begin a line about a service or program: `[who] `.
// Size: one copy of the bracket writes instead of one per message (measured).
#[inline(never)]
pub fn about(level: Level, who: &str) -> Msg {
    let mut m = start(level);
    // Escaped: `vigil run` names the program after its argv[0].
    m.s("[").esc(who.as_bytes()).s("] ");
    m
}

impl Msg {
    /// Append `e` (see `errno`), then `end`.
    // Size: one call for the most common ending (measured).
    #[inline(never)]
    pub fn end_errno(&mut self, e: sys::Errno) {
        errno(self, e);
        self.end();
    }

    /// Emit the line if its level is enabled.
    #[inline(never)]
    pub fn end(&self) {
        if enabled(self.level) {
            emit(self.level, self.line.as_bytes());
        }
    }
}

impl core::ops::Deref for Msg {
    type Target = Line;
    fn deref(&self) -> &Line {
        &self.line
    }
}

impl core::ops::DerefMut for Msg {
    fn deref_mut(&mut self) -> &mut Line {
        &mut self.line
    }
}

/// Write a finished line (without newline) to the console and kmsg.
pub fn emit(level: Level, line: &[u8]) {
    // One buffer: `<N>LINE` for kmsg, `LINE\n` for the console.
    let mut b = Buf::<700>::new();
    b.s("<").u(level as u64).s(">");
    let at = b.len();
    b.put(line);
    b.s("\n");
    let all = b.as_bytes();
    if let Some(kmsg) = KMSG.get() {
        let _ = sys::write_all(kmsg, &all[..all.len() - 1]);
    }
    let console = console();
    if !NONBLOCKING.load(Ordering::Relaxed)
        || PENDING.with(|p| p.put(console, &all[at..])).is_none()
    {
        let _ = sys::write_all(console, &all[at..]);
    }
}

/// An errno as its name when known (`ENOENT`), else its number.
pub fn errno(line: &mut Line, e: sys::Errno) {
    let v = e.raw_os_error() as u16;
    match crate::tables::native().errno_name(v) {
        Some(n) => line.s(n),
        None => line.s("errno ").u(v as u64),
    };
}
