//! Small text helpers shared by every stage: Unicode normalization and the
//! folding of Vietnamese into lowercase ASCII for addresses and ids.

use unicode_normalization::UnicodeNormalization;

/// Canonical composition (NFC): text may arrive in NFC or NFD.
pub fn nfc(s: &str) -> String {
    if is_nfc(s) {
        s.to_string()
    } else {
        s.nfc().collect()
    }
}

/// [`nfc`] without a copy when `s` is NFC already (the usual case).
pub fn nfc_owned(s: String) -> String {
    if is_nfc(s.as_str()) {
        s
    } else {
        s.nfc().collect()
    }
}

/// Whether `s` is NFC. Vietnamese text in NFC is made of chars that no
/// normalization changes (checked one by one in the tests): those are
/// recognized by range, and only other text pays for the full check
/// (it was 3% of a build's CPU).
fn is_nfc(s: &str) -> bool {
    all_nfc_stable(s.as_bytes())
        || unicode_normalization::is_nfc_quick(s.chars())
            == unicode_normalization::IsNormalized::Yes
}

/// `s.chars().all(is_nfc_stable)` on the UTF-8 bytes of `s`, without
/// decoding: a char is stable unless its first byte is 0xCC or more (from
/// U+0300), but for U+1E00-1EFF (E1 B8-BB ..) and U+2010-205F (E2 80 90
/// to E2 81 9F). Tested 64 bytes at a time with no branch per byte, which
/// the compiler vectorizes: Vietnamese text has a non-ASCII char in every
/// other word, and the char by char test was 14% of `check`'s CPU.
fn all_nfc_stable(bytes: &[u8]) -> bool {
    fn unstable(b0: u8, b1: u8, b2: u8) -> bool {
        let vietnamese = b0 == 0xe1 && (0xb8..=0xbb).contains(&b1);
        let punctuation = b0 == 0xe2 && ((b1 == 0x80 && b2 >= 0x90) || (b1 == 0x81 && b2 <= 0x9f));
        b0 >= 0xcc && !vietnamese && !punctuation
    }
    const BLOCK: usize = 64;
    let mut i = 0;
    while i + BLOCK + 2 <= bytes.len() {
        let (a, b, c) = (
            &bytes[i..i + BLOCK],
            &bytes[i + 1..i + BLOCK + 1],
            &bytes[i + 2..i + BLOCK + 2],
        );
        let mut any = false;
        for k in 0..BLOCK {
            any |= unstable(a[k], b[k], c[k]);
        }
        if any {
            return false;
        }
        i += BLOCK;
    }
    let at = |j: usize| bytes.get(j).copied().unwrap_or(0);
    (i..bytes.len()).all(|j| !unstable(bytes[j], at(j + 1), at(j + 2)))
}

/// The char whose UTF-8 starts at `bytes[i]`, and its length: decoded by
/// hand, as slicing the `str` there costs a boundary check per char.
#[inline(always)]
pub(crate) fn decode_at(bytes: &[u8], i: usize) -> (char, usize) {
    let lead = u32::from(bytes[i]);
    let next = |k: usize| u32::from(bytes.get(i + k).map_or(0, |b| b & 0x3f));
    let (c, len) = match lead {
        0..=0x7f => (lead, 1),
        0xc0..=0xdf => ((lead & 0x1f) << 6 | next(1), 2),
        0xe0..=0xef => ((lead & 0x0f) << 12 | next(1) << 6 | next(2), 3),
        _ => (
            (lead & 0x07) << 18 | next(1) << 12 | next(2) << 6 | next(3),
            4,
        ),
    };
    (
        char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER),
        len,
    )
}

/// Lowercase ASCII without diacritics: "Đại hội" → "dai hoi".
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'đ' | 'Đ' => out.push('d'),
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            // A char's canonical decomposition is its NFD, without a
            // String and an iterator per char.
            c => unicode_normalization::char::decompose_canonical(c, |d| {
                if d.is_ascii() {
                    out.push(d.to_ascii_lowercase());
                } else if !is_combining_mark(d) {
                    out.push_str(&deunicode::deunicode_char(d).unwrap_or("").to_lowercase());
                }
            }),
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

/// An address part: folded, with every run of other characters turned into
/// one hyphen. "1383-CV/BTGTU" → "1383-cv-btgtu".
pub fn slugify(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Whether `s` is already a valid slug: lowercase ASCII letters, digits and
/// single inner hyphens.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty() && slugify(s) == s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chars [`all_nfc_stable`] takes as NFC by their bytes: ASCII,
    /// Latin-1 and Latin Extended-A/B letters, IPA and modifiers (to
    /// U+02FF), Vietnamese precomposed letters (U+1E00-U+1EFF) and the
    /// punctuation from U+2010 (dashes, quotes, ellipsis).
    fn is_nfc_stable(c: char) -> bool {
        matches!(c as u32, 0..=0x2ff | 0x1e00..=0x1eff | 0x2010..=0x205f)
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Đại hội XIV"), "dai hoi xiv");
        assert_eq!(fold("hoá"), "hoa");
        assert_eq!(slugify("1383-CV/BTGTU"), "1383-cv-btgtu");
        assert_eq!(slugify("749/QĐ-TTg"), "749-qd-ttg");
        assert_eq!(slugify("  Hội Nhà báo tỉnh! "), "hoi-nha-bao-tinh");
    }

    #[test]
    fn folds_every_char_as_its_nfd_does() {
        let by_nfd = |c: char| -> String {
            let mut out = String::new();
            for d in c.to_string().nfd() {
                if d.is_ascii() {
                    out.push(d.to_ascii_lowercase());
                } else if !is_combining_mark(d) {
                    out.push_str(&deunicode::deunicode_char(d).unwrap_or("").to_lowercase());
                }
            }
            out
        };
        for c in (0x80..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| c != 'đ' && c != 'Đ')
        {
            assert_eq!(fold(&c.to_string()), by_nfd(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn chars_decoded_by_hand_are_the_chars_of_the_text() {
        let text: String = (0..=0x10ffff_u32).filter_map(char::from_u32).collect();
        let mut at = 0;
        for c in text.chars() {
            assert_eq!(decode_at(text.as_bytes(), at), (c, c.len_utf8()));
            at += c.len_utf8();
        }
    }

    #[test]
    fn the_byte_test_of_nfc_stable_text_agrees_with_the_char_test() {
        let chars: Vec<char> = (0..=0x10ffff_u32).filter_map(char::from_u32).collect();
        for &c in &chars {
            let one = c.to_string();
            assert_eq!(
                all_nfc_stable(one.as_bytes()),
                is_nfc_stable(c),
                "U+{:04X}",
                c as u32
            );
        }
        // In long text, at places around the edges of the 64-byte blocks.
        for &c in chars.iter().step_by(31) {
            for before in [0, 1, 61, 62, 63, 64, 65, 127, 130] {
                let s = format!(
                    "{}{c}{}",
                    "ệ".repeat(before / 3) + &"a".repeat(before % 3),
                    "a".repeat(70)
                );
                assert_eq!(
                    all_nfc_stable(s.as_bytes()),
                    s.chars().all(is_nfc_stable),
                    "U+{:04X} after {before} bytes",
                    c as u32
                );
            }
        }
        // Runs of ASCII around other chars, at every alignment.
        for (k, &c) in chars.iter().enumerate().step_by(97) {
            let s = format!("{}{c}{}ệ", "a".repeat(k % 11), "b".repeat(k % 13));
            assert_eq!(
                all_nfc_stable(s.as_bytes()),
                s.chars().all(is_nfc_stable),
                "{s:?}"
            );
        }
    }

    #[test]
    fn composes_nfd() {
        let nfd = "ho\u{0061}\u{0301}"; // "hoá" decomposed
        assert_eq!(nfc(nfd), "hoá");
        assert_eq!(nfc_owned(nfd.to_string()), "hoá");
    }

    #[test]
    fn chars_taken_as_nfc_by_range_are_nfc_and_combine_with_nothing() {
        use unicode_normalization::char::canonical_combining_class;
        for c in (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_nfc_stable(c))
        {
            let one = c.to_string();
            assert_eq!(
                unicode_normalization::is_nfc_quick(one.chars()),
                unicode_normalization::IsNormalized::Yes,
                "U+{:04X}",
                c as u32
            );
            assert_eq!(canonical_combining_class(c), 0, "U+{:04X}", c as u32);
            assert_eq!(one.nfc().collect::<String>(), one, "U+{:04X}", c as u32);
        }
    }
}
