//! The axum extractor for [`AuthSession`], and responses for its errors.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_login::AuthnBackend;

use crate::{AuthSession, Error};

/// Rejected with a 500 that names the fix when the request has no [`AuthSession`]: the
/// [`AuthManagerLayer`](crate::AuthManagerLayer) is missing on the route.
impl<S, Backend> FromRequestParts<S> for AuthSession<Backend>
where
    S: Send + Sync,
    Backend: AuthnBackend + 'static,
{
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<AuthSession<Backend>>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "session-plus-login: no AuthSession in this request; is AuthManagerLayer installed on this route?",
        ))
    }
}

/// The error's [status](Error::status) with a generic body; what went wrong is logged.
impl<Backend: AuthnBackend> IntoResponse for Error<Backend> {
    fn into_response(self) -> Response {
        self.to_response::<Body>()
    }
}
