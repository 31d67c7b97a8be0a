//! [`MemcachedStore`]: one Memcached item per session, updated by compare-and-swap.
//!
//! The item `key_prefix:id` holds `{"c": created, "e": expires, "p": permanent, "f": {fields}}`.
//! Memcached cannot change part of an item, so an update reads the item with its CAS token,
//! applies only the request's changes (the later of the two expiries unless the request changed the
//! permanence) and writes it back with `cas`; when another request wrote
//! in between, it reads again and retries, so concurrent changes to different fields all survive.
//! A compare-and-set of one field takes the same path: it reads the item, compares the field and
//! writes back with `cas` (a `cas` that misses reads and compares again). A new session is stored
//! with `add`, which never overwrites. The expiry is passed as an absolute
//! Unix time (Memcached reads any exptime over 30 days that way), so Memcached drops expired
//! sessions itself.
//!
//! The client, the `memcache` crate, is blocking: each call runs on tokio's blocking pool.

use std::sync::Arc;

use async_trait::async_trait;
use memcache::{Client, CommandError, MemcacheError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{cas, cas_backoff, CasOutcome, Error, Record, Result, SessionStore, Update, CAS_ATTEMPTS};

/// A Memcached-backed store.
///
/// ```no_run
/// use session_plus::store::MemcachedStore;
/// # async fn run() -> Result<(), session_plus::store::Error> {
/// let store = MemcachedStore::connect("memcache://127.0.0.1:11211?timeout=2").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemcachedStore {
    client: Arc<Client>,
}

/// The stored item: a [`Record`] under short names.
#[derive(Deserialize)]
struct Item {
    #[serde(rename = "c")]
    created_at: i64,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "p")]
    permanent: bool,
    #[serde(rename = "f")]
    fields: Map<String, Value>,
}

impl Item {
    fn decode(bytes: &[u8]) -> Result<Record> {
        let item: Self = serde_json::from_slice(bytes).map_err(|e| Error::Decode(Box::new(e)))?;
        Ok(Record {
            fields: item.fields,
            created_at: item.created_at,
            expires_at: item.expires_at,
            permanent: item.permanent,
        })
    }

    fn encode(record: &Record) -> Vec<u8> {
        #[derive(Serialize)]
        struct ItemRef<'a> {
            c: i64,
            e: i64,
            p: bool,
            f: &'a Map<String, Value>,
        }
        let item = ItemRef { c: record.created_at, e: record.expires_at, p: record.permanent, f: &record.fields };
        // Numbers, a bool and a JSON map always serialize.
        serde_json::to_vec(&item).expect("a session item always serializes")
    }
}

impl MemcachedStore {
    /// Connects to one server (`memcache://host:port?timeout=2`; the binary protocol) or several,
    /// their URLs separated by commas.
    ///
    /// # Errors
    /// A URL is invalid or a server does not answer.
    pub async fn connect(url: &str) -> Result<Self> {
        let servers: Vec<String> = url.split(',').map(|server| server.trim().to_owned()).collect();
        let client = blocking(move || Client::connect(servers)).await?;
        Ok(Self::new(client))
    }

    /// Uses a client your application made.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = memcache::Client::connect("memcache://127.0.0.1:11211?timeout=2")?;
    /// let store = session_plus::store::MemcachedStore::new(client);
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn new(client: Client) -> Self {
        Self { client: Arc::new(client) }
    }

    async fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Client) -> std::result::Result<T, MemcacheError> + Send + 'static,
    ) -> Result<T> {
        let client = self.client.clone();
        blocking(move || op(&client)).await
    }
}

#[cfg(feature = "flask")]
impl MemcachedStore {
    /// The raw value under `key`, with its compare-and-swap token, and the raw value under
    /// `side`: one multi-get (one round trip when both keys live on one server).
    pub(crate) async fn gets_with_side(
        &self,
        key: &str,
        side: &str,
    ) -> Result<(Option<(Vec<u8>, u64)>, Option<Vec<u8>>)> {
        let keys = [key.to_owned(), side.to_owned()];
        let mut items: std::collections::HashMap<String, (Vec<u8>, u32, Option<u64>)> =
            self.call(move |c| c.gets(&[keys[0].as_str(), keys[1].as_str()])).await?;
        let side = items.remove(side).map(|(value, _, _)| value);
        match items.remove(key) {
            None => Ok((None, side)),
            Some((value, _flags, Some(cas))) => Ok((Some((value, cas)), side)),
            Some((_, _, None)) => Err(Error::Backend("Memcached returned no compare-and-swap token".into())),
        }
    }

    /// Stores `value` under `key`, whatever was there (`set`).
    pub(crate) async fn set_raw(&self, key: &str, value: Vec<u8>, exptime: u32) -> Result<()> {
        let key = key.to_owned();
        self.call(move |c| c.set(&key, value.as_slice(), exptime)).await
    }

    /// Stores `value` under `key` only if the item is still the one `cas` was read with
    /// (`cas`): whether it was written.
    pub(crate) async fn cas_raw(&self, key: &str, value: Vec<u8>, exptime: u32, cas: u64) -> Result<bool> {
        let key = key.to_owned();
        self.call(move |c| match c.cas(&key, value.as_slice(), exptime, cas) {
            Err(MemcacheError::CommandError(CommandError::KeyExists | CommandError::KeyNotFound)) => Ok(false),
            other => other,
        })
        .await
    }

    /// Stores `value` under `key`: only if absent (`add`) or only if present (`replace`).
    pub(crate) async fn store_raw(&self, key: &str, value: Vec<u8>, exptime: u32, if_absent: bool) -> Result<bool> {
        let key = key.to_owned();
        self.call(move |c| {
            let done = if if_absent {
                c.add(&key, value.as_slice(), exptime)
            } else {
                c.replace(&key, value.as_slice(), exptime)
            };
            match done {
                Ok(()) => Ok(true),
                Err(MemcacheError::CommandError(CommandError::KeyExists | CommandError::KeyNotFound)) => Ok(false),
                Err(error) => Err(error),
            }
        })
        .await
    }
}

impl std::fmt::Debug for MemcachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemcachedStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl SessionStore for MemcachedStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        let key = key.to_owned();
        let bytes: Option<Vec<u8>> = self.call(move |c| c.get(&key)).await?;
        bytes.map(|bytes| Item::decode(&bytes)).transpose()
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let (key, bytes, exptime) = (key.to_owned(), Item::encode(record), exptime(record.expires_at));
        self.call(move |c| match c.add(&key, bytes.as_slice(), exptime) {
            Ok(()) => Ok(true),
            Err(MemcacheError::CommandError(CommandError::KeyExists)) => Ok(false),
            Err(error) => Err(error),
        })
        .await
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        let swapped = self.swap(key, |record| {
            update.apply_to(record);
            Ok::<(), std::convert::Infallible>(())
        });
        Ok(swapped.await?.is_some())
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        let swapped = self.swap(key, |record| {
            if let Some(outcome) = cas::refusal(Some(record.fields.get(field)), expected) {
                return Err(outcome);
            }
            record.fields.insert(field.to_owned(), new.clone());
            record.expires_at = record.expires_at.max(expires_at);
            Ok(())
        });
        Ok(match swapped.await? {
            None => CasOutcome::NoRecord,
            Some(Ok(())) => CasOutcome::Set,
            Some(Err(refused)) => refused,
        })
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let key = key.to_owned();
        self.call(move |c| c.delete(&key)).await
    }

    async fn purge_expired(&self, _now: i64) -> Result<u64> {
        Ok(0) // Memcached drops expired items itself.
    }

    fn expires_natively(&self) -> bool {
        true
    }

    fn backend_name(&self) -> &'static str {
        "memcached"
    }
}

impl MemcachedStore {
    /// Reads the item under `key` with its CAS token, lets `change` edit the record, and writes
    /// it back only if no one wrote in between (`cas`); otherwise reads again after a random
    /// backoff. `None` when there is no item; `Some(Err(_))` when `change` refused (nothing is
    /// written).
    async fn swap<E>(
        &self,
        key: &str,
        mut change: impl FnMut(&mut Record) -> std::result::Result<(), E>,
    ) -> Result<Option<std::result::Result<(), E>>> {
        for attempt in 0..CAS_ATTEMPTS {
            let owned = key.to_owned();
            let current: Option<(Vec<u8>, u32, Option<u64>)> = self.call(move |c| c.get(&owned)).await?;
            let Some((bytes, _flags, Some(cas))) = current else { return Ok(None) };
            let mut record = Item::decode(&bytes)?;
            if let Err(refused) = change(&mut record) {
                return Ok(Some(Err(refused)));
            }
            let (owned, bytes, exptime) = (key.to_owned(), Item::encode(&record), exptime(record.expires_at));
            let swapped = self
                .call(move |c| match c.cas(&owned, bytes.as_slice(), exptime, cas) {
                    Err(MemcacheError::CommandError(CommandError::KeyExists | CommandError::KeyNotFound)) => Ok(false),
                    other => other,
                })
                .await?;
            if swapped {
                return Ok(Some(Ok(())));
            }
            // Another request wrote first (or the item went): back off a random while, read again.
            tokio::time::sleep(cas_backoff(attempt)).await;
        }
        Err(Error::Backend("too much contention on one session: compare-and-swap kept failing".into()))
    }
}

/// An absolute Unix time: Memcached reads every exptime over 30 days as one. A time that is
/// already past becomes 1 (1970), which expires the item at once.
fn exptime(expires_at: i64) -> u32 {
    u32::try_from(expires_at.max(1)).unwrap_or(u32::MAX)
}

async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> std::result::Result<T, MemcacheError> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(op).await {
        Ok(result) => result.map_err(|e| Error::Backend(Box::new(e))),
        Err(join) => Err(Error::Backend(Box::new(join))),
    }
}
