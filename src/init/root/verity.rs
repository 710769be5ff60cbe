//! dm-verity through the device-mapper ioctls (dm-mod is a module in
//! Debian's kernels, so the kernel's own `dm-mod.create=` cannot be used):
//! the verity superblock read and checked, one verity target created,
//! loaded and resumed, and its first block read back, so that a root hash
//! that does not match refuses the boot here, with a reason.

use super::devices::{read_at, Dev};
use super::spec::{Corruption, VerityOptions};
use crate::log;
use crate::ondisk::verity::{self, VeritySb};
use crate::out::{Buf, Sink};
use crate::sys::blk::{self, DmBuf, DmCmd, DM_IOCTL_SIZE};
use crate::sys::{self, Errno};

/// The mapped device's name (`/dev/mapper/root` with udev, as systemd
/// names it).
pub const NAME: &str = "root";

/// The verity target's parameters (Documentation/admin-guide/device-mapper/
/// verity.rst): `VERSION DATA HASH DATA_BS HASH_BS BLOCKS HASH_START ALG
/// ROOT SALT [1 MODE]`, devices as `MAJ:MIN`.
pub fn table_params(
    data: (u32, u32),
    hash: (u32, u32),
    sb: &VeritySb,
    hash_start: u64,
    root_hash: &str,
    mode: Corruption,
    out: &mut impl Sink,
) {
    out.u(sb.hash_type as u64).s(" ");
    out.u(data.0 as u64).s(":").u(data.1 as u64).s(" ");
    out.u(hash.0 as u64).s(":").u(hash.1 as u64).s(" ");
    out.u(sb.data_block_size as u64)
        .s(" ")
        .u(sb.hash_block_size as u64)
        .s(" ");
    out.u(sb.data_blocks).s(" ").u(hash_start).s(" ");
    out.s(sb.algorithm()).s(" ").s(root_hash).s(" ");
    if sb.salt().is_empty() {
        out.s("-");
    }
    for b in sb.salt() {
        out.x_byte(*b);
    }
    match mode {
        Corruption::Eio => {}
        Corruption::Restart => {
            out.s(" 1 restart_on_corruption");
        }
        Corruption::Panic => {
            out.s(" 1 panic_on_corruption");
        }
        Corruption::Ignore => {
            out.s(" 1 ignore_corruption");
        }
    }
}

trait HexByte {
    fn x_byte(&mut self, b: u8);
}

impl<S: Sink> HexByte for S {
    fn x_byte(&mut self, b: u8) {
        let h = b"0123456789abcdef";
        self.put(&[h[(b >> 4) as usize], h[(b & 15) as usize]]);
    }
}

/// Check the superblock against the devices and the root hash; the hash
/// tree's first block (in hash blocks), or why not.
pub fn check(
    sb: &VeritySb,
    data: &Dev,
    hash: &Dev,
    opts: &VerityOptions,
    root_hash: &str,
) -> Result<u64, &'static str> {
    if let Some(n) = verity::digest_len(sb.algorithm()) {
        if root_hash.len() != 2 * n {
            return Err("the root hash is not as long as the superblock's algorithm makes them");
        }
    }
    if sb.data_bytes() > data.bytes {
        return Err("the verity superblock covers more data than the data device has");
    }
    let hbs = sb.hash_block_size as u64;
    if !opts.hash_offset.is_multiple_of(hbs) {
        return Err("hash-offset= is not a multiple of the hash block size");
    }
    // The superblock takes the first hash block.
    let start = opts.hash_offset / hbs + 1;
    if start.saturating_add(1).saturating_mul(hbs) > hash.bytes {
        return Err("the hash device ends before its hash tree");
    }
    Ok(start)
}

/// Read the superblock at `offset` of the hash device.
pub fn read_superblock(hash: &Dev, offset: u64) -> Result<VeritySb, &'static str> {
    let fd = sys::open(hash.path().as_bytes(), rustix::fs::OFlags::RDONLY)
        .map_err(|_| "cannot open the hash device")?;
    let mut b = [0u8; verity::SIZE];
    let r = read_at(fd, offset, &mut b);
    sys::proc::close(fd);
    match r {
        Ok(n) if n == b.len() => verity::parse(&b),
        _ => Err("cannot read the verity superblock"),
    }
}

/// Create, load and resume the verity device; its numbers.
pub fn create(params: &[u8], sectors: u64) -> Result<(u32, u32), (&'static str, Errno)> {
    let ctl = sys::open(b"/dev/mapper/control", rustix::fs::OFlags::RDWR)
        .map_err(|e| ("opening /dev/mapper/control (is dm-mod loaded?)", e))?;
    let r = load(ctl, params, sectors);
    if r.is_err() {
        let mut b = request(0);
        let _ = blk::dm(ctl, DmCmd::DevRemove, &mut b);
    }
    sys::proc::close(ctl);
    r
}

/// A request for `NAME` with `flags`.
fn request(flags: u32) -> DmBuf {
    let mut b = DmBuf::default();
    b.0[0..4].copy_from_slice(&4u32.to_ne_bytes()); // version 4.0.0
    b.0[16..20].copy_from_slice(&(DM_IOCTL_SIZE as u32).to_ne_bytes());
    b.0[28..32].copy_from_slice(&flags.to_ne_bytes());
    b.0[48..48 + NAME.len()].copy_from_slice(NAME.as_bytes());
    b
}

fn load(ctl: i32, params: &[u8], sectors: u64) -> Result<(u32, u32), (&'static str, Errno)> {
    let mut b = request(0);
    blk::dm(ctl, DmCmd::DevCreate, &mut b).map_err(|e| ("DM_DEV_CREATE", e))?;
    let mut dev = [0u8; 8];
    dev.copy_from_slice(&b.0[40..48]);
    let dev = u64::from_ne_bytes(dev);
    let major = (dev >> 8 & 0xfff) as u32;
    let minor = (dev & 0xff | dev >> 12 & 0xfff00) as u32;

    const READONLY: u32 = 1;
    let mut b = request(READONLY);
    b.0[20..24].copy_from_slice(&1u32.to_ne_bytes()); // one target
    let spec = DM_IOCTL_SIZE;
    // The target's parameters follow its 40-byte spec, NUL-terminated and
    // padded to 8 bytes; `next` is where the next spec would be.
    let end = spec + 40 + params.len() + 1;
    let next = (end - spec).next_multiple_of(8);
    if spec + next > b.0.len() {
        return Err(("the verity table is too long", Errno::NAMETOOLONG));
    }
    b.0[spec + 8..spec + 16].copy_from_slice(&sectors.to_ne_bytes());
    b.0[spec + 20..spec + 24].copy_from_slice(&(next as u32).to_ne_bytes());
    b.0[spec + 24..spec + 30].copy_from_slice(b"verity");
    b.0[spec + 40..spec + 40 + params.len()].copy_from_slice(params);
    blk::dm(ctl, DmCmd::TableLoad, &mut b).map_err(|e| ("DM_TABLE_LOAD", e))?;
    // DM_DEV_SUSPEND without the suspend flag resumes: the table goes live.
    let mut b = request(0);
    blk::dm(ctl, DmCmd::DevSuspend, &mut b).map_err(|e| ("DM_DEV_SUSPEND (resume)", e))?;
    Ok((major, minor))
}

/// `/dev/dm-N` for the mapped device, made if devtmpfs has not.
pub fn node(major: u32, minor: u32) -> Buf<48> {
    let mut p = Buf::new();
    p.s("/dev/dm-").u(minor as u64);
    if rustix::fs::stat(p.as_bytes()).is_err() {
        let mut c = [0u8; 48];
        if let Ok(cs) = sys::nul_terminated(p.as_bytes(), &mut c) {
            if let Err(e) = blk::mknod_block(cs, major, minor) {
                let mut l = log::start(log::Level::Warn);
                l.s("root: verity: mknod ").put(p.as_bytes());
                l.s(": ");
                l.end_errno(e);
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let sb = verity::parse(&crate::ondisk::verity::tests::superblock()).unwrap();
        let mut b = Buf::<1024>::new();
        table_params(
            (254, 0),
            (254, 16),
            &sb,
            2,
            "ab",
            Corruption::Restart,
            &mut b,
        );
        assert_eq!(
            b.as_str(),
            "1 254:0 254:16 4096 4096 100 2 sha256 ab \
             5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a 1 restart_on_corruption"
        );
    }
}
