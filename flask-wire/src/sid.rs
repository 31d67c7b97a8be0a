//! Server-side session ids: flask-session-plus (`str(uuid4())`) and
//! Flask-Session 0.8 (`secrets.token_urlsafe(32)`), optionally signed with
//! itsdangerous `Signer(secret, salt="flask-session", key_derivation="hmac")`
//! and SHA-1 (the same in both libraries; no timestamp, so a signed sid
//! never expires).
//!
//! The shape checks are meant to run *before* any store access: an id cookie is untrusted text,
//! and only a well-formed id should ever become part of a store key.
//!
//! ```
//! use flask_wire::sid;
//!
//! let secrets = vec![b"dev-secret-key".to_vec()];
//! let cookie = "5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d.KEaktIgFPD6h525sm7zLPSD9Cuo";
//! let id = sid::unsign(&secrets, cookie).filter(|id| sid::is_flask_session_plus(id));
//! assert_eq!(id.as_deref(), Some("5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d"));
//! ```

use std::io;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::itsdangerous::{Digest, KeyDerivation, Signer};

/// Salt of the sid signer in flask-session-plus and Flask-Session.
const SALT: &str = "flask-session";

/// The signer of id cookies, as flask-session-plus and Flask-Session build it with
/// `SESSION_USE_SIGNER`: HMAC-SHA1, salt `"flask-session"`, `hmac` key derivation. Keys newest
/// first: the first signs, every one verifies.
///
/// ```
/// use flask_wire::sid;
/// let signer = sid::signer(vec![b"new-key".to_vec(), b"old-key".to_vec()]);
/// let old = sid::sign(b"old-key", "abc");
/// assert_eq!(signer.unsign(&old), Ok(("abc", 1)));
/// assert_eq!(signer.sign("abc"), sid::sign(b"new-key", "abc"));
/// ```
pub fn signer(secret_keys: Vec<Vec<u8>>) -> Signer {
    Signer::new(secret_keys, SALT, Digest::Sha1, KeyDerivation::Hmac)
}

/// `sid ‖ "." ‖ b64u(HMAC-SHA1(HMAC-SHA1(secret, "flask-session"), sid))`: the id cookie of a
/// signed session. To sign many ids, build a [`signer`] once.
///
/// ```
/// let cookie = flask_wire::sid::sign(b"dev-secret-key", "5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d");
/// assert_eq!(cookie, "5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d.KEaktIgFPD6h525sm7zLPSD9Cuo");
/// ```
pub fn sign(secret: &[u8], sid: &str) -> String {
    signer(vec![secret.to_vec()]).sign(sid)
}

/// Verify a signed sid cookie against `secret_keys` (newest first) in constant
/// time and return the sid. The sid's *shape* is not checked here: call
/// [`is_flask_session_plus`] or [`is_flask_session`] on the result.
///
/// ```
/// use flask_wire::sid;
/// let cookie = sid::sign(b"old-key", "abc");
/// assert_eq!(sid::unsign(&[b"new-key".to_vec(), b"old-key".to_vec()], &cookie).as_deref(), Some("abc"));
/// assert_eq!(sid::unsign(&[b"new-key".to_vec()], &cookie), None);
/// ```
pub fn unsign(secret_keys: &[Vec<u8>], cookie: &str) -> Option<String> {
    signer(secret_keys.to_vec()).unsign(cookie).ok().map(|(sid, _)| sid.to_owned())
}

/// A fresh flask-session-plus sid, as `str(uuid.uuid4())` makes it: 122 random bits from the
/// operating system, lowercase hyphenated.
///
/// # Errors
///
/// The operating system gives no randomness.
///
/// ```
/// use flask_wire::sid;
/// let id = sid::new_flask_session_plus().expect("the OS has randomness");
/// assert!(sid::is_flask_session_plus(&id));
/// ```
pub fn new_flask_session_plus() -> io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

/// A fresh Flask-Session sid, as `secrets.token_urlsafe(32)` makes it: 256 random bits from
/// the operating system, in 43 characters of unpadded URL-safe base64.
///
/// # Errors
///
/// The operating system gives no randomness.
///
/// ```
/// use flask_wire::sid;
/// let id = sid::new_flask_session().expect("the OS has randomness");
/// assert!(sid::is_flask_session(&id));
/// ```
pub fn new_flask_session() -> io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `s` looks like `str(uuid.uuid4())`: 36 characters, lowercase hex
/// in the 8-4-4-4-12 layout, version nibble `4` and variant `8`, `9`, `a`
/// or `b`.
///
/// ```
/// use flask_wire::sid::is_flask_session_plus;
/// assert!(is_flask_session_plus("5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d"));
/// assert!(!is_flask_session_plus("5B6F7C1E-3D2A-4F7B-9C1D-2E3F4A5B6C7D"));
/// assert!(!is_flask_session_plus("../../etc/passwd"));
/// ```
pub fn is_flask_session_plus(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    let shape_ok = b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => matches!(c, b'0'..=b'9' | b'a'..=b'f'),
    });
    shape_ok && b[14] == b'4' && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// Whether `s` looks like `secrets.token_urlsafe(32)`: exactly 43
/// characters of `[A-Za-z0-9_-]`.
///
/// ```
/// use flask_wire::sid::is_flask_session;
/// assert!(is_flask_session("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2aB"));
/// assert!(!is_flask_session("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2a="));
/// ```
pub fn is_flask_session(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_flask_session_plus("5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d"));
        assert!(!is_flask_session_plus("5B6F7C1E-3D2A-4F7B-9C1D-2E3F4A5B6C7D"));
        assert!(!is_flask_session_plus("5b6f7c1e-3d2a-1f7b-9c1d-2e3f4a5b6c7d"));
        assert!(!is_flask_session_plus("5b6f7c1e-3d2a-4f7b-cc1d-2e3f4a5b6c7d"));
        assert!(!is_flask_session_plus("5b6f7c1e3d2a-4f7b-9c1d-2e3f4a5b6c7d0"));
        assert!(!is_flask_session_plus("admin"));
        assert!(!is_flask_session_plus("5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7é"));
        assert!(is_flask_session("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2aB"));
        assert!(!is_flask_session("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2a"));
        assert!(!is_flask_session("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2a="));
        assert!(!is_flask_session("../x"));
    }

    #[test]
    fn rotation() {
        let c = sign(b"old", "abc");
        assert_eq!(unsign(&[b"new".to_vec(), b"old".to_vec()], &c).as_deref(), Some("abc"));
        assert_eq!(unsign(&[b"new".to_vec()], &c), None);
        assert_eq!(unsign(&[], &c), None);
        assert_eq!(unsign(&[b"old".to_vec()], "abc"), None);
    }

    #[test]
    fn fresh_ids_have_their_shape_and_differ() {
        let (a, b) = (new_flask_session_plus().unwrap(), new_flask_session_plus().unwrap());
        assert!(is_flask_session_plus(&a) && is_flask_session_plus(&b) && !is_flask_session(&a));
        assert_ne!(a, b);
        let (a, b) = (new_flask_session().unwrap(), new_flask_session().unwrap());
        assert!(is_flask_session(&a) && is_flask_session(&b) && !is_flask_session_plus(&a));
        assert_ne!(a, b);
    }
}
