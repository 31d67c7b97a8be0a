//! The `with_*` builder methods of [`SessionConfig`], one per configuration key (or pair of keys).

use std::collections::BTreeSet;
use std::time::Duration;

use http::StatusCode;

use super::{FieldSelector, FlaskDigest, FlaskKeyDerivation, Format, SameSite, SecretKey, SessionConfig, SessionType};

impl SessionConfig {
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

    /// Binds this cookie session to the server-side session `server_session` (`bind_to`): the
    /// cookie's MAC covers that session's id, and its fields count only while that session's
    /// record lives. A logout ([`Session::clear`](crate::Session::clear)), a
    /// [`regenerate`](crate::Session::regenerate) or
    /// [`end_user_sessions`](crate::SessionManager::end_user_sessions) there then revokes this
    /// cookie too: replayed, it yields no field.
    ///
    /// The cost: reading a bound field loads the server session (one store round trip, shared
    /// with every other use of that session in the request), and writing one keeps a record
    /// there (an empty one if the session holds nothing else). The cookie is refreshed on
    /// requests that load its server session.
    ///
    /// ```
    /// use session_plus::{Config, SessionConfig, SessionType};
    /// let config = Config::new()
    ///     .with_secret_key("a literal key for development, at least 32 bytes long")
    ///     .with_session(SessionConfig::new("data").with_fields(["visits"]).with_bind_to("session"))
    ///     .with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// config.validate()?;
    /// # Ok::<(), session_plus::ConfigError>(())
    /// ```
    pub fn with_bind_to(mut self, server_session: impl Into<String>) -> Self {
        self.bind_to = Some(server_session.into());
        self
    }

    /// Sets the cookie's `Domain` (none by default, which is the safest: host-only).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_domain("example.com");
    /// # let _ = s;
    /// ```
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie.cookie_domain = Some(domain.into());
        self
    }

    /// Sets the cookie's `Path` (`/` by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_cookie_path("/app");
    /// # let _ = s;
    /// ```
    pub fn with_cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookie.cookie_path = path.into();
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
        self.cookie.cookie_httponly = http_only;
        self
    }

    /// Sets `Secure` (off by default so the demo works over plain HTTP; turn it on in production).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_secure(true);
    /// # let _ = s;
    /// ```
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.cookie.cookie_secure = secure;
        self
    }

    /// Sets `SameSite` (`Lax` by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_same_site(session_plus::config::SameSite::Strict);
    /// # let _ = s;
    /// ```
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.cookie.cookie_samesite = same_site;
        self
    }

    /// Sets the cookie's `Max-Age` for non-permanent sessions (none by default: a browser-session cookie).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_cookie_max_age(std::time::Duration::from_secs(600));
    /// # let _ = s;
    /// ```
    pub fn with_cookie_max_age(mut self, max_age: Duration) -> Self {
        self.cookie.cookie_max_age = Some(max_age);
        self
    }

    /// Sets the idle lifetime enforced on the server (`session_lifetime`, one day by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_lifetime(std::time::Duration::from_secs(1800));
    /// # let _ = s;
    /// ```
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetimes.session_lifetime = lifetime;
        self
    }

    /// Sets the lifetime of a session made permanent (`session_permanent_lifetime`, 31 days by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_permanent_lifetime(std::time::Duration::from_secs(86_400 * 7));
    /// # let _ = s;
    /// ```
    pub fn with_permanent_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetimes.session_permanent_lifetime = lifetime;
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
        self.lifetimes.session_absolute_lifetime = Some(lifetime);
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
        self.lifetimes.refresh_interval = Some(interval);
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
        self.lifetimes.refresh_on_request = refresh;
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
        self.backend.path = Some(path.into());
        self
    }

    /// Sets the connection URL of a server store (`url`).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_url("sqlite://sessions.db");
    /// # let _ = s;
    /// ```
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.backend.url = Some(url.into());
        self
    }

    /// Sets the table (or collection) name of a server store (`table`, `sessions` by default).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_table("web_sessions");
    /// # let _ = s;
    /// ```
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.backend.table = Some(table.into());
        self
    }

    /// Verifies the store server's TLS certificate with the CA certificates in `path` (PEM;
    /// `tls_ca_file`) instead of the system's roots: for a private CA, or to trust only it.
    ///
    /// TLS itself is switched on by the URL, as each ecosystem writes it: `rediss://host:6380/0`
    /// (a Cluster: `rediss+cluster://h1:7000,h2:7001`), `postgres://…?sslmode=verify-full`
    /// (or `require`, `verify-ca`), `mysql://…?ssl-mode=VERIFY_IDENTITY` (or `REQUIRED`,
    /// `VERIFY_CA`), `mongodb://…/?tls=true`. With a CA file, the modes that encrypt without
    /// verifying (`sslmode=require`, `ssl-mode=REQUIRED`) verify the chain against it
    /// (`verify-ca`, `VERIFY_CA`), as libpq does. The file is read, and the connection verified, when the manager
    /// is built: a server whose certificate the CA did not sign fails
    /// [`SessionManager::new`](crate::SessionManager::new). A session without a server
    /// (`secure_cookie`, `memory`, `sqlite`), or whose URL does not ask for TLS, refuses the key.
    ///
    /// ```
    /// use session_plus::{SessionConfig, SessionType};
    /// let s = SessionConfig::new("s")
    ///     .with_type(SessionType::Postgres)
    ///     .with_url("postgres://app@db.internal/app?sslmode=verify-full")
    ///     .with_tls_ca_file("/etc/ssl/private-ca.pem");
    /// assert_eq!(s.backend().tls_ca_file.as_deref(), Some("/etc/ssl/private-ca.pem"));
    /// ```
    pub fn with_tls_ca_file(mut self, path: impl Into<String>) -> Self {
        self.backend.tls_ca_file = Some(path.into());
        self
    }

    /// Makes a `redis` session's writes wait until `replicas` replicas confirm them, for at most
    /// `timeout` (`redis_wait_replicas`, `redis_wait_timeout`; 0 replicas, the default, is off).
    ///
    /// Redis replicates asynchronously: a write the primary acknowledged is lost if the primary
    /// dies before a replica has it and that replica is promoted. With this, every write is
    /// followed by Redis's `WAIT` in the same round trip, and a write that fewer replicas
    /// confirm in time is a failed save (`save_error_status`; its cookie is not sent), though
    /// the primary keeps it. The cost: every write waits for a replica's acknowledgement, and
    /// waits the whole `timeout` (then fails) while fewer replicas are up, holding up the other
    /// requests to that Redis node meanwhile (one connection per node is shared). The timeout is
    /// between 1 ms and 1.5 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_plus::{SessionConfig, SessionType};
    /// let s = SessionConfig::new("session")
    ///     .with_type(SessionType::Redis)
    ///     .with_url("redis+cluster://10.0.0.1:7000,10.0.0.2:7000")
    ///     .with_redis_wait(1, Duration::from_millis(100));
    /// assert_eq!(s.backend().redis_wait_replicas, 1);
    /// ```
    pub fn with_redis_wait(mut self, replicas: u32, timeout: Duration) -> Self {
        self.backend.redis_wait_replicas = replicas;
        self.backend.redis_wait_timeout = timeout;
        self
    }

    /// Sets how often expired records are purged from stores without native expiry (5 minutes).
    ///
    /// ```
    /// let s = session_plus::SessionConfig::new("s").with_purge_interval(std::time::Duration::from_secs(60));
    /// # let _ = s;
    /// ```
    pub fn with_purge_interval(mut self, interval: Duration) -> Self {
        self.backend.purge_interval = interval;
        self
    }

    /// Sets the HTTP status sent when this session's store cannot load (503) or save (500).
    ///
    /// ```
    /// use http::StatusCode;
    /// let s = session_plus::SessionConfig::new("s")
    ///     .with_error_statuses(StatusCode::SERVICE_UNAVAILABLE, StatusCode::SERVICE_UNAVAILABLE);
    /// assert_eq!(s.on_error().save_error_status, StatusCode::SERVICE_UNAVAILABLE);
    /// ```
    ///
    /// A status that is not an HTTP error (400-599) is refused by [`Config::validate`](super::Config::validate).
    pub fn with_error_statuses(mut self, load: StatusCode, save: StatusCode) -> Self {
        self.on_error.load_error_status = load;
        self.on_error.save_error_status = save;
        self
    }

    /// Makes a store that cannot load this session an empty session for the request instead of
    /// an error response (`load_error_as_empty`, off by default): pages that need only other
    /// sessions, such as a CSRF cookie, keep working through the store's outage. The client's
    /// cookie is left alone, and a change to this session during the outage is refused when the
    /// response is saved (`save_error_status`), so nothing is lost or overwritten.
    ///
    /// ```
    /// use session_plus::{SessionConfig, SessionType};
    /// let s = SessionConfig::new("session").with_type(SessionType::Redis).with_load_error_as_empty(true);
    /// assert!(s.on_error().load_error_as_empty);
    /// ```
    pub fn with_load_error_as_empty(mut self, empty: bool) -> Self {
        self.on_error.load_error_as_empty = empty;
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
        self.flask.format = format;
        self
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

    /// Sets itsdangerous's digest, salt and key derivation for a Flask-format cookie (`digest`,
    /// `salt`, `key_derivation`; by default SHA-1, or SHA3-256 for `flask-session-plus`,
    /// `cookie-session` and HMAC, as Flask and flask-session-plus do).
    ///
    /// ```
    /// use session_plus::config::{FlaskDigest, FlaskKeyDerivation, Format};
    /// let s = session_plus::SessionConfig::new("session")
    ///     .with_format(Format::Flask)
    ///     .with_itsdangerous(FlaskDigest::Sha1, "cookie-session", FlaskKeyDerivation::Hmac);
    /// assert_eq!(s.flask().salt_or_default(), "cookie-session");
    /// ```
    pub fn with_itsdangerous(mut self, digest: FlaskDigest, salt: &str, key_derivation: FlaskKeyDerivation) -> Self {
        self.flask.digest = Some(digest);
        self.flask.salt = Some(salt.to_owned());
        self.flask.key_derivation = Some(key_derivation);
        self
    }
}
