//! The smallest axum application on session-plus: one cookie session for a CSRF token, one
//! memory-store session for everything else. Run it with
//! `cargo run -p session-plus --example axum_minimal`, then open http://127.0.0.1:3000/.

use axum::routing::{get, post};
use axum::Router;
use session_plus::{session, Config, Session, SessionConfig, SessionManager, SessionType};

async fn index(session: Session) -> Result<String, session::Error> {
    // An update no concurrent request can lose (a get then an insert would be last-writer-wins).
    let visits = session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
    Ok(format!("visit number {visits}"))
}

async fn logout(session: Session) -> Result<&'static str, session::Error> {
    session.clear().await?;
    Ok("logged out")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::new()
        .with_secret_key("a literal key for development only, at least 32 bytes")
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    let manager = SessionManager::new(config).await?;
    let app = Router::new().route("/", get(index)).route("/logout", post(logout)).layer(manager.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000/");
    axum::serve(listener, app).await?;
    Ok(())
}
