use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::ResponseFuture;
use crate::manager::SessionManager;

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

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming this one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionManagerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let session = self.manager.start(request.headers());
        request.extensions_mut().insert(session.clone());
        // `poll_ready` readied `inner`, and its future does not borrow it: no clone is needed.
        ResponseFuture::new(self.inner.call(request), session)
    }
}
