//! The signed cookie format: readable by the client, forgeable by nobody.
//!
//! `1.<b64u(body)>.<b64u(HMAC-SHA256(key, "session-plus signed v1" 0x00 name 0x00 body))>`
//!
//! The cookie name is bound into the MAC, so a value cannot move from one cookie to another, and
//! the body starts with the issue and creation times, so they cannot be changed either.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{decode_base64, url_safe, Error, ErrorKind, Key, KeyRing};

const PREFIX: &str = "1.";
const CONTEXT: &[u8] = b"session-plus signed v1\0";

pub(crate) fn seal(ring: &KeyRing, name: &str, body: &[u8]) -> String {
    let tag = mac(ring.newest(), name, body).finalize().into_bytes();
    let mut out = String::with_capacity(PREFIX.len() + (body.len() + tag.len()) * 4 / 3 + 4);
    out.push_str(PREFIX);
    B64.encode_string(body, &mut out);
    out.push('.');
    B64.encode_string(tag, &mut out);
    out
}

/// Verifies the MAC (constant time, every key of the ring) before returning the body.
pub(crate) fn open(ring: &KeyRing, name: &str, value: &[u8]) -> Result<(Vec<u8>, usize), Error> {
    let rest = value.strip_prefix(PREFIX.as_bytes()).ok_or(Error::new(ErrorKind::Malformed))?;
    let dot = memchr::memrchr(b'.', rest).ok_or(Error::new(ErrorKind::Malformed))?;
    let body = decode_base64(&rest[..dot])?;
    let tag = decode_tag(&rest[dot + 1..]).ok_or(Error::new(ErrorKind::Malformed))?;
    for (index, key) in ring.iter() {
        if mac(key, name, &body).verify_slice(&tag).is_ok() {
            return Ok((body, index));
        }
    }
    Err(Error::new(ErrorKind::Invalid))
}

/// The issue time and permanence in a signed value, NOT verified: only for deciding whether a
/// verification is worth doing.
pub(crate) fn peek_issued_at(value: &[u8]) -> Option<i64> {
    // The body starts with the issue time's 8 bytes: its first 12 base64 characters hold them (and
    // a byte more); no need to find where the body ends.
    let chars = value.strip_prefix(PREFIX.as_bytes())?.get(..12)?;
    let mut head = [0u8; 9];
    for (group, out) in chars.chunks_exact(4).zip(head.chunks_exact_mut(3)) {
        out.copy_from_slice(&url_safe::decode_group(group)?);
    }
    Some(i64::from_be_bytes(head[..8].try_into().ok()?))
}

/// The permanence in a signed value, NOT verified: bit 0 of the flags byte, the body's 17th,
/// which base64 characters 20 to 23 hold (as their group's second byte).
pub(crate) fn peek_permanent(value: &[u8]) -> Option<bool> {
    let group = url_safe::decode_group(value.strip_prefix(PREFIX.as_bytes())?.get(20..24)?)?;
    Some(group[1] & 1 != 0)
}

/// A base64 HMAC-SHA256 tag, decoded on the stack; `None` unless it is exactly 32 bytes.
fn decode_tag(text: &[u8]) -> Option<[u8; 32]> {
    let mut tag = [0u8; 32];
    if text.len() != 43 {
        return None; // the only length that decodes to 32 bytes; `decode` asserts it has room
    }
    base64_simd::URL_SAFE_NO_PAD.decode(text, base64_simd::Out::from_slice(&mut tag)).ok()?;
    Some(tag)
}

fn mac(key: &Key, name: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = key.signer();
    mac.update(CONTEXT);
    mac.update(name.as_bytes());
    mac.update(b"\0");
    mac.update(body);
    mac
}

const ID_CONTEXT: &[u8] = b"session-plus signed id v1\0";

/// `id.<b64u(HMAC-SHA256(key, context ‖ name ‖ 0x00 ‖ id))>`, for `use_signer`.
pub(crate) fn sign_id(ring: &KeyRing, name: &str, id: &str) -> String {
    let tag = id_mac(ring.newest(), name, id).finalize().into_bytes();
    format!("{id}.{}", B64.encode(tag))
}

/// The id in a signed id cookie and the index of the key that verified it (0 = the newest).
pub(crate) fn open_id<'a>(ring: &KeyRing, name: &str, value: &'a str) -> Option<(&'a str, usize)> {
    let (id, tag) = value.rsplit_once('.')?;
    let tag = decode_tag(tag.as_bytes())?;
    let index = ring.iter().find(|(_, key)| id_mac(key, name, id).verify_slice(&tag).is_ok())?.0;
    Some((id, index))
}

fn id_mac(key: &Key, name: &str, id: &str) -> Hmac<Sha256> {
    let mut mac = key.signer();
    mac.update(ID_CONTEXT);
    mac.update(name.as_bytes());
    mac.update(b"\0");
    mac.update(id.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(vec![Key::derive(b"a secret of at least thirty-two bytes!!")]).expect("one key")
    }

    /// The precomputed state gives the tag a fresh HMAC under the signing key gives, across the
    /// block boundaries of the message (context, name and body) and of the key's own blocks.
    #[test]
    fn precomputed_state_gives_the_plain_hmac() {
        let ring = ring();
        for len in 0..300 {
            let body: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let mut fresh = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&ring.newest().signing_bytes())
                .expect("HMAC takes keys of any length");
            fresh.update(CONTEXT);
            fresh.update(b"csrf\0");
            fresh.update(&body);
            let expected = B64.encode(fresh.finalize().into_bytes());
            let sealed = seal(&ring, "csrf", &body);
            assert!(sealed.ends_with(&format!(".{expected}")), "body of {len} bytes");
            assert_eq!(open(&ring, "csrf", sealed.as_bytes()).map(|(b, _)| b), Ok(body));
        }
    }

    /// Using the state for one cookie leaves it unchanged for the next (it is copied, not reset).
    #[test]
    fn each_tag_starts_from_the_same_state() {
        let ring = ring();
        let first = seal(&ring, "csrf", b"one");
        let _ = seal(&ring, "csrf", b"something else entirely");
        assert_eq!(seal(&ring, "csrf", b"one"), first);
        assert_eq!(open_id(&ring, "sid", &sign_id(&ring, "sid", "abc")), Some(("abc", 0)));
    }

    proptest::proptest! {
        /// A tag is what `base64` decodes to exactly 32 bytes, and nothing else.
        #[test]
        fn tags_decode_as_the_base64_crate_does(text in super::super::tests::mostly_base64(50)) {
            let mut expected = [0u8; 33];
            let expected = matches!(B64.decode_slice(&text, &mut expected), Ok(32)).then(|| expected[..32].to_vec());
            proptest::prop_assert_eq!(decode_tag(&text).map(|tag| tag.to_vec()), expected);
        }
    }

    #[test]
    fn a_changed_byte_fails() {
        let ring = ring();
        let sealed = seal(&ring, "csrf", b"body");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");
        assert_eq!(open(&ring, "csrf", tampered.as_bytes()).map_err(|e| e.kind()), Err(ErrorKind::Invalid));
        assert_eq!(open(&ring, "other", sealed.as_bytes()).map_err(|e| e.kind()), Err(ErrorKind::Invalid));
    }
}
