//! The private cookie format: XChaCha20-Poly1305, the cookie name as associated data.
//!
//! `2.<b64u(nonce ‖ ciphertext ‖ tag)>`, with a fresh 192-bit nonce from the OS for every cookie
//! (random 192-bit nonces do not repeat in practice, unlike 96-bit ones).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::{decode_base64, Error, ErrorKind, KeyRing};

const PREFIX: &str = "2.";
const NONCE_LEN: usize = 24;
const CONTEXT: &[u8] = b"session-plus private v1\0";

pub(crate) fn seal(ring: &KeyRing, name: &str, body: &[u8]) -> Result<String, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| Error::new(ErrorKind::Rng))?;
    let cipher = XChaCha20Poly1305::new(ring.newest().encryption().into());
    let aad = associated_data(name);
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: body, aad: &aad })
        .map_err(|_| Error::new(ErrorKind::TooLarge))?;
    let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(&sealed);
    let mut out = String::from(PREFIX);
    B64.encode_string(&bytes, &mut out);
    Ok(out)
}

pub(crate) fn open(ring: &KeyRing, name: &str, value: &[u8]) -> Result<(Vec<u8>, usize), Error> {
    let rest = value.strip_prefix(PREFIX.as_bytes()).ok_or(Error::new(ErrorKind::Malformed))?;
    let bytes = decode_base64(rest)?;
    if bytes.len() < NONCE_LEN {
        return Err(Error::new(ErrorKind::Malformed));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let aad = associated_data(name);
    for (index, key) in ring.iter() {
        let cipher = XChaCha20Poly1305::new(key.encryption().into());
        if let Ok(body) = cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad }) {
            return Ok((body, index));
        }
    }
    Err(Error::new(ErrorKind::Invalid))
}

fn associated_data(name: &str) -> Vec<u8> {
    [CONTEXT, name.as_bytes()].concat()
}
