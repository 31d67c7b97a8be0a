//! [`SessionManager`]: the validated configuration with its keys, stores and routing, built once
//! at start-up and shared by every request.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use http::HeaderMap;

use crate::clock::{Clock, SystemClock};
use crate::codec::{CookieCodec, IdSigner, Key, KeyRing};
use crate::config::{Config, ConfigError, Format, SessionConfig, SessionType};
use crate::routing::Routing;
use crate::session::{Id, Session};
use crate::store::SessionStore;
use crate::SessionManagerLayer;

/// Everything a request needs to run its sessions; cheap to clone.
///
/// ```
/// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
/// let manager = SessionManager::new(config).await?;
/// let layer = manager.layer(); // add it to an axum Router with `.layer(layer)`
/// # let _ = layer;
/// # Ok::<(), session_plus::ConfigError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<ManagerInner>,
}

pub(crate) struct ManagerInner {
    pub(crate) sessions: Vec<SessionSpec>,
    pub(crate) by_name: HashMap<String, usize>,
    /// The cookie names, in configuration order.
    pub(crate) names: Vec<String>,
    pub(crate) routing: Routing,
    pub(crate) clock: Arc<dyn Clock>,
    /// Purge tasks run while this lives, that is while the manager does.
    _alive: Arc<()>,
}

/// One configured session with its backend.
pub(crate) struct SessionSpec {
    pub(crate) config: SessionConfig,
    pub(crate) backend: Backend,
    /// Signs id cookies, with `use_signer`.
    pub(crate) id_signer: Option<IdSigner>,
}

pub(crate) enum Backend {
    Cookie(CookieCodec),
    Store(Arc<dyn SessionStore>),
}

impl SessionSpec {
    /// The store key of an id: `key_prefix:id`, or `key_prefix` and the id with nothing between
    /// for flask-session-plus's records.
    pub(crate) fn key(&self, id: &Id) -> String {
        match self.config.flask.format {
            Format::FlaskSessionPlus => format!("{}{}", self.config.key_prefix, id.as_str()),
            _ => format!("{}:{}", self.config.key_prefix, id.as_str()),
        }
    }

    /// A fresh id in this session's format.
    pub(crate) fn new_id(&self) -> Result<Id, getrandom::Error> {
        match self.config.flask.format {
            Format::FlaskSessionPlus => Id::random_uuid(),
            _ => Id::random(),
        }
    }

    /// The id in `text`, if it has this session's shape; nothing else reaches a store.
    pub(crate) fn parse_id(&self, text: &str) -> Option<Id> {
        match self.config.flask.format {
            Format::FlaskSessionPlus => Id::parse_uuid(text),
            Format::FlaskSession => Id::parse_token(text),
            _ => Id::parse(text),
        }
    }
}

impl SessionManager {
    /// Validates `config`, resolves its keys, opens its stores and starts their purge tasks.
    ///
    /// # Errors
    /// Any [`Config::validate`] error, an unset `env:` key, a store that cannot be opened, or a
    /// `session_type` this build does not include (the error names the feature to enable).
    pub async fn new(config: Config) -> Result<Self, ConfigError> {
        Self::builder(config).build().await
    }

    /// A builder, to inject stores, a clock, or to turn purge tasks off.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// use session_plus::{clock::ManualClock, store::MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Custom));
    /// let manager = SessionManager::builder(config)
    ///     .with_store("session", Arc::new(MemoryStore::new()))
    ///     .with_clock(ManualClock::new(1_700_000_000))
    ///     .build()
    ///     .await?;
    /// # let _ = manager;
    /// # Ok::<(), session_plus::ConfigError>(())
    /// # }).unwrap();
    /// ```
    pub fn builder(config: Config) -> SessionManagerBuilder {
        SessionManagerBuilder { config, stores: HashMap::new(), clock: Arc::new(SystemClock), purge: true }
    }

    /// The tower layer that gives each request its [`Session`].
    pub fn layer(&self) -> SessionManagerLayer {
        SessionManagerLayer::new(self.clone())
    }

    /// Which session owns which field.
    pub fn routing(&self) -> &Routing {
        &self.inner.routing
    }

    /// The configuration of each session, in order.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionConfig> {
        self.inner.sessions.iter().map(|s| &s.config)
    }

    /// A session for a request carrying these `Cookie` headers (`None`: no cookies). The
    /// middleware calls this; it is public for tests and other frameworks.
    pub fn session_for_cookies(&self, headers: Option<&HeaderMap>) -> Session {
        Session::new(self.inner.clone(), headers)
    }

    /// Removes expired records from every server-side store now; returns how many went.
    ///
    /// # Errors
    /// The first store that fails.
    pub async fn purge_expired(&self) -> Result<u64, crate::store::Error> {
        let now = self.inner.clock.now();
        let mut total = 0;
        for spec in &self.inner.sessions {
            if let Backend::Store(store) = &spec.backend {
                total += store.purge_expired(now).await?;
            }
        }
        Ok(total)
    }
}

impl fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sessions: Vec<(&str, SessionType)> =
            self.inner.sessions.iter().map(|s| (s.config.cookie_name(), s.config.session_type())).collect();
        f.debug_struct("SessionManager").field("sessions", &sessions).finish_non_exhaustive()
    }
}

/// Builds a [`SessionManager`] with injected stores or clock.
#[derive(Debug)]
pub struct SessionManagerBuilder {
    config: Config,
    stores: HashMap<String, Arc<dyn SessionStore>>,
    clock: Arc<dyn Clock>,
    purge: bool,
}

impl SessionManagerBuilder {
    /// Uses `store` for the session named `cookie_name`, whatever its `session_type`.
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
    /// As [`SessionManager::new`].
    pub async fn build(mut self) -> Result<SessionManager, ConfigError> {
        self.config.validate()?;
        let keys = self
            .config
            .secret_keys()
            .iter()
            .map(|secret| secret.resolve().map(|bytes| Key::derive(&bytes)))
            .collect::<Result<Vec<_>, _>>()?;
        let global = Secrets { ring: KeyRing::new(keys), raw: self.config.secret_keys() };
        let mut sessions = Vec::new();
        for config in self.config.sessions() {
            let name = config.cookie_name();
            let secrets = global.for_session(config)?;
            let backend = match self.stores.remove(name) {
                Some(store) => Backend::Store(store),
                None => open_backend(config, &secrets).await?,
            };
            let id_signer = if config.use_signer { Some(secrets.id_signer(config)?) } else { None };
            sessions.push(SessionSpec { config: config.clone(), backend, id_signer });
        }
        if let Some(name) = self.stores.keys().next() {
            return Err(ConfigError::new(
                name,
                "cookie_name",
                "a store was given for a session that is not configured",
            ));
        }
        let alive = Arc::new(());
        if self.purge {
            for spec in &sessions {
                if let Backend::Store(store) = &spec.backend {
                    if !store.expires_natively() {
                        let (store, clock) = (store.clone(), self.clock.clone());
                        spawn_purge(store, Arc::downgrade(&alive), clock, spec.config.backend.purge_interval);
                    }
                }
            }
        }
        let by_name = sessions.iter().enumerate().map(|(i, s)| (s.config.cookie_name.clone(), i)).collect();
        let routing = Routing::new(self.config.sessions());
        Ok(SessionManager {
            inner: Arc::new(ManagerInner {
                names: sessions.iter().map(|s| s.config.cookie_name.clone()).collect(),
                sessions,
                by_name,
                routing,
                clock: self.clock,
                _alive: alive,
            }),
        })
    }
}

/// The keys one session uses: its own `secret_keys`, or the global ring.
struct Secrets<'a> {
    ring: Option<KeyRing>,
    raw: &'a [crate::config::SecretKey],
}

impl<'a> Secrets<'a> {
    fn for_session(&self, config: &'a SessionConfig) -> Result<Secrets<'a>, ConfigError> {
        match &config.secret_keys {
            Some(own) => {
                let ring = if config.flask.format == Format::Native {
                    let keys = own.iter().map(|k| k.resolve().map(|bytes| Key::derive(&bytes)));
                    KeyRing::new(keys.collect::<Result<Vec<_>, _>>()?)
                } else {
                    None
                };
                Ok(Secrets { ring, raw: own })
            }
            None => Ok(Secrets { ring: self.ring.clone(), raw: self.raw }),
        }
    }

    fn ring(&self, config: &SessionConfig) -> Result<KeyRing, ConfigError> {
        // `Config::validate` refuses a session that signs without any key.
        self.ring.clone().ok_or_else(|| ConfigError::new(config.cookie_name(), "secret_keys", "no secret key"))
    }

    /// The keys as they are, for Flask's formats (a Flask `SECRET_KEY` is used without derivation).
    #[cfg(feature = "flask")]
    fn raw(&self) -> Result<Vec<Vec<u8>>, ConfigError> {
        self.raw.iter().map(|k| k.resolve_raw().map(|bytes| bytes.to_vec())).collect()
    }

    fn id_signer(&self, config: &SessionConfig) -> Result<IdSigner, ConfigError> {
        match config.flask.format {
            Format::Native => Ok(IdSigner::Native(self.ring(config)?)),
            _ => flask_id_signer(config, self),
        }
    }
}

async fn open_backend(config: &SessionConfig, secrets: &Secrets<'_>) -> Result<Backend, ConfigError> {
    let name = config.cookie_name();
    match (config.session_type(), config.flask.format) {
        (SessionType::SecureCookie, Format::Native) if config.encrypt => private_codec(name, secrets.ring(config)?),
        (SessionType::SecureCookie, Format::Native) => Ok(Backend::Cookie(CookieCodec::signed(secrets.ring(config)?))),
        (SessionType::SecureCookie, _) => flask_codec(config, secrets),
        _ => crate::store::open(config).await.map(Backend::Store),
    }
}

#[cfg(feature = "flask")]
fn flask_codec(config: &SessionConfig, secrets: &Secrets<'_>) -> Result<Backend, ConfigError> {
    use crate::codec::flask::itsdangerous::{Digest, KeyDerivation, TimedSerializer};
    use crate::config::{FlaskDigest, FlaskKeyDerivation};
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

#[cfg(feature = "flask")]
fn flask_id_signer(_: &SessionConfig, secrets: &Secrets<'_>) -> Result<IdSigner, ConfigError> {
    use crate::codec::flask::itsdangerous::{Digest, KeyDerivation, Signer};
    Ok(IdSigner::Flask(Signer::new(secrets.raw()?, "flask-session", Digest::Sha1, KeyDerivation::Hmac)))
}

#[cfg(not(feature = "flask"))]
fn flask_codec(config: &SessionConfig, _: &Secrets<'_>) -> Result<Backend, ConfigError> {
    Err(flask_missing(config))
}

#[cfg(not(feature = "flask"))]
fn flask_id_signer(config: &SessionConfig, _: &Secrets<'_>) -> Result<IdSigner, ConfigError> {
    Err(flask_missing(config))
}

#[cfg(not(feature = "flask"))]
fn flask_missing(config: &SessionConfig) -> ConfigError {
    ConfigError::new(config.cookie_name(), "format", "Flask's formats need the `flask` feature of session-plus")
}

#[cfg(feature = "codec-private")]
fn private_codec(_: &str, ring: KeyRing) -> Result<Backend, ConfigError> {
    Ok(Backend::Cookie(CookieCodec::private(ring)))
}

#[cfg(not(feature = "codec-private"))]
fn private_codec(name: &str, _: KeyRing) -> Result<Backend, ConfigError> {
    Err(ConfigError::new(name, "encrypt", "encrypted cookies need the `codec-private` feature of session-plus"))
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
