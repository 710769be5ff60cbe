//! A `SOCK_SEQPACKET` pair between vigil and one of its workers, and
//! messages on it that may carry file descriptors (`SCM_RIGHTS`).
//! [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)

use super::{nr, syscall, Errno, Result};
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Most descriptors one message carries.
pub const MAX_FDS: usize = 4;

const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
const MSG_NOSIGNAL: usize = 0x4000;
const MSG_CMSG_CLOEXEC: usize = 0x4000_0000;
/// `struct cmsghdr`: `cmsg_len` (size_t), level, type.
const CMSG_HDR: usize = 16;

/// `struct msghdr` (64-bit layout).
#[repr(C)]
struct MsgHdr {
    name: usize,
    namelen: u32,
    iov: *const [usize; 2],
    iovlen: usize,
    control: *mut u8,
    controllen: usize,
    flags: i32,
}

/// One `SCM_RIGHTS` control message: `struct cmsghdr` and room for
/// `MAX_FDS` descriptors (its `CMSG_SPACE`, 8-aligned).
#[repr(C)]
struct Rights {
    len: usize,
    level: i32,
    kind: i32,
    fds: [i32; MAX_FDS],
}

/// `socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC)`: message
/// boundaries are kept, and a peer that is gone reads as EOF.
pub fn pair() -> Result<(OwnedFd, OwnedFd)> {
    use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};
    socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
}

/// Send `data` as one message, with copies of `fds` (at most `MAX_FDS`).
/// Never raises SIGPIPE: a peer that is gone is EPIPE.
// Raw: rustix's `sendmsg` and `recvmsg` with their ancillary buffers are
// +1,040 B here (measured).
pub fn send(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
    if fds.len() > MAX_FDS {
        return Err(Errno::INVAL);
    }
    let iov = [data.as_ptr() as usize, data.len()];
    let mut ctl = Rights {
        len: CMSG_HDR + fds.len() * 4,
        level: SOL_SOCKET,
        kind: SCM_RIGHTS,
        fds: [-1; MAX_FDS],
    };
    for (slot, fd) in ctl.fds.iter_mut().zip(fds) {
        *slot = fd.as_raw_fd();
    }
    let m = MsgHdr {
        name: 0,
        namelen: 0,
        iov: &iov,
        iovlen: 1,
        control: &mut ctl as *mut Rights as *mut u8,
        // CMSG_SPACE: the length rounded up to the header's alignment.
        controllen: if fds.is_empty() {
            0
        } else {
            (ctl.len + 7) & !7
        },
        flags: 0,
    };
    loop {
        // SAFETY: m describes `data` (read only) and `ctl`, both alive for
        // the call; the descriptors in it are borrowed, so open.
        match unsafe {
            syscall(
                nr::__NR_sendmsg,
                [
                    sock.as_raw_fd() as usize,
                    &m as *const MsgHdr as usize,
                    MSG_NOSIGNAL,
                    0,
                    0,
                    0,
                ],
            )
        } {
            Err(Errno::INTR) => {}
            Ok(n) if n == data.len() => return Ok(()),
            Ok(_) => return Err(Errno::MSGSIZE),
            Err(e) => return Err(e),
        }
    }
}

/// Receive one message into `buf`: its length (0 at EOF), and the
/// descriptors it carried into `fds` (close-on-exec, owned by the caller).
pub fn recv(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut [Option<OwnedFd>; MAX_FDS],
) -> Result<usize> {
    let iov = [buf.as_mut_ptr() as usize, buf.len()];
    let mut ctl = Rights {
        len: 0,
        level: 0,
        kind: 0,
        fds: [-1; MAX_FDS],
    };
    let mut m = MsgHdr {
        name: 0,
        namelen: 0,
        iov: &iov,
        iovlen: 1,
        control: &mut ctl as *mut Rights as *mut u8,
        controllen: core::mem::size_of::<Rights>(),
        flags: 0,
    };
    let n = loop {
        // SAFETY: m describes `buf` (writable) and `ctl`, both alive for
        // the call.
        match unsafe {
            syscall(
                nr::__NR_recvmsg,
                [
                    sock.as_raw_fd() as usize,
                    &mut m as *mut MsgHdr as usize,
                    MSG_CMSG_CLOEXEC,
                    0,
                    0,
                    0,
                ],
            )
        } {
            Err(Errno::INTR) => {}
            r => break r?,
        }
    };
    if m.controllen >= CMSG_HDR && ctl.level == SOL_SOCKET && ctl.kind == SCM_RIGHTS {
        let count = (ctl.len.saturating_sub(CMSG_HDR) / 4).min(MAX_FDS);
        for (slot, &fd) in fds.iter_mut().zip(&ctl.fds[..count]) {
            // SAFETY: the kernel installed this fd for us with the message.
            *slot = Some(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    if m.flags & 0x8 != 0 {
        // MSG_CTRUNC: descriptors were lost; the message cannot be trusted.
        return Err(Errno::MSGSIZE);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsFd;

    #[test]
    fn passes_bytes_and_fds() {
        let (a, b) = pair().unwrap();
        let (r, _w) = rustix::pipe::pipe().unwrap();
        send(a.as_fd(), b"hello", &[r.as_fd(), r.as_fd()]).unwrap();
        let mut buf = [0u8; 16];
        let mut fds = [None, None, None, None];
        let n = recv(b.as_fd(), &mut buf, &mut fds).unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert!(fds[0].is_some() && fds[1].is_some() && fds[2].is_none());
        drop(a);
        let n = recv(b.as_fd(), &mut buf, &mut [None, None, None, None]).unwrap();
        assert_eq!(n, 0);
    }
}
