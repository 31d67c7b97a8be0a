//! The smallest actix-web application on session-plus: one cookie session for a CSRF token, one
//! memory-store session for everything else. Run it with
//! `cargo run -p session-plus --features actix --example actix_minimal`, then open
//! http://127.0.0.1:3000/.

use actix_web::{web, App, HttpServer};
use session_plus::adapter::actix::SessionMiddleware;
use session_plus::{session, Config, Session, SessionConfig, SessionManager, SessionType};

async fn index(session: Session) -> Result<String, session::Error> {
    let visits = session.get::<u64>("visits").await?.unwrap_or(0) + 1;
    session.insert("visits", visits).await?;
    Ok(format!("visit number {visits}"))
}

async fn logout(session: Session) -> Result<&'static str, session::Error> {
    session.clear().await?;
    Ok("logged out")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // actix-web's runtime, as `#[actix_web::main]` starts it.
    actix_web::rt::System::new().block_on(async {
        let config = Config::new()
            .with_secret_key("a literal key for development only, at least 32 bytes")
            .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
            .with_session(SessionConfig::new("session").with_type(SessionType::Memory));
        let manager = SessionManager::new(config).await?;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(SessionMiddleware::new(manager.clone()))
                .route("/", web::get().to(index))
                .route("/logout", web::post().to(logout))
        })
        .bind(("127.0.0.1", 3000))?;
        println!("listening on http://127.0.0.1:3000/");
        server.run().await?;
        Ok(())
    })
}
