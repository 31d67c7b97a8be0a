//! The example application on a real port, and a client that keeps cookies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use session_plus::{SessionConfig, SessionManager, SessionType};
use session_plus_login::AuthUser;
use tempfile::TempDir;

use crate::users::Backend;
use crate::web;

pub(crate) const SECRET: &str = "a literal key for the tests only, at least 32 bytes long";

/// The example application, served on 127.0.0.1, with its users `ferris` / `hunter42` and
/// `corro` / `hunter43` (an admin) in an SQLite file, and its server sessions in another.
pub(crate) struct App {
    pub(crate) base: String,
    pub(crate) backend: Backend,
    pub(crate) manager: SessionManager,
    /// ferris's user id, as the sessions are tied to it.
    pub(crate) ferris_id: String,
    dir: TempDir,
}

impl App {
    pub(crate) async fn start() -> Self {
        Self::start_with(|dir| {
            let sessions = dir.join("sessions.db");
            SessionConfig::new("session").with_type(SessionType::Sqlite).with_path(sessions.to_str().unwrap())
        })
        .await
    }

    /// The application with another session for the login, given the directory for its files.
    pub(crate) async fn start_with(login_session: impl FnOnce(&Path) -> SessionConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let backend = Backend::open(dir.path().join("users.db").to_str().unwrap()).unwrap();
        let ferris = backend.add_user("ferris", "hunter42", false).await.unwrap();
        backend.add_user("corro", "hunter43", true).await.unwrap();
        let config = web::config(SECRET, login_session(dir.path()));
        let manager = SessionManager::new(config).await.unwrap();
        let app = web::app(backend.clone(), manager.clone()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, backend, manager, ferris_id: ferris.id().to_string(), dir }
    }

    /// A new visitor: a client with an empty cookie jar, following no redirect.
    pub(crate) fn visitor(&self) -> Visitor {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder().cookie_provider(jar.clone()).redirect(Policy::none()).build().unwrap();
        Visitor { http, jar, base: self.base.clone() }
    }

    /// The users' database, opened beside the application (as another process would).
    pub(crate) fn users_db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path("users.db")).unwrap()
    }

    /// The server sessions' database, opened beside the application.
    pub(crate) fn sessions_db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path("sessions.db")).unwrap()
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

pub(crate) struct Visitor {
    http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
}

impl Visitor {
    pub(crate) async fn get(&self, path: &str) -> Response {
        self.http.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http.post(format!("{}{path}", self.base)).form(form).send().await.unwrap()
    }

    /// Sends the login form; a success is a redirect to `/` (or to `next`).
    pub(crate) async fn log_in(&self, username: &str, password: &str) -> Response {
        self.post("/login", &[("username", username), ("password", password)]).await
    }

    /// Logs in, and checks that it worked.
    pub(crate) async fn logged_in(&self, username: &str, password: &str) {
        let response = self.log_in(username, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/");
        assert!(self.home().await.starts_with(&format!("hello {username}")));
    }

    /// The home page's text, or `"<status> to <location>"` when it redirects.
    pub(crate) async fn home(&self) -> String {
        let response = self.get("/").await;
        if response.status().is_redirection() {
            return format!("{} to {}", response.status().as_u16(), location(&response));
        }
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    /// The cookies this visitor holds, by name.
    pub(crate) fn cookies(&self) -> BTreeMap<String, String> {
        let url = self.base.parse().unwrap();
        let Some(header) = self.jar.cookies(&url) else { return BTreeMap::new() };
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    /// Another visitor holding exactly these cookies (someone who copied them).
    pub(crate) fn replaying(app: &App, cookies: &BTreeMap<String, String>) -> Self {
        let visitor = app.visitor();
        let url = app.base.parse().unwrap();
        for (name, value) in cookies {
            visitor.jar.add_cookie_str(&format!("{name}={value}"), &url);
        }
        visitor
    }
}

pub(crate) fn location(response: &Response) -> &str {
    response.headers().get(LOCATION).map_or("", |value| value.to_str().unwrap())
}

/// The names of the cookies this response removes (`Max-Age=0`).
pub(crate) fn removed_cookies(response: &Response) -> Vec<String> {
    let mut names: Vec<String> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .filter(|value| value.contains("Max-Age=0"))
        .filter_map(|value| value.split_once('=').map(|(name, _)| name.to_owned()))
        .collect();
    names.sort();
    names
}
