//! The text vigil reads, in either mode (PID 1 or a command): a file into
//! a buffer as UTF-8, and the embedded defaults that stand in when no file
//! is given. Below `init` and `cli`, so that neither imports the other.

use crate::log;
use crate::out::Sink;
use crate::sys;

/// The embedded default policy (`build.rs` checked it parses).
pub const DEFAULT_POLICY: &str = include_str!(env!("VIGIL_POLICY_FILE"));

/// The embedded boot config (`build.rs` checked it).
pub const DEFAULT_CONFIG: &str = include_str!(env!("VIGIL_CONFIG_FILE"));

/// Largest policy or config file vigil reads.
pub const MAX_FILE: usize = 64 * 1024;

/// Read `path`, the `what` file ("config", "policy"), into `buf` as UTF-8
/// text, or log why not, naming the file and what went wrong. Both modes
/// read their file through this: a file that cannot be read or is not
/// text is refused alike, never parsed as something else.
pub fn read_text<'b>(path: &[u8], what: &str, buf: &'b mut [u8]) -> Option<&'b str> {
    let limit = buf.len();
    let n = match sys::read_file(path, buf) {
        Ok(n) => n,
        Err(e) => {
            let mut l = log::start(log::Level::Error);
            l.esc(path).s(": cannot read the ").s(what).s(": ");
            if e == sys::Errno::FBIG {
                l.s("larger than ").u(limit as u64).s(" bytes");
                l.end();
            } else {
                l.end_errno(e);
            }
            return None;
        }
    };
    match core::str::from_utf8(&buf[..n]) {
        Ok(s) => Some(s),
        Err(e) => {
            let mut l = log::start(log::Level::Error);
            l.esc(path)
                .s(": the ")
                .s(what)
                .s(" is not UTF-8 text (byte ")
                .u(e.valid_up_to() as u64)
                .s(")");
            l.end();
            None
        }
    }
}

/// Bytes as text for messages (paths vigil was given are UTF-8 in practice).
pub fn text(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or("?")
}
