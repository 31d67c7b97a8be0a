//! [`MemoryStore`]: records in process memory, for tests and single-process services.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{cas, CasOutcome, Error, Record, Result, SessionStore, StoredFields, UnparsedRecord, Update};

/// A record as kept in memory: the fields as compact JSON bytes, so a live session costs a few
/// hundred bytes rather than a tree of maps (a million sessions fit well under 1 GiB). Shared, so
/// that a load hands them over without a copy ([`SessionStore::load_unparsed`]).
#[derive(Debug)]
struct Stored {
    fields: Arc<[u8]>,
    created_at: i64,
    expires_at: i64,
    permanent: bool,
}

impl Stored {
    fn new(record: &Record) -> Self {
        Self {
            fields: encode(&record.fields),
            created_at: record.created_at,
            expires_at: record.expires_at,
            permanent: record.permanent,
        }
    }

    fn record(&self) -> Result<Record> {
        let fields: Map<String, Value> =
            serde_json::from_slice(&self.fields).map_err(|e| Error::Decode(Box::new(e)))?;
        Ok(Record { fields, created_at: self.created_at, expires_at: self.expires_at, permanent: self.permanent })
    }
}

fn encode(fields: &Map<String, Value>) -> Arc<[u8]> {
    // A JSON map always serializes into a Vec.
    serde_json::to_vec(fields).expect("a JSON map always serializes").into()
}

/// Keeps records in a map in memory; the purge task removes expired ones, which bounds memory
/// to the sessions alive within one purge interval. A compare-and-set reads, compares and writes
/// under one hold of the map's lock.
///
/// ```
/// let store = session_plus::store::MemoryStore::new();
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<Box<str>, Stored>>,
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

    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, Stored>> {
        // No code path panics while holding the lock, and a map is valid at every step anyway.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        self.lock().get(key).map(Stored::record).transpose()
    }

    async fn load_unparsed(&self, key: &str) -> Result<Option<UnparsedRecord>> {
        Ok(self.lock().get(key).map(|stored| UnparsedRecord {
            fields: StoredFields::Object(Arc::clone(&stored.fields)),
            created_at: stored.created_at,
            expires_at: stored.expires_at,
            permanent: stored.permanent,
        }))
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let mut records = self.lock();
        if records.contains_key(key) {
            return Ok(false);
        }
        records.insert(key.into(), Stored::new(record));
        Ok(true)
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        let mut records = self.lock();
        let Some(stored) = records.get_mut(key) else {
            return Ok(false);
        };
        let mut record = stored.record()?;
        update.apply_to(&mut record);
        *stored = Stored::new(&record);
        Ok(true)
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        // Read, compare and write under one hold of the lock.
        let mut records = self.lock();
        let Some(stored) = records.get_mut(key) else { return Ok(CasOutcome::NoRecord) };
        let mut record = stored.record()?;
        if let Some(outcome) = cas::refusal(Some(record.fields.get(field)), expected) {
            return Ok(outcome);
        }
        record.fields.insert(field.to_owned(), new.clone());
        record.expires_at = record.expires_at.max(expires_at);
        *stored = Stored::new(&record);
        Ok(CasOutcome::Set)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        Ok(self.lock().remove(key).is_some())
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
