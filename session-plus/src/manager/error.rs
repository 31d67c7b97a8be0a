//! [`BuildError`]: why a [`SessionManager`](super::SessionManager) could not be built.

use std::fmt;

use crate::config::{ConfigError, SessionType};
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
    /// A store's server was reached but the TLS connection failed: its certificate is not signed
    /// by the CA (`tls_ca_file`, else the system's roots), does not name the URL's host, or the
    /// server refused TLS. The message includes the TLS library's reason (such as
    /// `invalid peer certificate: UnknownIssuer`).
    Tls {
        /// The session's cookie name.
        session: String,
        /// The session's store.
        store: SessionType,
        /// What the store said.
        source: store::Error,
    },
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
            Self::Tls { session, store, source } => write!(
                f,
                "session `{session}`: TLS to its {store} store failed: the server's certificate was not trusted \
                 (is `tls_ca_file` the CA that signed it, and does it name the URL's host?) or the server refused \
                 TLS: {}",
                with_causes(source)
            ),
            Self::Store { session, source } => {
                write!(f, "session `{session}`: its store cannot be opened: {}", with_causes(source))
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(error) | Self::Key(error) => Some(error),
            Self::Tls { source, .. } | Self::Store { source, .. } => Some(source),
        }
    }
}

impl From<ConfigError> for BuildError {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

/// Whether a store's failure is a TLS one (a certificate refused, a handshake failed, TLS
/// refused), judged by the text of its chain of causes: each driver wraps rustls's error its own way.
#[cfg(any(
    feature = "store-sqlite",
    feature = "store-postgres",
    feature = "store-mysql",
    feature = "store-redis",
    feature = "store-memcached",
    feature = "store-mongodb",
    feature = "store-firestore"
))]
pub(super) fn is_tls_failure(error: &store::Error) -> bool {
    let text = with_causes(error).to_ascii_lowercase();
    ["certificate", "tls", "ssl", "handshake"].iter().any(|word| text.contains(word))
}

/// An error's text followed by each cause that its text does not already include, so that the
/// root cause (such as rustls's `UnknownIssuer`) is shown whatever the driver's `Display` prints.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let more = error.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = error.source();
    }
    text
}
