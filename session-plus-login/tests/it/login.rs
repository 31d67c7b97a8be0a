//! Logging in and out of the example application, as a browser would.

use reqwest::StatusCode;
use session_plus::SessionConfig;

use crate::common::{location, removed_cookies, App, Visitor};

#[tokio::test]
async fn a_wrong_password_is_refused() {
    let app = App::start().await;
    let visitor = app.visitor();
    for (username, password) in [("ferris", "hunter43"), ("ferris", ""), ("nobody", "hunter42")] {
        let response = visitor.log_in(username, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/login");
        let page = visitor.get("/login").await.text().await.unwrap();
        assert!(page.contains("Invalid credentials"), "{page}");
        assert_eq!(visitor.home().await, "307 to /login?next=%2F");
    }
}

#[tokio::test]
async fn login_opens_the_protected_pages_and_cycles_the_session_id() {
    let app = App::start().await;
    let visitor = app.visitor();
    // A failed attempt leaves a message in the server session: the visitor has its id.
    visitor.log_in("ferris", "wrong").await;
    let before = visitor.cookies();
    assert!(before.contains_key("session"), "{before:?}");

    visitor.logged_in("ferris", "hunter42").await;
    let after = visitor.cookies();
    assert_ne!(after["session"], before["session"], "a new id at login");
    assert_eq!(visitor.home().await, "hello ferris, theme light");
    // The record holds the user id and a digest of the password hash, never the hash.
    let data: String = app
        .sessions_db()
        .query_row("select data from sessions where id not like '%:user:%'", [], |row| row.get(0))
        .unwrap();
    assert!(data.contains("axum_login") && data.contains("auth_hash"), "{data}");
    assert!(!data.contains("argon2"), "{data}");

    // Whoever planted or copied the id from before the login is not logged in (fixation).
    let planted = Visitor::replaying(&app, &before);
    assert_eq!(planted.home().await, "307 to /login?next=%2F");
    // The cookies from after the login are the login.
    assert_eq!(Visitor::replaying(&app, &after).home().await, "hello ferris, theme light");
}

#[tokio::test]
async fn logging_in_again_as_someone_else_cycles_the_id_again() {
    let app = App::start().await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    let as_ferris = visitor.cookies();
    visitor.logged_in("corro", "hunter43").await;
    assert_ne!(visitor.cookies()["session"], as_ferris["session"]);
    assert_eq!(Visitor::replaying(&app, &as_ferris).home().await, "307 to /login?next=%2F");
}

#[tokio::test]
async fn logout_removes_every_session_cookie_and_ends_the_login() {
    let app = App::start().await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    let response = visitor.post("/theme", &[("theme", "dark")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(visitor.home().await, "hello ferris, theme dark");
    let logged_in = visitor.cookies();
    assert_eq!(logged_in.keys().collect::<Vec<_>>(), ["data", "session"]);
    assert_eq!(session_records(&app), 1);

    let response = visitor.get("/logout").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    assert_eq!(removed_cookies(&response), ["data", "session"], "both sessions are cleared, not just the login's");
    assert!(visitor.cookies().is_empty(), "{:?}", visitor.cookies());
    assert_eq!(visitor.home().await, "307 to /login?next=%2F");

    // The session cookie captured before the logout opens nothing: its record is gone.
    let replayed = Visitor::replaying(&app, &logged_in);
    assert_eq!(replayed.home().await, "307 to /login?next=%2F");
    assert_eq!(session_records(&app), 0, "the logout deleted the server record");
}

/// The server sessions in the store (the users' generation records left out).
fn session_records(app: &App) -> i64 {
    let count = "select count(*) from sessions where id not like '%:user:%'";
    app.sessions_db().query_row(count, [], |row| row.get(0)).unwrap()
}

#[tokio::test]
async fn a_password_change_logs_the_other_sessions_out_on_their_next_request() {
    let app = App::start().await;
    let (laptop, phone) = (app.visitor(), app.visitor());
    laptop.logged_in("ferris", "hunter42").await;
    phone.logged_in("ferris", "hunter42").await;

    let response = laptop.post("/password", &[("password", "correct horse battery staple")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "password changed");

    // The session that changed it logged in again with the new hash.
    assert_eq!(laptop.home().await, "hello ferris, theme light");
    // The other one: its stored hash is the old one. Logged out, its cookies removed.
    let response = phone.get("/").await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(removed_cookies(&response), ["session"]);
    assert!(phone.cookies().is_empty(), "{:?}", phone.cookies());
    assert_eq!(phone.home().await, "307 to /login?next=%2F");
    // The new password works; the old one does not.
    assert_eq!(phone.log_in("ferris", "hunter42").await.headers()["location"], "/login");
    phone.logged_in("ferris", "correct horse battery staple").await;
}

#[tokio::test]
async fn a_password_changed_elsewhere_logs_the_user_out() {
    let app = App::start().await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    // Another program (an admin tool) sets the password.
    app.backend.set_password(app.ferris_id.parse().unwrap(), "something new").await.unwrap();
    assert_eq!(visitor.home().await, "307 to /login?next=%2F");
}

/// The request that finds the session stale (and clears it) can log in at once.
#[tokio::test]
async fn a_stale_session_logs_in_again_in_one_request() {
    let app = App::start().await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    let stale = visitor.cookies();
    app.backend.set_password(app.ferris_id.parse().unwrap(), "something new").await.unwrap();
    visitor.logged_in("ferris", "something new").await;
    assert_ne!(visitor.cookies()["session"], stale["session"]);
    assert_eq!(Visitor::replaying(&app, &stale).home().await, "307 to /login?next=%2F");
}

#[tokio::test]
async fn login_required_redirects_to_the_login_page_with_next() {
    let app = App::start().await;
    let visitor = app.visitor();
    let response = visitor.get("/?tab=2&sort=name").await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let login_url = location(&response).to_owned();
    assert_eq!(login_url, "/login?next=%2F%3Ftab%3D2%26sort%3Dname");

    // The login page carries `next` into its form, and the login goes back there.
    let page = visitor.get(&login_url).await.text().await.unwrap();
    assert!(page.contains(r#"name="next" value="/?tab=2&amp;sort=name""#), "{page}");
    let form = [("username", "ferris"), ("password", "hunter42"), ("next", "/?tab=2&sort=name")];
    let response = visitor.post("/login", &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/?tab=2&sort=name");
    assert_eq!(visitor.get("/?tab=2&sort=name").await.text().await.unwrap(), "hello ferris, theme light");

    // A wrong password keeps `next`.
    let other = app.visitor();
    let response = other.post("/login", &[("username", "ferris"), ("password", "no"), ("next", "/?tab=2")]).await;
    assert_eq!(location(&response), "/login?next=%2F%3Ftab%3D2");
}

#[tokio::test]
async fn permission_required_lets_only_admins_in() {
    let app = App::start().await;
    let (anonymous, ferris, corro) = (app.visitor(), app.visitor(), app.visitor());
    assert_eq!(anonymous.get("/admin").await.status(), StatusCode::FORBIDDEN);
    ferris.logged_in("ferris", "hunter42").await;
    assert_eq!(ferris.get("/admin").await.status(), StatusCode::FORBIDDEN);
    corro.logged_in("corro", "hunter43").await;
    let response = corro.get("/admin").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "admin page of corro");
}

#[tokio::test]
async fn ending_the_users_sessions_logs_every_device_out() {
    let app = App::start().await;
    let (laptop, phone, corro) = (app.visitor(), app.visitor(), app.visitor());
    laptop.logged_in("ferris", "hunter42").await;
    phone.logged_in("ferris", "hunter42").await;
    corro.logged_in("corro", "hunter43").await;
    // Login tied the server sessions to the user: "log out everywhere" reaches them.
    app.manager.end_user_sessions(&app.ferris_id).await.unwrap();
    assert_eq!(laptop.home().await, "307 to /login?next=%2F");
    assert_eq!(phone.home().await, "307 to /login?next=%2F");
    assert_eq!(corro.home().await, "hello corro, theme light");
}

/// With no server session, the login lives in a signed cookie: nothing to tie to the user, and
/// the login holds all the same.
#[tokio::test]
async fn a_login_in_a_cookie_session_works_too() {
    let app = App::start_with(|_| SessionConfig::new("session")).await;
    let visitor = app.visitor();
    visitor.logged_in("ferris", "hunter42").await;
    assert_eq!(visitor.home().await, "hello ferris, theme light");
    app.backend.set_password(app.ferris_id.parse().unwrap(), "something new").await.unwrap();
    assert_eq!(visitor.home().await, "307 to /login?next=%2F");
    assert!(visitor.cookies().is_empty());
}
