//! Errors the application controls (issue 14, item 4): its own response to a failed session, a
//! store outage read as an empty session where configured, and no save on error responses.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;
use session_plus::clock::{Clock, ManualClock, SystemClock};
use session_plus::session::{Failure, Stage};
use session_plus::store::MemoryStore;
use session_plus::{session, Config, FieldSelector, Session, SessionConfig, SessionManager, SessionType};

use crate::common::{self, serve_router, serve_with, Client, Framework, Probe, SECRET};

/// `csrf` (a cookie), `session` (the probed store, "auto") and `data` (a cookie for `theme`,
/// bound to `session`).
fn config(tweak: impl FnOnce(SessionConfig) -> SessionConfig) -> Config {
    Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(tweak(
            SessionConfig::new("session").with_type(SessionType::Custom).with_field_selector(FieldSelector::Auto),
        ))
        .with_session(SessionConfig::new("data").with_fields(["theme"]).with_bind_to("session"))
}

async fn build(
    config: Config,
    probe: &Arc<Probe>,
    tweak: impl FnOnce(session_plus::SessionManagerBuilder) -> session_plus::SessionManagerBuilder,
) -> SessionManager {
    let builder = SessionManager::builder(config)
        .with_store("session", probe.clone())
        .with_clock(ManualClock::new(SystemClock.now()))
        .without_purge_tasks();
    tweak(builder).build().await.unwrap()
}

#[tokio::test]
async fn an_outage_reads_as_empty_where_configured_and_loses_nothing() {
    let probe = Probe::new(Arc::new(MemoryStore::new()));
    let manager = build(config(|s| s.with_load_error_as_empty(true)), &probe, |b| b).await;
    let mut client = Client::new(common::serve(&manager).await);
    client.post("/set/user_id", "\"alice\"").await;
    client.post("/set/csrf_token", "\"t\"").await;
    client.post("/set/theme", "\"dark\"").await;
    let jar = client.jar.clone();

    probe.fail_load.store(true, Ordering::SeqCst);
    // A page that needs only the CSRF cookie survives the outage.
    let reply = client.get("/get/csrf_token").await;
    assert_eq!((reply.status, reply.json()), (200, json!("t")));
    // The store's session and the cookie bound to it read as empty; no cookie is touched.
    for field in ["user_id", "theme"] {
        let reply = client.get(&format!("/get/{field}")).await;
        assert_eq!((reply.status, reply.json()), (200, json!(null)), "{field}");
        assert!(reply.set_cookies.is_empty(), "{field}: {:?}", reply.set_cookies);
    }
    // A write there is refused, not lost silently, and overwrites nothing.
    let reply = client.post("/set/user_id", "\"mallory\"").await;
    assert_eq!(reply.status, 500);
    let reply = client.post("/set/theme", "\"light\"").await;
    assert_eq!(reply.status, 500);
    assert_eq!(client.jar, jar, "every cookie as it was");

    probe.fail_load.store(false, Ordering::SeqCst);
    assert_eq!(client.get("/fields").await.json(), json!({"csrf_token": "t", "theme": "dark", "user_id": "alice"}));
}

#[tokio::test]
async fn without_the_policy_an_outage_is_an_error_response() {
    let probe = Probe::new(Arc::new(MemoryStore::new()));
    let manager = build(config(|s| s), &probe, |b| b).await;
    let mut client = Client::new(common::serve(&manager).await);
    client.post("/set/user_id", "\"alice\"").await;
    probe.fail_load.store(true, Ordering::SeqCst);
    assert_eq!(client.get("/get/user_id").await.status, 503);
}

#[tokio::test]
async fn the_application_answers_a_failed_session_with_its_own_response() {
    let frameworks = [
        Framework::Axum,
        #[cfg(feature = "actix")]
        Framework::Actix,
    ];
    for framework in frameworks {
        let probe = Probe::new(Arc::new(MemoryStore::new()));
        let manager = build(config(|s| s), &probe, |b| {
            b.with_error_response(|failure: &Failure| {
                let stage = if failure.stage() == Stage::Load { "load" } else { "save" };
                let body = json!({"error": "session unavailable", "session": failure.session(), "stage": stage});
                let mut response = http::Response::new(body.to_string());
                *response.status_mut() = failure.status();
                response.headers_mut().insert(http::header::CONTENT_TYPE, "application/json".parse().unwrap());
                response
            })
        })
        .await;
        let addr = serve_with(framework, &manager).await;
        let mut client = Client::new(addr);
        client.post("/set/user_id", "\"alice\"").await;
        probe.fail_load.store(true, Ordering::SeqCst);
        let reply = client.get("/get/user_id").await;
        assert_eq!(reply.status, 503, "{framework:?}");
        assert_eq!(reply.json(), json!({"error": "session unavailable", "session": "session", "stage": "load"}));
        assert!(reply.vary_cookie, "{framework:?}");

        probe.fail_load.store(false, Ordering::SeqCst);
        probe.fail_save.store(true, Ordering::SeqCst);
        let reply = client.post("/set/user_id", "\"bob\"").await;
        assert_eq!((reply.status, reply.json()["stage"].clone()), (500, json!("save")), "{framework:?}");
    }
}

#[tokio::test]
async fn error_responses_save_nothing_when_configured() {
    /// Writes the field, then answers 422.
    async fn write_then_fail(session: Session, Path(field): Path<String>) -> Result<StatusCode, session::Error> {
        session.insert(&field, "written").await?;
        Ok(StatusCode::UNPROCESSABLE_ENTITY)
    }
    for save_error_responses in [true, false] {
        let probe = Probe::new(Arc::new(MemoryStore::new()));
        let manager =
            build(config(|s| s), &probe, |b| if save_error_responses { b } else { b.without_saving_error_responses() })
                .await;
        let app = common::routes().route("/fail/{field}", post(write_then_fail)).layer(manager.layer());
        let mut client = Client::new(serve_router(app).await);
        client.post("/set/user_id", "\"alice\"").await;
        let reply = client.post("/fail/user_id", "").await;
        assert_eq!(reply.status, 422);
        let reply2 = client.post("/fail/csrf_token", "").await;
        let expected = if save_error_responses { json!("written") } else { json!("alice") };
        assert_eq!(client.get("/get/user_id").await.json(), expected, "save_error_responses: {save_error_responses}");
        if !save_error_responses {
            assert!(reply.set_cookies.is_empty() && reply2.set_cookies.is_empty(), "no cookie from an error response");
            assert_eq!(client.get("/get/csrf_token").await.json(), json!(null));
        }
    }
}
