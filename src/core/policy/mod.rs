//! The policy language: text in, `Policy` out. Pure: no I/O, no allocation.
//!
//! The grammar is documented in the README ("Policy reference").

pub mod error;
pub mod groups;
pub mod harden;
pub mod model;
pub mod parse;
pub mod protect;

#[allow(unused_imports)]
pub use error::{Error, ErrorKind, Errors, MAX_ERRORS};
pub use model::*;
#[allow(unused_imports)] // build.rs includes this module and parses by value
pub use parse::{parse, parse_into};
