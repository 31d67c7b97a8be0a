//! [`FirestoreStore`]: one Google Cloud Firestore document per session, over Firestore's REST API.
//!
//! A session is the document `<collection>/<key, encoded>` of the configured database:
//!
//! ```text
//! { f: { <field name, encoded>: "<the value's JSON text>", ... },   (a map)
//!   created_at: timestamp, expires_at: timestamp, permanent: bool }
//! ```
//!
//! - **Insert if absent**: a new session is one `commit` whose write has the precondition
//!   `exists: false`; `ALREADY_EXISTS` means a record is there (`Ok(false)`).
//! - **Only changed fields are written**: an update is one write whose update mask names exactly
//!   the changed fields (`f.<name>`; a name in the mask but not in the document is removed), with
//!   a precondition, so a deleted session is never re-created (`Ok(false)`) and two requests that
//!   change different fields both survive.
//! - **The expiry only moves forward** unless the request changed permanence: the update reads
//!   the stored `expires_at` first. When it is already as late, the write leaves it alone (with
//!   the precondition `exists: true`); otherwise the write sets it with the precondition that the
//!   document's `updateTime` is still the one read, and reads again after a random backoff when
//!   another write came in between. (Firestore's `maximum` transform would do this in one step,
//!   but it works only on numbers, and a TTL policy needs a timestamp.) A request that changed
//!   permanence writes its expiry blindly, one round trip.
//! - **Expiry**: `expires_at` is a timestamp, so a Firestore TTL policy on it (`gcloud firestore
//!   fields ttls update expires_at --collection-group=sessions --enable-ttl`) lets Firestore drop
//!   expired sessions, within a day or so of expiry. The store does not rely on it: the session
//!   layer judges expiry on load, and [`purge_expired`](SessionStore::purge_expired) (run by the
//!   manager's purge task) queries `expires_at <= now` and deletes what it finds, each delete on
//!   the condition that the document did not change since the query.
//! - **Compare-and-set** of one field reads the document, compares the field in Rust and writes
//!   it (and a later expiry) with the precondition that the document's `updateTime` is still the
//!   one read; another write in between makes it read again.
//! - **Deletes** have the precondition `exists: true`, so they tell whether there was a record.
//!
//! **Document ids and field names** are percent-encoded where Firestore needs it, reversibly:
//! `%` → `%25`, `/` → `%2F`, the empty name is `%` alone, and a name Firestore reserves (`.`,
//! `..`, `__…__`) has its first character escaped (`%2E`, `%5F`). Keys such as `session:abc`
//! and names such as `user_id` are stored as they are. In update masks every other name is
//! quoted with backticks.
//!
//! **Values** are stored as their JSON text in a string, as the Redis, SQL and MongoDB stores
//! do: Firestore's integers are 64-bit signed (no home for a `u64` above `i64::MAX`), its arrays
//! cannot hold arrays, and its map keys cannot be empty or `__…__`; the text round-trips every
//! JSON value exactly, at the price of fields that queries cannot look into (sessions are only
//! read by id). A Firestore document holds at most 1 MiB.
//!
//! Times are Unix seconds in the [`Record`]; a time outside Firestore's years 1 to 9999 is clamped.
//!
//! **flask-session-plus's records** (`format = "flask-session-plus"`): see
//! [`FirestoreStore::flask_session_plus`].

mod client;
#[cfg(feature = "flask")]
mod flask;
mod layout;
mod value;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

pub use self::client::FirestoreClient;
use self::value::{as_timestamp, boolean_value, timestamp_value};
use super::{cas, cas_backoff, CasOutcome, Error, Record, Result, SessionStore, Update, CAS_ATTEMPTS};

/// The collection a store uses unless renamed.
const DEFAULT_COLLECTION: &str = "sessions";
/// The database [`FirestoreStore::connect`] uses when the URL names none.
const DEFAULT_DATABASE: &str = "(default)";
/// How many expired documents one purge round deletes.
const PURGE_BATCH: usize = 300;

/// A Firestore-backed store.
///
/// ```no_run
/// use session_plus::store::FirestoreStore;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // Project `my-project`, its default database; the emulator if FIRESTORE_EMULATOR_HOST is set.
/// let store = FirestoreStore::connect("firestore://my-project").await?.with_collection_name("web_sessions")?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FirestoreStore {
    client: FirestoreClient,
    collection: String,
    layout: Layout,
}

/// How records are laid out in documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Native,
    #[cfg(feature = "flask")]
    FlaskSessionPlus,
}

impl FirestoreStore {
    /// Connects to the database that `url` names: `firestore://PROJECT` (the `(default)`
    /// database) or `firestore://PROJECT/DATABASE`, optionally with `?emulator=HOST:PORT` to use
    /// the Firestore emulator there. Without it, [`FirestoreClient::connect`] decides: the
    /// emulator at `FIRESTORE_EMULATOR_HOST` when that is set, otherwise Firestore with Google's
    /// application default credentials. Uses the collection `sessions`.
    ///
    /// Nothing is sent yet: the first store call reaches the server.
    ///
    /// ```no_run
    /// use session_plus::store::FirestoreStore;
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let store = FirestoreStore::connect("firestore://my-project/sessions-db").await?;
    /// let local = FirestoreStore::connect("firestore://demo?emulator=127.0.0.1:8085").await?;
    /// # let _ = (store, local);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The URL is invalid, or no credentials were found.
    pub async fn connect(url: &str) -> Result<Self> {
        let invalid = || Error::Backend(format!("`{url}` is not a firestore://PROJECT[/DATABASE] URL").into());
        let rest = url.strip_prefix("firestore://").ok_or_else(invalid)?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (project, database) = path.split_once('/').unwrap_or((path, DEFAULT_DATABASE));
        let database = if database.is_empty() { DEFAULT_DATABASE } else { database };
        let mut emulator = None;
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("emulator", host)) if !host.is_empty() => emulator = Some(host),
                _ => return Err(invalid()),
            }
        }
        let client = match emulator {
            Some(host) => FirestoreClient::emulator(host, project, database)?,
            None => FirestoreClient::connect(project, database).await?,
        };
        Ok(Self::new(client))
    }

    /// A store on a client your application made, using the collection `sessions`.
    ///
    /// ```
    /// use session_plus::store::{FirestoreClient, FirestoreStore};
    /// let client = FirestoreClient::emulator("127.0.0.1:8085", "demo-project", "(default)")?;
    /// let store = FirestoreStore::new(client);
    /// assert_eq!(store.collection_name(), "sessions");
    /// # Ok::<(), session_plus::store::Error>(())
    /// ```
    pub fn new(client: FirestoreClient) -> Self {
        Self { client, collection: DEFAULT_COLLECTION.to_owned(), layout: Layout::Native }
    }

    /// Uses another collection (configuration key `table`).
    ///
    /// ```
    /// use session_plus::store::{FirestoreClient, FirestoreStore};
    /// let client = FirestoreClient::emulator("127.0.0.1:8085", "demo-project", "(default)")?;
    /// let store = FirestoreStore::new(client).with_collection_name("web_sessions")?;
    /// assert_eq!(store.collection_name(), "web_sessions");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The name is not a valid collection id: empty, with a `/`, `.`, `..` or `__…__`.
    pub fn with_collection_name(mut self, name: impl Into<String>) -> std::result::Result<Self, String> {
        let name = name.into();
        if name.is_empty() || name.contains('/') || name == "." || name == ".." || value::is_dunder(&name) {
            return Err(format!("`{name}` is not a valid Firestore collection id"));
        }
        self.collection = name;
        Ok(self)
    }

    /// The collection's id.
    ///
    /// ```
    /// use session_plus::store::{FirestoreClient, FirestoreStore};
    /// let store = FirestoreStore::new(FirestoreClient::emulator("127.0.0.1:8085", "demo", "(default)")?);
    /// assert_eq!(store.collection_name(), "sessions");
    /// # Ok::<(), session_plus::store::Error>(())
    /// ```
    pub fn collection_name(&self) -> &str {
        &self.collection
    }

    /// The client, to share with another store (for instance one per collection).
    ///
    /// ```
    /// use session_plus::store::{FirestoreClient, FirestoreStore};
    /// let store = FirestoreStore::new(FirestoreClient::emulator("127.0.0.1:8085", "demo", "(default)")?);
    /// let other = FirestoreStore::new(store.client().clone()).with_collection_name("other")?;
    /// # let _ = other;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn client(&self) -> &FirestoreClient {
        &self.client
    }

    /// Commits one update of document `name` setting `fields` under `mask`, with `precondition`.
    async fn write(
        &self,
        name: &str,
        fields: Map<String, Value>,
        mask: Vec<String>,
        precondition: Value,
    ) -> Result<Written> {
        let write = json!({
            "update": { "name": name, "fields": fields },
            "updateMask": { "fieldPaths": mask },
            "currentDocument": precondition,
        });
        match self.client.commit(vec![write]).await {
            Ok(()) => Ok(Written::Done),
            Err(error) if error.is("NOT_FOUND") => Ok(Written::Missing),
            Err(error) if error.is("FAILED_PRECONDITION") || error.is("ABORTED") => Ok(Written::Conflict),
            Err(error) => Err(error.into_error()),
        }
    }
}

/// What became of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Done,
    /// The document does not exist.
    Missing,
    /// Another write came first (the `updateTime` precondition failed), or Firestore aborted
    /// the commit under contention: read again.
    Conflict,
}

#[async_trait]
impl SessionStore for FirestoreStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        let name = self.document_name(key)?;
        let document = self.client.get(&name, None).await?;
        document.map(|document| self.decode_record(&document)).transpose()
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let name = self.document_name(key)?;
        let write = json!({
            "update": { "name": name, "fields": self.encode_record(record)? },
            "currentDocument": { "exists": false },
        });
        match self.client.commit(vec![write]).await {
            Ok(()) => Ok(true),
            Err(error) if error.is("ALREADY_EXISTS") => Ok(false),
            Err(error) => Err(error.into_error()),
        }
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        let name = self.document_name(key)?;
        let (expires, permanent) = self.metadata_fields();
        // A field both set and removed ends removed (as `Update::apply_to` does): it is in the
        // mask but not in the document.
        let mut fields = Map::new();
        let mut mask = Vec::new();
        for (field, value) in update.set.iter().filter(|(field, _)| !update.remove.contains(field)) {
            mask.push(self.field_path(field)?);
            self.put_field(&mut fields, field, value)?;
        }
        for field in &update.remove {
            mask.push(self.field_path(field)?);
        }
        for attempt in 0..CAS_ATTEMPTS {
            let written = match update.permanent {
                // Permanence and expiry as this request set them: one blind write.
                Some(now_permanent) => {
                    let mut fields = fields.clone();
                    fields.insert(expires.to_owned(), timestamp_value(update.expires_at));
                    fields.insert(permanent.to_owned(), boolean_value(now_permanent));
                    let mut mask = mask.clone();
                    mask.extend([expires.to_owned(), permanent.to_owned()]);
                    self.write(&name, fields, mask, json!({ "exists": true })).await?
                }
                // The expiry never moves back: read it, and write a later one only over what
                // was read.
                None => {
                    let Some(stored) = self.client.get(&name, Some(&[expires])).await? else { return Ok(false) };
                    let stored_expiry = as_timestamp(stored.fields.get(expires), expires)?;
                    if stored_expiry >= update.expires_at {
                        if mask.is_empty() {
                            return Ok(true);
                        }
                        self.write(&name, fields.clone(), mask.clone(), json!({ "exists": true })).await?
                    } else {
                        let mut fields = fields.clone();
                        fields.insert(expires.to_owned(), timestamp_value(update.expires_at));
                        let mut mask = mask.clone();
                        mask.push(expires.to_owned());
                        self.write(&name, fields, mask, json!({ "updateTime": stored.update_time })).await?
                    }
                }
            };
            match written {
                Written::Done => return Ok(true),
                Written::Missing => return Ok(false),
                Written::Conflict => tokio::time::sleep(cas_backoff(attempt)).await,
            }
        }
        Err(Error::Backend("too much contention on one session: its update kept meeting other writes".into()))
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        if self.layout != Layout::Native {
            // flask-session-plus's documents are shared with Python, which rewrites them whole.
            return Err(Error::Unsupported { backend: self.backend_name(), operation: "compare_and_set" });
        }
        let name = self.document_name(key)?;
        let (expires, _) = self.metadata_fields();
        let path = self.field_path(field)?;
        for attempt in 0..CAS_ATTEMPTS {
            // Read, compare, and write only over the document read (its `updateTime`): a write
            // in between, to any field, makes this read again.
            let Some(document) = self.client.get(&name, None).await? else { return Ok(CasOutcome::NoRecord) };
            let record = self.decode_record(&document)?;
            if let Some(outcome) = cas::refusal(Some(record.fields.get(field)), expected) {
                return Ok(outcome);
            }
            let (mut fields, mut mask) = (Map::new(), vec![path.clone()]);
            self.put_field(&mut fields, field, new)?;
            if expires_at > record.expires_at {
                fields.insert(expires.to_owned(), timestamp_value(expires_at));
                mask.push(expires.to_owned());
            }
            match self.write(&name, fields, mask, json!({ "updateTime": document.update_time })).await? {
                Written::Done => return Ok(CasOutcome::Set),
                Written::Missing => return Ok(CasOutcome::NoRecord),
                Written::Conflict => tokio::time::sleep(cas_backoff(attempt)).await,
            }
        }
        Err(Error::Backend("too much contention on one session: its compare-and-set kept meeting other writes".into()))
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let name = self.document_name(key)?;
        let write = json!({ "delete": name, "currentDocument": { "exists": true } });
        match self.client.commit(vec![write]).await {
            Ok(()) => Ok(true),
            Err(error) if error.is("NOT_FOUND") => Ok(false),
            Err(error) => Err(error.into_error()),
        }
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        let (expires, _) = self.metadata_fields();
        let query = json!({
            "from": [{ "collectionId": self.collection }],
            "where": { "fieldFilter": {
                "field": { "fieldPath": expires },
                "op": "LESS_THAN_OR_EQUAL",
                "value": timestamp_value(now),
            }},
            "select": { "fields": [{ "fieldPath": "__name__" }] },
            "limit": PURGE_BATCH,
        });
        let prefix = format!("{}/{}/", self.client.root(), self.collection);
        let mut purged = 0;
        loop {
            let documents = self.client.run_query(query.clone()).await?;
            // Only this collection's documents (not a subcollection's of the same id), each
            // deleted only if it did not change since the query (a session written meanwhile lives).
            let writes: Vec<Value> = documents
                .iter()
                .filter(|document| document.name.strip_prefix(&prefix).is_some_and(|id| !id.contains('/')))
                .map(|document| json!({ "delete": document.name, "currentDocument": { "updateTime": document.update_time } }))
                .collect();
            if writes.is_empty() {
                return Ok(purged);
            }
            let deleted = self.client.batch_write(writes).await?.into_iter().filter(|done| *done).count();
            purged += deleted as u64;
            if documents.len() < PURGE_BATCH || deleted == 0 {
                return Ok(purged);
            }
        }
    }

    fn backend_name(&self) -> &'static str {
        match self.layout {
            Layout::Native => "firestore",
            #[cfg(feature = "flask")]
            Layout::FlaskSessionPlus => "firestore (flask-session-plus)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> FirestoreStore {
        FirestoreStore::new(FirestoreClient::emulator("127.0.0.1:1", "p", "(default)").unwrap())
    }

    #[test]
    fn collection_names_are_checked() {
        for bad in ["", "a/b", ".", "..", "__x__"] {
            assert!(store().with_collection_name(bad).is_err(), "{bad}");
        }
        assert!(store().with_collection_name("web_sessions").is_ok());
    }

    #[test]
    fn documents_are_named_by_encoded_keys() {
        let store = store();
        assert_eq!(
            store.document_name("session:abc").unwrap(),
            "projects/p/databases/(default)/documents/sessions/session:abc"
        );
        assert!(store.document_name("a/b").unwrap().ends_with("/sessions/a%2Fb"));
        assert_eq!(store.field_path("user_id").unwrap(), "f.user_id");
        assert_eq!(store.field_path("a.b").unwrap(), "f.`a.b`");
    }

    #[tokio::test]
    async fn urls_are_parsed() {
        for bad in ["mongodb://x", "firestore://p?x=1", "firestore://p?emulator="] {
            assert!(FirestoreStore::connect(bad).await.is_err(), "{bad}");
        }
        let store = FirestoreStore::connect("firestore://p/db?emulator=127.0.0.1:1").await.unwrap();
        assert_eq!(store.client().root(), "projects/p/databases/db/documents");
    }
}
