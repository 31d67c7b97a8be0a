//! One named session's fields during a request, parsed only as far as the request uses them.
//!
//! A store that keeps fields as JSON text hands them over unparsed
//! ([`SessionStore::load_unparsed`](crate::store::SessionStore::load_unparsed)). They are checked
//! once when loaded, by one pass over the text that notes where each field is ([`json`](crate::json)) and
//! parses only the reserved fields the lifetime rules read; a read then parses the one field it
//! reads, and a write goes to an overlay. Only what needs every field (a listing, a record or cookie written whole) parses the
//! rest. So a request that reads one field of a large record pays for a scan of its text, not
//! for a tree of every field built and freed.

use std::ops::Deref;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::expiry::EXPIRY_FIELD;
use super::user::USER_FIELD;
use crate::json::{self as scan, Entries};
use crate::store::StoredFields;

/// What the lifetime rules read of a session's fields: the fields session-plus keeps for itself.
pub(crate) trait ReservedFields {
    /// The value of the reserved field `name` ([`EXPIRY_FIELD`] or [`USER_FIELD`]).
    fn reserved(&self, name: &str) -> Option<&Value>;
}

impl ReservedFields for Map<String, Value> {
    fn reserved(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// A session's fields: a map, or the text a store kept them as with the request's reads and
/// writes over it.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    /// Every field, once `text` is gone (parsed whole, or never text). `None` while the text
    /// holds them: even an empty map costs about 100 instructions to drop.
    parsed: Option<Map<String, Value>>,
    /// The fields as the store kept them, while not every field is parsed.
    text: Option<Text>,
}

#[derive(Debug)]
struct Text {
    json: Json,
    /// The fields read (parsed from the text) or written, and the reserved ones: a few, so a
    /// list, which costs less to fill and free than a map.
    overlay: Vec<(String, Value)>,
    /// Fields removed by this request, which the text still holds.
    removed: Vec<String>,
    /// Whether the text holds a field other than [`EXPIRY_FIELD`].
    holds_data: bool,
}

impl Text {
    fn overlaid(&self, field: &str) -> Option<usize> {
        self.overlay.iter().position(|(name, _)| name == field)
    }

    fn set(&mut self, field: &str, value: Value) {
        match self.overlaid(field) {
            Some(at) => self.overlay[at].1 = value,
            None => self.overlay.push((field.to_owned(), value)),
        }
    }
}

#[derive(Debug)]
enum Json {
    /// One object's text, with where each field is in it.
    Object { text: ObjectText, entries: Entries },
    /// Each field's name and value text.
    PerField(Vec<(String, Vec<u8>)>),
}

/// One JSON object's text: shared with the store that keeps it, or the end of a cookie's body.
#[derive(Debug)]
enum ObjectText {
    Shared(Arc<[u8]>),
    /// A decoded cookie's body, whose JSON starts at `start` (after the times and flags).
    Cookie {
        body: Vec<u8>,
        start: usize,
    },
}

impl Deref for ObjectText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Shared(text) => text,
            Self::Cookie { body, start } => body.get(*start..).unwrap_or_default(),
        }
    }
}

/// A field's value as a read finds it: parsed already, or still the JSON text it was kept as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldRef<'a> {
    Parsed(&'a Value),
    Text(&'a [u8]),
}

impl FieldRef<'_> {
    /// The value as a `T`. Text is deserialized into the `T` directly, with no [`Value`] made of
    /// it on the way. `Ok(None)`: checked text that still does not parse, which reads as absent
    /// (see [`parsed`]).
    pub(crate) fn deserialize<T: DeserializeOwned>(self, field: &str) -> Result<Option<T>, serde_json::Error> {
        match self {
            Self::Parsed(value) => T::deserialize(value).map(Some),
            Self::Text(text) => match serde_json::from_slice(text) {
                Ok(value) => Ok(Some(value)),
                // Not a `T`, or not parsable at all: only the first is the caller's error.
                Err(error) => match parsed(field, text) {
                    Some(_) => Err(error),
                    None => Ok(None),
                },
            },
        }
    }

    /// The value as a [`Value`] of its own.
    pub(crate) fn to_value(self, field: &str) -> Option<Value> {
        match self {
            Self::Parsed(value) => Some(value.clone()),
            Self::Text(text) => parsed(field, text),
        }
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(parsed: Map<String, Value>) -> Self {
        Self { parsed: Some(parsed), text: None }
    }
}

impl Fields {
    /// The fields a store handed over, checked: every text must be JSON (one object, for
    /// [`StoredFields::Object`]). The reserved fields are parsed now.
    pub(crate) fn from_stored(stored: StoredFields) -> Result<Self, serde_json::Error> {
        let mut reserved = Vec::new();
        let mut holds_data = false;
        let json = match stored {
            StoredFields::Parsed(map) => return Ok(Self::from(map)),
            StoredFields::Object(text) => return Self::from_object(ObjectText::Shared(text)),
            StoredFields::PerField(pairs) => {
                for (name, text) in &pairs {
                    if is_reserved(name) {
                        reserved.push((name.clone(), serde_json::from_slice(text)?));
                    } else if scan::is_value(text) {
                        holds_data = true;
                    } else {
                        serde_json::from_slice::<Value>(text)?; // says what is wrong
                        holds_data = true;
                    }
                }
                Json::PerField(pairs)
            }
        };
        Ok(Self::with_text(json, reserved, holds_data))
    }

    /// The fields of a verified cookie, whose `body` holds them as one JSON object from `start`:
    /// checked as [`from_stored`](Self::from_stored) checks a store's text.
    pub(crate) fn from_cookie_body(body: Vec<u8>, start: usize) -> Result<Self, serde_json::Error> {
        Self::from_object(ObjectText::Cookie { body, start })
    }

    fn from_object(text: ObjectText) -> Result<Self, serde_json::Error> {
        let mut reserved = Vec::new();
        let mut holds_data = false;
        let entries = match scan::index(&text) {
            Ok(entries) => entries,
            // A name with escapes (never written by this crate), or text that is no object:
            // serde_json parses it whole, or says what is wrong.
            Err(_) => return serde_json::from_slice::<Map<String, Value>>(&text).map(Self::from),
        };
        for entry in &entries {
            // Compared as bytes: only a reserved name is turned into a string.
            let name = &text[entry.name.clone()];
            match [EXPIRY_FIELD, USER_FIELD].into_iter().find(|reserved| reserved.as_bytes() == name) {
                Some(name) => reserved.push((name.to_owned(), serde_json::from_slice(&text[entry.value.clone()])?)),
                None => holds_data = true,
            }
        }
        Ok(Self::with_text(Json::Object { text, entries }, reserved, holds_data))
    }

    fn with_text(json: Json, reserved: Vec<(String, Value)>, holds_data: bool) -> Self {
        let holds_data = holds_data || reserved.iter().any(|(name, _)| name == USER_FIELD);
        // Empty until a write: a read takes its value from the text without keeping it here.
        let mut text = Text { json, overlay: Vec::new(), removed: Vec::new(), holds_data };
        // A repeated reserved name keeps its last value, as a full parse would.
        for (name, value) in reserved {
            text.set(&name, value);
        }
        Self { parsed: None, text: Some(text) }
    }

    /// The value of `field` as it is now: parsed, or its text. Nothing is parsed or kept.
    pub(crate) fn find(&self, field: &str) -> Option<FieldRef<'_>> {
        let Some(text) = &self.text else { return self.parsed.as_ref()?.get(field).map(FieldRef::Parsed) };
        if let Some(at) = text.overlaid(field) {
            return Some(FieldRef::Parsed(&text.overlay[at].1));
        }
        if is_reserved(field) || text.removed.iter().any(|removed| removed == field) {
            return None; // reserved fields are parsed at load; a removed one is gone
        }
        text.json.text_of(field).map(FieldRef::Text)
    }

    /// The value of `field`, parsed from the text if this is its first read.
    pub(crate) fn get(&mut self, field: &str) -> Option<&Value> {
        if let Some(FieldRef::Text(found)) = self.find(field) {
            let value = parsed(field, found)?;
            if let Some(text) = &mut self.text {
                text.overlay.push((field.to_owned(), value)); // kept: the next `get` finds it parsed
            }
        }
        match self.find(field)? {
            FieldRef::Parsed(value) => Some(value),
            FieldRef::Text(_) => None, // not reached: a field read as text is in the overlay now
        }
    }

    /// Sets `field`, without parsing the others.
    pub(crate) fn insert(&mut self, field: &str, value: Value) {
        match &mut self.text {
            Some(text) => {
                text.removed.retain(|removed| removed != field);
                text.set(field, value);
            }
            None => drop(self.parsed.get_or_insert_with(Map::new).insert(field.to_owned(), value)),
        }
    }

    /// Removes `field`, returning its value, without parsing the others.
    pub(crate) fn remove(&mut self, field: &str) -> Option<Value> {
        self.get(field)?; // parsed into the overlay if only the text held it
        let Some(text) = &mut self.text else { return self.parsed.as_mut()?.remove(field) };
        text.removed.push(field.to_owned());
        let at = text.overlaid(field)?;
        Some(text.overlay.swap_remove(at).1)
    }

    /// Whether the session holds a field other than its lifetime ([`EXPIRY_FIELD`]).
    pub(crate) fn holds_data(&self) -> bool {
        let Some(text) = &self.text else {
            return self.parsed.iter().flat_map(Map::keys).any(|field| field != EXPIRY_FIELD);
        };
        let in_overlay = text.overlay.iter().any(|(field, _)| field != EXPIRY_FIELD);
        if text.removed.is_empty() {
            return in_overlay || text.holds_data;
        }
        // Some removed: whether the text holds a field that is neither removed nor the lifetime.
        in_overlay || text.json.names(|name| name != EXPIRY_FIELD && !text.removed.iter().any(|r| r == name))
    }

    /// Every field, parsed: what a listing, or a record or cookie written whole, needs.
    pub(crate) fn all(&mut self) -> &mut Map<String, Value> {
        if let Some(text) = self.text.take() {
            let mut all = text.json.parse_all();
            for removed in &text.removed {
                all.remove(removed);
            }
            all.extend(text.overlay);
            self.parsed = Some(all);
        }
        self.parsed.get_or_insert_with(Map::new)
    }

    /// Empties the session.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

impl ReservedFields for Fields {
    fn reserved(&self, name: &str) -> Option<&Value> {
        // Parsed when the text was loaded, and written to the overlay since.
        match &self.text {
            Some(text) => text.overlaid(name).map(|at| &text.overlay[at].1),
            None => self.parsed.as_ref()?.get(name),
        }
    }
}

fn is_reserved(field: &str) -> bool {
    field == EXPIRY_FIELD || field == USER_FIELD
}

impl Json {
    /// The text of `field`'s value (the last, if the text repeats it, as a full parse would keep).
    fn text_of(&self, field: &str) -> Option<&[u8]> {
        match self {
            Self::Object { text, entries } => {
                let entry = entries.iter().rev().find(|entry| &text[entry.name.clone()] == field.as_bytes())?;
                Some(&text[entry.value.clone()])
            }
            Self::PerField(pairs) => Some(&pairs.iter().rev().find(|(name, _)| name == field)?.1),
        }
    }

    /// Whether some field's name passes `wanted`.
    fn names(&self, wanted: impl Fn(&str) -> bool) -> bool {
        match self {
            Self::Object { text, entries } => {
                entries.iter().any(|entry| std::str::from_utf8(&text[entry.name.clone()]).is_ok_and(&wanted))
            }
            Self::PerField(pairs) => pairs.iter().any(|(name, _)| wanted(name)),
        }
    }

    /// Every field, parsed.
    fn parse_all(self) -> Map<String, Value> {
        match self {
            Self::Object { text, entries } => entries
                .into_iter()
                .filter_map(|entry| {
                    let name = std::str::from_utf8(&text[entry.name]).ok()?;
                    Some((name.to_owned(), parsed(name, &text[entry.value])?))
                })
                .collect(),
            Self::PerField(pairs) => {
                pairs.into_iter().filter_map(|(name, text)| Some((name.clone(), parsed(&name, &text)?))).collect()
            }
        }
    }
}

/// A field's value from its text, checked at load, so it parses; were it not to (a number too
/// large for an `f64`), the field reads as absent.
fn parsed(field: &str, text: &[u8]) -> Option<Value> {
    serde_json::from_slice(text)
        .inspect_err(|error| tracing::error!(field, %error, "a session field's checked text did not parse"))
        .ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(json: Value) -> Fields {
        Fields::from_stored(StoredFields::Object(serde_json::to_vec(&json).unwrap().into())).unwrap()
    }

    fn per_field(json: Value) -> Fields {
        let Value::Object(map) = json else { panic!("an object") };
        let pairs = map.into_iter().map(|(name, value)| (name, serde_json::to_vec(&value).unwrap())).collect();
        Fields::from_stored(StoredFields::PerField(pairs)).unwrap()
    }

    fn each_form(json: Value) -> [Fields; 3] {
        let Value::Object(map) = json.clone() else { panic!("an object") };
        [Fields::from(map), object(json.clone()), per_field(json)]
    }

    #[test]
    fn reads_writes_and_removals_agree_with_a_parsed_map_in_every_form() {
        let record = json!({"a": 1, "b": {"nested": [1, 2, {"c": "d"}]}, "e\u{e9}\"q": "x", EXPIRY_FIELD: {"idle": 5}});
        for mut fields in each_form(record.clone()) {
            assert_eq!(fields.get("a"), Some(&json!(1)));
            assert_eq!(fields.get("e\u{e9}\"q"), Some(&json!("x")));
            assert_eq!(fields.get("missing"), None);
            assert_eq!(fields.reserved(EXPIRY_FIELD), Some(&json!({"idle": 5})));
            assert_eq!(fields.get(EXPIRY_FIELD), Some(&json!({"idle": 5})));
            fields.insert("a", json!(2));
            assert_eq!(fields.remove("b"), Some(json!({"nested": [1, 2, {"c": "d"}]})));
            assert_eq!(fields.remove("b"), None);
            assert_eq!(fields.get("b"), None);
            assert!(fields.holds_data());
            let expected = json!({"a": 2, "e\u{e9}\"q": "x", EXPIRY_FIELD: {"idle": 5}});
            assert_eq!(Value::Object(fields.all().clone()), expected);
        }
    }

    /// A read finds an unread field as its text, and a written one as its value, parsing and
    /// keeping nothing; the text deserializes as the value would.
    #[test]
    fn a_read_takes_the_text_and_keeps_nothing() {
        let record = json!({"n": 7, "s": "text", "big": 1, "o": {"a": [1, 2]}});
        let Value::Object(map) = record.clone() else { panic!("an object") };
        let body = [&[9u8; 17][..], &serde_json::to_vec(&record).unwrap()].concat();
        for mut fields in [object(record.clone()), per_field(record), Fields::from_cookie_body(body, 17).unwrap()] {
            for (name, value) in &map {
                let Some(FieldRef::Text(text)) = fields.find(name) else { panic!("{name} is text") };
                assert_eq!(&serde_json::from_slice::<Value>(text).unwrap(), value);
                assert_eq!(fields.find(name).unwrap().to_value(name).as_ref(), Some(value));
            }
            assert_eq!(fields.find("n").unwrap().deserialize::<u64>("n").unwrap(), Some(7));
            assert_eq!(fields.find("s").unwrap().deserialize::<String>("s").unwrap(), Some("text".to_owned()));
            assert!(fields.find("s").unwrap().deserialize::<u64>("s").is_err(), "not a u64: the caller's error");
            assert!(fields.find("missing").is_none());
            fields.insert("n", json!(8));
            assert!(matches!(fields.find("n"), Some(FieldRef::Parsed(value)) if value == &json!(8)));
            fields.remove("s");
            assert!(fields.find("s").is_none());
            let Some(text) = &fields.text else { panic!("still text") };
            assert_eq!(text.overlay.len(), 1, "only the write is kept: {:?}", text.overlay);
        }
    }

    /// Checked text that still does not parse (a number too large for an `f64`, which the scan
    /// lets through) reads as absent, as [`Fields::get`] reads it.
    #[test]
    fn text_that_does_not_parse_reads_as_absent() {
        let mut fields = Fields::from_stored(StoredFields::Object(br#"{"a":1e400}"#.as_slice().into())).unwrap();
        let found = fields.find("a").unwrap();
        assert_eq!(found.deserialize::<f64>("a").unwrap(), None);
        assert_eq!(found.to_value("a"), None);
        assert_eq!(fields.get("a"), None);
    }

    #[test]
    fn a_field_written_back_after_its_removal_counts() {
        for mut fields in each_form(json!({"a": 1})) {
            assert_eq!(fields.remove("a"), Some(json!(1)));
            assert!(!fields.holds_data(), "only the removed field was there");
            fields.insert("a", json!(3));
            assert!(fields.holds_data());
            assert_eq!(fields.get("a"), Some(&json!(3)));
            assert_eq!(Value::Object(fields.all().clone()), json!({"a": 3}));
        }
    }

    #[test]
    fn the_lifetime_alone_holds_no_data_and_the_user_tag_does() {
        for fields in each_form(json!({EXPIRY_FIELD: {"idle": 5}})) {
            assert!(!fields.holds_data());
        }
        for fields in each_form(json!({USER_FIELD: {"id": "u", "generation": 1}})) {
            assert!(fields.holds_data());
            assert_eq!(fields.reserved(USER_FIELD), Some(&json!({"id": "u", "generation": 1})));
        }
        for mut fields in each_form(json!({})) {
            assert!(!fields.holds_data());
            assert!(fields.all().is_empty());
        }
    }

    #[test]
    fn text_that_is_not_json_is_refused_at_load() {
        for text in [&b"{\"a\": 1"[..], b"[1, 2]", b"{\"a\": 1} trailing", b"not json", b"{\"a\": tru}"] {
            assert!(Fields::from_stored(StoredFields::Object(text.into())).is_err(), "{text:?}");
            let body = [&[0u8; 17][..], text].concat();
            assert!(Fields::from_cookie_body(body, 17).is_err(), "a cookie's {text:?}");
        }
        let pairs = vec![("a".to_owned(), b"1".to_vec()), ("b".to_owned(), b"{oops".to_vec())];
        assert!(Fields::from_stored(StoredFields::PerField(pairs)).is_err());
        let pairs = vec![(USER_FIELD.to_owned(), b"nope".to_vec())];
        assert!(Fields::from_stored(StoredFields::PerField(pairs)).is_err());
    }

    #[test]
    fn a_repeated_name_reads_as_its_last_value_as_a_full_parse_does() {
        let mut fields = Fields::from_stored(StoredFields::Object(br#"{"a":1,"a":2}"#.as_slice().into())).unwrap();
        assert_eq!(fields.get("a"), Some(&json!(2)));
        assert_eq!(fields.all().get("a"), Some(&json!(2)));
    }
}
