//! PID 1: the boot configuration, and (later) mounts, signals, shutdown.

pub mod boot;
pub mod config;
