//! The middleware in process: requests through [`tower::ServiceExt::oneshot`], no socket.

use std::convert::Infallible;
use std::sync::Arc;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response, StatusCode};
use tower::{service_fn, ServiceExt};
use tower_layer::Layer;

use super::SessionManagerLayer;
use crate::config::{Config, SessionConfig, SessionType};
use crate::manager::SessionManager;
use crate::session::tests::Down;
use crate::session::{Id, Session};
use crate::store::MemoryStore;

const SECRET: &str = "a literal key for development, at least 32 bytes long";

async fn manager() -> SessionManager {
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(SessionConfig::new("session").with_type(SessionType::Custom));
    let builder = SessionManager::builder(config).with_store("session", Arc::new(MemoryStore::new()));
    builder.without_purge_tasks().build().await.unwrap()
}

/// A handler that counts visits in `session` when the path is `/count`, and touches nothing
/// otherwise.
async fn handler(request: Request<String>) -> Result<Response<String>, Infallible> {
    let session = request.extensions().get::<Session>().expect("the layer put a Session here").clone();
    if request.uri().path() == "/count" {
        let visits: u64 = session.get("visits").await.unwrap().unwrap_or(0) + 1;
        session.insert("visits", visits).await.unwrap();
        return Ok(Response::new(visits.to_string()));
    }
    Ok(Response::new(String::new()))
}

fn request(path: &str, cookie: Option<&str>) -> Request<String> {
    let mut request = Request::get(path).body(String::new()).unwrap();
    if let Some(cookie) = cookie {
        request.headers_mut().insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
    }
    request
}

fn cookie_of(response: &Response<String>) -> String {
    let set_cookie = response.headers().get(SET_COOKIE).expect("a Set-Cookie").to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_untouched_session_adds_no_header() {
    let service = SessionManagerLayer::new(manager().await).layer(service_fn(handler));
    let response = service.oneshot(request("/", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert!(response.headers().get(VARY).is_none());
}

#[tokio::test]
async fn a_changed_session_sets_its_cookie_and_reads_it_back() {
    let manager = manager().await;
    let first = manager.layer().layer(service_fn(handler)).oneshot(request("/count", None)).await.unwrap();
    assert_eq!(first.body(), "1");
    assert_eq!(first.headers().get(VARY).unwrap(), "Cookie");
    let cookie = cookie_of(&first);
    assert!(cookie.starts_with("session="), "{cookie}");
    let second = manager.layer().layer(service_fn(handler)).oneshot(request("/count", Some(&cookie))).await.unwrap();
    assert_eq!(second.body(), "2");
}

#[tokio::test]
async fn a_handler_that_keeps_a_clone_still_gets_its_cookie() {
    let manager = manager().await;
    let keeps_a_clone = service_fn(|request: Request<String>| async move {
        let session = request.extensions().get::<Session>().unwrap().clone();
        session.insert("csrf_token", "t").await.unwrap();
        // A clone outlives the handler: the save cannot take the fast path.
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            drop(session)
        });
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let response = manager.layer().layer(keeps_a_clone).oneshot(request("/", None)).await.unwrap();
    assert!(cookie_of(&response).starts_with("csrf="));
}

#[tokio::test]
async fn a_store_that_fails_becomes_the_configured_error_without_cookies() {
    let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Custom));
    let manager = SessionManager::builder(config).with_store("session", Arc::new(Down)).build().await.unwrap();
    let id = Id::random().unwrap();
    let cookie = format!("session={}", id.as_str());
    let tolerant = service_fn(|request: Request<String>| async move {
        let session = request.extensions().get::<Session>().unwrap().clone();
        // The handler ignores the error; the middleware still reports it.
        let _ = session.get::<u64>("visits").await;
        Ok::<_, Infallible>(Response::new("handler output".to_owned()))
    });
    let response = manager.layer().layer(tolerant).oneshot(request("/", Some(&cookie))).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert_eq!(response.headers().get(CACHE_CONTROL).unwrap(), "no-store");
    assert_eq!(response.headers().get(CONTENT_TYPE).unwrap(), "text/plain; charset=utf-8");
    assert!(!response.body().contains(id.as_str()), "the id is never echoed");
}

#[tokio::test]
async fn the_service_gives_access_to_its_inner_service() {
    #[derive(Debug, Clone, PartialEq)]
    struct Inner(u8);
    let mut service = SessionManagerLayer::new(manager().await).layer(Inner(1));
    assert_eq!(service.get_ref(), &Inner(1));
    service.get_mut().0 = 2;
    assert_eq!(service.into_inner(), Inner(2));
}

/// Issue 10, item 10: a change made after the response was saved is an error, not a silent loss.
#[tokio::test]
async fn a_change_after_the_response_was_saved_is_refused() {
    let manager = manager().await;
    let go = Arc::new(tokio::sync::Notify::new());
    let (sender, outcome) = tokio::sync::oneshot::channel();
    let sender = Arc::new(std::sync::Mutex::new(Some(sender)));
    let handler = {
        let go = go.clone();
        service_fn(move |request: Request<String>| {
            let (go, sender) = (go.clone(), sender.clone());
            async move {
                let session = request.extensions().get::<Session>().unwrap().clone();
                session.insert("csrf_token", "in time").await.unwrap();
                tokio::spawn(async move {
                    go.notified().await;
                    let late = session.insert("csrf_token", "too late").await;
                    let _ = sender.lock().unwrap().take().map(|sender| sender.send(late));
                });
                Ok::<_, Infallible>(Response::new(String::new()))
            }
        })
    };
    let response = manager.layer().layer(handler).oneshot(request("/", None)).await.unwrap();
    assert!(cookie_of(&response).starts_with("csrf="));
    go.notify_one();
    let late = outcome.await.expect("the task reports");
    assert!(matches!(late, Err(crate::session::Error::AlreadySaved)), "{late:?}");
}
