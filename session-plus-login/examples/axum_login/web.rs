//! The pages, as in axum-login's SQLite example: a protected home page, a login form that
//! remembers where the visitor was going, a logout; here also a password change, an admin page
//! and a theme kept in a cookie session.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use session_plus::{session, Config, FieldSelector, Session, SessionConfig, SessionManager};
use session_plus_login::{login_required, permission_required, AuthManagerLayerBuilder, ConfigError, DEFAULT_DATA_KEY};

use crate::users::{AuthSession, Backend, Credentials};

/// The one-time message the login page shows ("Invalid credentials"), in the server session.
const FLASH: &str = "flash";

/// The sessions: the login and the flash message in `server_session` (a server-side session,
/// such as SQLite), every other field (the theme) in a signed cookie, `data`.
pub(crate) fn config(secret_key: &str, server_session: SessionConfig) -> Config {
    Config::new()
        .with_secret_key(secret_key)
        .with_session(server_session.with_fields([DEFAULT_DATA_KEY, FLASH]))
        .with_session(SessionConfig::new("data").with_field_selector(FieldSelector::Auto))
}

/// The application. With axum-login, the layer came from a tower-sessions layer; here, from
/// the session manager.
pub(crate) fn app(backend: Backend, manager: SessionManager) -> Result<Router, ConfigError> {
    let auth_layer = AuthManagerLayerBuilder::new(backend, manager).build()?;
    let protected = Router::new()
        .route("/", get(home))
        .route("/password", post(change_password))
        .route("/theme", post(set_theme))
        .route_layer(login_required!(Backend, login_url = "/login"));
    let admin = Router::new().route("/admin", get(admin)).route_layer(permission_required!(Backend, "admin"));
    Ok(Router::new()
        .merge(protected)
        .merge(admin)
        .route("/login", get(login_page).post(login))
        .route("/logout", get(logout))
        .layer(auth_layer))
}

async fn home(auth_session: AuthSession, session: Session) -> Result<Response, session::Error> {
    let Some(user) = auth_session.user().await else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response()); // login_required! let us in
    };
    let theme: String = session.get("theme").await?.unwrap_or_else(|| "light".to_owned());
    Ok(format!("hello {}, theme {theme}", user.username).into_response())
}

#[derive(Debug, Deserialize)]
struct NextUrl {
    next: Option<String>,
}

async fn login_page(session: Session, Query(NextUrl { next }): Query<NextUrl>) -> Result<Html<String>, session::Error> {
    let flash: Option<String> = session.remove(FLASH).await?;
    let next = next.map(|next| format!(r#"<input type="hidden" name="next" value="{}">"#, escape(&next)));
    Ok(Html(format!(
        r#"<p>{}</p><form method="post">{}<input name="username"><input name="password" type="password"><button>Log in</button></form>"#,
        escape(flash.as_deref().unwrap_or_default()),
        next.unwrap_or_default(),
    )))
}

async fn login(mut auth_session: AuthSession, session: Session, Form(creds): Form<Credentials>) -> Response {
    let user = match auth_session.authenticate(creds.clone()).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            if let Err(error) = session.insert(FLASH, "Invalid credentials").await {
                return error.into_response();
            }
            let query = creds.next.map(|next| format!("?next={}", encode(&next))).unwrap_or_default();
            return Redirect::to(&format!("/login{query}")).into_response();
        }
        Err(error) => return error.into_response(),
    };
    if let Err(error) = auth_session.login(&user).await {
        return error.into_response();
    }
    // Only a path of this site: never an open redirect.
    match creds.next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") => Redirect::to(&next),
        _ => Redirect::to("/"),
    }
    .into_response()
}

async fn logout(mut auth_session: AuthSession) -> Response {
    match auth_session.logout().await {
        Ok(_) => Redirect::to("/login").into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct NewPassword {
    password: String,
}

/// Changes the password, which ends the user's other sessions (their auth hash no longer
/// matches); this one logs in again with the new hash.
async fn change_password(mut auth_session: AuthSession, Form(form): Form<NewPassword>) -> Response {
    let Some(user) = auth_session.user().await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let user = match auth_session.backend().set_password(session_plus_login::AuthUser::id(&user), &form.password).await
    {
        Ok(Some(user)) => user,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => return session_plus_login::Error::<Backend>::Backend(error).into_response(),
    };
    match auth_session.login(&user).await {
        Ok(()) => "password changed".into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct Theme {
    theme: String,
}

async fn set_theme(session: Session, Form(Theme { theme }): Form<Theme>) -> Result<&'static str, session::Error> {
    session.insert("theme", theme).await?;
    Ok("theme set")
}

async fn admin(auth_session: AuthSession) -> String {
    let name = auth_session.user().await.map(|user| user.username).unwrap_or_default();
    format!("admin page of {name}")
}

/// Text made safe for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Text made safe for a query string.
fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
