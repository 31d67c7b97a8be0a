//! The conformance suite: every behaviour a server-side store must show, end to end over TCP.
//!
//! Configuration: `csrf` (signed cookie, `csrf_token`), `session` (the store under test, "auto",
//! idle lifetime one hour) and `data` (signed cookie, `theme` and `lang`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use session_plus::clock::ManualClock;
use session_plus::session::Id;
use session_plus::store::{Record, SessionStore, Update};
use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};

use session_plus::clock::{Clock, SystemClock};

use super::{capture_logs, captured_logs, manager, serve_held, serve_with, Client, Framework, Gate, Probe, SECRET};

mod atomic;
pub use atomic::{atomic_updates_are_refused_clearly, compare_and_set_contract, concurrent_increments_lose_nothing};

const LIFETIME: u64 = 3600;

pub struct Ctx {
    pub store: Arc<dyn SessionStore>,
    pub probe: Arc<Probe>,
    pub clock: ManualClock,
    pub manager: SessionManager,
    pub client: Client,
    /// Where the app under test listens, for more clients.
    pub addr: std::net::SocketAddr,
    /// The start time: the real time, so stores with native expiry keep the records.
    pub t0: i64,
    /// The framework the app under test runs on.
    pub on: Framework,
}

impl Ctx {
    pub async fn record(&self, id: &str) -> Option<Record> {
        self.store.load(&format!("session:{id}")).await.unwrap()
    }

    pub fn id(&self) -> String {
        self.client.cookie("session").expect("a session cookie")
    }
}

pub fn config(tweak: impl FnOnce(SessionConfig) -> SessionConfig) -> Config {
    let session = SessionConfig::new("session")
        .with_type(SessionType::Custom)
        .with_field_selector(FieldSelector::Auto)
        .with_lifetime(Duration::from_secs(LIFETIME));
    Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(tweak(session))
        .with_session(SessionConfig::new("data").with_fields(["theme", "lang"]))
}

/// Serves the suite's configuration over `store` on the framework `on`.
pub async fn setup(
    on: Framework,
    store: Arc<dyn SessionStore>,
    tweak: impl FnOnce(SessionConfig) -> SessionConfig,
) -> Ctx {
    capture_logs();
    let probe = Probe::new(store.clone());
    let t0 = SystemClock.now();
    let clock = ManualClock::new(t0);
    let manager = manager(config(tweak), probe.clone(), &clock).await;
    let addr = serve_with(on, &manager).await;
    Ctx { store, probe, clock, manager, client: Client::new(addr), addr, t0, on }
}

pub async fn routing_round_trip(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    assert_eq!(ctx.client.post("/set/user_id", "42").await.set_cookie_names(), ["session"]);
    assert_eq!(ctx.client.post("/set/csrf_token", "\"tok\"").await.set_cookie_names(), ["csrf"]);
    assert_eq!(ctx.client.post("/set/theme", "\"dark\"").await.set_cookie_names(), ["data"]);
    let record = ctx.record(&ctx.id()).await.expect("a record");
    assert_eq!(Value::Object(record.fields), json!({"user_id": 42}), "only the store's fields go to the store");
    assert_eq!(ctx.client.get("/fields").await.json(), json!({"csrf_token": "tok", "theme": "dark", "user_id": 42}));

    // Nested values are replaced whole, never merged.
    ctx.client.post("/set/user_data", r#"{"a": {"b": 1}, "list": [1, 2]}"#).await;
    ctx.client.post("/set/user_data", r#"{"a": {"c": 2}}"#).await;
    assert_eq!(ctx.client.get("/get/user_data").await.json(), json!({"a": {"c": 2}}));
    // JSON null is a value like any other.
    ctx.client.post("/set/nothing_here", "null").await;
    assert_eq!(ctx.record(&ctx.id()).await.unwrap().fields.get("nothing_here"), Some(&Value::Null));

    // Removing the last field of a cookie session expires its cookie.
    let reply = ctx.client.post("/remove/theme", "").await;
    assert_eq!(reply.json(), json!("dark"));
    assert!(reply.set_cookie("data").unwrap().contains("Max-Age=0"));
    assert_eq!(ctx.client.cookie("data"), None);
    assert_eq!(ctx.client.get("/get/theme").await.json(), Value::Null);
}

pub async fn lazy_loading_and_round_trips(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    ctx.client.post("/set/user_id", "1").await;
    ctx.client.post("/set/csrf_token", "\"t\"").await;
    ctx.probe.reset();

    // Only the csrf cookie is used: the store is never contacted.
    assert_eq!(ctx.client.get("/get/csrf_token").await.json(), json!("t"));
    assert_eq!(ctx.client.get("/nothing").await.body, "nothing");
    assert_eq!(ctx.probe.calls(), 0, "a request that does not use the store must not touch it");

    // A read costs one round trip; a read and a write, two.
    assert_eq!(ctx.client.get("/get/user_id").await.json(), json!(1));
    assert_eq!((ctx.probe.loads.load(Ordering::SeqCst), ctx.probe.writes.load(Ordering::SeqCst)), (1, 0));
    ctx.probe.reset();
    ctx.client.post("/set/user_id", "2").await;
    assert_eq!((ctx.probe.loads.load(Ordering::SeqCst), ctx.probe.writes.load(Ordering::SeqCst)), (1, 1));
}

pub async fn strict_ids(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    let foreign = Id::random().unwrap().as_str().to_owned();
    ctx.client.jar.insert("session".into(), foreign.clone());

    // Reading with an unknown id creates nothing.
    let reply = ctx.client.get("/get/user_id").await;
    assert_eq!(reply.json(), Value::Null);
    assert!(reply.set_cookie("session").is_none());

    // Writing gets a fresh id; the client's id never gets a record.
    let reply = ctx.client.post("/set/user_id", "7").await;
    assert!(reply.set_cookie("session").is_some());
    let issued = ctx.id();
    assert_ne!(issued, foreign);
    assert!(Id::parse(&issued).is_some());
    assert!(ctx.record(&foreign).await.is_none());
    assert_eq!(ctx.record(&issued).await.unwrap().fields["user_id"], 7);
}

pub async fn malformed_ids_never_reach_the_store(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    let long = "a".repeat(10_000);
    let valid = Id::random().unwrap().as_str().to_owned();
    let non_ascii = format!("{}é", &valid[..41]);
    for bad in ["admin", "sessionadmin", "../x", "*", "%0d%0a", "", long.as_str(), non_ascii.as_str()] {
        ctx.probe.reset();
        ctx.client.jar.clear();
        ctx.client.jar.insert("session".into(), bad.to_owned());
        let reply = ctx.client.get("/get/user_id").await;
        assert_eq!((reply.status, reply.json()), (200, Value::Null), "{bad:?}");
        assert_eq!(ctx.probe.calls(), 0, "id {bad:?} reached the store");
        let reply = ctx.client.post("/set/user_id", "1").await;
        assert_eq!(reply.status, 200);
        assert_eq!(ctx.probe.loads.load(Ordering::SeqCst), 0, "id {bad:?} was looked up");
        assert!(Id::parse(&ctx.id()).is_some());
    }
}

pub async fn regeneration(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    ctx.client.post("/set/user_id", "1").await;
    ctx.client.post("/set/csrf_token", "\"t\"").await;
    let old_id = ctx.id();
    let old_csrf = ctx.client.cookie("csrf").unwrap();
    ctx.clock.advance(Duration::from_secs(1));
    ctx.probe.reset();

    let reply = ctx.client.post("/regenerate", "").await;
    assert_eq!(reply.status, 200);
    let new_id = ctx.id();
    assert_ne!(new_id, old_id);
    assert_ne!(ctx.client.cookie("csrf").unwrap(), old_csrf, "cookie sessions are re-issued too");
    assert_eq!(*ctx.probe.ops.lock().unwrap(), ["create", "delete"], "new record first, then the old one goes");
    assert!(ctx.record(&old_id).await.is_none());
    assert_eq!(ctx.record(&new_id).await.unwrap().fields["user_id"], 1);
    assert_eq!(ctx.client.get("/fields").await.json(), json!({"csrf_token": "t", "user_id": 1}));

    let mut replay = ctx.client.clone();
    replay.jar.insert("session".into(), old_id);
    assert_eq!(replay.get("/get/user_id").await.json(), Value::Null, "the old id is anonymous");
}

pub async fn idle_expiry_and_refresh(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    let t0 = ctx.t0;
    ctx.client.post("/set/user_id", "1").await;
    let id = ctx.id();
    assert_eq!(ctx.record(&id).await.unwrap().expires_at, t0 + LIFETIME as i64);

    // Used soon after a write: no write at all.
    ctx.clock.advance(Duration::from_secs(100));
    ctx.probe.reset();
    assert_eq!(ctx.client.get("/get/user_id").await.json(), json!(1));
    assert_eq!(ctx.probe.writes.load(Ordering::SeqCst), 0, "refresh must not write on every request");

    // Used just before expiry: still valid, and the expiry slides.
    ctx.clock.set(t0 + LIFETIME as i64 - 1);
    assert_eq!(ctx.client.get("/get/user_id").await.json(), json!(1));
    let slid = ctx.record(&id).await.unwrap().expires_at;
    assert_eq!(slid, t0 + 2 * LIFETIME as i64 - 1);

    // Idle past the lifetime: anonymous; new data gets a new id; the old record goes.
    ctx.clock.set(slid + 1);
    assert_eq!(ctx.client.get("/get/user_id").await.json(), Value::Null);
    ctx.client.post("/set/user_id", "2").await;
    assert_ne!(ctx.id(), id);
    assert!(ctx.record(&id).await.is_none(), "the expired record is deleted, not reused");
}

pub async fn absolute_expiry(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| {
        s.with_lifetime(Duration::from_secs(60))
            .with_refresh_interval(Duration::from_secs(10))
            .with_absolute_lifetime(Duration::from_secs(100))
    })
    .await;
    let t0 = ctx.t0;
    ctx.client.post("/set/user_id", "1").await;
    for step in 1..=3 {
        ctx.clock.set(t0 + 30 * step);
        assert_eq!(ctx.client.get("/get/user_id").await.json(), json!(1), "at +{}", 30 * step);
    }
    ctx.clock.set(t0 + 101);
    assert_eq!(ctx.client.get("/get/user_id").await.json(), Value::Null, "past the absolute lifetime");
}

pub async fn permanence(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    let t0 = ctx.t0;
    ctx.client.post("/set/user_id", "1").await;
    let reply = ctx.client.post("/permanent/session/true", "").await;
    assert!(reply.set_cookie("session").unwrap().contains("Max-Age=2678400"), "{:?}", reply.set_cookies);
    let record = ctx.record(&ctx.id()).await.unwrap();
    assert!(record.permanent);
    assert_eq!(record.expires_at, t0 + 2_678_400);

    // Still permanent on the next request, and beyond the idle lifetime.
    ctx.clock.advance(Duration::from_secs(2 * LIFETIME));
    assert_eq!(ctx.client.get("/get/user_id").await.json(), json!(1));

    let reply = ctx.client.post("/permanent/session/false", "").await;
    assert!(!reply.set_cookie("session").unwrap().contains("Max-Age"), "back to a browser-session cookie");
    let record = ctx.record(&ctx.id()).await.unwrap();
    assert!(!record.permanent);
    assert_eq!(record.expires_at, t0 + 3 * LIFETIME as i64);
    assert_eq!(ctx.client.post("/permanent/nosuch/true", "").await.status, 500);
}

pub async fn clear_logs_out_everywhere(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    ctx.client.post("/set/user_id", "1").await;
    ctx.client.post("/set/csrf_token", "\"t\"").await;
    ctx.client.post("/set/theme", "\"dark\"").await;
    let before = ctx.client.clone();
    let id = ctx.id();

    let reply = ctx.client.post("/clear", "").await;
    assert_eq!(reply.set_cookie_names(), ["csrf", "data", "session"]);
    for cookie in &reply.set_cookies {
        assert!(cookie.contains("Max-Age=0") && cookie.contains("Path=/"), "{cookie}");
    }
    assert!(ctx.client.jar.is_empty());
    assert!(ctx.record(&id).await.is_none(), "the server record is gone");
    assert_eq!(ctx.client.get("/fields").await.json(), json!({}));

    // Replaying the old cookies: the server-side session stays dead.
    let mut replay = before;
    assert_eq!(replay.get("/get/user_id").await.json(), Value::Null);
}

pub async fn concurrent_different_fields_survive(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    ctx.client.post("/set/user_id", "1").await;
    let client = ctx.client.clone();
    let requests = (0..100).flat_map(|i| {
        let client = client.clone();
        let other = client.clone();
        [
            tokio::spawn(async move { client.post_detached(&format!("/set/a{i}"), i.to_string()).await.status }),
            tokio::spawn(async move { other.post_detached(&format!("/set/b{i}"), i.to_string()).await.status }),
        ]
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.into_iter().all(|s| s.unwrap() == 200));
    let fields = ctx.client.get("/fields").await.json();
    let fields = fields.as_object().unwrap();
    let lost: Vec<String> =
        (0..100).flat_map(|i| [format!("a{i}"), format!("b{i}")]).filter(|f| !fields.contains_key(f)).collect();
    assert!(lost.is_empty(), "lost updates: {lost:?}");
    assert_eq!(fields.len(), 201);
}

pub async fn faults_give_errors_and_recover(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    ctx.client.post("/set/user_id", "42").await;
    ctx.client.post("/set/csrf_token", "\"t\"").await;
    let id = ctx.id();
    let csrf = ctx.client.cookie("csrf").unwrap();

    ctx.probe.fail_load.store(true, Ordering::SeqCst);
    let reply = ctx.client.get("/get/user_id").await;
    assert_eq!(reply.status, 503);
    assert!(reply.set_cookies.is_empty(), "no cookie on a failed load");
    assert_eq!(ctx.client.get("/get/csrf_token").await.status, 200, "the cookie session still works");
    let reply = ctx.client.post("/clear", "").await;
    assert_eq!(reply.status, 200, "clear needs no load");
    ctx.probe.fail_load.store(false, Ordering::SeqCst);
    // The clear above did delete the record: log in again.
    ctx.client.post("/set/user_id", "42").await;
    let id_after = ctx.id();
    assert_ne!(id_after, id);

    ctx.probe.fail_save.store(true, Ordering::SeqCst);
    let reply = ctx.client.post("/set/user_id", "5").await;
    assert_eq!(reply.status, 500);
    assert!(reply.set_cookies.is_empty(), "no cookie on a failed save");
    ctx.probe.fail_save.store(false, Ordering::SeqCst);
    assert_eq!(ctx.client.get("/get/user_id").await.json(), json!(42), "nothing half-written");

    let logs = captured_logs();
    assert!(logs.contains("session store failed to load") && logs.contains("session store failed to save"));
    for secret in [&id, &id_after] {
        assert!(!logs.contains(secret.as_str()), "a session id leaked into the logs");
    }
    assert!(!logs.contains(&csrf), "a cookie value leaked into the logs");
}

pub async fn empty_visitors_cost_nothing(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    for _ in 0..25 {
        for path in ["/get/user_id", "/get/csrf_token", "/fields", "/nothing"] {
            let reply = ctx.client.get(path).await;
            assert!(reply.set_cookies.is_empty(), "{path}: {:?}", reply.set_cookies);
            assert_eq!(reply.vary_cookie, path != "/nothing", "{path}");
        }
    }
    assert_eq!(ctx.probe.calls(), 0, "no cookie, nothing to load, nothing to write");
    // Setting then removing a field within one visit leaves nothing behind either.
    ctx.client.post("/remove/user_id", "").await;
    assert!(ctx.client.jar.is_empty());
    assert_eq!(ctx.probe.writes.load(Ordering::SeqCst), 0);
}

/// A loaded record, its creation time checked: kept exactly (`t0`) by every store but the Python
/// formats of `FlaskStore`, which keep none and report the load's own time (a load may fall in
/// a later second than `t0`, so that time is checked to lie between `t0` and now).
async fn load_checked(store: &dyn SessionStore, key: &str, t0: i64) -> Record {
    creation_checked(store, store.load(key).await.unwrap().unwrap(), t0)
}

/// A loaded record, its creation time checked as [`load_checked`] does.
fn creation_checked(store: &dyn SessionStore, mut loaded: Record, t0: i64) -> Record {
    if store.backend_name().contains("flask-session") {
        assert!((t0..=SystemClock.now()).contains(&loaded.created_at), "created_at {}", loaded.created_at);
        loaded.created_at = t0;
    }
    loaded
}

/// The store alone, no HTTP: the framework does not matter.
pub async fn store_contract(store: Arc<dyn SessionStore>, _: Framework) {
    let t0 = SystemClock.now();
    let mut fields = serde_json::Map::new();
    fields.insert("a".into(), json!({"x": [1, 2]}));
    let record = Record { fields, created_at: t0, expires_at: t0 + 10, permanent: false };
    let key = format!("session:{}", Id::random().unwrap().as_str());
    assert!(store.create(&key, &record).await.unwrap());
    let mut other = record.clone();
    other.fields.insert("b".into(), json!(1));
    assert!(!store.create(&key, &other).await.unwrap(), "create never overwrites");
    assert_eq!(load_checked(store.as_ref(), &key, t0).await, record);
    // The record with its fields unparsed (a store may hand over its text) is the same record.
    let unparsed = store.load_unparsed(&key).await.unwrap().expect("the record, unparsed");
    // (Two loads of a Python format each report their own time: checked, not compared.)
    let parsed = creation_checked(store.as_ref(), unparsed.parse().unwrap(), t0);
    assert_eq!(parsed, load_checked(store.as_ref(), &key, t0).await);
    assert!(store.load_unparsed(&format!("{key}-none")).await.unwrap().is_none());

    let mut update = Update { expires_at: t0 + 20, permanent: Some(true), ..Update::default() };
    update.set.insert("b".into(), json!("two"));
    update.remove.push("a".into());
    assert!(store.update(&key, &update).await.unwrap());
    let loaded = load_checked(store.as_ref(), &key, t0).await;
    assert_eq!(Value::Object(loaded.fields), json!({"b": "two"}));
    assert_eq!((loaded.expires_at, loaded.permanent, loaded.created_at), (t0 + 20, true, t0));
    let missing = format!("session:{}", Id::random().unwrap().as_str());
    assert!(!store.update(&missing, &update).await.unwrap(), "update never creates");
    assert!(store.load(&missing).await.unwrap().is_none());

    // Without a new permanence, the stored one stays and the expiry never moves backwards; with
    // one, both are set as given.
    let stale = Update { expires_at: t0 + 15, ..Update::default() };
    assert!(store.update(&key, &stale).await.unwrap());
    let loaded = load_checked(store.as_ref(), &key, t0).await;
    assert_eq!((loaded.expires_at, loaded.permanent), (t0 + 20, true), "a stale update shortened the record");
    assert!(store.update(&key, &Update { expires_at: t0 + 25, ..Update::default() }).await.unwrap());
    assert_eq!(load_checked(store.as_ref(), &key, t0).await.expires_at, t0 + 25, "a later expiry is kept");
    let off = Update { expires_at: t0 + 15, permanent: Some(false), ..Update::default() };
    assert!(store.update(&key, &off).await.unwrap());
    let loaded = load_checked(store.as_ref(), &key, t0).await;
    assert_eq!((loaded.expires_at, loaded.permanent), (t0 + 15, false), "a new permanence sets both");

    // `delete` tells whether there was a record.
    assert!(!store.delete(&missing).await.unwrap(), "nothing to delete");
    let gone = format!("session:{}", Id::random().unwrap().as_str());
    assert!(store.create(&gone, &record).await.unwrap());
    assert!(store.delete(&gone).await.unwrap(), "a record deleted");
    assert!(!store.delete(&gone).await.unwrap(), "already gone");
    if store.expires_natively() {
        return; // such a store proves real expiry in a test of its own
    }
    // Purge removes what expired at or before `now`, and nothing else.
    let mut keys = Vec::new();
    for i in 0..20 {
        let key = format!("session:{}", Id::random().unwrap().as_str());
        let expires_at = if i % 2 == 0 { t0 + 5 } else { t0 + 1000 };
        assert!(store.create(&key, &Record { expires_at, ..record.clone() }).await.unwrap());
        keys.push((key, expires_at));
    }
    let purged = store.purge_expired(t0 + 20).await.unwrap();
    assert!(purged >= 11, "purged {purged}"); // the 10 short ones and `key` (expires at +20)
    for (key, expires_at) in keys {
        assert_eq!(store.load(&key).await.unwrap().is_some(), expires_at > t0 + 20);
    }
    assert!(!store.delete(&missing).await.unwrap());
}

/// Issue 10, item 3: a request holds the session between its load (and `regenerate()`) and its
/// save while a logout of the same session completes: the held request must not bring the
/// logged-out data back under a new id. Its response carries no live id, and no record of it
/// exists.
pub async fn regenerate_never_resurrects_a_logout(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    ctx.client.post("/set/user_id", "1").await;
    let old_id = ctx.id();
    let gate = Gate::default();
    let mut held = Client::new(serve_held(ctx.on, &ctx.manager, gate.clone()).await);
    held.jar = ctx.client.jar.clone();
    let regenerating = tokio::spawn(async move { held.post("/held/regenerate", "").await });
    gate.reached.notified().await;

    let logout = ctx.client.post("/clear", "").await;
    assert_eq!(logout.status, 200);
    assert!(ctx.record(&old_id).await.is_none());
    gate.release.notify_one();

    let reply = regenerating.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    if let Some(cookie) = reply.set_cookie("session") {
        let value = cookie.split(';').next().unwrap().trim_start_matches("session=");
        assert!(ctx.record(value).await.is_none(), "the logged-out session came back under a new id");
        assert!(cookie.contains("Max-Age=0"), "a live id after the logout: {cookie}");
    }
    assert!(ctx.record(&old_id).await.is_none(), "the old record stays deleted");
}

/// Issue 10, item 6: a request that loaded the session before another made it permanent, and then
/// writes a field, keeps the other's permanence and its longer expiry.
pub async fn a_stale_request_keeps_newer_permanence(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    let t0 = ctx.t0;
    ctx.client.post("/set/user_id", "1").await;
    let gate = Gate::default();
    let mut held = Client::new(serve_held(ctx.on, &ctx.manager, gate.clone()).await);
    held.jar = ctx.client.jar.clone();
    let stale = tokio::spawn(async move { held.post("/held/set", "").await });
    gate.reached.notified().await;

    let reply = ctx.client.post("/permanent/session/true", "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(ctx.record(&ctx.id()).await.unwrap().expires_at, t0 + 2_678_400);
    gate.release.notify_one();
    assert_eq!(stale.await.unwrap().status, 200);

    let record = ctx.record(&ctx.id()).await.unwrap();
    assert_eq!(record.fields["late"], 1, "the stale request's field is written");
    assert!(record.permanent, "the stale request turned permanence off again");
    // Stores that keep a time to live in whole seconds may round it by one.
    assert!((record.expires_at - (t0 + 2_678_400)).abs() <= 1, "expiry shortened to {}", record.expires_at - t0);
}

/// Issue 10, item 2 (promise 23): ending a user's sessions ends all of them, on this store,
/// concurrent ones included, and no other user's; a user's record that expired (here: deleted)
/// does not let a tied session escape a later end.
pub async fn ending_a_users_sessions(store: Arc<dyn SessionStore>, on: Framework) {
    let ctx = setup(on, store, |s| s).await;
    // Names of their own: several stores of this suite share one server and key prefix.
    let tail = Id::random().unwrap().as_str()[..12].to_owned();
    let (alice_name, bob_name) = (format!("alice-{tail}"), format!("bob-{tail}"));
    let alice_login = format!("/login/{alice_name}");
    let addr = ctx.addr;
    let mut alice: Vec<Client> = (0..3).map(|_| Client::new(addr)).collect();
    let mut bob = Client::new(addr);
    let logins = alice.iter_mut().map(|client| client.post(&alice_login, ""));
    for reply in futures_util::future::join_all(logins).await {
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    assert_eq!(bob.post(&format!("/login/{bob_name}"), "").await.status, 200);
    for client in alice.iter_mut().chain([&mut bob]) {
        client.post("/set/theme", "\"dark\"").await;
        assert!(client.get("/get/user_id").await.json().is_string(), "logged in");
    }
    // Fields a handler can neither see nor write.
    assert_eq!(alice[0].get("/fields").await.json().get("_sp_user"), None);
    assert_eq!(alice[0].post("/set/_sp_user", "1").await.status, 500);

    ctx.manager.end_user_sessions(&alice_name).await.unwrap();
    for client in &mut alice {
        assert_eq!(client.get("/get/user_id").await.json(), Value::Null, "ended");
    }
    assert_eq!(bob.get("/get/user_id").await.json(), json!(bob_name), "another user's session lives on");
    assert_eq!(bob.get("/get/theme").await.json(), json!("dark"));

    // alice logs in again: a fresh session, not ended by the past.
    let mut again = Client::new(addr);
    assert_eq!(again.post(&alice_login, "").await.status, 200);
    assert_eq!(again.get("/get/user_id").await.json(), json!(alice_name));

    // Her user record is lost (expired); her live session is still reached by the next end.
    let user_key = format!("session:user:{}", base64_url(&alice_name));
    ctx.store.delete(&user_key).await.unwrap();
    assert_eq!(again.get("/get/user_id").await.json(), json!(alice_name), "losing the record ends nothing");
    ctx.manager.end_user_sessions(&alice_name).await.unwrap();
    assert_eq!(again.get("/get/user_id").await.json(), Value::Null);
    assert_eq!(bob.get("/get/user_id").await.json(), json!(bob_name));
    // Users' records outlive their sessions; these are the test's own.
    ctx.store.delete(&user_key).await.unwrap();
    ctx.store.delete(&format!("session:user:{}", base64_url(&bob_name))).await.unwrap();
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
