//! actix-web: the [`SessionMiddleware`], the [`Session`](crate::Session) extractor, and responses
//! for [`session::Error`](crate::session::Error).
//!
//! The same semantics as the tower layer ([`middleware`](crate::middleware)), through the same
//! public API: for each request the middleware reads the session cookies (loading nothing), puts
//! a `Session` in the request's extensions, calls the inner service, then saves every changed
//! session and adds their `Set-Cookie` headers, `Vary: Cookie` when a session was used, and the
//! `Cache-Control` that keeps session cookies out of shared caches. If a store failed to load or
//! save, the response becomes [`Finished::error_response`](crate::session::Finished::error_response),
//! byte for byte what the tower layer sends.
//!
//! Install it as actix-session's middleware is installed, with `App::wrap` (or `Scope::wrap`):
//!
//! ```
//! use actix_web::http::header::{COOKIE, SET_COOKIE};
//! use actix_web::{test, web, App};
//! use session_plus::adapter::actix::SessionMiddleware;
//! use session_plus::{session, Config, Session, SessionConfig, SessionManager, SessionType};
//!
//! async fn count(session: Session) -> Result<String, session::Error> {
//!     let n: u64 = session.get("n").await?.unwrap_or(0) + 1;
//!     session.insert("n", n).await?; // a store failure becomes its 503
//!     Ok(n.to_string())
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
//! let manager = SessionManager::new(config).await?;
//! let app = App::new().wrap(SessionMiddleware::new(manager)).route("/", web::get().to(count));
//!
//! // In process with actix-web's test utilities; `HttpServer::new` serves it the same way.
//! let app = test::init_service(app).await;
//! let first = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
//! let set_cookie = first.headers().get(SET_COOKIE).expect("a session cookie").to_str()?;
//! let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
//! assert_eq!(test::read_body(first).await, "1");
//!
//! let again = test::TestRequest::get().uri("/").insert_header((COOKIE, cookie)).to_request();
//! assert_eq!(test::read_body(test::call_service(&app, again).await).await, "2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! actix-web 4 has its own header types (those of `http` 0.2), which are not this crate's
//! (`http` 1). Only what sessions need is converted: the request's `Cookie` headers in; the
//! response's `Vary` and `Cache-Control` in and back out, with the `Set-Cookie` headers added
//! (and, on an error, the whole error response out).

mod extract;
mod middleware;
#[cfg(test)]
mod tests;

pub use extract::SessionRejection;
pub use middleware::{SessionMiddleware, SessionMiddlewareService};
