//! The policy language: text in, `Policy` out. Pure: no I/O, no allocation.
//!
//! The grammar is documented in the README ("Policy reference").

pub mod error;
pub mod groups;
pub mod harden;
pub mod model;
pub mod parse;
pub mod protect;

pub use error::{Error, ErrorKind, Errors, MAX_ERRORS};
pub use model::*;
pub use parse::{parse, parse_into};
