use std::fmt;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header::ContentType;
use actix_web::http::StatusCode as ActixStatus;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::middleware::actix_status;
use crate::session::{self, generic_body, Session};

/// Takes the request's [`Session`], which [`SessionMiddleware`](super::SessionMiddleware) put
/// there; without it, the request is refused with a [`SessionRejection`].
impl FromRequest for Session {
    type Error = SessionRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request.extensions().get::<Session>().cloned().ok_or(SessionRejection))
    }
}

/// The request has no [`Session`]: the middleware is missing. A 500 that says so.
///
/// ```
/// use actix_web::ResponseError;
/// use session_plus::adapter::actix::SessionRejection;
/// assert_eq!(SessionRejection.status_code(), actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
/// assert!(SessionRejection.to_string().contains("SessionMiddleware"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SessionRejection;

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "session-plus: no Session in this request; is SessionMiddleware installed on this route (App::wrap)?",
        )
    }
}

impl std::error::Error for SessionRejection {}

impl ResponseError for SessionRejection {
    fn status_code(&self) -> ActixStatus {
        ActixStatus::INTERNAL_SERVER_ERROR
    }
}

/// The error's status with a generic body; what went wrong is logged (it names fields and
/// sessions, never values or ids).
impl ResponseError for session::Error {
    fn status_code(&self) -> ActixStatus {
        actix_status(self.status())
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self, "session error");
        HttpResponse::build(self.status_code()).content_type(ContentType::plaintext()).body(generic_body(self.status()))
    }
}
