//! The end of a request's session, for any framework: [`Session::finish`] saves it and gives a
//! [`Finished`], the `Set-Cookie` values (and cache headers) to send, or the status the response
//! must have instead. The tower layer uses exactly this, as any other adapter can.

use std::fmt;
use std::sync::Arc;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::{Failure, Session};
use crate::cookies;

/// What the save of a request's sessions produced: the `Set-Cookie` values to send, and the
/// first failure (in configuration order), if any. A failure does not drop the cookies of the
/// sessions that committed: the response carries both.
#[derive(Debug, Default)]
pub(crate) struct Saved {
    pub(crate) set_cookies: Vec<String>,
    pub(crate) failure: Option<Failure>,
}

impl Saved {
    /// Adds one session's outcome.
    pub(crate) fn add(&mut self, cookie: Option<String>, failure: Option<Failure>) {
        self.set_cookies.extend(cookie);
        if self.failure.is_none() {
            self.failure = failure;
        }
    }
}

/// The application's response to a failed session
/// ([`SessionManagerBuilder::with_error_response`](crate::SessionManagerBuilder::with_error_response)).
#[derive(Clone)]
pub(crate) struct ErrorResponder(pub(crate) Arc<RespondFn>);

/// What [`ErrorResponder`] calls.
pub(crate) type RespondFn = dyn Fn(&Failure) -> Response<String> + Send + Sync;

impl fmt::Debug for ErrorResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrorResponder(..)")
    }
}

impl PartialEq for ErrorResponder {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ErrorResponder {}

/// What finishing a request's session produced: the `Set-Cookie` values to send and, when a
/// session could not be loaded or saved, the status the response should have instead.
///
/// Even then the cookies are to be sent: they are those of the sessions that committed, and the
/// removals a logout needs (see [`Session::finish`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    set_cookies: Vec<String>,
    failure: Option<Failure>,
    accessed: bool,
    responder: Option<ErrorResponder>,
}

impl Finished {
    fn new(saved: Saved, accessed: bool, responder: Option<&ErrorResponder>) -> Self {
        // The responder answers failures only: most requests have none to keep it for.
        let responder = saved.failure.as_ref().and(responder).cloned();
        Self { set_cookies: saved.set_cookies, failure: saved.failure, accessed, responder }
    }

    /// The `Set-Cookie` header values, in configuration order.
    pub fn set_cookies(&self) -> &[String] {
        &self.set_cookies
    }

    /// The status the response should have instead of the handler's, when a session could not
    /// be loaded or saved (by default 503 and 500); the details are in the log. Send a generic
    /// body with it, never the error's text.
    pub fn error_status(&self) -> Option<StatusCode> {
        self.failure.as_ref().map(Failure::status)
    }

    /// The first session that could not be loaded or saved, in configuration order: which one,
    /// at which step, and its status.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// Whether the request used any session: then the response varies with `Cookie`.
    pub fn was_accessed(&self) -> bool {
        self.accessed
    }

    /// Adds the `Set-Cookie` headers to a response's headers, with what keeps caches from serving
    /// one visitor's session to another: `Vary: Cookie` when a session was used or a cookie is
    /// set, and with any `Set-Cookie` a `Cache-Control` that shared caches may not store
    /// (`private` added unless `no-store` is there; `public` and `s-maxage` removed).
    pub fn apply_to_headers(self, headers: &mut HeaderMap) {
        cookies::add_to_response(headers, self.set_cookies, self.accessed);
    }

    /// The response to send instead of the handler's when a session could not be loaded or saved
    /// (`None` when none failed): the [error status](Self::error_status) with a generic body such
    /// as `503 Service Unavailable` (the details, without ids or values, are in the log), as
    /// `text/plain`, `Cache-Control: no-store`, `Vary: Cookie` when a session was used, and the
    /// `Set-Cookie` headers of the sessions that committed, removals above all: a logout with one
    /// store down still expires the other cookies, and a new id that was written is never lost.
    ///
    /// Every adapter of this crate answers a failed session with exactly this response; an
    /// adapter for another framework converts it to its own response type.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_trait::async_trait;
    /// use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, VARY};
    /// use http::{HeaderMap, StatusCode};
    /// use session_plus::store::{self, Record, SessionStore, Update};
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    ///
    /// /// A store that is down.
    /// #[derive(Debug)]
    /// struct Down;
    /// fn down<T>() -> store::Result<T> {
    ///     Err(store::Error::Backend("connection refused".into()))
    /// }
    /// #[async_trait]
    /// impl SessionStore for Down {
    ///     async fn load(&self, _: &str) -> store::Result<Option<Record>> { down() }
    ///     async fn create(&self, _: &str, _: &Record) -> store::Result<bool> { down() }
    ///     async fn update(&self, _: &str, _: &Update) -> store::Result<bool> { down() }
    ///     async fn delete(&self, _: &str) -> store::Result<bool> { down() }
    ///     async fn purge_expired(&self, _: i64) -> store::Result<u64> { down() }
    ///     fn backend_name(&self) -> &'static str { "down" }
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Custom));
    /// let manager = SessionManager::builder(config).with_store("session", Arc::new(Down)).build().await?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert(COOKIE, format!("session={}", session_plus::session::Id::random()?.as_str()).parse()?);
    /// let session = manager.start(&headers);
    /// assert!(session.get::<u64>("visits").await.is_err()); // the store is down
    ///
    /// let finished = session.finish().await;
    /// let response = finished.error_response().expect("a session failed");
    /// assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    /// assert_eq!(response.body(), "503 Service Unavailable");
    /// assert_eq!(response.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
    /// assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    /// assert_eq!(response.headers()[VARY], "Cookie");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn error_response(&self) -> Option<Response<String>> {
        let failure = self.failure.as_ref()?;
        let mut response = match &self.responder {
            // The application's own response; the cookies and cache headers are added all the same.
            Some(responder) => (responder.0)(failure),
            None => error_response(failure.status()),
        };
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.accessed {
            headers.insert(VARY, HeaderValue::from_static("Cookie"));
        }
        // The error path only: the cookies are copied rather than taken, so `self` stays whole.
        self.clone().apply_to_headers(headers);
        Some(response)
    }
}

/// The response that stands for a failure with this status, before any cookie: a generic body
/// such as `500 Internal Server Error` (what went wrong belongs in the log, never in a response),
/// as `text/plain`, with `Cache-Control: no-store`. [`Finished::error_response`] is this with
/// `Vary` and the cookies; the axum and actix-web adapters answer a
/// [`session::Error`](super::Error) with it; crates built on session-plus (session-plus-login's failing login backend) answer their own
/// failures with it, so that every such answer looks the same.
///
/// ```
/// use http::StatusCode;
/// let response = session_plus::session::error_response(StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(response.body(), "500 Internal Server Error");
/// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// ```
pub fn error_response(status: StatusCode) -> Response<String> {
    let reason = status.canonical_reason().unwrap_or("Session error");
    let mut response = Response::new(format!("{} {reason}", status.as_u16()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl Session {
    /// Saves every session of this request once its handler has answered, and gives what the
    /// response needs ([`Finished`]). Changes made through other handles of this session after
    /// this began are refused ([`Error::AlreadySaved`](super::Error::AlreadySaved)).
    ///
    /// The save runs in two phases: every session's writes first, then, only if all of them
    /// committed, the deletes (old ids after a regenerate, records a logout ends). A failure
    /// keeps the cookies of the sessions that committed and every removal.
    ///
    /// A whole request with no framework, from its headers to the response's:
    ///
    /// ```
    /// use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
    /// use http::HeaderMap;
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new()
    ///     .with_secret_key("a literal key for development, at least 32 bytes long")
    ///     .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
    ///     .with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// let manager = SessionManager::new(config).await?;
    ///
    /// // A request arrives: its headers start the session; the handler uses it.
    /// let session = manager.start(&HeaderMap::new());
    /// session.insert("user_id", 42).await?;
    /// session.insert("csrf_token", "t0k3n").await?;
    ///
    /// // The handler answered: finish the session into the response's headers.
    /// let finished = session.finish().await;
    /// assert_eq!(finished.error_status(), None);
    /// let mut response_headers = HeaderMap::new();
    /// finished.apply_to_headers(&mut response_headers);
    /// assert_eq!(response_headers.get_all(SET_COOKIE).iter().count(), 2);
    /// assert_eq!(response_headers[VARY], "Cookie");
    /// assert_eq!(response_headers[CACHE_CONTROL], "private");
    ///
    /// // The next request sends the cookies back, as a browser does.
    /// let mut request_headers = HeaderMap::new();
    /// for set_cookie in response_headers.get_all(SET_COOKIE) {
    ///     let pair = set_cookie.to_str()?.split(';').next().unwrap_or_default();
    ///     request_headers.append(COOKIE, pair.parse()?);
    /// }
    /// let session = manager.start(&request_headers);
    /// assert_eq!(session.get::<u32>("user_id").await?, Some(42));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn finish(mut self) -> Finished {
        if let Some(finished) = self.finish_now() {
            return finished;
        }
        let accessed = self.was_accessed();
        let saved = self.finalize().await;
        Finished::new(saved, accessed, self.inner.sessions.error_responder.as_ref())
    }

    /// [`finish`](Self::finish) without awaiting, when that is possible: no session needs its
    /// store and this is the request's last handle (the common case of requests that use cookie
    /// sessions only). `None` otherwise, changing nothing: then call `finish`.
    pub fn finish_now(&mut self) -> Option<Finished> {
        let accessed = self.was_accessed();
        let saved = self.finalize_now()?;
        Some(Finished::new(saved, accessed, self.inner.sessions.error_responder.as_ref()))
    }
}
