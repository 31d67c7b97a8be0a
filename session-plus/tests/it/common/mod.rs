//! Test harness: a real server on 127.0.0.1, a client that keeps cookies, a store wrapper that
//! counts calls and injects faults, and the conformance suite every store runs.
#![allow(dead_code, unreachable_pub, missing_docs)]

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "flask")]
pub mod python;
pub mod suite;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};
use session_plus::clock::ManualClock;
use session_plus::store::{self, CasOutcome, Record, SessionStore, Update};
use session_plus::{session, Config, Session, SessionManager};

pub const SECRET: &str = "a test secret that is at least thirty-two bytes";
pub const T0: i64 = 1_700_000_000;

/// The framework a test app runs on. The cases of `frameworks.rs` run on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    Axum,
    #[cfg(feature = "actix")]
    Actix,
}

/// The routes every test app serves, on axum; `actix::routes` serves the same on actix-web. What
/// each route does is written once, below; the routes only extract and answer.
pub fn routes() -> Router {
    Router::new()
        .route(
            "/get/{field}",
            get(|session: Session, Path(field): Path<String>| async move {
                get_field(session, field).await.map(Json)
            }),
        )
        .route(
            "/set/{field}",
            post(|session: Session, Path(field): Path<String>, body: String| set_field(session, field, body)),
        )
        .route(
            "/remove/{field}",
            post(|session: Session, Path(field): Path<String>| async move {
                remove_field(session, field).await.map(Json)
            }),
        )
        .route(
            "/incr/{field}",
            post(|session: Session, Path(field): Path<String>| async move { increment(session, field).await.map(Json) }),
        )
        .route("/clear", post(clear))
        .route("/regenerate", post(regenerate))
        .route("/login/{user}", post(|session: Session, Path(user): Path<String>| login(session, user)))
        .route(
            "/permanent/{name}/{on}",
            post(|session: Session, Path((name, on)): Path<(String, bool)>| permanent(session, name, on)),
        )
        .route("/fields", get(|session: Session| async move { fields(session).await.map(Json) }))
        .route("/nothing", get(|| async { "nothing" }))
}

pub async fn get_field(session: Session, field: String) -> Result<Value, session::Error> {
    Ok(session.get_value(&field).await?.unwrap_or(Value::Null))
}

pub async fn set_field(session: Session, field: String, body: String) -> Result<&'static str, session::Error> {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    session.insert_value(&field, value).await?;
    Ok("ok")
}

pub async fn remove_field(session: Session, field: String) -> Result<Value, session::Error> {
    Ok(session.remove_value(&field).await?.unwrap_or(Value::Null))
}

/// An atomic increment (`Session::update`): the new count.
pub async fn increment(session: Session, field: String) -> Result<u64, session::Error> {
    session.update(&field, |n: Option<u64>| n.unwrap_or(0) + 1).await
}

pub async fn clear(session: Session) -> Result<&'static str, session::Error> {
    session.clear().await?;
    Ok("cleared")
}

/// A login: the user id in the session, a new id, and the tie to the user.
pub async fn login(session: Session, user: String) -> Result<&'static str, session::Error> {
    session.insert("user_id", &user).await?;
    session.regenerate().await?;
    session.set_user(&user).await?;
    Ok("logged in")
}

pub async fn regenerate(session: Session) -> Result<&'static str, session::Error> {
    session.regenerate().await?;
    Ok("regenerated")
}

pub async fn permanent(session: Session, name: String, on: bool) -> Result<&'static str, session::Error> {
    session.set_permanent(&name, on).await?;
    Ok("ok")
}

pub async fn fields(session: Session) -> Result<Map<String, Value>, session::Error> {
    session.fields().await
}

/// `POST /held/{action}`: loads `user_id` (then, for `regenerate`, regenerates), waits for the
/// gate's release, then (for `set`) sets the field `late` to 1.
pub async fn held(session: Session, action: String, gate: Gate) -> Result<&'static str, session::Error> {
    session.get_value("user_id").await?;
    if action == "regenerate" {
        session.regenerate().await?;
    }
    gate.reached.notify_one();
    gate.release.notified().await;
    if action == "set" {
        session.insert("late", 1).await?;
    }
    Ok("done")
}

/// Serves `manager` with the test routes on an ephemeral loopback port, on axum.
pub async fn serve(manager: &SessionManager) -> SocketAddr {
    serve_with(Framework::Axum, manager).await
}

/// Serves `manager` with the test routes on an ephemeral loopback port, on `framework`.
pub async fn serve_with(framework: Framework, manager: &SessionManager) -> SocketAddr {
    match framework {
        Framework::Axum => serve_router(routes().layer(manager.layer())).await,
        #[cfg(feature = "actix")]
        Framework::Actix => actix::serve(manager, None).await,
    }
}

pub async fn serve_router(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A handler the test holds between its load and its end, to interleave other requests there.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// Notified once the held handler has loaded the session.
    pub reached: Arc<tokio::sync::Notify>,
    /// The held handler waits for this before it ends.
    pub release: Arc<tokio::sync::Notify>,
}

/// Serves the test routes plus `POST /held/{action}` ([`held`]) on `framework`.
pub async fn serve_held(framework: Framework, manager: &SessionManager, gate: Gate) -> SocketAddr {
    match framework {
        Framework::Axum => {
            let held = move |session: Session, Path(action): Path<String>| held(session, action, gate.clone());
            serve_router(routes().route("/held/{action}", post(held)).layer(manager.layer())).await
        }
        #[cfg(feature = "actix")]
        Framework::Actix => actix::serve(manager, Some(gate)).await,
    }
}

/// Builds a manager over `config` with `store` for the session named "session" and a manual clock.
pub async fn manager(config: Config, store: Arc<dyn SessionStore>, clock: &ManualClock) -> SessionManager {
    SessionManager::builder(config)
        .with_store("session", store)
        .with_clock(clock.clone())
        .without_purge_tasks()
        .build()
        .await
        .expect("valid test configuration")
}

/// A response, with what the tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub vary_cookie: bool,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().find(|c| c.starts_with(&format!("{name}="))).map(String::as_str)
    }

    pub fn set_cookie_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.set_cookies.iter().map(|c| c.split('=').next().unwrap_or_default().to_owned()).collect();
        names.sort();
        names
    }
}

/// An HTTP client over TCP with a cookie jar the tests can read and tamper with.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    pub jar: BTreeMap<String, String>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Self { http: reqwest::Client::new(), base: format!("http://{addr}"), jar: BTreeMap::new() }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.get(name).cloned()
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, body: impl Into<String>) -> Reply {
        let request = self.http.post(format!("{}{path}", self.base)).body(body.into());
        self.send(request).await
    }

    /// Sends without updating the jar (to replay old cookies, or race requests).
    pub async fn post_detached(&self, path: &str, body: impl Into<String>) -> Reply {
        let request = self.http.post(format!("{}{path}", self.base)).body(body.into());
        self.clone().send(request).await
    }

    async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Reply {
        if !self.jar.is_empty() {
            let header: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        let response = request.send().await.expect("the test server answers");
        let status = response.status().as_u16();
        let set_cookies: Vec<String> =
            response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let vary_cookie = response.headers().get_all("vary").iter().any(|v| v.to_str().unwrap().contains("Cookie"));
        for cookie in &set_cookies {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Reply { status, set_cookies, vary_cookie, body }
    }
}

/// A request's calls to its store, by kind (round trips, issue 11 item 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub load: usize,
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.load + self.create + self.update + self.delete
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { load, create, update, delete } = self;
        write!(f, "load {load}, create {create}, update {update}, delete {delete} (total {})", self.total())
    }
}

/// Wraps a store: counts calls, injects failures, and can make loads meet at a barrier.
#[derive(Debug)]
pub struct Probe {
    pub inner: Arc<dyn SessionStore>,
    pub loads: AtomicUsize,
    pub writes: AtomicUsize,
    pub fail_load: AtomicBool,
    pub fail_save: AtomicBool,
    pub load_barrier: Option<Arc<tokio::sync::Barrier>>,
    /// The writes, in order: "create", "update", "delete".
    pub ops: Mutex<Vec<&'static str>>,
}

impl Probe {
    pub fn new(inner: Arc<dyn SessionStore>) -> Arc<Self> {
        Arc::new(Self::plain(inner))
    }

    pub fn plain(inner: Arc<dyn SessionStore>) -> Self {
        Self {
            inner,
            loads: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            fail_load: AtomicBool::new(false),
            fail_save: AtomicBool::new(false),
            load_barrier: None,
            ops: Mutex::new(Vec::new()),
        }
    }

    pub fn calls(&self) -> usize {
        self.loads.load(Ordering::SeqCst) + self.writes.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.loads.store(0, Ordering::SeqCst);
        self.writes.store(0, Ordering::SeqCst);
        self.ops.lock().unwrap().clear();
    }

    /// The calls counted since the last reset, by kind; starts again from zero.
    pub fn take(&self) -> Counts {
        let ops = std::mem::take(&mut *self.ops.lock().unwrap());
        let count = |op: &str| ops.iter().filter(|&&done| done == op).count();
        self.writes.store(0, Ordering::SeqCst);
        let load = self.loads.swap(0, Ordering::SeqCst);
        Counts { load, create: count("create"), update: count("update"), delete: count("delete") }
    }

    fn write(&self, op: &'static str) -> store::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.ops.lock().unwrap().push(op);
        if self.fail_save.load(Ordering::SeqCst) {
            return Err(store::Error::Backend("injected save failure".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for Probe {
    async fn load(&self, key: &str) -> store::Result<Option<Record>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        if self.fail_load.load(Ordering::SeqCst) {
            return Err(store::Error::Backend("injected load failure".into()));
        }
        if let Some(barrier) = &self.load_barrier {
            // Both loads must be in flight at once to pass; one at a time never meets.
            tokio::time::timeout(Duration::from_secs(5), barrier.wait())
                .await
                .map_err(|_| store::Error::Backend("loads did not run concurrently".into()))?;
        }
        self.inner.load(key).await
    }

    async fn create(&self, key: &str, record: &Record) -> store::Result<bool> {
        self.write("create")?;
        self.inner.create(key, record).await
    }

    async fn update(&self, key: &str, update: &Update) -> store::Result<bool> {
        self.write("update")?;
        self.inner.update(key, update).await
    }

    async fn delete(&self, key: &str) -> store::Result<bool> {
        self.write("delete")?;
        self.inner.delete(key).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> store::Result<CasOutcome> {
        self.write("compare_and_set")?;
        self.inner.compare_and_set(key, field, expected, new, expires_at).await
    }

    async fn purge_expired(&self, now: i64) -> store::Result<u64> {
        self.inner.purge_expired(now).await
    }

    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }
}

/// Everything logged by any test of this binary, to check that no id or cookie value leaks.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

#[derive(Clone)]
struct BufferWriter;

impl std::io::Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once per test binary (debug level, so nothing is hidden).
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            // Each span's fields once, when it closes: checked for ids and values like events.
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_writer(|| BufferWriter)
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// A fresh SQLite file path under the system's temporary directory.
pub fn temp_db_path() -> String {
    let id = session_plus::session::Id::random().unwrap();
    std::env::temp_dir().join(format!("session-plus-{}.db", &id.as_str()[..16])).display().to_string()
}

/// Runs the conformance suite once for a store: one line per store in `stores.rs`.
///
/// `store_suite!(name, make)` runs every test of the suite, listed here once;
/// `store_suite!(name, make, only [test, ...])` runs the listed ones, for a store whose semantics
/// exclude the others (the caller says why).
macro_rules! store_suite {
    ($name:ident, $make:expr) => {
        store_suite!($name, $make, only [
            routing_round_trip,
            lazy_loading_and_round_trips,
            strict_ids,
            malformed_ids_never_reach_the_store,
            regeneration,
            idle_expiry_and_refresh,
            absolute_expiry,
            permanence,
            clear_logs_out_everywhere,
            concurrent_different_fields_survive,
            faults_give_errors_and_recover,
            empty_visitors_cost_nothing,
            store_contract,
            ending_a_users_sessions,
            regenerate_never_resurrects_a_logout,
            a_stale_request_keeps_newer_permanence,
            compare_and_set_contract,
            concurrent_increments_lose_nothing,
        ]);
    };
    ($name:ident, $make:expr, only [$($test:ident),+ $(,)?]) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use crate::common::suite;

            async fn make() -> Arc<dyn SessionStore> {
                $make.await
            }

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    suite::$test(make().await, crate::common::Framework::Axum).await
                }
            )+
        }
    };
}
