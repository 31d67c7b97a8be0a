//! [`BuildError`]: why a [`SessionManager`](super::SessionManager) could not be built.

use std::fmt;

use crate::config::ConfigError;
use crate::store;

/// Why a [`SessionManager`](super::SessionManager) could not be built: the configuration, a key,
/// or a store, told apart so that start-up can report (or retry) each as it deserves.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use session_plus::{BuildError, Config, SessionManager};
/// let err = SessionManager::new(Config::new()).await.unwrap_err();
/// assert!(matches!(err, BuildError::Config(_)));
/// # });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration cannot work, or needs a feature this build lacks.
    Config(ConfigError),
    /// A secret key cannot be used: an unset `env:` variable, or a key too short.
    Key(ConfigError),
    /// A store cannot be reached or prepared (connection, schema).
    Store {
        /// The session's cookie name.
        session: String,
        /// What the store said.
        source: store::Error,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(error) => write!(f, "invalid session configuration: {error}"),
            Self::Key(error) => write!(f, "unusable secret key: {error}"),
            Self::Store { session, source } => write!(f, "session `{session}`: its store cannot be opened: {source}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(error) | Self::Key(error) => Some(error),
            Self::Store { source, .. } => Some(source),
        }
    }
}

impl From<ConfigError> for BuildError {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}
