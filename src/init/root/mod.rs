//! Booting a real root: vigil as the initramfs `/init` finds the root
//! device, mounts it (with an overlay and dm-verity if asked), switches to
//! it, and then either hands PID 1 to `init=` or stays PID 1 and runs the
//! services of the new root's config.

pub mod devices;
pub mod spec;
