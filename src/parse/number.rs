//! Document numbers ("Số và ký hiệu"): their shapes, their normal form, and
//! finding them, with the date that may follow, in running text.

use chrono::NaiveDate;
use regex::Regex;
use std::sync::LazyLock;

/// A part of a number made of letters ("CV", "BTGTU", "TTg", "NĐ").
const PART: &str = r"\p{Lu}[\p{L}\d]*";

static SHAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        // Party: N-KIND/BODY[/UNIT]; state: N/KIND-BODY, N/BODY-UNIT, N/YEAR/KIND-BODY.
        r"^(?:\d+[a-z]?-{PART}(?:/{PART})+|\d+[a-z]?(?:/\d{{4}})?/{PART}(?:-{PART})+)$"
    ))
    .expect("number shape regex")
});

/// Numbers in running text: the shapes above, with optional spaces around
/// the separators, and an optional date after them.
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    let party = format!(r"\d+[a-z]?\s*-\s*{PART}(?:\s*/\s*{PART})+");
    let state = format!(r"\d+[a-z]?(?:/\d{{4}})?/{PART}(?:\s*-\s*{PART})+");
    let numeric = r"(?:ngày\s+)?(?P<d1>\d{1,2})\s*[/.-]\s*(?P<m1>\d{1,2})\s*[/.-]\s*(?P<y1>\d{4})";
    let written = r"ngày\s+(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})\s+năm\s+(?P<y2>\d{4})";
    // No `\b`: a Unicode word boundary keeps the regex off its fast DFA.
    // The class before the number does the same job; the greedy letter
    // parts end the number at a non-letter.
    Regex::new(&format!(
        r"(?:^|[^\p{{L}}\p{{N}}/-])(?P<num>{party}|{state})(?:\s*,?\s*(?:{numeric}|{written}))?"
    ))
    .expect("mention regex")
});

/// The normal form of a number: spaces around separators removed.
/// "369 - CV/BTGTU" → "369-CV/BTGTU".
pub fn normalize(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether a normalized number has one of the accepted shapes.
pub fn is_valid(number: &str) -> bool {
    SHAPE.is_match(number)
}

/// The key numbers are compared by: folded, so "QĐ" and "QD" match.
pub fn key(number: &str) -> String {
    crate::text::slugify(&normalize(number))
}

/// A number found in text: its byte range (the number and any date after it)
/// and its normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    /// End of the number itself.
    pub number_end: usize,
    /// End of the number and the date that follows it, if any.
    pub end: usize,
    pub number: String,
    pub date: Option<NaiveDate>,
}

pub fn find_all(text: &str) -> Vec<Found> {
    // Every shape has a slash; most text has none, and memchr is far
    // cheaper than the regex.
    if memchr::memchr(b'/', text.as_bytes()).is_none() {
        return Vec::new();
    }
    MENTION
        .captures_iter(text)
        .filter_map(|c| {
            let num = c.name("num")?;
            let date = [("d1", "m1", "y1"), ("d2", "m2", "y2")]
                .iter()
                .find_map(|&(d, m, y)| {
                    let d: u32 = c.name(d)?.as_str().parse().ok()?;
                    let m: u32 = c.name(m)?.as_str().parse().ok()?;
                    let y: i32 = c.name(y)?.as_str().parse().ok()?;
                    NaiveDate::from_ymd_opt(y, m, d)
                });
            let whole = c.get(0)?;
            Some(Found {
                start: num.start(),
                number_end: num.end(),
                end: if date.is_some() {
                    whole.end()
                } else {
                    num.end()
                },
                number: normalize(num.as_str()),
                date,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_shape() {
        for n in [
            "1383-CV/BTGTU",
            "21-KL/TW",
            "66-QĐ/TW",
            "17/NQ-CP",
            "749/QĐ-TTg",
            "2844/VPCP-KSTT",
            "30/2020/NĐ-CP",
            "15/KH-UBND",
        ] {
            assert!(is_valid(n), "{n}");
        }
        assert!(is_valid(&normalize("369 - CV/BTGTU")));
        for n in ["ABC", "1383", "CV/BTGTU", "1383-cv/btgtu", "12/5/2024", ""] {
            assert!(!is_valid(n), "{n}");
        }
    }

    #[test]
    fn finds_numbers_and_dates_in_text() {
        let text = "Thực hiện Công văn số 8371-CV/BTGTW, ngày 10/5/2024 của Ban; \
                    Kết luận số 21-KL/TW ngày 25-10-2021, Quyết định 749/QĐ-TTg, \
                    Chỉ thị 05-CT/TU, ngày 04 tháng 01 năm 2018 và 369 - CV/BTGTU.";
        let found = find_all(text);
        let got: Vec<(&str, Option<String>)> = found
            .iter()
            .map(|f| (f.number.as_str(), f.date.map(|d| d.to_string())))
            .collect();
        assert_eq!(
            got,
            vec![
                ("8371-CV/BTGTW", Some("2024-05-10".into())),
                ("21-KL/TW", Some("2021-10-25".into())),
                ("749/QĐ-TTg", None),
                ("05-CT/TU", Some("2018-01-04".into())),
                ("369-CV/BTGTU", None),
            ]
        );
    }

    #[test]
    fn dates_and_ranges_are_not_numbers() {
        assert!(find_all("ngày 10/5/2024, giai đoạn 2021 - 2025, quý I/2024").is_empty());
    }
}
