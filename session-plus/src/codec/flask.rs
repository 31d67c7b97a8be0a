//! Flask's cookie sessions as a [`CookieCodec`](super::CookieCodec) (feature `flask`): the
//! fields plus [`PERMANENT_KEY`] when permanent, through [`flask_wire::itsdangerous`].
//! The wire formats themselves live in the [`flask_wire`] crate.

use flask_wire::itsdangerous::{self, TimedSerializer};
use flask_wire::PERMANENT_KEY;
use serde_json::Value;

use super::{CookieContents, Decoded, Error, ErrorKind};

/// Encodes a cookie session as Flask does: the fields plus `_permanent` when permanent,
/// timestamped with the issue time. Flask cookies carry no creation time.
pub(crate) fn encode(serializer: &TimedSerializer, contents: &CookieContents) -> Result<String, Error> {
    let mut session = contents.fields.clone();
    session.remove(PERMANENT_KEY);
    if contents.permanent {
        session.insert(PERMANENT_KEY.to_owned(), Value::Bool(true));
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
    let permanent = fields.remove(PERMANENT_KEY) == Some(Value::Bool(true));
    let issued_at = i64::try_from(loaded.timestamp).map_err(|_| Error::new(ErrorKind::Malformed))?;
    Ok(Decoded {
        contents: CookieContents { fields, issued_at, created_at: issued_at, permanent },
        key_index: loaded.key_index,
    })
}
