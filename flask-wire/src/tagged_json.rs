//! Flask's `TaggedJSONSerializer`, byte for byte (`flask.json.tag`).
//!
//! Flask stores Python values that JSON cannot express as one-key objects
//! whose key is a *tag* (a space followed by one or two letters).
//!
//! ```
//! use flask_wire::tagged_json::{self, Bytes};
//! use serde_json::json;
//!
//! // session["pair"] = (1, b"hi") in Python:
//! let text = r#"{"pair":{" t":[1,{" b":"aGk="}]}}"#;
//! let value = tagged_json::loads(text).unwrap();
//! assert_eq!(value, json!({"pair": [1, {" b": "aGk="}]}));
//! let bytes: Bytes = serde_json::from_value(value["pair"][1].clone()).unwrap();
//! assert_eq!(bytes, Bytes(b"hi".to_vec()));
//! // The tuple comes back as a list; everything else is unchanged.
//! assert_eq!(tagged_json::dumps(&value).unwrap(), r#"{"pair":[1,{" b":"aGk="}]}"#);
//! ```
//!
//! # In-memory mapping
//!
//! Values are [`serde_json::Value`]s. The mapping between Python values,
//! the JSON text on the wire, and the in-memory `Value` is:
//!
//! | Python            | wire JSON                              | in memory after [`loads`]          |
//! |-------------------|----------------------------------------|------------------------------------|
//! | `tuple`           | `{" t": [..]}`                         | plain array (tuple-ness is lost)   |
//! | 1-key dict `{K: v}` with `K` a tag | `{" di": {K+"__": v}}` | plain object `{K: v}`             |
//! | `bytes`           | `{" b": "<std base64, padded>"}`       | kept: `{" b": "..."}`              |
//! | `UUID`            | `{" u": "<32 hex>"}`                   | kept: `{" u": "..."}`              |
//! | `datetime`        | `{" d": "Tue, 14 Nov 2023 22:13:20 GMT"}` | kept: `{" d": "..."}`           |
//! | `Markup`          | `{" m": "..."}`                        | kept: `{" m": "..."}`              |
//! | everything else   | itself                                 | itself                             |
//!
//! Keeping `" b"`, `" u"`, `" d"` and `" m"` as one-key objects lets Rust
//! code pass bytes, UUIDs, datetimes and Markup back to Python unchanged; the
//! typed helpers [`Bytes`], [`Uuid`], [`HttpDate`] and [`Markup`] convert
//! them with serde.
//!
//! **Ambiguity.** A *Python dict* `{" b": "AA=="}` (sent as
//! `{" di": {" b__": "AA=="}}`) also loads as `{" b": "AA=="}`, and is then
//! re-emitted as bytes. This is inherent in the mapping above.
//!
//! # Dumping rules ([`dumps`])
//!
//! * A one-key object `{" b"|" u"|" d"|" m": s}` is emitted unchanged as that
//!   tag, *provided Python can load it*: `s` must be a string, and for `" b"`
//!   canonical padded standard base64, for `" u"` a UUID that Python's
//!   `UUID()` accepts. Otherwise it is escaped like any other one-key tag
//!   object (next rule), so whatever we emit never makes Flask fail.
//! * A one-key object whose key is `" t"` or `" di"` (or one of the four above
//!   that failed the check) is emitted as `{" di": {K+"__": v}}`.
//! * Everything else is emitted as is, children tagged recursively.
//!
//! The text is what `flask.json.dumps` produces by default: separators `,`
//! and `:`, keys sorted by code point at every level (sorted explicitly, so
//! this holds even if serde_json's `preserve_order` feature is unified in),
//! `ensure_ascii` escaping and Python `repr` floats.
//!
//! # Loading rules ([`loads`])
//!
//! Untagging is children first; only objects with **exactly one** key equal
//! to a tag are converted. Input differences from Python:
//!
//! * integers beyond the 64-bit range are parsed as `f64` (serde_json
//!   without `arbitrary_precision`), so `2**70` comes back as a float;
//! * bare `NaN`, `Infinity`, `-Infinity` (which Python can emit) and lone
//!   UTF-16 surrogates are rejected with [`Error::Json`]; nothing panics;
//! * duplicate keys: the last one wins (as in Python);
//! * `{" t": x}` with `x` not an array, and `{" di": x}` with `x` not an
//!   object of exactly one key, are rejected with [`Error::BadTag`] (Python
//!   would build odd tuples or take the first key; Flask never emits them);
//! * nesting deeper than serde_json's limit (128) is rejected, and so is a
//!   value whose [`dumps`] would nest deeper than that ([`Error::TooDeep`]):
//!   a one-key tag object re-emitted with the `" di"` escape is one level
//!   deeper than it was read, and whatever loads must dump and load again.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

/// Tag for tuples.
const TAG_TUPLE: &str = " t";
/// Tag for one-key dicts whose key is itself a tag.
const TAG_DICT: &str = " di";
/// Tag for bytes.
pub(crate) const TAG_BYTES: &str = " b";
/// Tag for `Markup` (objects with `__html__`).
const TAG_MARKUP: &str = " m";
/// Tag for UUIDs.
const TAG_UUID: &str = " u";
/// Tag for datetimes.
pub(crate) const TAG_DATETIME: &str = " d";

/// Every tag Flask knows, in Flask's registration order.
const TAGS: [&str; 6] = [TAG_DICT, TAG_TUPLE, TAG_BYTES, TAG_MARKUP, TAG_UUID, TAG_DATETIME];

/// serde_json's recursion limit when parsing: text nests fewer than this many arrays and
/// objects. [`dumps`] writes nothing deeper, so what it writes always [`loads`] again.
pub const MAX_DEPTH: usize = 128;

/// Whether an array or object inside `depth` others nests too deep for serde_json to parse.
fn container_too_deep(depth: usize) -> bool {
    depth + 1 >= MAX_DEPTH
}

/// Errors from [`dumps`] and [`loads`].
///
/// ```
/// use flask_wire::tagged_json::{self, Error};
/// assert!(matches!(tagged_json::loads("{\"a\":NaN}"), Err(Error::Json(_))));
/// assert!(matches!(tagged_json::loads(r#"{" t":1}"#), Err(Error::BadTag { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid JSON (includes `NaN`, lone surrogates, too deep).
    Json(String),
    /// A tag object has a value Flask could never have produced.
    BadTag {
        /// The tag (for example `" t"`).
        tag: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// The value nests deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Json(msg) => write!(f, "invalid JSON: {msg}"),
            Error::BadTag { tag, reason } => write!(f, "bad tagged value for {tag:?}: {reason}"),
            Error::TooDeep => write!(f, "value nests deeper than {MAX_DEPTH} levels"),
        }
    }
}

impl std::error::Error for Error {}

fn is_tag(key: &str) -> bool {
    TAGS.contains(&key)
}

/// The only entry of a one-key object.
fn single_entry(map: &Map<String, Value>) -> Option<(&String, &Value)> {
    if map.len() == 1 {
        map.iter().next()
    } else {
        None
    }
}

// ---------------------------------------------------------------- dumping

/// Serialize `value` exactly as Flask's `session_json_serializer.dumps` does
/// (see the module docs for the mapping and the text format).
///
/// # Errors
///
/// [`Error::TooDeep`] when `value` nests deeper than [`MAX_DEPTH`].
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let value = json!({"name": "Zoë", "ratio": 1e-5, "uid": {" u": "12345678123456781234567812345678"}});
/// assert_eq!(
///     tagged_json::dumps(&value).unwrap(),
///     r#"{"name":"Zo\u00eb","ratio":1e-05,"uid":{" u":"12345678123456781234567812345678"}}"#
/// );
/// ```
pub fn dumps(value: &Value) -> Result<String, Error> {
    let mut out = String::with_capacity(64);
    write_tagged(&mut out, value, 0)?;
    Ok(out)
}

/// [`dumps`] for a top-level object, without cloning it into a `Value`.
///
/// # Errors
///
/// [`Error::TooDeep`] when the object nests deeper than [`MAX_DEPTH`].
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let session = json!({"user_id": 42, "csrf_token": "abc"});
/// let text = tagged_json::dumps_object(session.as_object().unwrap()).unwrap();
/// assert_eq!(text, r#"{"csrf_token":"abc","user_id":42}"#);
/// ```
pub fn dumps_object(map: &Map<String, Value>) -> Result<String, Error> {
    let mut out = String::with_capacity(64);
    write_tagged_object(&mut out, map, 0)?;
    Ok(out)
}

/// Whether `{tag: inner}` may be emitted as that tag (Python can load it).
fn emit_as_tag(tag: &str, inner: &Value) -> bool {
    let Value::String(s) = inner else {
        return false;
    };
    match tag {
        TAG_BYTES => STANDARD.decode(s).is_ok(),
        TAG_UUID => parse_uuid(s).is_some(),
        TAG_DATETIME | TAG_MARKUP => true,
        _ => false,
    }
}

fn write_tagged(out: &mut String, value: &Value, depth: usize) -> Result<(), Error> {
    match value {
        Value::Object(map) => write_tagged_object(out, map, depth),
        Value::Array(_) if container_too_deep(depth) => Err(Error::TooDeep),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_tagged(out, item, depth + 1)?;
            }
            out.push(']');
            Ok(())
        }
        scalar => {
            write_scalar(out, scalar);
            Ok(())
        }
    }
}

fn write_tagged_object(out: &mut String, map: &Map<String, Value>, depth: usize) -> Result<(), Error> {
    if container_too_deep(depth) {
        return Err(Error::TooDeep);
    }
    if let Some((key, inner)) = single_entry(map) {
        if is_tag(key) {
            if emit_as_tag(key, inner) {
                // `{" b": "..."}` etc.: emitted unchanged.
                out.push_str("{\"");
                out.push_str(key);
                out.push_str("\":");
                write_scalar(out, inner);
                out.push('}');
            } else {
                // Python rule 1: `{" di": {K + "__": tag(v)}}`, one level deeper.
                if container_too_deep(depth + 1) {
                    return Err(Error::TooDeep);
                }
                out.push_str("{\" di\":{\"");
                out.push_str(key);
                out.push_str("__\":");
                write_tagged(out, inner, depth + 2)?;
                out.push_str("}}");
            }
            return Ok(());
        }
    }
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_unstable();
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, key);
        out.push(':');
        if let Some(v) = map.get(key) {
            write_tagged(out, v, depth + 1)?;
        }
    }
    out.push('}');
    Ok(())
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        // Only called for scalars; containers are handled by the callers.
        Value::Array(_) | Value::Object(_) => {}
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&py_float_repr(f));
    }
}

/// Python's `repr(float)` for a finite `f64`: shortest round-trip digits,
/// scientific notation when the decimal exponent is < -4 or >= 16
/// (`1e-05`, `-1.5e-07`, `1e+16`), whole numbers as `1.0`.
///
/// Non-finite input gives Python's JSON spellings `NaN`, `Infinity`,
/// `-Infinity` (which are not valid JSON).
fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's
    // repr (both pick the closest shortest candidate), e.g. "-1.5e-7".
    let sci = shortest_sci(f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp >= 0 {
        let int_len = exp.unsigned_abs() as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', exp.unsigned_abs() as usize - 1));
        out.push_str(&digits);
    }
    out
}

/// Shortest round-trip digits in Rust's `{:e}` layout (`-1.5e-7`), choosing
/// like Python (David Gay's dtoa) between equally short candidates: the one
/// closest to the exact value, ties to even. Rust's shortest mode can pick
/// the other candidate on an exact tie (1793192556270674.25 → `…674.3`,
/// Python `…674.2`), so the digit count comes from `{:e}` and the digits
/// from the correctly rounded `{:.N$e}`, when that still round-trips.
fn shortest_sci(f: f64) -> String {
    let shortest = format!("{f:e}");
    let mantissa = shortest.split_once('e').map_or(shortest.as_str(), |(m, _)| m);
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    let rounded = format!("{:.*e}", digits.saturating_sub(1), f);
    if rounded.parse::<f64>().ok() == Some(f) {
        rounded
    } else {
        shortest
    }
}

/// Write a JSON string literal the way Python's `json.dumps(ensure_ascii=True)`
/// does.
fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units).iter() {
                    out.push_str("\\u");
                    for shift in [12u32, 8, 4, 0] {
                        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
                    }
                }
            }
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------- loading

/// Parse Flask TaggedJSON text and untag it (see the module docs).
///
/// # Errors
///
/// [`Error::Json`] for text that is not JSON (or nests too deep), [`Error::BadTag`] for a `" t"`
/// or `" di"` object Flask could not have written, [`Error::TooDeep`] for a value that [`dumps`]
/// could not write back (see the module docs).
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let value = tagged_json::loads(r#"{"k":{" di":{" t__":1}}}"#).unwrap();
/// assert_eq!(value, json!({"k": {" t": 1}}));
/// ```
pub fn loads(text: &str) -> Result<Value, Error> {
    let value: Value = serde_json::from_str(text).map_err(|e| Error::Json(e.to_string()))?;
    let value = untag(value)?;
    check_dump_depth(&value, 0)?;
    Ok(value)
}

/// [`Error::TooDeep`] where [`dumps`] would be: the same walk, writing nothing.
fn check_dump_depth(value: &Value, depth: usize) -> Result<(), Error> {
    match value {
        Value::Array(_) | Value::Object(_) if container_too_deep(depth) => Err(Error::TooDeep),
        Value::Array(items) => items.iter().try_for_each(|item| check_dump_depth(item, depth + 1)),
        Value::Object(map) => match single_entry(map) {
            Some((key, inner)) if is_tag(key) && emit_as_tag(key, inner) => Ok(()),
            Some((key, inner)) if is_tag(key) => {
                if container_too_deep(depth + 1) {
                    return Err(Error::TooDeep);
                }
                check_dump_depth(inner, depth + 2)
            }
            _ => map.values().try_for_each(|v| check_dump_depth(v, depth + 1)),
        },
        _ => Ok(()),
    }
}

/// Untag an already-parsed JSON value, children first.
///
/// # Errors
///
/// [`Error::BadTag`] for a `" t"` or `" di"` object Flask could not have written.
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let parsed = json!({"cart": {" t": ["sku-1", 2]}});
/// assert_eq!(tagged_json::untag(parsed).unwrap(), json!({"cart": ["sku-1", 2]}));
/// ```
pub fn untag(value: Value) -> Result<Value, Error> {
    match value {
        Value::Array(items) => items.into_iter().map(untag).collect::<Result<Vec<_>, _>>().map(Value::Array),
        Value::Object(map) => {
            let mut untagged = Map::new();
            for (k, v) in map {
                untagged.insert(k, untag(v)?);
            }
            untag_one(untagged)
        }
        scalar => Ok(scalar),
    }
}

fn untag_one(mut map: Map<String, Value>) -> Result<Value, Error> {
    let tag = match single_entry(&map) {
        Some((k, _)) if k == TAG_TUPLE => TAG_TUPLE,
        Some((k, _)) if k == TAG_DICT => TAG_DICT,
        _ => return Ok(Value::Object(map)),
    };
    let inner = map.remove(tag).unwrap_or(Value::Null);
    if tag == TAG_TUPLE {
        return match inner {
            Value::Array(items) => Ok(Value::Array(items)),
            _ => Err(Error::BadTag { tag: TAG_TUPLE, reason: "tuple payload is not an array" }),
        };
    }
    match inner {
        Value::Object(inner) if inner.len() == 1 => {
            let mut result = Map::new();
            for (key, v) in inner {
                // Python: `key[:-2]` (drops two code points, never fails).
                let mut chars = key.chars();
                chars.next_back();
                chars.next_back();
                result.insert(chars.as_str().to_owned(), v);
            }
            Ok(Value::Object(result))
        }
        _ => Err(Error::BadTag { tag: TAG_DICT, reason: "dict payload is not an object with exactly one key" }),
    }
}

// ---------------------------------------------------------------- typed helpers

/// Serialize `{tag: text}`.
fn serialize_tagged<S: Serializer>(serializer: S, tag: &str, text: &str) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(tag, text)?;
    map.end()
}

struct TaggedVisitor(&'static str);

impl<'de> Visitor<'de> for TaggedVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object {{{:?}: string}}", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<String, A::Error> {
        let mut found: Option<String> = None;
        while let Some(key) = access.next_key::<String>()? {
            if key != self.0 || found.is_some() {
                return Err(de::Error::invalid_value(de::Unexpected::Str(&key), &self));
            }
            found = Some(access.next_value::<String>()?);
        }
        found.ok_or_else(|| de::Error::missing_field(self.0))
    }
}

fn deserialize_tagged<'de, D: Deserializer<'de>>(deserializer: D, tag: &'static str) -> Result<String, D::Error> {
    deserializer.deserialize_map(TaggedVisitor(tag))
}

/// Python `bytes`, on the wire `{" b": "<standard base64 with padding>"}`.
///
/// Deserializing accepts standard base64 with or without padding.
///
/// ```
/// use flask_wire::tagged_json::Bytes;
/// use serde_json::json;
/// let bytes = Bytes(b"\x00\xfb\xff hello".to_vec());
/// assert_eq!(serde_json::to_value(&bytes).unwrap(), json!({" b": "APv/IGhlbGxv"}));
/// assert_eq!(serde_json::from_value::<Bytes>(json!({" b": "APv/IGhlbGxv"})).unwrap(), bytes);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, TAG_BYTES, &STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const LENIENT: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new()
                .with_decode_padding_mode(DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        );
        let text = deserialize_tagged(deserializer, TAG_BYTES)?;
        LENIENT.decode(text.as_bytes()).map(Bytes).map_err(|e| de::Error::custom(format!("bad base64 in \" b\": {e}")))
    }
}

/// `markupsafe.Markup`, on the wire `{" m": "<html>"}`.
///
/// ```
/// use flask_wire::tagged_json::Markup;
/// use serde_json::json;
/// let markup = Markup("<b>hi</b>".to_owned());
/// assert_eq!(serde_json::to_value(&markup).unwrap(), json!({" m": "<b>hi</b>"}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Markup(pub String);

impl Serialize for Markup {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, TAG_MARKUP, &self.0)
    }
}

impl<'de> Deserialize<'de> for Markup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer, TAG_MARKUP).map(Markup)
    }
}

/// A UTC `datetime` with whole seconds (Flask drops microseconds), as Unix
/// seconds; on the wire `{" d": "Tue, 14 Nov 2023 22:13:20 GMT"}`.
///
/// Only 1970-01-01 to 9999-12-31 can be represented; serializing a later
/// time fails. Deserializing accepts exactly that layout, with a valid date between 1970 and
/// 9999.
///
/// ```
/// use flask_wire::tagged_json::HttpDate;
/// use serde_json::json;
/// let date = HttpDate(1_700_000_000);
/// assert_eq!(serde_json::to_value(date).unwrap(), json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"}));
/// let back: HttpDate = serde_json::from_value(json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"})).unwrap();
/// assert_eq!(back, date);
/// assert!(serde_json::to_value(HttpDate(u64::MAX)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HttpDate(pub u64);

impl Serialize for HttpDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = format_http_date(self.0).ok_or_else(|| serde::ser::Error::custom("datetime after year 9999"))?;
        serialize_tagged(serializer, TAG_DATETIME, &text)
    }
}

impl<'de> Deserialize<'de> for HttpDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserialize_tagged(deserializer, TAG_DATETIME)?;
        parse_http_date(&text).map(HttpDate).ok_or_else(|| de::Error::custom(format!("bad http date {text:?}")))
    }
}

/// A UUID; on the wire `{" u": "<32 lowercase hex digits>"}`.
///
/// Deserializing accepts what Python's `UUID()` accepts: 32 hex digits in
/// either case, optionally hyphenated, braced or with a `urn:uuid:` prefix.
///
/// ```
/// use flask_wire::tagged_json::Uuid;
/// use serde_json::json;
/// let uuid = Uuid::parse("12345678-1234-5678-1234-567812345678").unwrap();
/// assert_eq!(serde_json::to_value(uuid).unwrap(), json!({" u": "12345678123456781234567812345678"}));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The 32-character lowercase hex form Flask emits.
    ///
    /// ```
    /// let uuid = flask_wire::tagged_json::Uuid([0xab; 16]);
    /// assert_eq!(uuid.to_hex(), "abababababababababababababababab");
    /// ```
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The canonical hyphenated form (`str(uuid)` in Python).
    ///
    /// ```
    /// let uuid = flask_wire::tagged_json::Uuid([0xab; 16]);
    /// assert_eq!(uuid.to_hyphenated(), "abababab-abab-abab-abab-abababababab");
    /// ```
    pub fn to_hyphenated(&self) -> String {
        let hex = self.to_hex();
        format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    }

    /// Parse any form Python's `UUID(hex)` accepts.
    ///
    /// ```
    /// use flask_wire::tagged_json::Uuid;
    /// let uuid = Uuid::parse("{12345678-1234-5678-1234-567812345678}").unwrap();
    /// assert_eq!(Uuid::parse("urn:uuid:12345678123456781234567812345678"), Some(uuid));
    /// assert_eq!(Uuid::parse("not a uuid"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Uuid> {
        parse_uuid(text).map(Uuid)
    }
}

fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    // Python: hex.replace('urn:', '').replace('uuid:', '').strip('{}').replace('-', '')
    let cleaned = text.replace("urn:", "").replace("uuid:", "");
    let cleaned = cleaned.trim_matches(|c| c == '{' || c == '}').replace('-', "");
    let bytes = cleaned.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, TAG_UUID, &self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserialize_tagged(deserializer, TAG_UUID)?;
        Uuid::parse(&text).ok_or_else(|| de::Error::custom(format!("bad uuid {text:?}")))
    }
}

// ---------------------------------------------------------------- http dates

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/// 9999-12-31T23:59:59Z, the last second Python's `datetime` can hold.
const MAX_HTTP_DATE: u64 = 253_402_300_799;

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31) (H. Hinnant).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
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
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-1.5e-7, "-1.5e-07"),
            (1e-5, "1e-05"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (123.456, "123.456"),
            (1.1805916207174113e21, "1.1805916207174113e+21"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (-0.0, "-0.0"),
            (1e100, "1e+100"),
            (2.5, "2.5"),
            // exact ties between two shortest candidates: Python rounds half-even
            (f64::from_bits(0x4319_7b98_b552_5149), "1793192556270674.2"),
            (f64::from_bits(0x42e2_9e39_259e_b534), "163766183196073.62"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_repr(f), want, "{f:e}");
        }
    }

    #[test]
    fn escapes_like_python() {
        let v = json!({"ctl": "a\"b\\c/\n\u{7f}", "name": "Zo\u{eb} \u{1F600}", "x": "\u{1}\u{8}\u{c}\r\t"});
        assert_eq!(
            dumps(&v).unwrap(),
            r#"{"ctl":"a\"b\\c/\n\u007f","name":"Zo\u00eb \ud83d\ude00","x":"\u0001\b\f\r\t"}"#
        );
    }

    #[test]
    fn tag_escape_roundtrip() {
        // cross-verification vector "fsp-sha3-tag-escape"
        let v = json!({"a": {" t": "not a tuple"}, "b": {" di": [1]}, "c": {" t": 1, "x": 2}});
        let text = dumps(&v).unwrap();
        assert_eq!(text, r#"{"a":{" di":{" t__":"not a tuple"}},"b":{" di":{" di__":[1]}},"c":{" t":1,"x":2}}"#);
        assert_eq!(loads(&text).unwrap(), v);
    }

    #[test]
    fn invalid_tag_payloads_are_escaped_on_dump() {
        let v = json!({"b": {" b": "not base64!"}, "u": {" u": 7}, "ok": {" b": "AA=="}});
        let text = dumps(&v).unwrap();
        assert_eq!(text, r#"{"b":{" di":{" b__":"not base64!"}},"ok":{" b":"AA=="},"u":{" di":{" u__":7}}}"#);
        assert_eq!(loads(&text).unwrap(), v);
    }

    #[test]
    fn loads_edge_cases() {
        assert!(matches!(loads("NaN"), Err(Error::Json(_))));
        assert!(matches!(loads("{\"a\":Infinity}"), Err(Error::Json(_))));
        assert!(matches!(loads("{\"a\":-Infinity}"), Err(Error::Json(_))));
        assert!(matches!(loads(r#"{"a":"\ud800"}"#), Err(Error::Json(_))));
        assert!(matches!(loads(r#"{"a":"\udc00x"}"#), Err(Error::Json(_))));
        assert_eq!(loads(r#"{"a":1,"a":2}"#).unwrap(), json!({"a": 2}));
        let big = loads(r#"{"big":1180591620717411303424}"#).unwrap();
        assert_eq!(big["big"].as_f64(), Some(1.1805916207174113e21));
        assert!(loads(&"[".repeat(100_000)).is_err());
        assert!(matches!(loads(r#"{" t":1}"#), Err(Error::BadTag { .. })));
        assert!(matches!(loads(r#"{" di":{}}"#), Err(Error::BadTag { .. })));
        assert_eq!(loads(r#"{" di":{"x":1}}"#).unwrap(), json!({"": 1}));
        // children first
        assert_eq!(loads(r#"{" di":{"k__":{" t":[1,{" t":[2]}]}}}"#).unwrap(), json!({"k": [1, [2]]}));
    }

    #[test]
    fn too_deep_dump_is_an_error() {
        let mut v = json!(1);
        for _ in 0..200 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(dumps(&v), Err(Error::TooDeep));
    }

    /// Found with the `tagged_json` fuzz target's round-trip property: a value `loads` accepted
    /// at its deepest nesting, whose innermost one-key tag object is re-emitted with the `" di"`
    /// escape, dumped to text one level deeper than `loads` (serde_json) accepts. Now `loads`
    /// refuses what `dumps` could not write back, and `dumps` writes nothing `loads` refuses.
    #[test]
    fn escaped_tag_at_max_depth_round_trips() {
        for tag in [" b", " t", " u"] {
            for depth in 120..=130 {
                let text = format!("{}{{\"{tag}\":1}}{}", "[".repeat(depth), "]".repeat(depth));
                let Ok(value) = loads(&text) else { continue };
                match dumps(&value) {
                    Ok(dumped) => assert_eq!(loads(&dumped).as_ref(), Ok(&value), "depth {depth}, tag {tag:?}"),
                    Err(e) => panic!("a loaded value must dump (depth {depth}, tag {tag:?}): {e}"),
                }
            }
        }
        // The deepest arrays serde_json parses dump and load again; one more is too deep.
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let deepest = loads(&nested(MAX_DEPTH - 1)).unwrap();
        assert_eq!(loads(&dumps(&deepest).unwrap()).unwrap(), deepest);
        assert_eq!(dumps(&Value::Array(vec![deepest])), Err(Error::TooDeep));
    }

    #[test]
    fn typed_helpers() {
        let b = Bytes(vec![0, 0xfb, 0xff, b' ', b'h', b'e', b'l', b'l', b'o']);
        assert_eq!(serde_json::to_value(&b).unwrap(), json!({" b": "APv/IGhlbGxv"}));
        assert_eq!(serde_json::from_value::<Bytes>(json!({" b": "APv/IGhlbGxv"})).unwrap(), b);
        assert!(serde_json::from_value::<Bytes>(json!({" b": "A", "x": 1})).is_err());

        let d = HttpDate(1_700_000_000);
        assert_eq!(serde_json::to_value(d).unwrap(), json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"}));
        assert_eq!(serde_json::from_value::<HttpDate>(json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"})).unwrap(), d);
        assert_eq!(format_http_date(0).unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(format_http_date(MAX_HTTP_DATE).unwrap(), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(format_http_date(951_782_400).unwrap(), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert!(format_http_date(MAX_HTTP_DATE + 1).is_none());
        for secs in (0..MAX_HTTP_DATE).step_by(86_400 * 37 + 3_607) {
            assert_eq!(parse_http_date(&format_http_date(secs).unwrap()), Some(secs));
        }
        assert!(parse_http_date("Tue, 30 Feb 2023 22:13:20 GMT").is_none());
        assert!(parse_http_date("Tue, 14 Nov 2023 24:13:20 GMT").is_none());
        assert!(parse_http_date("Tue, 14 Nov 2023 22:13:20 UTC").is_none());
        assert!(parse_http_date("Tue, 14 Nov 2023 22:13:2é GMT").is_none());

        let u = Uuid([0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78]);
        assert_eq!(serde_json::to_value(u).unwrap(), json!({" u": "12345678123456781234567812345678"}));
        assert_eq!(u.to_hyphenated(), "12345678-1234-5678-1234-567812345678");
        for form in [
            "12345678123456781234567812345678",
            "12345678-1234-5678-1234-567812345678",
            "{12345678-1234-5678-1234-567812345678}",
            "urn:uuid:12345678-1234-5678-1234-567812345678",
        ] {
            assert_eq!(serde_json::from_value::<Uuid>(json!({" u": form})).unwrap(), u);
        }
        assert!(Uuid::parse("1234567812345678123456781234567g").is_none());
        assert!(Uuid::parse("é234567812345678123456781234567").is_none());

        let m = Markup("<b>hi</b> & bye".into());
        assert_eq!(serde_json::to_value(&m).unwrap(), json!({" m": "<b>hi</b> & bye"}));
        assert_eq!(serde_json::from_value::<Markup>(json!({" m": "<b>hi</b> & bye"})).unwrap(), m);
    }
}
