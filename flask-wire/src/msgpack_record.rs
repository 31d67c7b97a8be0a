//! Flask-Session 0.8 records: msgspec MessagePack of `dict(session)`
//! including `"_permanent"` ([`PERMANENT_KEY`]), in insertion order. Flask-Session keeps them
//! in Redis under `key_prefix:sid` (`session:` + a [`sid`](crate::sid) by default).
//!
//! ```
//! use flask_wire::msgpack_record;
//! use serde_json::json;
//!
//! // session["when"] = datetime(2023, 11, 14, 22, 13, 20) in Python.
//! let session = json!({"user_id": 42, "when": {" d": "Tue, 14 Nov 2023 22:13:20 GMT"}});
//! let bytes = msgpack_record::encode(session.as_object().unwrap(), false);
//! let (fields, permanent) = msgpack_record::decode(&bytes).unwrap();
//! assert_eq!((serde_json::Value::Object(fields), permanent), (session, false));
//! ```
//!
//! In-memory values follow [`crate::tagged_json`]'s mapping:
//!
//! | MessagePack                        | in memory                            |
//! |------------------------------------|--------------------------------------|
//! | `bin`                              | `{" b": "<standard base64, padded>"}`|
//! | timestamp ext −1, whole seconds    | `{" d": "<IMF-fixdate>"}` (the TaggedJSON form) |
//! | timestamp ext −1 with nanoseconds  | `{" ts": [seconds, nanoseconds]}`, so a record Rust rewrites keeps them |
//! | array                              | array (Python tuples and sets arrive as arrays) |
//! | map with string keys               | object                               |
//! | nil, bool, int, float, str         | the same JSON scalar                 |
//!
//! Decoding rejects: Python pickles (first byte `0x80`; never unpickled),
//! other ext types, non-string map keys, NaN/infinite floats, invalid UTF-8,
//! timestamps before 1970 or after 9999, trailing bytes and nesting deeper
//! than [`MAX_DEPTH`]. Bytes that are not MessagePack are parsed as plain
//! JSON (with the same depth limit), tags **not** converted, like msgspec's JSON fallback.
//!
//! Encoding maps `{" b": <canonical base64>}` to `bin`,
//! `{" d": <IMF-fixdate>}` to a timestamp ext (timestamp32 when it fits) and
//! `{" ts": [seconds, nanoseconds]}` (nanoseconds not 0) to the smallest timestamp ext that holds
//! it, each only in the form decoding gives (the weekday matching the date, years up to 9999);
//! one-key objects that do not parse stay plain maps, as do the other tags. So whatever decodes
//! encodes and decodes again to the same record.
//!
//! Tuples and integers beyond 64 bits never occur in these records: msgspec writes a tuple as an
//! array, and Python's MessagePack encoders refuse an integer beyond 64 bits (`OverflowError`),
//! as the format has none. So `{" t": [..]}` and `{" i": "<digits>"}`, [`crate::tagged_json`]'s
//! in-memory forms of them, stay plain maps here: in a Flask-Session record they can only be a
//! Python dict of that shape, which goes back unchanged.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rmpv::Value as Mp;
use serde_json::{Map, Number, Value};

use crate::tagged_json::{format_http_date, parse_http_date, TAG_BYTES, TAG_DATETIME};
use crate::PERMANENT_KEY;

/// Maximum nesting depth of containers accepted by [`decode`].
pub const MAX_DEPTH: usize = 64;

/// Errors from [`decode`].
///
/// ```
/// use flask_wire::msgpack_record::{self, Error};
/// assert_eq!(msgpack_record::decode(&[0x80, 0x04, 0x95]), Err(Error::Pickle));
/// assert_eq!(msgpack_record::decode(&[0x2a]), Err(Error::NotAMap));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The record is a Python pickle; it is never unpickled.
    Pickle,
    /// Neither valid MessagePack nor valid JSON.
    Malformed(String),
    /// The record is not a map (or `_permanent` is not a bool).
    NotAMap,
    /// A value that has no representation here.
    Unsupported(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Pickle => write!(f, "record is a Python pickle; refusing to unpickle"),
            Error::Malformed(msg) => write!(f, "record is neither MessagePack nor JSON: {msg}"),
            Error::NotAMap => write!(f, "record is not a map with a boolean _permanent"),
            Error::Unsupported(msg) => write!(f, "unsupported value in record: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// Decode a record into its fields and the `_permanent` flag (false when
/// absent). See the module docs.
///
/// # Errors
///
/// [`Error::Pickle`] for a Python pickle, [`Error::Malformed`] for bytes that are neither
/// MessagePack nor JSON, [`Error::NotAMap`] and [`Error::Unsupported`] for values this mapping
/// cannot hold.
///
/// ```
/// use flask_wire::msgpack_record;
/// // {"_permanent": true, "user_id": 42} as Flask-Session writes it.
/// let bytes = b"\x82\xaa_permanent\xc3\xa7user_id\x2a";
/// let (fields, permanent) = msgpack_record::decode(bytes).unwrap();
/// assert!(permanent);
/// assert_eq!(fields["user_id"], 42);
/// ```
pub fn decode(bytes: &[u8]) -> Result<(Map<String, Value>, bool), Error> {
    if bytes.first() == Some(&0x80) {
        return Err(Error::Pickle);
    }
    let value = match read_msgpack(bytes) {
        Some(mp) => from_msgpack(mp, 0)?,
        None => {
            let value = serde_json::from_slice::<Value>(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
            // The same limit as MessagePack: what decodes must encode and decode again.
            if nesting(&value) > MAX_DEPTH {
                return Err(unsupported("nesting too deep"));
            }
            value
        }
    };
    let Value::Object(mut fields) = value else {
        return Err(Error::NotAMap);
    };
    let permanent = match fields.remove(PERMANENT_KEY) {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(Error::NotAMap),
    };
    Ok((fields, permanent))
}

/// How deep `value` nests, counted as [`from_msgpack`] counts (a scalar at the top is 0).
fn nesting(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(|v| nesting(v) + 1).max().unwrap_or(0),
        Value::Object(map) => map.values().map(|v| nesting(v) + 1).max().unwrap_or(0),
        _ => 0,
    }
}

/// One complete MessagePack value with no trailing bytes, or `None`.
fn read_msgpack(bytes: &[u8]) -> Option<Mp> {
    let mut rd = bytes;
    // rmpv spends about two units of depth per container level.
    let value = rmpv::decode::read_value_with_max_depth(&mut rd, 2 * MAX_DEPTH + 4).ok()?;
    rd.is_empty().then_some(value)
}

fn unsupported(what: impl Into<String>) -> Error {
    Error::Unsupported(what.into())
}

fn from_msgpack(value: Mp, depth: usize) -> Result<Value, Error> {
    if depth > MAX_DEPTH {
        return Err(unsupported("nesting too deep"));
    }
    Ok(match value {
        Mp::Nil => Value::Null,
        Mp::Boolean(b) => Value::Bool(b),
        Mp::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(s)) => Value::from(s),
            (None, None) => return Err(unsupported("integer")),
        },
        Mp::F32(f) => float(f64::from(f))?,
        Mp::F64(f) => float(f)?,
        Mp::String(s) => Value::String(s.into_str().ok_or_else(|| unsupported("invalid UTF-8 string"))?),
        Mp::Binary(b) => tagged(TAG_BYTES, STANDARD.encode(b)),
        Mp::Array(items) => {
            Value::Array(items.into_iter().map(|v| from_msgpack(v, depth + 1)).collect::<Result<_, _>>()?)
        }
        Mp::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                let Mp::String(k) = k else {
                    return Err(unsupported("non-string map key"));
                };
                let k = k.into_str().ok_or_else(|| unsupported("invalid UTF-8 key"))?;
                map.insert(k, from_msgpack(v, depth + 1)?);
            }
            Value::Object(map)
        }
        Mp::Ext(-1, data) => {
            let (secs, nanos) = timestamp(&data)?;
            let text = format_http_date(secs).ok_or_else(|| unsupported("timestamp after year 9999"))?;
            if nanos == 0 {
                tagged(TAG_DATETIME, text)
            } else {
                let mut map = Map::new();
                map.insert(TAG_TIMESTAMP.to_owned(), Value::Array(vec![secs.into(), nanos.into()]));
                Value::Object(map)
            }
        }
        Mp::Ext(ty, _) => return Err(unsupported(format!("ext type {ty}"))),
    })
}

fn float(f: f64) -> Result<Value, Error> {
    Number::from_f64(f).map(Value::Number).ok_or_else(|| unsupported("non-finite float"))
}

fn tagged(tag: &str, text: String) -> Value {
    let mut map = Map::new();
    map.insert(tag.to_owned(), Value::String(text));
    Value::Object(map)
}

/// The one-key tag of a timestamp with a sub-second part: `{" ts": [seconds, nanoseconds]}`.
const TAG_TIMESTAMP: &str = " ts";

/// Seconds and nanoseconds of a MessagePack timestamp (ext −1) body.
fn timestamp(data: &[u8]) -> Result<(u64, u32), Error> {
    let bad = || unsupported("malformed timestamp");
    let (secs, nanos): (i64, u32) = match data.len() {
        4 => (i64::from(u32::from_be_bytes(data.try_into().map_err(|_| bad())?)), 0),
        8 => {
            let v = u64::from_be_bytes(data.try_into().map_err(|_| bad())?);
            let nanos = u32::try_from(v >> 34).map_err(|_| bad())?;
            (i64::try_from(v & 0x3_ffff_ffff).map_err(|_| bad())?, nanos)
        }
        12 => {
            let nanos = u32::from_be_bytes(data[..4].try_into().map_err(|_| bad())?);
            (i64::from_be_bytes(data[4..].try_into().map_err(|_| bad())?), nanos)
        }
        _ => return Err(bad()),
    };
    if nanos >= 1_000_000_000 {
        return Err(bad());
    }
    let secs = u64::try_from(secs).map_err(|_| unsupported("timestamp before 1970"))?;
    Ok((secs, nanos))
}

/// Encode a record with `_permanent` first, then `fields` in the map's
/// iteration order (sorted by key unless serde_json's `preserve_order` is
/// on). A field named `_permanent` is skipped: the flag wins.
///
/// ```
/// use flask_wire::msgpack_record;
/// use serde_json::json;
/// let session = json!({"user_id": 42});
/// let bytes = msgpack_record::encode(session.as_object().unwrap(), true);
/// assert_eq!(bytes, b"\x82\xaa_permanent\xc3\xa7user_id\x2a");
/// ```
pub fn encode(fields: &Map<String, Value>, permanent: bool) -> Vec<u8> {
    let ordered: Vec<(&str, &Value)> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
    encode_ordered(&ordered, permanent)
}

/// [`encode`] with an explicit field order (Python dicts keep insertion
/// order, so this reproduces Flask-Session's bytes exactly).
fn encode_ordered(fields: &[(&str, &Value)], permanent: bool) -> Vec<u8> {
    let mut entries = Vec::with_capacity(fields.len() + 1);
    entries.push((Mp::from(PERMANENT_KEY), Mp::Boolean(permanent)));
    for (k, v) in fields {
        if *k != PERMANENT_KEY {
            entries.push((Mp::from(*k), to_msgpack(v)));
        }
    }
    let mut out = Vec::new();
    // Writing to a Vec<u8> cannot fail (its io::Write impl is infallible).
    rmpv::encode::write_value(&mut out, &Mp::Map(entries)).expect("writing to a Vec cannot fail");
    out
}

fn to_msgpack(value: &Value) -> Mp {
    match value {
        Value::Null => Mp::Nil,
        Value::Bool(b) => Mp::Boolean(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Mp::from(u)
            } else if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else {
                Mp::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Mp::from(s.as_str()),
        Value::Array(items) => Mp::Array(items.iter().map(to_msgpack).collect()),
        Value::Object(map) => {
            if let Some(special) = special_tag(map) {
                return special;
            }
            Mp::Map(map.iter().map(|(k, v)| (Mp::from(k.as_str()), to_msgpack(v))).collect())
        }
    }
}

/// `{" b": base64}` → bin, `{" d": http-date}` → timestamp ext.
fn special_tag(map: &Map<String, Value>) -> Option<Mp> {
    if map.len() != 1 {
        return None;
    }
    match map.iter().next()? {
        (key, Value::String(text)) if key == TAG_BYTES => STANDARD.decode(text).ok().map(Mp::Binary),
        // Only the text `decode` gives back (the weekday matches the date), so the value round-trips.
        (key, Value::String(text)) if key == TAG_DATETIME => parse_http_date(text)
            .filter(|secs| format_http_date(*secs).as_deref() == Some(text.as_str()))
            .map(|secs| timestamp_ext(secs, 0)),
        // Only what `decode` gives: a sub-second part, and a time `{" d"}` could show.
        (key, Value::Array(parts)) if key == TAG_TIMESTAMP => match parts.as_slice() {
            [secs, nanos] => {
                let nanos = u32::try_from(nanos.as_u64()?).ok().filter(|n| (1..1_000_000_000).contains(n))?;
                let secs = secs.as_u64().filter(|s| format_http_date(*s).is_some())?;
                Some(timestamp_ext(secs, nanos))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The smallest MessagePack timestamp that holds the time (as msgspec picks).
fn timestamp_ext(secs: u64, nanos: u32) -> Mp {
    let data = match u32::try_from(secs) {
        Ok(s32) if nanos == 0 => s32.to_be_bytes().to_vec(),
        _ if secs >> 34 == 0 => ((u64::from(nanos) << 34) | secs).to_be_bytes().to_vec(),
        _ => {
            let mut d = nanos.to_be_bytes().to_vec();
            d.extend_from_slice(&secs.to_be_bytes());
            d
        }
    };
    Mp::Ext(-1, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tagged_json::HttpDate;
    use crate::test_vectors::{hex, vector};
    use serde_json::json;

    /// Found while writing the `msgpack_record` fuzz target's round-trip property (decode,
    /// encode, decode gives the same record): one-key objects that look like a tag but are not
    /// what `decode` gives (a weekday that does not match the date, a `" ts"` without a
    /// sub-second part or past year 9999) were turned into timestamps and came back changed, and
    /// JSON records nested deeper than MessagePack ones may decoded but did not decode again.
    #[test]
    fn lookalike_tags_and_deep_json_round_trip() {
        let records = [
            json!({"d": {" d": "Mon, 14 Nov 2023 22:13:20 GMT"}}),
            json!({"ts": {" ts": [5, 0]}}),
            json!({"ts": {" ts": [253_402_300_800u64, 1]}}),
            json!({"ts": {" ts": [u64::MAX, 1]}}),
            json!({"ok": {" ts": [5, 1]}, "d": {" d": "Tue, 14 Nov 2023 22:13:20 GMT"}, "b": {" b": "aGk="}}),
        ];
        for record in records {
            let fields = record.as_object().unwrap();
            for bytes in [encode(fields, true), serde_json::to_vec(&record).unwrap()] {
                let (decoded, _) = decode(&bytes).unwrap();
                assert_eq!(&decoded, fields);
                assert_eq!(decode(&encode(&decoded, true)).unwrap(), (decoded, true));
            }
        }
        let nested = |n: usize| format!("{{\"k\":{}{}}}", "[".repeat(n), "]".repeat(n));
        let (deepest, _) = decode(nested(MAX_DEPTH).as_bytes()).unwrap();
        assert_eq!(decode(&encode(&deepest, false)).unwrap(), (deepest, false));
        assert!(matches!(decode(nested(MAX_DEPTH + 1).as_bytes()), Err(Error::Unsupported(_))));
    }

    /// Flask-Session's exact bytes, field order included (moved from the integration test of
    /// the vector, which sees only the public, sorted [`encode`]).
    #[test]
    fn flask_session_vector_bytes() {
        let v = vector("flask-session-0.8-redis-record");
        let user_id = json!(42);
        let cart = json!(["sku-1", 2]);
        let when = serde_json::to_value(HttpDate(1_700_000_000)).unwrap();
        let bytes = encode_ordered(&[("user_id", &user_id), ("cart", &cart), ("when", &when)], true);
        assert_eq!(hex(&bytes), v["output"]["redis_value_hex"].as_str().unwrap());
    }

    #[test]
    fn timestamps_all_widths() {
        for secs in [0u64, 1_700_000_000, u64::from(u32::MAX) + 1, (1 << 34) - 1, 253_402_300_799] {
            let v = json!({ "t": { " d": format_http_date(secs).unwrap() } });
            let bytes = encode(v.as_object().unwrap(), false);
            let (back, perm) = decode(&bytes).unwrap();
            assert!(!perm);
            assert_eq!(Value::Object(back), v);
        }
        // timestamp64 with nanoseconds, and 96-bit with nanoseconds: kept, and written back as read.
        let mut b = vec![0x81, 0xa1, b't', 0xd7, 0xff];
        b.extend_from_slice(&((5u64 << 34) | 1_700_000_000).to_be_bytes());
        let (back, _) = decode(&b).unwrap();
        assert_eq!(back["t"], json!({" ts": [1_700_000_000u64, 5]}));
        let reencoded = encode(&back, false);
        assert_eq!(&reencoded[reencoded.len() - 10..], &b[3..], "the same timestamp64");
        let mut b = vec![0x81, 0xa1, b't', 0xc7, 12, 0xff, 0, 0, 0, 7];
        b.extend_from_slice(&(1u64 << 35).to_be_bytes());
        let (back, _) = decode(&b).unwrap();
        assert_eq!(back["t"], json!({" ts": [1u64 << 35, 7]}));
        let reencoded = encode(&back, false);
        assert_eq!(&reencoded[reencoded.len() - 15..], &b[3..], "the same timestamp96");
        let mut b = vec![0x81, 0xa1, b't', 0xc7, 12, 0xff, 0, 0, 0, 0];
        b.extend_from_slice(&(-1i64).to_be_bytes());
        assert!(matches!(decode(&b), Err(Error::Unsupported(_))));
        let mut b = vec![0x81, 0xa1, b't', 0xd7, 0xff];
        b.extend_from_slice(&(0x3fff_ffffu64 << 34).to_be_bytes());
        assert!(matches!(decode(&b), Err(Error::Unsupported(_))));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode(&[0x80, 0x04, 0x95]), Err(Error::Pickle));
        assert!(matches!(decode(b"(dp0\nS'user_id'\np1\nI99\ns."), Err(Error::Malformed(_))));
        assert_eq!(decode(&[0x2a]), Err(Error::NotAMap));
        assert!(matches!(decode(&[0x81, 0x01, 0x02]), Err(Error::Unsupported(_))));
        assert!(matches!(decode(&[0x81, 0xa1, b'x', 0xd4, 0x05, 0x00]), Err(Error::Unsupported(_))));
        assert!(matches!(decode(&[0x81, 0xa1, b'x', 0xa1, 0xff]), Err(Error::Unsupported(_))));
        assert_eq!(
            decode(&[0x81, 0xaa, b'_', b'p', b'e', b'r', b'm', b'a', b'n', b'e', b'n', b't', 0x01]),
            Err(Error::NotAMap)
        );
        // huge declared lengths with no data: fail fast, no allocation
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(decode(&[0xc6, 0xff, 0xff, 0xff, 0xff]).is_err());
        // deep nesting
        let mut deep = vec![0x81, 0xa1, b'x'];
        deep.extend(std::iter::repeat_n(0x91, 100_000));
        deep.push(0xc0);
        assert!(decode(&deep).is_err());
        // trailing bytes after a valid map
        assert!(decode(&[0x80, 0x00]).is_err());
        assert!(decode(&[0x81, 0xa1, b'x', 0x01, 0x00]).is_err());
    }

    #[test]
    fn roundtrip_scalars_and_bin() {
        let v = json!({"a": null, "b": true, "c": -1, "d": -129, "e": u64::MAX, "f": 1.5,
                       "g": "x", "h": [1, [2]], "i": {"j": {" b": "APv/IGhlbGxv"}},
                       "k": {" b": "not base64"}, "l": {" t": [1]}});
        let bytes = encode(v.as_object().unwrap(), true);
        let (back, perm) = decode(&bytes).unwrap();
        assert!(perm);
        assert_eq!(Value::Object(back), v);
        // `_permanent` as a field is overridden by the flag
        let v = json!({"_permanent": false, "x": 1});
        let (back, perm) = decode(&encode(v.as_object().unwrap(), true)).unwrap();
        assert!(perm);
        assert_eq!(Value::Object(back), json!({"x": 1}));
    }
}
