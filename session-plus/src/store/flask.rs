//! [`FlaskStore`]: server-side records exactly as flask-session-plus and Flask-Session keep them,
//! so a Flask service and a Rust one share sessions through one Redis (or Memcached).
//!
//! | format | key | value | expiry |
//! |---|---|---|---|
//! | `flask-session-plus` | `key_prefix` + uuid4 sid, no separator (`session5b6f…`) | tagged JSON of `{"_permanent": bool, ...fields}` | `SET … EX` the lifetime (86400 / 2678400 by default) |
//! | `flask-session` (Redis) | `key_prefix:` + 43-character token | Flask-Session 0.8 MessagePack, `_permanent` first | `SET … EX` the lifetime |
//!
//! The Python formats keep a whole session in one value, so an update reads the value, applies
//! only the request's changes and writes it back by compare-and-swap: on Memcached with `gets` and
//! `cas`, on Redis with a script that writes only if the value is still the one read (a
//! byte comparison, so the script needs to know nothing of the format; one key, so it runs on a
//! Cluster too). When another request wrote in between, it reads again and retries after a
//! random backoff, so two requests that change different fields of one session at the same
//! instant both keep their changes (flask-session-plus and Flask-Session lose one). A logout
//! elsewhere is never undone: an update never re-creates a record. Every update writes an expiry
//! (`EX`, Memcached's exptime), so a session slides while it is written, and while it is only
//! read once its refresh is due. The stored permanence stays unless the request changed it, and
//! the later of the stored and the new expiry is kept. Memcached does not tell an item's expiry,
//! so there it is kept beside the record, under `<key>:sp-expires-at` with the same time to live
//! (fetched with the record in one multi-get; Python never reads it); a record only Python wrote
//! has none, and a write by this store then sets the request's own expiry. These formats
//! carry no creation time, so `session_absolute_lifetime` cannot be enforced on them (the
//! configuration refuses it). Nothing is ever unpickled: a pickle record is an invalid session.

use async_trait::async_trait;
use flask_wire::{msgpack_record, tagged_json, PERMANENT_KEY};
use serde_json::{Map, Value};

#[cfg(feature = "store-memcached")]
use super::MemcachedStore;
use super::{cas_backoff, Error, Record, Result, SessionStore, Update, CAS_ATTEMPTS};
#[cfg(feature = "store-redis")]
use super::{redis::SetMode, RedisStore};
use crate::clock::{Clock, SystemClock};

/// Memcached reads an exptime over 30 days as an absolute Unix time.
#[cfg(feature = "store-memcached")]
const MEMCACHED_RELATIVE_LIMIT: u64 = 30 * 86_400;
/// The expiry reported for records whose time to live the server does not tell.
const UNKNOWN_EXPIRY: i64 = i64::MAX / 4;

/// A whole-record store in one of the Python formats.
#[derive(Debug, Clone)]
pub struct FlaskStore {
    backend: Blob,
    encoding: RecordEncoding,
}

/// How a [`FlaskStore`] encodes a record's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordEncoding {
    /// Flask's tagged JSON with `_permanent`, as flask-session-plus writes it.
    TaggedJson,
    /// MessagePack with `_permanent`, as Flask-Session 0.8 writes it.
    MessagePack,
}

#[derive(Debug, Clone)]
enum Blob {
    #[cfg(feature = "store-redis")]
    Redis(RedisStore),
    #[cfg(feature = "store-memcached")]
    Memcached(MemcachedStore),
}

impl FlaskStore {
    /// Python-format records in Redis.
    ///
    /// ```no_run
    /// use session_plus::store::{FlaskStore, RecordEncoding, RedisStore};
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let redis = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
    /// let store = FlaskStore::redis(redis, RecordEncoding::MessagePack);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "store-redis")]
    pub fn redis(store: RedisStore, encoding: RecordEncoding) -> Self {
        Self { backend: Blob::Redis(store), encoding }
    }

    /// flask-session-plus records in Memcached.
    #[cfg(feature = "store-memcached")]
    pub fn memcached(store: MemcachedStore) -> Self {
        Self { backend: Blob::Memcached(store), encoding: RecordEncoding::TaggedJson }
    }

    fn encode(&self, fields: &Map<String, Value>, permanent: bool) -> Result<Vec<u8>> {
        match self.encoding {
            RecordEncoding::TaggedJson => {
                let mut object = fields.clone();
                object.insert(PERMANENT_KEY.to_owned(), Value::Bool(permanent));
                tagged_json::dumps_object(&object).map(String::into_bytes).map_err(|e| Error::Decode(Box::new(e)))
            }
            RecordEncoding::MessagePack => Ok(msgpack_record::encode(fields, permanent)),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<(Map<String, Value>, bool)> {
        match self.encoding {
            RecordEncoding::TaggedJson => {
                let text = std::str::from_utf8(bytes).map_err(|e| Error::Decode(Box::new(e)))?;
                let Value::Object(mut fields) = tagged_json::loads(text).map_err(|e| Error::Decode(Box::new(e)))?
                else {
                    return Err(Error::Decode("a flask-session-plus record is not a JSON object".into()));
                };
                let permanent = fields.remove(PERMANENT_KEY) == Some(Value::Bool(true));
                Ok((fields, permanent))
            }
            RecordEncoding::MessagePack => msgpack_record::decode(bytes).map_err(|e| Error::Decode(Box::new(e))),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>> {
        match &self.backend {
            #[cfg(feature = "store-redis")]
            Blob::Redis(redis) => Ok(redis.get_with_ttl(key).await?.map(|(value, ttl_ms)| {
                let now = SystemClock.now();
                let expires_at = if ttl_ms >= 0 { now + (ttl_ms + 999) / 1000 } else { UNKNOWN_EXPIRY };
                (value, expires_at)
            })),
            #[cfg(feature = "store-memcached")]
            Blob::Memcached(memcached) => {
                let (item, expiry) = memcached.gets_with_side(key, &expiry_key(key)).await?;
                let expires_at = parse_expiry(expiry.as_deref()).unwrap_or(UNKNOWN_EXPIRY);
                Ok(item.map(|(value, _cas)| (value, expires_at)))
            }
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>, expires_at: i64, if_absent: bool) -> Result<bool> {
        let ttl = ttl(expires_at);
        match &self.backend {
            #[cfg(feature = "store-redis")]
            Blob::Redis(redis) => {
                let mode = if if_absent { SetMode::IfAbsent } else { SetMode::IfPresent };
                redis.set_expiring(key, &value, ttl, mode).await
            }
            #[cfg(feature = "store-memcached")]
            Blob::Memcached(memcached) => {
                let stored = memcached.store_raw(key, value, memcached_exptime(ttl), if_absent).await?;
                if stored {
                    write_expiry(memcached, key, expires_at, ttl).await?;
                }
                Ok(stored)
            }
        }
    }

    /// The value under `key` with what [`swap`](Self::swap) needs to replace exactly it: on
    /// Memcached its CAS token (on Redis the value itself is compared), and its expiry where the
    /// store tells it (Redis).
    async fn read_for_swap(&self, key: &str) -> Result<Option<(Vec<u8>, u64, Option<i64>)>> {
        match &self.backend {
            #[cfg(feature = "store-redis")]
            Blob::Redis(redis) => Ok(redis.get_with_ttl(key).await?.map(|(value, ttl_ms)| {
                let expires_at = (ttl_ms >= 0).then(|| SystemClock.now() + (ttl_ms + 999) / 1000);
                (value, 0, expires_at)
            })),
            #[cfg(feature = "store-memcached")]
            Blob::Memcached(memcached) => {
                let (item, expiry) = memcached.gets_with_side(key, &expiry_key(key)).await?;
                let expires_at = parse_expiry(expiry.as_deref());
                Ok(item.map(|(value, cas)| (value, cas, expires_at)))
            }
        }
    }

    /// Replaces the value `read` (with CAS token `cas`) under `key` by `value`, setting the new
    /// expiry: whether it was written (not when another write came first or the key is gone).
    async fn swap(&self, key: &str, read: &[u8], cas: u64, value: Vec<u8>, expires_at: i64) -> Result<bool> {
        let ttl = ttl(expires_at);
        match &self.backend {
            #[cfg(feature = "store-redis")]
            Blob::Redis(redis) => {
                let _ = cas;
                redis.compare_and_set(key, read, &value, ttl).await
            }
            #[cfg(feature = "store-memcached")]
            Blob::Memcached(memcached) => {
                let _ = read;
                let swapped = memcached.cas_raw(key, value, memcached_exptime(ttl), cas).await?;
                if swapped {
                    write_expiry(memcached, key, expires_at, ttl).await?;
                }
                Ok(swapped)
            }
        }
    }
}

/// Where a Memcached record's expiry is kept beside it: Memcached does not tell an item's
/// expiry, and the Python format has no room for it. Python never reads this key; a record that
/// only Python wrote has none, and its expiry stays unknown (it then slides with Python's writes).
#[cfg(feature = "store-memcached")]
fn expiry_key(key: &str) -> String {
    format!("{key}:sp-expires-at")
}

#[cfg(feature = "store-memcached")]
fn parse_expiry(text: Option<&[u8]>) -> Option<i64> {
    std::str::from_utf8(text?).ok()?.parse().ok()
}

/// Records `expires_at` beside the record written under `key`, with the same time to live. Not
/// atomic with the record: a write that lands between two racing updates may leave an earlier
/// expiry there than the record's, which only makes the next refresh come early.
#[cfg(feature = "store-memcached")]
async fn write_expiry(memcached: &MemcachedStore, key: &str, expires_at: i64, ttl: u64) -> Result<()> {
    memcached.set_raw(&expiry_key(key), expires_at.to_string().into_bytes(), memcached_exptime(ttl)).await
}

/// Seconds from now to `expires_at`, at least one.
fn ttl(expires_at: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(SystemClock.now())).unwrap_or(0).max(1)
}

/// python-memcached's rule: a time to live over 30 days is passed as an absolute Unix time.
#[cfg(feature = "store-memcached")]
fn memcached_exptime(ttl: u64) -> u32 {
    let exptime = if ttl > MEMCACHED_RELATIVE_LIMIT { SystemClock.now().unsigned_abs() + ttl } else { ttl };
    u32::try_from(exptime).unwrap_or(u32::MAX)
}

#[async_trait]
impl SessionStore for FlaskStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        let Some((bytes, expires_at)) = self.get(key).await? else { return Ok(None) };
        let (fields, permanent) = self.decode(&bytes)?;
        // No creation time in these formats: the absolute lifetime starts at every load.
        Ok(Some(Record { fields, created_at: SystemClock.now(), expires_at, permanent }))
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let value = self.encode(&record.fields, record.permanent)?;
        self.put(key, value, record.expires_at, true).await
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        // Compare-and-swap: read, apply only this request's changes, write only if nobody wrote
        // in between; otherwise read again (see the module docs).
        for attempt in 0..CAS_ATTEMPTS {
            let Some((read, cas, stored_expiry)) = self.read_for_swap(key).await? else { return Ok(false) };
            let (fields, permanent) = self.decode(&read)?;
            // Where the stored expiry is known, `apply_to` keeps the later one unless the request
            // changed permanence; where it is not (a Memcached record only Python wrote), the
            // request's applies.
            let expires_at = stored_expiry.unwrap_or(i64::MIN);
            let mut record = Record { fields, permanent, expires_at, ..Record::default() };
            update.apply_to(&mut record);
            let value = self.encode(&record.fields, record.permanent)?;
            if self.swap(key, &read, cas, value, record.expires_at).await? {
                return Ok(true);
            }
            tokio::time::sleep(cas_backoff(attempt)).await;
        }
        Err(Error::Backend("too much contention on one session: compare-and-swap kept failing".into()))
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        match &self.backend {
            #[cfg(feature = "store-redis")]
            Blob::Redis(redis) => redis.delete(key).await,
            #[cfg(feature = "store-memcached")]
            Blob::Memcached(memcached) => memcached.delete(key).await,
        }
    }

    async fn purge_expired(&self, _now: i64) -> Result<u64> {
        Ok(0) // the server expires records itself
    }

    fn expires_natively(&self) -> bool {
        true
    }

    fn backend_name(&self) -> &'static str {
        match (&self.backend, self.encoding) {
            #[cfg(feature = "store-redis")]
            (Blob::Redis(_), RecordEncoding::TaggedJson) => "redis (flask-session-plus)",
            #[cfg(feature = "store-redis")]
            (Blob::Redis(_), RecordEncoding::MessagePack) => "redis (flask-session)",
            #[cfg(feature = "store-memcached")]
            (Blob::Memcached(_), _) => "memcached (flask-session-plus)",
        }
    }
}
