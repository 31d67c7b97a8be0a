//! The last value this process read or wrote under each key, as the first guess of a whole-record
//! compare-and-swap: a request loads its record and then updates it, so the update can swap
//! against the value its load saw instead of reading it again (one round trip instead of two).
//!
//! A guess is only ever compared, never trusted: when another process (or the Python side) wrote
//! in between, the swap misses and the update retries against the value stored now (on Redis
//! the miss's reply carries it; on Memcached it is read afresh), as it would without a guess. So a stale or evicted entry costs a round trip, never a lost or resurrected write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// How many keys are remembered at most. When full, everything is forgotten at once: a guess
/// only has to survive from a request's load to its save, and forgetting costs one read.
const CAPACITY: usize = 1024;

/// A value as read or written, with what a swap against it needs.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    /// The value's bytes (compared by the Redis script).
    pub(super) value: Arc<[u8]>,
    /// Memcached's CAS token of the value (unused on Redis).
    #[cfg_attr(not(feature = "store-memcached"), allow(dead_code))]
    pub(super) cas: u64,
    /// The record's expiry where the server told it.
    pub(super) expires_at: Option<i64>,
}

/// The [`Seen`] value of each recently read or written key.
#[derive(Debug, Default)]
pub(super) struct LastSeen(Mutex<HashMap<String, Seen>>);

impl LastSeen {
    /// Remembers `seen` as the value under `key`.
    pub(super) fn remember(&self, key: &str, seen: Seen) {
        let mut map = self.map();
        if map.len() >= CAPACITY && !map.contains_key(key) {
            map.clear();
        }
        map.insert(key.to_owned(), seen);
    }

    /// The value last seen under `key`, forgotten (whoever takes it writes or reads anew).
    pub(super) fn take(&self, key: &str) -> Option<Seen> {
        self.map().remove(key)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        // Entries are independent guesses: a panic elsewhere cannot leave one half-written.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(byte: u8) -> Seen {
        Seen { value: Arc::from([byte].as_slice()), cas: u64::from(byte), expires_at: None }
    }

    #[test]
    fn a_guess_is_taken_once() {
        let last = LastSeen::default();
        last.remember("k", seen(1));
        last.remember("k", seen(2));
        assert_eq!(last.take("k").map(|s| s.cas), Some(2), "the newest value is the guess");
        assert!(last.take("k").is_none(), "taken, then forgotten");
    }

    #[test]
    fn at_capacity_everything_is_forgotten() {
        let last = LastSeen::default();
        for i in 0..CAPACITY {
            last.remember(&i.to_string(), seen(0));
        }
        last.remember("0", seen(1));
        assert_eq!(last.map().len(), CAPACITY, "a known key is replaced, nothing forgotten");
        last.remember("new", seen(2));
        assert_eq!(last.map().len(), 1);
        assert_eq!(last.take("new").map(|s| s.cas), Some(2));
    }
}
