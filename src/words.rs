//! Word lists in one string: the keyword tables of the policy and config
//! languages, their message templates and the disassembler's mnemonics.
//! One `&str` per table, not a slice of them: a third of the bytes.

/// `s` split at the first `sep`: what comes before it, and after it (empty
/// if there is no `sep`).
// Size: one byte loop shared by every list, instead of an inlined
// `str::split` at each (measured).
#[inline(never)]
pub fn cut(s: &str, sep: u8) -> (&str, &str) {
    let n = s.bytes().position(|b| b == sep).unwrap_or(s.len());
    (s.get(..n).unwrap_or(""), s.get(n + 1..).unwrap_or(""))
}

/// The `i`th of the `sep`-separated words of `list` ("" past the end).
pub fn nth(list: &str, sep: u8, i: usize) -> &str {
    let (mut word, mut rest) = cut(list, sep);
    for _ in 0..i {
        (word, rest) = cut(rest, sep);
    }
    word
}

/// The index of word `w` in `words` (separated by single spaces).
// Size: one copy for every keyword table.
#[inline(never)]
pub fn find(words: &str, w: &str) -> Option<usize> {
    find_in(words, w, false)
}

/// `find`, ignoring ASCII case if `fold` (`words` is then in lower case).
// Size: one copy for every keyword table; a byte loop, not `split` and
// `eq_ignore_ascii_case` (250 B less, measured).
#[inline(never)]
pub fn find_in(words: &str, w: &str, fold: bool) -> Option<usize> {
    let w = w.as_bytes();
    let mut index = 0;
    // Bytes of `w` matched by the current word so far; `usize::MAX` once
    // it differs.
    let mut j = 0;
    for &c in words.as_bytes().iter().chain(b" ") {
        if c == b' ' {
            if j == w.len() {
                return Some(index);
            }
            index += 1;
            j = 0;
        } else if j != usize::MAX {
            j = match w.get(j) {
                Some(&x) if x == c || (fold && x.to_ascii_lowercase() == c) => j + 1,
                _ => usize::MAX,
            };
        }
    }
    None
}

#[cfg(test)]
#[test]
fn find_in_is_split_position() {
    let tables = [
        "ms s m",
        "yes no",
        "a ab abc b",
        "chown dac_override net_bind_service",
        "x",
    ];
    let words = [
        "",
        "a",
        "ab",
        "abc",
        "abcd",
        "b",
        "ms",
        "m",
        "s",
        "mss",
        "yes",
        "no",
        "No",
        "YES",
        "CHOWN",
        "Net_Bind_Service",
        "dac_overrid",
        "dac_override_",
        "é",
        "x",
        "X",
        " ",
    ];
    for t in tables {
        for w in words {
            let plain = t.split(' ').position(|n| n == w);
            let fold = t.split(' ').position(|n| n.eq_ignore_ascii_case(w));
            assert_eq!(find_in(t, w, false), plain, "{t:?} {w:?}");
            assert_eq!(find_in(t, w, true), fold, "{t:?} {w:?}");
        }
    }
}
