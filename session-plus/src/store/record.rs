//! What a store keeps under a key, and the changes one request makes to it.

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
        match self.permanent {
            Some(permanent) => {
                record.permanent = permanent;
                record.expires_at = self.expires_at;
            }
            None => record.expires_at = record.expires_at.max(self.expires_at),
        }
    }
}
