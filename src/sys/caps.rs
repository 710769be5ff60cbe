//! Capabilities (capabilities(7)): the bounding set, the process sets and
//! the ambient set, for dropping privileges between fork and exec. vigil
//! holds capability sets as `u64` masks (bit N: capability N); these are
//! rustix's typed calls on such masks.

use super::Result;
use rustix::thread::{self as t, CapabilitySet, CapabilitySets};

/// The highest capability number vigil knows (`CAP_CHECKPOINT_RESTORE`).
pub const CAP_LAST: u32 = 40;

/// Capability `cap` alone.
fn one(cap: u32) -> CapabilitySet {
    CapabilitySet::from_bits_retain(1 << cap)
}

/// `prctl(PR_CAPBSET_DROP)` for every capability not in `keep` (a bit mask).
/// EINVAL for numbers the kernel does not have is not an error.
pub fn drop_bounding(keep: u64) -> Result<()> {
    for cap in 0..=CAP_LAST {
        if keep & (1 << cap) == 0 {
            match t::remove_capability_from_bounding_set(one(cap)) {
                Ok(()) | Err(super::Errno::INVAL) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// `prctl(PR_CAPBSET_DROP)` of `cap`, then `capset(2)` without it: gone
/// from this thread and from what any `execve` after this can give back
/// (root's sets are rebuilt from the bounding and inheritable sets there).
/// Without CAP_SETPCAP the bounding set stays as it is; the three sets
/// still lose `cap`, and under no_new_privs an `execve` gives back nothing
/// the permitted set lacked (root's included).
pub fn drop_one(cap: u32) -> Result<()> {
    match t::remove_capability_from_bounding_set(one(cap)) {
        Ok(()) | Err(super::Errno::INVAL | super::Errno::PERM) => {}
        Err(e) => return Err(e),
    }
    let (e, p, i) = get()?;
    let not = !(1u64 << cap);
    set(e & not, p & not, i & not)
}

/// `capset(2)`: effective, permitted and inheritable all set to `caps`.
pub fn set_all(caps: u64) -> Result<()> {
    set(caps, caps, caps)
}

/// `prctl(PR_CAP_AMBIENT)`: clear the ambient set, then raise `caps`.
pub fn set_ambient(caps: u64) -> Result<()> {
    t::clear_ambient_capability_set()?;
    for cap in 0..=CAP_LAST {
        if caps & (1 << cap) != 0 {
            t::configure_capability_in_ambient_set(one(cap), true)?;
        }
    }
    Ok(())
}

/// `capget(2)` of this thread: (effective, permitted, inheritable).
pub fn get() -> Result<(u64, u64, u64)> {
    let s = t::capabilities(None)?;
    Ok((s.effective.bits(), s.permitted.bits(), s.inheritable.bits()))
}

/// `capset(2)` of this thread with these three sets.
pub fn set(eff: u64, prm: u64, inh: u64) -> Result<()> {
    t::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::from_bits_retain(eff),
            permitted: CapabilitySet::from_bits_retain(prm),
            inheritable: CapabilitySet::from_bits_retain(inh),
        },
    )
}
