//! vigil's language core: what vigil knows and decides without the kernel.
//!
//! The policy and config languages (text in, fixed-capacity tables out,
//! every error with its `line:col`), the BPF compiler that turns a policy
//! into a seccomp filter and the interpreter that runs one, the decision
//! on a notification, and lexical path normalisation; below them the
//! per-arch syscall and errno tables, the shared word lists and a
//! `core::fmt`-free text sink.
//!
//! No I/O, no allocation, no `unsafe`: nothing here can make a syscall
//! (linux-raw-sys gives constants only). `vigil` re-exports these modules
//! under the same names; its `build.rs` uses them to check the embedded
//! policy and config, and `fuzz/` to fuzz them.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod arch;
pub mod bpf;
pub mod config;
pub mod decide;
pub mod out;
pub mod path;
pub mod policy;
pub mod tables;
pub mod words;
