//! [`AuthManager`]: the service that loads each request's user.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum_login::AuthnBackend;
use http::{Request, Response, StatusCode};
use session_plus::session::error_response;
use session_plus::Session;
use tower_service::Service;

use crate::AuthSession;

/// The service inside an [`AuthManagerLayer`](crate::AuthManagerLayer): before the inner service
/// runs, it loads the request's user (see [`AuthSession`]) and puts the [`AuthSession`] in the
/// request's extensions. A backend that fails answers 500; a session store that fails, its
/// configured status (503 by default); both with a generic body.
#[derive(Debug, Clone)]
pub struct AuthManager<S, Backend> {
    inner: S,
    backend: Backend,
    data_key: &'static str,
}

impl<S, Backend> AuthManager<S, Backend> {
    pub(crate) fn new(inner: S, backend: Backend, data_key: &'static str) -> Self {
        Self { inner, backend, data_key }
    }
}

impl<S, Backend, ReqBody, ResBody> Service<Request<ReqBody>> for AuthManager<S, Backend>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    Backend: AuthnBackend + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The service `poll_ready` readied is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (backend, data_key) = (self.backend.clone(), self.data_key);
        Box::pin(async move {
            let Some(session) = request.extensions().get::<Session>().cloned() else {
                // The layer puts session-plus's own layer outside this service: this cannot
                // happen unless an `AuthManager` was built some other way.
                tracing::error!("session-plus-login: no Session in the request");
                return Ok(error_response(StatusCode::INTERNAL_SERVER_ERROR).map(ResBody::from));
            };
            match AuthSession::from_session(session, backend, data_key).await {
                Ok(auth_session) => {
                    request.extensions_mut().insert(auth_session);
                    inner.call(request).await
                }
                Err(error) => Ok(error.to_response()),
            }
        })
    }
}
