//! How a [`FirestoreStore`] lays records out in documents: natively, or as flask-session-plus does.

use serde_json::{Map, Value};

use super::client::Document;
#[cfg(feature = "flask")]
use super::flask;
use super::value::{self, as_boolean, as_timestamp, boolean_value, encode_name, quote_segment, timestamp_value};
use super::{FirestoreStore, Layout};
#[cfg(feature = "flask")]
use crate::clock::{Clock, SystemClock};
use crate::store::{Error, Record, Result};

/// The map that holds a native record's fields.
const FIELDS: &str = "f";

impl FirestoreStore {
    /// The name of `key`'s document.
    pub(super) fn document_name(&self, key: &str) -> Result<String> {
        let id = match self.layout {
            Layout::Native => encode_name(key),
            #[cfg(feature = "flask")]
            Layout::FlaskSessionPlus => flask::document_id(key)?,
        };
        Ok(self.client.document_name(&self.collection, &id))
    }

    /// The names of the expiry and permanence fields.
    pub(super) fn metadata_fields(&self) -> (&'static str, &'static str) {
        match self.layout {
            Layout::Native => ("expires_at", "permanent"),
            #[cfg(feature = "flask")]
            Layout::FlaskSessionPlus => (flask::EXPIRATION, flask::PERMANENT),
        }
    }

    /// The document fields holding `record`.
    pub(super) fn encode_record(&self, record: &Record) -> Result<Map<String, Value>> {
        let (expires, permanent) = self.metadata_fields();
        let mut document = Map::new();
        match self.layout {
            Layout::Native => {
                let fields = record.fields.iter().map(|(n, v)| (encode_name(n), value::string_value(v.to_string())));
                document.insert(FIELDS.to_owned(), value::map_value(fields.collect()));
                document.insert("created_at".to_owned(), timestamp_value(record.created_at));
            }
            #[cfg(feature = "flask")]
            Layout::FlaskSessionPlus => {
                for (name, field) in &record.fields {
                    flask::check_name(name)?;
                    document.insert(name.clone(), flask::to_native(field)?);
                }
            }
        }
        document.insert(expires.to_owned(), timestamp_value(record.expires_at));
        document.insert(permanent.to_owned(), boolean_value(record.permanent));
        Ok(document)
    }

    /// The record a document holds.
    pub(super) fn decode_record(&self, document: &Document) -> Result<Record> {
        match self.layout {
            Layout::Native => {
                let mut fields = Map::new();
                if let Some(stored) = document.fields.get(FIELDS) {
                    for (name, text) in value::as_map(stored, FIELDS)?.into_iter().flatten() {
                        let text = value::as_string(text, "a field")?;
                        let field: Value = serde_json::from_str(text).map_err(|e| Error::Decode(Box::new(e)))?;
                        fields.insert(value::decode_name(name)?, field);
                    }
                }
                Ok(Record {
                    fields,
                    created_at: as_timestamp(document.fields.get("created_at"), "created_at")?,
                    expires_at: as_timestamp(document.fields.get("expires_at"), "expires_at")?,
                    permanent: as_boolean(document.fields.get("permanent"), "permanent")?,
                })
            }
            #[cfg(feature = "flask")]
            Layout::FlaskSessionPlus => {
                let (fields, expires_at, permanent) = flask::decode_document(&document.fields)?;
                // No creation time in this format: the absolute lifetime starts at every load.
                Ok(Record { fields, created_at: SystemClock.now(), expires_at, permanent })
            }
        }
    }

    /// The update mask path and the place in a document of session field `name`.
    pub(super) fn field_path(&self, name: &str) -> Result<String> {
        match self.layout {
            Layout::Native => Ok(format!("{FIELDS}.{}", quote_segment(&encode_name(name)))),
            #[cfg(feature = "flask")]
            Layout::FlaskSessionPlus => {
                flask::check_name(name)?;
                Ok(quote_segment(name))
            }
        }
    }

    /// Puts session field `name` with `field` in the document fields `document`.
    pub(super) fn put_field(&self, document: &mut Map<String, Value>, name: &str, field: &Value) -> Result<()> {
        match self.layout {
            Layout::Native => {
                let map = document.entry(FIELDS).or_insert_with(|| value::map_value(Map::new()));
                if let Some(fields) = map.pointer_mut("/mapValue/fields").and_then(Value::as_object_mut) {
                    fields.insert(encode_name(name), value::string_value(field.to_string()));
                }
            }
            #[cfg(feature = "flask")]
            Layout::FlaskSessionPlus => drop(document.insert(name.to_owned(), flask::to_native(field)?)),
        }
        Ok(())
    }
}
