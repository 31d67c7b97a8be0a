//! [`SessionManagerBuilder`]: configuration → keys, codecs and stores, once, at start-up.
//!
//! This is the only module that reads a store's settings (`url`, `path`, `table`) or a key ring
//! from the configuration; stores and codecs take typed arguments.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{BuildError, SessionManager};
use crate::clock::Clock;
use crate::codec::{CookieCodec, IdSigner, Key, KeyRing};
use crate::config::{Config, ConfigError, Format, SecretKey, SessionConfig, SessionType};
use crate::routing::Routing;
use crate::session::{Backend, ErrorResponder, Failure, NamedSession, Sessions};
use crate::store::{self, SessionStore};

/// Connects a store by its `url`, over TLS verified with `tls_ca_file` when it is set.
#[cfg(any(feature = "store-postgres", feature = "store-mysql", feature = "store-redis", feature = "store-mongodb"))]
macro_rules! connect {
    ($store:ty, $config:expr) => {{
        let config = $config;
        match tls_ca_file(config)? {
            Some(ca_file) => <$store>::connect_with_tls_ca_file(url(config)?, ca_file).await,
            None => <$store>::connect(url(config)?).await,
        }
        .map_err(unreachable(config))
    }};
}

/// Builds a [`SessionManager`] with injected stores or clock.
#[derive(Debug)]
pub struct SessionManagerBuilder {
    config: Config,
    stores: HashMap<String, Arc<dyn SessionStore>>,
    clock: Arc<dyn Clock>,
    purge: bool,
    declared_fields: Vec<String>,
    /// Every server-side session without a store of its own on a fresh memory store.
    memory_stores: bool,
    error_responder: Option<ErrorResponder>,
    save_error_responses: bool,
}

impl SessionManagerBuilder {
    pub(super) fn new(config: Config, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            stores: HashMap::new(),
            clock,
            purge: true,
            declared_fields: Vec::new(),
            memory_stores: false,
            error_responder: None,
            save_error_responses: true,
        }
    }

    /// Uses `store` for the session named `cookie_name`, whatever its `session_type`: a store
    /// of your own, or one built from a client or pool your application made.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use session_plus::{Config, SessionConfig, SessionManager, store::MemoryStore};
    /// let builder = SessionManager::builder(Config::new().with_session(SessionConfig::new("s")))
    ///     .with_store("s", Arc::new(MemoryStore::new()));
    /// # let _ = builder;
    /// ```
    pub fn with_store(mut self, cookie_name: impl Into<String>, store: Arc<dyn SessionStore>) -> Self {
        self.stores.insert(cookie_name.into(), store);
        self
    }

    /// Keeps every server-side session (Redis, SQL, …) that has no [store of its
    /// own](Self::with_store) in a fresh [`MemoryStore`](crate::store::MemoryStore) instead, and
    /// connects to nothing: the production configuration, tested without its servers (see
    /// [`testing`](crate::testing)). Cookie sessions are unchanged.
    ///
    /// ```
    /// use session_plus::{Config, SessionManager};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::from_toml_str(r#"
    ///     [[session]]
    ///     cookie_name = "session"
    ///     session_type = "redis"
    ///     url = "redis://redis.internal:6379"
    /// "#)?;
    /// let manager = SessionManager::builder(config).with_memory_stores().build().await?;
    /// # let _ = manager;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_memory_stores(mut self) -> Self {
        self.memory_stores = true;
        self
    }

    /// Answers a session that could not be loaded or saved with the application's own response
    /// instead of the generic one (`503 Service Unavailable` as plain text): an HTML page in the
    /// site's style, a JSON error for an API. The [`Failure`] says which session failed, at which
    /// step, and the configured status; it holds no id, value or store error (those are in the
    /// log). The `Set-Cookie` headers of the sessions that committed, `Cache-Control: no-store`
    /// and `Vary: Cookie` are added to the response all the same.
    ///
    /// ```
    /// use http::{header, Response};
    /// use session_plus::session::{Failure, Stage};
    /// use session_plus::{Config, SessionManager};
    /// let builder = SessionManager::builder(Config::new()).with_error_response(|failure: &Failure| {
    ///     let message = match failure.stage() {
    ///         Stage::Load => "We could not load your session. Please try again in a minute.",
    ///         _ => "We could not save your changes. Please try again.",
    ///     };
    ///     let mut response = Response::new(format!(r#"{{"error": "{message}"}}"#));
    ///     *response.status_mut() = failure.status();
    ///     response.headers_mut().insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    ///     response
    /// });
    /// # let _ = builder;
    /// ```
    pub fn with_error_response<F>(mut self, respond: F) -> Self
    where
        F: Fn(&Failure) -> http::Response<String> + Send + Sync + 'static,
    {
        self.error_responder = Some(ErrorResponder(Arc::new(respond)));
        self
    }

    /// Saves none of a request's changes when its response is an error (4xx or 5xx): a handler
    /// that wrote to the session and then failed leaves the session as it was. By default every
    /// response saves, as in tower-sessions and Flask. The adapters tell the session the
    /// response's status ([`Session::set_response_status`](crate::Session::set_response_status)).
    ///
    /// ```
    /// use session_plus::{Config, SessionManager};
    /// let builder = SessionManager::builder(Config::new()).without_saving_error_responses();
    /// # let _ = builder;
    /// ```
    pub fn without_saving_error_responses(mut self) -> Self {
        self.save_error_responses = false;
        self
    }

    /// Reads time from `clock` instead of the system clock.
    ///
    /// ```
    /// use session_plus::{Config, SessionManager, clock::ManualClock};
    /// let builder = SessionManager::builder(Config::new()).with_clock(ManualClock::new(0));
    /// # let _ = builder;
    /// ```
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The fields the application uses (typically its [`Field`](crate::session::Field)s' names):
    /// [`build`](Self::build) refuses one that no session lists in its `session_fields`, so a
    /// typo does not silently land in a catch-all (`"auto"` or `[]`) session. Fields meant for a
    /// catch-all session are not declared.
    ///
    /// ```
    /// use session_plus::{Config, SessionConfig, SessionManager};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new()
    ///     .with_secret_key("a literal key for development, at least 32 bytes long")
    ///     .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
    ///     .with_session(SessionConfig::new("data").with_field_selector(session_plus::FieldSelector::Auto));
    /// let typo = SessionManager::builder(config).with_declared_fields(["csrf_tokn"]).build().await;
    /// assert!(typo.unwrap_err().to_string().contains("csrf_tokn"));
    /// # });
    /// ```
    pub fn with_declared_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.declared_fields.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Starts no purge task (call [`SessionManager::purge_expired`] yourself).
    ///
    /// ```
    /// use session_plus::{Config, SessionManager};
    /// let builder = SessionManager::builder(Config::new()).without_purge_tasks();
    /// # let _ = builder;
    /// ```
    pub fn without_purge_tasks(mut self) -> Self {
        self.purge = false;
        self
    }

    /// Builds the manager.
    ///
    /// # Errors
    /// As [`SessionManager::new`]; also [`BuildError::Config`] for a store given for a session
    /// that is not configured, or a [declared field](Self::with_declared_fields) no session lists.
    pub async fn build(mut self) -> Result<SessionManager, BuildError> {
        self.config.validate()?;
        let routing = Routing::new(self.config.sessions());
        if let Some(field) =
            self.declared_fields.iter().find(|field| routing.named_fields().all(|(named, _)| named != *field))
        {
            let message = format!(
                "the declared field `{field}` is listed by no session's session_fields (a typo? it would go to a catch-all session)"
            );
            return Err(ConfigError::global(Some("session_fields"), message).into());
        }
        let global = Secrets::new(self.config.secret_keys())?;
        let mut list = Vec::new();
        for config in self.config.sessions() {
            let secrets = global.for_session(config)?;
            let backend = match self.stores.remove(config.cookie_name()) {
                Some(store) => Backend::Store(store),
                None if self.memory_stores && config.session_type() != SessionType::SecureCookie => {
                    Backend::Store(Arc::new(crate::store::MemoryStore::new()))
                }
                None => open_backend(config, &secrets).await?,
            };
            #[cfg(feature = "metrics")]
            let backend = match backend {
                Backend::Store(store) => Backend::Store(Arc::new(crate::observe::ObservedStore(store))),
                cookie => cookie,
            };
            let id_signer = if config.use_signer { Some(secrets.id_signer(config)?) } else { None };
            list.push(NamedSession { config: config.clone(), backend, id_signer });
        }
        if let Some(name) = self.stores.keys().next() {
            let message = "a store was given for a session that is not configured";
            return Err(ConfigError::new(name, "cookie_name", message).into());
        }
        let alive = Arc::new(());
        if self.purge {
            for named in &list {
                if let Backend::Store(store) = &named.backend
                    && !store.expires_natively()
                {
                    let (store, clock) = (store.clone(), self.clock.clone());
                    spawn_purge(store, Arc::downgrade(&alive), clock, named.config.backend.purge_interval);
                }
            }
        }
        let mut sessions = Sessions::new(list, routing, self.clock);
        sessions.error_responder = self.error_responder;
        sessions.save_error_responses = self.save_error_responses;
        Ok(SessionManager { sessions: Arc::new(sessions), _alive: alive })
    }
}

/// The keys one session uses: its own `secret_keys`, or the global ring.
struct Secrets<'a> {
    ring: Option<KeyRing>,
    raw: &'a [SecretKey],
}

impl<'a> Secrets<'a> {
    fn new(raw: &'a [SecretKey]) -> Result<Self, BuildError> {
        Ok(Self { ring: derived_ring(raw)?, raw })
    }

    fn for_session(&self, config: &'a SessionConfig) -> Result<Secrets<'a>, BuildError> {
        match &config.secret_keys {
            // Flask's formats use their keys as they are; only the native ones derive a ring.
            Some(own) if config.flask.format == Format::Native => Secrets::new(own),
            Some(own) => Ok(Secrets { ring: None, raw: own }),
            None => Ok(Secrets { ring: self.ring.clone(), raw: self.raw }),
        }
    }

    fn ring(&self, config: &SessionConfig) -> Result<KeyRing, BuildError> {
        // `Config::validate` refuses a session that signs without any key.
        let missing = || BuildError::Key(ConfigError::new(config.cookie_name(), "secret_keys", "no secret key"));
        self.ring.clone().ok_or_else(missing)
    }

    /// The keys as they are, for Flask's formats (a Flask `SECRET_KEY` is used without derivation).
    #[cfg(feature = "flask")]
    fn raw(&self) -> Result<Vec<Vec<u8>>, BuildError> {
        self.raw.iter().map(|k| k.resolve_raw().map(|bytes| bytes.to_vec()).map_err(BuildError::Key)).collect()
    }

    fn id_signer(&self, config: &SessionConfig) -> Result<IdSigner, BuildError> {
        match config.flask.format {
            Format::Native => Ok(IdSigner::Native(self.ring(config)?)),
            _ => flask_id_signer(config, self),
        }
    }
}

fn derived_ring(raw: &[SecretKey]) -> Result<Option<KeyRing>, BuildError> {
    let keys = raw.iter().map(|k| k.resolve().map(|bytes| Key::derive(&bytes)));
    Ok(KeyRing::new(keys.collect::<Result<Vec<_>, _>>().map_err(BuildError::Key)?))
}

async fn open_backend(config: &SessionConfig, secrets: &Secrets<'_>) -> Result<Backend, BuildError> {
    match (config.session_type(), config.flask.format) {
        (SessionType::SecureCookie, Format::Native) if config.encrypt => private_codec(config, secrets.ring(config)?),
        (SessionType::SecureCookie, Format::Native) => Ok(Backend::Cookie(CookieCodec::signed(secrets.ring(config)?))),
        (SessionType::SecureCookie, _) => flask_codec(config, secrets),
        (_, Format::Native) => open_store(config).await.map(Backend::Store),
        _ => open_flask_store(config).await.map(Backend::Store),
    }
}

/// Opens the store a session's configuration describes (every native `session_type` but
/// `secure_cookie` and `custom`), creating its schema where it has one.
async fn open_store(config: &SessionConfig) -> Result<Arc<dyn SessionStore>, BuildError> {
    let session_type = config.session_type();
    match session_type {
        SessionType::Memory => Ok(Arc::new(store::MemoryStore::new())),
        #[cfg(feature = "store-sqlite")]
        SessionType::Sqlite => {
            // `Config::validate` insists on one of them.
            let target = config.backend.url.as_deref().or(config.backend.path.as_deref()).unwrap_or_default();
            let store = store::SqliteStore::connect(target).await.map_err(unreachable(config))?;
            let store = with_table(config, store, store::SqliteStore::with_table_name)?;
            store.migrate().await.map_err(unreachable(config))?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "store-postgres")]
        SessionType::Postgres => {
            let store = connect!(store::PostgresStore, config)?;
            let store = with_table(config, store, store::PostgresStore::with_table_name)?;
            store.migrate().await.map_err(unreachable(config))?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "store-mysql")]
        SessionType::Mysql => {
            let store = connect!(store::MySqlStore, config)?;
            let store = with_table(config, store, store::MySqlStore::with_table_name)?;
            store.migrate().await.map_err(unreachable(config))?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "store-mongodb")]
        SessionType::Mongodb => {
            let store = mongodb(config).await?;
            store.migrate().await.map_err(unreachable(config))?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "store-firestore")]
        SessionType::Firestore => Ok(Arc::new(firestore(config).await?)),
        #[cfg(feature = "store-redis")]
        SessionType::Redis => Ok(Arc::new(redis(config).await?)),
        #[cfg(feature = "store-memcached")]
        SessionType::Memcache => Ok(Arc::new(memcached(config).await?)),
        SessionType::Custom => Err(ConfigError::new(
            config.cookie_name(),
            "session_type",
            "a custom session needs a store from SessionManagerBuilder::with_store",
        )
        .into()),
        _ => Err(missing_feature(config, store_feature(session_type))),
    }
}

/// A Python `format` on a `redis`, `memcache`, `mongodb` or `firestore` session: records as Python
/// writes them.
#[cfg(all(
    feature = "flask",
    any(feature = "store-redis", feature = "store-memcached", feature = "store-mongodb", feature = "store-firestore")
))]
async fn open_flask_store(config: &SessionConfig) -> Result<Arc<dyn SessionStore>, BuildError> {
    #[cfg(any(feature = "store-redis", feature = "store-memcached", feature = "store-mongodb"))]
    use crate::store::FlaskStore;
    #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
    use crate::store::RecordEncoding;
    #[cfg(any(feature = "store-redis", feature = "store-memcached"))]
    let encoding = match config.flask.format {
        Format::FlaskSession => RecordEncoding::MessagePack,
        _ => RecordEncoding::TaggedJson,
    };
    let store: Arc<dyn SessionStore> = match (config.session_type(), config.flask.format) {
        #[cfg(feature = "store-redis")]
        (SessionType::Redis, _) => Arc::new(FlaskStore::redis(redis(config).await?, encoding)),
        #[cfg(feature = "store-memcached")]
        (SessionType::Memcache, _) if encoding == RecordEncoding::TaggedJson => {
            Arc::new(FlaskStore::memcached(memcached(config).await?))
        }
        #[cfg(feature = "store-mongodb")]
        (SessionType::Mongodb, Format::FlaskSessionPlus) => {
            let store = FlaskStore::mongodb(mongodb(config).await?);
            store.migrate().await.map_err(unreachable(config))?;
            Arc::new(store)
        }
        // flask-session-plus's per-field documents (the only Python format with a Firestore backend).
        #[cfg(feature = "store-firestore")]
        (SessionType::Firestore, Format::FlaskSessionPlus) => Arc::new(firestore(config).await?.flask_session_plus()),
        (other, _) => {
            let message =
                format!("format `{}` is not available on `{other}`, or needs the store's feature", config.flask.format);
            return Err(ConfigError::new(config.cookie_name(), "format", message).into());
        }
    };
    Ok(store)
}

#[cfg(not(all(
    feature = "flask",
    any(feature = "store-redis", feature = "store-memcached", feature = "store-mongodb", feature = "store-firestore")
)))]
async fn open_flask_store(config: &SessionConfig) -> Result<Arc<dyn SessionStore>, BuildError> {
    let message = format!("format `{}` needs the `flask` feature and the store's feature", config.flask.format);
    Err(ConfigError::new(config.cookie_name(), "format", message).into())
}

/// `url`: `mongodb://host:port/database?options`; `table` names the collection. Not migrated:
/// the native and the Python format each make their own indexes.
#[cfg(feature = "store-mongodb")]
async fn mongodb(config: &SessionConfig) -> Result<store::MongoDbStore, BuildError> {
    let store = connect!(store::MongoDbStore, config)?;
    with_table(config, store, store::MongoDbStore::with_collection_name)
}

/// `url`: `firestore://PROJECT[/DATABASE][?emulator=HOST:PORT]`; `table` names the collection.
#[cfg(feature = "store-firestore")]
async fn firestore(config: &SessionConfig) -> Result<store::FirestoreStore, BuildError> {
    let store = store::FirestoreStore::connect(url(config)?).await.map_err(unreachable(config))?;
    with_table(config, store, store::FirestoreStore::with_collection_name)
}

/// `url`: `redis://host:port/db`, or `redis+cluster://host1:port1,host2:port2,...`; `WAIT`
/// after every write with `redis_wait_replicas`.
#[cfg(feature = "store-redis")]
async fn redis(config: &SessionConfig) -> Result<store::RedisStore, BuildError> {
    const _: () = assert!(store::MAX_WAIT_TIMEOUT.as_millis() == crate::config::MAX_REDIS_WAIT_TIMEOUT.as_millis());
    let store = connect!(store::RedisStore, config)?;
    let backend = &config.backend;
    Ok(store.with_wait(backend.redis_wait_replicas, backend.redis_wait_timeout))
}

/// `url`: one server (`memcache://host:port`) or several separated by commas.
#[cfg(feature = "store-memcached")]
async fn memcached(config: &SessionConfig) -> Result<store::MemcachedStore, BuildError> {
    store::MemcachedStore::connect(url(config)?).await.map_err(unreachable(config))
}

#[cfg(any(
    feature = "store-postgres",
    feature = "store-mysql",
    feature = "store-redis",
    feature = "store-memcached",
    feature = "store-mongodb",
    feature = "store-firestore"
))]
fn url(config: &SessionConfig) -> Result<&str, BuildError> {
    // `Config::validate` insists on it for these stores.
    let missing = || ConfigError::new(config.cookie_name(), "url", "this session needs `url`").into();
    config.backend.url.as_deref().ok_or_else(missing)
}

#[cfg(any(
    feature = "store-sqlite",
    feature = "store-postgres",
    feature = "store-mysql",
    feature = "store-mongodb",
    feature = "store-firestore"
))]
fn with_table<S>(
    config: &SessionConfig,
    store: S,
    rename: fn(S, String) -> Result<S, String>,
) -> Result<S, BuildError> {
    match &config.backend.table {
        Some(table) => {
            rename(store, table.clone()).map_err(|e| ConfigError::new(config.cookie_name(), "table", e).into())
        }
        None => Ok(store),
    }
}

#[cfg(any(
    feature = "store-sqlite",
    feature = "store-postgres",
    feature = "store-mysql",
    feature = "store-redis",
    feature = "store-memcached",
    feature = "store-mongodb",
    feature = "store-firestore"
))]
fn unreachable(config: &SessionConfig) -> impl FnOnce(store::Error) -> BuildError + '_ {
    |source| {
        let session = config.cookie_name().to_owned();
        if super::error::is_tls_failure(&source) {
            BuildError::Tls { session, store: config.session_type(), source }
        } else {
            BuildError::Store { session, source }
        }
    }
}

/// `tls_ca_file`, checked to be a readable PEM file with a certificate, so that a wrong path is a
/// configuration error rather than a driver's.
#[cfg(any(feature = "store-postgres", feature = "store-mysql", feature = "store-redis", feature = "store-mongodb"))]
fn tls_ca_file(config: &SessionConfig) -> Result<Option<&str>, BuildError> {
    let Some(path) = config.backend.tls_ca_file.as_deref() else { return Ok(None) };
    let refuse = |message: String| BuildError::from(ConfigError::new(config.cookie_name(), "tls_ca_file", message));
    let pem = std::fs::read(path).map_err(|e| refuse(format!("cannot read `{path}`: {e}")))?;
    if !pem.windows(27).any(|window| window == b"-----BEGIN CERTIFICATE-----") {
        return Err(refuse(format!("`{path}` holds no PEM certificate (-----BEGIN CERTIFICATE-----)")));
    }
    Ok(Some(path))
}

fn store_feature(session_type: SessionType) -> &'static str {
    match session_type {
        SessionType::Sqlite => "store-sqlite",
        SessionType::Postgres => "store-postgres",
        SessionType::Mysql => "store-mysql",
        SessionType::Redis => "store-redis",
        SessionType::Memcache => "store-memcached",
        SessionType::Mongodb => "store-mongodb",
        _ => "store-firestore",
    }
}

fn missing_feature(config: &SessionConfig, feature: &str) -> BuildError {
    let message = format!("`{}` needs session-plus built with the `{feature}` feature", config.session_type());
    ConfigError::new(config.cookie_name(), "session_type", message).into()
}

#[cfg(feature = "flask")]
fn flask_codec(config: &SessionConfig, secrets: &Secrets<'_>) -> Result<Backend, BuildError> {
    use crate::config::{FlaskDigest, FlaskKeyDerivation};
    use flask_wire::itsdangerous::{Digest, KeyDerivation, TimedSerializer};
    let flask = config.flask();
    let digest = match flask.digest_or_default() {
        FlaskDigest::Sha1 => Digest::Sha1,
        FlaskDigest::Sha256 => Digest::Sha256,
        FlaskDigest::Sha3_256 => Digest::Sha3_256,
        FlaskDigest::Sha512 => Digest::Sha512,
    };
    let derivation = match flask.key_derivation_or_default() {
        FlaskKeyDerivation::Hmac => KeyDerivation::Hmac,
        FlaskKeyDerivation::DjangoConcat => KeyDerivation::DjangoConcat,
        FlaskKeyDerivation::Concat => KeyDerivation::Concat,
        FlaskKeyDerivation::None => KeyDerivation::None,
    };
    let serializer = TimedSerializer::new(secrets.raw()?, flask.salt_or_default(), digest, derivation);
    Ok(Backend::Cookie(CookieCodec::flask(serializer)))
}

/// Flask-Session's and flask-session-plus's id signer.
#[cfg(feature = "flask")]
fn flask_id_signer(_: &SessionConfig, secrets: &Secrets<'_>) -> Result<IdSigner, BuildError> {
    Ok(IdSigner::Flask(flask_wire::sid::signer(secrets.raw()?)))
}

#[cfg(not(feature = "flask"))]
fn flask_codec(config: &SessionConfig, _: &Secrets<'_>) -> Result<Backend, BuildError> {
    Err(flask_missing(config))
}

#[cfg(not(feature = "flask"))]
fn flask_id_signer(config: &SessionConfig, _: &Secrets<'_>) -> Result<IdSigner, BuildError> {
    Err(flask_missing(config))
}

#[cfg(not(feature = "flask"))]
fn flask_missing(config: &SessionConfig) -> BuildError {
    let message = "Flask's formats need the `flask` feature of session-plus";
    ConfigError::new(config.cookie_name(), "format", message).into()
}

#[cfg(feature = "codec-private")]
fn private_codec(_: &SessionConfig, ring: KeyRing) -> Result<Backend, BuildError> {
    Ok(Backend::Cookie(CookieCodec::private(ring)))
}

#[cfg(not(feature = "codec-private"))]
fn private_codec(config: &SessionConfig, _: KeyRing) -> Result<Backend, BuildError> {
    let message = "encrypted cookies need the `codec-private` feature of session-plus";
    Err(ConfigError::new(config.cookie_name(), "encrypt", message).into())
}

/// Purges `store` every `interval` until the manager is dropped; an error is logged and the task
/// carries on.
fn spawn_purge(store: Arc<dyn SessionStore>, alive: Weak<()>, clock: Arc<dyn Clock>, interval: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate
        loop {
            ticks.tick().await;
            if alive.strong_count() == 0 {
                break;
            }
            match store.purge_expired(clock.now()).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(backend = store.backend_name(), purged, "purged expired sessions"),
                Err(error) => {
                    tracing::warn!(backend = store.backend_name(), %error, "purging expired sessions failed; will retry")
                }
            }
        }
    });
}
