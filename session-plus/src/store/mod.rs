//! The store trait: where server-side sessions keep their records.
//!
//! A [`SessionStore`] knows nothing of cookies, ids, configuration or frameworks: it keeps
//! [`Record`]s under string keys (`key_prefix:id`), writes only the fields a request changed, and
//! never creates a record over another. Time is passed in, so expiry can be tested with an
//! injected clock.
//!
//! Every store is built the same two ways: `connect(url)` opens its own connection (or pool),
//! and `new(client)` takes one your application made; SQL stores add `with_table_name` and
//! `migrate`. The [manager's builder](crate::SessionManagerBuilder) does this from the
//! configuration.
//!
//! | store | feature | expiry | [`compare_and_set`](SessionStore::compare_and_set) |
//! |---|---|---|---|
//! | [`MemoryStore`] | always | purge task | under the map's lock |
//! | `SqliteStore` | `store-sqlite` | indexed `expires_at`, purge task | read and write in one `BEGIN IMMEDIATE` transaction |
//! | `PostgresStore` | `store-postgres` | indexed `expires_at`, purge task | a transaction: `SELECT … FOR UPDATE`, compare, `UPDATE` |
//! | `MySqlStore` | `store-mysql` | indexed `expires_at`, purge task | a transaction: `SELECT … FOR UPDATE`, compare, `UPDATE` |
//! | `RedisStore` (standalone and Cluster) | `store-redis` | `PEXPIREAT` | one Lua script |
//! | `MemcachedStore` | `store-memcached` | absolute exptime | `gets`, compare, `cas` |
//! | `MongoDbStore` | `store-mongodb` | TTL index on `expires_at` | one `updateOne` filtered on the field |
//! | `FlaskStore`: the Python formats in Redis, Memcached or MongoDB | `flask` and the store's | the server's (MongoDB: TTL index on `_expiration`) | unsupported |
//! | `FirestoreStore` | `store-firestore` | timestamp `expires_at` (for a TTL policy), purge task | read, compare, write with an `updateTime` precondition (unsupported for flask-session-plus's documents) |

mod cas;
#[cfg(any(feature = "store-mongodb", feature = "store-firestore"))]
mod escape;
#[cfg(feature = "store-firestore")]
mod firestore;
#[cfg(all(feature = "flask", any(feature = "store-redis", feature = "store-memcached", feature = "store-mongodb")))]
mod flask;
#[cfg(feature = "store-memcached")]
mod memcached;
mod memory;
#[cfg(feature = "store-mongodb")]
mod mongodb;
#[cfg(feature = "store-mysql")]
mod mysql;
#[cfg(feature = "store-postgres")]
mod postgres;
mod record;
#[cfg(feature = "store-redis")]
mod redis;
#[cfg(any(feature = "store-sqlite", feature = "store-postgres", feature = "store-mysql"))]
mod sql;
#[cfg(feature = "store-sqlite")]
mod sqlite;
pub(crate) mod turns;

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

#[cfg(feature = "store-firestore")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-firestore")))]
pub use self::firestore::{FirestoreClient, FirestoreStore};
#[cfg(feature = "store-mongodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-mongodb")))]
pub use self::mongodb::MongoDbStore;
#[cfg(feature = "store-redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-redis")))]
pub use self::redis::{RedisStore, ReplicationError, MAX_WAIT_TIMEOUT};
pub(crate) use cas::cas_backoff;
pub use cas::CasOutcome;
#[cfg(any(
    feature = "store-memcached",
    feature = "store-firestore",
    all(feature = "flask", any(feature = "store-redis", feature = "store-mongodb"))
))]
pub(crate) use cas::CAS_ATTEMPTS;
#[cfg(all(
    feature = "flask",
    any(feature = "store-redis", feature = "store-memcached", feature = "store-mongodb")
))]
#[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
pub use flask::{FlaskStore, RecordEncoding};
#[cfg(feature = "store-memcached")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-memcached")))]
pub use memcached::MemcachedStore;
pub use memory::MemoryStore;
#[cfg(feature = "store-mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-mysql")))]
pub use mysql::MySqlStore;
#[cfg(feature = "store-postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-postgres")))]
pub use postgres::PostgresStore;
pub use record::{Record, StoredFields, UnparsedRecord, Update};
#[cfg(feature = "store-sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "store-sqlite")))]
pub use sqlite::SqliteStore;

/// A store's result.
pub type Result<T> = std::result::Result<T, Error>;

/// A backend that keeps session records.
///
/// ```
/// use session_plus::store::{MemoryStore, Record, SessionStore, Update};
/// # tokio_test_block(async {
/// let store = MemoryStore::new();
/// let record = Record { created_at: 0, expires_at: 100, ..Default::default() };
/// assert!(store.create("session:k", &record).await?);
/// assert!(!store.create("session:k", &record).await?, "never overwrites");
/// let mut update = Update { expires_at: 200, ..Default::default() };
/// update.set.insert("user_id".into(), 42.into());
/// assert!(store.update("session:k", &update).await?);
/// assert_eq!(store.load("session:k").await?.unwrap().fields["user_id"], 42);
/// assert!(store.delete("session:k").await?);
/// assert!(!store.delete("session:k").await?, "already gone");
/// # Ok::<(), session_plus::store::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// The record under `key`, if any. May return an expired record: the caller judges expiry.
    async fn load(&self, key: &str) -> Result<Option<Record>>;

    /// The record under `key`, as [`load`](Self::load) reads it, but with its fields left as
    /// the JSON text the store keeps, when it keeps them so: a request then parses only the
    /// fields it reads, not every field of the record. The default is [`load`](Self::load)'s
    /// record, parsed; [`MemoryStore`], `RedisStore`, `SqliteStore`, `PostgresStore` and
    /// `MySqlStore` hand over their text.
    ///
    /// ```
    /// use session_plus::store::{MemoryStore, Record, SessionStore, StoredFields};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// let mut record = Record { expires_at: 100, ..Record::default() };
    /// record.fields.insert("user_id".into(), 42.into());
    /// store.create("session:k", &record).await?;
    /// let unparsed = store.load_unparsed("session:k").await?.expect("a record");
    /// assert!(matches!(unparsed.fields, StoredFields::Object(ref json) if &json[..] == br#"{"user_id":42}"#));
    /// # Ok::<(), session_plus::store::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`load`](Self::load). The text is checked by the session that reads it: text that is
    /// not JSON makes the record undecodable there, as [`Error::Decode`] from `load` would.
    async fn load_unparsed(&self, key: &str) -> Result<Option<UnparsedRecord>> {
        Ok(self.load(key).await?.map(UnparsedRecord::from))
    }

    /// Inserts `record` under `key` unless a record is there: `Ok(false)` when one is.
    async fn create(&self, key: &str, record: &Record) -> Result<bool>;

    /// Applies `update` to the record under `key`, touching only the fields it names, as one
    /// atomic step: `Ok(false)` when there is no record (it is never re-created). Without a new
    /// permanence (`update.permanent` is `None`) the stored one stays and the expiry never moves
    /// backwards. A store that cannot write fields one by one and loses a race may drop an update
    /// that [`Update::superseded_by`] what it lost to, and answer `Ok(true)`.
    async fn update(&self, key: &str, update: &Update) -> Result<bool>;

    /// Removes the record under `key`: `Ok(true)` when there was one, `Ok(false)` when there was
    /// none (deleted meanwhile, or expired and dropped by the backend).
    async fn delete(&self, key: &str) -> Result<bool>;

    /// Removes every record that expired at or before `now`, returning how many.
    async fn purge_expired(&self, now: i64) -> Result<u64>;

    /// Sets `field` of the record under `key` to `new` only if it still holds `expected`
    /// (`None`: only if the field is absent), as one atomic step; the expiry becomes the later of
    /// the stored one and `expires_at`, and the permanence stays. [`CasOutcome::Conflict`] when
    /// the field holds something else, [`CasOutcome::NoRecord`] when there is no record (it is
    /// never created). Values compare as JSON values (`1.50` is `1.5`; `1` and `1.0` differ).
    ///
    /// [`Session::update`](crate::Session::update) builds on it: read the record, compute the
    /// new value, compare-and-set, and on a conflict read again. Every store of this crate
    /// implements it, except `FlaskStore` (its records are shared with Flask, which rewrites
    /// whole records anyway). The default answers [`Error::Unsupported`], so a store of your own
    /// keeps compiling and fails clearly until it implements this.
    ///
    /// ```
    /// use serde_json::json;
    /// use session_plus::store::{CasOutcome, MemoryStore, Record, SessionStore};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = MemoryStore::new();
    /// store.create("session:k", &Record { expires_at: 100, ..Record::default() }).await?;
    /// // An increment that cannot lose a concurrent one: read, compute, compare-and-set, retry.
    /// loop {
    ///     let record = store.load("session:k").await?.expect("a record");
    ///     let current = record.fields.get("visits");
    ///     let next = json!(current.and_then(|n| n.as_u64()).unwrap_or(0) + 1);
    ///     match store.compare_and_set("session:k", "visits", current, &next, 200).await? {
    ///         CasOutcome::Conflict => continue, // another request came first: read again
    ///         outcome => break assert_eq!(outcome, CasOutcome::Set),
    ///     }
    /// }
    /// let record = store.load("session:k").await?.expect("a record");
    /// assert_eq!((record.fields["visits"].as_u64(), record.expires_at), (Some(1), 200));
    /// # Ok::<(), session_plus::store::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// The backend failed, the stored record cannot be decoded, or the store does not support
    /// this ([`Error::Unsupported`]).
    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        let _ = (key, field, expected, new, expires_at);
        Err(Error::Unsupported { backend: self.backend_name(), operation: "compare_and_set" })
    }

    /// Whether [`update`](Self::update) reads [`Update::loaded`]. Sessions fill it only for a
    /// store that does (a copy of each changed field's loaded value costs a request about a
    /// thousand instructions); others get `None`.
    fn reads_loaded_values(&self) -> bool {
        false
    }

    /// Whether the store drops expired records by itself, so no purge task is needed.
    fn expires_natively(&self) -> bool {
        false
    }

    /// A short name for logs and errors, such as `"sqlite"`.
    fn backend_name(&self) -> &'static str;
}

/// A store failure: the backend's own error, kept as the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The backend failed (connection, query, I/O).
    #[error("session store backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored record could not be read.
    #[error("session store holds a record it cannot decode: {0}")]
    Decode(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store does not implement an operation (a store of your own that keeps the trait's
    /// default, or `FlaskStore`'s Python formats for `compare_and_set`).
    #[error("the {backend} session store does not support {operation}")]
    Unsupported {
        /// The store's [`backend_name`](SessionStore::backend_name).
        backend: &'static str,
        /// The operation, such as `"compare_and_set"`.
        operation: &'static str,
    },
}
