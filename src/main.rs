//! The `vigil` binary: no std, no libc, its own `_start`.

#![no_std]
#![no_main]

vigil::entry_point!(vigil::cli::main);
vigil::mem_functions!();

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    vigil::log::error(|l| {
        vigil::out::Sink::s(l, "internal error (panic)");
    });
    vigil::sys::proc::exit(101)
}
