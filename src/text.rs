//! Small text helpers shared by every stage: Unicode normalization and the
//! folding of Vietnamese into lowercase ASCII for addresses and ids.

use unicode_normalization::{IsNormalized, is_nfc_quick};

/// Canonical composition (NFC): text may arrive in NFC or NFD.
pub fn nfc(s: &str) -> String {
    match first_unstable(s.as_bytes(), 0) {
        None => s.to_string(),
        Some(at) => compose_from(s, at),
    }
}

/// [`nfc`] without a copy when `s` is NFC already (the usual case).
pub fn nfc_owned(s: String) -> String {
    match first_unstable(s.as_bytes(), 0) {
        None => s,
        Some(at) => compose_from(&s, at),
    }
}

/// NFC of `s`, whose first char that is not NFC-stable starts at `at`.
/// Vietnamese text in NFC is made of chars that no normalization changes,
/// that are starters and that never compose with a char before them
/// (checked one by one in the tests): the text can be cut before any of
/// them. So only each run of other chars is composed, with the starter
/// before it (whose marks they may be); the rest is copied. Composing
/// whole texts was 6% of a build's instructions when 1 file in 40 was
/// NFD (as macOS writes it), most of it for text that was NFC already.
fn compose_from(s: &str, mut at: usize) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut scratch = Vec::new();
    let mut copied = 0;
    loop {
        let mut start = at;
        if start > copied {
            start -= 1;
            while start > copied && is_continuation(bytes[start]) {
                start -= 1;
            }
        }
        let mut end = at;
        while end < bytes.len() && unstable_at(bytes, end) {
            end += utf8_len(bytes[end]);
        }
        let end = end.min(bytes.len());
        out.push_str(&s[copied..start]);
        let run = &s[start..end];
        // A run with a combining diacritic (U+0300-036F, as NFD
        // Vietnamese has in every other word) is composed at once; other
        // runs are most often NFC already (other scripts).
        let marks = run.bytes().any(|b| b == 0xcc || b == 0xcd);
        if !marks && is_nfc_quick(run.chars()) == IsNormalized::Yes {
            out.push_str(run);
        } else {
            compose_run(run, &mut scratch, &mut out);
        }
        copied = end;
        match first_unstable(bytes, end) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// Appends the NFC of `run` to `out`: the canonical decomposition of its
/// chars, each sequence of marks in canonical order, then the canonical
/// composition of UAX #15 (as `run.nfc()` does, without an iterator set
/// up for every syllable of an NFD text).
fn compose_run(run: &str, chars: &mut Vec<(char, u8)>, out: &mut String) {
    use unicode_normalization::char::{canonical_combining_class, compose, decompose_canonical};
    chars.clear();
    for c in run.chars() {
        decompose_canonical(c, |d| chars.push((d, canonical_combining_class(d))));
    }
    // Canonical order: each sequence of marks sorted by class, stably (in
    // O(n log n), should a text hold a long one).
    let mut i = 0;
    while i < chars.len() {
        let marks = chars[i..]
            .iter()
            .take_while(|&&(_, class)| class != 0)
            .count();
        chars[i..i + marks].sort_by_key(|&(_, class)| class);
        i += marks.max(1);
    }
    // Composed in place: `kept` chars stay, the last starter among them
    // at `starter`; `last` is the class of the last char kept after it.
    let mut kept = 0;
    let mut starter: Option<usize> = None;
    let mut last: Option<u8> = None;
    for i in 0..chars.len() {
        let (c, class) = chars[i];
        if let Some(s) = starter {
            let blocked = last.is_some_and(|l| l == 0 || l >= class);
            if !blocked {
                if let Some(x) = compose(chars[s].0, c) {
                    chars[s].0 = x;
                    continue;
                }
            }
        }
        if class == 0 {
            starter = Some(kept);
            last = None;
        } else {
            last = Some(class);
        }
        chars[kept] = (c, class);
        kept += 1;
    }
    out.extend(chars[..kept].iter().map(|&(c, _)| c));
}

fn is_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

/// The length of the char whose UTF-8 starts with `lead`.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0..=0xdf => 1 + usize::from(lead >= 0xc0),
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Whether the char whose UTF-8 is `b0 b1 b2 ...` may not be NFC-stable
/// (see [`first_unstable`]); false for continuation bytes.
#[inline(always)]
fn unstable(b0: u8, b1: u8, b2: u8) -> bool {
    let vietnamese = b0 == 0xe1 && (0xb8..=0xbb).contains(&b1);
    let punctuation = b0 == 0xe2 && ((b1 == 0x80 && b2 >= 0x90) || (b1 == 0x81 && b2 <= 0x9f));
    b0 >= 0xcc && !vietnamese && !punctuation
}

fn unstable_at(bytes: &[u8], i: usize) -> bool {
    let at = |j: usize| bytes.get(j).copied().unwrap_or(0);
    unstable(at(i), at(i + 1), at(i + 2))
}

/// Where the first char from `from` on that is not NFC-stable starts, on
/// the UTF-8 bytes, without decoding: a char is stable unless its first
/// byte is 0xCC or more (from U+0300), but for U+1E00-1EFF (E1 B8-BB ..)
/// and U+2010-205F (E2 80 90 to E2 81 9F). Tested 64 bytes at a time with
/// no branch per byte, which the compiler vectorizes: Vietnamese text has
/// a non-ASCII char in every other word, and the char by char test was
/// 14% of `check`'s CPU.
fn first_unstable(bytes: &[u8], from: usize) -> Option<usize> {
    const BLOCK: usize = 64;
    // Byte by byte at first: in NFD text the next one is a few bytes on.
    let near = (from + BLOCK).min(bytes.len());
    if let Some(j) = (from..near).find(|&j| unstable_at(bytes, j)) {
        return Some(j);
    }
    let mut i = near;
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
            break;
        }
        i += BLOCK;
    }
    (i..bytes.len()).find(|&j| unstable_at(bytes, j))
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
    use unicode_normalization::UnicodeNormalization;

    /// The chars [`first_unstable`] takes as NFC by their bytes: ASCII,
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
        let all_nfc_stable = |bytes: &[u8]| first_unstable(bytes, 0).is_none();
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
    fn no_char_decomposes_to_anything_then_a_stable_char() {
        // So a stable char is never the second of a composition, and text
        // can be composed run by run, cut before each stable char.
        for x in (0..=0x10ffff_u32).filter_map(char::from_u32) {
            let mut parts = Vec::new();
            unicode_normalization::char::decompose_canonical(x, |d| parts.push(d));
            for &d in parts.iter().skip(1) {
                assert!(!is_nfc_stable(d), "U+{:04X} U+{:04X}", x as u32, d as u32);
            }
        }
    }

    #[test]
    fn composing_run_by_run_composes_as_the_whole_text_does() {
        // Stable chars, marks of every class, Hangul jamo and syllables,
        // singletons, exclusions, Indic and CJK, mixed at random.
        let pieces = [
            "a", "e", "o", "u", "y", "A", "đ", " ", "\n", "-", "ệ", "ơ", "ư", "–", "…", "\u{2060}",
            "\u{300}", "\u{301}", "\u{303}", "\u{309}", "\u{323}", "\u{302}", "\u{306}", "\u{31b}",
            "\u{327}", "\u{340}", "\u{344}", "\u{1100}", "\u{1161}", "\u{11a8}", "\u{ac00}",
            "\u{212b}", "\u{2126}", "\u{915}", "\u{93c}", "\u{958}", "\u{4e00}", "\u{f900}",
            "\u{b47}", "\u{b3e}", "\u{1e9b}", "\u{fb1d}", "\u{5b4}", "\u{0}",
        ];
        let mut next = crate::test_rng(0x2545_f491_4f6c_dd1d_u64);
        for round in 0..20_000 {
            let len = next(if round % 100 == 0 { 400 } else { 24 });
            let s: String = (0..len).map(|_| pieces[next(pieces.len())]).collect();
            let whole: String = s.nfc().collect();
            assert_eq!(nfc(&s), whole, "{s:?}");
            assert_eq!(nfc_owned(s.clone()), whole, "{s:?}");
        }
        // A long sequence of marks of mixed classes.
        let marks: String = "a"
            .chars()
            .chain((0..5_000).map(|i| ['\u{323}', '\u{301}', '\u{31b}', '\u{302}'][i % 4]))
            .collect();
        assert_eq!(nfc(&marks), marks.nfc().collect::<String>());
        // Vietnamese decomposed, as macOS writes it, in long text.
        let text = "Tỉnh ủy Bình Phước: phòng, chống tham nhũng, tiêu cực. ".repeat(40);
        let nfd: String = text.nfd().collect();
        assert_eq!(nfc(&nfd), text);
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
