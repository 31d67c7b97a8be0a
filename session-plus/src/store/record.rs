//! What a store keeps under a key, and the changes one request makes to it.

use std::sync::Arc;

use serde_json::{Map, Value};

/// What a server-side store keeps under a session's key.
///
/// ```
/// let record = session_plus::store::Record { created_at: 10, expires_at: 20, ..Default::default() };
/// assert!(record.fields.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// The session's fields.
    pub fields: Map<String, Value>,
    /// When the session was created (Unix seconds): the absolute lifetime counts from here.
    pub created_at: i64,
    /// When the record expires (Unix seconds) unless written again.
    pub expires_at: i64,
    /// Whether the session was made permanent.
    pub permanent: bool,
}

/// A record as [`SessionStore::load_unparsed`](super::SessionStore::load_unparsed) gives it: the
/// fields may still be JSON text, which a request parses only as far as it reads them.
///
/// ```
/// use session_plus::store::{Record, StoredFields, UnparsedRecord};
/// let record = UnparsedRecord::from(Record { expires_at: 20, ..Record::default() });
/// assert!(matches!(record.fields, StoredFields::Parsed(ref map) if map.is_empty()));
/// ```
#[derive(Debug, Clone)]
pub struct UnparsedRecord {
    /// The session's fields.
    pub fields: StoredFields,
    /// As [`Record::created_at`].
    pub created_at: i64,
    /// As [`Record::expires_at`].
    pub expires_at: i64,
    /// As [`Record::permanent`].
    pub permanent: bool,
}

impl UnparsedRecord {
    /// The record with every field parsed.
    ///
    /// ```
    /// use session_plus::store::{StoredFields, UnparsedRecord};
    /// let fields = StoredFields::PerField(vec![("user_id".to_owned(), b"42".to_vec())]);
    /// let record = UnparsedRecord { fields, created_at: 1, expires_at: 2, permanent: false }.parse()?;
    /// assert_eq!(record.fields["user_id"], 42);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    ///
    /// # Errors
    /// A field's text is not JSON (or, for [`StoredFields::Object`], not one JSON object).
    pub fn parse(self) -> Result<Record, serde_json::Error> {
        let fields = match self.fields {
            StoredFields::Parsed(fields) => fields,
            StoredFields::Object(json) => serde_json::from_slice(&json)?,
            StoredFields::PerField(pairs) => {
                let mut fields = Map::new();
                for (name, value) in pairs {
                    fields.insert(name, serde_json::from_slice(&value)?);
                }
                fields
            }
        };
        Ok(Record { fields, created_at: self.created_at, expires_at: self.expires_at, permanent: self.permanent })
    }

    /// What a store's `load` gives when it is made from its `load_unparsed`: the record parsed,
    /// a field that is not JSON a [`Decode`](super::Error::Decode) error.
    #[cfg(any(feature = "store-redis", feature = "store-sqlite", feature = "store-postgres", feature = "store-mysql"))]
    pub(crate) fn parsed(record: Option<Self>) -> super::Result<Option<Record>> {
        record.map(|record| record.parse().map_err(|e| super::Error::Decode(Box::new(e)))).transpose()
    }
}

impl From<Record> for UnparsedRecord {
    fn from(record: Record) -> Self {
        let Record { fields, created_at, expires_at, permanent } = record;
        Self { fields: StoredFields::Parsed(fields), created_at, expires_at, permanent }
    }
}

/// A record's fields as its store keeps them.
///
/// ```
/// use session_plus::store::StoredFields;
/// let one_object = StoredFields::Object(br#"{"user_id":42}"#.as_slice().into());
/// let by_field = StoredFields::PerField(vec![("user_id".to_owned(), b"42".to_vec())]);
/// # let _ = (one_object, by_field);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StoredFields {
    /// Parsed already.
    Parsed(Map<String, Value>),
    /// The text of one JSON object holding every field (shared: a store may hand out the bytes it
    /// keeps without copying them).
    Object(Arc<[u8]>),
    /// Each field's name and the JSON text of its value.
    PerField(Vec<(String, Vec<u8>)>),
}

/// The changes one request makes to an existing record: only the fields it changed.
///
/// Permanence and expiry follow the record, not the request's possibly stale copy of it: with
/// `permanent: None` (the request did not change it) the stored permanence stays and the expiry
/// only ever moves forward, so a request that loaded before another made the session permanent
/// cannot undo that; with `Some` both are set as given (turning permanence off may shorten).
///
/// ```
/// let update = session_plus::store::Update { expires_at: 99, ..Default::default() };
/// assert!(update.set.is_empty() && update.remove.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// Fields written, with their new values.
    pub set: Map<String, Value>,
    /// Fields removed.
    pub remove: Vec<String>,
    /// The new expiry (Unix seconds): with `permanent: None`, the later of this and the stored one.
    pub expires_at: i64,
    /// The new permanence, only when this request changed it (`None`: keep the stored one).
    pub permanent: Option<bool>,
    /// What the request loaded of the fields it changes, when known: each field's value then, a
    /// field missing from the map having been absent. A store that rewrites whole records and
    /// loses a compare-and-swap to a write that, since the load, changed every one of these
    /// fields keeps that write and stops (see [`superseded_by`](Self::superseded_by)).
    pub loaded: Option<Map<String, Value>>,
}

impl Update {
    /// Applies the update to `record`, for stores that rewrite whole records.
    ///
    /// ```
    /// use session_plus::store::{Record, Update};
    /// let mut record = Record { expires_at: 5, ..Record::default() };
    /// let mut update = Update { expires_at: 9, ..Update::default() };
    /// update.set.insert("a".into(), 1.into());
    /// update.apply_to(&mut record);
    /// assert_eq!((record.fields["a"].as_i64(), record.expires_at), (Some(1), 9));
    ///
    /// // Permanence unchanged: never shortened. Changed: set as given.
    /// Update { expires_at: 7, ..Update::default() }.apply_to(&mut record);
    /// assert_eq!(record.expires_at, 9);
    /// Update { expires_at: 7, permanent: Some(false), ..Update::default() }.apply_to(&mut record);
    /// assert_eq!(record.expires_at, 7);
    /// ```
    pub fn apply_to(&self, record: &mut Record) {
        for (field, value) in &self.set {
            record.fields.insert(field.clone(), value.clone());
        }
        for field in &self.remove {
            record.fields.remove(field);
        }
        self.apply_times(&mut record.expires_at, &mut record.permanent);
    }

    /// Whether a record as stored now, after another write won a race with this update, already
    /// says all this update would: each field it changes either holds this update's value, or
    /// holds a value other than the one this request [loaded](Self::loaded), so a write since the
    /// load changed it; the permanence is not this update's to change; and the stored expiry,
    /// when known, is no earlier than this update's. Per-field last-writer-wins then lets this
    /// update count as the earlier of the two writes, with nothing left to write: a request
    /// that lost a race on one field stops instead of writing again over the winner.
    ///
    /// `false` when the loaded values are not known (`loaded: None`).
    ///
    /// ```
    /// use serde_json::{json, Map};
    /// use session_plus::store::Update;
    /// let mut update = Update { expires_at: 9, loaded: Some(Map::new()), ..Update::default() };
    /// update.set.insert("n".into(), json!(2));
    /// update.loaded.as_mut().unwrap().insert("n".into(), json!(1));
    /// let stored = |n: i64| json!({"n": n, "other": true}).as_object().unwrap().clone();
    /// assert!(update.superseded_by(&stored(5), Some(9)), "another write changed `n` since the load");
    /// assert!(update.superseded_by(&stored(2), Some(9)), "it holds this update's value");
    /// assert!(!update.superseded_by(&stored(1), Some(9)), "`n` is as loaded: only other fields changed");
    /// assert!(!update.superseded_by(&stored(5), Some(8)), "this update would extend the expiry");
    /// assert!(!update.superseded_by(&stored(5), None), "the stored expiry is not known");
    /// ```
    pub fn superseded_by(&self, fields: &Map<String, Value>, expires_at: Option<i64>) -> bool {
        let Some(loaded) = &self.loaded else { return false };
        let overtaken = |field: &String, new: Option<&Value>| {
            let stored = fields.get(field);
            stored == new || stored != loaded.get(field)
        };
        self.permanent.is_none()
            && expires_at.is_some_and(|stored| stored >= self.expires_at)
            && self.set.iter().all(|(field, value)| overtaken(field, Some(value)))
            && self.remove.iter().all(|field| overtaken(field, None))
    }

    /// Applies the update's expiry and permanence to a record's.
    pub(crate) fn apply_times(&self, expires_at: &mut i64, permanent: &mut bool) {
        match self.permanent {
            Some(new) => {
                *permanent = new;
                *expires_at = self.expires_at;
            }
            None => *expires_at = (*expires_at).max(self.expires_at),
        }
    }
}
