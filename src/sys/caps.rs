//! Capabilities (capabilities(7)): the bounding set, the process sets and
//! the ambient set, for dropping privileges between fork and exec.

use super::{nr, syscall, Result};

/// The highest capability number vigil knows (`CAP_CHECKPOINT_RESTORE`).
pub const CAP_LAST: u32 = 40;

const PR_SET_KEEPCAPS: usize = 8;
const PR_CAPBSET_DROP: usize = 24;
const PR_CAP_AMBIENT: usize = 47;
const PR_CAP_AMBIENT_RAISE: usize = 2;
const PR_CAP_AMBIENT_CLEAR_ALL: usize = 4;
const VERSION_3: u32 = 0x2008_0522;

fn prctl(op: usize, a: usize, b: usize) -> Result<usize> {
    // SAFETY: these prctl operations take integers only.
    unsafe { syscall(nr::__NR_prctl, [op, a, b, 0, 0, 0]) }
}

/// `prctl(PR_CAPBSET_DROP)` for every capability not in `keep` (a bit mask).
/// EINVAL for numbers the kernel does not have is not an error.
pub fn drop_bounding(keep: u64) -> Result<()> {
    for cap in 0..=CAP_LAST {
        if keep & (1 << cap) == 0 {
            match prctl(PR_CAPBSET_DROP, cap as usize, 0) {
                Ok(_) | Err(super::Errno::INVAL) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// `prctl(PR_SET_KEEPCAPS)`: keep the permitted set across a uid change.
pub fn keep_caps(on: bool) -> Result<()> {
    prctl(PR_SET_KEEPCAPS, on as usize, 0).map(drop)
}

/// `capset(2)`: effective, permitted and inheritable all set to `caps`.
pub fn set_all(caps: u64) -> Result<()> {
    let hdr = [VERSION_3, 0];
    let lo = caps as u32;
    let hi = (caps >> 32) as u32;
    // Two cap_user_data structs: {effective, permitted, inheritable}.
    let data = [lo, lo, lo, hi, hi, hi];
    // SAFETY: hdr and data are a valid v3 header and two data structs.
    unsafe {
        syscall(
            nr::__NR_capset,
            [hdr.as_ptr() as usize, data.as_ptr() as usize, 0, 0, 0, 0],
        )
        .map(drop)
    }
}

/// `prctl(PR_CAP_AMBIENT)`: clear the ambient set, then raise `caps`.
pub fn set_ambient(caps: u64) -> Result<()> {
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0)?;
    for cap in 0..=CAP_LAST {
        if caps & (1 << cap) != 0 {
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap as usize)?;
        }
    }
    Ok(())
}

/// `capget(2)` of this thread: (effective, permitted, inheritable).
pub fn get() -> Result<(u64, u64, u64)> {
    let hdr = [VERSION_3, 0];
    let mut data = [0u32; 6];
    // SAFETY: hdr is a valid v3 header, data two writable data structs.
    unsafe {
        syscall(
            nr::__NR_capget,
            [
                hdr.as_ptr() as usize,
                data.as_mut_ptr() as usize,
                0,
                0,
                0,
                0,
            ],
        )?;
    }
    let join = |lo: u32, hi: u32| (hi as u64) << 32 | lo as u64;
    Ok((
        join(data[0], data[3]),
        join(data[1], data[4]),
        join(data[2], data[5]),
    ))
}

/// `capset(2)` of this thread with these three sets.
pub fn set(eff: u64, prm: u64, inh: u64) -> Result<()> {
    let hdr = [VERSION_3, 0];
    let data = [
        eff as u32,
        prm as u32,
        inh as u32,
        (eff >> 32) as u32,
        (prm >> 32) as u32,
        (inh >> 32) as u32,
    ];
    // SAFETY: hdr and data are a valid v3 header and two data structs.
    unsafe {
        syscall(
            nr::__NR_capset,
            [hdr.as_ptr() as usize, data.as_ptr() as usize, 0, 0, 0, 0],
        )
        .map(drop)
    }
}
