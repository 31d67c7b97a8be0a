//! Runs the demo binary as a user would and drives it over TCP with a cookie-keeping client.

mod common;

use std::process::Command;

use common::{start, token, Demo};
use serde_json::{json, Value};

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

/// The index page shows each named session, in configuration order, with its cookie's size as
/// the request sent it, its backend, its fields (escaped) and its expiry; without JavaScript.
#[tokio::test]
async fn the_page_shows_each_named_session() {
    let demo = start(&[]);
    let client = reqwest::Client::new();
    let page = |cookie: Option<String>| {
        let mut request = client.get(format!("{}/", demo.url));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };

    let anonymous = page(None).await;
    assert!(!anonymous.contains("<script") && !anonymous.contains("onclick"), "{anonymous}");
    for name in ["csrf", "session", "data"] {
        assert!(card(&anonymous, name).contains("<dd class=size>no cookie</dd>"), "{anonymous}");
    }
    let session = card(&anonymous, "session");
    assert!(session.contains("SQLite, sessions.db") && session.contains("no fields"), "{session}");
    assert!(session.contains("it holds nothing"), "{session}");

    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let browser = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
    let csrf = token(&browser.get(format!("{}/login", demo.url)).send().await.unwrap().text().await.unwrap());
    let form = [("username", "<alice & bob>"), ("csrf_token", csrf.as_str())];
    let login = browser.post(format!("{}/login", demo.url)).form(&form).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let url: reqwest::Url = demo.url.parse().unwrap();
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url).unwrap().to_str().unwrap().to_owned();

    let page = page(Some(cookies.clone())).await;
    assert!(page.contains("Logged in as <b>&lt;alice &amp; bob&gt;</b>"), "{page}");
    assert!(!page.contains("<alice"), "unescaped: {page}");
    let positions: Vec<usize> =
        ["csrf", "session", "data"].iter().map(|name| page.find(&format!("id=\"session-{name}\"")).unwrap()).collect();
    assert!(positions.is_sorted(), "cards in configuration order: {positions:?}");
    for pair in cookies.split("; ") {
        let (name, _) = pair.split_once('=').unwrap();
        let card = card(&page, name);
        assert!(card.contains(&format!("<dd class=size>{} bytes</dd>", pair.len())), "{pair}: {card}");
        let in_a_day = card.contains("UTC (in 23h 59m") || card.contains("UTC (in 1day)");
        assert!(card.contains("<dd class=expiry>20") && in_a_day, "{card}");
        assert!(card.contains("HttpOnly; SameSite=Lax; Path=/; no Max-Age"), "{card}");
    }
    let csrf_card = card(&page, "csrf");
    assert!(csrf_card.contains("signed cookie") && csrf_card.contains(&csrf), "{csrf_card}");
    let session = card(&page, "session");
    let id = cookies.split("; ").find_map(|pair| pair.strip_prefix("session=")).unwrap();
    assert!(session.contains(&format!("<dd class=id><code>{}…</code></dd>", &id[..8])), "{session}");
    assert!(!csrf_card.contains("class=id"), "a cookie session has no id: {csrf_card}");
    assert!(session.contains("<td>user_id</td><td class=value>&quot;&lt;alice &amp; bob&gt;&quot;</td>"), "{session}");
    assert!(session.contains("<td>user_data</td>") && !session.contains("visits"), "{session}");
    let data = card(&page, "data");
    assert!(data.contains("signed cookie") && data.contains("Bound to"), "{data}");
    assert!(data.contains("<td>logged_in_at</td>") && data.contains("<td>visits</td>"), "{data}");
    assert!(!data.contains("user_id"), "{data}");
}

/// The `<section>` of the card of session `name`.
fn card<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page.find(&format!("id=\"session-{name}\"")).unwrap_or_else(|| panic!("no card {name}: {page}"));
    let end = start + page[start..].find("</section>").unwrap();
    &page[start..end]
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
