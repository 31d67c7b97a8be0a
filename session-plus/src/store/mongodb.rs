//! [`MongoDbStore`]: one MongoDB document per session.
//!
//! A session is the document
//!
//! ```text
//! { _id: "session:<id>",
//!   f: { <field name, encoded>: "<the value's JSON text>", ... },
//!   created_at: Date, expires_at: Date, permanent: bool }
//! ```
//!
//! - **Insert if absent** through the unique `_id`: a new session is one `insertOne`, and a
//!   duplicate-key error means a record is there (`Ok(false)`).
//! - **Only changed fields are written**: an update is one `updateOne` with `upsert: false` that
//!   `$set`s each changed field (`f.<name>`), the expiry and the permanence and `$unset`s each
//!   removed field, so two requests that change different fields both survive, and a deleted
//!   session is never re-created (no match = `Ok(false)`).
//! - **Compare-and-set** of one field is one `updateOne` whose filter names the field's expected
//!   text (or `$exists: false`), with `$set` and `$max` of the expiry: the server compares and
//!   writes atomically. When nothing matched, one read tells a missing record from another value
//!   (and the same value spelled otherwise is tried again with the stored text).
//! - **Expiry**: `expires_at` is a BSON date under a TTL index (`expireAfterSeconds: 0`) made by
//!   [`MongoDbStore::migrate`], so the server drops expired sessions itself and no purge task
//!   runs. MongoDB's TTL monitor runs every 60 seconds, so an expired record may linger that long:
//!   the session layer judges expiry on load anyway, and
//!   [`purge_expired`](SessionStore::purge_expired) still deletes `expires_at <= now` on demand.
//!
//! **Field names** are keys under `f`, and MongoDB gives some keys a meaning: a `.` is a path
//! separator, a leading `$` an operator, an empty key is an invalid path and a NUL byte cannot
//! be in a BSON key at all. Names are therefore percent-encoded, reversibly: `%` → `%25`, `.` →
//! `%2E`, NUL → `%00`, a leading `$` → `%24`, and the empty name is `%` alone. Every other
//! name (the usual `user_id`, `csrf_token`) is stored as it is, readable in the shell.
//!
//! **Values** are stored as their JSON text in a BSON string, as the Redis and SQL stores do.
//! BSON has no exact home for every JSON value: the `bson` crate's JSON conversion turns an
//! integer above `i64::MAX` into a (rounded) double, reads objects as Extended JSON (a user's
//! `{"$numberLong": "5"}` would come back as the number 5) and keeps nested keys with `.` or `$`
//! as they are. The text round-trips every value exactly, nested keys included, at the price of
//! fields that queries cannot look into (sessions are only ever read by `_id`).
//!
//! Times are Unix seconds in the [`Record`], milliseconds in a BSON date; a time beyond about
//! ±292 million years saturates.

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, Tls};
use mongodb::{Client, Collection, IndexModel};
use serde_json::{Map, Value};

use super::cas::{self, TextTry};
use super::{CasOutcome, Error, Record, Result, SessionStore, Update};

/// The database [`MongoDbStore::connect`] uses when the URL names none.
const DEFAULT_DATABASE: &str = "session_plus";

/// The collection a store uses unless renamed.
const DEFAULT_COLLECTION: &str = "sessions";

/// The sub-document that holds the fields.
const FIELDS: &str = "f";

/// The name of the TTL index on `expires_at`.
const TTL_INDEX: &str = "expires_at_ttl";

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// How long [`MongoDbStore::connect`] waits for a server (to connect, or to select one for an
/// operation) unless the URL says otherwise.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A MongoDB-backed store.
///
/// ```no_run
/// use session_plus::store::MongoDbStore;
/// # async fn run() -> Result<(), session_plus::store::Error> {
/// let store = MongoDbStore::connect("mongodb://127.0.0.1:27017/app").await?;
/// store.migrate().await?; // the TTL index
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MongoDbStore {
    collection: Collection<Document>,
}

impl MongoDbStore {
    /// Connects to the server at `url` (`mongodb://user:password@host:port/database?options`),
    /// using the collection `sessions` of the URL's database, or of `session_plus` when the URL
    /// names none, and checks that the server answers (`ping`).
    ///
    /// Connecting and choosing a server time out after 5 seconds unless the URL sets
    /// `connectTimeoutMS` or `serverSelectionTimeoutMS`. TLS (`tls=true`) uses rustls; DNS seed
    /// lists (`mongodb+srv://`) need the `mongodb` crate's `dns-resolver` feature, which
    /// session-plus leaves off: enable it in your own `Cargo.toml`, or build a [`Client`]
    /// yourself and use [`MongoDbStore::new`].
    ///
    /// # Errors
    /// The URL is invalid or no server answers.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(ClientOptions::parse(url).await.map_err(backend)?).await
    }

    /// As [`connect`](Self::connect), verifying the server's TLS certificate with the CA
    /// certificates (PEM) of the file `ca_file` instead of the system's roots (what the URL's
    /// `tlsCAFile` does). The URL must ask for TLS (`tls=true`).
    ///
    /// ```no_run
    /// use session_plus::store::MongoDbStore;
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let store = MongoDbStore::connect_with_tls_ca_file("mongodb://db.internal:27017/app?tls=true", "ca.pem").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The URL is invalid or does not ask for TLS, no server answers, or the server's certificate
    /// is not signed by the CA (the driver reports it when its server selection times out).
    pub async fn connect_with_tls_ca_file(url: &str, ca_file: impl AsRef<std::path::Path>) -> Result<Self> {
        let mut options = ClientOptions::parse(url).await.map_err(backend)?;
        let Some(Tls::Enabled(tls)) = &mut options.tls else {
            let message = "a CA file was given but the URL does not ask for TLS: add tls=true";
            return Err(Error::Backend(message.into()));
        };
        tls.ca_file_path = Some(ca_file.as_ref().to_owned());
        Self::open(options).await
    }

    async fn open(mut options: ClientOptions) -> Result<Self> {
        options.connect_timeout.get_or_insert(TIMEOUT);
        options.server_selection_timeout.get_or_insert(TIMEOUT);
        let database = options.default_database.clone().unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let client = Client::with_options(options).map_err(backend)?;
        let database = client.database(&database);
        database.run_command(doc! { "ping": 1 }).await.map_err(backend)?;
        Ok(Self::new(database.collection(DEFAULT_COLLECTION)))
    }

    /// A store on a collection of your application's client.
    ///
    /// ```no_run
    /// use session_plus::store::MongoDbStore;
    /// # async fn run() -> mongodb::error::Result<()> {
    /// let client = mongodb::Client::with_uri_str("mongodb://127.0.0.1:27017").await?;
    /// let store = MongoDbStore::new(client.database("app").collection("web_sessions"));
    /// # Ok(()) }
    /// ```
    pub fn new(collection: Collection<Document>) -> Self {
        Self { collection }
    }

    /// Uses another collection of the same database (configuration key `table`), with the
    /// client's default options.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = session_plus::store::MongoDbStore::connect("mongodb://127.0.0.1:27017/app")
    ///     .await?
    ///     .with_collection_name("web_sessions")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The name is not a valid collection name: empty, with a `$` or a NUL, or starting with
    /// `system.`.
    pub fn with_collection_name(mut self, name: impl Into<String>) -> std::result::Result<Self, String> {
        let name = name.into();
        if name.is_empty() || name.contains(['$', '\0']) || name.starts_with("system.") {
            return Err(format!("`{name}` is not a valid MongoDB collection name"));
        }
        let database = self.collection.namespace().db;
        self.collection = self.collection.client().database(&database).collection(&name);
        Ok(self)
    }

    /// Creates the TTL index on `expires_at` (`expireAfterSeconds: 0`) if it does not exist;
    /// running it again, from any number of processes, changes nothing.
    ///
    /// # Errors
    /// The server refuses, for instance because an index of that name exists with other options.
    pub async fn migrate(&self) -> Result<()> {
        let options = IndexOptions::builder().name(TTL_INDEX.to_owned()).expire_after(Duration::ZERO).build();
        let index = IndexModel::builder().keys(doc! { "expires_at": 1 }).options(options).build();
        self.collection.create_index(index).await.map_err(backend)?;
        Ok(())
    }

    /// The collection.
    pub fn collection(&self) -> &Collection<Document> {
        &self.collection
    }
}

#[async_trait]
impl SessionStore for MongoDbStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        let document = self.collection.find_one(doc! { "_id": key }).await.map_err(backend)?;
        document.map(|document| decode_record(&document)).transpose()
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let mut fields = Document::new();
        for (name, value) in &record.fields {
            fields.insert(encode_name(name), value.to_string());
        }
        let document = doc! {
            "_id": key,
            FIELDS: fields,
            "created_at": date(record.created_at),
            "expires_at": date(record.expires_at),
            "permanent": record.permanent,
        };
        match self.collection.insert_one(document).await {
            Ok(_) => Ok(true),
            Err(error) if is_duplicate_key(&error) => Ok(false),
            Err(error) => Err(backend(error)),
        }
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        // Permanence and expiry as this request set them; otherwise the expiry never moves back
        // (a stale request must not undo a newer one's).
        let mut set = Document::new();
        let mut max = Document::new();
        match update.permanent {
            Some(permanent) => {
                set.insert("expires_at", date(update.expires_at));
                set.insert("permanent", permanent);
            }
            None => drop(max.insert("expires_at", date(update.expires_at))),
        }
        // A field both set and removed ends removed (as `Update::apply_to` does); MongoDB
        // refuses one path in both `$set` and `$unset`.
        for (name, value) in update.set.iter().filter(|(name, _)| !update.remove.contains(name)) {
            set.insert(format!("{FIELDS}.{}", encode_name(name)), value.to_string());
        }
        let mut changes = Document::new();
        if !set.is_empty() {
            changes.insert("$set", set);
        }
        if !max.is_empty() {
            changes.insert("$max", max);
        }
        if !update.remove.is_empty() {
            let unset: Document =
                update.remove.iter().map(|name| (format!("{FIELDS}.{}", encode_name(name)), Bson::from(""))).collect();
            changes.insert("$unset", unset);
        }
        let done = self.collection.update_one(doc! { "_id": key }, changes).upsert(false).await.map_err(backend)?;
        Ok(done.matched_count == 1)
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        // One `updateOne` whose filter names the field's text: the server compares and writes
        // atomically. On no match, one read tells a missing record from another value (and
        // `by_text` retries with the stored spelling of an equal value).
        let name = encode_name(field);
        let path = format!("{FIELDS}.{name}");
        let changes = doc! {
            "$set": { path.as_str(): new.to_string() },
            "$max": { "expires_at": date(expires_at) },
        };
        cas::by_text(expected, |text| {
            let filter = match &text {
                Some(text) => doc! { "_id": key, path.as_str(): text.as_str() },
                None => doc! { "_id": key, path.as_str(): { "$exists": false } },
            };
            let (changes, path, name) = (changes.clone(), path.as_str(), name.as_str());
            async move {
                let done = self.collection.update_one(filter, changes).upsert(false).await.map_err(backend)?;
                if done.matched_count == 1 {
                    return Ok(TextTry::Set);
                }
                let found = self
                    .collection
                    .find_one(doc! { "_id": key })
                    .projection(doc! { path: 1 })
                    .await
                    .map_err(backend)?;
                let Some(found) = found else { return Ok(TextTry::NoRecord) };
                match found.get_document(FIELDS).ok().and_then(|fields| fields.get(name)) {
                    None => Ok(TextTry::Differs(None)),
                    Some(Bson::String(stored)) => Ok(TextTry::Differs(Some(stored.clone()))),
                    Some(_) => Err(decode(format!("field `{field}` is not JSON text"))),
                }
            }
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let done = self.collection.delete_one(doc! { "_id": key }).await.map_err(backend)?;
        Ok(done.deleted_count == 1)
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        let done = self.collection.delete_many(doc! { "expires_at": { "$lte": date(now) } }).await.map_err(backend)?;
        Ok(done.deleted_count)
    }

    fn expires_natively(&self) -> bool {
        true
    }

    fn backend_name(&self) -> &'static str {
        "mongodb"
    }
}

/// A session document back as a record.
fn decode_record(document: &Document) -> Result<Record> {
    let mut fields = Map::new();
    if let Some(stored) = document.get(FIELDS) {
        let Bson::Document(stored) = stored else { return Err(decode("`f` is not a document")) };
        for (name, text) in stored {
            let Bson::String(text) = text else {
                return Err(decode(format!("field `{name}` is not JSON text")));
            };
            let value: Value = serde_json::from_str(text).map_err(|e| Error::Decode(Box::new(e)))?;
            fields.insert(decode_name(name)?, value);
        }
    }
    let seconds = |name: &str| match document.get(name) {
        Some(Bson::DateTime(at)) => Ok(at.timestamp_millis().div_euclid(1000)),
        _ => Err(decode(format!("`{name}` is not a date"))),
    };
    let Some(Bson::Boolean(permanent)) = document.get("permanent") else {
        return Err(decode("`permanent` is not a boolean"));
    };
    Ok(Record { fields, created_at: seconds("created_at")?, expires_at: seconds("expires_at")?, permanent: *permanent })
}

/// A field name as a key MongoDB takes literally (see the module docs): `.`, NUL and a leading
/// `$` escaped.
fn encode_name(name: &str) -> String {
    super::escape::encode(name, |index, c| match c {
        '.' => Some("2E"),
        '\0' => Some("00"),
        '$' if index == 0 => Some("24"),
        _ => None,
    })
}

/// The field name [`encode_name`] made `key` from.
fn decode_name(key: &str) -> Result<String> {
    super::escape::decode(key, &[("2E", '.'), ("00", '\0'), ("24", '$')])
        .ok_or_else(|| decode(format!("field key `{key}` is not an encoded name")))
}

/// Unix seconds as a BSON date.
pub(super) fn date(seconds: i64) -> DateTime {
    DateTime::from_millis(seconds.saturating_mul(1000))
}

pub(super) fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    matches!(&*error.kind, ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY)
}

pub(super) fn backend(error: mongodb::error::Error) -> Error {
    Error::Backend(Box::new(error))
}

pub(super) fn decode(message: impl Into<String>) -> Error {
    Error::Decode(message.into().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_encode_reversibly_into_plain_keys() {
        for name in ["", "%", "%25", ".", "a.b", "$x", "a$", "a.b.$c", "$", "$$", "\0", "%2E", "é.日本", "_id", "f"]
        {
            let key = encode_name(name);
            assert!(!key.is_empty() && !key.contains(['.', '\0']) && !key.starts_with('$'), "{name:?} → {key:?}");
            assert_eq!(decode_name(&key).unwrap(), name);
        }
        assert_eq!(encode_name("user_id"), "user_id", "ordinary names stay readable");
        assert!(decode_name("a%zz").is_err() && decode_name("a%2").is_err());
    }

    #[test]
    fn times_saturate_instead_of_wrapping() {
        assert_eq!(date(i64::MAX).timestamp_millis(), i64::MAX);
        assert_eq!(date(-5).timestamp_millis(), -5000);
    }
}
