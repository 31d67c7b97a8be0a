use tower_layer::Layer;

use super::SessionManagerService;
use crate::SessionManager;

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

impl<S> Layer<S> for SessionManagerLayer {
    type Service = SessionManagerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionManagerService::new(inner, self.manager.clone())
    }
}
