//! The framework-neutral API over real TCP (issue 13, item 1): a hand-written HTTP/1.1 server on
//! tokio alone, no axum, no tower, that starts each request's session from its headers with
//! `SessionManager::start` and finishes it with `Session::finish`, driven by a cookie-keeping
//! client. If the public API were not enough for an adapter, this would not compile.

use std::sync::Arc;

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use session_plus::store::SessionStore;
use session_plus::{Config, Session, SessionConfig, SessionManager, SessionType};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::common::{Probe, SECRET};

/// What the "application" does per path; returns the body.
async fn handle(path: &str, session: &Session) -> Result<String, session_plus::session::Error> {
    match path {
        "/count" => {
            let count = session.get::<u64>("count").await?.unwrap_or(0) + 1;
            session.insert("count", count).await?;
            session.insert("csrf_token", "t").await?;
            Ok(count.to_string())
        }
        "/logout" => session.clear().await.map(|()| "bye".to_owned()),
        _ => Ok("nothing".to_owned()),
    }
}

/// Serves HTTP/1.1, one request per connection, until the test ends.
async fn serve(manager: SessionManager) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let manager = manager.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let Ok(Some(request_line)) = lines.next_line().await else { return };
                let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
                let mut headers = HeaderMap::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let Some((name, value)) = line.split_once(':') else { break };
                    if let (Ok(name), Ok(value)) =
                        (HeaderName::try_from(name.trim()), HeaderValue::try_from(value.trim()))
                    {
                        headers.append(name, value);
                    }
                }
                // The two calls an adapter makes: start, then finish once the handler answered.
                let session = manager.start(&headers);
                let handled = handle(&path, &session).await;
                let finished = session.finish().await;
                let (status, body) = match (finished.error_status(), handled) {
                    (Some(status), _) => (status, status.as_str().to_owned()),
                    (None, Ok(body)) => (StatusCode::OK, body),
                    (None, Err(error)) => (error.status(), error.status().as_str().to_owned()),
                };
                let mut response_headers = HeaderMap::new();
                finished.apply_to_headers(&mut response_headers);
                let mut response =
                    format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                for (name, value) in &response_headers {
                    response.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap_or_default()));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                let _ = write.write_all(response.as_bytes()).await;
            });
        }
    });
    addr
}

async fn manager(store: Arc<dyn SessionStore>) -> SessionManager {
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(SessionConfig::new("session").with_type(SessionType::Custom).with_fields(["count"]));
    SessionManager::builder(config).with_store("session", store).build().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_framework_runs_sessions_through_start_and_finish() {
    let probe = Probe::new(Arc::new(session_plus::store::MemoryStore::new()));
    let addr = serve(manager(probe.clone()).await).await;
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let get = |path: &'static str| client.get(format!("http://{addr}{path}")).send();

    let untouched = get("/nothing").await.unwrap();
    assert!(untouched.headers().get(SET_COOKIE).is_none() && untouched.headers().get(VARY).is_none());
    for expected in 1..=3 {
        let reply = get("/count").await.unwrap();
        assert_eq!(reply.headers()[VARY], "Cookie");
        assert_eq!(reply.text().await.unwrap(), expected.to_string());
    }
    let first = get("/logout").await.unwrap();
    assert_eq!(first.headers()[CACHE_CONTROL], "private");
    let removals: Vec<_> = first.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(removals.len(), 2, "{removals:?}");
    assert!(removals.iter().all(|c| c.contains("Max-Age=0")), "{removals:?}");
    assert_eq!(get("/count").await.unwrap().text().await.unwrap(), "1", "a fresh session after logout");

    // A store that fails: the response is the configured status, and no id cookie is sent.
    probe.fail_load.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = get("/count").await.unwrap();
    assert_eq!(failed.status(), 503);
    assert!(!failed.headers().get_all(SET_COOKIE).iter().any(|v| v.to_str().unwrap().starts_with("session=")));
}
