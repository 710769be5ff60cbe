//! Services: starting them under their filters, and watching them.

pub mod sandbox;
pub mod spawn;
