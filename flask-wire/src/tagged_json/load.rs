//! Loading: tagged JSON text to values, keeping integers beyond 64 bits exactly.

use super::*;

/// Parse Flask TaggedJSON text and untag it (see the module docs).
///
/// # Errors
///
/// [`Error::Json`] for text that is not JSON (or nests too deep), [`Error::BadTag`] for a `" t"`
/// or `" di"` object Flask could not have written.
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let value = tagged_json::loads(r#"{"k":{" di":{" t__":1}}}"#).unwrap();
/// assert_eq!(value, json!({"k": {" t": 1}}));
/// ```
pub fn loads(text: &str) -> Result<Value, Error> {
    let value = untag(parse(text).map_err(|e| Error::Json(e.to_string()))?)?;
    check_dump_depth(&value, 0)?;
    Ok(value)
}

/// [`Error::TooDeep`] where [`dumps`](super::dumps) would give it: the same walk, writing nothing.
/// (A one-key tag object read at the deepest level is written back one level deeper, with the
/// `" di"` escape; found by the `tagged_json` fuzz target's round-trip property.)
fn check_dump_depth(value: &Value, depth: usize) -> Result<(), Error> {
    match value {
        Value::Object(map) if big_int_digits(map).is_some() => Ok(()),
        Value::Array(_) | Value::Object(_) if container_too_deep(depth) => Err(Error::TooDeep),
        Value::Array(items) => items.iter().try_for_each(|item| check_dump_depth(item, depth + 1)),
        Value::Object(map) => match single_entry(map) {
            Some((key, inner)) if key == TAG_TUPLE && inner.is_array() => check_dump_depth(inner, depth + 1),
            Some((key, inner)) if is_tag(key) && emit_as_tag(key, inner) => Ok(()),
            Some((key, inner)) if is_tag(key) => {
                if container_too_deep(depth + 1) {
                    return Err(Error::TooDeep);
                }
                check_dump_depth(inner, depth + 2)
            }
            _ => map.values().try_for_each(|v| check_dump_depth(v, depth + 1)),
        },
        _ => Ok(()),
    }
}

/// Parse JSON text, keeping integers beyond 64 bits as `{" i": "<digits>"}`.
///
/// serde_json (without `arbitrary_precision`, which would change number handling for every crate
/// in the build) hands such an integer to its visitor as an `f64`, digits lost. So a pre-pass
/// lists, in document order, how each number that will reach the visitor as an `f64` was
/// written; text without a big integer (nearly all) is parsed exactly as before, and text with
/// one through [`Seed`], which takes the digits from that list.
pub(super) fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let Some(wide) = wide_numbers(text) else {
        return serde_json::from_str(text);
    };
    let next = std::cell::Cell::new(0);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Seed { wide: &wide, next: &next }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// The number literals of `text` that serde_json parses as `f64`, in document order: `Some` with
/// the digits of an integer beyond 64 bits, `None` for a float (a fraction, an exponent, `-0`).
/// `None` overall when there is no big integer.
pub(super) fn wide_numbers(text: &str) -> Option<Vec<Option<&str>>> {
    let bytes = text.as_bytes();
    let mut wide = Vec::new();
    let mut any_big = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                // ASCII only, so `start..i` are char boundaries.
                let literal = &text[start..i];
                if is_big_int(literal) {
                    wide.push(Some(literal));
                    any_big = true;
                } else if literal.contains(['.', 'e', 'E']) || literal == "-0" || !is_int_literal(literal) {
                    // A float, or what serde_json reads as one (`-0`, too many digits), or an
                    // error it reports.
                    wide.push(None);
                }
            }
            _ => i += 1,
        }
    }
    any_big.then_some(wide)
}

/// Builds a [`Value`] like serde_json's own, but each `f64` it is handed is matched with the
/// next entry of `wide`: an integer beyond 64 bits becomes `{" i": "<digits>"}`.
#[derive(Clone, Copy)]
pub(super) struct Seed<'a> {
    wide: &'a [Option<&'a str>],
    next: &'a std::cell::Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(i.into())
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(u.into())
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        let index = self.next.get();
        self.next.set(index + 1);
        match self.wide.get(index) {
            // The same number (a check that the pre-pass and the parser agree).
            Some(Some(digits)) if digits.parse::<f64>().ok() == Some(f) => Ok(big_int_value(digits)),
            _ => Number::from_f64(f).map(Value::Number).ok_or_else(|| E::custom("non-finite number")),
        }
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// `{" i": digits}`.
pub(super) fn big_int_value(digits: &str) -> Value {
    let mut map = Map::new();
    map.insert(TAG_BIG_INT.to_owned(), Value::String(digits.to_owned()));
    Value::Object(map)
}

/// Untag an already-parsed JSON value, children first. An integer beyond 64 bits is already a
/// float in a parsed `Value`: [`loads`] keeps its digits.
///
/// # Errors
///
/// [`Error::BadTag`] for a `" t"` or `" di"` object Flask could not have written.
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let parsed = json!({"cart": {" di": {" t__": 1}}, "pair": {" t": [1, 2]}});
/// assert_eq!(tagged_json::untag(parsed).unwrap(), json!({"cart": {" t": 1}, "pair": {" t": [1, 2]}}));
/// ```
pub fn untag(value: Value) -> Result<Value, Error> {
    match value {
        Value::Array(items) => items.into_iter().map(untag).collect::<Result<Vec<_>, _>>().map(Value::Array),
        Value::Object(map) => {
            let mut untagged = Map::new();
            for (k, v) in map {
                untagged.insert(k, untag(v)?);
            }
            untag_one(untagged)
        }
        scalar => Ok(scalar),
    }
}

pub(super) fn untag_one(mut map: Map<String, Value>) -> Result<Value, Error> {
    let tag = match single_entry(&map) {
        Some((k, _)) if k == TAG_TUPLE => TAG_TUPLE,
        Some((k, _)) if k == TAG_DICT => TAG_DICT,
        _ => return Ok(Value::Object(map)),
    };
    let inner = map.remove(tag).unwrap_or(Value::Null);
    if tag == TAG_TUPLE {
        return match inner {
            Value::Array(items) => {
                // Kept tagged, so that it goes back to Python as a tuple.
                map.insert(TAG_TUPLE.to_owned(), Value::Array(items));
                Ok(Value::Object(map))
            }
            _ => Err(Error::BadTag { tag: TAG_TUPLE, reason: "tuple payload is not an array" }),
        };
    }
    match inner {
        Value::Object(inner) if inner.len() == 1 => {
            let mut result = Map::new();
            for (key, v) in inner {
                // Python: `key[:-2]` (drops two code points, never fails).
                let mut chars = key.chars();
                chars.next_back();
                chars.next_back();
                result.insert(chars.as_str().to_owned(), v);
            }
            Ok(Value::Object(result))
        }
        _ => Err(Error::BadTag { tag: TAG_DICT, reason: "dict payload is not an object with exactly one key" }),
    }
}
