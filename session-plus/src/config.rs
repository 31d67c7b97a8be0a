//! The configuration: a list of named sessions, their cookies, backends and lifetimes.
//!
//! It mirrors flask-session-plus's `SESSION_CONFIG`: every key keeps the seed's name and default.
//! A [`Config`] is read from TOML or JSON, or built in code, and is checked as a whole by
//! [`Config::validate`] (which [`SessionManager`](crate::SessionManager) calls too): a bad
//! configuration is refused at start-up with a [`ConfigError`] that names the session and the key.
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

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use zeroize::Zeroizing;

/// Default idle lifetime of a session: one day.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(86_400);
/// Default lifetime of a permanent session: 31 days.
pub const DEFAULT_PERMANENT_LIFETIME: Duration = Duration::from_secs(31 * 86_400);
/// The fraction of a lifetime after which a refreshed session is written again.
const DEFAULT_REFRESH_DIVISOR: u32 = 10;
/// Secrets shorter than this are refused: HMAC-SHA256 wants a 256-bit key.
pub const MIN_SECRET_LEN: usize = 32;

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
        let value: toml::Value =
            toml::from_str(text).map_err(|e| ConfigError::global(None, format!("invalid TOML: {e}")))?;
        let json = serde_json::to_value(value).map_err(|e| ConfigError::global(None, format!("invalid TOML: {e}")))?;
        Self::from_value(&json)
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
        Self::from_value(&json)
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
    /// excluded; a `__Host-` cookie with a domain, a path other than `/` or without `secure`; a
    /// `__Secure-` cookie without `secure`; `SameSite=None` without `secure`; a zero lifetime; a
    /// refresh interval not shorter than the lifetime; a signed or encrypted cookie and no secret
    /// key; a secret shorter than 32 bytes; a store without its connection key; `encrypt` on a
    /// server-side session.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sessions.is_empty() {
            return Err(ConfigError::global(Some("session"), "at least one session is required"));
        }
        let mut names = HashSet::new();
        let mut auto: Option<&str> = None;
        for session in &self.sessions {
            session.validate()?;
            if !names.insert(session.cookie_name.as_str()) {
                return Err(session.error("cookie_name", "is used by another session too"));
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
        for key in &self.secret_keys {
            if let SecretKey::Literal(value) = key {
                if value.len() < MIN_SECRET_LEN {
                    return Err(ConfigError::global(
                        Some("secret_keys"),
                        format!("a literal key must be at least {MIN_SECRET_LEN} bytes long"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn from_value(value: &Value) -> Result<Self, ConfigError> {
        let Value::Object(top) = value else {
            return Err(ConfigError::global(None, "the configuration must be a table/object"));
        };
        let mut config = Config::new();
        for (key, value) in top {
            match key.as_str() {
                "secret_keys" => {
                    let Value::Array(items) = value else {
                        return Err(ConfigError::global(Some(key), "expected a list of strings"));
                    };
                    for item in items {
                        let Value::String(s) = item else {
                            return Err(ConfigError::global(Some(key), "expected a list of strings"));
                        };
                        config = config.with_secret_key(s.clone());
                    }
                }
                "session" | "sessions" => {
                    let Value::Array(items) = value else {
                        return Err(ConfigError::global(Some(key), "expected a list of sessions"));
                    };
                    for (index, item) in items.iter().enumerate() {
                        config.sessions.push(SessionConfig::from_value(index, item)?);
                    }
                }
                _ => return Err(ConfigError::global(Some(key), "unknown key")),
            }
        }
        config.validate()?;
        Ok(config)
    }
}

/// One secret of the key ring: a literal, or the name of an environment variable.
#[derive(Clone)]
#[non_exhaustive]
pub enum SecretKey {
    /// The key itself (development only: keep real keys out of files).
    Literal(Zeroizing<String>),
    /// `env:NAME`: read the variable `NAME` when the manager is built.
    Env(String),
}

impl SecretKey {
    fn parse(text: String) -> Self {
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

    fn from_value(value: &Value) -> Result<Self, String> {
        let names = |value: &Value| -> Result<BTreeSet<String>, String> {
            let Value::Array(items) = value else {
                return Err("expected a list of field names".into());
            };
            items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| "field names are strings".to_owned()))
                .collect()
        };
        match value {
            Value::String(s) if s == "auto" => Ok(Self::Auto),
            Value::Array(items) if items.is_empty() => Ok(Self::All),
            Value::Array(_) => Ok(Self::List(names(value)?)),
            Value::Object(map) => {
                let mut include = BTreeSet::new();
                let mut exclude = BTreeSet::new();
                for (key, value) in map {
                    match key.as_str() {
                        "include" => include = names(value)?,
                        "exclude" => exclude = names(value)?,
                        _ => return Err(format!("unknown key `{key}`; expected `include` or `exclude`")),
                    }
                }
                Ok(Self::IncludeExclude { include, exclude })
            }
            _ => Err(r#"expected [], a list of fields, {include = [..], exclude = [..]} or "auto""#.into()),
        }
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

/// The cookie's `SameSite` attribute.
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

/// One named session: its cookie, its backend, its fields and lifetimes.
///
/// Every setter is a `with_*` method; the defaults are the seed's (see the crate's README).
///
/// ```
/// use std::time::Duration;
/// use session_plus::{SessionConfig, SessionType};
/// let session = SessionConfig::new("session")
///     .with_type(SessionType::Sqlite)
///     .with_path("sessions.db")
///     .with_fields(["user_id", "user_data"])
///     .with_lifetime(Duration::from_secs(3600));
/// assert_eq!(session.cookie_name(), "session");
/// ```
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub(crate) cookie_name: String,
    pub(crate) session_type: SessionType,
    pub(crate) session_fields: FieldSelector,
    pub(crate) cookie_domain: Option<String>,
    pub(crate) cookie_path: String,
    pub(crate) cookie_httponly: bool,
    pub(crate) cookie_secure: bool,
    pub(crate) cookie_samesite: SameSite,
    pub(crate) cookie_max_age: Option<Duration>,
    pub(crate) session_lifetime: Duration,
    pub(crate) session_permanent_lifetime: Duration,
    pub(crate) session_absolute_lifetime: Option<Duration>,
    pub(crate) refresh_interval: Option<Duration>,
    pub(crate) key_prefix: String,
    pub(crate) use_signer: bool,
    pub(crate) refresh_on_request: bool,
    pub(crate) encrypt: bool,
    pub(crate) path: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) table: Option<String>,
    pub(crate) purge_interval: Duration,
    pub(crate) load_error_status: u16,
    pub(crate) save_error_status: u16,
    pub(crate) format: Format,
    pub(crate) digest: Option<String>,
    pub(crate) salt: Option<String>,
    pub(crate) key_derivation: Option<String>,
    pub(crate) secret_keys: Option<Vec<SecretKey>>,
}

/// Every key a session table may hold, for error messages.
const SESSION_KEYS: &[&str] = &[
    "cookie_name",
    "session_type",
    "session_fields",
    "cookie_domain",
    "cookie_path",
    "cookie_httponly",
    "cookie_secure",
    "cookie_samesite",
    "cookie_max_age",
    "session_lifetime",
    "session_permanent_lifetime",
    "session_absolute_lifetime",
    "refresh_interval",
    "key_prefix",
    "use_signer",
    "refresh_on_request",
    "encrypt",
    "path",
    "url",
    "table",
    "purge_interval",
    "load_error_status",
    "save_error_status",
    "format",
    "digest",
    "salt",
    "key_derivation",
    "secret_keys",
];

impl SessionConfig {
    /// A `secure_cookie` session named `cookie_name`, holding every field, with the seed's defaults.
    ///
    /// ```
    /// let session = session_plus::SessionConfig::new("csrf");
    /// assert_eq!(session.session_type(), session_plus::SessionType::SecureCookie);
    /// ```
    pub fn new(cookie_name: impl Into<String>) -> Self {
        Self {
            cookie_name: cookie_name.into(),
            session_type: SessionType::SecureCookie,
            session_fields: FieldSelector::All,
            cookie_domain: None,
            cookie_path: "/".to_owned(),
            cookie_httponly: true,
            cookie_secure: false,
            cookie_samesite: SameSite::Lax,
            cookie_max_age: None,
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            session_permanent_lifetime: DEFAULT_PERMANENT_LIFETIME,
            session_absolute_lifetime: None,
            refresh_interval: None,
            key_prefix: "session".to_owned(),
            use_signer: false,
            refresh_on_request: true,
            encrypt: false,
            path: None,
            url: None,
            table: None,
            purge_interval: Duration::from_secs(300),
            load_error_status: 503,
            save_error_status: 500,
            format: Format::Native,
            digest: None,
            salt: None,
            key_derivation: None,
            secret_keys: None,
        }
    }

    /// The cookie's name, which is also the session's name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The backend.
    pub fn session_type(&self) -> SessionType {
        self.session_type
    }

    /// Which fields the session holds.
    pub fn field_selector(&self) -> &FieldSelector {
        &self.session_fields
    }

    /// Sets the backend (`session_type`).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_type(session_plus::SessionType::Memory);
    /// assert!(s.session_type().is_server_side());
    /// ```
    pub fn with_type(mut self, session_type: SessionType) -> Self {
        self.session_type = session_type;
        self
    }

    /// Holds exactly these fields (`session_fields = ["a", "b"]`); an empty list means every field.
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("csrf").with_fields(["csrf_token"]);
    /// # let _ = s;
    /// ```
    pub fn with_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let fields: BTreeSet<String> = fields.into_iter().map(Into::into).collect();
        self.session_fields = if fields.is_empty() { FieldSelector::All } else { FieldSelector::List(fields) };
        self
    }

    /// Sets any [`FieldSelector`], such as `Auto` or include/exclude lists.
    ///
    /// ```
    /// use session_plus::{FieldSelector, SessionConfig};
    /// let s = SessionConfig::new("data").with_field_selector(FieldSelector::Auto);
    /// # let _ = s;
    /// ```
    pub fn with_field_selector(mut self, selector: FieldSelector) -> Self {
        self.session_fields = selector;
        self
    }

    /// Sets the cookie's `Domain` (none by default, which is the safest: host-only).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_domain("example.com");
    /// # let _ = s;
    /// ```
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie_domain = Some(domain.into());
        self
    }

    /// Sets the cookie's `Path` (`/` by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_cookie_path("/app");
    /// # let _ = s;
    /// ```
    pub fn with_cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookie_path = path.into();
        self
    }

    /// Sets `HttpOnly` (on by default).
    ///
    /// # Security
    /// Turning it off lets page scripts, and so any XSS, read the cookie.
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_http_only(true);
    /// # let _ = s;
    /// ```
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.cookie_httponly = http_only;
        self
    }

    /// Sets `Secure` (off by default so the demo works over plain HTTP; turn it on in production).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_secure(true);
    /// # let _ = s;
    /// ```
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.cookie_secure = secure;
        self
    }

    /// Sets `SameSite` (`Lax` by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_same_site(session_plus::config::SameSite::Strict);
    /// # let _ = s;
    /// ```
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.cookie_samesite = same_site;
        self
    }

    /// Sets the cookie's `Max-Age` for non-permanent sessions (none by default: a browser-session cookie).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_cookie_max_age(std::time::Duration::from_secs(600));
    /// # let _ = s;
    /// ```
    pub fn with_cookie_max_age(mut self, max_age: Duration) -> Self {
        self.cookie_max_age = Some(max_age);
        self
    }

    /// Sets the idle lifetime enforced on the server (`session_lifetime`, one day by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_lifetime(std::time::Duration::from_secs(1800));
    /// # let _ = s;
    /// ```
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }

    /// Sets the lifetime of a session made permanent (`session_permanent_lifetime`, 31 days by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_permanent_lifetime(std::time::Duration::from_secs(86_400 * 7));
    /// # let _ = s;
    /// ```
    pub fn with_permanent_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_permanent_lifetime = lifetime;
        self
    }

    /// Sets an absolute lifetime, counted from the session's creation whatever its activity
    /// (`session_absolute_lifetime`, none by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_absolute_lifetime(std::time::Duration::from_secs(8 * 3600));
    /// # let _ = s;
    /// ```
    pub fn with_absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_absolute_lifetime = Some(lifetime);
        self
    }

    /// Sets how old a session's last write may be before a request that uses it writes it again to
    /// slide its expiry (default: a tenth of the lifetime).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_refresh_interval(std::time::Duration::from_secs(60));
    /// # let _ = s;
    /// ```
    pub fn with_refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = Some(interval);
        self
    }

    /// Sets the prefix of server-side keys (`session` by default; keys are `prefix:id`).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_key_prefix("app1");
    /// # let _ = s;
    /// ```
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Signs the id cookie of a server-side session (`use_signer`, off by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_signer(true);
    /// # let _ = s;
    /// ```
    pub fn with_signer(mut self, use_signer: bool) -> Self {
        self.use_signer = use_signer;
        self
    }

    /// Slides expiry while the session is used (`refresh_on_request`, on by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_refresh_on_request(false);
    /// # let _ = s;
    /// ```
    pub fn with_refresh_on_request(mut self, refresh: bool) -> Self {
        self.refresh_on_request = refresh;
        self
    }

    /// Encrypts a `secure_cookie` session (`encrypt`, needs the `codec-private` feature).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_encryption(true);
    /// # let _ = s;
    /// ```
    pub fn with_encryption(mut self, encrypt: bool) -> Self {
        self.encrypt = encrypt;
        self
    }

    /// Sets the database file of a `sqlite` session (`path`).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_path("sessions.db");
    /// # let _ = s;
    /// ```
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the connection URL of a server store (`url`).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_url("sqlite://sessions.db");
    /// # let _ = s;
    /// ```
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Sets the table (or collection) name of a server store (`table`, `sessions` by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_table("web_sessions");
    /// # let _ = s;
    /// ```
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// Sets how often expired records are purged from stores without native expiry (5 minutes).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_purge_interval(std::time::Duration::from_secs(60));
    /// # let _ = s;
    /// ```
    pub fn with_purge_interval(mut self, interval: Duration) -> Self {
        self.purge_interval = interval;
        self
    }

    /// Sets the HTTP status sent when this session's store cannot load (503) or save (500).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_error_statuses(503, 503);
    /// # let _ = s;
    /// ```
    pub fn with_error_statuses(mut self, load: u16, save: u16) -> Self {
        self.load_error_status = load;
        self.save_error_status = save;
        self
    }

    /// Reads and writes another implementation's wire format (`format`, `native` by default).
    ///
    /// ```
    /// use session_plus::{config::Format, SessionConfig};
    /// let s = SessionConfig::new("session").with_format(Format::Flask);
    /// assert_eq!(s.format(), Format::Flask);
    /// ```
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The wire format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Uses these secret keys (newest first) for this session instead of the global ring; with a
    /// Flask format, these are the Flask application's `SECRET_KEY` (and fallbacks), used as is.
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("session").with_secret_keys(["dev-secret-key"]);
    /// # let _ = s;
    /// ```
    pub fn with_secret_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.secret_keys = Some(keys.into_iter().map(|k| SecretKey::parse(k.into())).collect());
        self
    }

    /// Sets itsdangerous's digest (`sha1`, `sha256`, `sha3_256`, `sha512`), salt and key
    /// derivation (`hmac`, `django-concat`, `concat`, `none`) for a Flask-format cookie.
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("session")
    ///     .with_format(session_plus::config::Format::Flask)
    ///     .with_itsdangerous("sha1", "cookie-session", "hmac");
    /// # let _ = s;
    /// ```
    pub fn with_itsdangerous(mut self, digest: &str, salt: &str, key_derivation: &str) -> Self {
        self.digest = Some(digest.to_owned());
        self.salt = Some(salt.to_owned());
        self.key_derivation = Some(key_derivation.to_owned());
        self
    }

    fn validate_format(&self) -> Result<(), ConfigError> {
        use SessionType::{Memcache, Redis, SecureCookie};
        let allowed = match self.format {
            Format::Native => true,
            Format::Flask => self.session_type == SecureCookie,
            Format::FlaskSessionPlus => matches!(self.session_type, SecureCookie | Redis | Memcache),
            Format::FlaskSession => self.session_type == Redis,
        };
        if !allowed {
            return Err(self.error(
                "format",
                format!("format `{}` does not apply to a {} session", self.format, self.session_type),
            ));
        }
        let itsdangerous = self.session_type == SecureCookie && self.format != Format::Native;
        for (key, value, known) in [
            ("digest", &self.digest, &["sha1", "sha256", "sha3_256", "sha512"][..]),
            ("key_derivation", &self.key_derivation, &["hmac", "django-concat", "concat", "none"][..]),
        ] {
            if let Some(value) = value {
                if !known.contains(&value.as_str()) {
                    return Err(self.error(key, format!("expected one of {}", known.join(", "))));
                }
            }
        }
        for (key, set) in [
            ("digest", self.digest.is_some()),
            ("salt", self.salt.is_some()),
            ("key_derivation", self.key_derivation.is_some()),
        ] {
            if set && !itsdangerous {
                return Err(self.error(key, "applies only to a secure_cookie session with a Flask format"));
            }
        }
        if self.format != Format::Native && self.encrypt {
            return Err(self.error("encrypt", "Flask cannot read encrypted cookies; use the native format"));
        }
        Ok(())
    }

    /// The idle lifetime, or the permanent one.
    pub(crate) fn lifetime(&self, permanent: bool) -> i64 {
        let lifetime = if permanent { self.session_permanent_lifetime } else { self.session_lifetime };
        secs(lifetime)
    }

    /// How long after its last write a used session is written again.
    pub(crate) fn refresh_secs(&self, permanent: bool) -> i64 {
        match self.refresh_interval {
            Some(interval) => secs(interval),
            None => self.lifetime(permanent) / i64::from(DEFAULT_REFRESH_DIVISOR),
        }
    }

    /// The cookie's `Max-Age`, in seconds, if it has one.
    pub(crate) fn cookie_max_age_secs(&self, permanent: bool) -> Option<i64> {
        if permanent {
            Some(self.lifetime(true))
        } else {
            self.cookie_max_age.map(secs)
        }
    }

    pub(crate) fn absolute_secs(&self) -> Option<i64> {
        self.session_absolute_lifetime.map(secs)
    }

    fn needs_secret(&self) -> bool {
        self.session_type == SessionType::SecureCookie || self.use_signer
    }

    fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError { session: Some(self.cookie_name.clone()), key: Some(key.to_owned()), message: message.into() }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_cookie_name_byte) {
            return Err(
                self.error("cookie_name", "must be a non-empty cookie token (letters, digits, !#$%&'*+-.^_`|~)")
            );
        }
        if let FieldSelector::IncludeExclude { include, exclude } = &self.session_fields {
            if let Some(field) = include.intersection(exclude).next() {
                return Err(self.error("session_fields", format!("field `{field}` is both included and excluded")));
            }
        }
        if name.starts_with("__Host-") {
            if self.cookie_domain.is_some() {
                return Err(self.error("cookie_domain", "a __Host- cookie must not have a domain"));
            }
            if !self.cookie_secure {
                return Err(self.error("cookie_secure", "a __Host- cookie must be secure"));
            }
            if self.cookie_path != "/" {
                return Err(self.error("cookie_path", "a __Host- cookie must have path /"));
            }
        }
        if name.starts_with("__Secure-") && !self.cookie_secure {
            return Err(self.error("cookie_secure", "a __Secure- cookie must be secure"));
        }
        if self.cookie_samesite == SameSite::None && !self.cookie_secure {
            return Err(self.error("cookie_samesite", "SameSite=None requires cookie_secure = true"));
        }
        if !self.cookie_path.starts_with('/') {
            return Err(self.error("cookie_path", "must start with /"));
        }
        for (key, value) in [
            ("session_lifetime", Some(self.session_lifetime)),
            ("session_permanent_lifetime", Some(self.session_permanent_lifetime)),
            ("session_absolute_lifetime", self.session_absolute_lifetime),
            ("purge_interval", Some(self.purge_interval)),
        ] {
            if value.is_some_and(|d| d.as_secs() == 0) {
                return Err(self.error(key, "must be at least one second"));
            }
        }
        if let Some(interval) = self.refresh_interval {
            if interval >= self.session_lifetime {
                return Err(self.error("refresh_interval", "must be shorter than session_lifetime"));
            }
        }
        for (key, status) in
            [("load_error_status", self.load_error_status), ("save_error_status", self.save_error_status)]
        {
            if !(400..=599).contains(&status) {
                return Err(self.error(key, "must be an HTTP error status (400-599)"));
            }
        }
        self.validate_format()?;
        if let Some(keys) = &self.secret_keys {
            if keys.is_empty() {
                return Err(self.error("secret_keys", "must list at least one key"));
            }
            for key in keys {
                if let SecretKey::Literal(value) = key {
                    if value.is_empty() || (self.format == Format::Native && value.len() < MIN_SECRET_LEN) {
                        return Err(
                            self.error("secret_keys", format!("a key must be at least {MIN_SECRET_LEN} bytes long"))
                        );
                    }
                }
            }
        }
        if self.encrypt && self.session_type != SessionType::SecureCookie {
            return Err(
                self.error("encrypt", "only a secure_cookie session is encrypted; a server-side one holds only an id")
            );
        }
        if self.key_prefix.contains(char::is_whitespace) {
            return Err(self.error("key_prefix", "must not contain white space"));
        }
        match self.session_type {
            SessionType::Sqlite if self.path.is_none() && self.url.is_none() => {
                Err(self.error("path", "a sqlite session needs `path` (a file) or `url`"))
            }
            SessionType::Redis
            | SessionType::Postgres
            | SessionType::Mysql
            | SessionType::Memcache
            | SessionType::Mongodb
            | SessionType::Firestore
                if self.url.is_none() =>
            {
                Err(self.error("url", format!("a {} session needs `url`", self.session_type)))
            }
            _ => Ok(()),
        }
    }

    fn from_value(index: usize, value: &Value) -> Result<Self, ConfigError> {
        let label = format!("#{}", index + 1);
        let Value::Object(table) = value else {
            return Err(ConfigError {
                session: Some(label),
                key: None,
                message: "a session must be a table/object".into(),
            });
        };
        let name = match table.get("cookie_name") {
            Some(Value::String(name)) => name.clone(),
            Some(_) => return Err(ConfigError::new(&label, "cookie_name", "expected a string")),
            None => return Err(ConfigError::new(&label, "cookie_name", "is required")),
        };
        let mut s = SessionConfig::new(name.clone());
        for (key, value) in table {
            let err = |message: String| ConfigError::new(&name, key, message);
            match key.as_str() {
                "cookie_name" => {}
                "session_type" => s.session_type = string(value).and_then(|v| v.parse()).map_err(err)?,
                "session_fields" => s.session_fields = FieldSelector::from_value(value).map_err(err)?,
                "cookie_domain" => s.cookie_domain = optional(value, string).map_err(err)?,
                "cookie_path" => s.cookie_path = string(value).map_err(err)?,
                "cookie_httponly" => s.cookie_httponly = boolean(value).map_err(err)?,
                "cookie_secure" => s.cookie_secure = boolean(value).map_err(err)?,
                "cookie_samesite" => s.cookie_samesite = string(value).and_then(|v| v.parse()).map_err(err)?,
                "cookie_max_age" => s.cookie_max_age = optional(value, duration).map_err(err)?,
                "session_lifetime" => s.session_lifetime = duration(value).map_err(err)?,
                "session_permanent_lifetime" => s.session_permanent_lifetime = duration(value).map_err(err)?,
                "session_absolute_lifetime" => s.session_absolute_lifetime = optional(value, duration).map_err(err)?,
                "refresh_interval" => s.refresh_interval = optional(value, duration).map_err(err)?,
                "key_prefix" => s.key_prefix = string(value).map_err(err)?,
                "use_signer" => s.use_signer = boolean(value).map_err(err)?,
                "refresh_on_request" => s.refresh_on_request = boolean(value).map_err(err)?,
                "encrypt" => s.encrypt = boolean(value).map_err(err)?,
                "path" => s.path = Some(string(value).map_err(err)?),
                "url" => s.url = Some(string(value).map_err(err)?),
                "table" => s.table = Some(string(value).map_err(err)?),
                "purge_interval" => s.purge_interval = duration(value).map_err(err)?,
                "load_error_status" => s.load_error_status = status(value).map_err(err)?,
                "save_error_status" => s.save_error_status = status(value).map_err(err)?,
                "format" => s.format = string(value).and_then(|v| v.parse()).map_err(err)?,
                "digest" => s.digest = Some(string(value).map_err(err)?),
                "salt" => s.salt = Some(string(value).map_err(err)?),
                "key_derivation" => s.key_derivation = Some(string(value).map_err(err)?),
                "secret_keys" => {
                    let Value::Array(items) = value else { return Err(err("expected a list of strings".into())) };
                    let keys = items
                        .iter()
                        .map(|item| item.as_str().map(|k| SecretKey::parse(k.to_owned())))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| err("expected a list of strings".into()))?;
                    s.secret_keys = Some(keys);
                }
                _ => {
                    return Err(err(format!("unknown key; expected one of: {}", SESSION_KEYS.join(", "))));
                }
            }
        }
        Ok(s)
    }
}

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
    pub(crate) fn new(session: &str, key: &str, message: impl Into<String>) -> Self {
        Self { session: Some(session.to_owned()), key: Some(key.to_owned()), message: message.into() }
    }

    pub(crate) fn global(key: Option<&str>, message: impl Into<String>) -> Self {
        Self { session: None, key: key.map(str::to_owned), message: message.into() }
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

/// Parses a duration: whole seconds as a number or a string of digits, or a humane string such
/// as `"30m"`, `"1d"` or `"1h 30m"`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration `{text}`: {e} (use seconds or e.g. \"30m\", \"1d\")"))
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn is_cookie_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn string(value: &Value) -> Result<String, String> {
    value.as_str().map(str::to_owned).ok_or_else(|| "expected a string".to_owned())
}

fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| "expected true or false".to_owned())
}

fn status(value: &Value) -> Result<u16, String> {
    value.as_u64().and_then(|v| u16::try_from(v).ok()).ok_or_else(|| "expected an HTTP status code".to_owned())
}

fn duration(value: &Value) -> Result<Duration, String> {
    match value {
        Value::Number(n) => n.as_u64().map(Duration::from_secs).ok_or_else(|| "expected whole seconds".to_owned()),
        Value::String(s) => parse_duration(s),
        _ => Err("expected seconds or a duration such as \"30m\" or \"1d\"".to_owned()),
    }
}

/// `none`/`null`/absent are `None` for keys whose default is none.
fn optional<T>(value: &Value, parse: fn(&Value) -> Result<T, String>) -> Result<Option<T>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.eq_ignore_ascii_case("none") => Ok(None),
        _ => parse(value).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a literal key for development, at least 32 bytes long";

    fn toml(body: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(&format!("secret_keys = [\"{KEY}\"]\n{body}"))
    }

    #[test]
    fn seed_example_parses_with_defaults() {
        let config = toml(
            r#"
            [[session]]
            cookie_name = "csrf"
            session_type = "secure_cookie"
            session_fields = ["csrf_token"]

            [[session]]
            cookie_name = "session"
            session_type = "sqlite"
            session_fields = ["user_id", "user_data"]
            path = "sessions.db"

            [[session]]
            cookie_name = "data"
            session_type = "secure_cookie"
            session_fields = "auto"
            "#,
        )
        .unwrap();
        let s = &config.sessions()[1];
        assert_eq!(s.session_type, SessionType::Sqlite);
        assert_eq!(s.cookie_path, "/");
        assert!(s.cookie_httponly);
        assert!(!s.cookie_secure);
        assert_eq!(s.cookie_samesite, SameSite::Lax);
        assert_eq!(s.cookie_max_age, None);
        assert_eq!(s.session_lifetime, Duration::from_secs(86_400));
        assert_eq!(s.session_permanent_lifetime, Duration::from_secs(2_678_400));
        assert_eq!(s.session_absolute_lifetime, None);
        assert_eq!(s.key_prefix, "session");
        assert!(!s.use_signer);
        assert!(s.refresh_on_request);
        assert_eq!(s.refresh_secs(false), 8_640);
        assert_eq!(config.sessions()[2].session_fields, FieldSelector::Auto);
        assert_eq!(config.sessions()[0].session_type, SessionType::SecureCookie);
    }

    #[test]
    fn json_and_durations() {
        let config = Config::from_json_str(&format!(
            r#"{{"secret_keys": ["{KEY}"], "session": [
                {{"cookie_name": "a", "session_lifetime": "30m", "session_permanent_lifetime": 7200,
                  "session_absolute_lifetime": "1d", "cookie_max_age": "90s", "refresh_interval": "1m",
                  "session_fields": {{"include": [], "exclude": ["x"]}}}}
            ]}}"#
        ))
        .unwrap();
        let s = &config.sessions()[0];
        assert_eq!(s.session_lifetime, Duration::from_secs(1800));
        assert_eq!(s.session_permanent_lifetime, Duration::from_secs(7200));
        assert_eq!(s.session_absolute_lifetime, Some(Duration::from_secs(86_400)));
        assert_eq!(s.cookie_max_age, Some(Duration::from_secs(90)));
        assert_eq!(s.refresh_interval, Some(Duration::from_secs(60)));
        assert!(matches!(&s.session_fields, FieldSelector::IncludeExclude { include, exclude }
            if include.is_empty() && exclude.contains("x")));
    }

    fn fails(body: &str, session: Option<&str>, key: &str) -> String {
        let err = toml(body).expect_err(body);
        assert_eq!(err.session(), session, "{err}");
        assert_eq!(err.key(), Some(key), "{err}");
        err.to_string()
    }

    #[test]
    fn bad_configs_name_session_and_key() {
        fails("[[session]]\ncookie_name = \"a\"\nfoo = 1", Some("a"), "foo");
        fails("[[session]]\ncookie_name = \"a\"\n[[session]]\ncookie_name = \"a\"", Some("a"), "cookie_name");
        fails(
            "[[session]]\ncookie_name = \"a\"\nsession_fields = \"auto\"\n[[session]]\ncookie_name = \"b\"\nsession_fields = \"auto\"",
            Some("b"),
            "session_fields",
        );
        fails(
            "[[session]]\ncookie_name = \"__Host-s\"\ncookie_secure = true\ncookie_domain = \"x.com\"",
            Some("__Host-s"),
            "cookie_domain",
        );
        fails("[[session]]\ncookie_name = \"__Host-s\"", Some("__Host-s"), "cookie_secure");
        fails(
            "[[session]]\ncookie_name = \"__Host-s\"\ncookie_secure = true\ncookie_path = \"/a\"",
            Some("__Host-s"),
            "cookie_path",
        );
        let msg = fails(
            "[[session]]\ncookie_name = \"a\"\nsession_fields = { include = [\"x\"], exclude = [\"x\"] }",
            Some("a"),
            "session_fields",
        );
        assert!(msg.contains("`x`"), "{msg}");
        fails("[[session]]\ncookie_name = \"a\"\ncookie_samesite = \"sideways\"", Some("a"), "cookie_samesite");
        fails("[[session]]\ncookie_name = \"a\"\nsession_lifetime = \"soon\"", Some("a"), "session_lifetime");
        fails("[[session]]\ncookie_name = \"a\"\ncookie_secure = \"yes\"", Some("a"), "cookie_secure");
        fails("[[session]]\ncookie_name = \"a\"\nsession_type = \"oracle\"", Some("a"), "session_type");
        fails("[[session]]\ncookie_name = \"a\"\nsession_type = \"sqlite\"", Some("a"), "path");
        fails("[[session]]\ncookie_name = \"a\"\nsession_type = \"memory\"\nencrypt = true", Some("a"), "encrypt");
        fails("[[session]]\nsession_type = \"memory\"", Some("#1"), "cookie_name");
        fails(
            "[[session]]\ncookie_name = \"a\"\nsession_lifetime = 60\nrefresh_interval = 60",
            Some("a"),
            "refresh_interval",
        );
        fails("[[session]]\ncookie_name = \"a b\"", Some("a b"), "cookie_name");
        fails("bogus = 1\n[[session]]\ncookie_name = \"a\"", None, "bogus");
    }

    #[test]
    fn cookie_session_without_secret_is_refused() {
        let err = Config::from_toml_str("[[session]]\ncookie_name = \"csrf\"").unwrap_err();
        assert_eq!((err.session(), err.key()), (Some("csrf"), Some("secret_keys")));
        let err = Config::from_toml_str("secret_keys = [\"short\"]\n[[session]]\ncookie_name = \"csrf\"").unwrap_err();
        assert_eq!(err.key(), Some("secret_keys"));
        // A server-side session without signer needs no key.
        Config::from_toml_str("[[session]]\ncookie_name = \"s\"\nsession_type = \"memory\"").unwrap();
    }

    #[test]
    fn env_keys_resolve_at_build_time() {
        let key = SecretKey::parse("env:SESSION_PLUS_TEST_UNSET_VARIABLE".into());
        let err = key.resolve().unwrap_err();
        assert!(err.message().contains("SESSION_PLUS_TEST_UNSET_VARIABLE"));
        assert_eq!(format!("{:?}", SecretKey::parse(KEY.into())), "SecretKey::Literal(..)");
    }
}
