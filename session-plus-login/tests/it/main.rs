//! session-plus-login's integration tests: the example application (`examples/axum_login.rs`,
//! users in SQLite with Argon2 password hashes, sessions in SQLite and a signed cookie) served
//! over TCP and driven by an HTTP client that keeps cookies, as a browser does.

#[path = "../../examples/axum_login/users.rs"]
mod users;
#[path = "../../examples/axum_login/web.rs"]
mod web;

mod common;
mod failures;
mod login;
