//! [`Key`]: the keys derived from one secret, guarded like `cookie::Key`.

use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of each derived key, in bytes.
pub const KEY_LEN: usize = 32;

/// The signing and encryption keys derived from one secret with HKDF-SHA256.
///
/// `Debug` prints no key material, equality is constant-time, and the bytes are zeroed on drop.
///
/// ```
/// use session_plus::codec::Key;
/// let key = Key::derive(b"a secret of at least thirty-two bytes!!");
/// assert_eq!(format!("{key:?}"), "Key(..)");
/// assert_eq!(key, Key::derive(b"a secret of at least thirty-two bytes!!"));
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key {
    signing: [u8; KEY_LEN],
    encryption: [u8; KEY_LEN],
    /// HMAC-SHA256 keyed with `signing`, its two key blocks already compressed, so that a cookie
    /// costs only its own blocks. Its states wipe themselves on drop (sha2's `zeroize` feature),
    /// so `Zeroize` skips it.
    #[zeroize(skip)]
    signer: Hmac<Sha256>,
}

impl Key {
    /// Derives the keys from a secret (any length; the configuration insists on 32 bytes or more).
    ///
    /// Distinct HKDF `info` strings keep the signing and encryption keys independent, so one
    /// secret can serve both without a use of one weakening the other.
    ///
    /// ```
    /// let key = session_plus::codec::Key::derive(b"another secret of at least 32 bytes");
    /// # let _ = key;
    /// ```
    pub fn derive(secret: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"session-plus"), secret);
        let mut signing = [0; KEY_LEN];
        let mut encryption = [0; KEY_LEN];
        // `expand` fails only when asked for more than 255 * 32 bytes; 32 cannot fail.
        hkdf.expand(b"session-plus cookie signing v1", &mut signing).expect("32 bytes is a valid HKDF length");
        hkdf.expand(b"session-plus cookie encryption v1", &mut encryption).expect("32 bytes is a valid HKDF length");
        // HMAC takes keys of any length; 32 bytes cannot fail.
        let signer = Hmac::new_from_slice(&signing).expect("HMAC takes keys of any length");
        Self { signing, encryption, signer }
    }

    /// The signing key itself, for tests that compute a MAC the slow way.
    #[cfg(test)]
    pub(crate) fn signing_bytes(&self) -> [u8; KEY_LEN] {
        self.signing
    }

    /// A fresh HMAC-SHA256 under the signing key: a copy of the precomputed state.
    pub(crate) fn signer(&self) -> Hmac<Sha256> {
        self.signer.clone()
    }

    #[cfg_attr(not(feature = "codec-private"), allow(dead_code))]
    pub(crate) fn encryption(&self) -> &[u8; KEY_LEN] {
        &self.encryption
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        (self.signing.ct_eq(&other.signing) & self.encryption.ct_eq(&other.encryption)).into()
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_per_secret_and_purpose() {
        let a = Key::derive(b"secret number one, thirty-two bytes");
        let b = Key::derive(b"secret number two, thirty-two bytes");
        assert_ne!(a, b);
        assert_ne!(a.signing, a.encryption);
    }
}
