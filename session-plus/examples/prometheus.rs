//! session-plus's metrics (feature `metrics`) exported to Prometheus: the app counts visits in a
//! memory-store session and serves the metrics in Prometheus' text format at `/metrics`. Run it
//! with `cargo run -p session-plus --features metrics --example prometheus`, open
//! http://127.0.0.1:3000/ a few times, then http://127.0.0.1:3000/metrics.

use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusBuilder;
use session_plus::{session, Config, Session, SessionConfig, SessionManager, SessionType};

async fn index(session: Session) -> Result<String, session::Error> {
    let visits = session.get::<u64>("visits").await?.unwrap_or(0) + 1;
    session.insert("visits", visits).await?;
    Ok(format!("visit number {visits}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every `metrics` call of the process now reaches this recorder; `/metrics` renders it.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let config = Config::new()
        .with_secret_key("a literal key for development only, at least 32 bytes")
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    let manager = SessionManager::new(config).await?;
    let app = Router::new()
        .route("/", get(index))
        .layer(manager.layer())
        // Outside the session layer: scraping uses no session.
        .route("/metrics", get(move || std::future::ready(prometheus.render())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000/ (metrics at /metrics)");
    axum::serve(listener, app).await?;
    Ok(())
}
