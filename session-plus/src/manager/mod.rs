//! [`SessionManager`]: the validated configuration with its keys, stores and routing, built once
//! at start-up and shared by every request. Its [builder](SessionManagerBuilder) is the one place
//! where configuration becomes stores and codecs.

mod build;
mod error;

use std::fmt;
use std::sync::Arc;

use http::HeaderMap;

pub use build::SessionManagerBuilder;
pub use error::BuildError;

use crate::clock::SystemClock;
use crate::config::{Config, Format, SessionConfig, SessionType};
use crate::routing::Routing;
use crate::session::{user, Backend, Session, Sessions};
use crate::store;

/// Everything a request needs to run its sessions; cheap to clone.
///
/// ```
/// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
/// let manager = SessionManager::new(config).await?;
/// let layer = manager.layer(); // add it to an axum Router with `.layer(layer)`
/// # let _ = layer;
/// # Ok::<(), session_plus::BuildError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SessionManager {
    sessions: Arc<Sessions>,
    /// Purge tasks run while this lives, that is while the manager (or a clone) does.
    _alive: Arc<()>,
}

impl SessionManager {
    /// Validates `config`, resolves its keys, opens its stores and starts their purge tasks.
    ///
    /// # Errors
    /// [`BuildError::Config`]: a [`Config::validate`] error, or a `session_type` this build does
    /// not include (the error names the feature to enable); [`BuildError::Key`]: an unset `env:`
    /// key; [`BuildError::Tls`]: a store's server whose TLS certificate is not trusted (see
    /// `tls_ca_file`); [`BuildError::Store`]: a store that cannot be reached or prepared.
    pub async fn new(config: Config) -> Result<Self, BuildError> {
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
    /// # Ok::<(), session_plus::BuildError>(())
    /// # }).unwrap();
    /// ```
    pub fn builder(config: Config) -> SessionManagerBuilder {
        SessionManagerBuilder::new(config, Arc::new(SystemClock))
    }

    /// Which session owns which field.
    pub fn routing(&self) -> &Routing {
        &self.sessions.routing
    }

    /// The configuration of each session, in order.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionConfig> {
        self.sessions.list.iter().map(|s| &s.config)
    }

    /// The session of a request with these headers (only its `Cookie` headers are read; none is
    /// verified or loaded until a field is used). Finish it with [`Session::finish`] once the
    /// handler has answered: together they are what any framework needs ([`Session::finish`]
    /// shows a request handled with no framework at all).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// let config = Config::new().with_session(SessionConfig::new("s").with_type(SessionType::Memory));
    /// let session = SessionManager::new(config).await?.start(&http::HeaderMap::new());
    /// assert!(session.is_empty().await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn start(&self, request_headers: &HeaderMap) -> Session {
        Session::new(self.sessions.clone(), Some(request_headers))
    }

    /// Removes expired records from every server-side store now; returns how many went.
    ///
    /// # Errors
    /// The first store that fails.
    pub async fn purge_expired(&self) -> Result<u64, store::Error> {
        let now = self.sessions.clock.now();
        let mut total = 0;
        for named in &self.sessions.list {
            if let Backend::Store(store) = &named.backend {
                total += store.purge_expired(now).await?;
            }
        }
        Ok(total)
    }

    /// Ends every session [tied](Session::set_user) to `user_id`, in every native server-side
    /// store (a password change, "log out everywhere"): their next request finds no session.
    /// Sessions of other users, and untied ones, are untouched.
    ///
    /// # Errors
    /// The first store that fails (the stores before it have ended the user's sessions).
    pub async fn end_user_sessions(&self, user_id: &str) -> Result<(), store::Error> {
        if !user::is_valid_user_id(user_id) {
            return Ok(()); // no session can be tied to it
        }
        let now = self.sessions.clock.now();
        for named in &self.sessions.list {
            if let (Backend::Store(store), Format::Native) = (&named.backend, named.config.flask.format) {
                user::end(named, store.as_ref(), user_id, now).await?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sessions: Vec<(&str, SessionType)> =
            self.sessions().map(|config| (config.cookie_name(), config.session_type())).collect();
        f.debug_struct("SessionManager").field("sessions", &sessions).finish_non_exhaustive()
    }
}
