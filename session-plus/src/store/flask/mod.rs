//! [`FlaskStore`]: server-side records exactly as flask-session-plus and Flask-Session keep them,
//! so a Flask service and a Rust one share sessions through one Redis, Memcached or MongoDB.
//!
//! | format | key | value | expiry |
//! |---|---|---|---|
//! | `flask-session-plus` | `key_prefix` + uuid4 sid, no separator (`session5b6f…`) | tagged JSON of `{"_permanent": bool, ...fields}` | `SET … EX` the lifetime (86400 / 2678400 by default) |
//! | `flask-session` (Redis) | `key_prefix:` + 43-character token | Flask-Session 0.8 MessagePack, `_permanent` first | `SET … EX` the lifetime |
//! | `flask-session-plus` (MongoDB) | the document's `id`, `key_prefix` + uuid4 sid | `{id, val: <tagged JSON of the fields>, _expiration: Date, _permanent: bool}` | `_expiration`, under a TTL index |
//!
//! The Python formats keep a whole session in one value, so an update applies only the request's
//! changes to the value and writes it back by compare-and-swap: on Memcached with `gets` and
//! `cas`, on Redis with a script that writes only if the value is still the one read (a
//! byte comparison, so the script needs to know nothing of the format; one key, so it runs on a
//! Cluster too), on MongoDB with an `updateOne` whose filter names the `val` it read. On Redis and
//! Memcached the value a request's load read is the swap's first guess, so a load and its update
//! take two round trips, not three (`store/flask/seen.rs`). When
//! another request wrote in between, it retries against what that request left (on Redis the
//! script's reply carries it; Memcached is read again), with a random backoff once misses
//! repeat, so two requests that change different fields of one session at the same
//! instant both keep their changes (flask-session-plus and Flask-Session lose one). Two that
//! change the same field: the one whose swap misses finds that field changed since its load
//! ([`Update::superseded_by`]) and stops, so the other's value stands (per-field
//! last-writer-wins, its write counting as the earlier one); a retry would only overwrite the
//! winner, one round trip later. Updates of one key from one process that must retry take turns
//! (an in-process lock per key), so they do not spend their retries on each other, while first
//! tries and same-field races never wait. The compare-and-swap guards against other processes
//! and the Python side. A logout elsewhere is never undone: an update never re-creates a record. Every update writes an expiry
//! (`EX`, Memcached's exptime, `_expiration`), so a session slides while it is written, and while
//! it is only read once its refresh is due. The stored permanence stays unless the request changed
//! it, and the later of the stored and the new expiry is kept. Memcached does not tell an item's
//! expiry, so there it is kept beside the record, under `<key>:sp-expires-at` with the same time
//! to live (fetched with the record in one multi-get; Python never reads it); a record only Python
//! wrote has none, and a write by this store then sets the request's own expiry. These formats carry no creation time, so `session_absolute_lifetime`
//! cannot be enforced on them (the configuration refuses it). Nothing is ever unpickled: a pickle
//! record is an invalid session.
//!
//! One field cannot be compared and set on these records:
//! [`compare_and_set`](SessionStore::compare_and_set) keeps the trait's default and answers
//! [`Error::Unsupported`], so [`Session::update`](crate::Session::update) refuses them. The
//! records are shared with Flask, which rewrites whole records anyway: no update made here could
//! stay atomic against the Python side.
//!
//! MongoDB specifics (flask-session-plus's `MongoDBSessionInterface`) are in [`FlaskStore::mongodb`].

#[cfg(any(feature = "store-redis", feature = "store-memcached"))]
mod blob;
#[cfg(feature = "store-mongodb")]
mod mongo;
#[cfg(any(feature = "store-redis", feature = "store-memcached"))]
mod seen;

use async_trait::async_trait;
use flask_wire::tagged_json;
#[cfg(any(feature = "store-redis", feature = "store-memcached"))]
use flask_wire::{msgpack_record, PERMANENT_KEY};
use serde_json::{Map, Value};

#[cfg(feature = "store-memcached")]
use super::MemcachedStore;
#[cfg(feature = "store-mongodb")]
use super::MongoDbStore;
#[cfg(feature = "store-redis")]
use super::RedisStore;
use super::{Error, Record, Result, SessionStore, Update};

/// A whole-record store in one of the Python formats.
#[derive(Debug, Clone)]
pub struct FlaskStore {
    backend: Backend,
    /// This process's updates of one key take turns (see `store/turns.rs`).
    writers: std::sync::Arc<super::turns::KeyLocks>,
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
enum Backend {
    /// A whole value under a key (Redis, Memcached), in an encoding.
    #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
    Blob(blob::Blob, RecordEncoding),
    /// flask-session-plus's MongoDB documents.
    #[cfg(feature = "store-mongodb")]
    MongoDb(MongoDbStore),
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
        Self::with(Backend::Blob(blob::Blob::redis(store), encoding))
    }

    /// flask-session-plus records in Memcached.
    #[cfg(feature = "store-memcached")]
    pub fn memcached(store: MemcachedStore) -> Self {
        Self::with(Backend::Blob(blob::Blob::memcached(store), RecordEncoding::TaggedJson))
    }

    /// flask-session-plus records in MongoDB, in the collection of `store`: one document per
    /// session,
    ///
    /// ```text
    /// { _id: ObjectId, id: "session<uuid4>", val: "<tagged JSON of the fields>",
    ///   _expiration: Date, _permanent: bool }
    /// ```
    ///
    /// as flask-session-plus 0.6.2 writes it (`_permanent` beside `val`, not in it; `_expiration`
    /// a UTC date; the key is `id`, not `_id`). The Python side replaces whole documents, so only
    /// these four fields are kept: a Rust write leaves a document Python reads as its own.
    ///
    /// - **Create** is an upsert that only inserts (`$setOnInsert`), so it never overwrites a
    ///   record; under the unique index on `id` that [`migrate`](Self::migrate) makes, two racing
    ///   creates of one id have one winner.
    /// - **Update** reads the document, applies the request's changes to its fields and writes
    ///   `val` back with a filter on the `_id` and the `val` it read (compare-and-swap: on a
    ///   miss it reads again; an update whose fields were all changed since the request's load
    ///   stops there, see the module docs). Without a new permanence, `_permanent` is left
    ///   alone and `_expiration` only moves forward (`$max`); with one, both are set. A document
    ///   that is gone is never re-created.
    /// - **Delete** removes every document with that `id` (`deleteMany`, as the Python side).
    /// - **Load** is `findOne` by `id`. A document without a date `_expiration`, or whose `val`
    ///   is not tagged JSON of an object, is a decode error (no session), never a panic; a
    ///   missing `_permanent` is `false`, as Python reads it.
    ///
    /// flask-session-plus 0.6.2 needs three fixes to run on PyMongo 4 (its `update` and `remove`
    /// are gone, and its expiry check needs `MongoClient(tz_aware=True)`): see the crate's
    /// `tests/python/fsp_mongo_patch.py`.
    ///
    /// ```no_run
    /// use session_plus::store::{FlaskStore, MongoDbStore};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let mongo = MongoDbStore::connect("mongodb://127.0.0.1:27017/app").await?.with_collection_name("sessions")?;
    /// let store = FlaskStore::mongodb(mongo);
    /// store.migrate().await?; // a unique index on `id`, a TTL index on `_expiration`
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "store-mongodb")]
    pub fn mongodb(store: MongoDbStore) -> Self {
        Self::with(Backend::MongoDb(store))
    }

    fn with(backend: Backend) -> Self {
        Self { backend, writers: std::sync::Arc::default() }
    }

    /// Creates what the records need on the server, if it is not there; running it again, from
    /// any number of processes, changes nothing. On MongoDB: a unique index on `id` (create if
    /// absent is atomic only with it; flask-session-plus makes none) and a TTL index on
    /// `_expiration` (`expireAfterSeconds: 0`; flask-session-plus makes none either and leaves
    /// expired documents until they are read). Redis and Memcached need nothing.
    ///
    /// # Errors
    /// The server refuses: for instance, a collection written by the Python side holds two
    /// documents with one `id` (remove the older one), or an index of the same name exists with
    /// other options.
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
            Backend::Blob(..) => Ok(()),
            #[cfg(feature = "store-mongodb")]
            Backend::MongoDb(mongo) => mongo::migrate(mongo).await,
        }
    }
}

/// A record's value in `encoding`, with `_permanent` inside.
#[cfg(any(feature = "store-redis", feature = "store-memcached"))]
fn encode(encoding: RecordEncoding, fields: &Map<String, Value>, permanent: bool) -> Result<Vec<u8>> {
    match encoding {
        RecordEncoding::TaggedJson => {
            let mut object = fields.clone();
            object.insert(PERMANENT_KEY.to_owned(), Value::Bool(permanent));
            tagged_json_object(&object).map(String::into_bytes)
        }
        RecordEncoding::MessagePack => Ok(msgpack_record::encode(fields, permanent)),
    }
}

/// The fields and the permanence of a value in `encoding`.
#[cfg(any(feature = "store-redis", feature = "store-memcached"))]
fn decode(encoding: RecordEncoding, bytes: &[u8]) -> Result<(Map<String, Value>, bool)> {
    match encoding {
        RecordEncoding::TaggedJson => {
            let text = std::str::from_utf8(bytes).map_err(|e| Error::Decode(Box::new(e)))?;
            let mut fields = tagged_json_fields(text)?;
            let permanent = fields.remove(PERMANENT_KEY) == Some(Value::Bool(true));
            Ok((fields, permanent))
        }
        RecordEncoding::MessagePack => msgpack_record::decode(bytes).map_err(|e| Error::Decode(Box::new(e))),
    }
}

/// Flask's tagged JSON text of an object.
fn tagged_json_object(object: &Map<String, Value>) -> Result<String> {
    tagged_json::dumps_object(object).map_err(|e| Error::Decode(Box::new(e)))
}

/// The object in Flask's tagged JSON `text`.
fn tagged_json_fields(text: &str) -> Result<Map<String, Value>> {
    match tagged_json::loads(text).map_err(|e| Error::Decode(Box::new(e)))? {
        Value::Object(fields) => Ok(fields),
        _ => Err(Error::Decode("a flask-session-plus record is not a JSON object".into())),
    }
}

#[async_trait]
impl SessionStore for FlaskStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        match &self.backend {
            #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
            Backend::Blob(blob, encoding) => blob.load(key, *encoding).await,
            #[cfg(feature = "store-mongodb")]
            Backend::MongoDb(mongo) => mongo::load(mongo, key).await,
        }
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        match &self.backend {
            #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
            Backend::Blob(blob, encoding) => blob.create(key, record, *encoding).await,
            #[cfg(feature = "store-mongodb")]
            Backend::MongoDb(mongo) => mongo::create(mongo, key, record).await,
        }
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        match &self.backend {
            #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
            Backend::Blob(blob, encoding) => blob.update(key, update, *encoding, &self.writers).await,
            #[cfg(feature = "store-mongodb")]
            Backend::MongoDb(mongo) => mongo::update(mongo, key, update, &self.writers).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        match &self.backend {
            #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
            Backend::Blob(blob, _) => blob.delete(key).await,
            #[cfg(feature = "store-mongodb")]
            Backend::MongoDb(mongo) => mongo::delete(mongo, key).await,
        }
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        match &self.backend {
            // The server expires records itself.
            #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
            Backend::Blob(..) => {
                let _ = now;
                Ok(0)
            }
            // The TTL index does, within a minute; this deletes on demand.
            #[cfg(feature = "store-mongodb")]
            Backend::MongoDb(mongo) => mongo::purge_expired(mongo, now).await,
        }
    }

    fn reads_loaded_values(&self) -> bool {
        // A swap that lost to a later write of the same fields stops there (`blob.rs`, `mongo.rs`).
        true
    }

    fn expires_natively(&self) -> bool {
        true
    }

    fn backend_name(&self) -> &'static str {
        match &self.backend {
            #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
            Backend::Blob(blob, encoding) => match (blob.is_redis(), encoding) {
                (true, RecordEncoding::TaggedJson) => "redis (flask-session-plus)",
                (true, RecordEncoding::MessagePack) => "redis (flask-session)",
                (false, _) => "memcached (flask-session-plus)",
            },
            #[cfg(feature = "store-mongodb")]
            Backend::MongoDb(..) => "mongodb (flask-session-plus)",
        }
    }
}
