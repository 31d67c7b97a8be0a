//! [axum-login](https://docs.rs/axum-login) on session-plus: an application written for
//! axum-login runs on [session-plus](session_plus) after a change to its `use` lines and to the
//! line that builds its layer.
//!
//! Its backend stays as it is: [`AuthUser`], [`AuthnBackend`] and [`AuthzBackend`] are
//! axum-login's own traits, re-exported. Its handlers stay as they are: [`AuthSession`] has
//! axum-login's methods (`user`, `backend`, `authenticate`, `login`, `logout`) with their
//! signatures, and [`login_required!`], [`permission_required!`] and [`predicate_required!`]
//! take the same arguments. What changes is where the session lives: in the fields of a
//! session-plus [`SessionManager`](session_plus::SessionManager) instead of a tower-sessions
//! layer.
//!
//! ```diff
//! -use axum_login::{login_required, AuthManagerLayerBuilder, AuthUser, AuthnBackend, UserId};
//! -use axum_login::tower_sessions::{MemoryStore, SessionManagerLayer};
//! +use session_plus_login::{login_required, AuthManagerLayerBuilder, AuthUser, AuthnBackend, UserId};
//! +use session_plus::{Config, SessionManager};
//!
//! -let session_layer = SessionManagerLayer::new(MemoryStore::default());
//! -let auth_layer = AuthManagerLayerBuilder::new(backend, session_layer).build();
//! +let manager = SessionManager::new(Config::from_file("sessions.toml")?).await?;
//! +let auth_layer = AuthManagerLayerBuilder::new(backend, manager).build()?;
//! ```
//!
//! `build` returns a `Result`: it refuses a configuration in which no session owns the field
//! that keeps the logged-in user (`axum_login`, or the name given to
//! [`with_data_key`](AuthManagerLayerBuilder::with_data_key)). List it beside the other
//! fields of your server-side session:
//!
//! ```toml
//! [[session]]
//! cookie_name = "session"
//! session_type = "sqlite"
//! session_fields = ["axum_login", "user_data"]
//! path = "sessions.db"
//! ```
//!
//! # What it does
//!
//! - **Login** ([`AuthSession::login`]) gives every session a new id, cookie sessions included
//!   (no fixation), stores the user id and a SHA-256 digest of the user's
//!   [`session_auth_hash`](AuthUser::session_auth_hash), and ties the server sessions to the user
//!   ([`Session::set_user`](session_plus::Session::set_user)), so that
//!   [`SessionManager::end_user_sessions`](session_plus::SessionManager::end_user_sessions) ends
//!   all of them at once.
//! - **Each request** under the layer looks the user up with the backend's `get_user` and
//!   compares its auth hash with the stored one, in constant time. A user who is gone, or whose
//!   hash changed (a new password), is logged out, and the request goes on anonymous. A request
//!   without a session cookie costs nothing: no store and no backend is asked.
//! - **Logout** ([`AuthSession::logout`]) clears every named session: their records are deleted
//!   and every session cookie is removed, not only the one holding the user.
//! - **Failures**: a backend error gives a 500, as axum-login does; a session store that fails,
//!   its configured status (503 by default); each with a generic body, the details logged.
//!
//! # Quick start
//!
//! ```no_run
//! # mod backend { include!("docs/backend.rs"); }
//! # use backend::{Backend, User};
//! use axum::routing::{get, post};
//! use axum::{http::StatusCode, response::Redirect, Form, Router};
//! use session_plus::{Config, SessionConfig, SessionManager, SessionType};
//! use session_plus_login::{login_required, AuthManagerLayerBuilder};
//!
//! type AuthSession = session_plus_login::AuthSession<Backend>;
//!
//! #[derive(serde::Deserialize)]
//! struct Credentials {
//!     name: String,
//!     password: String,
//! }
//!
//! async fn login(mut auth_session: AuthSession, Form(creds): Form<Credentials>) -> Result<Redirect, StatusCode> {
//!     let user = match auth_session.authenticate((creds.name, creds.password)).await {
//!         Ok(Some(user)) => user,
//!         Ok(None) => return Err(StatusCode::UNAUTHORIZED),
//!         Err(_) => return Err(StatusCode::INTERNAL_SERVER_ERROR),
//!     };
//!     auth_session.login(&user).await.map_err(|error| error.status())?;
//!     Ok(Redirect::to("/"))
//! }
//!
//! async fn logout(mut auth_session: AuthSession) -> Result<Redirect, StatusCode> {
//!     auth_session.logout().await.map_err(|error| error.status())?;
//!     Ok(Redirect::to("/login"))
//! }
//!
//! async fn protected(auth_session: AuthSession) -> String {
//!     format!("hello {:?}", auth_session.user().await.map(|user| user.name))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::new()
//!     .with_secret_key("a literal key for development, at least 32 bytes long")
//!     .with_session(SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["axum_login"]))
//!     .with_session(SessionConfig::new("data"));
//! let manager = SessionManager::new(config).await?;
//! let auth_layer = AuthManagerLayerBuilder::new(Backend, manager).build()?;
//! let app = Router::new()
//!     .route("/", get(protected))
//!     .route_layer(login_required!(Backend, login_url = "/login"))
//!     .route("/login", post(login))
//!     .route("/logout", post(logout))
//!     .layer(auth_layer);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! `session-plus-login/examples/axum_login.rs` is axum-login's SQLite example (users in
//! SQLite, Argon2 password hashes) on session-plus, and its tests drive it over TCP.
//!
//! # Why a crate of its own
//!
//! axum-login is at 0.x and breaks its API often; its traits are part of this API. As a module
//! of session-plus, each of its releases would be a breaking release of session-plus, and every
//! build enabling the feature would compile axum-login and the tower-sessions it depends on. As
//! a crate beside it, session-plus keeps its own versions, and only the applications that use
//! axum-login compile it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod layer;
mod macros;
mod service;
mod session;

pub use axum_login::{AuthUser, AuthnBackend, AuthzBackend, UserId};
pub use layer::{AuthManagerLayer, AuthManagerLayerBuilder, ConfigError, DEFAULT_DATA_KEY};
pub use service::AuthManager;
pub use session::{AuthSession, Error};

/// What the macros need, reachable from the crates that call them. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::macros::url_with_redirect_query;
    pub use {axum, tracing};
}
