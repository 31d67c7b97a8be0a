//! The axum extractor for [`Session`], and responses for session errors.
//!
//! ```
//! use axum::{routing::post, Router};
//! use session_plus::{session, Session};
//!
//! async fn logout(session: Session) -> Result<&'static str, session::Error> {
//!     session.clear().await?;
//!     Ok("bye")
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

use crate::session::{self, generic_body, Session};

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

/// The error's status with a generic body; what went wrong is logged (it names fields and
/// sessions, never values or ids).
impl IntoResponse for session::Error {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "session error");
        let status = self.status();
        (status, generic_body(status)).into_response()
    }
}
