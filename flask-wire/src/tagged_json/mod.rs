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

/// serde_json's recursion limit when parsing: text nests fewer than this many arrays and
/// objects. [`dumps`] writes nothing deeper, so what it writes always [`loads`] again, and
/// [`loads`] accepts nothing [`dumps`] could not write back.
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

/// Whether an array or object inside `depth` others nests too deep for serde_json to parse.
fn container_too_deep(depth: usize) -> bool {
    depth + 1 >= MAX_DEPTH
}

/// The digits of `{" i": digits}` when [`dumps`] writes it back as a bare integer: a scalar on the
/// wire, however it nests in memory.
fn big_int_digits(map: &Map<String, Value>) -> Option<&str> {
    match single_entry(map)? {
        (key, Value::String(digits)) if key == TAG_BIG_INT && is_big_int(digits) => Some(digits),
        _ => None,
    }
}

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

mod dump;
mod http_date;
mod load;
#[cfg(test)]
mod tests;
mod types;

use dump::*;
pub use dump::{dumps, dumps_object};
pub(crate) use http_date::{format_http_date, parse_http_date};
pub use load::{loads, untag};
use types::*;
pub use types::{BigInt, Bytes, HttpDate, Markup, Uuid};
