//! Session ids: random, checked for shape before any store sees them.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::codec::url_safe::{INVALID, VALUE};

/// Bytes of randomness in an id: 256 bits, from the operating system's CSPRNG.
pub const ID_BYTES: usize = 32;
/// Length of an id's text: 32 bytes in unpadded URL-safe base64.
pub const ID_LEN: usize = 43;

/// A session id: 256 random bits, written as 43 URL-safe base64 characters.
///
/// `Debug` hides the value so ids do not end up in logs.
///
/// ```
/// use session_plus::session::Id;
/// let id = Id::random().expect("the OS has randomness");
/// assert_eq!(id.as_str().len(), 43);
/// assert_eq!(Id::parse(id.as_str()), Some(id.clone()));
/// assert_eq!(Id::parse("admin"), None);
/// assert_eq!(format!("{id:?}"), "Id(..)");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Id {
    /// The id's text (ASCII), zeros after `len`: inline, so that reading an id from a cookie or
    /// copying it allocates nothing.
    text: [u8; ID_LEN],
    len: u8,
}

impl Id {
    /// A fresh id from the operating system's CSPRNG.
    ///
    /// # Errors
    /// The operating system gives no randomness (then no session can be created safely).
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; ID_BYTES];
        getrandom::fill(&mut bytes)?;
        let mut text = [0u8; ID_LEN];
        // 32 bytes encode to exactly ID_LEN characters: the slice is never too small.
        let len = B64.encode_slice(bytes, &mut text).expect("32 bytes fill 43 base64 characters exactly");
        Ok(Self { text, len: len as u8 })
    }

    /// Checks the shape of untrusted text: exactly 43 characters of URL-safe base64 that decode
    /// to 32 bytes canonically. Nothing else is ever sent to a store.
    pub fn parse(text: &str) -> Option<Self> {
        // 43 characters carry 258 bits for 256: the text is canonical base64 of 32 bytes exactly
        // when every character is in the alphabet and the last one's two low bits are zero. Checked
        // with a table rather than decoded (`canonical_ids_are_what_base64_decodes` shows the same).
        let [body @ .., last] = text.as_bytes() else { return None };
        let shape = text.len() == ID_LEN
            && body.iter().all(|&b| VALUE[usize::from(b)] != INVALID)
            && VALUE[usize::from(*last)] & 0b1000_0011 == 0;
        shape.then(|| Self::from_ascii(text))
    }

    /// A fresh random (version 4) UUID in its hyphenated lowercase form, as flask-session-plus
    /// makes its sids: 122 random bits from the OS.
    ///
    /// # Errors
    /// The operating system gives no randomness.
    ///
    /// ```
    /// let id = session_plus::session::Id::random_uuid().unwrap();
    /// assert_eq!(session_plus::session::Id::parse_uuid(id.as_str()), Some(id));
    /// ```
    pub fn random_uuid() -> Result<Self, getrandom::Error> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b)?;
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
        Ok(Self::from_ascii(&format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])))
    }

    /// Checks the shape of a Flask-Session sid: 43 URL-safe base64 characters, as
    /// `secrets.token_urlsafe(32)` makes them (not checked for canonical padding bits: Python
    /// treats the sid as an opaque string).
    pub fn parse_token(text: &str) -> Option<Self> {
        let shape = text.len() == ID_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shape.then(|| Self::from_ascii(text))
    }

    /// Checks the shape of a flask-session-plus sid: a lowercase hyphenated UUID.
    pub fn parse_uuid(text: &str) -> Option<Self> {
        let shape = text.len() == 36
            && text.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            });
        shape.then(|| Self::from_ascii(text))
    }

    /// An id of `text`, which its constructor checked: ASCII, at most [`ID_LEN`] bytes.
    fn from_ascii(text: &str) -> Self {
        let mut inline = [0u8; ID_LEN];
        let len = text.len().min(ID_LEN);
        inline[..len].copy_from_slice(&text.as_bytes()[..len]);
        Self { text: inline, len: len as u8 } // len <= ID_LEN (43): no truncation
    }

    /// The id's text, as it goes in the cookie.
    pub fn as_str(&self) -> &str {
        // ASCII by construction: the check always passes, and costs a few instructions.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Id(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The table check accepts exactly the texts base64's canonical decoder turns into 32 bytes:
    /// every last character after a valid body, every byte value anywhere, and wrong lengths.
    #[test]
    fn canonical_ids_are_what_base64_decodes() {
        let decodes = |text: &[u8]| {
            let mut out = [0u8; ID_BYTES + 1];
            matches!(B64.decode_slice(text, &mut out), Ok(ID_BYTES))
        };
        let base = Id::random().expect("randomness").as_str().as_bytes().to_vec();
        for position in [0, 1, 20, ID_LEN - 2, ID_LEN - 1] {
            for byte in 0..=255u8 {
                let mut text = base.clone();
                text[position] = byte;
                let parsed = std::str::from_utf8(&text).ok().and_then(Id::parse).is_some();
                assert_eq!(parsed, decodes(&text), "byte {byte:#04x} at {position}");
            }
        }
        for len in [0, 1, 42, 44, 64] {
            let text = "A".repeat(len);
            assert_eq!(Id::parse(&text).is_some(), decodes(text.as_bytes()), "length {len}");
        }
    }

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let id = Id::random().unwrap();
            assert_eq!(Id::parse(id.as_str()).as_ref(), Some(&id));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn ids_look_random_per_position() {
        // Each of the 42 full positions takes each of the 64 symbols about equally often.
        const N: usize = 64_000;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut counts = vec![[0u32; 64]; 42];
        for _ in 0..N {
            let id = Id::random().unwrap();
            for (pos, b) in id.as_str().bytes().take(42).enumerate() {
                let sym = alphabet.iter().position(|&a| a == b).unwrap();
                counts[pos][sym] += 1;
            }
        }
        let expected = N as f64 / 64.0;
        for (pos, row) in counts.iter().enumerate() {
            let chi2: f64 = row.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
            // 63 degrees of freedom: p = 1e-6 at about 125; a sound generator stays far below.
            assert!(chi2 < 125.0, "position {pos}: chi-square {chi2}");
        }
    }

    #[test]
    fn hostile_ids_are_rejected() {
        let long = "a".repeat(10_000);
        let ok = Id::random().unwrap();
        let mut crlf = ok.as_str().to_owned();
        crlf.replace_range(0..2, "\r\n");
        // 32 bytes leave 2 spare bits in the last character; 'B' (value 1) sets one of them.
        let non_canonical = format!("{}B", &ok.as_str()[..42]);
        for bad in ["admin", "../x", "*", "", &long, "é".repeat(43).as_str(), &crlf, &non_canonical] {
            assert_eq!(Id::parse(bad), None, "{bad:?}");
        }
    }
}
