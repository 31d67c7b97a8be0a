//! Shared fixtures of the fuzz targets and the seed writer: the fixed keys, the codecs and the
//! way an input is split into a cookie name and a value.

use session_plus::codec::{CookieCodec, Key, KeyRing};

/// The fixed secret of the native codecs and of the manager in `cookie_header`.
pub const SECRET: &str = "a fixed fuzzing secret, at least thirty-two bytes long";
/// An older secret, still in the ring, so verification under a second key is reached too.
pub const OLD_SECRET: &str = "an older fuzzing secret, also thirty-two bytes or more";
/// The secret of the Flask vectors (`flask-wire/tests/data/flask-vectors.json`).
pub const FLASK_SECRET: &[u8] = b"dev-secret-key";
/// An older Flask secret, still accepted.
pub const FLASK_OLD_SECRET: &[u8] = b"an-old-flask-secret";
/// The `now` given to timed loads: 2023-11-14, the vectors' time plus a day.
pub const NOW: u64 = 1_700_086_400;

/// The ring of the native codecs: the newest key first.
pub fn ring() -> KeyRing {
    KeyRing::new(vec![Key::derive(SECRET.as_bytes()), Key::derive(OLD_SECRET.as_bytes())]).expect("two keys")
}

/// The signed cookie codec with the fixed ring.
pub fn signed_codec() -> CookieCodec {
    CookieCodec::signed(ring())
}

/// The encrypted cookie codec with the fixed ring.
pub fn private_codec() -> CookieCodec {
    CookieCodec::private(ring())
}

/// The Flask secrets, newest first.
pub fn flask_secrets() -> Vec<Vec<u8>> {
    vec![FLASK_SECRET.to_vec(), FLASK_OLD_SECRET.to_vec()]
}

/// Splits an input into a cookie name and a value at the first NUL (no NUL: the name `session`).
pub fn split_name(data: &[u8]) -> Option<(&str, &str)> {
    let text = std::str::from_utf8(data).ok()?;
    Some(match text.split_once('\0') {
        Some((name, value)) => (name, value),
        None => ("session", text),
    })
}

/// The native codecs' property: `decode` never panics, and whatever it accepts encodes again to a
/// value that decodes to the same contents under the newest key (re-encoding may fail only by
/// size: JSON is re-serialised, escapes may differ).
pub fn check_native_round_trip(codec: &CookieCodec, data: &[u8]) {
    let Some((name, value)) = split_name(data) else { return };
    let Ok(decoded) = codec.decode(name, value) else { return };
    match codec.encode(name, &decoded.contents) {
        Ok(again) => {
            let redecoded = codec.decode(name, &again).expect("a value just encoded decodes");
            assert_eq!(redecoded.contents, decoded.contents, "round trip changed the contents");
            assert_eq!(redecoded.key_index, 0, "a value just encoded verifies under the newest key");
        }
        Err(e) => assert_eq!(e.kind(), session_plus::codec::ErrorKind::TooLarge, "re-encoding failed: {e:?}"),
    }
}
