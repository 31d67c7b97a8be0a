//! Runs the demo binary as a user would and drives it over TCP with a cookie-keeping client.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Demo {
    child: Child,
    url: String,
    _dir: std::path::PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Demo {
    let dir = std::env::temp_dir().join(format!("session-plus-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_session-plus-demo"))
        .args(["--port", "0"])
        .args(extra)
        .current_dir(&dir)
        .env("SESSION_SECRET", "a demo test secret, at least thirty-two bytes long")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().trim_end_matches('/').to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    Demo { child, url, _dir: dir }
}

fn token(html: &str) -> String {
    let start = html.find("name=csrf_token value=").unwrap() + "name=csrf_token value=".len();
    html[start..].chars().take_while(char::is_ascii_hexdigit).collect()
}

#[tokio::test]
async fn login_logout_and_the_session_api() {
    login_flow(start(&[])).await;
}

/// The same flow with every shipped configuration: each store in place of SQLite.
#[tokio::test]
async fn every_example_config_runs_unchanged() {
    let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/configs");
    let mut names: Vec<_> = std::fs::read_dir(configs).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert_eq!(names.len(), 9);
    for path in names {
        login_flow(start(&["--config", path.to_str().unwrap()])).await;
    }
}

async fn login_flow(demo: Demo) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
    let get = |path: &str| client.get(format!("{}{path}", demo.url)).send();

    let page = get("/").await.unwrap().text().await.unwrap();
    assert!(page.contains("Not logged in"));
    let form = get("/login").await.unwrap().text().await.unwrap();
    let csrf = token(&form);

    let forged = client
        .post(format!("{}/login", demo.url))
        .form(&[("username", "mallory"), ("csrf_token", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let login = client
        .post(format!("{}/login", demo.url))
        .form(&[("username", "alice"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "redirected to the index");
    assert!(login.text().await.unwrap().contains("Logged in as <b>alice</b>"));

    let api: Value = get("/api/session").await.unwrap().json().await.unwrap();
    assert_eq!(api["fields"]["user_id"], json!("alice"));
    assert_eq!(api["fields"]["user_data"]["name"], json!("alice"));
    assert_eq!(api["fields"]["csrf_token"], json!(csrf));
    assert_eq!(api["owners"]["user_id"], json!("session"));
    assert_eq!(api["owners"]["user_data"], json!("session"));
    assert_eq!(api["owners"]["csrf_token"], json!("csrf"));
    assert_eq!(api["owners"]["visits"], json!("data"));
    assert_eq!(api["owners"]["logged_in_at"], json!("data"));
    assert!(api["fields"]["logged_in_at"].is_u64() && api["fields"]["visits"].is_u64(), "{api}");
    let url: reqwest::Url = demo.url.parse().unwrap();
    let captured = reqwest::cookie::CookieStore::cookies(&*jar, &url).expect("the three cookies");
    assert_eq!(captured.to_str().unwrap().matches('=').count(), 3, "{captured:?}");

    let logout =
        client.post(format!("{}/logout", demo.url)).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(logout.status(), 200);
    let api: Value = get("/api/session").await.unwrap().json().await.unwrap();
    assert_eq!(api["fields"].get("user_id"), None, "logged out");

    // Promise 10: every cookie captured before the logout, replayed, restores nothing of the
    // server session nor of the `data` cookie bound to it (only the unbound csrf token).
    let replay = reqwest::Client::new();
    let request = replay.get(format!("{}/api/session", demo.url)).header("cookie", captured);
    let api: Value = request.send().await.unwrap().json().await.unwrap();
    for field in ["user_id", "user_data", "visits", "logged_in_at"] {
        assert_eq!(api["fields"].get(field), None, "{field} came back from replayed cookies: {api}");
    }
    assert_eq!(api["fields"]["csrf_token"], json!(csrf));
}

#[test]
fn a_broken_config_fails_at_start_with_the_session_and_key() {
    let dir = std::env::temp_dir().join(format!("session-plus-demo-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[[session]]\ncookie_name = \"s\"\nsession_type = \"memory\"\ncookie_samesite = \"sometimes\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_session-plus-demo"))
        .args(["--port", "0", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("session `s`, key `cookie_samesite`"), "{stderr}");
}
