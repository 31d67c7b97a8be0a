//! Whole-value records in Redis and Memcached: the value is one blob (tagged JSON or
//! MessagePack, `_permanent` inside), the expiry the key's own, and an update a compare-and-swap
//! of the whole value (see the [parent module](super)).

use std::sync::Arc;

use super::seen::{LastSeen, Seen};
use super::{decode, encode, RecordEncoding};
use crate::clock::{Clock, SystemClock};
use crate::store::turns::KeyLocks;
#[cfg(feature = "store-memcached")]
use crate::store::MemcachedStore;
use crate::store::{cas_backoff, Error, Record, Result, Update, CAS_ATTEMPTS};
#[cfg(feature = "store-redis")]
use crate::store::{
    redis::{Replaced, SetMode},
    RedisStore,
};

/// Memcached reads an exptime over 30 days as an absolute Unix time.
#[cfg(feature = "store-memcached")]
const MEMCACHED_RELATIVE_LIMIT: u64 = 30 * 86_400;
/// The expiry reported for records whose time to live the server does not tell.
const UNKNOWN_EXPIRY: i64 = i64::MAX / 4;

/// A key-value server that keeps a whole record as one value, with the values this process last
/// saw there.
#[derive(Debug, Clone)]
pub(super) struct Blob {
    server: Server,
    last_seen: Arc<LastSeen>,
}

#[derive(Debug, Clone)]
enum Server {
    #[cfg(feature = "store-redis")]
    Redis(RedisStore),
    #[cfg(feature = "store-memcached")]
    Memcached(MemcachedStore),
}

impl Blob {
    #[cfg(feature = "store-redis")]
    pub(super) fn redis(store: RedisStore) -> Self {
        Self { server: Server::Redis(store), last_seen: Arc::default() }
    }

    #[cfg(feature = "store-memcached")]
    pub(super) fn memcached(store: MemcachedStore) -> Self {
        Self { server: Server::Memcached(store), last_seen: Arc::default() }
    }

    /// Whether the server is Redis (else Memcached).
    pub(super) fn is_redis(&self) -> bool {
        match self.server {
            #[cfg(feature = "store-redis")]
            Server::Redis(_) => true,
            #[cfg(feature = "store-memcached")]
            Server::Memcached(_) => false,
        }
    }

    pub(super) async fn load(&self, key: &str, encoding: RecordEncoding) -> Result<Option<Record>> {
        let Some(seen) = self.read(key).await? else { return Ok(None) };
        let (fields, permanent) = decode(encoding, &seen.value)?;
        let expires_at = seen.expires_at.unwrap_or(UNKNOWN_EXPIRY);
        // The request that loads a record usually updates it next: its swap starts from this.
        self.last_seen.remember(key, seen);
        // No creation time in these formats: the absolute lifetime starts at every load.
        Ok(Some(Record { fields, created_at: SystemClock.now(), expires_at, permanent }))
    }

    pub(super) async fn create(&self, key: &str, record: &Record, encoding: RecordEncoding) -> Result<bool> {
        let value = encode(encoding, &record.fields, record.permanent)?;
        self.put(key, value, record.expires_at, true).await
    }

    /// Updates the record under `key`; after a swap that missed and must be retried, this
    /// process's other updates of the key that also retry wait for their turn in `turns`.
    pub(super) async fn update(
        &self,
        key: &str,
        update: &Update,
        encoding: RecordEncoding,
        turns: &KeyLocks,
    ) -> Result<bool> {
        // Compare-and-swap: apply only this request's changes to the value last seen (by this
        // request's load, usually) and write only if it is still the stored one; otherwise read
        // it again and retry (see the module docs).
        let mut guess = self.last_seen.take(key);
        let mut turn = None;
        for attempt in 0..CAS_ATTEMPTS {
            let guessed = guess.is_some();
            // Known to be stored now, or later than the request's load: read just now, or the
            // reply to a missed swap (not a first guess, which may be older than the load).
            let current = !guessed || attempt > 0;
            let seen = match guess.take() {
                Some(seen) => seen,
                None => match self.read(key).await? {
                    Some(seen) => seen,
                    None => return Ok(false),
                },
            };
            let (fields, permanent) = decode(encoding, &seen.value)?;
            if current && update.superseded_by(&fields, seen.expires_at) {
                // A write since the load changed every field this one changes (or wrote this
                // one's values): it stands, as the later write. Mostly requests racing on one
                // field, such as a counter; a retry would only write over the winner.
                self.last_seen.remember(key, seen);
                return Ok(true);
            }
            if attempt > 0 && turn.is_none() {
                // Racing on other fields: take turns with this process's other retries, so they
                // do not spend them on each other.
                turn = Some(turns.lock(key).await);
            }
            // Where the stored expiry is known, `apply_to` keeps the later one unless the request
            // changed permanence; where it is not (a Memcached record only Python wrote), the
            // request's applies.
            let expires_at = seen.expires_at.unwrap_or(i64::MIN);
            let mut record = Record { fields, permanent, expires_at, ..Record::default() };
            update.apply_to(&mut record);
            let value = encode(encoding, &record.fields, record.permanent)?;
            match self.swap(key, &seen, value, record.expires_at).await? {
                Swap::Written => return Ok(true),
                Swap::Gone => return Ok(false),
                // Redis told what the other write left: retry against it at once, twice (as
                // fresh as a read would be); then back off and read again.
                Swap::Changed(Some(current)) if attempt < 2 => guess = Some(current),
                // A miss on the first guess is a stale guess, not contention: read at once.
                Swap::Changed(_) if guessed && attempt == 0 => {}
                Swap::Changed(_) => tokio::time::sleep(cas_backoff(attempt)).await,
            }
        }
        Err(Error::Backend("too much contention on one session: compare-and-swap kept failing".into()))
    }

    pub(super) async fn delete(&self, key: &str) -> Result<bool> {
        drop(self.last_seen.take(key));
        match &self.server {
            #[cfg(feature = "store-redis")]
            Server::Redis(redis) => crate::store::SessionStore::delete(redis, key).await,
            #[cfg(feature = "store-memcached")]
            Server::Memcached(memcached) => crate::store::SessionStore::delete(memcached, key).await,
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>, expires_at: i64, if_absent: bool) -> Result<bool> {
        match &self.server {
            #[cfg(feature = "store-redis")]
            Server::Redis(redis) => {
                let mode = if if_absent { SetMode::IfAbsent } else { SetMode::IfPresent };
                redis.set_expiring(key, &value, ttl_ms(expires_at), mode).await
            }
            #[cfg(feature = "store-memcached")]
            Server::Memcached(memcached) => {
                let ttl = ttl(expires_at);
                let stored = memcached.store_raw(key, value, memcached_exptime(ttl), if_absent).await?;
                if stored {
                    write_expiry(memcached, key, expires_at, ttl).await?;
                }
                Ok(stored)
            }
        }
    }

    /// The value under `key` with what [`swap`](Self::swap) needs to replace exactly it: on
    /// Memcached its CAS token (on Redis the value itself is compared), and its expiry where it
    /// is known (Redis tells it; on Memcached it is kept beside the record).
    async fn read(&self, key: &str) -> Result<Option<Seen>> {
        match &self.server {
            #[cfg(feature = "store-redis")]
            Server::Redis(redis) => Ok(redis.get_with_ttl(key).await?.map(|(value, ttl_ms)| Seen {
                value: value.into(),
                cas: 0,
                expires_at: expiry_from_ttl(ttl_ms),
            })),
            #[cfg(feature = "store-memcached")]
            Server::Memcached(memcached) => {
                let (item, expiry) = memcached.gets_with_side(key, &expiry_key(key)).await?;
                let expires_at = parse_expiry(expiry.as_deref());
                Ok(item.map(|(value, cas)| Seen { value: value.into(), cas, expires_at }))
            }
        }
    }

    /// Replaces the value `seen` under `key` by `value`, setting the new expiry; a written value
    /// is remembered for the next update.
    async fn swap(&self, key: &str, seen: &Seen, value: Vec<u8>, expires_at: i64) -> Result<Swap> {
        match &self.server {
            #[cfg(feature = "store-redis")]
            Server::Redis(redis) => {
                Ok(match redis.replace_if_unchanged(key, &seen.value, &value, ttl_ms(expires_at)).await? {
                    Replaced::Written => {
                        let seen = Seen { value: value.into(), cas: 0, expires_at: Some(expires_at) };
                        self.last_seen.remember(key, seen);
                        Swap::Written
                    }
                    Replaced::Changed { value, ttl_ms } => {
                        let current = Seen { value: value.into(), cas: 0, expires_at: expiry_from_ttl(ttl_ms) };
                        Swap::Changed(Some(current))
                    }
                    Replaced::Gone => Swap::Gone,
                })
            }
            #[cfg(feature = "store-memcached")]
            Server::Memcached(memcached) => {
                // Memcached does not tell the new CAS token: the next update reads.
                let ttl = ttl(expires_at);
                let swapped = memcached.cas_raw(key, value, memcached_exptime(ttl), seen.cas).await?;
                if swapped {
                    write_expiry(memcached, key, expires_at, ttl).await?;
                }
                // `cas` answers NOT_FOUND and EXISTS alike here: a gone key shows on the next read.
                Ok(if swapped { Swap::Written } else { Swap::Changed(None) })
            }
        }
    }
}

/// What a compare-and-swap did.
#[derive(Debug)]
enum Swap {
    Written,
    /// Another write came first (on Memcached, also: the key is gone); on Redis, with the value
    /// it left.
    Changed(Option<Seen>),
    /// The key is gone: a logout elsewhere, never undone. (Memcached does not tell this apart.)
    #[cfg_attr(not(feature = "store-redis"), allow(dead_code))]
    Gone,
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

/// The expiry (Unix seconds) of a Redis key with `ttl_ms` milliseconds left (`None`: no TTL).
/// A key written for expiry `E` expires at the start of second `E` plus the write's latency (see
/// [`ttl_ms`]): now plus what is left, rounded down, gives `E` back.
#[cfg(feature = "store-redis")]
fn expiry_from_ttl(ttl_ms: i64) -> Option<i64> {
    (ttl_ms >= 0).then(|| now_ms().saturating_add(ttl_ms).div_euclid(1000))
}

/// Milliseconds from now to the start of second `expires_at`, at least one. Redis's key then
/// expires at that instant (a few milliseconds later), so that a load's `PTTL` added to its own
/// clock gives back `expires_at` exactly; a time to live in whole seconds from a time within a
/// second could make it the next second.
#[cfg(feature = "store-redis")]
fn ttl_ms(expires_at: i64) -> u64 {
    u64::try_from(expires_at.saturating_mul(1000).saturating_sub(now_ms())).unwrap_or(0).max(1)
}

/// The wall clock in Unix milliseconds (0 before 1970: a broken clock expires everything).
#[cfg(feature = "store-redis")]
fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |now| i64::try_from(now.as_millis()).unwrap_or(i64::MAX))
}

/// Seconds from now to `expires_at`, at least one.
#[cfg(feature = "store-memcached")]
fn ttl(expires_at: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(SystemClock.now())).unwrap_or(0).max(1)
}

/// python-memcached's rule: a time to live over 30 days is passed as an absolute Unix time.
#[cfg(feature = "store-memcached")]
fn memcached_exptime(ttl: u64) -> u32 {
    let exptime = if ttl > MEMCACHED_RELATIVE_LIMIT { SystemClock.now().unsigned_abs() + ttl } else { ttl };
    u32::try_from(exptime).unwrap_or(u32::MAX)
}
