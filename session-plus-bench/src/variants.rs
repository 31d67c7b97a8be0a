//! The servers under test: the same routes (`POST /setup`, `GET /hit`, `GET /read`, `GET /csrf`)
//! on every variant, so that only the session layer differs.
//!
//! Every route answers 409 when the session it expects is missing, so a cookie that a variant
//! does not accept shows up as errors under load rather than as a fast empty response.

use std::str::FromStr;
use std::time::Duration;

use axum::extract::{FromRef, Path};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, Key, SignedCookieJar};
use session_plus::session::Stage;
use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};

/// The secret of every variant that signs: a fixed 64-byte literal, for benchmarks only.
pub(crate) const SECRET: &str = "session-plus-bench: a fixed 64-byte secret, for benchmarks only!";
const _: () = assert!(SECRET.len() == 64);

/// The CSRF token `/setup` stores and `/csrf` returns (43 characters, like a real token).
pub(crate) const CSRF_TOKEN: &str = "q3Vx1b2LZr7dT0wYc9uKfH4mN8pS6aJe5oGiQ2lWxRk";

/// The test script's Redis Cluster (scripts/services.sh), unless `SESSION_PLUS_REDIS_CLUSTER_URL`
/// names another.
const DEFAULT_CLUSTER: &str = "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103";

/// How long `sp-redis-cluster-wait` waits for a replica to confirm a write (`redis_wait_timeout`).
pub(crate) const WAIT_TIMEOUT: Duration = Duration::from_millis(100);

/// One server variant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Variant {
    /// The name on the command line (`--variant`, `--variants`).
    pub(crate) name: &'static str,
    /// The name in the results table.
    pub(crate) label: &'static str,
    /// The tower-sessions variant a session-plus variant is compared with.
    pub(crate) tower_sessions: Option<&'static str>,
    /// Whether the variant needs Redis.
    pub(crate) redis: bool,
    /// Whether `run` leaves it out unless `--variants` names it: it needs a server of its own
    /// (MongoDB, the Firestore emulator), reached at the URL of the test script's variables.
    pub(crate) opt_in: bool,
}

const fn variant(name: &'static str, label: &'static str) -> Variant {
    Variant { name, label, tower_sessions: None, redis: false, opt_in: false }
}

/// Every variant, in the order each round runs them.
pub(crate) const VARIANTS: &[Variant] = &[
    variant("axum", "bare axum"),
    variant("signed-jar", "axum-extra SignedCookieJar"),
    variant("ts-memory", "tower-sessions MemoryStore"),
    Variant { tower_sessions: Some("ts-memory"), ..variant("sp-memory", "session-plus memory") },
    Variant { tower_sessions: Some("ts-memory"), ..variant("sp-memory-bound", "session-plus memory, csrf bound") },
    Variant {
        tower_sessions: Some("ts-memory"),
        opt_in: true,
        ..variant("sp-memory-1", "session-plus memory, 1 session")
    },
    Variant {
        tower_sessions: Some("ts-memory"),
        opt_in: true,
        ..variant("sp-memory-10", "session-plus memory, 10 sessions")
    },
    // One memory session whose record holds 1, 10 or 100 fields, of which `/read` and `/hit` use
    // one (issue 15's table of record sizes; `/csrf` answers 409 on these).
    Variant { opt_in: true, ..variant("ts-memory-fields-1", "tower-sessions MemoryStore, 1 field") },
    Variant { opt_in: true, ..variant("ts-memory-fields-10", "tower-sessions MemoryStore, 10 fields") },
    Variant { opt_in: true, ..variant("ts-memory-fields-100", "tower-sessions MemoryStore, 100 fields") },
    Variant {
        tower_sessions: Some("ts-memory-fields-1"),
        opt_in: true,
        ..variant("sp-memory-fields-1", "session-plus memory, 1 field")
    },
    Variant {
        tower_sessions: Some("ts-memory-fields-10"),
        opt_in: true,
        ..variant("sp-memory-fields-10", "session-plus memory, 10 fields")
    },
    Variant {
        tower_sessions: Some("ts-memory-fields-100"),
        opt_in: true,
        ..variant("sp-memory-fields-100", "session-plus memory, 100 fields")
    },
    variant("ts-sqlite", "tower-sessions SqliteStore"),
    Variant { tower_sessions: Some("ts-sqlite"), ..variant("sp-sqlite", "session-plus sqlite") },
    Variant { redis: true, ..variant("ts-redis", "tower-sessions RedisStore") },
    Variant { tower_sessions: Some("ts-redis"), redis: true, ..variant("sp-redis", "session-plus redis") },
    // A Redis Cluster (`SESSION_PLUS_REDIS_CLUSTER_URL`), without and with `WAIT 1` after each
    // write: the failover experiment's servers (scripts/cluster-failover.sh).
    Variant { opt_in: true, ..variant("sp-redis-cluster", "session-plus redis cluster") },
    Variant { opt_in: true, ..variant("sp-redis-cluster-wait", "session-plus redis cluster, WAIT 1") },
    Variant { opt_in: true, ..variant("sp-mongodb", "session-plus mongodb") },
    Variant { opt_in: true, ..variant("sp-firestore", "session-plus firestore (emulator)") },
];

/// The variant called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Variant> {
    VARIANTS.iter().find(|v| v.name == name)
}

/// The variants a `--variants a,b,…` list names, or without one every variant that is not opt-in.
pub(crate) fn selected(list: Option<&str>) -> Result<Vec<&'static Variant>, String> {
    match list {
        Some(list) => list.split(',').map(|n| find(n).ok_or(format!("unknown variant `{n}`"))).collect(),
        None => Ok(VARIANTS.iter().filter(|v| !v.opt_in).collect()),
    }
}

/// Builds the router of `variant`; its SQLite file (if any) goes under `dir`.
pub(crate) async fn router(variant: &str, dir: &str, redis_url: &str) -> Result<Router, String> {
    Ok(match variant {
        "axum" => bare(),
        "signed-jar" => signed_jar(),
        "ts-memory" => tower_sessions_router(tower_sessions::MemoryStore::default()),
        "ts-sqlite" => tower_sessions_router(tower_sessions_sqlite(&format!("{dir}/tower-sessions.db")).await?),
        "ts-redis" => tower_sessions_router(tower_sessions_redis(redis_url).await?),
        "sp-memory" => session_plus_router(SessionConfig::new("session").with_type(SessionType::Memory), false).await?,
        // The same handlers over 1 and 10 configured sessions (issue 15's flatness table).
        "sp-memory-1" => session_plus_single().await?,
        "ts-memory-fields-1" => tower_sessions_fields(1),
        "ts-memory-fields-10" => tower_sessions_fields(10),
        "ts-memory-fields-100" => tower_sessions_fields(100),
        "sp-memory-fields-1" => session_plus_fields(1).await?,
        "sp-memory-fields-10" => session_plus_fields(10).await?,
        "sp-memory-fields-100" => session_plus_fields(100).await?,
        "sp-memory-10" => {
            session_plus_sessions(SessionConfig::new("session").with_type(SessionType::Memory), false, 7).await?
        }
        // The csrf cookie bound to the memory session (`bind_to`): what revocable cookies cost.
        "sp-memory-bound" => {
            session_plus_router(SessionConfig::new("session").with_type(SessionType::Memory), true).await?
        }
        "sp-sqlite" => {
            let store = SessionConfig::new("session")
                .with_type(SessionType::Sqlite)
                .with_path(format!("{dir}/session-plus.db"));
            session_plus_router(store, false).await?
        }
        "sp-redis" => {
            let store = SessionConfig::new("session").with_type(SessionType::Redis).with_url(redis_url);
            session_plus_router(store, false).await?
        }
        "sp-redis-cluster" | "sp-redis-cluster-wait" => {
            let url = std::env::var("SESSION_PLUS_REDIS_CLUSTER_URL").unwrap_or_else(|_| DEFAULT_CLUSTER.into());
            // A failover is a transient outage: 503 (retry) for a failed save too, not 500.
            let store = SessionConfig::new("session")
                .with_type(SessionType::Redis)
                .with_url(url)
                .with_error_statuses(StatusCode::SERVICE_UNAVAILABLE, StatusCode::SERVICE_UNAVAILABLE);
            let store = if variant == "sp-redis-cluster-wait" { store.with_redis_wait(1, WAIT_TIMEOUT) } else { store };
            session_plus_router(store, false).await?
        }
        // The servers of the test script: `SESSION_PLUS_MONGODB_URL`, `FIRESTORE_EMULATOR_HOST`.
        #[cfg(feature = "mongodb")]
        "sp-mongodb" => {
            let url = std::env::var("SESSION_PLUS_MONGODB_URL")
                .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/session_plus_bench?directConnection=true".into());
            let store = SessionConfig::new("session").with_type(SessionType::Mongodb).with_url(url);
            session_plus_router(store.with_table("bench"), false).await?
        }
        #[cfg(not(feature = "mongodb"))]
        "sp-mongodb" => {
            return Err("sp-mongodb needs the bench built with `--features mongodb`".into());
        }
        "sp-firestore" => {
            let host = std::env::var("FIRESTORE_EMULATOR_HOST").unwrap_or_else(|_| "127.0.0.1:8085".into());
            let url = format!("firestore://session-plus-bench?emulator={host}");
            let store = SessionConfig::new("session").with_type(SessionType::Firestore).with_url(url);
            session_plus_router(store.with_table("bench"), false).await?
        }
        other => {
            let known: Vec<&str> = VARIANTS.iter().map(|v| v.name).collect();
            return Err(format!("unknown variant `{other}`; known: {}", known.join(", ")));
        }
    })
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Bare axum, no session layer: plain cookies parsed from the header by hand.
fn bare() -> Router {
    async fn setup() -> Response {
        let cookies = [(SET_COOKIE, format!("csrf={CSRF_TOKEN}; Path=/")), (SET_COOKIE, "counter=0; Path=/".into())];
        (AppendHeaders(cookies), "ok").into_response()
    }
    async fn hit(headers: HeaderMap) -> Response {
        match cookie(&headers, "counter").and_then(|v| v.parse::<u64>().ok()) {
            Some(n) => ([(SET_COOKIE, format!("counter={}; Path=/", n + 1))], (n + 1).to_string()).into_response(),
            None => StatusCode::CONFLICT.into_response(),
        }
    }
    async fn read(headers: HeaderMap) -> Result<String, StatusCode> {
        cookie(&headers, "counter").map(str::to_owned).ok_or(StatusCode::CONFLICT)
    }
    async fn csrf(headers: HeaderMap) -> Result<String, StatusCode> {
        cookie(&headers, "csrf").map(str::to_owned).ok_or(StatusCode::CONFLICT)
    }
    routes(post(setup), get(hit), get(read), get(csrf))
}

/// The routes every variant serves.
fn routes<S: Clone + Send + Sync + 'static>(
    setup: axum::routing::MethodRouter<S>,
    hit: axum::routing::MethodRouter<S>,
    read: axum::routing::MethodRouter<S>,
    csrf: axum::routing::MethodRouter<S>,
) -> Router<S> {
    Router::new().route("/setup", setup).route("/hit", hit).route("/read", read).route("/csrf", csrf)
}

/// The state `SignedCookieJar` takes its key from.
#[derive(Clone)]
struct JarState {
    key: Key,
}

impl FromRef<JarState> for Key {
    fn from_ref(state: &JarState) -> Self {
        state.key.clone()
    }
}

/// axum-extra's `SignedCookieJar`: the token and the counter in two signed cookies.
fn signed_jar() -> Router {
    async fn setup(jar: SignedCookieJar) -> (SignedCookieJar, &'static str) {
        (jar.add(Cookie::new("csrf", CSRF_TOKEN)).add(Cookie::new("counter", "0")), "ok")
    }
    async fn hit(jar: SignedCookieJar) -> Result<(SignedCookieJar, String), StatusCode> {
        let n: u64 = jar.get("counter").and_then(|c| c.value().parse().ok()).ok_or(StatusCode::CONFLICT)?;
        Ok((jar.add(Cookie::new("counter", (n + 1).to_string())), (n + 1).to_string()))
    }
    async fn read(jar: SignedCookieJar) -> Result<String, StatusCode> {
        jar.get("counter").map(|c| c.value().to_owned()).ok_or(StatusCode::CONFLICT)
    }
    async fn csrf(jar: SignedCookieJar) -> Result<String, StatusCode> {
        jar.get("csrf").map(|c| c.value().to_owned()).ok_or(StatusCode::CONFLICT)
    }
    let key = Key::from(SECRET.as_bytes());
    routes(post(setup), get(hit), get(read), get(csrf)).with_state(JarState { key })
}

/// tower-sessions' SQLx SQLite store, with the pool settings session-plus uses (WAL,
/// `synchronous = NORMAL`, a 10 s busy timeout, 8 connections) so that only the stores differ.
async fn tower_sessions_sqlite(path: &str) -> Result<tower_sessions_sqlx_store::SqliteStore, String> {
    use tower_sessions_sqlx_store::sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
        .map_err(|e| e.to_string())?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.map_err(|e| e.to_string())?;
    let store = tower_sessions_sqlx_store::SqliteStore::new(pool);
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(store)
}

/// tower-sessions' Redis store on a fred pool of 6 connections, as its documentation sets it up.
async fn tower_sessions_redis(
    url: &str,
) -> Result<tower_sessions_redis_store::RedisStore<tower_sessions_redis_store::fred::prelude::Pool>, String> {
    use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
    let config = Config::from_url(url).map_err(|e| e.to_string())?;
    let pool = Pool::new(config, None, None, None, 6).map_err(|e| e.to_string())?;
    let _task = pool.connect();
    pool.wait_for_connect().await.map_err(|e| e.to_string())?;
    Ok(tower_sessions_redis_store::RedisStore::new(pool))
}

/// tower-sessions: one session holding every field, behind an (unsigned) id cookie.
fn tower_sessions_router<S: tower_sessions::SessionStore + Clone>(store: S) -> Router {
    tower_sessions_app(store, None)
}

/// [`tower_sessions_router`], or with `Some(count)` a `/setup` that writes a record of `count`
/// fields ([`record_fields`]).
fn tower_sessions_app<S: tower_sessions::SessionStore + Clone>(store: S, fields: Option<usize>) -> Router {
    use tower_sessions::Session;
    fn fail(_: tower_sessions::session::Error) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
    async fn setup(session: Session) -> Result<&'static str, StatusCode> {
        session.insert("csrf_token", CSRF_TOKEN).await.map_err(fail)?;
        session.insert("user_id", 42).await.map_err(fail)?;
        session.insert("user_data", serde_json::json!({"name": "Alice", "role": "admin"})).await.map_err(fail)?;
        session.insert("counter", 0u64).await.map_err(fail)?;
        session.insert("theme", "dark").await.map_err(fail)?;
        Ok("ok")
    }
    async fn hit(session: Session) -> Result<String, StatusCode> {
        let n = session.get::<u64>("counter").await.map_err(fail)?.ok_or(StatusCode::CONFLICT)? + 1;
        session.insert("counter", n).await.map_err(fail)?;
        Ok(n.to_string())
    }
    async fn read(session: Session) -> Result<String, StatusCode> {
        Ok(session.get::<u64>("counter").await.map_err(fail)?.ok_or(StatusCode::CONFLICT)?.to_string())
    }
    async fn csrf(session: Session) -> Result<String, StatusCode> {
        session.get::<String>("csrf_token").await.map_err(fail)?.ok_or(StatusCode::CONFLICT)
    }
    let setup = match fields {
        None => post(setup),
        Some(count) => post(move |session: Session| async move {
            for (field, value) in record_fields(count) {
                session.insert(&field, value).await.map_err(fail)?;
            }
            Ok::<_, StatusCode>("ok")
        }),
    };
    routes(setup, get(hit), get(read), get(csrf))
        .layer(tower_sessions::SessionManagerLayer::new(store).with_secure(false))
}

/// session-plus with the three sessions of the README: `csrf_token` in a signed cookie,
/// `user_id`, `user_data` and `counter` in `store`, every other field in a third cookie; with
/// `bind_csrf`, the csrf cookie is bound to `store`'s session.
async fn session_plus_router(store: SessionConfig, bind_csrf: bool) -> Result<Router, String> {
    session_plus_sessions(store, bind_csrf, 0).await
}

/// The three sessions of [`session_plus_router`] and `unused` more cookie sessions that own
/// fields no request writes: what configuring sessions a request does not use costs.
async fn session_plus_sessions(store: SessionConfig, bind_csrf: bool, unused: usize) -> Result<Router, String> {
    let csrf_session = SessionConfig::new("csrf").with_fields(["csrf_token"]);
    let mut config = Config::new()
        .with_secret_key(SECRET)
        .with_session(if bind_csrf { csrf_session.with_bind_to("session") } else { csrf_session })
        .with_session(store.with_fields(["user_id", "user_data", "counter"]));
    for n in 0..unused {
        config = config.with_session(SessionConfig::new(format!("unused{n}")).with_fields([format!("unused_{n}")]));
    }
    session_plus_app(config.with_session(SessionConfig::new("data").with_field_selector(FieldSelector::Auto)), None)
        .await
}

/// One memory session holding every field: the fewest sessions a configuration can have.
async fn session_plus_single() -> Result<Router, String> {
    session_plus_app(single_session_config(), None).await
}

fn single_session_config() -> Config {
    let session = SessionConfig::new("session").with_type(SessionType::Memory).with_field_selector(FieldSelector::Auto);
    Config::new().with_secret_key(SECRET).with_session(session)
}

/// The fields of a record of `count` fields: `counter` and `count - 1` others (a 20-byte string
/// each, like a name or a token).
fn record_fields(count: usize) -> Vec<(String, serde_json::Value)> {
    let others = (1..count).map(|n| (format!("field_{n}"), serde_json::json!(format!("value of field {n:>5}"))));
    std::iter::once(("counter".to_owned(), serde_json::json!(0u64))).chain(others).collect()
}

/// tower-sessions' memory store with a record of `count` fields.
fn tower_sessions_fields(count: usize) -> Router {
    tower_sessions_app(tower_sessions::MemoryStore::default(), Some(count))
}

/// One memory session (every field) with a record of `count` fields.
async fn session_plus_fields(count: usize) -> Result<Router, String> {
    session_plus_app(single_session_config(), Some(count)).await
}

/// The routes of every session-plus variant, over `config`; with `Some(count)`, a `/setup` that
/// writes a record of `count` fields ([`record_fields`]).
async fn session_plus_app(config: Config, fields: Option<usize>) -> Result<Router, String> {
    use session_plus::Session;
    fn fail(error: session_plus::session::Error) -> Response {
        error.into_response()
    }
    fn conflict() -> Response {
        StatusCode::CONFLICT.into_response()
    }
    // The stage in the body, so that the failover driver can tell a failed load from a failed save.
    let manager = SessionManager::builder(config)
        .with_error_response(|failure| {
            let stage = match failure.stage() {
                Stage::Load => "load",
                _ => "save",
            };
            let mut response = axum::http::Response::new(format!("session store failed: {stage}"));
            *response.status_mut() = failure.status();
            response
        })
        .build()
        .await
        .map_err(|e| e.to_string())?;
    async fn setup(session: Session) -> Result<&'static str, Response> {
        session.insert("csrf_token", CSRF_TOKEN).await.map_err(fail)?;
        session.insert("user_id", 42).await.map_err(fail)?;
        session.insert("user_data", serde_json::json!({"name": "Alice", "role": "admin"})).await.map_err(fail)?;
        session.insert("counter", 0u64).await.map_err(fail)?;
        session.insert("theme", "dark").await.map_err(fail)?;
        Ok("ok")
    }
    async fn hit(session: Session) -> Result<String, Response> {
        let n = session.get::<u64>("counter").await.map_err(fail)?.ok_or_else(conflict)? + 1;
        session.insert("counter", n).await.map_err(fail)?;
        Ok(n.to_string())
    }
    async fn read(session: Session) -> Result<String, Response> {
        let n = session.get::<u64>("counter").await.map_err(fail)?;
        Ok(n.ok_or_else(conflict)?.to_string())
    }
    async fn csrf(session: Session) -> Result<String, Response> {
        session.get::<String>("csrf_token").await.map_err(fail)?.ok_or_else(conflict)
    }
    // Writes the visitor's next value and answers the one it replaces (`none`: no session):
    // what the failover driver checks against the values it saw acknowledged.
    async fn swap(session: Session, Path(value): Path<u64>) -> Result<String, Response> {
        let old = session.get::<u64>("counter").await.map_err(fail)?;
        session.insert("counter", value).await.map_err(fail)?;
        Ok(old.map_or_else(|| "none".to_owned(), |n| n.to_string()))
    }
    let setup = match fields {
        None => post(setup),
        Some(count) => post(move |session: Session| async move {
            for (field, value) in record_fields(count) {
                session.insert_value(&field, value).await.map_err(fail)?;
            }
            Ok::<_, Response>("ok")
        }),
    };
    let router = routes(setup, get(hit), get(read), get(csrf)).route("/swap/{value}", post(swap));
    Ok(router.layer(manager.layer()))
}
