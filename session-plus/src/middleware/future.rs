use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::session::{Finished, Session};

type Saving<B> = Pin<Box<dyn Future<Output = Response<B>> + Send>>;

pin_project! {
    /// The response future of [`SessionManagerService`](super::SessionManagerService): the inner
    /// call, then the save. A save that needs no store finishes in the same poll; one that
    /// awaits a store is boxed.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Handler { #[pin] future: F, session: Option<Session> },
        Saving { future: Saving<B> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn new(future: F, session: Session) -> Self {
        Self { state: State::Handler { future, session: Some(session) } }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<String> + Send + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Handler { future, session } => {
                    let response = ready!(future.poll(cx))?;
                    // Taken once, as the response arrives; the state leaves `Handler` right after.
                    let Some(mut session) = session.take() else { return Poll::Ready(Ok(response)) };
                    session.set_response_status(response.status());
                    if let Some(finished) = session.finish_now() {
                        return Poll::Ready(Ok(respond(finished, response)));
                    }
                    let saving = async move { respond(session.finish().await, response) };
                    state.set(State::Saving { future: Box::pin(saving) });
                }
                StateProj::Saving { future } => return future.as_mut().poll(cx).map(Ok),
            }
        }
    }
}

/// Adds the sessions' `Set-Cookie` headers and the cache headers they need; when a session could
/// not be loaded or saved, the response becomes [`Finished::error_response`] instead.
fn respond<B: From<String>>(finished: Finished, mut response: Response<B>) -> Response<B> {
    if let Some(error) = finished.error_response() {
        return error.map(B::from);
    }
    finished.apply_to_headers(response.headers_mut());
    response
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
