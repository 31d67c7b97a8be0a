use std::fmt;
use std::future::{ready, Ready};

use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self as actix_header, HeaderMap as ActixHeaders};
use actix_web::http::StatusCode as ActixStatus;
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_util::future::LocalBoxFuture;
use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderName, StatusCode};

use crate::manager::SessionManager;
use crate::session::{Finished, Session};

/// The actix-web middleware that gives each request its [`Session`]; see the
/// [module docs](super) for an example.
///
/// Built like actix-session's `SessionMiddleware`, which actix-web users know: `new`, then
/// `App::wrap`.
#[derive(Debug, Clone)]
pub struct SessionMiddleware {
    manager: SessionManager,
}

impl SessionMiddleware {
    /// A middleware for this manager.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// use session_plus::adapter::actix::SessionMiddleware;
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// let config = Config::new().with_session(SessionConfig::new("s").with_type(SessionType::Memory));
    /// let app = actix_web::App::new().wrap(SessionMiddleware::new(SessionManager::new(config).await?));
    /// # let _ = app;
    /// # Ok::<(), session_plus::BuildError>(())
    /// # }).unwrap();
    /// ```
    pub fn new(manager: SessionManager) -> Self {
        Self { manager }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = SessionMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionMiddlewareService { service, manager: self.manager.clone() }))
    }
}

/// The service made by [`SessionMiddleware`] around the application's.
pub struct SessionMiddlewareService<S> {
    service: S,
    manager: SessionManager,
}

impl<S, B> Service<ServiceRequest> for SessionMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let session = self.manager.start(&neutral_headers(request.headers(), &[COOKIE]));
        request.extensions_mut().insert(session.clone());
        let response = self.service.call(request);
        Box::pin(async move {
            // An error from an inner middleware goes on as it is, unsaved, as in the tower layer.
            let response = response.await?;
            // The request's handle is dropped first, so that this one can be the last: then a
            // save that needs no store finishes without a lock (`Session::finish_now`).
            response.request().extensions_mut().remove::<Session>();
            // actix-web's `StatusCode` is http 0.2's; every valid one is valid in http 1.
            if let Ok(status) = http::StatusCode::from_u16(response.status().as_u16()) {
                session.set_response_status(status);
            }
            Ok(respond(session.finish().await, response))
        })
    }
}

impl<S> fmt::Debug for SessionMiddlewareService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddlewareService").field("manager", &self.manager).finish_non_exhaustive()
    }
}

/// The tower layer's `respond` for actix-web's types: the cookies and cache headers added to the
/// handler's response, or [`Finished::error_response`] instead of it.
fn respond<B>(finished: Finished, mut response: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    if let Some(error) = finished.error_response() {
        let (parts, body) = error.into_parts();
        let mut replacement = HttpResponse::with_body(actix_status(parts.status), body);
        copy_out(&parts.headers, replacement.headers_mut());
        return response.into_response(replacement.map_into_boxed_body()).map_into_right_body();
    }
    // What `apply_to_headers` reads goes in; what it wrote comes back.
    let mut headers = neutral_headers(response.headers(), &[VARY, CACHE_CONTROL]);
    finished.apply_to_headers(&mut headers);
    copy_out(&headers, response.headers_mut());
    response.map_into_left_body()
}

/// The values of these headers, as this crate's header types.
fn neutral_headers(from: &ActixHeaders, names: &[HeaderName]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in names {
        for value in from.get_all(name.as_str()) {
            // Both versions of `http` accept the same bytes, so this cannot fail.
            if let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) {
                headers.append(name.clone(), value);
            }
        }
    }
    headers
}

/// Writes `from` into actix-web's headers: each header replaces the one of its name, except
/// `Set-Cookie`, which is added beside the application's own cookies.
fn copy_out(from: &HeaderMap, to: &mut ActixHeaders) {
    for name in from.keys() {
        // Both versions of `http` accept the same names and values, so neither can fail.
        let Ok(actix_name) = actix_header::HeaderName::from_bytes(name.as_str().as_bytes()) else { continue };
        if name != SET_COOKIE {
            to.remove(&actix_name);
        }
        for value in from.get_all(name) {
            if let Ok(value) = actix_header::HeaderValue::from_bytes(value.as_bytes()) {
                to.append(actix_name.clone(), value);
            }
        }
    }
}

/// A status as actix-web's type.
pub(super) fn actix_status(status: StatusCode) -> ActixStatus {
    // Every valid status is valid in both versions of `http`.
    ActixStatus::from_u16(status.as_u16()).unwrap_or(ActixStatus::INTERNAL_SERVER_ERROR)
}
