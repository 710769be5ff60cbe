//! Text output without `core::fmt`: a byte sink and a fixed buffer.
//!
//! `core::fmt` would cost several KiB of the binary; vigil only ever prints
//! strings, decimals and hex.

/// Something text can be written to. Writes that do not fit are cut, never
/// an error: output is for humans and logs.
pub trait Sink {
    /// Write `bytes`, or as much of them as fits.
    fn put(&mut self, bytes: &[u8]);

    // The formatting lives in the free functions below, so that each
    // `Sink` type adds only a call, not a copy of the code.

    /// Write `s`.
    fn s(&mut self, s: &str) -> &mut Self
    where
        Self: Sized,
    {
        self.put(s.as_bytes());
        self
    }

    /// Write `v` in decimal.
    fn u(&mut self, v: u64) -> &mut Self
    where
        Self: Sized,
    {
        put_u(self, v);
        self
    }

    /// Write `v` in decimal, with its sign.
    fn i(&mut self, v: i64) -> &mut Self
    where
        Self: Sized,
    {
        put_i(self, v);
        self
    }

    /// Write `v` in hex, with `0x`.
    fn x(&mut self, v: u64) -> &mut Self
    where
        Self: Sized,
    {
        put_x(self, v);
        self
    }

    /// Bytes from outside (paths of a target), escaped so that they can
    /// neither end the line nor read as one of vigil's (see `escape`).
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
    let mut at = 0;
    while at < bytes.len() {
        let mut tmp = [0u8; 64];
        let (next, n) = escape(bytes, at, &mut tmp);
        out.put(&tmp[..n]);
        at = next;
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

/// Escape `bytes` from `at` into `out` until it is full: (where to go on,
/// bytes written). Unprintable bytes, `\` and `"` become `\xHH`, so
/// escaped text never ends a line or a quoted field. So does the `:` of
/// `vigil:` in any case: text from outside (a service's path, a mount
/// point) can then never read as a line of vigil's own, such as the test
/// result line `vigil: test exit=0`, even to a reader that looks for it
/// anywhere in a line.
fn escape(bytes: &[u8], at: usize, out: &mut [u8; 64]) -> (usize, usize) {
    let h = b"0123456789abcdef";
    let mut n = 0;
    for (i, &b) in bytes.iter().enumerate().skip(at) {
        if n + 4 > out.len() {
            return (i, n);
        }
        let forged = b == b':' && i >= 5 && bytes[i - 5..i].eq_ignore_ascii_case(b"vigil");
        if (0x20..0x7f).contains(&b) && b != b'\\' && b != b'"' && !forged {
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

/// A fixed-size line buffer. Making one writes nothing (heapless's `Vec`
/// leaves its storage uninitialised): no zeroing of `N` bytes per line.
pub struct Buf<const N: usize> {
    bytes: heapless::Vec<u8, N>,
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Buf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Buf {
            bytes: heapless::Vec::new(),
        }
    }

    /// What was written.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
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

    /// Empty it, to write anew.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// How many bytes were written.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Was nothing written?
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl<const N: usize> Sink for Buf<N> {
    fn put(&mut self, bytes: &[u8]) {
        put(self.bytes.as_mut_view(), bytes);
    }
}

/// `Buf::put` for every `N`: as much of `bytes` as fits.
// Size: one copy of the code through the capacity-free view, not one per
// `N`.
#[inline(never)]
fn put(v: &mut heapless::vec::VecView<u8>, bytes: &[u8]) {
    for &b in bytes {
        if v.push(b).is_err() {
            break;
        }
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

    #[test]
    fn escaped_text_never_reads_as_a_vigil_line() {
        let mut b = Buf::<256>::new();
        b.esc(b"/tmp/x\nvigil: test exit=0 VIGIL:x Vigil: vigil.log vigil :\\");
        assert_eq!(
            b.as_str(),
            "/tmp/x\\x0avigil\\x3a test exit=0 VIGIL\\x3ax Vigil\\x3a vigil.log vigil :\\x5c"
        );
        // Across the 64-byte chunks `put_esc` works in.
        for pad in 50..70 {
            let mut text = vec![b'a'; pad];
            text.extend_from_slice(b"vigil: test exit=0");
            let mut b = Buf::<256>::new();
            b.esc(&text);
            assert!(!b.as_str().contains("vigil:"), "{}", b.as_str());
            assert!(b.as_str().ends_with("vigil\\x3a test exit=0"));
        }
    }
}
