//! [`AuthSession`]: axum-login's session of a logged-in user, kept in a session-plus field.

use std::fmt;
use std::sync::Arc;

use axum_login::{AuthUser, AuthnBackend, UserId};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use session_plus::session::{self, error_response, Session};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;

/// What went wrong in an [`AuthSession`] operation: the session or the backend.
///
/// As a response (axum's `IntoResponse`), a session error has its own status (a store that
/// failed to load: 503 by default) and a backend error is a 500, each with a generic body; what
/// went wrong is logged.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error<Backend: AuthnBackend> {
    /// The session could not be read or changed (a store failed, or the response was saved).
    #[error(transparent)]
    Session(session::Error),
    /// The backend failed.
    #[error(transparent)]
    Backend(Backend::Error),
}

impl<Backend: AuthnBackend> fmt::Debug for Error<Backend> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Session(error) => f.debug_tuple("Session").field(error).finish(),
            Self::Backend(error) => f.debug_tuple("Backend").field(error).finish(),
        }
    }
}

impl<Backend: AuthnBackend> From<session::Error> for Error<Backend> {
    fn from(error: session::Error) -> Self {
        Self::Session(error)
    }
}

impl<Backend: AuthnBackend> Error<Backend> {
    /// The HTTP status this error should produce: the session error's own
    /// ([`session::Error::status`]), or 500 for the backend.
    ///
    /// ```
    /// # mod backend { include!("docs/backend.rs"); }
    /// # use backend::{Backend, User};
    /// use http::StatusCode;
    /// use session_plus::session;
    ///
    /// let down = session::Error::Load { session: "session".into(), status: StatusCode::SERVICE_UNAVAILABLE };
    /// assert_eq!(session_plus_login::Error::<Backend>::Session(down).status(), StatusCode::SERVICE_UNAVAILABLE);
    /// ```
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Session(error) => error.status(),
            Self::Backend(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs the error and gives the response that stands for it: its status with a generic
    /// body ([`error_response`]), never the error's text.
    pub(crate) fn to_response<B: From<String>>(&self) -> http::Response<B> {
        match self {
            Self::Session(error) => tracing::error!(%error, "session-plus-login: the session failed"),
            Self::Backend(error) => tracing::error!(%error, "session-plus-login: the login backend failed"),
        }
        error_response(self.status()).map(B::from)
    }
}

/// The session of a request as axum-login knows it: the logged-in user, if any, and the
/// backend; with the methods that log in and out. Extract it in a handler (axum's
/// `FromRequestParts`) under an [`AuthManagerLayer`](crate::AuthManagerLayer). Clones share
/// the same state.
///
/// The layer has loaded the user before the handler runs: the user id stored in the session
/// is looked up with the backend's `get_user`, and the user's
/// [`session_auth_hash`](AuthUser::session_auth_hash) compared, in constant time, with the one
/// stored at login. A user who is gone, or whose hash changed (a new password), is logged out:
/// every session is cleared and the request goes on anonymous.
///
/// The session keeps the user id and a SHA-256 digest of the auth hash (never the hash itself)
/// in one field, `axum_login` unless
/// [`with_data_key`](crate::AuthManagerLayerBuilder::with_data_key) names another.
///
/// ```
/// # mod backend { include!("docs/backend.rs"); }
/// # use backend::{Backend, User};
/// use axum::body::Body;
/// use axum::http::{header, Request, StatusCode};
/// use axum::routing::{get, post};
/// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
/// use session_plus_login::AuthManagerLayerBuilder;
/// use tower::ServiceExt;
///
/// type AuthSession = session_plus_login::AuthSession<Backend>;
///
/// async fn whoami(auth_session: AuthSession) -> String {
///     match auth_session.user().await {
///         Some(user) => format!("hello {}", user.name),
///         None => "hello stranger".to_owned(),
///     }
/// }
///
/// async fn login(mut auth_session: AuthSession, password: String) -> StatusCode {
///     match auth_session.authenticate(("ferris".to_owned(), password)).await {
///         Ok(Some(user)) => match auth_session.login(&user).await {
///             Ok(()) => StatusCode::OK,
///             Err(error) => error.status(),
///         },
///         Ok(None) => StatusCode::UNAUTHORIZED,
///         Err(error) => error.status(),
///     }
/// }
///
/// async fn logout(mut auth_session: AuthSession) -> StatusCode {
///     match auth_session.logout().await {
///         Ok(_) => StatusCode::OK,
///         Err(error) => error.status(),
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let config = Config::new()
///     .with_session(SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["axum_login"]));
/// let manager = SessionManager::new(config).await?;
/// let app = axum::Router::new()
///     .route("/", get(whoami))
///     .route("/login", post(login))
///     .route("/logout", post(logout))
///     .layer(AuthManagerLayerBuilder::new(Backend, manager).build()?);
///
/// let response = app.clone().oneshot(Request::post("/login").body(Body::from("hunter42"))?).await?;
/// assert_eq!(response.status(), StatusCode::OK);
/// let set_cookie = response.headers()[header::SET_COOKIE].to_str()?;
/// let cookie = set_cookie.split(';').next().unwrap_or_default();
///
/// let response = app.oneshot(Request::get("/").header(header::COOKIE, cookie).body(Body::empty())?).await?;
/// let body = axum::body::to_bytes(response.into_body(), 1024).await?;
/// assert_eq!(body, "hello ferris");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct AuthSession<Backend: AuthnBackend> {
    backend: Backend,
    session: Session,
    data_key: &'static str,
    user: Arc<Mutex<Option<Backend::User>>>,
}

impl<Backend: AuthnBackend> AuthSession<Backend> {
    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The logged-in user, or `None`.
    pub async fn user(&self) -> Option<Backend::User> {
        self.user.lock().await.clone()
    }

    /// Checks credentials with the backend: the user they belong to, or `None` when they are
    /// wrong. Logs no one in: call [`login`](Self::login) with the user.
    ///
    /// # Errors
    /// The backend failed ([`Error::Backend`]).
    pub async fn authenticate(&self, creds: Backend::Credentials) -> Result<Option<Backend::User>, Error<Backend>> {
        self.backend.authenticate(creds).await.map_err(Error::Backend)
    }

    /// Logs `user` in. Every session gets a new id (and every cookie session a new cookie), the
    /// data kept: whoever knew the old ids knows nothing now (session fixation). The user id
    /// and the digest of its auth hash are stored, and every server session is
    /// [tied to the user](Session::set_user) so that
    /// [`SessionManager::end_user_sessions`](session_plus::SessionManager::end_user_sessions)
    /// can end them all. A configuration without a server session in the native format has
    /// nothing to tie; the login still holds.
    ///
    /// # Errors
    /// A store failed, or the user's id is not one a session can be tied to (over 128 bytes as
    /// text, or with control characters): [`Error::Session`].
    pub async fn login(&mut self, user: &Backend::User) -> Result<(), Error<Backend>> {
        let mut current = self.user.lock().await;
        self.session.regenerate().await?;
        let data = Data { user_id: user.id(), auth_hash: digest(user.session_auth_hash()) };
        self.session.insert(self.data_key, data).await?;
        match self.session.set_user(&user.id().to_string()).await {
            Ok(()) | Err(session::Error::NoServerSession) => {}
            Err(error) => return Err(error.into()),
        }
        *current = Some(user.clone());
        Ok(())
    }

    /// Logs out: every session is cleared (its records deleted, its cookie removed when the
    /// response is sent), not just the user's field. Returns the user who was logged in.
    ///
    /// # Errors
    /// The response was already saved ([`Error::Session`]).
    pub async fn logout(&mut self) -> Result<Option<Backend::User>, Error<Backend>> {
        let mut current = self.user.lock().await;
        self.session.clear().await?;
        Ok(current.take())
    }

    /// The auth session of a request: the user its session names, if the backend still has
    /// that user with the same auth hash; otherwise every session is cleared.
    pub(crate) async fn from_session(
        session: Session,
        backend: Backend,
        data_key: &'static str,
    ) -> Result<Self, Error<Backend>> {
        let user = match session.get_value(data_key).await? {
            Some(data) => match verified_user(&backend, data).await? {
                Some(user) => Some(user),
                None => {
                    session.clear().await?;
                    None
                }
            },
            None => None,
        };
        Ok(Self { backend, session, data_key, user: Arc::new(Mutex::new(user)) })
    }
}

impl<Backend: AuthnBackend> fmt::Debug for AuthSession<Backend> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The user may hold secrets (a password hash): only the session's names are shown.
        f.debug_struct("AuthSession").field("session", &self.session).finish_non_exhaustive()
    }
}

/// What the session keeps of a logged-in user.
#[derive(Serialize, Deserialize)]
struct Data<Id> {
    user_id: Id,
    /// The [`digest`] of the user's auth hash at login.
    auth_hash: String,
}

/// The user that `data` (the stored field) names, if the backend has that user and its auth
/// hash is still the one stored; `None` when it is not, or when the field cannot be read.
async fn verified_user<Backend: AuthnBackend>(
    backend: &Backend,
    data: Value,
) -> Result<Option<Backend::User>, Error<Backend>> {
    let Ok(Data { user_id, auth_hash }) = serde_json::from_value::<Data<UserId<Backend>>>(data) else {
        tracing::warn!("unreadable login data in the session: logged out");
        return Ok(None);
    };
    let Some(user) = backend.get_user(&user_id).await.map_err(Error::Backend)? else {
        tracing::debug!(user.id = %user_id, "the session's user is gone: logged out");
        return Ok(None);
    };
    if bool::from(digest(user.session_auth_hash()).as_bytes().ct_eq(auth_hash.as_bytes())) {
        Ok(Some(user))
    } else {
        tracing::debug!(user.id = %user_id, "the user's auth hash changed: logged out");
        Ok(None)
    }
}

/// What the session keeps of an auth hash: its SHA-256, base64url. The hash is often the
/// user's password hash; the session (a cookie, perhaps) never holds it.
fn digest(auth_hash: &[u8]) -> String {
    B64.encode(Sha256::digest(auth_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_fixed_and_hides_the_hash() {
        // SHA-256("abc"), base64url: the stored form must never change under a live session.
        assert_eq!(digest(b"abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_ne!(digest(b"abc"), digest(b"abd"));
    }
}
