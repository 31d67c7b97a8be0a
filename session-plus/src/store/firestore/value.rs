//! Firestore's REST encodings: timestamps, document ids, field names and paths, and values.

use serde_json::{json, Map, Value};

use super::super::{Error, Result};

/// 0001-01-01T00:00:00Z, the first second Firestore's timestamps hold.
const MIN_TIMESTAMP: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z, the last second Firestore's timestamps hold.
const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// Unix seconds as an RFC 3339 `timestampValue`, clamped to Firestore's range (years 1 to 9999).
pub(super) fn timestamp(seconds: i64) -> String {
    let seconds = seconds.clamp(MIN_TIMESTAMP, MAX_TIMESTAMP);
    let (days, rem) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// An RFC 3339 timestamp (`2024-01-02T03:04:05.123456Z`, or with an offset) as Unix seconds,
/// rounded down.
pub(super) fn parse_timestamp(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't') {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        rest = &fraction[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) && rest.get(3..4) == Some(":") => {
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let (era, yoe) = (y.div_euclid(400), y.rem_euclid(400));
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A string as a Firestore document id or field name, reversibly and injectively: `%` → `%25`,
/// `/` → `%2F` (`/` separates path segments in a document's name), the empty string is `%`
/// alone, and a string Firestore reserves (`.`, `..`, `__…__`) has its first character escaped
/// (`%2E`, `%5F`). Every other string, such as `session:abc`, stays as it is.
pub(super) fn encode_name(name: &str) -> String {
    if name.is_empty() {
        return "%".to_owned();
    }
    let mut encoded = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '/' => encoded.push_str("%2F"),
            c => encoded.push(c),
        }
    }
    let reserved = encoded == "." || encoded == ".." || (encoded.len() >= 4 && is_dunder(&encoded));
    if reserved {
        let escape = if encoded.starts_with('.') { "%2E" } else { "%5F" };
        encoded.replace_range(..1, escape);
    }
    encoded
}

/// Whether Firestore reserves `name` (`__.*__`).
pub(super) fn is_dunder(name: &str) -> bool {
    name.len() >= 4 && name.starts_with("__") && name.ends_with("__")
}

/// The string [`encode_name`] made `encoded` from.
pub(super) fn decode_name(encoded: &str) -> Result<String> {
    if encoded == "%" {
        return Ok(String::new());
    }
    let mut name = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        name.push_str(&rest[..at]);
        let c = match rest.get(at + 1..at + 3) {
            Some("25") => '%',
            Some("2F") => '/',
            Some("2E") => '.',
            Some("5F") => '_',
            _ => return Err(decode(format!("`{encoded}` is not an encoded name"))),
        };
        name.push(c);
        rest = &rest[at + 3..];
    }
    name.push_str(rest);
    Ok(name)
}

/// One segment of a field path, quoted with backticks (`\` and `` ` `` escaped) unless it is a
/// simple name (`[A-Za-z_][A-Za-z0-9_]*`).
pub(super) fn quote_segment(name: &str) -> String {
    let simple = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        return name.to_owned();
    }
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('`');
    for c in name.chars() {
        if c == '`' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('`');
    quoted
}

/// A Firestore `stringValue`.
pub(super) fn string_value(text: impl Into<String>) -> Value {
    json!({ "stringValue": text.into() })
}

/// A Firestore `timestampValue` of Unix seconds.
pub(super) fn timestamp_value(seconds: i64) -> Value {
    json!({ "timestampValue": timestamp(seconds) })
}

/// A Firestore `booleanValue`.
pub(super) fn boolean_value(value: bool) -> Value {
    json!({ "booleanValue": value })
}

/// A Firestore `mapValue` holding `fields`.
pub(super) fn map_value(fields: Map<String, Value>) -> Value {
    json!({ "mapValue": { "fields": fields } })
}

/// The string of a `stringValue`.
pub(super) fn as_string<'a>(value: &'a Value, what: &str) -> Result<&'a str> {
    value.get("stringValue").and_then(Value::as_str).ok_or_else(|| decode(format!("{what} is not a string")))
}

/// The Unix seconds of a `timestampValue`.
pub(super) fn as_timestamp(value: Option<&Value>, what: &str) -> Result<i64> {
    value
        .and_then(|v| v.get("timestampValue"))
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .ok_or_else(|| decode(format!("`{what}` is not a timestamp")))
}

/// The value of a `booleanValue`.
pub(super) fn as_boolean(value: Option<&Value>, what: &str) -> Result<bool> {
    value
        .and_then(|v| v.get("booleanValue"))
        .and_then(Value::as_bool)
        .ok_or_else(|| decode(format!("`{what}` is not a boolean")))
}

/// The fields of a `mapValue` (an empty map has none).
pub(super) fn as_map<'a>(value: &'a Value, what: &str) -> Result<Option<&'a Map<String, Value>>> {
    let Some(map) = value.get("mapValue").and_then(Value::as_object) else {
        return Err(decode(format!("`{what}` is not a map")));
    };
    match map.get("fields") {
        None => Ok(None),
        Some(Value::Object(fields)) => Ok(Some(fields)),
        Some(_) => Err(decode(format!("`{what}` has malformed fields"))),
    }
}

pub(super) fn decode(message: impl Into<String>) -> Error {
    Error::Decode(message.into().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_clamp() {
        for seconds in [0, 1, 59, 86_399, 1_700_000_000, 951_782_400, -1, MIN_TIMESTAMP, MAX_TIMESTAMP] {
            assert_eq!(parse_timestamp(&timestamp(seconds)), Some(seconds), "{}", timestamp(seconds));
        }
        assert_eq!(timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(timestamp(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(timestamp(i64::MIN), "0001-01-01T00:00:00Z");
        assert_eq!(parse_timestamp("2023-11-14T22:13:20.999999Z"), Some(1_700_000_000));
        assert_eq!(parse_timestamp("2023-11-14T23:13:20+01:00"), Some(1_700_000_000));
        for bad in [
            "",
            "2023-11-14",
            "2023-13-14T22:13:20Z",
            "2023-02-30T00:00:00Z",
            "2023-11-14T22:13:20",
            "x023-11-14T22:13:20Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20ZZ",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_encode_reversibly_and_avoid_reserved_ids() {
        for name in [
            "",
            "%",
            "%25",
            "/",
            "a/b",
            ".",
            "..",
            "...",
            "__",
            "___",
            "____",
            "__x__",
            "__x",
            "x__",
            "_",
            "session:abc",
            "é/日本",
            "%2E",
            "%5F_x__",
        ] {
            let encoded = encode_name(name);
            assert!(!encoded.is_empty() && !encoded.contains('/'), "{name:?} → {encoded:?}");
            assert!(encoded != "." && encoded != ".." && !is_dunder(&encoded), "{name:?} → {encoded:?}");
            assert_eq!(decode_name(&encoded).unwrap(), name);
        }
        assert_eq!(encode_name("session:abc"), "session:abc");
        assert!(decode_name("a%zz").is_err() && decode_name("%2").is_err());
    }

    #[test]
    fn segments_are_quoted_unless_simple() {
        assert_eq!(quote_segment("user_id"), "user_id");
        assert_eq!(quote_segment("_x9"), "_x9");
        assert_eq!(quote_segment("9x"), "`9x`");
        assert_eq!(quote_segment("a.b"), "`a.b`");
        assert_eq!(quote_segment("a`b\\c"), "`a\\`b\\\\c`");
        assert_eq!(quote_segment("é"), "`é`");
    }
}
