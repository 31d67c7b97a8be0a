//! axum-login's SQLite example on session-plus: users in SQLite with Argon2 password hashes, a
//! protected page behind `login_required!`, an admin page behind `permission_required!`. The
//! sessions: the login in a server session on SQLite (`sessions.db`, in the current
//! directory), the rest in a signed cookie.
//!
//! Run it with `cargo run -p session-plus-login --example axum_login`, open
//! http://127.0.0.1:3000/ and log in as `ferris` / `hunter42` (or `corro` / `hunter43`, an
//! admin). `SESSION_SECRET` sets the key; without it a development key is used.
//!
//! The application code is axum-login's: compared with it, the `use` lines name
//! `session_plus_login` and the auth layer is built from a `SessionManager`
//! (`web::app`). Its tests (`tests/it/`) drive this very application over TCP.

#[path = "axum_login/users.rs"]
mod users;
#[path = "axum_login/web.rs"]
mod web;

use session_plus::{SessionConfig, SessionManager, SessionType};

use crate::users::Backend;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend = Backend::open(":memory:")?;
    backend.add_user("ferris", "hunter42", false).await?;
    backend.add_user("corro", "hunter43", true).await?;

    let secret = std::env::var("SESSION_SECRET")
        .unwrap_or_else(|_| "a literal key for development only, at least 32 bytes".to_owned());
    let server_session = SessionConfig::new("session").with_type(SessionType::Sqlite).with_path("sessions.db");
    let manager = SessionManager::new(web::config(&secret, server_session)).await?;

    let app = web::app(backend, manager)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000/");
    axum::serve(listener, app).await?;
    Ok(())
}
