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
    // `serde_json::to_string`, not `Value`'s `Display`: it writes into a buffer made with room
    // for a short text, where `Display` grows an empty string a few bytes at a time. A `Value`
    // always serializes (its keys are strings), so neither call can fail.
    let text = |value: &Value| serde_json::to_string(value).expect("a JSON value always serializes");
    let mut object = Map::with_capacity(set.len() + remove.len());
    for (field, value) in set {
        object.insert(field.clone(), Value::String(text(value)));
    }
    for field in remove {
        object.insert(field.clone(), Value::Null);
    }
    serde_json::to_string(&object).expect("a JSON map always serializes")
}

/// The fields of a column written with [`text_patch`], each still its JSON text: a request then
/// parses only the fields it reads ([`StoredFields::PerField`](super::StoredFields::PerField),
/// checked by the session when it loads them). The column's own object is read straight into
/// the list, with no map of values built.
#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
pub(crate) fn text_fields(data: &str) -> Result<Vec<(String, Vec<u8>)>> {
    serde_json::from_str::<TextFields>(data).map(|fields| fields.0).map_err(|e| Error::Decode(Box::new(e)))
}

/// An object whose every value is a string, read as (name, string) pairs in their order.
#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
struct TextFields(Vec<(String, Vec<u8>)>);

#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
impl<'de> serde::Deserialize<'de> for TextFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = TextFields;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("an object mapping each field to its JSON text")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<TextFields, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((name, text)) = map.next_entry::<String, String>()? {
                    pairs.push((name, text.into_bytes()));
                }
                Ok(TextFields(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
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

#[cfg(all(test, any(feature = "store-sqlite", feature = "store-mysql")))]
mod tests {
    use serde_json::json;

    use super::*;

    /// What `text_patch` writes, `text_fields` reads back as each field's text, unescaped and
    /// in order; a column that is not an object of strings is refused, as a load's error.
    #[test]
    fn text_fields_read_what_text_patch_writes() {
        let mut set = Map::new();
        set.insert("n".into(), json!(7));
        set.insert("s".into(), json!("a \"quoted\" é"));
        set.insert("o".into(), json!({"k": [1, null]}));
        let column = text_patch(&set, &[]);
        let fields = text_fields(&column).unwrap();
        let parsed: Map<String, Value> =
            fields.iter().map(|(name, text)| (name.clone(), serde_json::from_slice(text).unwrap())).collect();
        assert_eq!(parsed, set);
        assert_eq!(fields.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["n", "s", "o"]);
        for column in [r#"{"a": 1}"#, r#"{"a": null}"#, "[]", r#"{"a": "1""#, "not json"] {
            assert!(matches!(text_fields(column), Err(Error::Decode(_))), "{column}");
        }
        assert_eq!(text_fields("{}").unwrap(), Vec::new());
    }
}
