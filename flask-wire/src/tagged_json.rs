//! Flask's `TaggedJSONSerializer`, byte for byte (`flask.json.tag`).
//!
//! Flask stores Python values that JSON cannot express as one-key objects
//! whose key is a *tag* (a space followed by one or two letters).
//!
//! ```
//! use flask_wire::tagged_json::{self, Bytes};
//! use serde_json::json;
//!
//! // session["pair"] = (1, b"hi") and session["n"] = 2**70 in Python:
//! let text = r#"{"n":1180591620717411303424,"pair":{" t":[1,{" b":"aGk="}]}}"#;
//! let value = tagged_json::loads(text).unwrap();
//! assert_eq!(value, json!({"n": {" i": "1180591620717411303424"}, "pair": {" t": [1, {" b": "aGk="}]}}));
//! let bytes: Bytes = serde_json::from_value(value["pair"][" t"][1].clone()).unwrap();
//! assert_eq!(bytes, Bytes(b"hi".to_vec()));
//! // Everything goes back to Python unchanged.
//! assert_eq!(tagged_json::dumps(&value).unwrap(), text);
//! ```
//!
//! # In-memory mapping
//!
//! Values are [`serde_json::Value`]s. The mapping between Python values,
//! the JSON text on the wire, and the in-memory `Value` is:
//!
//! | Python            | wire JSON                              | in memory after [`loads`]          |
//! |-------------------|----------------------------------------|------------------------------------|
//! | `int` beyond 64 bits | bare digits                         | `{" i": "<digits>"}`              |
//! | `tuple`           | `{" t": [..]}`                         | kept: `{" t": [..]}`               |
//! | 1-key dict `{K: v}` with `K` a tag | `{" di": {K+"__": v}}` | plain object `{K: v}`             |
//! | `bytes`           | `{" b": "<std base64, padded>"}`       | kept: `{" b": "..."}`              |
//! | `UUID`            | `{" u": "<32 hex>"}`                   | kept: `{" u": "..."}`              |
//! | `datetime`        | `{" d": "Tue, 14 Nov 2023 22:13:20 GMT"}` | kept: `{" d": "..."}`           |
//! | `Markup`          | `{" m": "..."}`                        | kept: `{" m": "..."}`              |
//! | everything else   | itself                                 | itself                             |
//!
//! Keeping tuples, bytes, UUIDs, datetimes and Markup as one-key objects lets Rust code pass
//! them back to Python unchanged, so a field a Rust handler did not touch goes back to Flask
//! byte for byte. The typed helpers [`BigInt`], [`Bytes`], [`Uuid`], [`HttpDate`] and [`Markup`]
//! convert them with serde; a tuple's items are the array under `" t"`.
//!
//! `" i"` is no Flask tag: serde_json (without its `arbitrary_precision` feature, which would
//! change number handling in every crate of a build) cannot hold an integer beyond 64 bits, so
//! [`loads`] keeps its digits in this one-key object, in the style of Flask's tags, and
//! [`dumps`] writes them back bare. A `" i"` object whose value is not such an integer is an
//! ordinary dict and is written as one.
//!
//! **Ambiguity.** A *Python dict* `{" b": "AA=="}` (sent as
//! `{" di": {" b__": "AA=="}}`) also loads as `{" b": "AA=="}`, and is then
//! re-emitted as bytes; likewise a dict `{" t": [..]}` comes back a tuple, and a dict
//! `{" i": "<digits beyond 64 bits>"}` an integer. This is inherent in the mapping above.
//!
//! # Dumping rules ([`dumps`])
//!
//! * `{" i": s}` with `s` an integer literal beyond 64 bits, as Python writes one (at most 4300
//!   digits, Python's limit), is emitted as the bare digits.
//! * `{" t": array}` is emitted as a tuple, its items tagged recursively.
//! * A one-key object `{" b"|" u"|" d"|" m": s}` is emitted unchanged as that
//!   tag, *provided Python can load it*: `s` must be a string, and for `" b"`
//!   canonical padded standard base64, for `" u"` a UUID that Python's
//!   `UUID()` accepts. Otherwise it is escaped like any other one-key tag
//!   object (next rule), so whatever we emit never makes Flask fail.
//! * A one-key object whose key is `" t"` (not holding an array) or `" di"` (or one of the four
//!   above that failed the check) is emitted as `{" di": {K+"__": v}}`.
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
//! * integers beyond the 64-bit range keep their digits as `{" i": "<digits>"}` (above);
//!   numbers with a fraction or an exponent are floats, as in Python, and so is `-0` (Python
//!   reads an int; it never writes one);
//! * bare `NaN`, `Infinity`, `-Infinity` (which Python can emit) and lone
//!   UTF-16 surrogates are rejected with [`Error::Json`]; nothing panics;
//! * duplicate keys: the last one wins (as in Python);
//! * `{" t": x}` with `x` not an array, and `{" di": x}` with `x` not an
//!   object of exactly one key, are rejected with [`Error::BadTag`] (Python
//!   would build odd tuples or take the first key; Flask never emits them);
//! * nesting deeper than serde_json's limit (128) is rejected.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
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
/// In memory only: an integer beyond 64 bits, `{" i": "<digits>"}`. Not a Flask tag: Python
/// writes such an integer as bare digits, and so does [`dumps`].
pub(crate) const TAG_BIG_INT: &str = " i";
/// Python refuses to read or write an integer of more digits (`sys.get_int_max_str_digits()`,
/// Python 3.11 and later).
const MAX_INT_DIGITS: usize = 4300;

/// Every tag Flask knows, in Flask's registration order.
const TAGS: [&str; 6] = [TAG_DICT, TAG_TUPLE, TAG_BYTES, TAG_MARKUP, TAG_UUID, TAG_DATETIME];

/// Maximum nesting depth accepted by [`dumps`] (the same limit serde_json
/// applies when parsing).
pub const MAX_DEPTH: usize = 128;

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

/// Whether `text` is an integer Python writes as digits but serde_json cannot hold: a canonical
/// decimal literal (no `+`, no leading zero, no `-0`) beyond the 64-bit range, of at most
/// [`MAX_INT_DIGITS`] digits.
fn is_big_int(text: &str) -> bool {
    is_int_literal(text) && text.parse::<i64>().is_err() && text.parse::<u64>().is_err()
}

/// A canonical decimal integer literal of at most [`MAX_INT_DIGITS`] digits, as Python's
/// `repr(int)` writes one.
fn is_int_literal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = match digits.as_bytes() {
        [b'0'] => digits.len() == text.len(),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    canonical && digits.len() <= MAX_INT_DIGITS
}

fn write_tagged(out: &mut String, value: &Value, depth: usize) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep);
    }
    match value {
        Value::Object(map) => write_tagged_object(out, map, depth),
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
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep);
    }
    if let Some((key, inner)) = single_entry(map) {
        if key == TAG_BIG_INT {
            if let Value::String(digits) = inner {
                if is_big_int(digits) {
                    // Python wrote it as bare digits.
                    out.push_str(digits);
                    return Ok(());
                }
            }
        }
        if key == TAG_TUPLE && inner.is_array() {
            out.push_str("{\" t\":");
            write_tagged(out, inner, depth + 1)?;
            out.push('}');
            return Ok(());
        }
        if is_tag(key) {
            if emit_as_tag(key, inner) {
                // `{" b": "..."}` etc.: emitted unchanged.
                out.push_str("{\"");
                out.push_str(key);
                out.push_str("\":");
                write_scalar(out, inner);
                out.push('}');
            } else {
                // Python rule 1: `{" di": {K + "__": tag(v)}}`.
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
/// or `" di"` object Flask could not have written.
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let value = tagged_json::loads(r#"{"k":{" di":{" t__":1}}}"#).unwrap();
/// assert_eq!(value, json!({"k": {" t": 1}}));
/// ```
pub fn loads(text: &str) -> Result<Value, Error> {
    untag(parse(text).map_err(|e| Error::Json(e.to_string()))?)
}

/// Parse JSON text, keeping integers beyond 64 bits as `{" i": "<digits>"}`.
///
/// serde_json (without `arbitrary_precision`, which would change number handling for every crate
/// in the build) hands such an integer to its visitor as an `f64`, digits lost. So a pre-pass
/// lists, in document order, how each number that will reach the visitor as an `f64` was
/// written; text without a big integer (nearly all) is parsed exactly as before, and text with
/// one through [`Seed`], which takes the digits from that list.
fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let Some(wide) = wide_numbers(text) else {
        return serde_json::from_str(text);
    };
    let next = std::cell::Cell::new(0);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Seed { wide: &wide, next: &next }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// The number literals of `text` that serde_json parses as `f64`, in document order: `Some` with
/// the digits of an integer beyond 64 bits, `None` for a float (a fraction, an exponent, `-0`).
/// `None` overall when there is no big integer.
fn wide_numbers(text: &str) -> Option<Vec<Option<&str>>> {
    let bytes = text.as_bytes();
    let mut wide = Vec::new();
    let mut any_big = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                // ASCII only, so `start..i` are char boundaries.
                let literal = &text[start..i];
                if is_big_int(literal) {
                    wide.push(Some(literal));
                    any_big = true;
                } else if literal.contains(['.', 'e', 'E']) || literal == "-0" || !is_int_literal(literal) {
                    // A float, or what serde_json reads as one (`-0`, too many digits), or an
                    // error it reports.
                    wide.push(None);
                }
            }
            _ => i += 1,
        }
    }
    any_big.then_some(wide)
}

/// Builds a [`Value`] like serde_json's own, but each `f64` it is handed is matched with the
/// next entry of `wide`: an integer beyond 64 bits becomes `{" i": "<digits>"}`.
#[derive(Clone, Copy)]
struct Seed<'a> {
    wide: &'a [Option<&'a str>],
    next: &'a std::cell::Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(i.into())
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(u.into())
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        let index = self.next.get();
        self.next.set(index + 1);
        match self.wide.get(index) {
            // The same number (a check that the pre-pass and the parser agree).
            Some(Some(digits)) if digits.parse::<f64>().ok() == Some(f) => Ok(big_int_value(digits)),
            _ => Number::from_f64(f).map(Value::Number).ok_or_else(|| E::custom("non-finite number")),
        }
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// `{" i": digits}`.
fn big_int_value(digits: &str) -> Value {
    let mut map = Map::new();
    map.insert(TAG_BIG_INT.to_owned(), Value::String(digits.to_owned()));
    Value::Object(map)
}

/// Untag an already-parsed JSON value, children first. An integer beyond 64 bits is already a
/// float in a parsed `Value`: [`loads`] keeps its digits.
///
/// # Errors
///
/// [`Error::BadTag`] for a `" t"` or `" di"` object Flask could not have written.
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let parsed = json!({"cart": {" di": {" t__": 1}}, "pair": {" t": [1, 2]}});
/// assert_eq!(tagged_json::untag(parsed).unwrap(), json!({"cart": {" t": 1}, "pair": {" t": [1, 2]}}));
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
            Value::Array(items) => {
                // Kept tagged, so that it goes back to Python as a tuple.
                map.insert(TAG_TUPLE.to_owned(), Value::Array(items));
                Ok(Value::Object(map))
            }
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

/// A Python `int` of any size, as its decimal digits.
///
/// In memory one that fits in 64 bits is a plain JSON number, and one beyond is
/// `{" i": "<digits>"}`, which [`loads`] makes of such an integer and [`dumps`] writes back as
/// the bare digits Python wrote. Serializing gives the same two forms; deserializing accepts
/// both.
///
/// ```
/// use flask_wire::tagged_json::{self, BigInt};
/// use serde_json::json;
///
/// // session["n"] = 2**100 in Python:
/// let value = tagged_json::loads(r#"{"n":1267650600228229401496703205376}"#).unwrap();
/// assert_eq!(value["n"], json!({" i": "1267650600228229401496703205376"}));
/// let n: BigInt = serde_json::from_value(value["n"].clone()).unwrap();
/// assert_eq!(n.as_str(), "1267650600228229401496703205376");
/// assert_eq!(tagged_json::dumps(&value).unwrap(), r#"{"n":1267650600228229401496703205376}"#);
///
/// assert_eq!(serde_json::to_value(BigInt::from(42_u64)).unwrap(), json!(42));
/// assert_eq!(BigInt::new("007"), None, "not how Python writes an int");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BigInt(String);

impl BigInt {
    /// The integer written as `digits`: a decimal literal as Python's `repr(int)` writes it (an
    /// optional `-`, no leading zero, not `-0`), of at most 4300 digits (Python's own limit).
    /// `None` otherwise.
    ///
    /// ```
    /// use flask_wire::tagged_json::BigInt;
    /// assert!(BigInt::new("-123456789012345678901234567890").is_some());
    /// assert_eq!(BigInt::new("1e30"), None);
    /// ```
    pub fn new(digits: impl Into<String>) -> Option<Self> {
        let digits = digits.into();
        is_int_literal(&digits).then_some(BigInt(digits))
    }

    /// The decimal digits, with a leading `-` when negative.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for BigInt {
    fn from(n: i64) -> Self {
        BigInt(n.to_string())
    }
}

impl From<u64> for BigInt {
    fn from(n: u64) -> Self {
        BigInt(n.to_string())
    }
}

impl From<i128> for BigInt {
    fn from(n: i128) -> Self {
        BigInt(n.to_string())
    }
}

impl From<u128> for BigInt {
    fn from(n: u128) -> Self {
        BigInt(n.to_string())
    }
}

impl Serialize for BigInt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Ok(n) = self.0.parse::<u64>() {
            serializer.serialize_u64(n)
        } else if let Ok(n) = self.0.parse::<i64>() {
            serializer.serialize_i64(n)
        } else {
            serialize_tagged(serializer, TAG_BIG_INT, &self.0)
        }
    }
}

struct BigIntVisitor;

impl<'de> Visitor<'de> for BigIntVisitor {
    type Value = BigInt;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an integer, or {" i": "<digits beyond 64 bits>"}"#)
    }

    fn visit_i64<E>(self, n: i64) -> Result<BigInt, E> {
        Ok(n.into())
    }

    fn visit_u64<E>(self, n: u64) -> Result<BigInt, E> {
        Ok(n.into())
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<BigInt, A::Error> {
        let digits = TaggedVisitor(TAG_BIG_INT).visit_map(access)?;
        if is_big_int(&digits) {
            Ok(BigInt(digits))
        } else {
            Err(de::Error::custom(format!("not an integer beyond 64 bits: {digits:?}")))
        }
    }
}

impl<'de> Deserialize<'de> for BigInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BigIntVisitor)
    }
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
        assert_eq!(big["big"], json!({" i": "1180591620717411303424"}));
        assert!(loads(&"[".repeat(100_000)).is_err());
        assert!(matches!(loads(r#"{" t":1}"#), Err(Error::BadTag { .. })));
        assert!(matches!(loads(r#"{" di":{}}"#), Err(Error::BadTag { .. })));
        assert_eq!(loads(r#"{" di":{"x":1}}"#).unwrap(), json!({"": 1}));
        // children first
        assert_eq!(loads(r#"{" di":{"k__":{" t":[1,{" t":[2]}]}}}"#).unwrap(), json!({"k": {" t": [1, {" t": [2]}]}}));
    }

    /// Issue 10, item 9: Python writes integers of any size as digits; one beyond 64 bits is
    /// kept exactly (as `{" i": digits}` in memory) and written back as the same digits,
    /// wherever it sits. Floats, exponents and `-0` load as floats, as before.
    #[test]
    fn integers_beyond_64_bits_keep_their_digits() {
        let big = "123456789012345678901234567890";
        let text = format!(
            r#"{{"a":{big},"b":-{big},"c":18446744073709551616,"d":-9223372036854775809,"e":18446744073709551615,"f":-9223372036854775808,"g":[1,{{"h":[{big}]}},{{" t":[{big}]}}],"i":{{" di":{{" t__":{big}}}}},"j":1e+30,"k":1.5,"l":-2.0}}"#
        );
        let v = loads(&text).unwrap();
        assert_eq!(v["a"], json!({" i": big}));
        assert_eq!(v["b"], json!({" i": format!("-{big}")}));
        assert_eq!(v["c"], json!({" i": "18446744073709551616"}));
        assert_eq!(v["d"], json!({" i": "-9223372036854775809"}));
        assert_eq!(v["e"], json!(u64::MAX));
        assert_eq!(v["f"], json!(i64::MIN));
        assert_eq!(v["g"][1]["h"][0], json!({" i": big}));
        assert_eq!(v["g"][2], json!({" t": [{" i": big}]}));
        assert_eq!(v["i"], json!({" t": {" i": big}}));
        assert_eq!(v["j"].as_f64(), Some(1e30));
        assert_eq!(v["l"].as_f64(), Some(-2.0));
        assert_eq!(dumps(&v).unwrap(), text);
        // As before: exponents and fractions are floats, `-0` a float (Python never writes it).
        assert_eq!(
            dumps(&loads("[1E2,100000000000000000000000.0,-0,0,-1]").unwrap()).unwrap(),
            "[100.0,1e+23,-0.0,0,-1]"
        );
        // The typed helper: any Python int, a plain number when it fits in 64 bits.
        let typed: BigInt = serde_json::from_value(v["b"].clone()).unwrap();
        assert_eq!(typed.as_str(), format!("-{big}"));
        assert_eq!(serde_json::to_value(&typed).unwrap(), v["b"]);
        assert_eq!(serde_json::to_value(BigInt::new("42").unwrap()).unwrap(), json!(42));
        assert_eq!(serde_json::from_value::<BigInt>(json!(-7)).unwrap(), BigInt::new("-7").unwrap());
        for bad in ["", "-", "+1", "01", "-0", "1.0", "1e5", " 1", "١٢"] {
            assert_eq!(BigInt::new(bad), None, "{bad:?}");
        }
        // `{" i": x}` that is not an integer beyond 64 bits is a plain dict, written as one.
        let dicts = r#"[{" i":"12"},{" i":"x"},{" i":1},{" i":"-0"}]"#;
        assert_eq!(dumps(&loads(dicts).unwrap()).unwrap(), dicts);
    }

    /// Issue 10, item 9: the pre-pass that finds big integers skips strings (digits, escaped
    /// quotes and backslashes inside them) and keys, so each number gets its own digits.
    #[test]
    fn integers_beyond_64_bits_next_to_strings_of_digits() {
        let text = concat!(
            r#"{"12345678901234567890123":"99999999999999999999999","a\\":[-1.5e-07,"\"1e400\\",-0.0,"#,
            r#"100000000000000000000001,{" i":"200000000000000000000002"},1e+30,-300000000000000000000003]}"#
        );
        let v = loads(text).unwrap();
        assert_eq!(v["12345678901234567890123"], json!("99999999999999999999999"));
        assert_eq!(v["a\\"][3], json!({" i": "100000000000000000000001"}));
        assert_eq!(v["a\\"][4], json!({" i": "200000000000000000000002"}), "a dict of that shape: the ambiguity");
        assert_eq!(v["a\\"][6], json!({" i": "-300000000000000000000003"}));
        assert_eq!(v["a\\"][5].as_f64(), Some(1e30));
        let back = dumps(&v).unwrap();
        assert_eq!(back, text.replace(r#"{" i":"200000000000000000000002"}"#, "200000000000000000000002"));
        // Invalid JSON around a big integer is still an error, never a panic.
        for bad in [
            "[123456789012345678901234567890",
            "[123456789012345678901234567890,]",
            "[-123456789012345678901234567890-]",
            "\"123456789012345678901234567890",
        ] {
            assert!(matches!(loads(bad), Err(Error::Json(_))), "{bad}");
        }
    }

    /// Issue 10, item 9: a big integer at the nesting limit loads and dumps like any number.
    #[test]
    fn integers_beyond_64_bits_at_the_depth_limit() {
        let deepest =
            (1..1000).find(|n| loads(&format!("{}1{}", "[".repeat(*n), "]".repeat(*n))).is_err()).unwrap() - 1;
        let text = format!("{}123456789012345678901234567890{}", "[".repeat(deepest), "]".repeat(deepest));
        let v = loads(&text).unwrap();
        assert_eq!(dumps(&v).unwrap(), text);
        let too_deep = format!("[{text}]");
        assert!(matches!(loads(&too_deep), Err(Error::Json(_))));
    }

    /// Issue 10, item 9: a tuple stays a tagged `{" t": [..]}` in memory and goes back to
    /// Python as a tuple, children tagged as usual.
    #[test]
    fn tuples_stay_tuples() {
        let text = r#"{"empty":{" t":[]},"list":[1,2],"pair":{" t":[1,{" t":[{" b":"aGk="},[3]]}]}}"#;
        let v = loads(text).unwrap();
        assert_eq!(v["pair"], json!({" t": [1, {" t": [{" b": "aGk="}, [3]]}]}));
        assert_eq!(v["empty"], json!({" t": []}));
        assert_eq!(v["list"], json!([1, 2]));
        assert_eq!(dumps(&v).unwrap(), text);
    }

    #[test]
    fn too_deep_dump_is_an_error() {
        let mut v = json!(1);
        for _ in 0..200 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(dumps(&v), Err(Error::TooDeep));
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
