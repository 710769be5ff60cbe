//! Text output without `core::fmt`: a byte sink and a fixed buffer.
//!
//! `core::fmt` would cost several KiB of the binary; vigil only ever prints
//! strings, decimals and hex.

/// Something text can be written to. Writes that do not fit are cut, never
/// an error: output is for humans and logs.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);

    // The formatting lives in the free functions below, so that each
    // `Sink` type adds only a call, not a copy of the code.

    fn s(&mut self, s: &str) -> &mut Self
    where
        Self: Sized,
    {
        self.put(s.as_bytes());
        self
    }

    fn u(&mut self, v: u64) -> &mut Self
    where
        Self: Sized,
    {
        put_u(self, v);
        self
    }

    fn i(&mut self, v: i64) -> &mut Self
    where
        Self: Sized,
    {
        put_i(self, v);
        self
    }

    fn x(&mut self, v: u64) -> &mut Self
    where
        Self: Sized,
    {
        put_x(self, v);
        self
    }

    /// Bytes from outside (paths of a target), with anything unprintable escaped.
    fn esc(&mut self, bytes: &[u8]) -> &mut Self
    where
        Self: Sized,
    {
        put_esc(self, bytes);
        self
    }
}

// Through `dyn Sink`: one copy of each, however many `Sink` types.

fn put_u(out: &mut dyn Sink, v: u64) {
    let mut tmp = [0u8; 20];
    let i = dec(v, &mut tmp);
    out.put(&tmp[i..]);
}

fn put_i(out: &mut dyn Sink, v: i64) {
    if v < 0 {
        out.put(b"-");
    }
    put_u(out, v.unsigned_abs())
}

fn put_x(out: &mut dyn Sink, v: u64) {
    let mut tmp = [0u8; 18];
    let i = hex(v, &mut tmp);
    out.put(&tmp[i..]);
}

fn put_esc(out: &mut dyn Sink, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let mut tmp = [0u8; 64];
        let (used, n) = escape(rest, &mut tmp);
        out.put(&tmp[..n]);
        rest = &rest[used..];
    }
}

/// `v` in decimal at the end of `tmp`; returns where it starts.
fn dec(mut v: u64, tmp: &mut [u8; 20]) -> usize {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return i;
        }
    }
}

/// `v` as `0x...` at the end of `tmp`; returns where it starts.
fn hex(mut v: u64, tmp: &mut [u8; 18]) -> usize {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    i -= 2;
    tmp[i] = b'0';
    tmp[i + 1] = b'x';
    i
}

/// Escape a prefix of `bytes` into `out`: (bytes used, bytes written).
fn escape(bytes: &[u8], out: &mut [u8; 64]) -> (usize, usize) {
    let h = b"0123456789abcdef";
    let mut n = 0;
    for (used, &b) in bytes.iter().enumerate() {
        if n + 4 > out.len() {
            return (used, n);
        }
        if (0x20..0x7f).contains(&b) && b != b'\\' && b != b'"' {
            out[n] = b;
            n += 1;
        } else {
            out[n..n + 4].copy_from_slice(&[
                b'\\',
                b'x',
                h[(b >> 4) as usize],
                h[(b & 15) as usize],
            ]);
            n += 4;
        }
    }
    (bytes.len(), n)
}

/// A fixed-size line buffer.
pub struct Buf<const N: usize> {
    bytes: crate::sys::mem::Prefix<N>,
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Buf {
            bytes: crate::sys::mem::Prefix::new(),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_bytes()
    }

    /// The contents as text; vigil only writes UTF-8, but a cut may split a
    /// character, so fall back to the valid prefix.
    pub fn as_str(&self) -> &str {
        let b = self.as_bytes();
        match core::str::from_utf8(b) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or(""),
        }
    }

    pub fn clear(&mut self) {
        self.bytes.truncate(0);
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl<const N: usize> Sink for Buf<N> {
    fn put(&mut self, bytes: &[u8]) {
        self.bytes.push(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut b = Buf::<64>::new();
        b.u(0)
            .s(" ")
            .u(18446744073709551615)
            .s(" ")
            .i(-42)
            .s(" ")
            .x(0xbeef);
        assert_eq!(b.as_str(), "0 18446744073709551615 -42 0xbeef");
    }

    #[test]
    fn cuts_instead_of_failing() {
        let mut b = Buf::<4>::new();
        b.s("abcdef");
        assert_eq!(b.as_str(), "abcd");
    }

    #[test]
    fn escapes() {
        let mut b = Buf::<32>::new();
        b.esc(b"a\nb\"");
        assert_eq!(b.as_str(), "a\\x0ab\\x22");
    }
}
