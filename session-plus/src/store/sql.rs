//! What the SQL stores (SQLite, PostgreSQL, MySQL) share: table names, the field-text patch
//! and errors.

#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
use serde_json::{Map, Value};

use super::Error;
#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
use super::Result;

/// Checks that a table name is a plain SQL identifier, as it is written into statements unquoted.
pub(crate) fn check_table_name(table: &str) -> std::result::Result<(), String> {
    let valid = table.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!("`{table}` is not a plain SQL identifier"))
    }
}

/// The merge patch of a request's changes for a column that maps each field to its value's JSON
/// text: a set field as its text (a string, so the patch replaces it whole instead of merging
/// objects), a removed field as `null`. SQLite's `json_patch` and MySQL's `JSON_MERGE_PATCH`
/// both apply it in one statement.
#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
pub(crate) fn text_patch(set: &Map<String, Value>, remove: &[String]) -> String {
    let mut object = Map::with_capacity(set.len() + remove.len());
    for (field, value) in set {
        object.insert(field.clone(), Value::String(value.to_string()));
    }
    for field in remove {
        object.insert(field.clone(), Value::Null);
    }
    Value::Object(object).to_string()
}

/// The fields of a column written with [`text_patch`].
#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
pub(crate) fn decode_text_fields(data: &str) -> Result<Map<String, Value>> {
    let stored: Map<String, Value> = serde_json::from_str(data).map_err(|e| Error::Decode(Box::new(e)))?;
    let mut fields = Map::with_capacity(stored.len());
    for (field, text) in stored {
        let Value::String(text) = text else {
            return Err(Error::Decode(format!("field `{field}` is not JSON text").into()));
        };
        fields.insert(field, serde_json::from_str(&text).map_err(|e| Error::Decode(Box::new(e)))?);
    }
    Ok(fields)
}

/// A database error, kept as the source.
pub(crate) fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Backend(Box::new(error))
}
