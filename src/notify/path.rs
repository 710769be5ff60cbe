//! Paths of a target: read from its memory, made absolute against its cwd
//! or dirfd, and normalised lexically (`.`, `..`, `//`; the core's
//! `path::normalize`).
//!
//! Lexical normalisation does not follow symlinks: that is why an allowed
//! path is only a hint under `continue` (see the README's safety model).

use super::reach;
use crate::out::{Buf, Sink};
use crate::sys::Errno;
pub use vigil_core::path::{normalize, Path, PATH_MAX};

const PAGE: u64 = 4096;

/// `AT_FDCWD` as the low 32 bits of a dirfd argument.
const AT_FDCWD: i32 = -100;

/// Read the NUL-terminated string at `addr` in `pid`'s memory into `out`.
/// Reads page by page, so a string ending just before an unmapped page is
/// still read whole.
pub fn read_cstr(pid: i32, addr: u64, out: &mut Path) -> Result<(), Errno> {
    out.clear();
    let mut chunk = [0u8; PAGE as usize];
    let mut at = addr;
    while out.len() < PATH_MAX {
        let room = (PAGE - at % PAGE).min((PATH_MAX - out.len()) as u64) as usize;
        let n = reach::read(pid, at, &mut chunk[..room])?;
        if n == 0 {
            return Err(Errno::FAULT);
        }
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
            out.put(&chunk[..end]);
            return Ok(());
        }
        out.put(&chunk[..n]);
        at += n as u64;
    }
    Err(Errno::NAMETOOLONG)
}

/// Make `raw` absolute the way the target would see it: against its cwd,
/// or the directory `dirfd` names, both read from `/proc/PID` (named as
/// the reader's root sees them: a worker's root is its service's).
pub fn absolute(pid: i32, dirfd: Option<u64>, raw: &[u8], out: &mut Path) -> Result<(), Errno> {
    out.clear();
    // One buffer for the link's target, then for the normalised path:
    // a page less of stack.
    let mut tmp = [0u8; PATH_MAX];
    if raw.first() != Some(&b'/') {
        let mut link = Buf::<48>::new();
        start_link(&mut link, pid as u32, dirfd)?;
        let n = reach::readlink(link.as_bytes(), &mut tmp)?;
        out.put(&tmp[..n]);
        out.s("/");
    }
    out.put(raw);
    if out.len() >= PATH_MAX {
        return Err(Errno::NAMETOOLONG);
    }
    let len = normalize(out.as_bytes(), &mut tmp);
    out.clear();
    out.put(&tmp[..len]);
    Ok(())
}

/// Into `link`: the link under vigil's /proc to the directory a relative
/// path of `pid` starts from, its cwd (dirfd `None` or AT_FDCWD) or its fd
/// `dirfd`.
pub fn start_link(link: &mut Buf<48>, pid: u32, dirfd: Option<u64>) -> Result<(), Errno> {
    link.u(pid as u64);
    match dirfd.map(|d| d as i32) {
        None | Some(AT_FDCWD) => link.s("/cwd"),
        Some(fd) if fd >= 0 => link.s("/fd/").u(fd as u64),
        Some(_) => return Err(Errno::BADF),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_memory_across_a_page() {
        let me = std::process::id() as i32;
        let s = b"/tmp/hello\0";
        let mut p = Path::new();
        read_cstr(me, s.as_ptr() as u64, &mut p).unwrap();
        assert_eq!(p.as_bytes(), b"/tmp/hello");
    }

    #[test]
    fn relative_paths_use_the_cwd() {
        let me = std::process::id() as i32;
        let mut p = Path::new();
        absolute(me, None, b"x/../y", &mut p).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            p.as_str(),
            format!("{}/y", cwd.display()).replace("//", "/")
        );
    }
}
