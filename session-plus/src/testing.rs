//! Helpers for an application's own tests: run handlers against real sessions with no server,
//! no framework and no HTTP, and read what the responses would send.
//!
//! [`TestBrowser`] keeps a cookie jar as a browser does: [`session`](TestBrowser::session) gives
//! the next request's [`Session`], carrying the jar's cookies, and
//! [`finish`](TestBrowser::finish) saves it as the middleware would, stores the `Set-Cookie`
//! values it produces in the jar (a removal empties the slot) and returns them. Built from the
//! production configuration, it keeps every server-side session in memory
//! ([`SessionManagerBuilder::with_memory_stores`](crate::SessionManagerBuilder::with_memory_stores)).
//!
//! ```
//! use session_plus::testing::TestBrowser;
//! use session_plus::{session, Config, Session};
//!
//! // The handlers under test, as the application has them.
//! async fn login(session: Session) -> Result<(), session::Error> {
//!     session.insert("user_id", 42).await?;
//!     session.regenerate().await
//! }
//! async fn whoami(session: Session) -> Result<Option<u64>, session::Error> {
//!     session.get("user_id").await
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let config = Config::from_toml_str(r#"
//!     secret_keys = ["a literal key for tests, at least thirty-two bytes long"]
//!     [[session]]
//!     cookie_name = "session"
//!     session_type = "redis"           # kept in memory by TestBrowser: no Redis needed
//!     url = "redis://redis.internal:6379"
//! "#)?;
//! let mut browser = TestBrowser::new(config).await?;
//!
//! let session = browser.session();
//! login(session.clone()).await?;
//! let finished = browser.finish(session).await;
//! assert_eq!(finished.error_status(), None);
//! assert!(finished.set_cookies()[0].starts_with("session="));
//!
//! // The next request carries the cookie back.
//! assert_eq!(whoami(browser.session()).await?, Some(42));
//! assert!(browser.cookie("session").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeMap;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::session::Finished;
use crate::{BuildError, Config, Session, SessionManager};

/// A browser for handler tests: a [`SessionManager`] with every server-side session in memory,
/// and a cookie jar. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct TestBrowser {
    manager: SessionManager,
    /// Cookie name → value, as the next request sends them.
    jar: BTreeMap<String, String>,
}

impl TestBrowser {
    /// A browser with an empty jar for `config`, its server-side sessions kept in memory and no
    /// purge tasks.
    ///
    /// # Errors
    /// The configuration is invalid, as [`SessionManager::new`] says.
    pub async fn new(config: Config) -> Result<Self, BuildError> {
        let manager = SessionManager::builder(config).with_memory_stores().without_purge_tasks().build().await?;
        Ok(Self::with_manager(manager))
    }

    /// A browser with an empty jar for a manager built as the test needs (a
    /// [`ManualClock`](crate::clock::ManualClock), a store of its own, …).
    ///
    /// ```
    /// use session_plus::clock::ManualClock;
    /// use session_plus::testing::TestBrowser;
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// let manager = SessionManager::builder(config).with_clock(ManualClock::new(1_700_000_000)).build().await?;
    /// let browser = TestBrowser::with_manager(manager);
    /// # let _ = browser;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_manager(manager: SessionManager) -> Self {
        Self { manager, jar: BTreeMap::new() }
    }

    /// The manager, to call [`end_user_sessions`](SessionManager::end_user_sessions) or
    /// [`purge_expired`](SessionManager::purge_expired) between requests.
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }

    /// The next request's session, carrying the jar's cookies.
    pub fn session(&self) -> Session {
        self.manager.start(&self.request_headers())
    }

    /// The headers the next request sends: one `Cookie` header with the jar's cookies (none
    /// when the jar is empty). For tests that drive a whole app, e.g. with `tower::ServiceExt::oneshot`.
    pub fn request_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let pairs: Vec<String> = self.jar.iter().map(|(name, value)| format!("{name}={value}")).collect();
        // Cookie names and values came from `Set-Cookie` values this crate made: visible ASCII.
        if let Ok(value) = HeaderValue::from_str(&pairs.join("; "))
            && !pairs.is_empty()
        {
            headers.insert(COOKIE, value);
        }
        headers
    }

    /// Saves `session` as the middleware does at the end of a request, and keeps what the
    /// response would send in the jar; returns it.
    pub async fn finish(&mut self, session: Session) -> Finished {
        let finished = session.finish().await;
        self.keep(finished.set_cookies());
        finished
    }

    /// Keeps these `Set-Cookie` values in the jar, as a browser does: a cookie with
    /// `Max-Age=0` or an `Expires` in the past is removed. For responses of a whole app.
    pub fn keep<S: AsRef<str>>(&mut self, set_cookies: &[S]) {
        for set_cookie in set_cookies {
            let Ok(cookie) = cookie::Cookie::parse(set_cookie.as_ref()) else { continue };
            let removed = cookie.max_age().is_some_and(|age| age.is_zero() || age.is_negative())
                || cookie.expires_datetime().is_some_and(|at| at <= cookie::time::OffsetDateTime::now_utc());
            if removed {
                self.jar.remove(cookie.name());
            } else {
                self.jar.insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }

    /// The value of the jar's cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    /// Empties the jar (a new browser on the same server).
    pub fn clear_cookies(&mut self) {
        self.jar.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionConfig;

    fn config() -> Config {
        Config::new()
            .with_secret_key("a literal key for tests, at least thirty-two bytes long")
            .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
            .with_session(SessionConfig::new("session").with_type(crate::SessionType::Redis).with_url("redis://x:1"))
    }

    #[tokio::test]
    async fn a_login_and_a_logout_go_through_the_jar_without_any_server() {
        let mut browser = TestBrowser::new(config()).await.unwrap();
        let session = browser.session();
        session.insert("user_id", 7).await.unwrap();
        session.insert("csrf_token", "t").await.unwrap();
        assert_eq!(browser.finish(session).await.set_cookies().len(), 2);
        assert!(browser.cookie("csrf").is_some() && browser.cookie("session").is_some());
        assert_eq!(browser.request_headers()[COOKIE].to_str().unwrap().matches('=').count(), 2);

        let session = browser.session();
        assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
        session.clear().await.unwrap();
        let finished = browser.finish(session).await;
        assert!(finished.set_cookies().iter().all(|c| c.contains("Max-Age=0")), "{finished:?}");
        assert_eq!(browser.cookie("session"), None);
        assert!(browser.request_headers().is_empty());
        assert_eq!(browser.session().get::<u32>("user_id").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_cleared_jar_is_a_new_visitor() {
        let mut browser = TestBrowser::new(config()).await.unwrap();
        let session = browser.session();
        session.insert("user_id", 7).await.unwrap();
        browser.finish(session).await;
        browser.clear_cookies();
        assert_eq!(browser.session().get::<u32>("user_id").await.unwrap(), None);
    }
}
