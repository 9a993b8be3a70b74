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

/// A number in running text: the shapes above, with optional spaces
/// around the separators.
fn number_pattern() -> String {
    let party = format!(r"\d+[a-z]?\s*-\s*{PART}(?:\s*/\s*{PART})+");
    let state = format!(r"\d+[a-z]?(?:/\d{{4}})?/{PART}(?:\s*-\s*{PART})+");
    format!("{party}|{state}")
}

/// A date after a number: day, month and year in groups 1-3 (numeric) or
/// 4-6 (written out).
const DATE: &str = concat!(
    r"\s*,?\s*(?:(?:ngày\s+)?(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})",
    r"|ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4}))"
);

/// A number with the date that may follow it. No `\b`: a Unicode word
/// boundary keeps the regex off its fast DFA. The class before the number
/// does the same job; the greedy letter parts end the number at a
/// non-letter. Only found, never captured: its capture engines, on the
/// thousands of states its letter classes make, cost more than the rest
/// of finding numbers; [`NUMBER_AT`] and [`DATE_PARTS`] then read the
/// match.
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|[^\p{{L}}\p{{N}}/-])(?:{})(?:{DATE})?",
        number_pattern()
    ))
    .expect("mention regex")
});

/// The number at the start of a mention: as long as [`MENTION`] takes it
/// (both are greedy, and the date after it is optional).
static NUMBER_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^(?:{})", number_pattern())).expect("number regex"));

/// The date after a number, read into its parts.
static DATE_PARTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^(?:{DATE})$")).expect("date regex"));

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
        .find_iter(text)
        .filter_map(|m| {
            // A number starts with a digit; the char matched before it,
            // if any, is not one (the class before the number excludes
            // every digit).
            let first = m.as_str().chars().next()?;
            let start = m.start()
                + if first.is_numeric() {
                    0
                } else {
                    first.len_utf8()
                };
            let num = NUMBER_AT.find(&text[start..m.end()])?;
            let number_end = start + num.end();
            let date = DATE_PARTS
                .captures(&text[number_end..m.end()])
                .and_then(|c| {
                    let part = |i: usize, j: usize| c.get(i).or_else(|| c.get(j));
                    let d: u32 = part(1, 4)?.as_str().parse().ok()?;
                    let m: u32 = part(2, 5)?.as_str().parse().ok()?;
                    let y: i32 = part(3, 6)?.as_str().parse().ok()?;
                    NaiveDate::from_ymd_opt(y, m, d)
                });
            Some(Found {
                start,
                number_end,
                end: if date.is_some() { m.end() } else { number_end },
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

    /// `find_all` as one regex with captures reads it: the reference.
    fn found_by_captures(text: &str) -> Vec<Found> {
        static RE: LazyLock<Regex> = LazyLock::new(|| {
            let numeric =
                r"(?:ngày\s+)?(?P<d1>\d{1,2})\s*[/.-]\s*(?P<m1>\d{1,2})\s*[/.-]\s*(?P<y1>\d{4})";
            let written = r"ngày\s+(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})\s+năm\s+(?P<y2>\d{4})";
            Regex::new(&format!(
                r"(?:^|[^\p{{L}}\p{{N}}/-])(?P<num>{})(?:\s*,?\s*(?:{numeric}|{written}))?",
                number_pattern()
            ))
            .unwrap()
        });
        RE.captures_iter(text)
            .filter_map(|c| {
                let num = c.name("num")?;
                let date =
                    [("d1", "m1", "y1"), ("d2", "m2", "y2")]
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

    #[test]
    fn finding_then_reading_a_match_finds_what_captures_do() {
        let mut next = crate::test_rng(0x9e37_79b9_7f4a_7c15_u64);
        // Number-like runs, some well formed, some not, in some text.
        let before = ["", " ", "(", "x", "/", "-", "é", "2", "số ", "\n"];
        let digits = ["8371", "21", "5", "05", "749", "٣٤", "12a", "12A"];
        let seps = ["-", " - ", "/", " / ", "/2020/", "/20/", "--", " "];
        let parts = [
            "CV", "QĐ", "TTg", "KL", "cv", "Ư2", "ĐẢNG", "BTGTW", "TW", "2X",
        ];
        let after = ["", ",", ", ", " ", "  ,  ", ".", ";"];
        let dates = [
            "ngày 10/5/2024",
            "10-10-2021",
            "ngày 04 tháng 01 năm 2018",
            "31/2/2020",
            "ngày 1 . 2 . 2020",
            "10/5/24",
            "ngày 4 tháng 1 năm 2018x",
            "1/13/2020",
            "",
        ];
        let (mut numbers, mut dates_found) = (0, 0);
        for _ in 0..60_000 {
            let mut text = String::new();
            for _ in 0..1 + next(3) {
                text.push_str(before[next(before.len())]);
                text.push_str(digits[next(digits.len())]);
                for _ in 0..1 + next(3) {
                    text.push_str(seps[next(seps.len())]);
                    text.push_str(parts[next(parts.len())]);
                }
                text.push_str(after[next(after.len())]);
                text.push_str(dates[next(dates.len())]);
            }
            let found = find_all(&text);
            assert_eq!(found, found_by_captures(&text), "{text:?}");
            numbers += found.len();
            dates_found += found.iter().filter(|f| f.date.is_some()).count();
        }
        // Enough of both for the comparison to mean something.
        assert!(
            numbers > 2_000 && dates_found > 400,
            "{numbers} numbers, {dates_found} dates"
        );
        let text = "Thực hiện Công văn số 8371-CV/BTGTW, ngày 10/5/2024 của Ban; \
                    Kết luận số 21-KL/TW ngày 25-10-2021, Chỉ thị 05-CT/TU, ngày 04 \
                    tháng 01 năm 2018, 30/2020/NĐ-CP ngày 31/2/2020 và 369 - CV/BTGTU.";
        assert_eq!(find_all(text), found_by_captures(text));
    }

    #[test]
    fn dates_and_ranges_are_not_numbers() {
        assert!(find_all("ngày 10/5/2024, giai đoạn 2021 - 2025, quý I/2024").is_empty());
    }
}
