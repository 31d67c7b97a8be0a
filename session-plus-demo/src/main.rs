//! The session-plus demo: the three-session example as a small web app on SQLite.
//!
//! `cargo run -p session-plus-demo -- [--port N] [--config FILE]`

use std::net::SocketAddr;

mod page;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use session_plus::{session, Config, Session, SessionManager};
use subtle::ConstantTimeEq;

const DEFAULT_CONFIG: &str = include_str!("../sessions.toml");

fn main() -> std::process::ExitCode {
    match start() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("session-plus-demo: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn start() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse()?;
    if std::env::var_os("SESSION_SECRET").is_none() {
        // Before any thread starts, so setting the environment is sound.
        std::env::set_var("SESSION_SECRET", random_token());
        eprintln!("SESSION_SECRET is not set: using a random key (sessions end when the demo stops)");
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::from_toml_str(DEFAULT_CONFIG)?,
    };
    let manager = SessionManager::new(config).await?;
    let app = app(&manager);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    println!("session-plus demo listening on http://{}/", listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

/// The demo's routes behind the session layer.
fn app(manager: &SessionManager) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/api/session", get(api_session))
        .layer(manager.layer())
        .with_state(manager.clone())
}

async fn login_form(session: Session) -> Result<Html<String>, session::Error> {
    Ok(page::login_form(&csrf_token(&session).await?))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    csrf_token: String,
}

async fn login(session: Session, Form(form): Form<LoginForm>) -> Result<Response, session::Error> {
    if !csrf_ok(&session, &form.csrf_token).await? {
        return Ok(page::refused(StatusCode::FORBIDDEN, INVALID_CSRF));
    }
    let username = form.username.trim();
    if username.is_empty() || username.len() > 64 {
        return Ok(page::refused(StatusCode::BAD_REQUEST, "A user name has 1 to 64 characters."));
    }
    session.insert("user_id", username).await?;
    session.insert("user_data", json!({ "name": username, "roles": ["demo"] })).await?;
    // A field of the `data` cookie session, bound to `session`: a logout revokes it with the rest.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    session.insert("logged_in_at", now).await?;
    // New ids on login: a session id known before login is worthless after it.
    session.regenerate().await?;
    // Tied to the user, so that `SessionManager::end_user_sessions` (a password change) ends
    // every session of theirs; a configuration without a server session has nothing to tie.
    match session.set_user(username).await {
        Ok(()) | Err(session::Error::NoServerSession) => {}
        Err(error) => return Err(error),
    }
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf_token: String,
}

async fn logout(session: Session, Form(form): Form<LogoutForm>) -> Result<Response, session::Error> {
    if !csrf_ok(&session, &form.csrf_token).await? {
        return Ok(page::refused(StatusCode::FORBIDDEN, INVALID_CSRF));
    }
    session.clear().await?;
    Ok(Redirect::to("/").into_response())
}

async fn api_session(State(manager): State<SessionManager>, session: Session) -> Result<Json<Value>, session::Error> {
    let fields = session.fields().await?;
    let mut owners = Map::new();
    for (field, _) in manager.routing().named_fields() {
        if let Some(owner) = manager.routing().owner_names(field).next() {
            owners.insert(field.to_owned(), owner.into());
        }
    }
    for field in fields.keys() {
        if let Some(owner) = session.owners(field).first() {
            owners.insert(field.clone(), (*owner).into());
        }
    }
    Ok(Json(json!({ "fields": fields, "owners": owners })))
}

/// What a form with another session's CSRF token (or none) gets, with a 403.
const INVALID_CSRF: &str = "Invalid CSRF token: the form did not come from this session's page. Nothing was done.";

/// The session's CSRF token, made on first use.
pub(crate) async fn csrf_token(session: &Session) -> Result<String, session::Error> {
    if let Some(token) = session.get::<String>("csrf_token").await? {
        return Ok(token);
    }
    let token = random_token();
    session.insert("csrf_token", &token).await?;
    Ok(token)
}

async fn csrf_ok(session: &Session, sent: &str) -> Result<bool, session::Error> {
    let expected: Option<String> = session.get("csrf_token").await?;
    Ok(expected.is_some_and(|expected| bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))))
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // Without OS randomness no token would be safe; failing at once is the right outcome.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Args {
    port: u16,
    config: Option<String>,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let mut port = match std::env::var("PORT") {
            Ok(port) => port.parse().map_err(|_| format!("PORT must be a port number, not `{port}`"))?,
            Err(_) => 3000,
        };
        let mut config = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--port" => {
                    let value = args.next().ok_or("--port needs a value")?;
                    port = value.parse().map_err(|_| format!("--port must be a port number, not `{value}`"))?;
                }
                "--config" => config = Some(args.next().ok_or("--config needs a file")?),
                "-h" | "--help" => {
                    println!("usage: session-plus-demo [--port N] [--config FILE]\n\nServes the three-session example on http://127.0.0.1:3000 (or PORT).");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}`; try --help")),
            }
        }
        Ok(Self { port, config })
    }
}
