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

/// Build a line with `f` and emit it if `level` is enabled. (`&mut dyn`:
/// one copy of this body, however many call sites.)
pub fn log(level: Level, f: &mut dyn FnMut(&mut Line)) {
    if !enabled(level) {
        return;
    }
    let mut line = Line::new();
    line.s("vigil: ");
    if level == Level::Error {
        line.s("error: ");
    } else if level == Level::Warn {
        line.s("warning: ");
    }
    f(&mut line);
    emit(level, line.as_bytes());
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

pub fn error(mut f: impl FnMut(&mut Line)) {
    log(Level::Error, &mut f)
}
pub fn warn(mut f: impl FnMut(&mut Line)) {
    log(Level::Warn, &mut f)
}
pub fn info(mut f: impl FnMut(&mut Line)) {
    log(Level::Info, &mut f)
}
pub fn debug(mut f: impl FnMut(&mut Line)) {
    log(Level::Debug, &mut f)
}

/// An errno as its name when known (`ENOENT`), else its number.
pub fn errno(line: &mut Line, e: sys::Errno) {
    let v = e.raw_os_error() as u16;
    match crate::tables::native().errno_name(v) {
        Some(n) => line.s(n),
        None => line.s("errno ").u(v as u64),
    };
}
