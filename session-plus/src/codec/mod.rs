//! The cookie codec: how a `secure_cookie` session becomes a cookie value and back.
//!
//! A cookie carries a body: the issue time and the creation time (big-endian Unix seconds), a
//! flags byte (bit 0: permanent) and the fields as JSON. The body is either signed
//! (HMAC-SHA256, readable by the client) or encrypted
//! (XChaCha20-Poly1305, feature `codec-private`); both bind the cookie name, so a value copied
//! into another cookie is rejected. Keys come from a [`KeyRing`]: the newest signs, all verify.
//!
//! Decoding never says why it failed beyond an [`ErrorKind`]; the middleware treats every failure
//! as "no session" and never echoes it.
//!
//! ```
//! use session_plus::codec::{CookieCodec, CookieContents, Key, KeyRing};
//!
//! let ring = KeyRing::new(vec![Key::derive(b"a secret of at least thirty-two bytes")]).unwrap();
//! let codec = CookieCodec::signed(ring);
//! let mut contents = CookieContents::new(1_700_000_000);
//! contents.fields.insert("csrf_token".into(), "abc".into());
//! let value = codec.encode("csrf", &contents)?;
//! let decoded = codec.decode("csrf", &value)?;
//! assert_eq!(decoded.contents, contents);
//! assert!(codec.decode("other", &value).is_err());
//! # Ok::<(), session_plus::codec::Error>(())
//! ```

#[cfg(feature = "flask")]
mod flask;
mod key;
mod key_ring;
#[cfg(feature = "codec-private")]
mod private;
mod signed;
pub(crate) mod url_safe;

use std::fmt;

use serde_json::{Map, Value};

pub use key::{Key, KEY_LEN};
pub use key_ring::KeyRing;

/// Browsers keep at most 4096 bytes per cookie; no longer value is worth decoding.
pub const MAX_COOKIE_LEN: usize = 4096;

/// What a cookie session holds: its fields and the times under the signature.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CookieContents {
    /// The session's fields.
    pub fields: Map<String, Value>,
    /// When this cookie was issued (Unix seconds); idle expiry counts from here.
    pub issued_at: i64,
    /// When the session was created (Unix seconds); the absolute lifetime counts from here.
    pub created_at: i64,
    /// Whether the session was made permanent.
    pub permanent: bool,
}

impl CookieContents {
    /// Empty contents created and issued at `now`.
    ///
    /// ```
    /// let c = session_plus::codec::CookieContents::new(5);
    /// assert_eq!((c.issued_at, c.created_at), (5, 5));
    /// ```
    pub fn new(now: i64) -> Self {
        Self { fields: Map::new(), issued_at: now, created_at: now, permanent: false }
    }
}

/// A decoded cookie and the index of the key that opened it (0 = the newest).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// What the cookie holds.
    pub contents: CookieContents,
    /// Which key of the ring verified it; not 0 means it should be re-issued.
    pub key_index: usize,
}

/// Turns cookie sessions into cookie values and back: signed, encrypted, or Flask's format.
#[derive(Debug, Clone)]
pub struct CookieCodec {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Signed(KeyRing),
    #[cfg(feature = "codec-private")]
    Private(KeyRing),
    #[cfg(feature = "flask")]
    Flask(Box<flask_wire::itsdangerous::TimedSerializer>),
}

impl CookieCodec {
    /// Signed cookies: integrity, no secrecy.
    ///
    /// ```
    /// use session_plus::codec::{CookieCodec, Key, KeyRing};
    /// let codec = CookieCodec::signed(KeyRing::new(vec![Key::derive(&[7; 32])]).unwrap());
    /// # let _ = codec;
    /// ```
    pub fn signed(ring: KeyRing) -> Self {
        Self { kind: Kind::Signed(ring) }
    }

    /// Encrypted cookies: integrity and secrecy.
    ///
    /// ```
    /// use session_plus::codec::{CookieCodec, Key, KeyRing};
    /// let codec = CookieCodec::private(KeyRing::new(vec![Key::derive(&[7; 32])]).unwrap());
    /// # let _ = codec;
    /// ```
    #[cfg(feature = "codec-private")]
    #[cfg_attr(docsrs, doc(cfg(feature = "codec-private")))]
    pub fn private(ring: KeyRing) -> Self {
        Self { kind: Kind::Private(ring) }
    }

    /// Flask's cookies (itsdangerous), as Flask or flask-session-plus make them: the fields, plus
    /// [`flask_wire::PERMANENT_KEY`] when the session is permanent.
    ///
    /// ```
    /// use session_plus::codec::CookieCodec;
    /// use session_plus::flask_wire::itsdangerous::TimedSerializer;
    /// let codec = CookieCodec::flask(TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]));
    /// # let _ = codec;
    /// ```
    #[cfg(feature = "flask")]
    #[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
    pub fn flask(serializer: flask_wire::itsdangerous::TimedSerializer) -> Self {
        Self { kind: Kind::Flask(Box::new(serializer)) }
    }

    /// Encodes `contents` as the value of cookie `name`.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] when the value would exceed [`MAX_COOKIE_LEN`];
    /// [`ErrorKind::Rng`] when the OS gives no randomness for a nonce.
    pub fn encode(&self, name: &str, contents: &CookieContents) -> Result<String, Error> {
        let value = match &self.kind {
            Kind::Signed(ring) => signed::seal(ring, name, &encode_body(contents)),
            #[cfg(feature = "codec-private")]
            Kind::Private(ring) => private::seal(ring, name, &encode_body(contents))?,
            #[cfg(feature = "flask")]
            Kind::Flask(serializer) => flask::encode(serializer, contents)?,
        };
        if value.len() > MAX_COOKIE_LEN {
            return Err(Error::new(ErrorKind::TooLarge));
        }
        Ok(value)
    }

    /// Verifies and decodes the value of cookie `name`. Says nothing of expiry: times are the
    /// caller's to judge.
    ///
    /// # Errors
    /// The value is too long, malformed, or fails verification under every key.
    pub fn decode(&self, name: &str, value: &str) -> Result<Decoded, Error> {
        let opened = self.open(name, value.as_bytes())?;
        let fields = match opened.fields {
            OpenedFields::Json { body, start } => {
                serde_json::from_slice(&body[start..]).map_err(|_| Error::new(ErrorKind::Malformed))?
            }
            #[cfg(feature = "flask")]
            OpenedFields::Parsed(fields) => fields,
        };
        let Opened { issued_at, created_at, permanent, key_index, .. } = opened;
        Ok(Decoded { contents: CookieContents { fields, issued_at, created_at, permanent }, key_index })
    }

    /// Verifies the value of cookie `name` as [`decode`](Self::decode) does, but leaves its
    /// fields as the JSON text they came in, for a request to parse only the ones it reads.
    /// Takes bytes: the value of a request's cookie was checked to be ASCII already.
    pub(crate) fn open(&self, name: &str, value: &[u8]) -> Result<Opened, Error> {
        if value.len() > MAX_COOKIE_LEN {
            return Err(Error::new(ErrorKind::TooLarge));
        }
        let (body, key_index) = match &self.kind {
            Kind::Signed(ring) => signed::open(ring, name, value)?,
            #[cfg(feature = "codec-private")]
            Kind::Private(ring) => private::open(ring, name, value)?,
            #[cfg(feature = "flask")]
            Kind::Flask(serializer) => {
                let value = std::str::from_utf8(value).map_err(|_| Error::new(ErrorKind::Malformed))?;
                let Decoded { contents: c, key_index } = flask::decode(serializer, value)?;
                return Ok(Opened {
                    fields: OpenedFields::Parsed(c.fields),
                    issued_at: c.issued_at,
                    created_at: c.created_at,
                    permanent: c.permanent,
                    key_index,
                });
            }
        };
        opened_body(body, key_index)
    }
}

/// A verified cookie with its fields still unparsed (for a JSON body).
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) fields: OpenedFields,
    pub(crate) issued_at: i64,
    pub(crate) created_at: i64,
    pub(crate) permanent: bool,
    pub(crate) key_index: usize,
}

/// A verified cookie's fields.
#[derive(Debug)]
pub(crate) enum OpenedFields {
    /// The cookie's body, its fields' JSON object from `start` on, not yet checked.
    Json { body: Vec<u8>, start: usize },
    /// Parsed by the format's own decoder (Flask's).
    #[cfg(feature = "flask")]
    Parsed(Map<String, Value>),
}

impl CookieCodec {
    /// The issue time a value claims, without verifying it (`None` when it cannot be read
    /// cheaply, as in encrypted cookies). Only for deciding whether a full
    /// [`decode`](Self::decode) is worth doing: a forged value gains nothing by it.
    pub(crate) fn peek_issued_at(&self, value: &[u8]) -> Option<i64> {
        match &self.kind {
            Kind::Signed(_) => signed::peek_issued_at(value),
            #[cfg(feature = "codec-private")]
            Kind::Private(_) => None,
            #[cfg(feature = "flask")]
            Kind::Flask(_) => None,
        }
    }

    /// The permanence a value claims, as [`peek_issued_at`](Self::peek_issued_at) reads it.
    pub(crate) fn peek_permanent(&self, value: &[u8]) -> Option<bool> {
        match &self.kind {
            Kind::Signed(_) => signed::peek_permanent(value),
            #[cfg(feature = "codec-private")]
            Kind::Private(_) => None,
            #[cfg(feature = "flask")]
            Kind::Flask(_) => None,
        }
    }
}

/// The name a cookie bound to a server session (`bind_to`) is sealed under: its own name, a NUL
/// and the server session's id. The MAC (or the AEAD's associated data) then covers that id, so
/// the cookie verifies only beside that session, and the wire format does not change. Cookie
/// names cannot hold a NUL, and an unbound body starts with its issue time (a zero byte, not an
/// id character), so a bound value and an unbound one never share what is signed.
pub(crate) fn bound_name(name: &str, server_id: &str) -> String {
    let mut bound = String::with_capacity(name.len() + 1 + server_id.len());
    bound.push_str(name);
    bound.push('\0');
    bound.push_str(server_id);
    bound
}

/// Signs the id cookies of server-side sessions (`use_signer`).
#[derive(Debug, Clone)]
pub(crate) enum IdSigner {
    /// HMAC-SHA256 over the cookie name and the id.
    Native(KeyRing),
    /// flask-session-plus's and Flask-Session's signer: HMAC-SHA1, salt `flask-session`.
    #[cfg(feature = "flask")]
    Flask(flask_wire::itsdangerous::Signer),
}

impl IdSigner {
    pub(crate) fn sign(&self, name: &str, id: &str) -> String {
        match self {
            Self::Native(ring) => signed::sign_id(ring, name, id),
            #[cfg(feature = "flask")]
            Self::Flask(signer) => signer.sign(id),
        }
    }

    /// The id in a signed id cookie, if the signature verifies, and the index of the key that
    /// verified it (0 = the newest; another means the cookie should be signed again).
    pub(crate) fn verify<'a>(&self, name: &str, value: &'a str) -> Option<(&'a str, usize)> {
        if value.len() > MAX_COOKIE_LEN {
            return None;
        }
        match self {
            Self::Native(ring) => signed::open_id(ring, name, value),
            #[cfg(feature = "flask")]
            Self::Flask(signer) => signer.unsign(value).ok(),
        }
    }
}

const HEADER_LEN: usize = 17;
const FLAG_PERMANENT: u8 = 1;

fn encode_body(contents: &CookieContents) -> Vec<u8> {
    let mut body = Vec::with_capacity(HEADER_LEN + 64);
    body.extend_from_slice(&contents.issued_at.to_be_bytes());
    body.extend_from_slice(&contents.created_at.to_be_bytes());
    body.push(if contents.permanent { FLAG_PERMANENT } else { 0 });
    // Writing a `Map<String, Value>` into a Vec cannot fail: keys are strings and a Vec grows.
    serde_json::to_writer(&mut body, &contents.fields).expect("a JSON map always serializes");
    body
}

/// A cookie's URL-safe base64 (no padding), decoded by `base64-simd` (the reason is in
/// Cargo.toml). It allocates with `malloc`, not glibc's slower `calloc`.
fn decode_base64(text: &[u8]) -> Result<Vec<u8>, Error> {
    base64_simd::URL_SAFE_NO_PAD.decode_to_vec(text).map_err(|_| Error::new(ErrorKind::Malformed))
}

/// The times and flags at the head of a verified body; its fields stay text.
fn opened_body(body: Vec<u8>, key_index: usize) -> Result<Opened, Error> {
    if body.len() < HEADER_LEN {
        return Err(Error::new(ErrorKind::Malformed));
    }
    let time = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&body[at..at + 8]);
        i64::from_be_bytes(bytes)
    };
    let (issued_at, created_at, permanent) = (time(0), time(8), body[16] & FLAG_PERMANENT != 0);
    Ok(Opened { fields: OpenedFields::Json { body, start: HEADER_LEN }, issued_at, created_at, permanent, key_index })
}

/// Why a cookie could not be encoded or decoded; deliberately says nothing more.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

/// The kind of a codec [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not a value this codec made.
    Malformed,
    /// The signature or the authentication tag did not verify under any key.
    Invalid,
    /// Longer than a browser keeps.
    TooLarge,
    /// The OS gave no randomness.
    Rng,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self { kind }
    }

    /// What went wrong, coarsely.
    ///
    /// ```
    /// use session_plus::codec::{CookieCodec, ErrorKind, Key, KeyRing};
    /// let codec = CookieCodec::signed(KeyRing::new(vec![Key::derive(&[1; 32])]).unwrap());
    /// assert_eq!(codec.decode("s", "garbage").unwrap_err().kind(), ErrorKind::Malformed);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("codec::Error").field("kind", &self.kind).finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            ErrorKind::Malformed => "malformed session cookie",
            ErrorKind::Invalid => "session cookie failed verification",
            ErrorKind::TooLarge => "session cookie larger than 4096 bytes",
            ErrorKind::Rng => "the operating system's random number generator failed",
        })
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine as _;

    use super::*;

    fn ring(secrets: &[&[u8]]) -> KeyRing {
        KeyRing::new(secrets.iter().map(|s| Key::derive(s)).collect()).unwrap()
    }

    fn sample() -> CookieContents {
        let mut c = CookieContents {
            issued_at: 1_700_000_100,
            created_at: 1_700_000_000,
            permanent: true,
            ..Default::default()
        };
        c.fields.insert("csrf_token".into(), "s3cr3t-token".into());
        c.fields.insert("n".into(), 42.into());
        c
    }

    fn codecs(secrets: &[&[u8]]) -> Vec<CookieCodec> {
        #[cfg_attr(not(feature = "codec-private"), allow(unused_mut))]
        let mut v = vec![CookieCodec::signed(ring(secrets))];
        #[cfg(feature = "codec-private")]
        v.push(CookieCodec::private(ring(secrets)));
        v
    }

    /// Text biased to URL-safe base64's alphabet, with now and then any byte (padding included).
    pub(super) fn mostly_base64(max_len: usize) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec();
        let byte = prop_oneof![40 => prop::sample::select(alphabet), 1 => Just(b'='), 1 => any::<u8>()];
        prop::collection::vec(byte, 0..max_len)
    }

    proptest::proptest! {
        /// `base64-simd` accepts exactly what `base64`'s URL_SAFE_NO_PAD accepts (no padding, the
        /// unused bits of the last character zero) and decodes it the same, across the lengths of
        /// its SIMD blocks and their tails.
        #[test]
        fn base64_decoding_agrees_with_the_base64_crate(text in mostly_base64(300)) {
            proptest::prop_assert_eq!(decode_base64(&text).ok(), B64.decode(&text).ok());
        }
    }

    /// Every byte value as the last and as the first character, after each length of body.
    #[test]
    fn base64_decoding_agrees_on_every_byte_at_the_ends() {
        let body = B64.encode([0xA5u8; 120]);
        for len in (0..12).chain(40..44).chain(60..68).chain(90..100) {
            for byte in 0..=255u8 {
                let mut text = body.as_bytes()[..len].to_vec();
                text.push(byte);
                assert_eq!(decode_base64(&text).ok(), B64.decode(&text).ok(), "{byte:#04x} after {len} characters");
                text.rotate_right(1);
                assert_eq!(decode_base64(&text).ok(), B64.decode(&text).ok(), "{byte:#04x} first, of {}", len + 1);
            }
        }
    }

    #[test]
    fn round_trip_both_formats() {
        for codec in codecs(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]) {
            let value = codec.encode("csrf", &sample()).unwrap();
            let decoded = codec.decode("csrf", &value).unwrap();
            assert_eq!(decoded, Decoded { contents: sample(), key_index: 0 });
        }
    }

    /// `open` checks what `decode` checks but the JSON, which it hands over as the body's text;
    /// a body whose JSON is broken under a good MAC (no writer of this crate makes one) is
    /// refused by `decode` (and by a session's load: `Fields::from_cookie_body`'s tests).
    #[test]
    fn opening_leaves_the_fields_as_text_and_decoding_checks_them() {
        for codec in codecs(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]) {
            let value = codec.encode("csrf", &sample()).unwrap();
            let opened = codec.open("csrf", value.as_bytes()).unwrap();
            assert_eq!(
                (opened.issued_at, opened.created_at, opened.permanent, opened.key_index),
                (1_700_000_100, 1_700_000_000, true, 0)
            );
            #[allow(irrefutable_let_patterns)] // refutable only with the `flask` feature
            let OpenedFields::Json { body, start } = opened.fields
            else {
                panic!("a native codec's body is text")
            };
            assert_eq!(serde_json::from_slice::<Map<String, Value>>(&body[start..]).unwrap(), sample().fields);
            assert_eq!(codec.open("data", value.as_bytes()).unwrap_err().kind(), ErrorKind::Invalid);
        }
        let ring = ring(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]);
        let mut body = encode_body(&sample());
        body.truncate(body.len() - 1); // the object's closing brace
        let value = signed::seal(&ring, "csrf", &body);
        let codec = CookieCodec::signed(ring);
        assert!(codec.open("csrf", value.as_bytes()).is_ok(), "verified; the JSON is not looked at");
        assert_eq!(codec.decode("csrf", &value).unwrap_err().kind(), ErrorKind::Malformed);
    }

    #[test]
    fn every_single_byte_change_is_rejected() {
        for codec in codecs(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]) {
            let value = codec.encode("csrf", &sample()).unwrap();
            let bytes = value.as_bytes();
            for i in 0..bytes.len() {
                for replacement in [b'A', b'_', b'.', b'0', b'~'] {
                    if bytes[i] == replacement {
                        continue;
                    }
                    let mut changed = bytes.to_vec();
                    changed[i] = replacement;
                    let changed = String::from_utf8(changed).unwrap();
                    assert!(codec.decode("csrf", &changed).is_err(), "byte {i} -> {replacement}");
                }
                // Truncations too.
                assert!(codec.decode("csrf", &value[..i]).is_err(), "truncated at {i}");
            }
        }
    }

    #[test]
    fn wrong_name_and_wrong_key_are_rejected() {
        for (codec, other) in codecs(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"])
            .into_iter()
            .zip(codecs(&[b"k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2"]))
        {
            let value = codec.encode("csrf", &sample()).unwrap();
            assert_eq!(codec.decode("data", &value).unwrap_err().kind(), ErrorKind::Invalid);
            assert_eq!(other.decode("csrf", &value).unwrap_err().kind(), ErrorKind::Invalid);
        }
    }

    #[test]
    fn rotation_accepts_old_keys_and_reports_them() {
        let old = codecs(&[b"old-old-old-old-old-old-old-old-"]);
        let rotated = codecs(&[b"new-new-new-new-new-new-new-new-", b"old-old-old-old-old-old-old-old-"]);
        for (old, rotated) in old.into_iter().zip(rotated) {
            let value = old.encode("s", &sample()).unwrap();
            assert_eq!(rotated.decode("s", &value).unwrap().key_index, 1);
            let fresh = rotated.encode("s", &sample()).unwrap();
            assert_eq!(rotated.decode("s", &fresh).unwrap().key_index, 0);
            assert!(old.decode("s", &fresh).is_err());
        }
    }

    #[test]
    fn peeking_reads_the_claimed_times() {
        let codec = CookieCodec::signed(ring(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]));
        for permanent in [false, true] {
            let contents = CookieContents { permanent, ..sample() };
            let value = codec.encode("csrf", &contents).unwrap();
            assert_eq!(codec.peek_issued_at(value.as_bytes()), Some(contents.issued_at));
            assert_eq!(codec.peek_permanent(value.as_bytes()), Some(permanent));
        }
        for value in [&b"1.short.x"[..], b"garbage", b"1.AAAAAAAAAAA", b"1.AAAAAAAAAAAAAAAAAAAAAAA"] {
            assert_eq!(codec.peek_permanent(value), None, "{value:?}");
        }
        for issued_at in [0, 1, 1_796_050_948, -5, i64::MAX, i64::MIN, 0x0123_4567_89AB_CDEF, -0x0123_4567_89AB_CDEF] {
            let value = codec.encode("csrf", &CookieContents { issued_at, ..sample() }).unwrap();
            assert_eq!(codec.peek_issued_at(value.as_bytes()), Some(issued_at), "{issued_at}");
            for at in 2..14 {
                let mut damaged = value.clone().into_bytes();
                damaged[at] = b'.';
                assert_eq!(codec.peek_issued_at(&damaged), None, "{issued_at}, a bad character at {at}");
            }
        }
        assert_eq!(codec.peek_issued_at(b"1.short.x"), None);
        assert_eq!(codec.peek_issued_at(b"garbage"), None);
        assert_eq!(codec.peek_issued_at(b"1.AAAAAAAAAAA"), None, "11 characters hold no issue time");
    }

    #[test]
    fn oversized_values_are_refused_both_ways() {
        for codec in codecs(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]) {
            let mut big = sample();
            big.fields.insert("blob".into(), "x".repeat(4000).into());
            assert_eq!(codec.encode("s", &big).unwrap_err().kind(), ErrorKind::TooLarge);
            assert_eq!(codec.decode("s", &"1".repeat(5000)).unwrap_err().kind(), ErrorKind::TooLarge);
        }
    }

    #[cfg(feature = "codec-private")]
    #[test]
    fn private_hides_plaintext_and_never_repeats_nonces() {
        let codec = CookieCodec::private(ring(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let value = codec.encode("s", &sample()).unwrap();
            let raw = B64.decode(&value[2..]).unwrap();
            assert!(!raw.windows(12).any(|w| w == b"s3cr3t-token"));
            assert!(seen.insert(raw[..24].to_vec()), "nonce repeated");
        }
    }
}
