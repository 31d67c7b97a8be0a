//! Flask's session wire formats, byte for byte, for any Rust program that must read or write
//! Flask data: Flask's signed cookie sessions, flask-session-plus's cookies and server records,
//! and Flask-Session's server records and session ids.
//!
//! A Rust service can then share sessions with a Flask one while it moves off Python, or a tool
//! can inspect and repair what a Flask application stored. Everything this crate writes is what
//! the Python side writes, checked against vectors made by the Python packages themselves; what
//! it accepts is what the Python side emits, read more strictly where Python is lenient (each
//! module lists the differences).
//!
//! **Nothing is ever unpickled.** Flask-Session can store Python pickles; such a record is
//! refused with [`msgpack_record::Error::Pickle`], never executed.
//!
//! | module | what it reads and writes |
//! |---|---|
//! | [`itsdangerous`] | `Signer`, `TimestampSigner` and the URL-safe timed serializer: Flask's cookie sessions (SHA-1) and flask-session-plus's (SHA3-256); inflating is capped, the MAC is checked before anything else |
//! | [`tagged_json`] | Flask's `TaggedJSONSerializer`, with Python-identical JSON text: the payload of Flask cookies and of flask-session-plus's server records |
//! | [`msgpack_record`] | Flask-Session 0.8's MessagePack records |
//! | [`sid`] | flask-session-plus and Flask-Session session ids: generating, shape checks, and the signer of id cookies |
//!
//! The crate does no I/O: it turns bytes into sessions and back. Where the Python packages keep
//! their server records:
//!
//! | package | key | value |
//! |---|---|---|
//! | flask-session-plus | `key_prefix` + uuid4 sid, no separator (`session5b6f…`) | tagged JSON of `{"_permanent": bool, ...fields}` |
//! | Flask-Session 0.8 | `key_prefix` + `:` + 43-character token (`session:Xy0_…`) | MessagePack of `{"_permanent": bool, ...fields}` |
//!
//! # In-memory values
//!
//! Sessions are [`serde_json::Map`]s. Values follow [`tagged_json`]'s mapping in every module:
//! tuples, bytes, UUIDs, datetimes and Markup stay as their one-key tagged objects
//! (`{" t": [1, 2]}`, `{" b": "AA=="}`), and an integer beyond 64 bits is `{" i": "<digits>"}`,
//! so they go back to Python unchanged. The typed helpers [`tagged_json::BigInt`],
//! [`tagged_json::Bytes`], [`tagged_json::Uuid`], [`tagged_json::HttpDate`] and
//! [`tagged_json::Markup`] convert them with serde. Flask keeps `session.permanent` as a field
//! named [`PERMANENT_KEY`].
//!
//! # Examples
//!
//! A Flask cookie session ([`itsdangerous`]), read and written again byte for byte:
//!
//! ```
//! use flask_wire::itsdangerous::TimedSerializer;
//!
//! let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
//! let cookie = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";
//! // The time now and Flask's default max age (31 days), in seconds.
//! let loaded = flask.loads(cookie, 1_700_000_000, Some(2_678_400)).unwrap();
//! assert_eq!(loaded.session["user_id"], 42);
//! assert_eq!(flask.dumps(&loaded.session, 1_700_000_000).unwrap(), cookie);
//! ```
//!
//! A flask-session-plus server record ([`tagged_json`]), as it sits in Redis or Memcached:
//!
//! ```
//! use flask_wire::{tagged_json, PERMANENT_KEY};
//! use serde_json::{json, Value};
//!
//! let record = r#"{"_permanent":true,"cart":{" t":["sku-1",2]},"user_id":42}"#;
//! let Value::Object(mut session) = tagged_json::loads(record).unwrap() else { unreachable!() };
//! assert_eq!(session.remove(PERMANENT_KEY), Some(Value::Bool(true)));
//! assert_eq!(Value::Object(session.clone()), json!({"cart": {" t": ["sku-1", 2]}, "user_id": 42}));
//!
//! session.insert(PERMANENT_KEY.to_owned(), Value::Bool(false));
//! let text = tagged_json::dumps_object(&session).unwrap();
//! assert_eq!(text, r#"{"_permanent":false,"cart":{" t":["sku-1",2]},"user_id":42}"#);
//! ```
//!
//! A Flask-Session server record ([`msgpack_record`]):
//!
//! ```
//! use flask_wire::msgpack_record;
//! use serde_json::json;
//!
//! let session = json!({"user_id": 42, "avatar": {" b": "AAEC"}});
//! let bytes = msgpack_record::encode(session.as_object().unwrap(), true);
//! let (fields, permanent) = msgpack_record::decode(&bytes).unwrap();
//! assert!(permanent);
//! assert_eq!(fields["avatar"], json!({" b": "AAEC"}));
//!
//! // A pickle is refused, never unpickled.
//! let pickle = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x07user_id\x94Kcs.";
//! assert_eq!(msgpack_record::decode(pickle), Err(msgpack_record::Error::Pickle));
//! ```
//!
//! Session ids ([`sid`]), and the signed id cookie of `SESSION_USE_SIGNER`:
//!
//! ```
//! use flask_wire::sid;
//!
//! let id = sid::new_flask_session().expect("the OS has randomness");
//! assert!(sid::is_flask_session(&id));
//! let cookie = sid::sign(b"dev-secret-key", &id);
//! assert_eq!(sid::unsign(&[b"dev-secret-key".to_vec()], &cookie), Some(id));
//! assert_eq!(sid::unsign(&[b"another-key".to_vec()], &cookie), None);
//! ```

pub mod itsdangerous;
pub mod msgpack_record;
pub mod sid;
pub mod tagged_json;

/// The field under which Flask, flask-session-plus and Flask-Session keep `session.permanent`
/// (a boolean) in cookies and server records.
///
/// [`msgpack_record`] takes the flag apart from the fields; with [`itsdangerous`] and
/// [`tagged_json`] it is an ordinary field of the session.
///
/// ```
/// use flask_wire::itsdangerous::TimedSerializer;
/// use flask_wire::PERMANENT_KEY;
///
/// let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
/// let mut session = serde_json::Map::new();
/// session.insert(PERMANENT_KEY.to_owned(), true.into());
/// let cookie = flask.dumps(&session, 1_700_000_000).unwrap();
/// let loaded = flask.loads(&cookie, 1_700_000_000, None).unwrap();
/// assert_eq!(loaded.session[PERMANENT_KEY], true);
/// ```
pub const PERMANENT_KEY: &str = "_permanent";

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The vectors made by the Python packages (`tests/data/flask-vectors.json`), for the unit tests
/// that check internals against them; the integration tests check the public API.
#[cfg(test)]
pub(crate) mod test_vectors {
    use serde_json::Value;

    /// The vector with this id.
    pub(crate) fn vector(id: &str) -> Value {
        vectors().into_iter().find(|v| v["id"] == id).unwrap_or_else(|| panic!("vector {id} missing"))
    }

    /// Every vector.
    pub(crate) fn vectors() -> Vec<Value> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/flask-vectors.json");
        let text = std::fs::read_to_string(path).expect("flask-vectors.json readable");
        serde_json::from_str(&text).expect("flask-vectors.json is JSON")
    }

    /// Lowercase hex.
    pub(crate) fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
