//! [`AuthManagerLayerBuilder`] and the [`AuthManagerLayer`] it builds.

use axum_login::AuthnBackend;
use session_plus::middleware::SessionManagerService;
use session_plus::{SessionManager, SessionManagerLayer};
use tower_layer::Layer;

use crate::AuthManager;

/// The field that keeps the logged-in user when [`with_data_key`] names no other.
///
/// [`with_data_key`]: AuthManagerLayerBuilder::with_data_key
pub const DEFAULT_DATA_KEY: &str = "axum_login";

/// Builds an [`AuthManagerLayer`] from a backend and a [`SessionManager`], as axum-login's
/// builder does from a backend and a tower-sessions layer.
///
/// ```
/// # mod backend { include!("docs/backend.rs"); }
/// # use backend::{Backend, User};
/// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
/// use session_plus_login::AuthManagerLayerBuilder;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let config = Config::new()
///     .with_secret_key("a literal key for development, at least 32 bytes long")
///     .with_session(SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["axum_login"]))
///     .with_session(SessionConfig::new("data"));
/// let manager = SessionManager::new(config).await?;
/// let auth_layer = AuthManagerLayerBuilder::new(Backend, manager).build()?;
/// let app: axum::Router = axum::Router::new().layer(auth_layer);
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct AuthManagerLayerBuilder<Backend> {
    backend: Backend,
    manager: SessionManager,
    data_key: &'static str,
}

impl<Backend: AuthnBackend> AuthManagerLayerBuilder<Backend> {
    /// A builder for this backend, over the sessions of `manager`.
    pub fn new(backend: Backend, manager: SessionManager) -> Self {
        Self { backend, manager, data_key: DEFAULT_DATA_KEY }
    }

    /// Keeps the logged-in user in the field `data_key` instead of [`DEFAULT_DATA_KEY`]; the
    /// configuration must route it (see [`build`](Self::build)).
    ///
    /// ```
    /// # mod backend { include!("docs/backend.rs"); }
    /// # use backend::{Backend, User};
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// use session_plus_login::AuthManagerLayerBuilder;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new()
    ///     .with_session(SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["login"]));
    /// let manager = SessionManager::new(config).await?;
    /// let auth_layer = AuthManagerLayerBuilder::new(Backend, manager).with_data_key("login").build()?;
    /// # let _ = auth_layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_data_key(mut self, data_key: &'static str) -> Self {
        self.data_key = data_key;
        self
    }

    /// The layer, once the configuration is known to route the data key: some session must
    /// own it. Route it to a server-side session (beside the user's other server fields): the
    /// cookie then carries only an id, and the user's sessions can be ended together. Any
    /// session works, though: the field holds the user id and a digest of the auth hash, never
    /// the hash itself.
    ///
    /// # Errors
    /// No session owns the data key ([`ConfigError::UnownedDataKey`]).
    ///
    /// ```
    /// # mod backend { include!("docs/backend.rs"); }
    /// # use backend::{Backend, User};
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// use session_plus_login::{AuthManagerLayerBuilder, ConfigError};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new()
    ///     .with_session(SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["user_data"]));
    /// let manager = SessionManager::new(config).await?;
    /// let error = AuthManagerLayerBuilder::new(Backend, manager).build().unwrap_err();
    /// assert!(matches!(error, ConfigError::UnownedDataKey { .. }));
    /// assert!(error.to_string().contains("`axum_login`"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn build(self) -> Result<AuthManagerLayer<Backend>, ConfigError> {
        if self.manager.routing().owners(self.data_key).is_empty() {
            return Err(ConfigError::UnownedDataKey { data_key: self.data_key });
        }
        Ok(AuthManagerLayer { backend: self.backend, manager: self.manager, data_key: self.data_key })
    }
}

/// The layer that gives each request its [`Session`](session_plus::Session) and its
/// [`AuthSession`](crate::AuthSession): session-plus's own layer around an
/// [`AuthManager`]. Made by [`AuthManagerLayerBuilder`]; add it once, as axum-login's layer.
#[derive(Debug, Clone)]
pub struct AuthManagerLayer<Backend> {
    backend: Backend,
    manager: SessionManager,
    data_key: &'static str,
}

impl<S, Backend: Clone> Layer<S> for AuthManagerLayer<Backend> {
    type Service = SessionManagerService<AuthManager<S, Backend>>;

    fn layer(&self, inner: S) -> Self::Service {
        let auth = AuthManager::new(inner, self.backend.clone(), self.data_key);
        SessionManagerLayer::new(self.manager.clone()).layer(auth)
    }
}

/// A configuration that cannot carry logins, found by [`AuthManagerLayerBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No session owns the field that keeps the logged-in user.
    #[error(
        "no session owns the field `{data_key}`, where session-plus-login keeps the logged-in user; \
         add it to a server-side session's session_fields"
    )]
    UnownedDataKey {
        /// The field.
        data_key: &'static str,
    },
}
