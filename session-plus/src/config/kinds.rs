//! The configuration's enumerations: backends, wire formats, `SameSite`, field selectors and
//! itsdangerous's settings. Each parses its configuration name once, with [`FromStr`], which its
//! `Deserialize` uses.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};

/// Where a session keeps its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionType {
    /// The fields themselves, signed (optionally encrypted) in the cookie.
    #[default]
    SecureCookie,
    /// In process memory (tests, one process).
    Memory,
    /// A SQLite database file (feature `store-sqlite`).
    Sqlite,
    /// Redis.
    Redis,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// Memcached.
    Memcache,
    /// MongoDB.
    Mongodb,
    /// Google Cloud Firestore.
    Firestore,
    /// A store given in code with [`SessionManagerBuilder::with_store`](crate::SessionManagerBuilder::with_store).
    Custom,
}

impl SessionType {
    /// The name used in configuration files.
    ///
    /// ```
    /// assert_eq!(session_plus::SessionType::SecureCookie.as_str(), "secure_cookie");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecureCookie => "secure_cookie",
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
            Self::Redis => "redis",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Memcache => "memcache",
            Self::Mongodb => "mongodb",
            Self::Firestore => "firestore",
            Self::Custom => "custom",
        }
    }

    /// Whether the fields live on the server, behind an id cookie.
    ///
    /// ```
    /// assert!(session_plus::SessionType::Memory.is_server_side());
    /// assert!(!session_plus::SessionType::SecureCookie.is_server_side());
    /// ```
    pub fn is_server_side(self) -> bool {
        self != Self::SecureCookie
    }
}

impl FromStr for SessionType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "secure_cookie" => Self::SecureCookie,
            "memory" => Self::Memory,
            "sqlite" => Self::Sqlite,
            "redis" => Self::Redis,
            "postgres" | "postgresql" => Self::Postgres,
            "mysql" | "mariadb" => Self::Mysql,
            "memcache" | "memcached" => Self::Memcache,
            "mongodb" => Self::Mongodb,
            "firestore" => Self::Firestore,
            "custom" => Self::Custom,
            _ => return Err(format!("unknown session type `{s}`")),
        })
    }
}

impl fmt::Display for SessionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which fields a session holds (`session_fields`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FieldSelector {
    /// `[]`: every field.
    #[default]
    All,
    /// `["a", "b"]`: these fields.
    List(BTreeSet<String>),
    /// `{include = [..], exclude = [..]}`: the included fields (every field when `include` is
    /// empty), less the excluded ones.
    IncludeExclude {
        /// Fields held; empty means every field.
        include: BTreeSet<String>,
        /// Fields never held.
        exclude: BTreeSet<String>,
    },
    /// `"auto"`: every field that no other session lists.
    Auto,
}

impl FieldSelector {
    /// The fields this selector names as included.
    pub(crate) fn included(&self) -> Option<&BTreeSet<String>> {
        match self {
            Self::List(fields) => Some(fields),
            Self::IncludeExclude { include, .. } => Some(include),
            Self::All | Self::Auto => None,
        }
    }
}

impl<'de> Deserialize<'de> for FieldSelector {
    /// `[]`, `["a", "b"]`, `{include = [..], exclude = [..]}` or `"auto"`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldSelectorVisitor)
    }
}

struct FieldSelectorVisitor;

impl<'de> Visitor<'de> for FieldSelectorVisitor {
    type Value = FieldSelector;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"[], a list of fields, {include = [..], exclude = [..]} or "auto""#)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        match value {
            "auto" => Ok(FieldSelector::Auto),
            _ => Err(E::invalid_value(Unexpected::Str(value), &self)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let fields = BTreeSet::<String>::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(if fields.is_empty() { FieldSelector::All } else { FieldSelector::List(fields) })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct IncludeExclude {
            #[serde(default)]
            include: BTreeSet<String>,
            #[serde(default)]
            exclude: BTreeSet<String>,
        }
        let IncludeExclude { include, exclude } = IncludeExclude::deserialize(MapAccessDeserializer::new(map))?;
        Ok(FieldSelector::IncludeExclude { include, exclude })
    }
}

/// The wire format of a session (`format`).
///
/// | format | `secure_cookie` | `redis` | `memcache` |
/// |---|---|---|---|
/// | `native` | session-plus's signed/encrypted cookie | a hash per session | CAS item |
/// | `flask` | Flask's itsdangerous cookie (SHA-1) | — | — |
/// | `flask-session-plus` | the same with SHA3-256 | `session<uuid4>`, tagged JSON | the same |
/// | `flask-session` | — | Flask-Session 0.8: `session:<token>`, MessagePack | — |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// session-plus's own formats.
    #[default]
    Native,
    /// What Flask's `SecureCookieSessionInterface` reads and writes.
    Flask,
    /// What flask-session-plus reads and writes.
    FlaskSessionPlus,
    /// What Flask-Session 0.8 reads and writes.
    FlaskSession,
}

impl Format {
    /// The name used in configuration files.
    ///
    /// ```
    /// assert_eq!(session_plus::config::Format::FlaskSessionPlus.as_str(), "flask-session-plus");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Flask => "flask",
            Self::FlaskSessionPlus => "flask-session-plus",
            Self::FlaskSession => "flask-session",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "native" => Self::Native,
            "flask" => Self::Flask,
            "flask-session-plus" => Self::FlaskSessionPlus,
            "flask-session" => Self::FlaskSession,
            _ => return Err(format!("expected native, flask, flask-session-plus or flask-session, not `{s}`")),
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cookie's `SameSite` attribute (`cookie_samesite`, case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`, the default.
    #[default]
    Lax,
    /// `SameSite=None` (requires `cookie_secure`).
    None,
}

impl FromStr for SameSite {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Ok(Self::Strict),
            "lax" => Ok(Self::Lax),
            "none" => Ok(Self::None),
            _ => Err(format!("expected Strict, Lax or None, not `{s}`")),
        }
    }
}

/// The hash of a Flask-format cookie's itsdangerous signature (`digest`).
///
/// Without it, `flask` signs with SHA-1 and `flask-session-plus` with SHA3-256 (see
/// [`FlaskOptions::digest_or_default`](super::FlaskOptions::digest_or_default)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlaskDigest {
    /// `sha1`, Flask's default.
    Sha1,
    /// `sha256`.
    Sha256,
    /// `sha3_256`, flask-session-plus's cookie.
    Sha3_256,
    /// `sha512`.
    Sha512,
}

impl FlaskDigest {
    const ALL: [Self; 4] = [Self::Sha1, Self::Sha256, Self::Sha3_256, Self::Sha512];

    /// The name used in configuration files.
    ///
    /// ```
    /// assert_eq!(session_plus::config::FlaskDigest::Sha3_256.as_str(), "sha3_256");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha3_256 => "sha3_256",
            Self::Sha512 => "sha512",
        }
    }
}

/// How itsdangerous derives a Flask-format cookie's signing key from the secret (`key_derivation`,
/// `hmac` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FlaskKeyDerivation {
    /// `hmac`: `HMAC(secret, salt)`, what Flask uses.
    #[default]
    Hmac,
    /// `django-concat`: `H(salt ‖ "signer" ‖ secret)`.
    DjangoConcat,
    /// `concat`: `H(salt ‖ secret)`.
    Concat,
    /// `none`: the secret itself.
    None,
}

impl FlaskKeyDerivation {
    const ALL: [Self; 4] = [Self::Hmac, Self::DjangoConcat, Self::Concat, Self::None];

    /// The name used in configuration files.
    ///
    /// ```
    /// assert_eq!(session_plus::config::FlaskKeyDerivation::DjangoConcat.as_str(), "django-concat");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hmac => "hmac",
            Self::DjangoConcat => "django-concat",
            Self::Concat => "concat",
            Self::None => "none",
        }
    }
}

/// `FromStr` and `Display` from `as_str` and the `ALL` list, so each name is written once.
macro_rules! names_from_as_str {
    ($($ty:ty),*) => {$(
        impl FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.into_iter().find(|kind| kind.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.into_iter().map(Self::as_str).collect();
                    format!("expected one of {}, not `{s}`", names.join(", "))
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

names_from_as_str!(FlaskDigest, FlaskKeyDerivation);

/// `Deserialize` from a string, through `FromStr`, whose message the error carries.
macro_rules! deserialize_from_str {
    ($($ty:ty),*) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer)?.parse().map_err(de::Error::custom)
            }
        }
    )*};
}

deserialize_from_str!(SessionType, Format, SameSite, FlaskDigest, FlaskKeyDerivation);
