//! Typed helpers: the tagged values as Rust types with serde impls.

use super::*;

/// Serialize `{tag: text}`.
pub(super) fn serialize_tagged<S: Serializer>(serializer: S, tag: &str, text: &str) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(tag, text)?;
    map.end()
}

pub(super) struct TaggedVisitor(&'static str);

impl<'de> Visitor<'de> for TaggedVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object {{{:?}: string}}", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<String, A::Error> {
        let mut found: Option<String> = None;
        while let Some(key) = access.next_key::<String>()? {
            if key != self.0 || found.is_some() {
                return Err(de::Error::invalid_value(de::Unexpected::Str(&key), &self));
            }
            found = Some(access.next_value::<String>()?);
        }
        found.ok_or_else(|| de::Error::missing_field(self.0))
    }
}

pub(super) fn deserialize_tagged<'de, D: Deserializer<'de>>(
    deserializer: D,
    tag: &'static str,
) -> Result<String, D::Error> {
    deserializer.deserialize_map(TaggedVisitor(tag))
}

/// A Python `int` of any size, as its decimal digits.
///
/// In memory one that fits in 64 bits is a plain JSON number, and one beyond is
/// `{" i": "<digits>"}`, which [`loads`] makes of such an integer and [`dumps`] writes back as
/// the bare digits Python wrote. Serializing gives the same two forms; deserializing accepts
/// both.
///
/// ```
/// use flask_wire::tagged_json::{self, BigInt};
/// use serde_json::json;
///
/// // session["n"] = 2**100 in Python:
/// let value = tagged_json::loads(r#"{"n":1267650600228229401496703205376}"#).unwrap();
/// assert_eq!(value["n"], json!({" i": "1267650600228229401496703205376"}));
/// let n: BigInt = serde_json::from_value(value["n"].clone()).unwrap();
/// assert_eq!(n.as_str(), "1267650600228229401496703205376");
/// assert_eq!(tagged_json::dumps(&value).unwrap(), r#"{"n":1267650600228229401496703205376}"#);
///
/// assert_eq!(serde_json::to_value(BigInt::from(42_u64)).unwrap(), json!(42));
/// assert_eq!(BigInt::new("007"), None, "not how Python writes an int");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BigInt(String);

impl BigInt {
    /// The integer written as `digits`: a decimal literal as Python's `repr(int)` writes it (an
    /// optional `-`, no leading zero, not `-0`), of at most 4300 digits (Python's own limit).
    /// `None` otherwise.
    ///
    /// ```
    /// use flask_wire::tagged_json::BigInt;
    /// assert!(BigInt::new("-123456789012345678901234567890").is_some());
    /// assert_eq!(BigInt::new("1e30"), None);
    /// ```
    pub fn new(digits: impl Into<String>) -> Option<Self> {
        let digits = digits.into();
        is_int_literal(&digits).then_some(BigInt(digits))
    }

    /// The decimal digits, with a leading `-` when negative.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for BigInt {
    fn from(n: i64) -> Self {
        BigInt(n.to_string())
    }
}

impl From<u64> for BigInt {
    fn from(n: u64) -> Self {
        BigInt(n.to_string())
    }
}

impl From<i128> for BigInt {
    fn from(n: i128) -> Self {
        BigInt(n.to_string())
    }
}

impl From<u128> for BigInt {
    fn from(n: u128) -> Self {
        BigInt(n.to_string())
    }
}

impl Serialize for BigInt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Ok(n) = self.0.parse::<u64>() {
            serializer.serialize_u64(n)
        } else if let Ok(n) = self.0.parse::<i64>() {
            serializer.serialize_i64(n)
        } else {
            serialize_tagged(serializer, TAG_BIG_INT, &self.0)
        }
    }
}

pub(super) struct BigIntVisitor;

impl<'de> Visitor<'de> for BigIntVisitor {
    type Value = BigInt;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an integer, or {" i": "<digits beyond 64 bits>"}"#)
    }

    fn visit_i64<E>(self, n: i64) -> Result<BigInt, E> {
        Ok(n.into())
    }

    fn visit_u64<E>(self, n: u64) -> Result<BigInt, E> {
        Ok(n.into())
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<BigInt, A::Error> {
        let digits = TaggedVisitor(TAG_BIG_INT).visit_map(access)?;
        if is_big_int(&digits) {
            Ok(BigInt(digits))
        } else {
            Err(de::Error::custom(format!("not an integer beyond 64 bits: {digits:?}")))
        }
    }
}

impl<'de> Deserialize<'de> for BigInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BigIntVisitor)
    }
}

/// Python `bytes`, on the wire `{" b": "<standard base64 with padding>"}`.
///
/// Deserializing accepts standard base64 with or without padding.
///
/// ```
/// use flask_wire::tagged_json::Bytes;
/// use serde_json::json;
/// let bytes = Bytes(b"\x00\xfb\xff hello".to_vec());
/// assert_eq!(serde_json::to_value(&bytes).unwrap(), json!({" b": "APv/IGhlbGxv"}));
/// assert_eq!(serde_json::from_value::<Bytes>(json!({" b": "APv/IGhlbGxv"})).unwrap(), bytes);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, TAG_BYTES, &STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const LENIENT: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new()
                .with_decode_padding_mode(DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        );
        let text = deserialize_tagged(deserializer, TAG_BYTES)?;
        LENIENT.decode(text.as_bytes()).map(Bytes).map_err(|e| de::Error::custom(format!("bad base64 in \" b\": {e}")))
    }
}

/// `markupsafe.Markup`, on the wire `{" m": "<html>"}`.
///
/// ```
/// use flask_wire::tagged_json::Markup;
/// use serde_json::json;
/// let markup = Markup("<b>hi</b>".to_owned());
/// assert_eq!(serde_json::to_value(&markup).unwrap(), json!({" m": "<b>hi</b>"}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Markup(pub String);

impl Serialize for Markup {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, TAG_MARKUP, &self.0)
    }
}

impl<'de> Deserialize<'de> for Markup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer, TAG_MARKUP).map(Markup)
    }
}

/// A UTC `datetime` with whole seconds (Flask drops microseconds), as Unix
/// seconds; on the wire `{" d": "Tue, 14 Nov 2023 22:13:20 GMT"}`.
///
/// Only 1970-01-01 to 9999-12-31 can be represented; serializing a later
/// time fails. Deserializing accepts exactly that layout, with a valid date between 1970 and
/// 9999.
///
/// ```
/// use flask_wire::tagged_json::HttpDate;
/// use serde_json::json;
/// let date = HttpDate(1_700_000_000);
/// assert_eq!(serde_json::to_value(date).unwrap(), json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"}));
/// let back: HttpDate = serde_json::from_value(json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"})).unwrap();
/// assert_eq!(back, date);
/// assert!(serde_json::to_value(HttpDate(u64::MAX)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HttpDate(pub u64);

impl Serialize for HttpDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = format_http_date(self.0).ok_or_else(|| serde::ser::Error::custom("datetime after year 9999"))?;
        serialize_tagged(serializer, TAG_DATETIME, &text)
    }
}

impl<'de> Deserialize<'de> for HttpDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserialize_tagged(deserializer, TAG_DATETIME)?;
        parse_http_date(&text).map(HttpDate).ok_or_else(|| de::Error::custom(format!("bad http date {text:?}")))
    }
}

/// A UUID; on the wire `{" u": "<32 lowercase hex digits>"}`.
///
/// Deserializing accepts what Python's `UUID()` accepts: 32 hex digits in
/// either case, optionally hyphenated, braced or with a `urn:uuid:` prefix.
///
/// ```
/// use flask_wire::tagged_json::Uuid;
/// use serde_json::json;
/// let uuid = Uuid::parse("12345678-1234-5678-1234-567812345678").unwrap();
/// assert_eq!(serde_json::to_value(uuid).unwrap(), json!({" u": "12345678123456781234567812345678"}));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The 32-character lowercase hex form Flask emits.
    ///
    /// ```
    /// let uuid = flask_wire::tagged_json::Uuid([0xab; 16]);
    /// assert_eq!(uuid.to_hex(), "abababababababababababababababab");
    /// ```
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The canonical hyphenated form (`str(uuid)` in Python).
    ///
    /// ```
    /// let uuid = flask_wire::tagged_json::Uuid([0xab; 16]);
    /// assert_eq!(uuid.to_hyphenated(), "abababab-abab-abab-abab-abababababab");
    /// ```
    pub fn to_hyphenated(&self) -> String {
        let hex = self.to_hex();
        format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    }

    /// Parse any form Python's `UUID(hex)` accepts.
    ///
    /// ```
    /// use flask_wire::tagged_json::Uuid;
    /// let uuid = Uuid::parse("{12345678-1234-5678-1234-567812345678}").unwrap();
    /// assert_eq!(Uuid::parse("urn:uuid:12345678123456781234567812345678"), Some(uuid));
    /// assert_eq!(Uuid::parse("not a uuid"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Uuid> {
        parse_uuid(text).map(Uuid)
    }
}

pub(super) fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    // Python: hex.replace('urn:', '').replace('uuid:', '').strip('{}').replace('-', '')
    let cleaned = text.replace("urn:", "").replace("uuid:", "");
    let cleaned = cleaned.trim_matches(|c| c == '{' || c == '}').replace('-', "");
    let bytes = cleaned.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, TAG_UUID, &self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserialize_tagged(deserializer, TAG_UUID)?;
        Uuid::parse(&text).ok_or_else(|| de::Error::custom(format!("bad uuid {text:?}")))
    }
}
