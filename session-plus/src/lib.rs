//! One logical session whose fields live in several named sessions, each with its own cookie
//! and backend.
//!
//! A handler sees a single [`Session`]; the [configuration](config) decides that `csrf_token`
//! lives in a signed cookie, that `user_id` and `user_data` live in SQLite (or memory, or a store
//! of your own) behind an id cookie, and that every other field lives in a third cookie. It is the
//! Rust successor of the Python package flask-session-plus, without its bugs: every routing mode
//! saves and clears, ids are strict, lifetimes are enforced on the server, and a store that fails
//! gives an error response instead of a silent loss. With the `flask` feature it reads and writes
//! exactly what Flask, flask-session-plus and Flask-Session do, so a Flask service can move to Rust
//! piece by piece while both share sessions.
//!
//! # Quick start
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use session_plus::{Config, Session, SessionManager};
//!
//! async fn handler(session: Session) -> Result<String, session_plus::session::Error> {
//!     let visits: u64 = session.get("visits").await?.unwrap_or(0) + 1;
//!     session.insert("visits", visits).await?;
//!     Ok(format!("visit {visits}; user {:?}", session.get::<String>("user_id").await?))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::from_toml_str(r#"
//!     secret_keys = ["env:SESSION_SECRET"]
//!
//!     [[session]]
//!     cookie_name = "csrf"
//!     session_fields = ["csrf_token"]
//!
//!     [[session]]
//!     cookie_name = "session"
//!     session_type = "sqlite"
//!     session_fields = ["user_id", "user_data"]
//!     path = "sessions.db"
//!
//!     [[session]]
//!     cookie_name = "data"
//!     session_fields = "auto"
//! "#)?;
//! let manager = SessionManager::new(config).await?;
//! let app = Router::new().route("/", get(handler)).layer(manager.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | Name | Description | Default |
//! |---|---|---|
//! | `axum` | the [`Session`] extractor and error responses for axum | yes |
//! | `actix` | `adapter::actix`: the actix-web middleware, the [`Session`] extractor and error responses | no |
//! | `codec-private` | encrypted cookie sessions (`encrypt = true`, XChaCha20-Poly1305) | no |
//! | `flask` | Flask's wire formats: `format = "flask"`, the Python record formats, and the [`flask_wire`] crate re-exported | no |
//! | `store-sqlite` | `store::SqliteStore` (`session_type = "sqlite"`) | no |
//! | `store-postgres` | `store::PostgresStore` (`session_type = "postgres"`) | no |
//! | `store-mysql` | `store::MySqlStore` (`session_type = "mysql"`, MariaDB too) | no |
//! | `store-redis` | `store::RedisStore`, standalone and Cluster (`session_type = "redis"`) | no |
//! | `store-memcached` | `store::MemcachedStore` (`session_type = "memcache"`) | no |
//! | `store-mongodb` | `store::MongoDbStore` (`session_type = "mongodb"`) | no |
//! | `store-firestore` | `store::FirestoreStore` (`session_type = "firestore"`, over the REST API) | no |
//! | `metrics` | counters and histograms of loads, saves, store operations, cookie sizes and purges through the `metrics` facade ([`observe`]) | no |
//!
//! The memory store and signed cookies are always available.
//!
//! # Architecture
#![doc = include_str!("docs/architecture.md")]
//!
//! # Security
#![doc = include_str!("docs/security.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adapter;
pub mod clock;
pub mod codec;
pub mod config;
mod cookies;
mod json;
mod manager;
pub mod middleware;
/// Migrating from tower-sessions and from actix-session: what maps to what, and what changes.
#[doc = include_str!("docs/migrating.md")]
pub mod migrating {}
pub mod observe;
pub mod routing;
pub mod session;
pub mod store;
pub mod testing;

pub use config::{Config, ConfigError, FieldSelector, SessionConfig, SessionType};
/// Flask's wire formats (itsdangerous, tagged JSON, Flask-Session records, Flask ids), which the
/// `flask` feature reads and writes.
#[cfg(feature = "flask")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
pub use flask_wire;
pub use manager::{BuildError, SessionManager, SessionManagerBuilder};
pub use middleware::SessionManagerLayer;
pub use session::Session;

/// The README's examples, compiled as doctests so they cannot rot: with the frameworks they use
/// (`--all-features`, as the test script runs them).
#[cfg(all(doctest, feature = "axum", feature = "actix"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
