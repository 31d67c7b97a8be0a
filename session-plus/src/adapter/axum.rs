//! The axum extractor for [`Session`], and responses for session errors.
//!
//! ```
//! use axum::{routing::post, Router};
//! use session_plus::{session, Session};
//!
//! async fn logout(session: Session) -> &'static str {
//!     session.clear().await;
//!     "bye"
//! }
//!
//! async fn login(session: Session) -> Result<&'static str, session::Error> {
//!     session.insert("user_id", 42).await?; // a store failure becomes its 503
//!     session.regenerate().await?;
//!     Ok("hello")
//! }
//!
//! let app: Router = Router::new().route("/login", post(login)).route("/logout", post(logout));
//! # let _ = app;
//! ```

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::session::{self, Session};

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or(SessionRejection)
    }
}

/// The request has no [`Session`]: the layer is missing.
#[derive(Debug, Clone, Copy)]
pub struct SessionRejection;

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "session-plus: no Session in this request; is SessionManagerLayer installed on this route?",
        )
            .into_response()
    }
}

impl IntoResponse for session::Error {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}
