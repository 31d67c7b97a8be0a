//! Turns: this process's updates of one key take turns, so that a compare-and-swap misses only
//! when another process (or the Python side) wrote in between, never because of a request of this
//! process; without them, many concurrent requests on one session spend their retries on each
//! other. Used by `FlaskStore`'s updates (on Redis and Memcached only by those that retry) and by
//! [`Session::update`](crate::Session::update).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// One async lock per key that someone holds or waits for: an entry goes with its last user.
#[derive(Debug, Default)]
pub(crate) struct KeyLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl KeyLocks {
    pub(crate) async fn lock(&self, key: &str) -> KeyTurn<'_> {
        let lock = self.map().entry(key.to_owned()).or_default().clone();
        KeyTurn { locks: self, guard: Some(lock.lock_owned().await) }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
        // The map holds no invariant that a panic elsewhere could break.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A held [`KeyLocks`] lock.
pub(crate) struct KeyTurn<'a> {
    locks: &'a KeyLocks,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for KeyTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        // Locks are only cloned under the map's lock, so one that only the map holds has no
        // holder and no waiter (this also clears the entries of waiters that were cancelled).
        self.locks.map().retain(|_, lock| Arc::strong_count(lock) > 1);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn key_locks_take_turns_and_clean_up() {
        let locks = KeyLocks::default();
        let first = locks.lock("a").await;
        let other = locks.lock("b").await;
        assert!(tokio::time::timeout(Duration::from_millis(50), locks.lock("a")).await.is_err(), "one turn at a time");
        drop(first);
        drop(locks.lock("a").await);
        drop(other);
        assert!(locks.map().is_empty(), "no entry outlives its users");
    }
}
