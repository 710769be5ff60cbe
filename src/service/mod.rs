//! Services: starting them under their filters, and watching them.

pub mod spawn;
