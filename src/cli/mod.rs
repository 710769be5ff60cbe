//! The command line: `vigil run`, `vigil check`, `vigil compile`.

pub mod check;
pub mod explain;
pub mod run;

use crate::arch::Arch;
use crate::input::{read_text, text, DEFAULT_POLICY, MAX_FILE};
use crate::out::{Buf, Sink};
use crate::policy::{self, Policy};
use crate::sys::cell::Once;
use crate::sys::{self, Args};
use crate::words::keywords;

const USAGE: &str =
    "usage: vigil run [--policy FILE] [--log quiet|info|debug] [--keep-fds] [--] PROG [ARGS...]
       vigil check FILE [--arch x86_64|aarch64]
       vigil compile FILE [--arch x86_64|aarch64]
";

/// Exit status for usage and input errors, like a compiler's.
pub const EXIT_USAGE: i32 = 2;

/// The commands, for any process but PID 1 (`main.rs` picks the mode).
// Memory: out of line, so that its frame is not under `init::main`'s,
// which PID 1 keeps for good.
#[inline(never)]
pub fn main(args: &Args) -> i32 {
    let arg = args.get(1);
    match arg.and_then(Command::of_bytes) {
        Some(Command::Run) => run::main(args),
        Some(Command::Check) => check::main(args, false),
        Some(Command::Compile) => check::main(args, true),
        Some(Command::Help | Command::H | Command::HelpWord) => {
            let _ = sys::write_all(sys::fd::stdout(), USAGE.as_bytes());
            0
        }
        Some(Command::Version | Command::VersionWord) => {
            let _ = sys::write_all(
                sys::fd::stdout(),
                concat!("vigil ", env!("CARGO_PKG_VERSION"), "\n").as_bytes(),
            );
            0
        }
        None => {
            let mut b = Buf::<128>::new();
            match arg {
                Some(cmd) => b.s("vigil: unknown command `").esc(cmd).s("`\n"),
                None => b.s("vigil: no command given\n"),
            };
            let _ = sys::write_all(sys::fd::stderr(), b.as_bytes());
            let _ = sys::write_all(sys::fd::stderr(), USAGE.as_bytes());
            EXIT_USAGE
        }
    }
}

keywords! {
    /// The commands `main` knows, and the spellings of help and version.
    Command {
        Run = "run",
        Check = "check",
        Compile = "compile",
        Help = "--help",
        H = "-h",
        HelpWord = "help",
        Version = "--version",
        VersionWord = "version",
    }
}

/// The text of the one file a command reads, outside the stack: only the
/// pages the text fills become resident.
static FILE: Once<[u8; MAX_FILE]> = Once::new([0; MAX_FILE]);

/// The one policy a command loads, parsed in place.
static POLICY: Once<Policy<'static>> = Once::new(Policy::unparsed());

/// The policy of `vigil run`, `check` and `compile`: `file`, or the
/// embedded default, parsed for `arch`, with the name messages use for it.
/// `None` once its errors are printed. Call once per process.
pub fn load_policy(
    file: Option<&'static [u8]>,
    arch: &Arch,
) -> Option<(&'static Policy<'static>, &'static str)> {
    let (src, name) = match file {
        Some(f) => (read_text(f, "policy", FILE.take()?)?, text(f)),
        None => (DEFAULT_POLICY, "<default policy>"),
    };
    let policy = POLICY.take()?;
    if let Err(errs) = policy::parse_into(src, arch, policy) {
        errs.render(name, &mut Fd::new(sys::fd::stderr()));
        return None;
    }
    Some((policy, name))
}

/// To a file descriptor through a small buffer, flushed when full and
/// when dropped: for output longer than any line buffer (a policy's
/// errors, a disassembly).
pub struct Fd {
    fd: rustix::fd::BorrowedFd<'static>,
    buf: Buf<1024>,
}

impl Fd {
    pub fn new(fd: rustix::fd::BorrowedFd<'static>) -> Self {
        Fd {
            fd,
            buf: Buf::new(),
        }
    }

    fn flush(&mut self) {
        let _ = sys::write_all(self.fd, self.buf.as_bytes());
        self.buf.clear();
    }
}

impl Sink for Fd {
    fn put(&mut self, bytes: &[u8]) {
        if self.buf.len() + bytes.len() > 1024 {
            self.flush();
        }
        if bytes.len() > 1024 {
            let _ = sys::write_all(self.fd, bytes);
        } else {
            self.buf.put(bytes);
        }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        self.flush();
    }
}
