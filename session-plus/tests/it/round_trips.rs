//! Store round trips per request (issue 11, item 5), end to end: a real axum app through
//! `SessionManager`, its server session behind the suite's [`Probe`], once per store of the build.
//!
//! The configuration is the suite's: `csrf` (signed cookie, `csrf_token`), `session` (the store,
//! every other field) and `data` (signed cookie, `theme`, `lang`). Each request's calls to the
//! store (`load`, `create`, `update`, `delete`) are asserted and printed; on MongoDB the
//! commands the driver sends are counted too (its command monitoring), since one compare-and-swap
//! `update` of the Python format is a `find` and an `update`. Run with `--nocapture` to see them:
//!
//! ```text
//! cargo test -p session-plus --features store-mongodb,flask --test it round_trips -- --nocapture
//! ```
//!
//! Every store: a request that touches no server field makes no call; a read, one `load`; a read
//! and a write, one `load` and one `update`; a first write, one `create`; a logout, one `delete`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::routing::post;
use serde_json::Value;
use session_plus::clock::{Clock, ManualClock, SystemClock};
use session_plus::store::{MemoryStore, SessionStore};
use session_plus::{session, Session};

use crate::common::{manager, routes, serve_router, suite, Client, Counts, Probe};

/// `POST /bump`: reads `user_id` and writes it back plus one (a read and a write).
async fn bump(session: Session) -> Result<String, session::Error> {
    let user_id: i64 = session.get("user_id").await?.unwrap_or(0);
    session.insert("user_id", user_id + 1).await?;
    Ok((user_id + 1).to_string())
}

/// Server commands a store's client sent, where the test can count them.
type Commands = Option<Arc<AtomicUsize>>;

fn counts(load: usize, create: usize, update: usize, delete: usize) -> Counts {
    Counts { load, create, update, delete }
}

async fn measure(name: &str, store: Arc<dyn SessionStore>, commands: Commands) {
    let counting = Probe::new(store);
    let clock = ManualClock::new(SystemClock.now());
    let manager = manager(suite::config(|s| s), counting.clone(), &clock).await;
    let addr = serve_router(routes().route("/bump", post(bump)).layer(manager.layer())).await;
    let mut client = Client::new(addr);
    // The setup's commands are not a request's.
    if let Some(commands) = &commands {
        commands.store(0, Ordering::SeqCst);
    }

    let steps: [(&str, &str, &str, Counts); 8] = [
        ("a first write (no cookie yet)", "POST", "/set/user_id", counts(0, 1, 0, 0)),
        ("touches no session", "GET", "/nothing", counts(0, 0, 0, 0)),
        ("writes a cookie session only", "POST", "/set/csrf_token", counts(0, 0, 0, 0)),
        ("reads a cookie session only", "GET", "/get/csrf_token", counts(0, 0, 0, 0)),
        ("reads the server session", "GET", "/get/user_id", counts(1, 0, 0, 0)),
        ("reads and writes it", "POST", "/bump", counts(1, 0, 1, 0)),
        ("writes it without reading first", "POST", "/set/user_data", counts(1, 0, 1, 0)),
        ("logs out", "POST", "/clear", counts(0, 0, 0, 1)),
    ];
    run_steps(name, &mut client, &counting, &steps, &commands).await;
    assert_eq!(client.get("/get/user_id").await.json(), Value::Null, "[{name}] logged out");
}

/// Sends each step's request, asserting and printing the store calls it made (and the server
/// commands, where they are counted).
async fn run_steps(
    name: &str,
    client: &mut Client,
    probe: &Probe,
    steps: &[(&str, &str, &str, Counts)],
    commands: &Commands,
) {
    for &(what, method, path, expected) in steps {
        let reply = match method {
            "GET" => client.get(path).await,
            _ => client.post(path, "1").await,
        };
        assert_eq!(reply.status, 200, "[{name}] {method} {path}: {}", reply.body);
        let measured = probe.take();
        let sent =
            commands.as_ref().map(|c| format!("; server commands {}", c.swap(0, Ordering::SeqCst))).unwrap_or_default();
        println!("round trips [{name}] {what} ({method} {path}): {measured}{sent}");
        assert_eq!(measured, expected, "[{name}] {what} ({method} {path})");
    }
}

/// One test per store: `name => (store, commands)`.
macro_rules! round_trips {
    ($($(#[$meta:meta])* $name:ident => $make:expr;)+) => {
        $(
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, commands): (Arc<dyn SessionStore>, Commands) = $make.await;
                measure(stringify!($name), store, commands).await;
            }
        )+
    };
}

round_trips! {
    memory => async { (Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>, None) };
    #[cfg(feature = "store-sqlite")]
    sqlite => async {
        let store = session_plus::store::SqliteStore::connect(&crate::common::temp_db_path()).await.unwrap();
        store.migrate().await.unwrap();
        (Arc::new(store) as Arc<dyn SessionStore>, None)
    };
    #[cfg(feature = "store-postgres")]
    postgres => async {
        let url = std::env::var("SESSION_PLUS_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let store = session_plus::store::PostgresStore::connect(&url).await.unwrap()
            .with_table_name("session_plus_round_trips").unwrap();
        store.migrate().await.unwrap();
        (Arc::new(store) as Arc<dyn SessionStore>, None)
    };
    #[cfg(feature = "store-mysql")]
    mysql => async {
        let url = std::env::var("SESSION_PLUS_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        let store = session_plus::store::MySqlStore::connect(&url).await.unwrap()
            .with_table_name("session_plus_round_trips").unwrap();
        store.migrate().await.unwrap();
        (Arc::new(store) as Arc<dyn SessionStore>, None)
    };
    #[cfg(feature = "store-redis")]
    redis => async {
        let store = session_plus::store::RedisStore::connect(&redis_url()).await.unwrap();
        (Arc::new(store) as Arc<dyn SessionStore>, None)
    };
    #[cfg(all(feature = "flask", feature = "store-redis"))]
    flask_redis => async {
        use session_plus::store::{FlaskStore, RecordEncoding, RedisStore};
        let store = RedisStore::connect(&redis_url()).await.unwrap();
        (Arc::new(FlaskStore::redis(store, RecordEncoding::TaggedJson)) as Arc<dyn SessionStore>, None)
    };
    #[cfg(feature = "store-memcached")]
    memcached => async {
        let url = std::env::var("SESSION_PLUS_MEMCACHED_URL")
            .unwrap_or_else(|_| "memcache://127.0.0.1:11211?timeout=2".into());
        let store = session_plus::store::MemcachedStore::connect(&url).await.unwrap();
        (Arc::new(store) as Arc<dyn SessionStore>, None)
    };
    #[cfg(feature = "store-mongodb")]
    mongodb => async {
        let (store, commands) = mongodb_counted().await;
        store.migrate().await.unwrap();
        (Arc::new(store) as Arc<dyn SessionStore>, Some(commands))
    };
    #[cfg(all(feature = "flask", feature = "store-mongodb"))]
    flask_mongodb => async {
        let (store, commands) = mongodb_counted().await;
        let store = session_plus::store::FlaskStore::mongodb(store);
        store.migrate().await.unwrap();
        (Arc::new(store) as Arc<dyn SessionStore>, Some(commands))
    };
    #[cfg(feature = "store-firestore")]
    firestore => async { (Arc::new(crate::firestore_store::fresh_store()) as Arc<dyn SessionStore>, None) };
    #[cfg(all(feature = "flask", feature = "store-firestore"))]
    flask_firestore => async {
        (Arc::new(crate::firestore_store::fresh_store().flask_session_plus()) as Arc<dyn SessionStore>, None)
    };
}

#[cfg(feature = "store-redis")]
fn redis_url() -> String {
    std::env::var("SESSION_PLUS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// A MongoDB store on a client that counts the data commands it sends (`find`, `insert`,
/// `update`, `delete`), on a collection of the test's own.
#[cfg(feature = "store-mongodb")]
async fn mongodb_counted() -> (session_plus::store::MongoDbStore, Arc<AtomicUsize>) {
    use mongodb::event::command::CommandEvent;
    use mongodb::event::EventHandler;
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let mut options = mongodb::options::ClientOptions::parse(crate::mongodb_store::url()).await.unwrap();
    options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event
            && ["find", "insert", "update", "delete"].contains(&started.command_name.as_str())
        {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let client = mongodb::Client::with_options(options).unwrap();
    let name = format!("round_trips_{}", &session_plus::session::Id::random().unwrap().as_str()[..12]);
    let database = client.default_database().unwrap();
    (session_plus::store::MongoDbStore::new(database.collection(&name)), sent)
}

/// Issue 10, item 1: what binding a cookie session costs in store calls. `data` (`theme`,
/// `lang`) is bound to `session`: reading a bound field loads the server session once; a bound
/// field written by a visitor with no server session creates an empty record for it; requests
/// that leave both alone still cost nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_cookie_session_costs_one_load_of_its_server_session() {
    let probe = Probe::new(Arc::new(MemoryStore::new()));
    let clock = ManualClock::new(SystemClock.now());
    let mut config = suite::config(|s| s);
    let sessions: Vec<_> = config.sessions().to_vec();
    config = sessions.into_iter().fold(session_plus::Config::new().with_secret_key(crate::common::SECRET), |c, s| {
        c.with_session(if s.cookie_name() == "data" { s.with_bind_to("session") } else { s })
    });
    let manager = manager(config, probe.clone(), &clock).await;
    let addr = serve_router(routes().layer(manager.layer())).await;
    let mut client = Client::new(addr);
    let steps: [(&str, &str, &str, Counts); 7] = [
        ("writes a bound field, no server session yet", "POST", "/set/theme", counts(0, 1, 0, 0)),
        ("reads the bound field", "GET", "/get/theme", counts(1, 0, 0, 0)),
        ("reads an unbound cookie field", "GET", "/get/csrf_token", counts(0, 0, 0, 0)),
        ("touches no session", "GET", "/nothing", counts(0, 0, 0, 0)),
        ("writes the server session", "POST", "/set/user_id", counts(1, 0, 1, 0)),
        ("reads the server session only", "GET", "/get/user_id", counts(1, 0, 0, 0)),
        ("logs out", "POST", "/clear", counts(0, 0, 0, 1)),
    ];
    run_steps("memory, data bound", &mut client, &probe, &steps, &None).await;
}
