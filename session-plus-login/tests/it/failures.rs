//! What goes wrong: a user who is gone, a backend or a store that fails, a configuration
//! that cannot carry logins.

use reqwest::StatusCode;
use session_plus::{SessionConfig, SessionManager, SessionType};
use session_plus_login::ConfigError;

use crate::common::{removed_cookies, App, SECRET};
use crate::users::Backend;
use crate::web;

#[tokio::test]
async fn a_deleted_user_is_logged_out_and_the_session_cleared() {
    let app = App::start().await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    app.users_db().execute("delete from users where username = 'ferris'", []).unwrap();
    let response = visitor.get("/").await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(removed_cookies(&response), ["session"]);
    assert!(visitor.cookies().is_empty());
}

#[tokio::test]
async fn a_failing_backend_is_a_500_that_tells_nothing() {
    let app = App::start().await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    app.users_db().execute_batch("drop table users").unwrap();
    for path in ["/", "/login"] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.text().await.unwrap(), "500 Internal Server Error", "no SQLite error text");
    }
    // The login was not thrown away for an outage: the session cookie is still there.
    assert!(visitor.cookies().contains_key("session"));
    // A visitor without a session asks nothing of the backend.
    assert_eq!(app.visitor().get("/login").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_failing_session_store_gives_its_status() {
    let app = App::start().await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    app.sessions_db().execute_batch("drop table sessions").unwrap();
    let response = visitor.get("/").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.text().await.unwrap(), "503 Service Unavailable");
}

#[tokio::test]
async fn a_configuration_without_the_login_field_is_refused_at_start_up() {
    let config = session_plus::Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["flash"]));
    let manager = SessionManager::new(config).await.unwrap();
    let backend = Backend::open(":memory:").unwrap();
    let error = web::app(backend, manager).expect_err("refused");
    assert_eq!(error, ConfigError::UnownedDataKey { data_key: "axum_login" });
    assert!(error.to_string().contains("no session owns the field `axum_login`"), "{error}");
}
