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
    // In range by the clamp: chrono holds years far beyond 1 to 9999.
    let time = chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default();
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An RFC 3339 timestamp (`2024-01-02T03:04:05.123456Z`, or with an offset) as Unix seconds,
/// rounded down.
pub(super) fn parse_timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|time| time.timestamp())
}

/// A string as a Firestore document id or field name, reversibly and injectively: `%` → `%25`,
/// `/` → `%2F` (`/` separates path segments in a document's name), the empty string is `%`
/// alone, and a string Firestore reserves (`.`, `..`, `__…__`) has its first character escaped
/// (`%2E`, `%5F`). Every other string, such as `session:abc`, stays as it is.
pub(super) fn encode_name(name: &str) -> String {
    let mut encoded = super::super::escape::encode(name, |_, c| (c == '/').then_some("2F"));
    let reserved = encoded == "." || encoded == ".." || is_dunder(&encoded);
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
    super::super::escape::decode(encoded, &[("2F", '/'), ("2E", '.'), ("5F", '_')])
        .ok_or_else(|| decode(format!("`{encoded}` is not an encoded name")))
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
