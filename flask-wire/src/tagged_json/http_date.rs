//! HTTP dates, as Flask's `" d"` tag writes them (`Mon, 01 Jan 2024 00:00:00 GMT`).

pub(super) const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
pub(super) const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/// 9999-12-31T23:59:59Z, the last second Python's `datetime` can hold.
pub(super) const MAX_HTTP_DATE: u64 = 253_402_300_799;

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31) (H. Hinnant).
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // `day` is in 1..=31 and `month` in 1..=12 by construction.
    (year, month as u32, day as u32)
}

/// (year, month 1..=12, day 1..=31) → days since 1970-01-01 (H. Hinnant).
pub(super) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(super) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Format Unix seconds as an IMF-fixdate (`Tue, 14 Nov 2023 22:13:20 GMT`),
/// as Flask's `http_date` does. `None` after 9999-12-31.
pub(crate) fn format_http_date(secs: u64) -> Option<String> {
    if secs > MAX_HTTP_DATE {
        return None;
    }
    let days = i64::try_from(secs / 86_400).ok()?;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 3).
    let weekday = WEEKDAYS[usize::try_from((days + 3).rem_euclid(7)).ok()?];
    let month_name = MONTHS[usize::try_from(month - 1).ok()?];
    Some(format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Parse an IMF-fixdate (`Tue, 14 Nov 2023 22:13:20 GMT`) into Unix seconds.
///
/// Strict: exactly that layout, a valid weekday name (not checked against
/// the date, like Python's `email.utils`), a valid calendar date between
/// 1970 and 9999 and a time up to 23:59:59. Werkzeug's `parse_date` is more
/// lenient (other layouts, and garbage gives `None`).
pub(crate) fn parse_http_date(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 29 || &b[3..5] != b", " || &b[25..] != b" GMT" {
        return None;
    }
    if !WEEKDAYS.iter().any(|w| w.as_bytes() == &b[..3]) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[range];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b[7] != b' ' || b[11] != b' ' || b[16] != b' ' || b[19] != b':' || b[22] != b':' {
        return None;
    }
    let day = num(5..7)?;
    let month = u32::try_from(MONTHS.iter().position(|m| m.as_bytes() == &b[8..11])? + 1).ok()?;
    let year = i64::from(num(12..16)?);
    let (hour, minute, second) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if year < 1970 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(days * 86_400 + u64::from(hour) * 3600 + u64::from(minute) * 60 + u64::from(second))
}
