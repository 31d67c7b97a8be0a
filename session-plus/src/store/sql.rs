//! What the SQL stores (SQLite, PostgreSQL, MySQL) share: table names, the field-text patch,
//! the decision of a compare-and-set, and errors.

#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
use serde_json::Map;
use serde_json::Value;

#[cfg(any(feature = "store-postgres", feature = "store-mysql"))]
use super::Update;
use super::{cas, CasOutcome, Error, Result};

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

/// How a compare-and-set ends without writing, once the store holds the row (locked with
/// `SELECT … FOR UPDATE`, or inside SQLite's write transaction): `row` is `None` when there is
/// no row, `Some(None)` when the record lacks the field, else the field's JSON text. `None`:
/// the field holds `expected`, write.
pub(crate) fn cas_refusal(row: Option<Option<&str>>, expected: Option<&Value>) -> Result<Option<CasOutcome>> {
    let current = match row {
        None => None,
        Some(text) => {
            Some(text.map(serde_json::from_str::<Value>).transpose().map_err(|e| Error::Decode(Box::new(e)))?)
        }
    };
    Ok(cas::refusal(current.as_ref().map(Option::as_ref), expected))
}

/// [`cas_refusal`] for a `data` column written with [`text_patch`] (`None`: no row).
#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
pub(crate) fn text_cas_refusal(
    data: Option<&str>,
    field: &str,
    expected: Option<&Value>,
) -> Result<Option<CasOutcome>> {
    let Some(data) = data else { return cas_refusal(None, expected) };
    let mut stored: Map<String, Value> = serde_json::from_str(data).map_err(|e| Error::Decode(Box::new(e)))?;
    match stored.remove(field) {
        None => cas_refusal(Some(None), expected),
        Some(Value::String(text)) => cas_refusal(Some(Some(&text)), expected),
        Some(_) => Err(Error::Decode(format!("field `{field}` is not JSON text").into())),
    }
}

#[cfg(any(feature = "store-postgres", feature = "store-mysql"))]
/// The update a compare-and-set writes once it may: the one field, the later expiry, the
/// permanence left alone.
pub(crate) fn cas_update(field: &str, new: &Value, expires_at: i64) -> Update {
    let mut update = Update { expires_at, ..Update::default() };
    update.set.insert(field.to_owned(), new.clone());
    update
}

/// A database error, kept as the source.
pub(crate) fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Backend(Box::new(error))
}
