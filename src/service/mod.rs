//! Services: starting them under their filters, and watching them.

pub mod cgroup;
pub mod launch;
pub mod mount;
pub mod sandbox;
pub mod spawn;
