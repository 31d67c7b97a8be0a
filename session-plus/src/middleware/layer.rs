use tower_layer::Layer;

use super::SessionManagerService;
use crate::manager::SessionManager;

/// Adds sessions to a service; see the [module docs](crate::middleware) for an example.
#[derive(Debug, Clone)]
pub struct SessionManagerLayer {
    manager: SessionManager,
}

impl SessionManagerLayer {
    /// A layer for this manager (also [`SessionManager::layer`]).
    pub fn new(manager: SessionManager) -> Self {
        Self { manager }
    }
}

impl SessionManager {
    /// The tower layer that gives each request its [`Session`](crate::Session).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// let config = Config::new().with_session(SessionConfig::new("s").with_type(SessionType::Memory));
    /// let layer = SessionManager::new(config).await?.layer();
    /// # let _ = layer;
    /// # Ok::<(), session_plus::BuildError>(())
    /// # }).unwrap();
    /// ```
    pub fn layer(&self) -> SessionManagerLayer {
        SessionManagerLayer::new(self.clone())
    }
}

impl<S> Layer<S> for SessionManagerLayer {
    type Service = SessionManagerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionManagerService::new(inner, self.manager.clone())
    }
}
