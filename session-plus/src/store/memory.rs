//! [`MemoryStore`]: records in process memory, for tests and single-process services.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::{Record, Result, SessionStore, Update};

/// Keeps records in a map in memory; the purge task removes expired ones, which bounds memory
/// to the sessions alive within one purge interval.
///
/// ```
/// let store = session_plus::store::MemoryStore::new();
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Record>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are held, expired or not.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Record>> {
        // No code path panics while holding the lock, and a map is valid at every step anyway.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        Ok(self.lock().get(key).cloned())
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let mut records = self.lock();
        if records.contains_key(key) {
            return Ok(false);
        }
        records.insert(key.to_owned(), record.clone());
        Ok(true)
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        let mut records = self.lock();
        let Some(record) = records.get_mut(key) else {
            return Ok(false);
        };
        update.apply_to(record);
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.lock().remove(key);
        Ok(())
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        let mut records = self.lock();
        let before = records.len();
        records.retain(|_, record| record.expires_at > now);
        if records.capacity() > 2 * records.len() + 1024 {
            records.shrink_to_fit();
        }
        Ok((before - records.len()) as u64)
    }

    fn backend_name(&self) -> &'static str {
        "memory"
    }
}
