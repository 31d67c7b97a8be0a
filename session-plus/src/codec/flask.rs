//! Flask's wire formats, byte for byte (feature `flask`): what Flask, flask-session-plus and
//! Flask-Session read and write, so a Flask service and a Rust one can share sessions.
//!
//! - [`itsdangerous`]: `Signer`, `TimestampSigner` and the URL-safe timed serializer under Flask's
//!   cookie sessions (`format = "flask"`, SHA-1) and flask-session-plus's (`"flask-session-plus"`,
//!   SHA3-256); inflating is capped at 64 KiB, the MAC is checked before anything else.
//! - [`tagged_json`]: Flask's `TaggedJSONSerializer`, with Python-identical JSON text.
//! - [`sid`]: flask-session-plus and Flask-Session session ids and their signer.
//! - [`msgpack_record`]: Flask-Session 0.8's MessagePack records. Nothing is ever unpickled.
//!
//! In memory, values follow [`tagged_json`]'s mapping: tuples become arrays, and bytes, UUIDs,
//! datetimes and Markup stay as their one-key tagged objects (see [`tagged_json::Bytes`] and its
//! siblings), so they go back to Python unchanged.
//!
//! ```
//! use session_plus::codec::flask::itsdangerous::TimedSerializer;
//! let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
//! let cookie = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";
//! let loaded = flask.loads(cookie, 1_700_000_000, Some(2_678_400)).unwrap();
//! assert_eq!(loaded.session["user_id"], 42);
//! assert_eq!(flask.dumps(&loaded.session, 1_700_000_000).unwrap(), cookie);
//! ```

pub mod itsdangerous;
pub mod msgpack_record;
pub mod sid;
pub mod tagged_json;

use serde_json::Value;

use super::{CookieContents, Decoded, Error, ErrorKind};
use itsdangerous::TimedSerializer;

/// The key Flask keeps `session.permanent` under.
pub(crate) const PERMANENT: &str = "_permanent";

/// Encodes a cookie session as Flask does: the fields plus `_permanent` when permanent,
/// timestamped with the issue time. Flask cookies carry no creation time.
pub(crate) fn encode(serializer: &TimedSerializer, contents: &CookieContents) -> Result<String, Error> {
    let mut session = contents.fields.clone();
    session.remove(PERMANENT);
    if contents.permanent {
        session.insert(PERMANENT.to_owned(), Value::Bool(true));
    }
    let timestamp = u64::try_from(contents.issued_at).map_err(|_| Error::new(ErrorKind::Malformed))?;
    serializer.dumps(&session, timestamp).map_err(|_| Error::new(ErrorKind::Malformed))
}

/// Verifies and decodes a Flask cookie. Expiry is judged by the caller, like for native cookies;
/// the creation time is taken to be the issue time, as Flask records none.
pub(crate) fn decode(serializer: &TimedSerializer, value: &str) -> Result<Decoded, Error> {
    let loaded = serializer.loads(value, u64::MAX, None).map_err(|error| {
        Error::new(match error {
            itsdangerous::Error::BadSignature => ErrorKind::Invalid,
            itsdangerous::Error::TooLarge => ErrorKind::TooLarge,
            _ => ErrorKind::Malformed,
        })
    })?;
    let mut fields = loaded.session;
    let permanent = fields.remove(PERMANENT) == Some(Value::Bool(true));
    let issued_at = i64::try_from(loaded.timestamp).map_err(|_| Error::new(ErrorKind::Malformed))?;
    Ok(Decoded {
        contents: CookieContents { fields, issued_at, created_at: issued_at, permanent },
        key_index: loaded.key_index,
    })
}
