//! Search: the normalization and tokenizer shared (by test vectors, see
//! `tests/vectors/normalize.json`) with the JavaScript client in
//! `themes/default/static/search-core.js`, and the index writer ([`index`]).
//!
//! A token is a run of letters, digits and combining marks. Each token has
//! two forms:
//! - the *normalized* form: NFC, lower case, the tone mark moved to one
//!   placement ("hoá", "xoá", "thuỷ" → "hóa", "xóa", "thủy");
//! - the *folded* form: the normalized form without any diacritics and with
//!   đ → d ("hóa" → "hoa"). Index keys are folded; the normalized forms are
//!   kept as variants so that a query with marks ranks exact matches first.
//!
//! The JS client implements the same functions line for line; any change
//! here must be made there too, and a vector added.

pub mod index;

use unicode_normalization::UnicodeNormalization;

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Normalized form ("hóa").
    pub norm: String,
    /// Folded form ("hoa").
    pub fold: String,
    /// Byte range in the text it was read from.
    pub start: usize,
    pub end: usize,
}

/// Whether `c` belongs to a token: JS `[\p{Alphabetic}\p{N}\u0300-\u036f]`.
pub fn is_token_char(c: char) -> bool {
    match c as u32 {
        // Fast paths, same answers: ASCII; Latin-1 and Latin Extended-A/B
        // letters (all alphabetic but × and ÷); the combining marks;
        // Latin Extended Additional (Vietnamese ạ ả ấ ... ỹ), all letters.
        0..=0x7f => c.is_ascii_alphanumeric(),
        0xc0..=0x24f => c != '\u{d7}' && c != '\u{f7}',
        0x300..=0x36f | 0x1e00..=0x1eff => true,
        _ => c.is_alphabetic() || c.is_numeric(),
    }
}

fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

/// The five Vietnamese tone marks, as combining characters.
fn is_tone(c: char) -> bool {
    matches!(
        c,
        '\u{0300}' | '\u{0301}' | '\u{0303}' | '\u{0309}' | '\u{0323}'
    )
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

const ONSETS: &[&str] = &[
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "q", "r", "s", "t", "th", "tr", "v", "x",
];
const CODAS: &[&str] = &["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];

/// Splits `text` into tokens.
pub fn tokenize(text: &str) -> Vec<Token> {
    word_ranges(text).map(|(s, e)| token(text, s, e)).collect()
}

/// Whether the char whose UTF-8 starts at `bytes[i]` belongs to a token,
/// and its length. This runs over every char of the corpus, so the
/// scripts of Vietnamese text are answered from their UTF-8 lead bytes,
/// without decoding: ASCII; U+00C0-U+02AF (Latin-1 letters but × and ÷,
/// Latin Extended-A/B, IPA: all letters); U+0300-U+033F (combining
/// marks); U+1E00-U+1EFF (Latin Extended Additional: ạ ả ấ ... ỹ).
#[inline(always)]
fn token_char_at(bytes: &[u8], i: usize) -> (bool, usize) {
    let b = bytes[i];
    if b < 0x80 {
        return (b.is_ascii_alphanumeric(), 1);
    }
    let next = bytes.get(i + 1).copied().unwrap_or(0);
    match b {
        0xc3 => return (next != 0x97 && next != 0xb7, 2),
        0xc4..=0xc9 | 0xcc => return (true, 2),
        0xca if next < 0xb0 => return (true, 2),
        0xe1 if (0xb8..=0xbb).contains(&next) => return (true, 3),
        _ => {}
    }
    let (c, len) = crate::text::decode_at(bytes, i);
    (is_token_char(c), len)
}

/// Byte ranges of the tokens of `text`, not yet normalized.
pub fn word_ranges(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut ranges = Vec::new();
    for_each_word(text, |start, end| ranges.push((start, end)));
    ranges.into_iter()
}

/// Calls `word` with the byte range of each token of `text`, in order:
/// the tokenizer's one loop, each char looked at once (the index runs it
/// over the whole corpus; [`word_ranges`] is its list).
#[inline(always)]
pub fn for_each_word(text: &str, mut word: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    let mut start = None;
    let mut at = 0;
    while at < bytes.len() {
        let (token, len) = token_char_at(bytes, at);
        match (token, start) {
            (true, None) => start = Some(at),
            (false, Some(s)) => {
                word(s, at);
                start = None;
            }
            _ => {}
        }
        at += len;
    }
    if let Some(s) = start {
        word(s, bytes.len());
    }
}

fn token(text: &str, start: usize, end: usize) -> Token {
    let norm = normalize_word(&text[start..end]);
    let fold = fold(&norm);
    Token {
        norm,
        fold,
        start,
        end,
    }
}

/// Normalized forms of the tokens of `text`.
pub fn normalized(text: &str) -> Vec<String> {
    tokenize(text).into_iter().map(|t| t.norm).collect()
}

/// Folded forms of the tokens of `text`.
pub fn folded(text: &str) -> Vec<String> {
    tokenize(text).into_iter().map(|t| t.fold).collect()
}

/// One word: NFC, lower case, tone mark at its one placement.
pub fn normalize_word(word: &str) -> String {
    let lower: String = word.nfc().collect::<String>().to_lowercase();
    place_tone(&lower).unwrap_or_else(|| lower.nfc().collect())
}

/// Without diacritics, đ → d. Expects a normalized word.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|&c| !is_mark(c))
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// Moves the tone mark of a Vietnamese syllable to its placement: on the
/// vowel with a quality mark (â ă ê ô ơ ư; the last one, so "ươ" → ơ);
/// else on the last vowel when a final consonant follows ("hoàn", "hoạch");
/// else on the first of two vowels ("hóa", "thủy", "mía") or the middle of
/// three ("ngoài", "khuỷu"). "qu" and "gi" before a vowel are consonants.
/// `None` when the word is not a syllable with exactly one tone mark.
fn place_tone(lower: &str) -> Option<String> {
    // Letters as (base, quality marks); the tone apart.
    let mut units: Vec<(char, Vec<char>)> = Vec::new();
    let mut tone = None;
    for c in lower.nfd() {
        if is_tone(c) {
            if tone.is_some() {
                return None;
            }
            tone = Some(c);
        } else if is_mark(c) {
            units.last_mut()?.1.push(c);
        } else {
            units.push((c, Vec::new()));
        }
    }
    let tone = tone?;
    let first = units.iter().position(|u| is_vowel(u.0))?;
    let mut start = first;
    if start >= 1
        && units[start - 1].0 == 'q'
        && units[start].0 == 'u'
        && units.get(start + 1).is_some_and(|u| is_vowel(u.0))
    {
        start += 1;
    }
    if start == 1
        && units[0].0 == 'g'
        && units[1].0 == 'i'
        && units[1].1.is_empty()
        && units.get(2).is_some_and(|u| is_vowel(u.0))
    {
        start = 2;
    }
    let mut end = start;
    while end < units.len() && is_vowel(units[end].0) {
        end += 1;
    }
    let onset: String = units[..first].iter().map(|u| u.0).collect();
    let coda: String = units[end..].iter().map(|u| u.0).collect();
    let onset_ok =
        ONSETS.contains(&onset.as_str()) && units[..first].iter().all(|u| u.1.is_empty());
    if !onset_ok || !CODAS.contains(&coda.as_str()) || units[end..].iter().any(|u| !u.1.is_empty())
    {
        return None;
    }
    let n = end - start;
    let pos = match (start..end).rev().find(|&i| !units[i].1.is_empty()) {
        Some(i) => i,
        None if end < units.len() => end - 1,
        None => match n {
            1 | 2 => start,
            3 => start + 1,
            _ => return None,
        },
    };
    let mut out = String::with_capacity(lower.len() + 2);
    for (i, (base, marks)) in units.iter().enumerate() {
        out.push(*base);
        out.extend(marks.iter());
        if i == pos {
            out.push(tone);
        }
    }
    Some(out.nfc().collect())
}

/// 32-bit FNV-1a of the UTF-8 bytes: picks an index key's shard. The client
/// computes the same.
pub fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_char_is_classed_by_its_bytes_as_by_itself() {
        for c in (0..=0x10ffff_u32).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(
                token_char_at(bytes, 0),
                (is_token_char(c), c.len_utf8()),
                "{c:?}"
            );
        }
    }

    #[test]
    fn words_split_by_bytes_as_the_chars_say() {
        let text: String = (0..=0x10ffff_u32).filter_map(char::from_u32).collect();
        let mixed = "Đại hội XIV—“PCTNTC” 8371-CV/BTGTW ×2 ho\u{61}\u{301} 𝔸𝔹 ١٢ 中文";
        let by_chars: Vec<&str> = mixed
            .split(|c: char| !is_token_char(c))
            .filter(|w| !w.is_empty())
            .collect();
        let by_bytes: Vec<&str> = word_ranges(mixed).map(|(s, e)| &mixed[s..e]).collect();
        assert_eq!(by_bytes, by_chars);
        let all_by_chars = text
            .split(|c: char| !is_token_char(c))
            .filter(|w| !w.is_empty());
        assert!(all_by_chars.eq(word_ranges(&text).map(|(s, e)| &text[s..e])));
    }

    #[test]
    fn tone_moves_to_one_placement() {
        for (old, new) in [
            ("hoá", "hóa"),
            ("xoá", "xóa"),
            ("thuỷ", "thủy"),
            ("Hoà", "hòa"),
            ("khoẻ", "khỏe"),
            ("uỷ", "ủy"),
            ("hoàn", "hoàn"),
            ("hoạch", "hoạch"),
            ("quả", "quả"),
            ("giữa", "giữa"),
            ("già", "già"),
            ("gì", "gì"),
            ("người", "người"),
            ("ngoài", "ngoài"),
            ("khuỷu", "khuỷu"),
            ("quyết", "quyết"),
            ("Đảng", "đảng"),
            ("café", "café"),
        ] {
            assert_eq!(normalize_word(old), new, "{old}");
        }
        // NFD input composes.
        assert_eq!(normalize_word("ho\u{0061}\u{0301}"), "hóa");
    }

    #[test]
    fn folds_without_diacritics() {
        assert_eq!(fold("đảng"), "dang");
        assert_eq!(fold("hóa"), "hoa");
        assert_eq!(folded("Đại hội XIV"), ["dai", "hoi", "xiv"]);
    }

    #[test]
    fn tokens_split_numbers_and_punctuation() {
        assert_eq!(folded("8371-CV/BTGTW,"), ["8371", "cv", "btgtw"]);
        assert_eq!(normalized("phòng, chống"), ["phòng", "chống"]);
        let t = tokenize("a hoá");
        assert_eq!((t[1].start, t[1].end), (2, 2 + "hoá".len()));
    }

    #[test]
    fn token_chars_fast_paths_agree_with_unicode() {
        for c in (0u32..0x2000).filter_map(char::from_u32) {
            let slow = c.is_alphabetic() || c.is_numeric() || is_mark(c);
            assert_eq!(is_token_char(c), slow, "{c:?} U+{:04X}", c as u32);
        }
    }

    #[test]
    fn hash_is_fnv1a() {
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
    }
}
