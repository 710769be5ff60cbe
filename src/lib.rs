//! vigil: a static, allocation-free PID 1 and seccomp user-notification
//! monitor.
//!
//! Layers, bottom up: `sys` (raw syscalls, the only `unsafe`) -> `bpf`
//! (policy -> filter) -> `notify` (listener, memory reads, replies) ->
//! `service` (spawn, restart) -> `init` (PID 1: mounts, signals, shutdown)
//! and `cli` (the commands) side by side, neither importing the other:
//! `main.rs` picks one. What both modes need (`input`: files and the
//! embedded defaults; `limits`: vigil's own rlimits) sits below them.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
// The unsafe boundary, kept by the compiler: only `sys` may hold `unsafe`,
// and every block there says why it is sound.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod arch;
pub mod bpf;
pub mod cli;
pub mod init;
pub mod input;
pub mod limits;
pub mod log;
pub mod notify;
pub mod out;
pub mod policy;
pub mod service;
#[allow(unsafe_code)]
pub mod sys;
pub mod tables;
pub mod words;
