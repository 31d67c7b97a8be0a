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

mod key;
mod key_ring;
#[cfg(feature = "codec-private")]
mod private;
mod signed;

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
        Self {
            fields: Map::new(),
            issued_at: now,
            created_at: now,
            permanent: false,
        }
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

/// Signs or encrypts cookie sessions with a key ring.
#[derive(Debug, Clone)]
pub struct CookieCodec {
    ring: KeyRing,
    encrypt: bool,
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
        Self {
            ring,
            encrypt: false,
        }
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
        Self {
            ring,
            encrypt: true,
        }
    }

    /// Encodes `contents` as the value of cookie `name`.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] when the value would exceed [`MAX_COOKIE_LEN`];
    /// [`ErrorKind::Rng`] when the OS gives no randomness for a nonce.
    pub fn encode(&self, name: &str, contents: &CookieContents) -> Result<String, Error> {
        let body = encode_body(contents);
        let value = if self.encrypt {
            self.seal_private(name, &body)?
        } else {
            signed::seal(&self.ring, name, &body)
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
        if value.len() > MAX_COOKIE_LEN {
            return Err(Error::new(ErrorKind::TooLarge));
        }
        let (body, key_index) = if self.encrypt {
            self.open_private(name, value)?
        } else {
            signed::open(&self.ring, name, value)?
        };
        Ok(Decoded {
            contents: decode_body(&body)?,
            key_index,
        })
    }

    /// Signs a session id for an id cookie (`use_signer`), binding the cookie name.
    ///
    /// ```
    /// use session_plus::codec::{CookieCodec, Key, KeyRing};
    /// let codec = CookieCodec::signed(KeyRing::new(vec![Key::derive(&[3; 32])]).unwrap());
    /// let signed = codec.sign_id("session", "some-id");
    /// assert_eq!(codec.verify_id("session", &signed), Some("some-id"));
    /// assert_eq!(codec.verify_id("other", &signed), None);
    /// ```
    pub fn sign_id(&self, name: &str, id: &str) -> String {
        signed::sign_id(&self.ring, name, id)
    }

    /// Verifies a signed id cookie, returning the id.
    pub fn verify_id<'a>(&self, name: &str, value: &'a str) -> Option<&'a str> {
        if value.len() > MAX_COOKIE_LEN {
            return None;
        }
        signed::open_id(&self.ring, name, value)
    }

    #[cfg(feature = "codec-private")]
    fn seal_private(&self, name: &str, body: &[u8]) -> Result<String, Error> {
        private::seal(&self.ring, name, body)
    }

    #[cfg(feature = "codec-private")]
    fn open_private(&self, name: &str, value: &str) -> Result<(Vec<u8>, usize), Error> {
        private::open(&self.ring, name, value)
    }

    #[cfg(not(feature = "codec-private"))]
    fn seal_private(&self, _: &str, _: &[u8]) -> Result<String, Error> {
        Err(Error::new(ErrorKind::Unsupported))
    }

    #[cfg(not(feature = "codec-private"))]
    fn open_private(&self, _: &str, _: &str) -> Result<(Vec<u8>, usize), Error> {
        Err(Error::new(ErrorKind::Unsupported))
    }
}

const HEADER_LEN: usize = 17;
const FLAG_PERMANENT: u8 = 1;

fn encode_body(contents: &CookieContents) -> Vec<u8> {
    let mut body = Vec::with_capacity(HEADER_LEN + 64);
    body.extend_from_slice(&contents.issued_at.to_be_bytes());
    body.extend_from_slice(&contents.created_at.to_be_bytes());
    body.push(if contents.permanent {
        FLAG_PERMANENT
    } else {
        0
    });
    // Writing a `Map<String, Value>` into a Vec cannot fail: keys are strings and a Vec grows.
    serde_json::to_writer(&mut body, &contents.fields).expect("a JSON map always serializes");
    body
}

fn decode_body(body: &[u8]) -> Result<CookieContents, Error> {
    if body.len() < HEADER_LEN {
        return Err(Error::new(ErrorKind::Malformed));
    }
    let time = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&body[at..at + 8]);
        i64::from_be_bytes(bytes)
    };
    let fields = serde_json::from_slice(&body[HEADER_LEN..])
        .map_err(|_| Error::new(ErrorKind::Malformed))?;
    Ok(CookieContents {
        fields,
        issued_at: time(0),
        created_at: time(8),
        permanent: body[16] & FLAG_PERMANENT != 0,
    })
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
    /// Encryption was asked for without the `codec-private` feature.
    Unsupported,
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
        f.debug_struct("codec::Error")
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            ErrorKind::Malformed => "malformed session cookie",
            ErrorKind::Invalid => "session cookie failed verification",
            ErrorKind::TooLarge => "session cookie larger than 4096 bytes",
            ErrorKind::Rng => "the operating system's random number generator failed",
            ErrorKind::Unsupported => "encrypted cookies need the `codec-private` feature",
        })
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
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
        let mut v = vec![CookieCodec::signed(ring(secrets))];
        #[cfg(feature = "codec-private")]
        v.push(CookieCodec::private(ring(secrets)));
        v
    }

    #[test]
    fn round_trip_both_formats() {
        for codec in codecs(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]) {
            let value = codec.encode("csrf", &sample()).unwrap();
            let decoded = codec.decode("csrf", &value).unwrap();
            assert_eq!(
                decoded,
                Decoded {
                    contents: sample(),
                    key_index: 0
                }
            );
        }
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
                    assert!(
                        codec.decode("csrf", &changed).is_err(),
                        "byte {i} -> {replacement}"
                    );
                }
                // Truncations too.
                assert!(
                    codec.decode("csrf", &value[..i]).is_err(),
                    "truncated at {i}"
                );
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
            assert_eq!(
                codec.decode("data", &value).unwrap_err().kind(),
                ErrorKind::Invalid
            );
            assert_eq!(
                other.decode("csrf", &value).unwrap_err().kind(),
                ErrorKind::Invalid
            );
        }
    }

    #[test]
    fn rotation_accepts_old_keys_and_reports_them() {
        let old = codecs(&[b"old-old-old-old-old-old-old-old-"]);
        let rotated = codecs(&[
            b"new-new-new-new-new-new-new-new-",
            b"old-old-old-old-old-old-old-old-",
        ]);
        for (old, rotated) in old.into_iter().zip(rotated) {
            let value = old.encode("s", &sample()).unwrap();
            assert_eq!(rotated.decode("s", &value).unwrap().key_index, 1);
            let fresh = rotated.encode("s", &sample()).unwrap();
            assert_eq!(rotated.decode("s", &fresh).unwrap().key_index, 0);
            assert!(old.decode("s", &fresh).is_err());
        }
    }

    #[test]
    fn oversized_values_are_refused_both_ways() {
        for codec in codecs(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]) {
            let mut big = sample();
            big.fields.insert("blob".into(), "x".repeat(4000).into());
            assert_eq!(
                codec.encode("s", &big).unwrap_err().kind(),
                ErrorKind::TooLarge
            );
            assert_eq!(
                codec.decode("s", &"1".repeat(5000)).unwrap_err().kind(),
                ErrorKind::TooLarge
            );
        }
    }

    #[cfg(feature = "codec-private")]
    #[test]
    fn private_hides_plaintext_and_never_repeats_nonces() {
        use base64::Engine;
        let codec = CookieCodec::private(ring(&[b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"]));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let value = codec.encode("s", &sample()).unwrap();
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&value[2..])
                .unwrap();
            assert!(!raw.windows(12).any(|w| w == b"s3cr3t-token"));
            assert!(seen.insert(raw[..24].to_vec()), "nonce repeated");
        }
    }
}
