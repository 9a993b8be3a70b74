//! Dates as Vietnamese official documents write them.

use chrono::{Datelike, NaiveDate};

/// "ngày 22 tháng 5 năm 2024"; days below 10 and months 1 and 2 take a
/// leading zero, as the rules for official documents require
/// ("ngày 04 tháng 01 năm 2018").
pub fn long(date: NaiveDate) -> String {
    let day = date.day();
    let month = date.month();
    let day = if day < 10 {
        format!("0{day}")
    } else {
        day.to_string()
    };
    let month = if month <= 2 {
        format!("0{month}")
    } else {
        month.to_string()
    };
    format!("ngày {day} tháng {month} năm {}", date.year())
}

/// "22/05/2024", for lists.
pub fn short(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_official_dates() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(long(d(2024, 5, 22)), "ngày 22 tháng 5 năm 2024");
        assert_eq!(long(d(2018, 1, 4)), "ngày 04 tháng 01 năm 2018");
        assert_eq!(long(d(2021, 10, 25)), "ngày 25 tháng 10 năm 2021");
        assert_eq!(short(d(2024, 5, 2)), "02/05/2024");
    }
}
