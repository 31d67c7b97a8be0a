//! The configuration: a list of named sessions, their cookies, backends and lifetimes.
//!
//! It mirrors flask-session-plus's `SESSION_CONFIG`: every key keeps the seed's name and default.
//! A [`Config`] is read from TOML or JSON, or built in code, and is checked as a whole by
//! [`Config::validate`] (which [`SessionManager`](crate::SessionManager) calls too): a bad
//! configuration is refused at start-up with a [`ConfigError`] that names the session and the key.
//!
//! Both [`Config`] and [`SessionConfig`] implement `serde::Deserialize`, so a configuration can
//! also sit inside an application's own settings (figment, config-rs, a section of a TOML file);
//! the serde error then carries the same message. A session is one flat table of keys, which
//! [`SessionConfig`] keeps in typed groups: [`CookieOptions`], [`Lifetimes`], [`BackendOptions`],
//! [`FlaskOptions`] and [`ErrorStatuses`].
//!
//! ```
//! use session_plus::config::{Config, FieldSelector, SessionConfig, SessionType};
//!
//! let config = Config::from_toml_str(r#"
//!     secret_keys = ["a literal key for development, at least 32 bytes long"]
//!
//!     [[session]]
//!     cookie_name = "csrf"
//!     session_fields = ["csrf_token"]
//!
//!     [[session]]
//!     cookie_name = "session"
//!     session_type = "memory"
//!     session_fields = ["user_id", "user_data"]
//!     session_lifetime = "2h"
//!
//!     [[session]]
//!     cookie_name = "data"
//!     session_fields = "auto"
//! "#)?;
//! assert_eq!(config.sessions().len(), 3);
//! assert_eq!(config.sessions()[1].session_type(), SessionType::Memory);
//!
//! // The same in code:
//! let built = Config::new()
//!     .with_secret_key("a literal key for development, at least 32 bytes long")
//!     .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
//!     .with_session(SessionConfig::new("session").with_type(SessionType::Memory)
//!         .with_fields(["user_id", "user_data"]))
//!     .with_session(SessionConfig::new("data").with_field_selector(FieldSelector::Auto));
//! built.validate()?;
//! # Ok::<(), session_plus::ConfigError>(())
//! ```
//!
//! Inside an application's settings:
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct AppSettings {
//!     port: u16,
//!     sessions: session_plus::Config,
//! }
//!
//! let settings: AppSettings = toml::from_str(r#"
//!     port = 8080
//!
//!     [sessions]
//!     secret_keys = ["env:SESSION_SECRET"]
//!
//!     [[sessions.session]]
//!     cookie_name = "session"
//!     session_type = "memory"
//! "#)?;
//! assert_eq!(settings.sessions.sessions()[0].cookie_name(), "session");
//! # assert_eq!(settings.port, 8080);
//! # Ok::<(), toml::de::Error>(())
//! ```

mod builders;
mod de;
mod error;
mod kinds;
mod options;
mod secret;
mod session;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub use error::ConfigError;
pub use kinds::{FieldSelector, FlaskDigest, FlaskKeyDerivation, Format, SameSite, SessionType};
#[cfg(feature = "store-redis")]
pub(crate) use options::MAX_REDIS_WAIT_TIMEOUT;
pub use options::{
    BackendOptions, CookieOptions, ErrorStatuses, FlaskOptions, Lifetimes, DEFAULT_PERMANENT_LIFETIME,
    DEFAULT_REDIS_WAIT_TIMEOUT, DEFAULT_SESSION_LIFETIME,
};
pub use secret::{SecretKey, MIN_SECRET_LEN};
pub use session::SessionConfig;

/// The whole configuration: a key ring and the list of sessions.
#[derive(Debug, Clone, Default)]
pub struct Config {
    secret_keys: Vec<SecretKey>,
    sessions: Vec<SessionConfig>,
}

impl Config {
    /// An empty configuration, to be filled with the `with_*` methods.
    ///
    /// ```
    /// let config = session_plus::Config::new();
    /// assert!(config.sessions().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and validates a TOML configuration (sessions as `[[session]]` tables).
    ///
    /// ```
    /// let config = session_plus::Config::from_toml_str(r#"
    ///     secret_keys = ["a literal key for development, at least 32 bytes long"]
    ///     [[session]]
    ///     cookie_name = "session"
    /// "#)?;
    /// assert_eq!(config.sessions()[0].cookie_name(), "session");
    /// # Ok::<(), session_plus::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// A syntax error, an unknown key, a value of the wrong type, or any check of [`Config::validate`].
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let table: de::Table =
            toml::from_str(text).map_err(|e| ConfigError::global(None, format!("invalid TOML: {e}")))?;
        de::config(table)
    }

    /// Reads and validates a JSON configuration (sessions as a `"session"` array).
    ///
    /// ```
    /// let config = session_plus::Config::from_json_str(r#"{
    ///     "secret_keys": ["a literal key for development, at least 32 bytes long"],
    ///     "session": [{"cookie_name": "session", "session_fields": "auto"}]
    /// }"#)?;
    /// assert_eq!(config.sessions().len(), 1);
    /// # Ok::<(), session_plus::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Config::from_toml_str`].
    pub fn from_json_str(text: &str) -> Result<Self, ConfigError> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| ConfigError::global(None, format!("invalid JSON: {e}")))?;
        let Value::Object(table) = json else {
            return Err(ConfigError::global(None, "the configuration must be a table/object"));
        };
        de::config(table)
    }

    /// Reads a file: JSON when its name ends in `.json`, TOML otherwise.
    ///
    /// ```no_run
    /// let config = session_plus::Config::from_file("sessions.toml")?;
    /// # Ok::<(), session_plus::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// An unreadable file, or as [`Config::from_toml_str`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::global(None, format!("cannot read {}: {e}", path.display())))?;
        if path.extension().is_some_and(|ext| ext == "json") {
            Self::from_json_str(&text)
        } else {
            Self::from_toml_str(&text)
        }
    }

    /// Adds a secret key; the first one added is the newest, used to sign (a key ring, newest first).
    ///
    /// A key is a literal, or `env:NAME` to read the environment variable `NAME` at start-up.
    ///
    /// ```
    /// let config = session_plus::Config::new()
    ///     .with_secret_key("env:SESSION_SECRET")
    ///     .with_secret_key("an older key, still accepted, at least 32 bytes");
    /// assert_eq!(config.secret_keys().len(), 2);
    /// ```
    pub fn with_secret_key(mut self, key: impl Into<String>) -> Self {
        self.secret_keys.push(SecretKey::parse(key.into()));
        self
    }

    /// Adds a session to the list.
    ///
    /// ```
    /// use session_plus::{Config, SessionConfig};
    /// let config = Config::new().with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]));
    /// assert_eq!(config.sessions()[0].cookie_name(), "csrf");
    /// ```
    pub fn with_session(mut self, session: SessionConfig) -> Self {
        self.sessions.push(session);
        self
    }

    /// The sessions, in configuration order.
    pub fn sessions(&self) -> &[SessionConfig] {
        &self.sessions
    }

    /// The key ring as configured (newest first); values are not resolved yet.
    pub fn secret_keys(&self) -> &[SecretKey] {
        &self.secret_keys
    }

    /// Checks the configuration as a whole.
    ///
    /// ```
    /// use session_plus::{Config, SessionConfig};
    /// let twice = Config::new()
    ///     .with_session(SessionConfig::new("s").with_type(session_plus::SessionType::Memory))
    ///     .with_session(SessionConfig::new("s").with_type(session_plus::SessionType::Memory));
    /// let err = twice.validate().unwrap_err();
    /// assert_eq!(err.session(), Some("s"));
    /// assert_eq!(err.key(), Some("cookie_name"));
    /// ```
    ///
    /// # Errors
    /// No session; a duplicate cookie name; two `"auto"` sessions; a field both included and
    /// excluded; a cookie domain or path holding `;`, `,` or a control character; a `__Host-`
    /// cookie with a domain, a path other than `/` or without `secure`; a `__Secure-` cookie
    /// without `secure`; `SameSite=None` without `secure`; a zero lifetime; a refresh interval not
    /// shorter than the lifetime; an error status outside 400-599; a Flask setting on a session
    /// without a Flask cookie; a signed or encrypted cookie and no secret key; a secret shorter
    /// than 32 bytes; a store without its connection key; `encrypt` on a server-side session.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sessions.is_empty() {
            return Err(ConfigError::global(Some("session"), "at least one session is required"));
        }
        let mut names = HashSet::new();
        let mut auto: Option<&str> = None;
        for (index, session) in self.sessions.iter().enumerate() {
            session.validate()?;
            if !names.insert(session.cookie_name.as_str()) {
                return Err(session.error("cookie_name", "is used by another session too"));
            }
            if let Some(other) = self.sessions[..index].iter().find(|other| session.shares_key_space_with(other)) {
                return Err(session.error(
                    "key_prefix",
                    format!(
                        "shares its store keys with session `{}`: give each session its own key_prefix",
                        other.cookie_name
                    ),
                ));
            }
            if session.session_fields == FieldSelector::Auto {
                if let Some(first) = auto {
                    return Err(session
                        .error("session_fields", format!("only one session may be \"auto\"; `{first}` is already")));
                }
                auto = Some(&session.cookie_name);
            }
            if session.needs_secret() && self.secret_keys.is_empty() && session.secret_keys.is_none() {
                return Err(session.error(
                    "secret_keys",
                    "this session signs or encrypts its cookie, but no secret key is configured",
                ));
            }
        }
        for session in &self.sessions {
            self.validate_binding(session)?;
        }
        if self.secret_keys.iter().any(|key| key.is_literal_shorter_than(MIN_SECRET_LEN)) {
            return Err(ConfigError::global(
                Some("secret_keys"),
                format!("a literal key must be at least {MIN_SECRET_LEN} bytes long"),
            ));
        }
        Ok(())
    }

    /// A `bind_to` must name another session of this configuration, one kept on the server.
    fn validate_binding(&self, session: &SessionConfig) -> Result<(), ConfigError> {
        let Some(target) = session.bind_to.as_deref() else { return Ok(()) };
        match self.sessions.iter().find(|other| other.cookie_name == target) {
            None => Err(session.error("bind_to", format!("no session is named `{target}`"))),
            Some(other) if !other.session_type.is_server_side() => Err(session.error(
                "bind_to",
                format!("`{target}` is a {} session; bind to one whose records live on a server", other.session_type),
            )),
            Some(_) => Ok(()),
        }
    }
}

impl<'de> Deserialize<'de> for Config {
    /// Reads the configuration as [`Config::from_toml_str`] does, from any serde format, and
    /// [validates](Config::validate) it; the error's message is the [`ConfigError`]'s, naming the
    /// session and the key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = de::Table::deserialize(deserializer)?;
        de::config(table).map_err(serde::de::Error::custom)
    }
}
