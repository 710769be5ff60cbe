//! Lexical path normalisation (`.`, `..`, `//`), the pure half of reading
//! a target's paths: `notify::path` reads them from the target and makes
//! them absolute, then calls `normalize`.

use crate::out::Buf;

/// The kernel's limit on a path, NUL included (`PATH_MAX`).
pub const PATH_MAX: usize = linux_raw_sys::general::PATH_MAX as usize;

/// A path of a target, as vigil holds it.
pub type Path = Buf<PATH_MAX>;

/// Lexically normalise the absolute path `p` into `out`: no `.`, no `..`,
/// no empty components; `..` at the root stays at the root. Returns the length.
pub fn normalize(p: &[u8], out: &mut [u8]) -> usize {
    let mut len = 0;
    for comp in p.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                while len > 0 && out[len - 1] != b'/' {
                    len -= 1;
                }
                len = len.saturating_sub(1);
            }
            c => {
                if len + 1 + c.len() > out.len() {
                    break;
                }
                out[len] = b'/';
                out[len + 1..len + 1 + c.len()].copy_from_slice(c);
                len += 1 + c.len();
            }
        }
    }
    if len == 0 {
        out[0] = b'/';
        len = 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = [0u8; 256];
        let n = normalize(s.as_bytes(), &mut out);
        String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn normalises() {
        assert_eq!(norm("/tmp/../etc/./passwd"), "/etc/passwd");
        assert_eq!(norm("//tmp///a/"), "/tmp/a");
        assert_eq!(norm("/../../x"), "/x");
        assert_eq!(norm("/"), "/");
        assert_eq!(norm("/a/b/.."), "/a");
        assert_eq!(norm("/a/.."), "/");
    }
}
