//! [`KeyRing`]: sign with the newest key, accept the others.

use super::Key;

/// The secret keys, newest first.
///
/// Cookies are signed (or encrypted) with the newest key and accepted under any key of the ring;
/// a cookie accepted under an older key is re-issued under the newest one on the same response,
/// so rotating a key is: put the new key first, keep the old one for one session lifetime, drop it.
///
/// ```
/// use session_plus::codec::{Key, KeyRing};
/// let ring = KeyRing::new(vec![
///     Key::derive(b"the new secret, thirty-two bytes long"),
///     Key::derive(b"the old secret, thirty-two bytes long"),
/// ]).expect("not empty");
/// assert_eq!(ring.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<Key>,
}

impl KeyRing {
    /// A ring of these keys, newest first; `None` when there are none.
    ///
    /// ```
    /// assert!(session_plus::codec::KeyRing::new(vec![]).is_none());
    /// ```
    pub fn new(keys: Vec<Key>) -> Option<Self> {
        if keys.is_empty() {
            None
        } else {
            Some(Self { keys })
        }
    }

    /// The key new cookies are made with.
    pub fn newest(&self) -> &Key {
        // `new` refuses an empty ring.
        &self.keys[0]
    }

    /// Every key, newest first, with its index (0 is the newest).
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Key)> {
        self.keys.iter().enumerate()
    }

    /// How many keys the ring holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a ring holds at least one key.
    pub fn is_empty(&self) -> bool {
        false
    }
}
