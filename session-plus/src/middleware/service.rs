use std::task::{Context, Poll};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response, StatusCode};
use tower_service::Service;

use super::ResponseFuture;
use crate::{Session, SessionManager};

/// The service made by [`SessionManagerLayer`](super::SessionManagerLayer).
#[derive(Debug, Clone)]
pub struct SessionManagerService<S> {
    inner: S,
    manager: SessionManager,
}

impl<S> SessionManagerService<S> {
    pub(crate) fn new(inner: S, manager: SessionManager) -> Self {
        Self { inner, manager }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionManagerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let session = self.manager.session_for_cookies(Some(request.headers()));
        request.extensions_mut().insert(session.clone());
        // The clone that was made ready by `poll_ready` serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::new(async move {
            let response = inner.call(request).await?;
            Ok(save(session, response).await)
        })
    }
}

/// Saves the session and adds its headers, or turns the response into the configured error.
async fn save<B: From<String>>(session: Session, mut response: Response<B>) -> Response<B> {
    match session.finalize().await {
        Ok(cookies) => {
            let headers = response.headers_mut();
            for cookie in cookies {
                match HeaderValue::try_from(cookie) {
                    Ok(value) => drop(headers.append(SET_COOKIE, value)),
                    Err(_) => tracing::error!(
                        "a session cookie is not a valid header value; check cookie_domain and cookie_path"
                    ),
                }
            }
        }
        Err(failure) => {
            let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            response = Response::new(B::from(failure.message));
            *response.status_mut() = status;
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    if session.was_accessed() {
        response.headers_mut().append(VARY, HeaderValue::from_static("Cookie"));
    }
    response
}
