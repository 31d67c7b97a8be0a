//! itsdangerous `Signer`, `TimestampSigner` and `URLSafeTimedSerializer`
//! as used by Flask's cookie sessions, byte for byte.
//!
//! [`TimedSerializer::flask`] reads and writes Flask's cookie sessions,
//! [`TimedSerializer::flask_session_plus`] flask-session-plus's; [`TimedSerializer::new`]
//! takes any salt, [`Digest`] and [`KeyDerivation`]. Keys are given newest first: the first
//! signs, every one verifies, so secrets can rotate as with Flask's `SECRET_FALLBACKS`.
//!
//! ```
//! use flask_wire::itsdangerous::{Error, TimedSerializer};
//! use serde_json::json;
//!
//! let flask = TimedSerializer::flask(vec![b"new-key".to_vec(), b"old-key".to_vec()]);
//! let session = json!({"user_id": 42});
//! let cookie = flask.dumps(session.as_object().unwrap(), 1_700_000_000).unwrap();
//!
//! let loaded = flask.loads(&cookie, 1_700_000_060, Some(3600)).unwrap();
//! assert_eq!(loaded.session["user_id"], 42);
//! assert_eq!((loaded.timestamp, loaded.key_index), (1_700_000_000, 0));
//! assert_eq!(
//!     flask.loads(&cookie, 1_700_003_601, Some(3600)),
//!     Err(Error::Expired { age: 3601, max_age: 3600 })
//! );
//! ```
//!
//! Differences from Python (all on the *accepting* side; everything Python
//! emits is accepted, everything we emit is what Python emits):
//!
//! * base64 is decoded strictly (URL-safe alphabet, no padding, no stray
//!   characters, zero trailing bits). Python also accepts a signature whose
//!   last character has different unused bits, or with junk appended; it
//!   never produces such signatures.
//! * Timestamps in the future are always rejected ([`Error::FutureTimestamp`]);
//!   itsdangerous 2.x rejects them only when a `max_age` is given, 1.x never.
//! * The inflated payload is capped ([`TimedSerializer::with_max_inflated_size`]).
//! * There is no implicit SHA-512/`django-concat` fallback signer (the one
//!   itsdangerous 1.1 had); build a second [`TimedSerializer`] if you need it.

use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use digest::Digest as _;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::tagged_json;

/// Hash function used for key derivation and the HMAC.
///
/// Parsed from itsdangerous' names (`hashlib` names): `"sha1"`, `"sha256"`, `"sha3_256"`,
/// `"sha512"`.
///
/// ```
/// use flask_wire::itsdangerous::Digest;
/// assert_eq!("sha3_256".parse(), Ok(Digest::Sha3_256));
/// assert!("md5".parse::<Digest>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-1 (Flask's default).
    Sha1,
    /// SHA-256.
    Sha256,
    /// FIPS-202 SHA3-256 (flask-session-plus `secure_cookie`).
    Sha3_256,
    /// SHA-512 (itsdangerous 1.1's fallback signer).
    Sha512,
}

/// How the signing key is derived from the secret (itsdangerous `key_derivation`).
///
/// Parsed from itsdangerous' names: `"concat"`, `"django-concat"`, `"hmac"`, `"none"`.
///
/// ```
/// use flask_wire::itsdangerous::KeyDerivation;
/// assert_eq!("django-concat".parse(), Ok(KeyDerivation::DjangoConcat));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyDerivation {
    /// `H(salt ‖ secret)`.
    Concat,
    /// `H(salt ‖ "signer" ‖ secret)` (itsdangerous' `Signer` default).
    DjangoConcat,
    /// `HMAC_H(key = secret, msg = salt)` (what Flask uses).
    Hmac,
    /// The secret itself.
    None,
}

/// Error returned when parsing a [`Digest`] or [`KeyDerivation`] name fails.
///
/// ```
/// use flask_wire::itsdangerous::Digest;
/// let error = "md5".parse::<Digest>().unwrap_err();
/// assert_eq!(error.name(), "md5");
/// assert_eq!(error.to_string(), r#"unknown name "md5""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(String);

impl UnknownName {
    /// The name that was not recognised.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name {:?}", self.0)
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Digest {
    type Err = UnknownName;

    /// Parses `"sha1"`, `"sha256"`, `"sha3_256"` or `"sha512"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha1" => Ok(Digest::Sha1),
            "sha256" => Ok(Digest::Sha256),
            "sha3_256" => Ok(Digest::Sha3_256),
            "sha512" => Ok(Digest::Sha512),
            other => Err(UnknownName(other.to_owned())),
        }
    }
}

impl FromStr for KeyDerivation {
    type Err = UnknownName;

    /// Parses `"concat"`, `"django-concat"`, `"hmac"` or `"none"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "concat" => Ok(KeyDerivation::Concat),
            "django-concat" => Ok(KeyDerivation::DjangoConcat),
            "hmac" => Ok(KeyDerivation::Hmac),
            "none" => Ok(KeyDerivation::None),
            other => Err(UnknownName(other.to_owned())),
        }
    }
}

macro_rules! with_digest {
    ($digest:expr, $d:ident => $body:expr) => {
        match $digest {
            Digest::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            Digest::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            Digest::Sha3_256 => {
                type $d = sha3::Sha3_256;
                $body
            }
            Digest::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
        }
    };
}

impl Digest {
    /// `H(parts[0] ‖ parts[1] ‖ ...)`.
    fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        with_digest!(self, D => {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        })
    }

    /// `HMAC_H(key, parts[0] ‖ parts[1] ‖ ...)`.
    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        with_digest!(self, D => {
            // HMAC accepts keys of any length; `new_from_slice` cannot fail.
            let mut m = <Hmac<D> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        })
    }

    /// Length of the b64u signature this digest produces.
    fn signature_len(self) -> usize {
        match self {
            Digest::Sha1 => 27,
            Digest::Sha256 | Digest::Sha3_256 => 43,
            Digest::Sha512 => 86,
        }
    }
}

/// Errors from signing, unsigning and (de)serializing.
///
/// Only [`Error::BadSignature`] means the value is forged or signed with another key; every other
/// variant is reported after the MAC verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No separator, or the MAC matches none of the keys.
    BadSignature,
    /// The MAC is valid but the signature is older than `max_age`.
    Expired {
        /// `now - timestamp`.
        age: u64,
        /// The limit that was exceeded.
        max_age: u64,
    },
    /// The MAC is valid but the timestamp lies after `now`.
    FutureTimestamp,
    /// The MAC is valid but the timestamp segment is not b64u of at most 8 bytes.
    MalformedTimestamp,
    /// The MAC is valid but the payload is not base64 / zlib / TaggedJSON of
    /// an object (Flask answers this with HTTP 500).
    BadPayload(String),
    /// The MAC is valid but the payload inflates beyond the configured cap.
    TooLarge,
    /// The session could not be serialized.
    Serialize(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadSignature => write!(f, "bad signature"),
            Error::Expired { age, max_age } => {
                write!(f, "signature age {age} > {max_age} seconds")
            }
            Error::FutureTimestamp => write!(f, "signature timestamp is in the future"),
            Error::MalformedTimestamp => write!(f, "malformed timestamp"),
            Error::BadPayload(msg) => write!(f, "bad payload: {msg}"),
            Error::TooLarge => write!(f, "payload inflates beyond the size limit"),
            Error::Serialize(msg) => write!(f, "cannot serialize session: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<tagged_json::Error> for Error {
    fn from(e: tagged_json::Error) -> Self {
        Error::BadPayload(e.to_string())
    }
}

/// Compare two byte strings in constant time (for equal lengths).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// itsdangerous `Signer` (and `TimestampSigner` via the `*_timestamped`
/// methods) with key rotation.
///
/// `Debug` shows how many keys there are, never their bytes.
///
/// ```
/// use flask_wire::itsdangerous::{Digest, KeyDerivation, Signer};
///
/// // itsdangerous.Signer(b"dev-secret-key"): salt "itsdangerous.Signer", SHA-1, django-concat.
/// let keys = vec![b"dev-secret-key".to_vec()];
/// let signer = Signer::new(keys, "itsdangerous.Signer", Digest::Sha1, KeyDerivation::DjangoConcat);
/// let signed = signer.sign("hello");
/// assert_eq!(signer.unsign(&signed), Ok(("hello", 0)));
/// ```
#[derive(Clone)]
pub struct Signer {
    /// Derived keys, newest first; wiped when the signer is dropped.
    keys: Vec<Zeroizing<Vec<u8>>>,
    digest: Digest,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("digest", &self.digest)
            .finish()
    }
}

impl Signer {
    /// Build a signer. `secret_keys` are ordered **newest first**: the first
    /// signs, all verify (newest to oldest). Keys are derived here, once.
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Digest, KeyDerivation, Signer};
    /// let signer = Signer::new(vec![b"secret".to_vec()], "my-salt", Digest::Sha256, KeyDerivation::Hmac);
    /// assert_eq!(signer.digest(), Digest::Sha256);
    /// ```
    pub fn new(secret_keys: Vec<Vec<u8>>, salt: impl Into<Vec<u8>>, digest: Digest, derivation: KeyDerivation) -> Self {
        let salt = salt.into();
        let keys = secret_keys
            .into_iter()
            .map(|secret| {
                // The caller's secrets are wiped here too, once derived.
                let secret = Zeroizing::new(secret);
                Zeroizing::new(match derivation {
                    KeyDerivation::Concat => digest.hash(&[&salt, &secret]),
                    KeyDerivation::DjangoConcat => digest.hash(&[&salt, b"signer", &secret]),
                    KeyDerivation::Hmac => digest.hmac(&secret, &[&salt]),
                    KeyDerivation::None => secret.to_vec(),
                })
            })
            .collect();
        Signer { keys, digest }
    }

    /// The digest in use.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The derived key at `index` (0 = newest), for the tests against the Python vectors.
    #[cfg(test)]
    fn derived_key(&self, index: usize) -> Option<&[u8]> {
        self.keys.get(index).map(|key| key.as_slice())
    }

    fn signature(&self, key: &[u8], value: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.digest.hmac(key, &[value]))
    }

    /// `value ‖ "." ‖ b64u(HMAC(key, value))` with the newest key.
    ///
    /// With no keys at all the result carries an empty-key MAC, which no
    /// signer with a real key accepts.
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Digest, KeyDerivation, Signer};
    /// let keys = vec![b"dev-secret-key".to_vec()];
    /// let signer = Signer::new(keys, "itsdangerous.Signer", Digest::Sha1, KeyDerivation::DjangoConcat);
    /// assert_eq!(signer.sign("hello"), "hello.42I2uQ2moi3__Q4cP50ARxZhGr0");
    /// ```
    pub fn sign(&self, value: &str) -> String {
        let key = self.keys.first().map(|key| key.as_slice()).unwrap_or_default();
        format!("{value}.{}", self.signature(key, value.as_bytes()))
    }

    /// Split at the last `'.'` and verify the MAC in constant time, trying
    /// keys newest first. Returns the value and the index of the matching key.
    ///
    /// # Errors
    ///
    /// [`Error::BadSignature`] when there is no `'.'` or no key's MAC matches.
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Digest, Error, KeyDerivation, Signer};
    /// let old = Signer::new(vec![b"old".to_vec()], "salt", Digest::Sha1, KeyDerivation::Hmac);
    /// let both = Signer::new(vec![b"new".to_vec(), b"old".to_vec()], "salt", Digest::Sha1, KeyDerivation::Hmac);
    /// let signed = old.sign("value");
    /// assert_eq!(both.unsign(&signed), Ok(("value", 1)));
    /// assert_eq!(both.unsign("value.forged"), Err(Error::BadSignature));
    /// ```
    pub fn unsign<'a>(&self, signed: &'a str) -> Result<(&'a str, usize), Error> {
        let (value, sig) = signed.rsplit_once('.').ok_or(Error::BadSignature)?;
        // Strict b64u: the only accepted text is the canonical encoding of
        // the MAC, so comparing encodings is comparing MACs.
        if sig.len() != self.digest.signature_len() {
            return Err(Error::BadSignature);
        }
        for (index, key) in self.keys.iter().enumerate() {
            let expected = self.signature(key, value.as_bytes());
            if ct_eq(expected.as_bytes(), sig.as_bytes()) {
                return Ok((value, index));
            }
        }
        Err(Error::BadSignature)
    }

    /// itsdangerous `TimestampSigner.sign`:
    /// `value ‖ "." ‖ b64u(ts) ‖ "." ‖ b64u(HMAC(key, value ‖ "." ‖ b64u(ts)))`,
    /// where `ts` is big-endian with leading zero bytes stripped.
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Digest, KeyDerivation, Signer};
    /// let keys = vec![b"dev-secret-key".to_vec()];
    /// let signer = Signer::new(keys, "itsdangerous.Signer", Digest::Sha1, KeyDerivation::DjangoConcat);
    /// assert_eq!(signer.sign_timestamped("hello", 1_700_000_000), "hello.ZVPxAA.2Fo15x2qeewoCz8bJoE1_QLqmtQ");
    /// ```
    pub fn sign_timestamped(&self, value: &str, timestamp: u64) -> String {
        self.sign(&format!("{value}.{}", encode_timestamp(timestamp)))
    }

    /// itsdangerous 2.x `TimestampSigner.unsign`: verify the MAC, then parse
    /// the timestamp, reject it if it is after `now`, and if `max_age` is
    /// given reject it when `now - ts > max_age`.
    ///
    /// Returns the value, the timestamp and the index of the matching key.
    ///
    /// # Errors
    ///
    /// [`Error::BadSignature`], then (the MAC verified) [`Error::MalformedTimestamp`],
    /// [`Error::FutureTimestamp`] or [`Error::Expired`].
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Digest, Error, KeyDerivation, Signer};
    /// let signer = Signer::new(vec![b"key".to_vec()], "salt", Digest::Sha1, KeyDerivation::Hmac);
    /// let signed = signer.sign_timestamped("hello", 1_700_000_000);
    /// assert_eq!(signer.unsign_timestamped(&signed, 1_700_000_010, Some(10)), Ok(("hello", 1_700_000_000, 0)));
    /// assert_eq!(
    ///     signer.unsign_timestamped(&signed, 1_700_000_011, Some(10)),
    ///     Err(Error::Expired { age: 11, max_age: 10 })
    /// );
    /// ```
    pub fn unsign_timestamped<'a>(
        &self,
        signed: &'a str,
        now: u64,
        max_age: Option<u64>,
    ) -> Result<(&'a str, u64, usize), Error> {
        let (value_ts, index) = self.unsign(signed)?;
        let (value, ts) = value_ts.rsplit_once('.').ok_or(Error::BadSignature)?;
        let timestamp = decode_timestamp(ts)?;
        let age = now.checked_sub(timestamp).ok_or(Error::FutureTimestamp)?;
        if let Some(max_age) = max_age
            && age > max_age
        {
            return Err(Error::Expired { age, max_age });
        }
        Ok((value, timestamp, index))
    }
}

/// b64u of the big-endian timestamp with leading zero bytes stripped
/// (1700000000 → `"ZVPxAA"`).
fn encode_timestamp(timestamp: u64) -> String {
    let bytes = timestamp.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    URL_SAFE_NO_PAD.encode(&bytes[skip..])
}

/// Inverse of [`encode_timestamp`]; more than 8 bytes is malformed.
fn decode_timestamp(segment: &str) -> Result<u64, Error> {
    if segment.len() > 11 {
        return Err(Error::MalformedTimestamp);
    }
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| Error::MalformedTimestamp)?;
    if bytes.len() > 8 {
        return Err(Error::MalformedTimestamp);
    }
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Default cap on the inflated payload size of a [`TimedSerializer`]: 64 KiB.
pub const DEFAULT_MAX_INFLATED_SIZE: usize = 64 * 1024;

/// A session loaded by [`TimedSerializer::loads`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Loaded {
    /// The session, untagged as described in [`crate::tagged_json`].
    pub session: Map<String, Value>,
    /// The signing time (Unix seconds).
    pub timestamp: u64,
    /// Index (0 = newest) of the key whose MAC matched.
    pub key_index: usize,
}

/// itsdangerous `URLSafeTimedSerializer` with Flask's TaggedJSON serializer: what
/// `session_interface.get_signing_serializer(app)` builds.
///
/// See the [module docs](self) for an example. Payloads inflate to at most
/// [`DEFAULT_MAX_INFLATED_SIZE`] unless [`TimedSerializer::with_max_inflated_size`] says otherwise.
#[derive(Debug, Clone)]
pub struct TimedSerializer {
    signer: Signer,
    max_inflated_size: usize,
}

impl TimedSerializer {
    /// Flask's `SecureCookieSessionInterface` defaults: salt
    /// `"cookie-session"`, SHA-1, `hmac` derivation. Keys newest first
    /// (`SECRET_KEY`, then `SECRET_FALLBACKS` from the newest).
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Digest, TimedSerializer};
    /// let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
    /// assert_eq!(flask.signer().digest(), Digest::Sha1);
    /// ```
    pub fn flask(secret_keys: Vec<Vec<u8>>) -> Self {
        Self::new(secret_keys, "cookie-session", Digest::Sha1, KeyDerivation::Hmac)
    }

    /// flask-session-plus `secure_cookie`: like [`TimedSerializer::flask`]
    /// but with SHA3-256.
    ///
    /// ```
    /// use flask_wire::itsdangerous::TimedSerializer;
    /// let fsp = TimedSerializer::flask_session_plus(vec![b"dev-secret-key".to_vec()]);
    /// let cookie = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.TMcz2tGrNLkTCUYG9gH7_683iN_os1VMtayAWSYhkCo";
    /// assert_eq!(fsp.loads(cookie, 1_700_000_000, None).unwrap().session["csrf_token"], "abc");
    /// ```
    pub fn flask_session_plus(secret_keys: Vec<Vec<u8>>) -> Self {
        Self::new(secret_keys, "cookie-session", Digest::Sha3_256, KeyDerivation::Hmac)
    }

    /// Any salt, digest and derivation. Keys newest first.
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Digest, KeyDerivation, TimedSerializer};
    /// // itsdangerous 1.1's implicit fallback signer, for old cookies.
    /// let legacy = TimedSerializer::new(
    ///     vec![b"dev-secret-key".to_vec()],
    ///     "cookie-session",
    ///     Digest::Sha512,
    ///     KeyDerivation::DjangoConcat,
    /// );
    /// # let _ = legacy;
    /// ```
    pub fn new(secret_keys: Vec<Vec<u8>>, salt: impl Into<Vec<u8>>, digest: Digest, derivation: KeyDerivation) -> Self {
        TimedSerializer {
            signer: Signer::new(secret_keys, salt, digest, derivation),
            max_inflated_size: DEFAULT_MAX_INFLATED_SIZE,
        }
    }

    /// Set the cap on the inflated payload (default 64 KiB).
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Error, TimedSerializer};
    /// use serde_json::json;
    /// let big = json!({"data": "x".repeat(1000)});
    /// let flask = TimedSerializer::flask(vec![b"key".to_vec()]);
    /// let cookie = flask.dumps(big.as_object().unwrap(), 1_700_000_000).unwrap();
    /// let strict = flask.clone().with_max_inflated_size(512);
    /// assert_eq!(strict.loads(&cookie, 1_700_000_000, None), Err(Error::TooLarge));
    /// ```
    pub fn with_max_inflated_size(mut self, bytes: usize) -> Self {
        self.max_inflated_size = bytes;
        self
    }

    /// The underlying timestamp signer.
    ///
    /// ```
    /// use flask_wire::itsdangerous::TimedSerializer;
    /// let flask = TimedSerializer::flask(vec![b"key".to_vec()]);
    /// let cookie = flask.dumps(&serde_json::Map::new(), 1_700_000_000).unwrap();
    /// let (_, issued_at, _) = flask.signer().unsign_timestamped(&cookie, u64::MAX, None).unwrap();
    /// assert_eq!(issued_at, 1_700_000_000);
    /// ```
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Serialize, compress exactly as itsdangerous decides, and sign with
    /// the given timestamp (Unix seconds).
    ///
    /// # Errors
    ///
    /// [`Error::Serialize`] when the session nests deeper than [`tagged_json::MAX_DEPTH`].
    ///
    /// ```
    /// use flask_wire::itsdangerous::TimedSerializer;
    /// use serde_json::json;
    /// let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
    /// let session = json!({"csrf_token": "abc", "user_id": 42});
    /// assert_eq!(
    ///     flask.dumps(session.as_object().unwrap(), 1_700_000_000).unwrap(),
    ///     "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284"
    /// );
    /// ```
    pub fn dumps(&self, session: &Map<String, Value>, timestamp: u64) -> Result<String, Error> {
        let json = tagged_json::dumps_object(session).map_err(|e| Error::Serialize(e.to_string()))?;
        self.dumps_text(&json, timestamp)
    }

    /// Like [`TimedSerializer::dumps`] for an already serialized payload
    /// (for example TaggedJSON containing `" t"` tuples, which the
    /// `Value` mapping cannot express). The text is signed as is.
    ///
    /// # Errors
    ///
    /// [`Error::Serialize`] if zlib fails.
    ///
    /// ```
    /// use flask_wire::itsdangerous::TimedSerializer;
    /// let flask = TimedSerializer::flask(vec![b"key".to_vec()]);
    /// // session["point"] = (1, 2) in Flask.
    /// let cookie = flask.dumps_text(r#"{"point":{" t":[1,2]}}"#, 1_700_000_000).unwrap();
    /// let (text, _, _) = flask.loads_text(&cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(text, r#"{"point":{" t":[1,2]}}"#);
    /// ```
    pub fn dumps_text(&self, payload: &str, timestamp: u64) -> Result<String, Error> {
        let payload = payload.as_bytes();
        let compressed = zlib_compress(payload)?;
        // itsdangerous: compress only if len(Z) < len(P) - 1.
        let segment = if compressed.len() + 1 < payload.len() {
            format!(".{}", URL_SAFE_NO_PAD.encode(&compressed))
        } else {
            URL_SAFE_NO_PAD.encode(payload)
        };
        Ok(self.signer.sign_timestamped(&segment, timestamp))
    }

    /// Verify the MAC (constant time, newest key first) **before** anything
    /// else, then the timestamp (future → error; `age > max_age` → expired),
    /// then decode, inflate (capped) and untag the payload.
    ///
    /// `now` is the current Unix time; `max_age` is Flask's `PERMANENT_SESSION_LIFETIME` in
    /// seconds (Flask always passes it), or `None` to accept any age.
    ///
    /// # Errors
    ///
    /// Every [`Error`] but [`Error::Serialize`]; see [`Error`] for which ones follow a valid MAC.
    ///
    /// ```
    /// use flask_wire::itsdangerous::{Error, TimedSerializer};
    /// let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
    /// let cookie = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";
    /// assert_eq!(flask.loads(cookie, 1_700_000_000, None).unwrap().session["csrf_token"], "abc");
    /// assert_eq!(flask.loads(cookie, 1_600_000_000, None), Err(Error::FutureTimestamp));
    /// let other = TimedSerializer::flask(vec![b"another-key".to_vec()]);
    /// assert_eq!(other.loads(cookie, 1_700_000_000, None), Err(Error::BadSignature));
    /// ```
    pub fn loads(&self, cookie: &str, now: u64, max_age: Option<u64>) -> Result<Loaded, Error> {
        let (text, timestamp, key_index) = self.loads_text(cookie, now, max_age)?;
        match tagged_json::loads(&text)? {
            Value::Object(session) => Ok(Loaded { session, timestamp, key_index }),
            _ => Err(Error::BadPayload("session is not a JSON object".to_owned())),
        }
    }

    /// Like [`TimedSerializer::loads`] but stops before parsing: returns the
    /// payload text (UTF-8 checked), the timestamp and the key index.
    ///
    /// # Errors
    ///
    /// Like [`TimedSerializer::loads`], except that the text is not parsed.
    ///
    /// ```
    /// use flask_wire::itsdangerous::TimedSerializer;
    /// let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
    /// let cookie = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";
    /// let (text, timestamp, key_index) = flask.loads_text(cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(text, r#"{"csrf_token":"abc","user_id":42}"#);
    /// assert_eq!((timestamp, key_index), (1_700_000_000, 0));
    /// ```
    pub fn loads_text(&self, cookie: &str, now: u64, max_age: Option<u64>) -> Result<(String, u64, usize), Error> {
        let (segment, timestamp, key_index) = self.signer.unsign_timestamped(cookie, now, max_age)?;
        let raw = match segment.strip_prefix('.') {
            Some(compressed) => inflate_capped(&b64u_decode(compressed)?, self.max_inflated_size)?,
            None => b64u_decode(segment)?,
        };
        let text = String::from_utf8(raw).map_err(|e| Error::BadPayload(e.to_string()))?;
        Ok((text, timestamp, key_index))
    }
}

fn b64u_decode(text: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD.decode(text).map_err(|e| Error::BadPayload(format!("base64: {e}")))
}

/// `zlib.compress(data)`: zlib container, level 6, 32 KiB window.
fn zlib_compress(data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut c = Compress::new(Compression::new(6), true);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = usize::try_from(c.total_in()).map_err(|e| Error::Serialize(e.to_string()))?;
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(64));
        }
        let status = c
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)
            .map_err(|e| Error::Serialize(format!("zlib: {e}")))?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
    }
}

/// Inflate a zlib stream, failing with [`Error::TooLarge`] as soon as the
/// output would exceed `cap` bytes; never allocates more than `cap` bytes
/// (plus an 8 KiB scratch buffer) for the output.
fn inflate_capped(input: &[u8], cap: usize) -> Result<Vec<u8>, Error> {
    let mut d = Decompress::new(true);
    let mut out: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let consumed = usize::try_from(d.total_in()).map_err(|_| Error::TooLarge)?;
        let before_in = d.total_in();
        let before_out = d.total_out();
        let status = d
            .decompress(&input[consumed.min(input.len())..], &mut buf, FlushDecompress::None)
            .map_err(|e| Error::BadPayload(format!("zlib: {e}")))?;
        let produced = usize::try_from(d.total_out() - before_out).map_err(|_| Error::TooLarge)?;
        let needed = out.len().checked_add(produced).ok_or(Error::TooLarge)?;
        if needed > cap {
            return Err(Error::TooLarge);
        }
        if needed > out.capacity() {
            let target = out.capacity().saturating_mul(2).max(needed).min(cap);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(&buf[..produced]);
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                if produced == 0 && d.total_in() == before_in {
                    return Err(Error::BadPayload("zlib: incomplete or truncated stream".to_owned()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
