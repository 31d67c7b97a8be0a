//! [`SessionConfig`]: one named session, its read accessors and its checks. Its `with_*`
//! builders are in `builders.rs`.

use std::time::Duration;

use serde::{de, Deserialize, Deserializer};

use super::options::{BackendOptions, CookieOptions, ErrorStatuses, FlaskOptions, Lifetimes};
use super::secret::MIN_SECRET_LEN;
use super::{ConfigError, FieldSelector, Format, SameSite, SecretKey, SessionType};

/// The absolute lifetime of a native cookie session that configures none: 31 days, Flask's
/// permanent lifetime (or the session's own permanent lifetime, if longer).
pub(crate) const DEFAULT_COOKIE_ABSOLUTE_LIFETIME: Duration = Duration::from_secs(31 * 86_400);

/// The fraction of a lifetime after which a refreshed session is written again.
const DEFAULT_REFRESH_DIVISOR: u32 = 10;

/// One named session: its cookie, its backend, its fields and lifetimes.
///
/// Every setter is a `with_*` method; the defaults are the seed's (see the crate's README). Read
/// from a configuration file, a session is one flat table of keys; here the keys are grouped by
/// what they configure: [`cookie`](Self::cookie), [`lifetimes`](Self::lifetimes),
/// [`backend`](Self::backend), [`flask`](Self::flask) and [`on_error`](Self::on_error).
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
/// assert_eq!(session.lifetimes().session_lifetime, Duration::from_secs(3600));
/// assert!(session.cookie().cookie_httponly);
/// ```
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub(crate) cookie_name: String,
    pub(crate) session_type: SessionType,
    pub(crate) session_fields: FieldSelector,
    pub(crate) key_prefix: String,
    pub(crate) use_signer: bool,
    pub(crate) encrypt: bool,
    pub(crate) secret_keys: Option<Vec<SecretKey>>,
    pub(crate) bind_to: Option<String>,
    pub(crate) cookie: CookieOptions,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) backend: BackendOptions,
    pub(crate) flask: FlaskOptions,
    pub(crate) on_error: ErrorStatuses,
}

/// The keys that [`SessionConfig`] holds itself, besides `cookie_name` (read first, alone).
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct TopLevel {
    session_type: SessionType,
    session_fields: FieldSelector,
    key_prefix: String,
    use_signer: bool,
    encrypt: bool,
    secret_keys: Option<Vec<SecretKey>>,
    bind_to: Option<String>,
}

impl Default for TopLevel {
    fn default() -> Self {
        Self {
            session_type: SessionType::SecureCookie,
            session_fields: FieldSelector::All,
            key_prefix: "session".to_owned(),
            use_signer: false,
            encrypt: false,
            secret_keys: None,
            bind_to: None,
        }
    }
}

impl SessionConfig {
    /// A `secure_cookie` session named `cookie_name`, holding every field, with the seed's defaults.
    ///
    /// ```
    /// let session = session_plus::SessionConfig::new("csrf");
    /// assert_eq!(session.session_type(), session_plus::SessionType::SecureCookie);
    /// ```
    pub fn new(cookie_name: impl Into<String>) -> Self {
        Self::from_parts(
            cookie_name.into(),
            TopLevel::default(),
            Default::default(),
            Default::default(),
            Default::default(),
            Default::default(),
            Default::default(),
        )
    }

    /// Assembles a session from its name and its groups of keys.
    pub(super) fn from_parts(
        cookie_name: String,
        top: TopLevel,
        cookie: CookieOptions,
        lifetimes: Lifetimes,
        backend: BackendOptions,
        flask: FlaskOptions,
        on_error: ErrorStatuses,
    ) -> Self {
        let TopLevel { session_type, session_fields, key_prefix, use_signer, encrypt, secret_keys, bind_to } = top;
        Self {
            cookie_name,
            session_type,
            session_fields,
            key_prefix,
            use_signer,
            encrypt,
            secret_keys,
            bind_to,
            cookie,
            lifetimes,
            backend,
            flask,
            on_error,
        }
    }

    /// The cookie's name, which is also the session's name (`cookie_name`).
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The backend (`session_type`).
    pub fn session_type(&self) -> SessionType {
        self.session_type
    }

    /// Which fields the session holds (`session_fields`).
    pub fn field_selector(&self) -> &FieldSelector {
        &self.session_fields
    }

    /// The prefix of server-side keys (`key_prefix`).
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// Whether the id cookie of a server-side session is signed (`use_signer`).
    pub fn use_signer(&self) -> bool {
        self.use_signer
    }

    /// Whether a `secure_cookie` session is encrypted (`encrypt`).
    pub fn encrypt(&self) -> bool {
        self.encrypt
    }

    /// This session's own key ring (`secret_keys`), if it does not use the global one.
    pub fn secret_keys(&self) -> Option<&[SecretKey]> {
        self.secret_keys.as_deref()
    }

    /// The server-side session this cookie session is bound to (`bind_to`), if any: its fields
    /// are valid only while that session's record lives, so a logout or a regenerate there
    /// revokes this cookie too. See [`SessionConfig::with_bind_to`].
    pub fn bind_to(&self) -> Option<&str> {
        self.bind_to.as_deref()
    }

    /// The wire format (`format`).
    pub fn format(&self) -> Format {
        self.flask.format
    }

    /// The cookie's attributes: `cookie_domain`, `cookie_path`, `cookie_httponly`,
    /// `cookie_secure`, `cookie_samesite`, `cookie_max_age`.
    pub fn cookie(&self) -> &CookieOptions {
        &self.cookie
    }

    /// The lifetimes: `session_lifetime`, `session_permanent_lifetime`,
    /// `session_absolute_lifetime`, `refresh_interval`, `refresh_on_request`.
    pub fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    /// The store's keys: `url`, `path`, `table`, `purge_interval`.
    pub fn backend(&self) -> &BackendOptions {
        &self.backend
    }

    /// The wire format and a Flask-format cookie's itsdangerous settings: `format`, `digest`,
    /// `salt`, `key_derivation`.
    pub fn flask(&self) -> &FlaskOptions {
        &self.flask
    }

    /// The HTTP statuses of the store's failures: `load_error_status`, `save_error_status`.
    pub fn on_error(&self) -> &ErrorStatuses {
        &self.on_error
    }

    /// The idle lifetime, or the permanent one.
    pub(crate) fn lifetime(&self, permanent: bool) -> i64 {
        let lifetimes = &self.lifetimes;
        secs(if permanent { lifetimes.session_permanent_lifetime } else { lifetimes.session_lifetime })
    }

    /// How long after its last write a used session is written again.
    pub(crate) fn refresh_secs(&self, permanent: bool) -> i64 {
        match self.lifetimes.refresh_interval {
            Some(interval) => secs(interval),
            None => self.lifetime(permanent) / i64::from(DEFAULT_REFRESH_DIVISOR),
        }
    }

    /// How long after its last write a used session with this idle lifetime (set per session,
    /// [`Expiry::OnInactivity`](crate::session::Expiry::OnInactivity)) is written again: the
    /// configured interval, but never more than a tenth of that lifetime, so that a visitor
    /// who keeps using the session keeps it.
    pub(crate) fn refresh_secs_within(&self, idle: i64) -> i64 {
        let tenth = idle / i64::from(DEFAULT_REFRESH_DIVISOR);
        self.lifetimes.refresh_interval.map_or(tenth, |interval| secs(interval).min(tenth))
    }

    /// The cookie's `Max-Age`, in seconds, if it has one.
    pub(crate) fn cookie_max_age_secs(&self, permanent: bool) -> Option<i64> {
        if permanent {
            Some(self.lifetime(true))
        } else {
            self.cookie.cookie_max_age.map(secs)
        }
    }

    /// The absolute lifetime in force: the configured one; for a native cookie session without
    /// one, [`DEFAULT_COOKIE_ABSOLUTE_LIFETIME`] or its permanent lifetime if longer, so that a
    /// stolen cookie, re-issued on every refresh, does not live for ever.
    pub(crate) fn absolute_secs(&self) -> Option<i64> {
        match self.lifetimes.session_absolute_lifetime {
            Some(absolute) => Some(secs(absolute)),
            None if self.session_type == SessionType::SecureCookie && self.flask.format == Format::Native => {
                Some(secs(DEFAULT_COOKIE_ABSOLUTE_LIFETIME.max(self.lifetimes.session_permanent_lifetime)))
            }
            None => None,
        }
    }

    pub(super) fn needs_secret(&self) -> bool {
        self.session_type == SessionType::SecureCookie || self.use_signer
    }

    /// Whether this session's store keys could collide with `other`'s: both keep records on
    /// the same server (and table), and one's key prefix starts the other's. A client could then
    /// present one session's id in the other's cookie.
    pub(super) fn shares_key_space_with(&self, other: &SessionConfig) -> bool {
        // Memory stores are one per session; custom stores are the application's business.
        let shared_server =
            !matches!(self.session_type, SessionType::SecureCookie | SessionType::Memory | SessionType::Custom)
                && self.session_type == other.session_type
                && self.backend.url == other.backend.url
                && self.backend.path == other.backend.path
                && self.backend.table == other.backend.table;
        let (mine, theirs) = (self.key_space(), other.key_space());
        shared_server && (mine.starts_with(&theirs) || theirs.starts_with(&mine))
    }

    /// What every store key of this session starts with: `key_prefix:`, or `key_prefix` alone
    /// for flask-session-plus's records.
    fn key_space(&self) -> String {
        match self.flask.format {
            Format::FlaskSessionPlus => self.key_prefix.clone(),
            _ => format!("{}:", self.key_prefix),
        }
    }

    pub(super) fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&self.cookie_name, key, message)
    }

    /// The checks of one session alone; [`Config::validate`](super::Config::validate) adds those
    /// between sessions.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_cookie_name_byte) {
            return Err(
                self.error("cookie_name", "must be a non-empty cookie token (letters, digits, !#$%&'*+-.^_`|~)")
            );
        }
        if let FieldSelector::IncludeExclude { include, exclude } = &self.session_fields
            && let Some(field) = include.intersection(exclude).next()
        {
            return Err(self.error("session_fields", format!("field `{field}` is both included and excluded")));
        }
        self.validate_cookie()?;
        let lifetimes = &self.lifetimes;
        for (key, value) in [
            ("session_lifetime", Some(lifetimes.session_lifetime)),
            ("session_permanent_lifetime", Some(lifetimes.session_permanent_lifetime)),
            ("session_absolute_lifetime", lifetimes.session_absolute_lifetime),
            ("purge_interval", Some(self.backend.purge_interval)),
        ] {
            if value.is_some_and(|d| d.as_secs() == 0) {
                return Err(self.error(key, "must be at least one second"));
            }
        }
        if lifetimes.refresh_interval.is_some_and(|interval| interval >= lifetimes.session_lifetime) {
            return Err(self.error("refresh_interval", "must be shorter than session_lifetime"));
        }
        for (key, status) in [
            ("load_error_status", self.on_error.load_error_status),
            ("save_error_status", self.on_error.save_error_status),
        ] {
            super::de::check_error_status(status).map_err(|message| self.error(key, message))?;
        }
        self.validate_format()?;
        if let Some(keys) = &self.secret_keys {
            if keys.is_empty() {
                return Err(self.error("secret_keys", "must list at least one key"));
            }
            let min = if self.flask.format == Format::Native { MIN_SECRET_LEN } else { 1 };
            if keys.iter().any(|key| key.is_literal_shorter_than(min)) {
                return Err(self.error("secret_keys", format!("a key must be at least {MIN_SECRET_LEN} bytes long")));
            }
        }
        if self.encrypt && self.session_type != SessionType::SecureCookie {
            return Err(
                self.error("encrypt", "only a secure_cookie session is encrypted; a server-side one holds only an id")
            );
        }
        if self.bind_to.is_some()
            && (self.session_type != SessionType::SecureCookie || self.flask.format != Format::Native)
        {
            return Err(self.error(
                "bind_to",
                "only a secure_cookie session in the native format can be bound (its MAC covers the server session's id)",
            ));
        }
        if self.key_prefix.contains(char::is_whitespace) {
            return Err(self.error("key_prefix", "must not contain white space"));
        }
        self.validate_backend()
    }

    fn validate_cookie(&self) -> Result<(), ConfigError> {
        let cookie = &self.cookie;
        let name = &self.cookie_name;
        // A `;`, `,` or line break would end the attribute, or the header, and inject others.
        for (key, value) in
            [("cookie_domain", cookie.cookie_domain.as_deref()), ("cookie_path", Some(&cookie.cookie_path))]
        {
            if value.is_some_and(|v| v.chars().any(|c| c == ';' || c == ',' || c.is_control())) {
                return Err(self.error(key, "must not contain `;`, `,` or control characters (CR, LF, …)"));
            }
        }
        if name.starts_with("__Host-") {
            if cookie.cookie_domain.is_some() {
                return Err(self.error("cookie_domain", "a __Host- cookie must not have a domain"));
            }
            if !cookie.cookie_secure {
                return Err(self.error("cookie_secure", "a __Host- cookie must be secure"));
            }
            if cookie.cookie_path != "/" {
                return Err(self.error("cookie_path", "a __Host- cookie must have path /"));
            }
        }
        if name.starts_with("__Secure-") && !cookie.cookie_secure {
            return Err(self.error("cookie_secure", "a __Secure- cookie must be secure"));
        }
        if cookie.cookie_samesite == SameSite::None && !cookie.cookie_secure {
            return Err(self.error("cookie_samesite", "SameSite=None requires cookie_secure = true"));
        }
        if !cookie.cookie_path.starts_with('/') {
            return Err(self.error("cookie_path", "must start with /"));
        }
        Ok(())
    }

    fn validate_format(&self) -> Result<(), ConfigError> {
        use SessionType::{Firestore, Memcache, Mongodb, Redis, SecureCookie};
        let flask = &self.flask;
        let allowed = match flask.format {
            Format::Native => true,
            Format::Flask => self.session_type == SecureCookie,
            Format::FlaskSessionPlus => {
                matches!(self.session_type, SecureCookie | Redis | Memcache | Mongodb | Firestore)
            }
            Format::FlaskSession => self.session_type == Redis,
        };
        if !allowed {
            return Err(self.error(
                "format",
                format!("format `{}` does not apply to a {} session", flask.format, self.session_type),
            ));
        }
        let itsdangerous = self.session_type == SecureCookie && flask.format != Format::Native;
        for (key, set) in [
            ("digest", flask.digest.is_some()),
            ("salt", flask.salt.is_some()),
            ("key_derivation", flask.key_derivation.is_some()),
        ] {
            if set && !itsdangerous {
                return Err(self.error(key, "applies only to a secure_cookie session with a Flask format"));
            }
        }
        if flask.format != Format::Native && self.encrypt {
            return Err(self.error("encrypt", "Flask cannot read encrypted cookies; use the native format"));
        }
        if flask.format != Format::Native && self.lifetimes.session_absolute_lifetime.is_some() {
            return Err(self.error(
                "session_absolute_lifetime",
                format!(
                    "cannot be enforced with format `{}`: its cookies and records carry no creation time",
                    flask.format
                ),
            ));
        }
        Ok(())
    }

    fn validate_backend(&self) -> Result<(), ConfigError> {
        let backend = &self.backend;
        if backend.tls_ca_file.is_some() {
            let refused = match self.session_type {
                SessionType::SecureCookie | SessionType::Memory | SessionType::Sqlite => {
                    Some("applies only to a store on a server (redis, postgres, mysql, mongodb)")
                }
                SessionType::Memcache => Some("the memcache store has no TLS"),
                SessionType::Firestore => Some("firestore verifies Google's certificate with the system's roots"),
                SessionType::Custom => Some("a custom store makes its own connections: give it the CA yourself"),
                _ => None,
            };
            if let Some(reason) = refused {
                return Err(self.error("tls_ca_file", format!("{reason}, not to a {} session", self.session_type)));
            }
        }
        if backend.redis_wait_replicas > 0 && self.session_type != SessionType::Redis {
            return Err(self.error(
                "redis_wait_replicas",
                format!("applies only to a redis session, not to a {} one", self.session_type),
            ));
        }
        let wait_timeout = backend.redis_wait_timeout;
        if wait_timeout.is_zero() || wait_timeout > super::options::MAX_REDIS_WAIT_TIMEOUT {
            return Err(self.error(
                "redis_wait_timeout",
                "must be between 1 ms and 1.5 s (under the client's 2 s response timeout; WAIT with 0 blocks for ever)",
            ));
        }
        match self.session_type {
            SessionType::Sqlite if backend.path.is_none() && backend.url.is_none() => {
                Err(self.error("path", "a sqlite session needs `path` (a file) or `url`"))
            }
            SessionType::Redis
            | SessionType::Postgres
            | SessionType::Mysql
            | SessionType::Memcache
            | SessionType::Mongodb
            | SessionType::Firestore
                if backend.url.is_none() =>
            {
                Err(self.error("url", format!("a {} session needs `url`", self.session_type)))
            }
            _ => Ok(()),
        }
    }
}

impl<'de> Deserialize<'de> for SessionConfig {
    /// One session table, checked alone (the checks between sessions are
    /// [`Config::validate`](super::Config::validate)'s). An error names the session (`#1` before
    /// its `cookie_name` is known) and the key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = super::de::Table::deserialize(deserializer)?;
        let session = super::de::session("#1", table).map_err(de::Error::custom)?;
        session.validate().map_err(de::Error::custom)?;
        Ok(session)
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn is_cookie_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
