//! The tower middleware: gives each request a [`Session`](crate::Session) and saves it once the
//! inner service has answered.
//!
//! For each request the middleware reads the session cookies (loading nothing), puts a
//! [`Session`](crate::Session) in the request's extensions, calls the inner service, then saves
//! every changed session concurrently and adds their `Set-Cookie` headers, plus `Vary: Cookie`
//! when a session was used. If a store failed to load or save, the response is replaced by
//! [`Finished::error_response`](crate::session::Finished::error_response): the session's
//! configured error status (503 / 500 by default) with a generic body, still carrying the cookies
//! of the sessions that committed.
//!
//! ```
//! use axum::{routing::get, Router};
//! use session_plus::{Config, Session, SessionConfig, SessionManager, SessionType};
//!
//! async fn count(session: Session) -> Result<String, session_plus::session::Error> {
//!     let n: u64 = session.get("n").await?.unwrap_or(0) + 1;
//!     session.insert("n", n).await?;
//!     Ok(n.to_string())
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
//! let manager = SessionManager::new(config).await?;
//! let app: Router = Router::new().route("/", get(count)).layer(manager.layer());
//! # let _ = app;
//! # Ok::<(), session_plus::BuildError>(())
//! # }).unwrap();
//! ```

mod future;
mod layer;
mod service;
#[cfg(test)]
mod tests;

pub use future::ResponseFuture;
pub use layer::SessionManagerLayer;
pub use service::SessionManagerService;
