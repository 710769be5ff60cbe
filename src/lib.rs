//! vigil: a static, allocation-free PID 1 and seccomp user-notification
//! monitor.
//!
//! Layers, bottom up: the language core (`vigil-core`, `src/core/`: the
//! policy and config languages, the BPF compiler and interpreter, the
//! decision on a notification; no I/O, no `unsafe`), re-exported here as
//! `arch`, `bpf`, `config`, `out`, `policy`, `tables` and `words`; then
//! `sys` (raw syscalls, the only `unsafe`) -> `log`, `input` (files and
//! the embedded defaults), `limits` (vigil's own rlimits) -> `notify`
//! (listener, memory reads, replies) -> `service` (a configured service
//! started: spawn, sandbox, cgroups) -> `init` (PID 1: mounts, signals, shutdown) and `cli` (the
//! commands) side by side, neither importing the other: `main.rs` picks
//! one.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
// The unsafe boundary, kept by the compiler: only `sys` may hold `unsafe`,
// and every block there says why it is sound.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod cli;
pub mod init;
pub mod input;
pub mod limits;
pub mod log;
pub mod notify;
pub mod service;
#[allow(unsafe_code)]
pub mod sys;

// The language core, a crate of its own (`src/core/`), under the names the
// rest of vigil has always used: `crate::policy::parse`, `crate::config::Config`.
pub use vigil_core::{arch, bpf, config, out, policy, tables, words};
