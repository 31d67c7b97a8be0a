use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use http::{HeaderValue, Response};
use pin_project_lite::pin_project;

use crate::cookies;
use crate::session::{Failure, Session};

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
                    let accessed = session.was_accessed();
                    if let Some(outcome) = session.finalize_now() {
                        return Poll::Ready(Ok(respond(outcome, accessed, response)));
                    }
                    let saving = async move { respond(session.finalize().await, accessed, response) };
                    state.set(State::Saving { future: Box::pin(saving) });
                }
                StateProj::Saving { future } => return future.as_mut().poll(cx).map(Ok),
            }
        }
    }
}

/// Adds the sessions' `Set-Cookie` headers and the cache headers they need, or replaces the
/// response by the configured error when a session could not be loaded or saved. The error's body
/// is generic: the details, without ids or values, are in the log.
fn respond<B: From<String>>(
    outcome: Result<Vec<String>, Failure>,
    accessed: bool,
    mut response: Response<B>,
) -> Response<B> {
    match outcome {
        Ok(set_cookies) => cookies::add_to_response(response.headers_mut(), set_cookies, accessed),
        Err(failure) => {
            let reason = failure.status.canonical_reason().unwrap_or("Session error");
            response = Response::new(B::from(format!("{} {reason}", failure.status.as_u16())));
            *response.status_mut() = failure.status;
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if accessed {
                headers.insert(VARY, HeaderValue::from_static("Cookie"));
            }
        }
    }
    response
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
