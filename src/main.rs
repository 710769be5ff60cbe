//! The `vigil` binary: no std, no libc, its own `_start`.
//!
//! (Under `cfg(test)`, as `cargo clippy --all-targets` builds it, it is an
//! empty std program: the tests live in the library.)

#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
// As in the library: the `unsafe` of the entry point and the memory
// functions lives in `sys`'s macros, which allow it where they expand.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(not(test))]
mod entry {
    vigil::entry_point!(main);

    /// The mode: PID 1 boots and supervises (and never returns), any other
    /// process runs a command. Both start with fds 0-2 open (`fill_std`).
    fn main(args: &vigil::sys::Args) -> i32 {
        let had_stdio = !vigil::sys::fd::fill_std();
        if rustix::process::getpid().is_init() {
            vigil::init::main(args, had_stdio);
        }
        vigil::cli::main(args)
    }
    vigil::mem_functions!();

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        let mut l = vigil::log::start(vigil::log::Level::Error);
        vigil::out::Sink::s(&mut *l, "internal error (panic)");
        l.end();
        vigil::init::shutdown::after_panic()
    }
}

#[cfg(test)]
fn main() {}
