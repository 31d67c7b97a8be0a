//! [`ConfigError`]: what is wrong with a configuration, and where.

use std::fmt;

/// A configuration that cannot work, naming the session and the key at fault.
///
/// ```
/// let err = session_plus::Config::from_toml_str(r#"
///     [[session]]
///     cookie_name = "csrf"
///     cookie_samsite = "Lax"
/// "#).unwrap_err();
/// assert_eq!(err.session(), Some("csrf"));
/// assert_eq!(err.key(), Some("cookie_samsite"));
/// assert!(err.to_string().starts_with("session `csrf`, key `cookie_samsite`: unknown key"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    session: Option<String>,
    key: Option<String>,
    message: String,
}

impl ConfigError {
    /// An error about `key` of the session `session`.
    pub(crate) fn new(session: &str, key: &str, message: impl Into<String>) -> Self {
        Self::at(Some(session), Some(key), message)
    }

    /// An error about the configuration as a whole, or one of its top-level keys.
    pub(crate) fn global(key: Option<&str>, message: impl Into<String>) -> Self {
        Self::at(None, key, message)
    }

    /// An error about a session (by name, or `#N` before its name is known) and maybe a key.
    pub(crate) fn at(session: Option<&str>, key: Option<&str>, message: impl Into<String>) -> Self {
        Self { session: session.map(str::to_owned), key: key.map(str::to_owned), message: message.into() }
    }

    /// The session at fault (its cookie name, or `#N` when it has none), if the error is about one.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The key at fault, if the error is about one.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.session, &self.key) {
            (Some(session), Some(key)) => {
                write!(f, "session `{session}`, key `{key}`: {}", self.message)
            }
            (Some(session), None) => write!(f, "session `{session}`: {}", self.message),
            (None, Some(key)) => write!(f, "key `{key}`: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}
