//! Reading a configuration with serde: the session tables split among the typed groups, and the
//! helpers the groups' derives use (durations, `none`, HTTP statuses).
//!
//! A session table is flat (`cookie_secure` beside `session_lifetime`), while [`SessionConfig`]
//! keeps its keys in groups. The table is read into a map; `cookie_name` is taken first, so that
//! every later error can name the session; each group then takes the keys its serde derive
//! declares (read with [`fields`]) and is deserialized with `serde_path_to_error`, which names the
//! key at fault. A key that no group declares is refused, with the list of every key.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::options::{BackendOptions, CookieOptions, ErrorStatuses, FlaskOptions, Lifetimes};
use super::session::TopLevel;
use super::{Config, ConfigError, SecretKey, SessionConfig};

/// A table as read from any serde format.
pub(super) type Table = Map<String, Value>;

/// Reads a whole configuration (`secret_keys` and the `session` list) and validates it.
pub(super) fn config(top: Table) -> Result<Config, ConfigError> {
    let mut config = Config::new();
    for (key, value) in top {
        match key.as_str() {
            "secret_keys" => {
                let keys = Vec::<SecretKey>::deserialize(value)
                    .map_err(|e| ConfigError::global(Some(&key), format!("expected a list of strings: {e}")))?;
                config.secret_keys.extend(keys);
            }
            "session" | "sessions" => {
                let Value::Array(items) = value else {
                    return Err(ConfigError::global(Some(&key), "expected a list of sessions"));
                };
                for (index, item) in items.into_iter().enumerate() {
                    let label = format!("#{}", index + 1);
                    let Value::Object(table) = item else {
                        return Err(ConfigError::at(Some(&label), None, "a session must be a table/object"));
                    };
                    config.sessions.push(session(&label, table)?);
                }
            }
            _ => return Err(ConfigError::global(Some(&key), "unknown key; expected `secret_keys` or `session`")),
        }
    }
    config.validate()?;
    Ok(config)
}

/// Reads one session table; `label` (`#N`) names it until its `cookie_name` is known. Validation
/// is the caller's.
pub(super) fn session(label: &str, mut table: Table) -> Result<SessionConfig, ConfigError> {
    let name = match table.remove("cookie_name") {
        Some(Value::String(name)) => name,
        Some(_) => return Err(ConfigError::new(label, "cookie_name", "expected a string")),
        None => return Err(ConfigError::new(label, "cookie_name", "is required")),
    };
    let known = session_keys();
    if let Some(key) = table.keys().find(|key| !known.contains(&key.as_str())) {
        return Err(ConfigError::new(&name, key, format!("unknown key; expected one of: {}", known.join(", "))));
    }
    let mut rest = Rest { session: &name, table };
    Ok(SessionConfig::from_parts(
        name.clone(),
        rest.take::<TopLevel>()?,
        rest.take::<CookieOptions>()?,
        rest.take::<Lifetimes>()?,
        rest.take::<BackendOptions>()?,
        rest.take::<FlaskOptions>()?,
        rest.take::<ErrorStatuses>()?,
    ))
}

/// Every key a session table may hold: `cookie_name`, then each group's, in declaration order.
pub(super) fn session_keys() -> Vec<&'static str> {
    let groups = [
        fields::<TopLevel>(),
        fields::<CookieOptions>(),
        fields::<Lifetimes>(),
        fields::<BackendOptions>(),
        fields::<FlaskOptions>(),
        fields::<ErrorStatuses>(),
    ];
    std::iter::once("cookie_name").chain(groups.into_iter().flatten().copied()).collect()
}

/// The keys of a session table that no group has taken yet.
struct Rest<'a> {
    session: &'a str,
    table: Table,
}

impl Rest<'_> {
    /// Takes the keys `T` declares and deserializes them; an error names the session and the key.
    fn take<T: DeserializeOwned>(&mut self) -> Result<T, ConfigError> {
        let part: Table = fields::<T>().iter().filter_map(|key| self.table.remove_entry(*key)).collect();
        serde_path_to_error::deserialize(Value::Object(part)).map_err(|error| {
            let key = match error.path().iter().next() {
                Some(serde_path_to_error::Segment::Map { key }) => Some(key.clone()),
                _ => None,
            };
            ConfigError::at(Some(self.session), key.as_deref(), error.into_inner().to_string())
        })
    }
}

/// The field names of a struct, read from its derived `Deserialize` (the names its
/// `deserialize_struct` call passes), so that each key is written once, in the struct.
pub(super) fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The deserializer always fails: it only records the names.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that records the field names of the struct asked for, and fails.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only a struct's field names are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field names read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Parses a duration: whole seconds as a number or a string of digits, or a humane string such
/// as `"30m"`, `"1d"` or `"1h 30m"`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration `{text}`: {e} (use seconds or e.g. \"30m\", \"1d\")"))
}

/// `deserialize_with` for a duration: seconds, or a string for [`parse_duration`].
pub(super) fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

/// `deserialize_with` for a duration whose default is none: `none`/null is `None`.
pub(super) fn optional_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    deserializer.deserialize_any(Optional(DurationVisitor))
}

/// `deserialize_with` for a string whose default is none: `none`/null is `None`.
pub(super) fn optional_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_any(Optional(StringVisitor))
}

/// `deserialize_with` for the status of a failure: an HTTP error status (400-599).
pub(super) fn error_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<StatusCode, D::Error> {
    let status = deserializer.deserialize_any(StatusVisitor)?;
    check_error_status(status).map_err(de::Error::custom)?;
    Ok(status)
}

/// Refuses a status that is not an HTTP error.
pub(super) fn check_error_status(status: StatusCode) -> Result<(), String> {
    if status.is_client_error() || status.is_server_error() {
        Ok(())
    } else {
        Err(format!("must be an HTTP error status (400-599), not {status}"))
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("seconds or a duration such as \"30m\" or \"1d\"")
    }

    fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Self::Value, E> {
        Ok(Duration::from_secs(secs))
    }

    fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Self::Value, E> {
        u64::try_from(secs).map(Duration::from_secs).map_err(|_| E::custom("expected whole seconds"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom("expected whole seconds"))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse_duration(text).map_err(E::custom)
    }
}

struct StatusVisitor;

impl Visitor<'_> for StatusVisitor {
    type Value = StatusCode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an HTTP status code such as 503")
    }

    fn visit_u64<E: de::Error>(self, code: u64) -> Result<Self::Value, E> {
        u16::try_from(code)
            .ok()
            .and_then(|code| StatusCode::from_u16(code).ok())
            .ok_or_else(|| E::custom(format!("expected an HTTP status code, not {code}")))
    }

    fn visit_i64<E: de::Error>(self, code: i64) -> Result<Self::Value, E> {
        match u64::try_from(code) {
            Ok(code) => self.visit_u64(code),
            Err(_) => Err(E::custom(format!("expected an HTTP status code, not {code}"))),
        }
    }
}

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(text.to_owned())
    }
}

/// Wraps a visitor for a key whose default is none: null or the string `none` (any case) is
/// `None`, anything else is what the inner visitor makes of it.
struct Optional<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Optional<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(", or none")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.eq_ignore_ascii_case("none") {
            Ok(None)
        } else {
            self.0.visit_str(text).map(Some)
        }
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        self.0.visit_bool(value).map(Some)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(value).map(Some)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(value).map(Some)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        self.0.visit_f64(value).map(Some)
    }
}
