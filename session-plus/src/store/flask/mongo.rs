//! flask-session-plus's MongoDB documents (see [`FlaskStore::mongodb`](super::FlaskStore::mongodb)):
//! `{id, val, _expiration, _permanent}`, looked up by `id`.

use std::time::Duration;

use ::mongodb::bson::{doc, Bson, Document};
use ::mongodb::options::IndexOptions;
use ::mongodb::IndexModel;

use super::{tagged_json_fields, tagged_json_object};
use crate::clock::{Clock, SystemClock};
use crate::store::mongodb::{backend, date, decode, is_duplicate_key};
use crate::store::turns::KeyLocks;
use crate::store::{cas_backoff, Error, MongoDbStore, Record, Result, Update, CAS_ATTEMPTS};

/// The document's key (flask-session-plus looks sessions up by `id`; `_id` is an ObjectId).
const ID: &str = "id";
/// The fields, as Flask's tagged JSON text, without the permanence.
const VAL: &str = "val";
/// When the session expires: a UTC date.
const EXPIRATION: &str = "_expiration";
/// Whether the session is permanent.
const PERMANENT: &str = "_permanent";

/// The unique index on `id` that [`migrate`] makes.
const ID_INDEX: &str = "id_unique";
/// The TTL index on `_expiration` that [`migrate`] makes.
const TTL_INDEX: &str = "_expiration_ttl";

pub(super) async fn migrate(store: &MongoDbStore) -> Result<()> {
    let unique = IndexOptions::builder().name(ID_INDEX.to_owned()).unique(true).build();
    let ttl = IndexOptions::builder().name(TTL_INDEX.to_owned()).expire_after(Duration::ZERO).build();
    let indexes = [
        IndexModel::builder().keys(doc! { ID: 1 }).options(unique).build(),
        IndexModel::builder().keys(doc! { EXPIRATION: 1 }).options(ttl).build(),
    ];
    store.collection().create_indexes(indexes).await.map_err(backend)?;
    Ok(())
}

pub(super) async fn load(store: &MongoDbStore, key: &str) -> Result<Option<Record>> {
    let Some(document) = store.collection().find_one(doc! { ID: key }).await.map_err(backend)? else {
        return Ok(None);
    };
    let fields = tagged_json_fields(val_text(&document)?)?;
    let expires_at = expiration(&document)?;
    let permanent = permanence(&document)?;
    // No creation time in this format: the absolute lifetime starts at every load.
    Ok(Some(Record { fields, created_at: SystemClock.now(), expires_at, permanent }))
}

pub(super) async fn create(store: &MongoDbStore, key: &str, record: &Record) -> Result<bool> {
    let document = doc! {
        VAL: tagged_json_object(&record.fields)?,
        EXPIRATION: date(record.expires_at),
        PERMANENT: record.permanent,
    };
    // An upsert that only ever inserts: an existing document is left as it is.
    let created = store.collection().update_one(doc! { ID: key }, doc! { "$setOnInsert": document }).upsert(true).await;
    match created {
        Ok(done) => Ok(done.upserted_id.is_some()),
        // A racing create won (under the unique index on `id`).
        Err(error) if is_duplicate_key(&error) => Ok(false),
        Err(error) => Err(backend(error)),
    }
}

/// Updates the document of `key`; after a swap that missed and must be retried, this process's
/// other updates of the key that also retry wait for their turn in `turns`.
pub(super) async fn update(store: &MongoDbStore, key: &str, update: &Update, turns: &KeyLocks) -> Result<bool> {
    // Compare-and-swap on `val` (see the parent module): the Python format keeps every field in
    // it, so a field cannot be written alone.
    let mut turn = None;
    for attempt in 0..CAS_ATTEMPTS {
        let Some(document) = store.collection().find_one(doc! { ID: key }).await.map_err(backend)? else {
            return Ok(false);
        };
        let read_id = document.get("_id").cloned().ok_or_else(|| decode("the document has no `_id`"))?;
        let read_val = document.get(VAL).cloned().unwrap_or(Bson::Null);
        let fields = tagged_json_fields(val_text(&document)?)?;
        // Read just now, so no older than the request's load.
        if update.superseded_by(&fields, expiration(&document).ok()) {
            // A write since the load changed every field this one changes (or wrote this one's
            // values): it stands, as the later write (see `blob.rs`).
            return Ok(true);
        }
        if attempt > 0 && turn.is_none() {
            // Racing on other fields: take turns with this process's other retries.
            turn = Some(turns.lock(key).await);
        }
        let mut record = Record { fields, ..Record::default() };
        update.apply_to(&mut record);
        let mut set = doc! { VAL: tagged_json_object(&record.fields)? };
        let mut changes = Document::new();
        match update.permanent {
            Some(permanent) => {
                set.insert(PERMANENT, permanent);
                set.insert(EXPIRATION, date(update.expires_at));
            }
            // Compared on the server, so a concurrent longer expiry (a request that made the
            // session permanent meanwhile) is kept, and so is that request's `_permanent`.
            None => drop(changes.insert("$max", doc! { EXPIRATION: date(update.expires_at) })),
        }
        changes.insert("$set", set);
        let filter = doc! { "_id": read_id, VAL: read_val };
        let done = store.collection().update_one(filter, changes).await.map_err(backend)?;
        if done.matched_count == 1 {
            return Ok(true);
        }
        tokio::time::sleep(cas_backoff(attempt)).await;
    }
    Err(Error::Backend("too much contention on one session: compare-and-swap kept failing".into()))
}

pub(super) async fn delete(store: &MongoDbStore, key: &str) -> Result<bool> {
    let done = store.collection().delete_many(doc! { ID: key }).await.map_err(backend)?;
    Ok(done.deleted_count > 0)
}

pub(super) async fn purge_expired(store: &MongoDbStore, now: i64) -> Result<u64> {
    let filter = doc! { EXPIRATION: { "$lte": date(now) } };
    Ok(store.collection().delete_many(filter).await.map_err(backend)?.deleted_count)
}

/// The text of `val`: a string, as Python's `TaggedJSONSerializer.dumps` gives it (bytes, which
/// Python would read too, as UTF-8).
fn val_text(document: &Document) -> Result<&str> {
    match document.get(VAL) {
        Some(Bson::String(text)) => Ok(text),
        Some(Bson::Binary(binary)) => std::str::from_utf8(&binary.bytes).map_err(|e| Error::Decode(Box::new(e))),
        _ => Err(decode("`val` is not text")),
    }
}

/// `_expiration` in Unix seconds.
fn expiration(document: &Document) -> Result<i64> {
    match document.get(EXPIRATION) {
        Some(Bson::DateTime(at)) => Ok(at.timestamp_millis().div_euclid(1000)),
        Some(_) => Err(decode("`_expiration` is not a date")),
        // flask-session-plus fails with a KeyError (a 500); here it is no session.
        None => Err(decode("the document has no `_expiration`")),
    }
}

/// `_permanent` as Python reads it (`document.pop('_permanent', None)`): missing or null is
/// `false`; anything but a boolean is not a record of this format.
fn permanence(document: &Document) -> Result<bool> {
    match document.get(PERMANENT) {
        Some(Bson::Boolean(permanent)) => Ok(*permanent),
        None | Some(Bson::Null) => Ok(false),
        Some(_) => Err(decode("`_permanent` is not a boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_documents_are_decode_errors() {
        let ok = doc! { VAL: "{\"a\":1}", PERMANENT: true };
        assert_eq!(val_text(&ok).unwrap(), "{\"a\":1}");
        assert!(permanence(&ok).unwrap());
        assert!(!permanence(&doc! {}).unwrap(), "missing: not permanent, as Python reads it");
        for bad in [doc! {}, doc! { VAL: 1 }, doc! { VAL: Bson::Null }] {
            assert!(matches!(val_text(&bad), Err(Error::Decode(_))), "{bad}");
        }
        assert!(matches!(permanence(&doc! { PERMANENT: "yes" }), Err(Error::Decode(_))));
        for bad in ["[1]", "{", "\"text\""] {
            assert!(matches!(tagged_json_fields(bad), Err(Error::Decode(_))), "{bad}");
        }
    }
}
