//! Log lines: `vigil: ...` to the console (stderr) and, in PID 1 mode, to
//! `/dev/kmsg` with a priority so that `dmesg` shows them.

use core::sync::atomic::{AtomicI32, AtomicU8, Ordering};

use crate::out::{Buf, Sink};
use crate::sys;

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
static CONSOLE: AtomicI32 = AtomicI32::new(2);
static KMSG: AtomicI32 = AtomicI32::new(-1);

pub fn set_max(level: Level) {
    MAX.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX.load(Ordering::Relaxed)
}

/// Where console lines go (stderr by default).
pub fn set_console(fd: i32) {
    CONSOLE.store(fd, Ordering::Relaxed);
}

/// Also send every line to this `/dev/kmsg` fd.
pub fn set_kmsg(fd: i32) {
    KMSG.store(fd, Ordering::Relaxed);
}

/// The fd console lines go to (a worker keeps it).
pub fn console_fd() -> i32 {
    CONSOLE.load(Ordering::Relaxed)
}

/// The `/dev/kmsg` fd, or -1 (a worker keeps it).
pub fn kmsg_fd() -> i32 {
    KMSG.load(Ordering::Relaxed)
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
    m.s("[").s(who).s("] ");
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
    let kmsg = KMSG.load(Ordering::Relaxed);
    if kmsg >= 0 {
        let _ = sys::write_all(kmsg, &all[..all.len() - 1]);
    }
    let _ = sys::write_all(CONSOLE.load(Ordering::Relaxed), &all[at..]);
}

/// An errno as its name when known (`ENOENT`), else its number.
pub fn errno(line: &mut Line, e: sys::Errno) {
    let v = e.raw_os_error() as u16;
    match crate::tables::native().errno_name(v) {
        Some(n) => line.s(n),
        None => line.s("errno ").u(v as u64),
    };
}
