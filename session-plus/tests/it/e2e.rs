//! End-to-end behaviour over TCP that the per-store suite does not cover: cookie sessions,
//! key rotation, encryption, every routing mode, mirroring, concurrent loads, signed ids, purges.
//! The cases that take a `Framework` run on axum and on actix-web from `frameworks.rs`.

use crate::common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{serve, serve_with, Client, Framework, Probe, SECRET, T0};
use serde_json::{json, Value};
use session_plus::clock::ManualClock;
use session_plus::store::{self, MemoryStore, Record, SessionStore, Update};
use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};

const OTHER_SECRET: &str = "another test secret, also thirty-two bytes or more";

async fn build(config: Config, clock: &ManualClock) -> SessionManager {
    SessionManager::builder(config).with_clock(clock.clone()).without_purge_tasks().build().await.unwrap()
}

fn cookie_config(secrets: &[&str]) -> Config {
    let mut config = Config::new();
    for secret in secrets {
        config = config.with_secret_key(*secret);
    }
    config.with_session(SessionConfig::new("csrf").with_fields(["csrf_token"])).with_session(
        SessionConfig::new("data")
            .with_field_selector(FieldSelector::Auto)
            .with_absolute_lifetime(Duration::from_secs(10 * 86_400)),
    )
}

#[cfg(feature = "store-sqlite")]
#[tokio::test]
async fn seed_toml_on_sqlite_survives_a_restart() {
    let path = common::temp_db_path();
    let toml = format!(
        r#"
        secret_keys = ["{SECRET}"]
        [[session]]
        cookie_name = "csrf"
        session_type = "secure_cookie"
        session_fields = ["csrf_token"]
        [[session]]
        cookie_name = "session"
        session_type = "sqlite"
        session_fields = ["user_id", "user_data"]
        path = "{path}"
        [[session]]
        cookie_name = "data"
        session_type = "secure_cookie"
        session_fields = "auto"
        "#
    );
    let manager = SessionManager::new(Config::from_toml_str(&toml).unwrap()).await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/user_id", "\"alice\"").await;
    client.post("/set/csrf_token", "\"t\"").await;
    client.post("/set/theme", "\"dark\"").await;
    assert_eq!(client.jar.keys().collect::<Vec<_>>(), ["csrf", "data", "session"]);
    drop(manager);

    // A new process on the same file: the server-side session is still there.
    let manager = SessionManager::new(Config::from_toml_str(&toml).unwrap()).await.unwrap();
    let jar = client.jar.clone();
    let mut client = Client::new(serve(&manager).await);
    client.jar = jar;
    assert_eq!(client.get("/fields").await.json(), json!({"csrf_token": "t", "theme": "dark", "user_id": "alice"}));
}

#[tokio::test]
async fn tampered_truncated_renamed_or_foreign_cookies_are_empty_sessions() {
    let clock = ManualClock::new(T0);
    let manager = build(cookie_config(&[SECRET]), &clock).await;
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/csrf_token", "\"t\"").await;
    let good = client.cookie("csrf").unwrap();
    let mut flipped = good.clone().into_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let foreign = {
        let other = build(cookie_config(&[OTHER_SECRET]), &clock).await;
        let mut c = Client::new(serve(&other).await);
        c.post("/set/csrf_token", "\"t\"").await;
        c.cookie("csrf").unwrap()
    };
    for bad in [flipped, good[..good.len() - 3].to_owned(), foreign, "garbage".into(), "1..".into(), String::new()] {
        let mut c = client.clone();
        c.jar.insert("csrf".into(), bad.clone());
        let reply = c.get("/get/csrf_token").await;
        assert_eq!((reply.status, reply.json()), (200, Value::Null), "{bad:?}");
    }
    // A valid value moved into another cookie is refused (the name is under the MAC).
    let mut c = client.clone();
    c.jar.insert("data".into(), good);
    c.jar.remove("csrf");
    assert_eq!(c.get("/fields").await.json(), json!({}));
}

#[tokio::test]
async fn cookie_lifetimes_are_enforced_under_the_signature() {
    let clock = ManualClock::new(T0);
    let manager = build(cookie_config(&[SECRET]), &clock).await;
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/csrf_token", "\"t\"").await;
    let first = client.cookie("csrf").unwrap();

    // Not re-issued on every request: only after a tenth of the lifetime (8640 s).
    clock.set(T0 + 8_639);
    assert!(client.get("/get/csrf_token").await.set_cookies.is_empty());
    clock.set(T0 + 8_640);
    let reply = client.get("/nothing").await;
    assert_eq!(reply.set_cookie_names(), ["csrf"], "refresh happens even when the request did not read it");
    assert_ne!(client.cookie("csrf").unwrap(), first);

    // The old cookie is valid for exactly its idle lifetime from its issue time.
    let mut old = client.clone();
    old.jar.insert("csrf".into(), first);
    clock.set(T0 + 86_400);
    assert_eq!(old.clone().get("/get/csrf_token").await.json(), json!("t"));
    clock.set(T0 + 86_401);
    let reply = old.get("/get/csrf_token").await;
    assert_eq!(reply.json(), Value::Null);
    assert!(reply.set_cookie("csrf").unwrap().contains("Max-Age=0"), "an expired cookie is removed");

    // A cookie issued in the future is refused.
    let future = build(cookie_config(&[SECRET]), &ManualClock::new(T0 + 1_000_000)).await;
    let mut maker = Client::new(serve(&future).await);
    maker.post("/set/csrf_token", "\"t\"").await;
    let mut c = Client::new(serve(&manager).await);
    c.jar.insert("csrf".into(), maker.cookie("csrf").unwrap());
    assert_eq!(c.get("/get/csrf_token").await.json(), Value::Null);

    // The absolute lifetime holds however often the cookie is refreshed.
    let mut active = Client::new(serve(&manager).await);
    clock.set(T0);
    active.post("/set/theme", "\"dark\"").await;
    for day in 1..=10 {
        clock.set(T0 + day * 86_400 - 100);
        assert_eq!(active.get("/get/theme").await.json(), json!("dark"), "day {day}");
    }
    clock.set(T0 + 10 * 86_400 + 1);
    assert_eq!(active.get("/get/theme").await.json(), Value::Null);
}

/// Cookies made under an old key are read and re-issued under the newest (on each framework:
/// `frameworks.rs`).
pub(crate) async fn key_rotation_accepts_old_keys_and_reissues(on: Framework) {
    let clock = ManualClock::new(T0);
    let old = build(cookie_config(&[OTHER_SECRET]), &clock).await;
    let mut client = Client::new(serve_with(on, &old).await);
    client.post("/set/csrf_token", "\"t\"").await;
    let old_cookie = client.cookie("csrf").unwrap();

    let rotated = build(cookie_config(&[SECRET, OTHER_SECRET]), &clock).await;
    let mut c = Client::new(serve_with(on, &rotated).await);
    c.jar = client.jar.clone();
    let reply = c.get("/get/csrf_token").await;
    assert_eq!(reply.json(), json!("t"));
    assert_eq!(reply.set_cookie_names(), ["csrf"], "re-issued under the newest key at once");
    let new_cookie = c.cookie("csrf").unwrap();
    assert_ne!(new_cookie, old_cookie);
    assert!(c.get("/get/csrf_token").await.set_cookies.is_empty(), "and then left alone");

    // Once the old key is dropped, only re-issued cookies work.
    let newest_only = build(cookie_config(&[SECRET]), &clock).await;
    let mut n = Client::new(serve_with(on, &newest_only).await);
    n.jar.insert("csrf".into(), new_cookie);
    assert_eq!(n.get("/get/csrf_token").await.json(), json!("t"));
    n.jar.insert("csrf".into(), old_cookie);
    assert_eq!(n.get("/get/csrf_token").await.json(), Value::Null);
}

#[cfg(feature = "codec-private")]
#[tokio::test]
async fn encrypted_cookies_hide_their_fields() {
    use base64::Engine;
    let clock = ManualClock::new(T0);
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("vault").with_encryption(true).with_fields(["secret"]));
    let manager = build(config, &clock).await;
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/secret", "\"the-plaintext-value\"").await;
    let value = client.cookie("vault").unwrap();
    assert!(value.starts_with("2."));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&value[2..]).unwrap();
    assert!(!raw.windows(5).any(|w| w == b"plain"), "plaintext visible in the cookie");
    assert_eq!(client.get("/get/secret").await.json(), json!("the-plaintext-value"));
}

#[tokio::test]
async fn a_cookie_over_4096_bytes_is_an_error_not_a_silent_loss() {
    common::capture_logs();
    let clock = ManualClock::new(T0);
    let manager = build(cookie_config(&[SECRET]), &clock).await;
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/theme", "\"dark\"").await;
    let reply = client.post("/set/blob", format!("\"{}\"", "x".repeat(5000))).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, "500 Internal Server Error", "a generic body; the details are logged");
    assert!(common::captured_logs().contains("session cookie larger than 4096 bytes"));
    assert!(reply.set_cookies.is_empty());
    assert_eq!(client.get("/get/theme").await.json(), json!("dark"), "the previous cookie still stands");
}

#[tokio::test]
async fn a_write_to_an_unowned_field_is_an_error() {
    let clock = ManualClock::new(T0);
    let config =
        Config::new().with_secret_key(SECRET).with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]));
    let manager = build(config, &clock).await;
    let mut client = Client::new(serve(&manager).await);
    common::capture_logs();
    let reply = client.post("/set/user_id", "1").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, "500 Internal Server Error", "a generic body; the details are logged");
    assert!(common::captured_logs().contains("no session owns the field `user_id`"));
    assert!(reply.set_cookies.is_empty());
    assert_eq!(client.get("/get/user_id").await.json(), Value::Null, "reading it is fine");
}

/// Every routing mode saves and clears (the seed never did for `[]` and "auto").
#[tokio::test]
async fn every_routing_mode_saves_and_clears() {
    let modes: Vec<(&str, SessionType, FieldSelector)> = vec![
        ("all-cookie", SessionType::SecureCookie, FieldSelector::All),
        ("auto-cookie", SessionType::SecureCookie, FieldSelector::Auto),
        ("all-store", SessionType::Memory, FieldSelector::All),
        ("auto-store", SessionType::Memory, FieldSelector::Auto),
        ("list-store", SessionType::Memory, FieldSelector::List(["x".to_owned()].into())),
        (
            "exclude-store",
            SessionType::Memory,
            FieldSelector::IncludeExclude { include: BTreeSet::new(), exclude: ["csrf_token".to_owned()].into() },
        ),
        (
            "include-cookie",
            SessionType::SecureCookie,
            FieldSelector::IncludeExclude { include: ["x".to_owned()].into(), exclude: BTreeSet::new() },
        ),
    ];
    for (name, session_type, selector) in modes {
        let clock = ManualClock::new(T0);
        let config = Config::new()
            .with_secret_key(SECRET)
            .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
            .with_session(SessionConfig::new(name).with_type(session_type).with_field_selector(selector));
        let manager = build(config, &clock).await;
        let mut client = Client::new(serve(&manager).await);
        let reply = client.post("/set/x", "1").await;
        assert!(reply.set_cookie(name).is_some(), "{name}: saved");
        assert_eq!(client.get("/get/x").await.json(), json!(1), "{name}");
        client.post("/set/x", "2").await;
        assert_eq!(client.get("/get/x").await.json(), json!(2), "{name}: changed");
        let before = client.clone();
        let reply = client.post("/clear", "").await;
        assert!(reply.set_cookie(name).is_some_and(|c| c.contains("Max-Age=0")), "{name}: cookie expired");
        assert_eq!(client.get("/get/x").await.json(), Value::Null, "{name}: cleared");
        if session_type.is_server_side() {
            let mut replay = before;
            assert_eq!(replay.get("/get/x").await.json(), Value::Null, "{name}: logout is server-side");
        }
    }
}

#[tokio::test]
async fn mirrored_fields_go_to_every_owner_and_owners_load_concurrently() {
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let stores: Vec<Arc<Probe>> = (0..2)
        .map(|_| Arc::new(Probe { load_barrier: Some(barrier.clone()), ..Probe::plain(Arc::new(MemoryStore::new())) }))
        .collect();
    let config = Config::new()
        .with_session(SessionConfig::new("a").with_type(SessionType::Custom).with_fields(["x", "only_a"]))
        .with_session(SessionConfig::new("b").with_type(SessionType::Custom).with_fields(["x", "only_b"]));
    let manager = SessionManager::builder(config)
        .with_store("a", stores[0].clone())
        .with_store("b", stores[1].clone())
        .build()
        .await
        .unwrap();
    let mut client = Client::new(serve(&manager).await);
    // Writing a mirrored field loads both owners; each load waits for the other at the barrier,
    // so this succeeds only if they run at the same time.
    let reply = client.post("/set/x", "1").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.set_cookie_names(), ["a", "b"]);
    // Reading every field loads both at once too.
    let reply = client.get("/fields").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json(), json!({"x": 1}));
    for store in &stores {
        let ids = store.ops.lock().unwrap().clone();
        assert!(ids.contains(&"create"), "{ids:?}");
    }
}

#[tokio::test]
async fn signed_ids_reject_forgeries_before_the_store() {
    let probe = Probe::new(Arc::new(MemoryStore::new()));
    let clock = ManualClock::new(T0);
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("session").with_type(SessionType::Custom).with_signer(true));
    let manager = common::manager(config, probe.clone(), &clock).await;
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/user_id", "1").await;
    let signed = client.cookie("session").unwrap();
    let (id, mac) = signed.split_once('.').unwrap();
    assert_eq!((id.len(), mac.len()), (43, 43));
    assert_eq!(client.get("/get/user_id").await.json(), json!(1));

    probe.reset();
    let mut forged = client.clone();
    forged.jar.insert("session".into(), format!("{id}.{}", "A".repeat(43)));
    assert_eq!(forged.get("/get/user_id").await.json(), Value::Null);
    forged.jar.insert("session".into(), id.to_owned());
    assert_eq!(forged.get("/get/user_id").await.json(), Value::Null);
    assert_eq!(probe.calls(), 0, "unsigned or forged ids never reach the store");
}

#[tokio::test]
async fn cookie_attributes_on_every_path() {
    let clock = ManualClock::new(T0);
    let config = Config::new().with_secret_key(SECRET).with_session(
        SessionConfig::new("__Host-s")
            .with_type(SessionType::Memory)
            .with_secure(true)
            .with_same_site(session_plus::config::SameSite::Strict)
            .with_cookie_max_age(Duration::from_secs(600)),
    );
    let manager = build(config, &clock).await;
    let mut client = Client::new(serve(&manager).await);
    let created = client.post("/set/x", "1").await.set_cookies;
    let id = client.cookie("__Host-s").unwrap();
    assert_eq!(created, [format!("__Host-s={id}; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=600")]);
    clock.advance(Duration::from_secs(8_640));
    let refreshed = client.get("/get/x").await.set_cookies;
    assert_eq!(refreshed, created, "refresh re-sends the same attributes to slide Max-Age");
    let removed = client.post("/clear", "").await.set_cookies;
    assert_eq!(removed.len(), 1);
    assert!(
        removed[0].starts_with("__Host-s=; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=0; Expires="),
        "{removed:?}"
    );
}

/// A store whose purge fails the first two times.
#[derive(Debug, Default)]
struct FlakyPurge {
    inner: MemoryStore,
    purges: AtomicUsize,
}

#[async_trait]
impl SessionStore for FlakyPurge {
    async fn load(&self, key: &str) -> store::Result<Option<Record>> {
        self.inner.load(key).await
    }
    async fn create(&self, key: &str, record: &Record) -> store::Result<bool> {
        self.inner.create(key, record).await
    }
    async fn update(&self, key: &str, update: &Update) -> store::Result<bool> {
        self.inner.update(key, update).await
    }
    async fn delete(&self, key: &str) -> store::Result<bool> {
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: i64) -> store::Result<u64> {
        if self.purges.fetch_add(1, Ordering::SeqCst) < 2 {
            return Err(store::Error::Backend("injected purge failure".into()));
        }
        self.inner.purge_expired(now).await
    }
    fn backend_name(&self) -> &'static str {
        "flaky"
    }
}

#[tokio::test(start_paused = true)]
async fn the_purge_task_survives_errors_and_bounds_memory() {
    let store = Arc::new(FlakyPurge::default());
    let clock = ManualClock::new(T0);
    for i in 0..1_000 {
        let record = Record { created_at: T0, expires_at: T0 + 10, ..Record::default() };
        store.create(&format!("session:{i}"), &record).await.unwrap();
    }
    let config = Config::new().with_session(
        SessionConfig::new("session").with_type(SessionType::Custom).with_purge_interval(Duration::from_secs(60)),
    );
    let manager = SessionManager::builder(config)
        .with_store("session", store.clone())
        .with_clock(clock.clone())
        .build()
        .await
        .unwrap();
    clock.set(T0 + 11);
    tokio::time::sleep(Duration::from_secs(60 * 4 + 1)).await;
    assert!(store.purges.load(Ordering::SeqCst) >= 3, "the task went on after failures");
    assert_eq!(store.inner.len(), 0, "expired records are gone");

    // Dropping the manager ends the task.
    drop(manager);
    let purges = store.purges.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(store.purges.load(Ordering::SeqCst) <= purges + 1);
}

/// A store whose records cannot be decoded (corrupt, or written by something else).
#[derive(Debug, Default)]
struct Corrupt {
    inner: MemoryStore,
}

#[async_trait]
impl SessionStore for Corrupt {
    async fn load(&self, _: &str) -> store::Result<Option<Record>> {
        Err(store::Error::Decode("not a session record".into()))
    }
    async fn create(&self, key: &str, record: &Record) -> store::Result<bool> {
        self.inner.create(key, record).await
    }
    async fn update(&self, key: &str, update: &Update) -> store::Result<bool> {
        self.inner.update(key, update).await
    }
    async fn delete(&self, key: &str) -> store::Result<bool> {
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: i64) -> store::Result<u64> {
        self.inner.purge_expired(now).await
    }
    fn backend_name(&self) -> &'static str {
        "corrupt"
    }
}

#[tokio::test]
async fn an_undecodable_record_is_no_session_not_an_outage() {
    let store = Arc::new(Corrupt::default());
    let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Custom));
    let manager = common::manager(config, store.clone(), &ManualClock::new(T0)).await;
    let mut client = Client::new(serve(&manager).await);
    let id = session_plus::session::Id::random().unwrap().as_str().to_owned();
    client.jar.insert("session".into(), id.clone());
    let reply = client.get("/get/user_id").await;
    assert_eq!((reply.status, reply.json()), (200, Value::Null));
    assert_eq!(client.post("/set/user_id", "1").await.status, 200);
    assert_ne!(client.cookie("session").unwrap(), id, "new data gets a fresh id");
    assert_eq!(store.inner.len(), 1);
}

/// A handler that hands a clone of its session to a task outliving the response: the save then
/// takes the locking path instead of the lock-free one, with the same result.
#[tokio::test]
async fn a_session_kept_by_a_spawned_task_is_still_saved() {
    use axum::routing::{get, post};
    use session_plus::Session;

    async fn keep_and_set(session: Session) -> Result<&'static str, session_plus::session::Error> {
        // Cookie sessions only: without the kept clone, this save would need no lock at all.
        session.insert("csrf_token", "kept").await?;
        let kept = session.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(kept);
        });
        Ok("ok")
    }
    async fn read(session: Session) -> Result<String, session_plus::session::Error> {
        let token: Option<String> = session.get("csrf_token").await?;
        let user: Option<u32> = session.get("user_id").await?;
        Ok(format!("{token:?} {user:?}"))
    }

    let clock = ManualClock::new(T0);
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(SessionConfig::new("session").with_type(SessionType::Custom).with_fields(["user_id"]));
    let manager = common::manager(config, Arc::new(MemoryStore::new()), &clock).await;
    let router = axum::Router::new().route("/keep", post(keep_and_set)).route("/read", get(read));
    let mut client = Client::new(common::serve_router(router.layer(manager.layer())).await);
    let reply = client.post("/keep", "").await;
    assert_eq!((reply.status, reply.set_cookies.len()), (200, 1), "{reply:?}");
    assert!(reply.vary_cookie);
    assert_eq!(client.get("/read").await.body, "Some(\"kept\") None");
}

/// Issue 10, item 4, through the middleware: when one store fails to save, the response is the
/// error status and still carries the `Set-Cookie` headers of the sessions that committed (a
/// logout expires the other cookies; a regenerate sends the new id that was written) with the
/// cache headers they need; a regenerate runs no delete, so every old record stays. On each
/// framework (`frameworks.rs`).
pub(crate) async fn a_failing_store_does_not_drop_the_cookies_of_the_sessions_that_committed(on: Framework) {
    let (a, b) = (Probe::new(Arc::new(MemoryStore::new())), Probe::new(Arc::new(MemoryStore::new())));
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(SessionConfig::new("a").with_type(SessionType::Custom).with_fields(["user_id"]))
        .with_session(SessionConfig::new("b").with_type(SessionType::Custom).with_fields(["user_data"]));
    let manager =
        SessionManager::builder(config).with_store("a", a.clone()).with_store("b", b.clone()).build().await.unwrap();
    let mut client = Client::new(serve_with(on, &manager).await);
    client.post("/set/user_id", "1").await;
    client.post("/set/user_data", "2").await;
    client.post("/set/csrf_token", "\"t\"").await;
    let (old_a, old_b) = (client.cookie("a").unwrap(), client.cookie("b").unwrap());

    b.fail_save.store(true, Ordering::SeqCst);
    a.reset();
    let reply = client.clone().post("/regenerate", "").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.set_cookie_names(), ["a", "csrf"], "the sessions that committed");
    assert!(reply.vary_cookie);
    assert_eq!(*a.ops.lock().unwrap(), ["create"], "no delete after a failed write");
    assert!(a.inner.load(&format!("session:{old_a}")).await.unwrap().is_some());
    let new_a = reply.set_cookie("a").unwrap().split(';').next().unwrap().trim_start_matches("a=").to_owned();
    assert_eq!(a.inner.load(&format!("session:{new_a}")).await.unwrap().unwrap().fields["user_id"], 1);

    let reply = client.post("/clear", "").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.set_cookie_names(), ["a", "b", "csrf"], "removals are always sent");
    assert!(reply.set_cookies.iter().all(|c| c.contains("Max-Age=0")), "{:?}", reply.set_cookies);
    assert!(a.inner.load(&format!("session:{old_a}")).await.unwrap().is_none(), "the working store logged out");
    assert!(b.inner.load(&format!("session:{old_b}")).await.unwrap().is_some(), "the failed delete left it");
}

/// Issue 14, item 2: a field declared once with its type is read and written over HTTP without
/// repeating either, and a declared field that no session lists stops the start-up.
#[tokio::test]
async fn typed_fields_round_trip_and_a_declared_typo_stops_the_start() {
    use axum::routing::{get, post};
    use session_plus::session::{self, Field};
    use session_plus::Session;

    const VISITS: Field<u64> = Field::new("visits");
    const THEME: Field<String> = Field::new("theme");

    let config = || {
        Config::new()
            .with_secret_key(SECRET)
            .with_session(SessionConfig::new("data").with_fields(["visits", "theme"]))
            .with_session(SessionConfig::new("rest").with_field_selector(FieldSelector::Auto))
    };
    let error = SessionManager::builder(config()).with_declared_fields(["visits", "thme"]).build().await.unwrap_err();
    assert!(error.to_string().contains("`thme`"), "{error}");

    let manager =
        SessionManager::builder(config()).with_declared_fields([VISITS.name(), THEME.name()]).build().await.unwrap();
    async fn visit(session: Session) -> Result<String, session::Error> {
        let visits = session.get_field(&VISITS).await?.unwrap_or(0) + 1;
        session.insert_field(&VISITS, visits).await?;
        session.insert_field(&THEME, "dark").await?;
        Ok(visits.to_string())
    }
    async fn theme(session: Session) -> Result<String, session::Error> {
        Ok(session.remove_field(&THEME).await?.unwrap_or_default())
    }
    let app = axum::Router::new().route("/visit", post(visit)).route("/theme", get(theme)).layer(manager.layer());
    let mut client = Client::new(common::serve_router(app).await);
    assert_eq!(client.post("/visit", "").await.body, "1");
    assert_eq!(client.post("/visit", "").await.body, "2");
    assert_eq!(client.get("/theme").await.body, "dark");
}
