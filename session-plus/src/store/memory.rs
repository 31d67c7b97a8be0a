//! [`MemoryStore`]: records in process memory, for tests and single-process services.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{cas, CasOutcome, Error, Record, Result, SessionStore, StoredFields, UnparsedRecord, Update};
use crate::json;

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

/// The fields' text with `update`'s fields written and removed, without parsing the values it
/// keeps: each is copied as text. `None` when that cannot be done so (text that is not one object,
/// or a name with escapes, never written by this store): the caller parses the record.
fn splice(text: &[u8], update: &Update) -> Option<Vec<u8>> {
    let entries = json::index(text).ok()?;
    let mut out = Vec::with_capacity(text.len() + 32);
    out.push(b'{');
    let named = |name: &[u8]| update.remove.iter().chain(update.set.keys()).any(|field| field.as_bytes() == name);
    for entry in entries.iter().filter(|entry| !named(&text[entry.name.clone()])) {
        if out.len() > 1 {
            out.push(b',');
        }
        // The name's text with its quotes (it has no escapes), then the value's.
        out.extend_from_slice(&text[entry.name.start - 1..entry.name.end + 1]);
        out.push(b':');
        out.extend_from_slice(&text[entry.value.clone()]);
    }
    for (name, value) in &update.set {
        if out.len() > 1 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, name).ok()?;
        out.push(b':');
        serde_json::to_writer(&mut out, value).ok()?;
    }
    out.push(b'}');
    Some(out)
}

/// The records by key. Hashed with foldhash (seeded per process), not SipHash: a key holds an id
/// this crate drew at random, and a lookup of a client's id adds nothing, so no client can fill
/// the map with colliding keys; SipHash's flood resistance would only cost on every load and save.
type Records = HashMap<Box<str>, Stored, foldhash::fast::RandomState>;

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
    records: Mutex<Records>,
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

    fn lock(&self) -> MutexGuard<'_, Records> {
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
        match splice(&stored.fields, update) {
            Some(json) => {
                stored.fields = json.into();
                update.apply_times(&mut stored.expires_at, &mut stored.permanent);
            }
            None => {
                let mut record = stored.record()?;
                update.apply_to(&mut record);
                *stored = Stored::new(&record);
            }
        }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(json: &[u8]) -> Value {
        serde_json::from_slice(json).expect("JSON")
    }

    #[test]
    fn a_spliced_record_is_the_record_the_update_applied_to() {
        let stored = json!({"a": 1, "b": {"deep": [1, "x\u{e9}\"", null]}, "c": "kept", "z": 2.5});
        let text = serde_json::to_vec(&stored).unwrap();
        let mut update = Update::default();
        update.set.insert("a".into(), json!({"new": true}));
        update.set.insert("new\nline".into(), json!("escaped name, written"));
        update.remove.push("c".into());
        update.remove.push("absent".into());
        let spliced = splice(&text, &update).expect("names without escapes");
        let mut record = Record { fields: stored.as_object().unwrap().clone(), ..Record::default() };
        update.apply_to(&mut record);
        assert_eq!(parsed(&spliced), Value::Object(record.fields));
        assert_eq!(splice(b"{}", &Update::default()).as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn a_stored_name_with_escapes_is_left_to_the_full_parse() {
        let text = serde_json::to_vec(&json!({"tab\there": 1})).unwrap();
        assert_eq!(splice(&text, &Update::default()), None);
    }

    #[tokio::test]
    async fn updates_keep_what_they_do_not_name_either_way() {
        let store = MemoryStore::new();
        for name in ["plain", "tab\there"] {
            let key = format!("session:{name}");
            let mut record = Record { expires_at: 10, ..Record::default() };
            record.fields.insert(name.into(), json!([1, 2]));
            record.fields.insert("n".into(), json!(1));
            assert!(store.create(&key, &record).await.unwrap());
            let mut update = Update { expires_at: 20, ..Update::default() };
            update.set.insert("n".into(), json!(2));
            assert!(store.update(&key, &update).await.unwrap());
            let loaded = store.load(&key).await.unwrap().unwrap();
            assert_eq!(Value::Object(loaded.fields), json!({name: [1, 2], "n": 2}));
            assert_eq!(loaded.expires_at, 20);
        }
    }
}
