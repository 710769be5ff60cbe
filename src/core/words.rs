//! Word lists in one string: keyword sets (declared with `keywords!`, one
//! lookup convention for both languages, the command line and /proc),
//! messages (declared with `messages!`, each beside its variant) and the
//! disassembler's mnemonics. One `&str` per table, not a slice of them: a
//! third of the bytes. Also what both languages share below them: the line
//! limit and the digit reader.

/// Longest line the policy and the config languages accept, in bytes.
pub const MAX_LINE: usize = 256;

/// `s`, all digits in `radix` (at least one), if it fits: the numbers of
/// both languages and those of /proc/PID/status.
// Size: one loop for all of them (measured).
#[inline(never)]
pub fn digits(s: &[u8], radix: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    // Bytes, not chars: a non-ASCII byte is no digit either.
    for &b in s {
        let d = (b as char).to_digit(radix)?;
        v = v.checked_mul(radix as u64)?.checked_add(d as u64)?;
    }
    Some(v)
}

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
    find_in(words, w.as_bytes(), false)
}

/// `find` for a word of bytes (an argument, a line of /proc), ignoring
/// ASCII case if `fold` (`words` is then in lower case).
// Size: one copy for every keyword table; a byte loop, not `split` and
// `eq_ignore_ascii_case` (250 B less, measured).
#[inline(never)]
pub fn find_in(words: &str, w: &[u8], fold: bool) -> Option<usize> {
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
            assert_eq!(find_in(t, w.as_bytes(), false), plain, "{t:?} {w:?}");
            assert_eq!(find_in(t, w.as_bytes(), true), fold, "{t:?} {w:?}");
        }
    }
}

/// Keywords with names. One declaration gives an enum, its words as one
/// space-separated string and the lookup of a token in it, so that a parser
/// matches on `ActionWord::Kill`, not on the position of `kill` in a list,
/// and a word cannot drift from its variant. Both languages (policy and
/// config) declare their keyword sets with it: one lookup convention.
///
/// ```text
/// keywords! {
///     /// What a line of a paths block starts with.
///     BlockWord { Close = "}", Allow = "allow" }
/// }
/// ```
///
/// An optional visibility before the name is the enum's and its items'.
/// The words are one string searched by `find`, not a `match` on strings:
/// a `match` compares each word in code of its own. `ALL` pairs each word
/// with its variant (for tests and messages; a table the binary only holds
/// where it is used). A compile-time check refuses a word that is empty or
/// holds a space, either of which would shift the words against the
/// variants.
#[macro_export]
macro_rules! keywords {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident {
            $first:ident = $first_word:literal $(, $variant:ident = $word:literal)* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            #[doc = concat!("`", $first_word, "`")]
            $first,
            $(#[doc = concat!("`", $word, "`")] $variant,)*
        }

        #[allow(dead_code)]
        impl $name {
            /// Every keyword, in the order of `WORDS`.
            const VARIANTS: &'static [$name] = &[$name::$first, $($name::$variant,)*];
            /// How many keywords there are.
            $vis const COUNT: usize = $name::VARIANTS.len();
            /// The words, separated by single spaces.
            $vis const WORDS: &'static str = concat!($first_word $(, " ", $word)*);
            /// Every keyword with its word, in order.
            $vis const ALL: [(&'static str, $name); $name::COUNT] =
                [($first_word, $name::$first), $(($word, $name::$variant),)*];

            /// The keyword `token` is, if it is one.
            $vis fn of(token: &str) -> Option<$name> {
                $crate::words::find(Self::WORDS, token)
                    .and_then(|i| Self::VARIANTS.get(i).copied())
            }

            /// `of` for a token of bytes (an argument, a line of /proc).
            $vis fn of_bytes(token: &[u8]) -> Option<$name> {
                $crate::words::find_in(Self::WORDS, token, false)
                    .and_then(|i| Self::VARIANTS.get(i).copied())
            }

            /// The keyword's word.
            $vis fn word(self) -> &'static str {
                $crate::words::nth(Self::WORDS, b' ', self as usize)
            }
        }

        impl $crate::words::Keyword for $name {
            const WORDS: &'static str = $name::WORDS;
            const VARIANTS: &'static [$name] = $name::VARIANTS;
        }

        const _: () = assert!(
            $crate::words::words_agree($name::WORDS, b' ', $name::COUNT),
            "a keyword is empty or holds a space",
        );
    };
}
pub use keywords;

/// Messages with names. One declaration gives an enum, each variant's
/// message template beside it (`%t`, `%w`, ... as `policy::error::fill`
/// reads them), the templates as one text, and `template`, the lookup of a
/// variant's template: no message is reached by a number written by hand.
///
/// ```text
/// messages! {
///     /// What went wrong.
///     pub enum ErrorKind {
///         /// A number that does not parse.
///         BadNumber = "bad number `%t`",
///         /// A keyword was expected.
///         Expected(what) = "expected %w%f",
///         ;
///         /// Worded by its own language.
///         Policy(policy::ErrorKind),
///     }
/// }
/// ```
///
/// A variant written `Name(what)` carries the text `%w` stands for (a
/// `&'static str`), which `template` returns beside the template. Variants
/// after a `;` carry what their type says and have no template here
/// (`template` gives them `("", "")`): their owner words them. When no
/// variant carries anything, `nth` finds a variant by its line. The
/// templates are one `\n`-separated text walked by `nth`, not a table of
/// `&str` (16 bytes more a message on 64-bit). A compile-time check refuses a
/// template that is empty or holds a newline, either of which would shift
/// the templates against the variants.
#[macro_export]
macro_rules! messages {
    (@what $what:ident) => { $what };
    (@what) => { "" };
    (@str $what:ident) => { &'static str };
    (@join $first:literal $($rest:literal)*) => { concat!($first $(, "\n", $rest)*) };
    // No variant carries anything: each can also be found by its line.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $text:literal
            ),+ $(,)?
        }
    ) => {
        $crate::words::messages! {
            @declare
            $(#[$meta])*
            $vis enum $name {
                $(
                    $(#[$vmeta])*
                    $variant = $text,
                )+
            }
        }

        impl $name {
            /// The message of line `line` of `TEMPLATES`, if there is one.
            $vis fn nth(line: usize) -> Option<$name> {
                [$($name::$variant),+].get(line).copied()
            }
        }
    };
    (
        @declare
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident $(($what:ident))? = $text:literal
            ),+ $(,)?
            $(;
                $(
                    $(#[$ometa:meta])*
                    $other:ident($oty:ty)
                ),+ $(,)?
            )?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant $(($crate::words::messages!(@str $what)))?,
            )+
            $($(
                $(#[$ometa])*
                $other($oty),
            )+)?
        }

        impl $name {
            /// The templates, one a line, in the order of the variants.
            const TEMPLATES: &'static str = $crate::words::messages!(@join $($text)+);

            /// The message as a template for `fill`, and the text `%w`
            /// stands for ("" if none).
            $vis fn template(self) -> (&'static str, &'static str) {
                /// The variants with a template, in order: their lines.
                // The names are the outer enum's, whatever they start with.
                #[allow(clippy::enum_variant_names)]
                enum Line {
                    $($variant,)+
                }
                let (line, what) = match self {
                    $(
                        $name::$variant $(($what))? =>
                            (Line::$variant as usize, $crate::words::messages!(@what $($what)?)),
                    )+
                    $($(
                        $name::$other(..) => return ("", ""),
                    )+)?
                };
                ($crate::words::nth(Self::TEMPLATES, b'\n', line), what)
            }
        }

        const _: () = assert!(
            $crate::words::words_agree(
                $name::TEMPLATES,
                b'\n',
                [$(stringify!($variant)),+].len(),
            ),
            "a message template is empty or holds a newline",
        );
    };
    // Some variants carry something.
    ($($declaration:tt)+) => {
        $crate::words::messages! { @declare $($declaration)+ }
    };
}
pub use messages;

/// A set of keywords declared by `keywords!`, for code that reads any of
/// them (a directive's one-word argument, say).
pub trait Keyword: Copy + 'static {
    /// The words, separated by single spaces.
    const WORDS: &'static str;
    /// The keywords, in the order of `WORDS`.
    const VARIANTS: &'static [Self];
}

/// Does `words` hold `count` non-empty words separated by single `sep`s?
pub const fn words_agree(words: &str, sep: u8, count: usize) -> bool {
    let w = words.as_bytes();
    let mut n = 1;
    let mut i = 0;
    while i < w.len() {
        let edge = i == 0 || i + 1 == w.len() || w[i - 1] == sep;
        if w[i] == sep {
            if edge {
                return false;
            }
            n += 1;
        }
        i += 1;
    }
    !w.is_empty() && n == count
}

#[cfg(test)]
#[test]
fn keyword_lists_are_checked() {
    assert!(words_agree("allow kill", b' ', 2));
    assert!(words_agree("}", b' ', 1));
    assert!(!words_agree("allow kill", b' ', 3));
    assert!(words_agree("a b\nc", b'\n', 2));
    for bad in ["", " a", "a ", "a  b"] {
        assert!(!words_agree(bad, b' ', bad.split(' ').count()), "{bad:?}");
    }
}

#[cfg(test)]
mod keyword_tests {
    keywords! {
        /// A set to test the declaration with.
        Word { One = "one", Two = "two", Close = "}" }
    }

    #[test]
    fn words_and_variants_agree() {
        assert_eq!(Word::WORDS, "one two }");
        assert_eq!(Word::COUNT, 3);
        for (w, k) in Word::ALL {
            assert_eq!(Word::of(w), Some(k));
            assert_eq!(k.word(), w);
        }
        assert_eq!(Word::of("three"), None);
        assert_eq!(Word::of(""), None);
        assert_eq!(Word::of("one two"), None);
        assert_eq!(Word::of_bytes(b"two"), Some(Word::Two));
        assert_eq!(Word::of_bytes(b"tw"), None);
    }
}

#[cfg(test)]
mod message_tests {
    messages! {
        /// A set to test the declaration with.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Msg {
            First = "first `%t`",
            Carries(what) = "second %w",
            Third = "third",
            ;
            Other(u8),
        }
    }

    messages! {
        /// Messages that carry nothing.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Plain {
            A = "a",
            B = "b",
        }
    }

    #[test]
    fn templates_follow_their_variants() {
        assert_eq!(Msg::TEMPLATES, "first `%t`\nsecond %w\nthird");
        assert_eq!(Msg::First.template(), ("first `%t`", ""));
        assert_eq!(Msg::Carries("x").template(), ("second %w", "x"));
        assert_eq!(Msg::Third.template(), ("third", ""));
        assert_eq!(Msg::Other(1).template(), ("", ""));
        assert_eq!(Plain::B.template(), ("b", ""));
        assert_eq!(Plain::nth(0), Some(Plain::A));
        assert_eq!(Plain::nth(1), Some(Plain::B));
        assert_eq!(Plain::nth(2), None);
    }
}
