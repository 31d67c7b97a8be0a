//! [`SecretKey`]: one key of a key ring, a literal or an environment variable.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use super::ConfigError;

/// Secrets shorter than this are refused: HMAC-SHA256 wants a 256-bit key.
pub const MIN_SECRET_LEN: usize = 32;

/// One secret of the key ring: a literal, or the name of an environment variable.
///
/// In a configuration file it is a string: the key itself, or `"env:NAME"`.
#[derive(Clone)]
#[non_exhaustive]
pub enum SecretKey {
    /// The key itself (development only: keep real keys out of files).
    Literal(Zeroizing<String>),
    /// `env:NAME`: read the variable `NAME` when the manager is built.
    Env(String),
}

impl SecretKey {
    pub(crate) fn parse(text: String) -> Self {
        match text.strip_prefix("env:") {
            Some(name) => Self::Env(name.to_owned()),
            None => Self::Literal(Zeroizing::new(text)),
        }
    }

    /// The key's bytes whatever their length (a Flask application's own key).
    pub(crate) fn resolve_raw(&self) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        match self {
            Self::Literal(value) => Ok(Zeroizing::new(value.as_bytes().to_vec())),
            Self::Env(name) => std::env::var(name).map(|v| Zeroizing::new(v.into_bytes())).map_err(|_| {
                ConfigError::global(Some("secret_keys"), format!("environment variable `{name}` is not set"))
            }),
        }
    }

    /// The key's bytes, reading the environment for `env:` keys.
    ///
    /// ```
    /// use session_plus::Config;
    /// let config = Config::new().with_secret_key("a literal key for development, at least 32 bytes long");
    /// assert_eq!(config.secret_keys()[0].resolve()?.len(), 53);
    /// # Ok::<(), session_plus::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// The variable is not set, or the key is shorter than 32 bytes.
    pub fn resolve(&self) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
        let bytes = self.resolve_raw()?;
        if bytes.len() < MIN_SECRET_LEN {
            return Err(ConfigError::global(
                Some("secret_keys"),
                format!("a key must be at least {MIN_SECRET_LEN} bytes long"),
            ));
        }
        Ok(bytes)
    }

    /// A literal key shorter than `min` bytes (an `env:` key is checked when it is resolved).
    pub(crate) fn is_literal_shorter_than(&self, min: usize) -> bool {
        matches!(self, Self::Literal(value) if value.len() < min)
    }
}

impl fmt::Debug for SecretKey {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal(_) => f.write_str("SecretKey::Literal(..)"),
            Self::Env(name) => write!(f, "SecretKey::Env({name:?})"),
        }
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    /// A string: the key itself, or `env:NAME`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::parse)
    }
}
