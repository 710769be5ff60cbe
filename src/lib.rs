//! vigil: a static, allocation-free PID 1 and seccomp user-notification
//! monitor.
//!
//! Layers, bottom up: `sys` (raw syscalls, the only `unsafe`) -> `bpf`
//! (policy -> filter) -> `notify` (listener, memory reads, replies) ->
//! `service` (spawn, restart) -> `init` (mounts, signals, shutdown) -> `cli`.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod arch;
pub mod bpf;
pub mod cli;
pub mod init;
pub mod log;
pub mod notify;
pub mod out;
pub mod policy;
pub mod service;
pub mod sys;
pub mod tables;
pub mod words;
