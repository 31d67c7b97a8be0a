//! flask-session-plus's Firestore records: `FirestoreStore::flask_session_plus`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use flask_wire::tagged_json::{Bytes, HttpDate};
use serde_json::{json, Map, Number, Value};

use super::value::{as_timestamp, decode, is_dunder, parse_timestamp, timestamp};
use super::{FirestoreStore, Layout};
use crate::store::{Error, Result};

/// The expiry field flask-session-plus writes.
pub(super) const EXPIRATION: &str = "_expiration";
/// The permanence field flask-session-plus writes.
pub(super) const PERMANENT: &str = "_permanent";

impl FirestoreStore {
    /// Reads and writes sessions as flask-session-plus 0.6.2's Firestore backend does
    /// (`format = "flask-session-plus"` with `session_type = "firestore"`), so a Flask service
    /// and a Rust one share them: the document `key_prefix + sid` (`session5b6f…`, no separator,
    /// the id as it is) holding `_expiration` (a timestamp), `_permanent` (a boolean) and each
    /// session field as a native Firestore value.
    ///
    /// | Firestore | in memory (as Flask's tagged JSON keeps it) |
    /// |---|---|
    /// | null, boolean, string, array, map | the same JSON value |
    /// | integer | a number (Firestore's are 64-bit signed: a larger number is refused) |
    /// | double | a number (NaN and infinities, which JSON lacks, make the record unreadable) |
    /// | timestamp | `{" d": "Tue, 14 Nov 2023 22:13:20 GMT"}` (whole seconds, from 1970) |
    /// | bytes | `{" b": "<base64>"}` |
    /// | reference | its name, a string; geo point: `{"latitude": …, "longitude": …}` |
    ///
    /// A tuple (`{" t": [...]}`) is written as an array, as Python's client does, and so reads back
    /// as an array; Markup (`{" m": …}`) as a string; a `{" i": …}` integer beyond 64 bits is
    /// refused. Firestore itself refuses an array inside an array and map keys that are empty or
    /// `__…__`.
    ///
    /// Unlike flask-session-plus, session fields cannot overwrite the metadata: a field named
    /// `_expiration` or `_permanent` is refused with an error, and an update writes only the
    /// fields it changed (with an update mask), so two requests that change different fields both
    /// keep their changes. Expiry and permanence follow [`Update`](crate::store::Update)'s rules,
    /// as in the native layout. The format has no creation time, so the absolute lifetime cannot
    /// be enforced (the configuration refuses it). Nor can one field be compared and set:
    /// [`compare_and_set`](crate::store::SessionStore::compare_and_set) answers
    /// [`Error::Unsupported`](crate::store::Error::Unsupported), since Python rewrites whole
    /// documents anyway.
    ///
    /// ```
    /// use session_plus::store::{FirestoreClient, FirestoreStore};
    /// let client = FirestoreClient::emulator("127.0.0.1:8085", "my-project", "(default)")?;
    /// let store = FirestoreStore::new(client).with_collection_name("flask_sessions")?.flask_session_plus();
    /// # let _ = store;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flask_session_plus(mut self) -> Self {
        self.layout = Layout::FlaskSessionPlus;
        self
    }
}

/// The document id of `key` (`key_prefix + sid`), as it is: Python uses it unchanged.
pub(super) fn document_id(key: &str) -> Result<String> {
    if key.is_empty() || key.contains('/') || key == "." || key == ".." || is_dunder(key) {
        return Err(Error::Backend(format!("`{key}` cannot be a Firestore document id").into()));
    }
    Ok(key.to_owned())
}

/// Refuses session fields that would overwrite the metadata.
pub(super) fn check_name(name: &str) -> Result<()> {
    if name == EXPIRATION || name == PERMANENT {
        return Err(Error::Backend(
            format!("session field `{name}` would overwrite flask-session-plus's metadata").into(),
        ));
    }
    Ok(())
}

/// A JSON value as a native Firestore value (see the table above).
pub(super) fn to_native(value: &Value) -> Result<Value> {
    Ok(match value {
        Value::Null => json!({ "nullValue": null }),
        Value::Bool(b) => json!({ "booleanValue": b }),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => json!({ "integerValue": i.to_string() }),
            _ if n.is_u64() => return Err(refused(format!("{n} is beyond Firestore's 64-bit signed integers"))),
            (None, Some(f)) => json!({ "doubleValue": f }),
            (None, None) => return Err(refused(format!("{n} is not a number Firestore holds"))),
        },
        Value::String(s) => json!({ "stringValue": s }),
        Value::Array(items) => array(items)?,
        Value::Object(object) => match tagged(object) {
            Some((" t", Value::Array(items))) => array(items)?,
            Some((" b", _)) => match serde_json::from_value::<Bytes>(value.clone()) {
                Ok(bytes) => json!({ "bytesValue": STANDARD.encode(bytes.0) }),
                Err(_) => map(object)?,
            },
            Some((" d", _)) => match serde_json::from_value::<HttpDate>(value.clone()) {
                Ok(date) => json!({ "timestampValue": timestamp(i64::try_from(date.0).unwrap_or(i64::MAX)) }),
                Err(_) => map(object)?,
            },
            Some((" m", Value::String(markup))) => json!({ "stringValue": markup }),
            Some((" i", Value::String(_))) => return Err(refused("an integer beyond 64 bits".to_owned())),
            _ => map(object)?,
        },
    })
}

fn array(items: &[Value]) -> Result<Value> {
    let values = items.iter().map(to_native).collect::<Result<Vec<_>>>()?;
    Ok(json!({ "arrayValue": { "values": values } }))
}

fn map(object: &Map<String, Value>) -> Result<Value> {
    let fields = object.iter().map(|(k, v)| Ok((k.clone(), to_native(v)?))).collect::<Result<Map<_, _>>>()?;
    Ok(json!({ "mapValue": { "fields": fields } }))
}

/// The tag and value of a one-key object whose key is one of Flask's tags.
fn tagged(object: &Map<String, Value>) -> Option<(&str, &Value)> {
    let (key, value) = object.iter().next().filter(|_| object.len() == 1)?;
    matches!(key.as_str(), " t" | " b" | " d" | " m" | " i").then_some((key.as_str(), value))
}

fn refused(what: String) -> Error {
    Error::Backend(format!("cannot store in a flask-session-plus Firestore record: {what}").into())
}

/// A native Firestore value as JSON (see the table above).
pub(super) fn from_native(value: &Value) -> Result<Value> {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next().filter(|_| o.len() == 1)) else {
        return Err(decode("a Firestore value is not a one-key object"));
    };
    Ok(match (kind.as_str(), inner) {
        ("nullValue", _) => Value::Null,
        ("booleanValue", Value::Bool(b)) => Value::Bool(*b),
        ("integerValue", Value::String(text)) => {
            Value::from(text.parse::<i64>().map_err(|_| decode(format!("integer `{text}` is not 64-bit")))?)
        }
        ("integerValue", Value::Number(n)) if n.is_i64() => Value::Number(n.clone()),
        ("doubleValue", Value::Number(n)) => match n.as_f64().and_then(Number::from_f64) {
            Some(n) => Value::Number(n),
            None => return Err(decode("a double is not a number")),
        },
        ("doubleValue", Value::String(text)) => return Err(decode(format!("double `{text}` has no JSON value"))),
        ("stringValue", Value::String(s)) => Value::String(s.clone()),
        ("referenceValue", Value::String(s)) => Value::String(s.clone()),
        ("timestampValue", Value::String(text)) => {
            let seconds = parse_timestamp(text).ok_or_else(|| decode(format!("timestamp `{text}` is invalid")))?;
            let seconds = u64::try_from(seconds).map_err(|_| decode(format!("timestamp `{text}` is before 1970")))?;
            serde_json::to_value(HttpDate(seconds)).map_err(|e| Error::Decode(Box::new(e)))?
        }
        ("bytesValue", Value::String(text)) => {
            let bytes = STANDARD.decode(text).map_err(|e| Error::Decode(Box::new(e)))?;
            serde_json::to_value(Bytes(bytes)).map_err(|e| Error::Decode(Box::new(e)))?
        }
        ("geoPointValue", Value::Object(point)) => Value::Object(point.clone()),
        ("arrayValue", Value::Object(array)) => match array.get("values") {
            None => Value::Array(Vec::new()),
            Some(Value::Array(values)) => Value::Array(values.iter().map(from_native).collect::<Result<_>>()?),
            Some(_) => return Err(decode("an array's values are not a list")),
        },
        ("mapValue", Value::Object(map)) => match map.get("fields") {
            None => Value::Object(Map::new()),
            Some(Value::Object(fields)) => Value::Object(
                fields.iter().map(|(k, v)| Ok((k.clone(), from_native(v)?))).collect::<Result<Map<_, _>>>()?,
            ),
            Some(_) => return Err(decode("a map's fields are not an object")),
        },
        (kind, _) => return Err(decode(format!("unexpected Firestore value `{kind}`"))),
    })
}

/// A flask-session-plus document's fields, expiry and permanence. A missing `_permanent` is
/// `false`, as flask-session-plus reads it; a missing `_expiration` makes the record unreadable
/// (flask-session-plus fails with a `KeyError`).
pub(super) fn decode_document(document: &Map<String, Value>) -> Result<(Map<String, Value>, i64, bool)> {
    let expires_at = as_timestamp(document.get(EXPIRATION), EXPIRATION)?;
    let permanent = match document.get(PERMANENT) {
        None => false,
        // Python's truthiness of whatever is stored there.
        Some(value) => truthy(&from_native(value)?),
    };
    let mut fields = Map::new();
    for (name, value) in document.iter().filter(|(name, _)| *name != EXPIRATION && *name != PERMANENT) {
        fields.insert(name.clone(), from_native(value)?);
    }
    Ok((fields, expires_at, permanent))
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_map_to_native_and_back() {
        let values = [
            json!(null),
            json!(true),
            json!(-7),
            json!(i64::MAX),
            json!(1.5),
            json!("héllo"),
            json!([1, "a", {"k": null}]),
            json!({"a": {"b": [true]}}),
            json!({" b": "AAE="}),
            json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"}),
            json!({}),
            json!([]),
        ];
        for value in values {
            assert_eq!(from_native(&to_native(&value).unwrap()).unwrap(), value, "{value}");
        }
        assert_eq!(from_native(&to_native(&json!({" t": [1, 2]})).unwrap()).unwrap(), json!([1, 2]));
        assert_eq!(to_native(&json!({" m": "<b>"})).unwrap(), json!({"stringValue": "<b>"}));
        assert!(to_native(&json!(u64::MAX)).is_err());
        assert!(to_native(&json!({" i": "123456789012345678901234567890"})).is_err());
        assert!(from_native(&json!({"doubleValue": "NaN"})).is_err());
        assert!(from_native(&json!({"integerValue": "99999999999999999999"})).is_err());
        assert!(from_native(&json!({"what": 1})).is_err() && from_native(&json!(3)).is_err());
    }

    #[test]
    fn metadata_is_not_a_field() {
        assert!(check_name(EXPIRATION).is_err() && check_name(PERMANENT).is_err() && check_name("user").is_ok());
        let document = json!({
            "_expiration": {"timestampValue": "2023-11-14T22:13:20.123Z"},
            "user": {"stringValue": "ann"},
        });
        let (fields, expires_at, permanent) = decode_document(document.as_object().unwrap()).unwrap();
        assert_eq!(
            (fields, expires_at, permanent),
            (json!({"user": "ann"}).as_object().unwrap().clone(), 1_700_000_000, false)
        );
        assert!(decode_document(json!({"user": {"stringValue": "x"}}).as_object().unwrap()).is_err());
        assert!(document_id("a/b").is_err() && document_id("__x__").is_err() && document_id("session1").is_ok());
    }
}
