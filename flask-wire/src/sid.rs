//! Server-side session ids: flask-session-plus (`str(uuid4())`) and
//! Flask-Session 0.8 (`secrets.token_urlsafe(32)`), optionally signed with
//! itsdangerous `Signer(secret, salt="flask-session", key_derivation="hmac")`
//! and SHA-1 (the same in both libraries; no timestamp, so a signed sid
//! never expires).
//!
//! The shape checks are meant to run *before* any store access.

use super::itsdangerous::{Digest, KeyDerivation, Signer};

/// Salt of the sid signer in flask-session-plus and Flask-Session.
pub const SID_SALT: &str = "flask-session";

fn sid_signer(secrets: Vec<Vec<u8>>) -> Signer {
    Signer::new(secrets, SID_SALT, Digest::Sha1, KeyDerivation::Hmac)
}

/// `sid ‖ "." ‖ b64u(HMAC-SHA1(HMAC-SHA1(secret, "flask-session"), sid))`.
pub fn sign_sid(secret: &[u8], sid: &str) -> String {
    sid_signer(vec![secret.to_vec()]).sign(sid)
}

/// Verify a signed sid cookie against `secrets` (newest first) in constant
/// time and return the sid. The sid's *shape* is not checked here: call
/// [`is_fsp_sid`] or [`is_flask_session_sid`] on the result.
pub fn unsign_sid(secrets: &[Vec<u8>], cookie: &str) -> Option<String> {
    sid_signer(secrets.to_vec()).unsign(cookie).ok().map(|(sid, _)| sid.to_owned())
}

/// Whether `s` looks like `str(uuid.uuid4())`: 36 characters, lowercase hex
/// in the 8-4-4-4-12 layout, version nibble `4` and variant `8`, `9`, `a`
/// or `b`.
pub fn is_fsp_sid(s: &str) -> bool {
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
pub fn is_flask_session_sid(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_fsp_sid("5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d"));
        assert!(!is_fsp_sid("5B6F7C1E-3D2A-4F7B-9C1D-2E3F4A5B6C7D"));
        assert!(!is_fsp_sid("5b6f7c1e-3d2a-1f7b-9c1d-2e3f4a5b6c7d"));
        assert!(!is_fsp_sid("5b6f7c1e-3d2a-4f7b-cc1d-2e3f4a5b6c7d"));
        assert!(!is_fsp_sid("5b6f7c1e3d2a-4f7b-9c1d-2e3f4a5b6c7d0"));
        assert!(!is_fsp_sid("admin"));
        assert!(!is_fsp_sid("5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7é"));
        assert!(is_flask_session_sid("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2aB"));
        assert!(!is_flask_session_sid("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2a"));
        assert!(!is_flask_session_sid("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2a="));
        assert!(!is_flask_session_sid("../x"));
    }

    #[test]
    fn rotation() {
        let c = sign_sid(b"old", "abc");
        assert_eq!(unsign_sid(&[b"new".to_vec(), b"old".to_vec()], &c).as_deref(), Some("abc"));
        assert_eq!(unsign_sid(&[b"new".to_vec()], &c), None);
        assert_eq!(unsign_sid(&[], &c), None);
        assert_eq!(unsign_sid(&[b"old".to_vec()], "abc"), None);
    }
}
