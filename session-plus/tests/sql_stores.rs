//! What the conformance suite does not cover for the PostgreSQL and MySQL stores: several app
//! instances on one table, killed connections, purges counted in the table itself, repeated and
//! concurrent migrations, case-sensitive ids, MySQL's affected-rows count and key limits.
//!
//! Servers: `SESSION_PLUS_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `SESSION_PLUS_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). Every test works in a
//! table of its own and drops it at the end.
#![cfg(any(feature = "store-postgres", feature = "store-mysql"))]

mod common;

use serde_json::json;
use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{Record, SessionStore, Update};

/// `n` random lowercase letters.
fn letters(n: usize) -> String {
    let mut letters = String::new();
    while letters.len() < n {
        let id = Id::random().unwrap();
        letters.extend(id.as_str().chars().filter(char::is_ascii_lowercase));
    }
    letters.truncate(n);
    letters
}

/// A table name no other test uses.
fn unique_table() -> String {
    format!("sessions_{}", letters(12))
}

fn random_key() -> String {
    format!("session:{}", Id::random().unwrap().as_str())
}

fn record(now: i64, expires_at: i64) -> Record {
    let mut record = Record { created_at: now, expires_at, ..Record::default() };
    record.fields.insert("user_id".into(), json!(1));
    record
}

/// Creates five expired records, one expiring exactly at `now` and four live ones, then purges
/// at `now`: returns the purge's count, the live keys and the purged keys.
async fn purge_scenario(store: &dyn SessionStore, now: i64) -> (u64, Vec<String>, Vec<String>) {
    let (mut live, mut dead) = (Vec::new(), Vec::new());
    for expires_at in [now - 1000, now - 100, now - 10, now - 2, now - 1, now] {
        let key = random_key();
        assert!(store.create(&key, &record(now - 2000, expires_at)).await.unwrap());
        dead.push(key);
    }
    for expires_at in [now + 1, now + 2, now + 100, now + 3600] {
        let key = random_key();
        assert!(store.create(&key, &record(now - 2000, expires_at)).await.unwrap());
        live.push(key);
    }
    let purged = store.purge_expired(now).await.unwrap();
    (purged, live, dead)
}

/// Keys that differ only in case are different sessions.
async fn ids_are_case_sensitive(store: &dyn SessionStore) {
    let now = SystemClock.now();
    let id = Id::random().unwrap();
    let lower = format!("session:{}", id.as_str().to_ascii_lowercase());
    let upper = format!("session:{}", id.as_str().to_ascii_uppercase());
    let mut a = record(now, now + 60);
    a.fields.insert("who".into(), json!("lower"));
    let mut b = record(now, now + 60);
    b.fields.insert("who".into(), json!("upper"));
    assert!(store.create(&lower, &a).await.unwrap());
    assert!(store.create(&upper, &b).await.unwrap(), "a key differing only in case is another record");
    assert_eq!(store.load(&lower).await.unwrap().unwrap().fields["who"], "lower");
    assert_eq!(store.load(&upper).await.unwrap().unwrap().fields["who"], "upper");
    store.delete(&upper).await.unwrap();
    assert!(store.load(&lower).await.unwrap().is_some());
}

/// Migrating again leaves the records alone; several migrations at once on a fresh table all
/// succeed.
async fn migrate_is_repeatable<S, F, Fut>(store: &S, fresh: F)
where
    S: Migrate,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = S>,
{
    let now = SystemClock.now();
    let key = random_key();
    assert!(store.create(&key, &record(now, now + 60)).await.unwrap());
    for _ in 0..2 {
        store.migrate_table().await.unwrap();
    }
    assert_eq!(
        store.load(&key).await.unwrap().unwrap(),
        record(now, now + 60),
        "a repeated migration keeps the records"
    );

    // Several instances migrating one new table at the same moment.
    let mut stores = Vec::new();
    for _ in 0..6 {
        stores.push(fresh().await);
    }
    let results = futures_util::future::join_all(stores.iter().map(Migrate::migrate_table)).await;
    for result in results {
        result.expect("concurrent migrations all succeed");
    }
    assert!(stores[0].create(&key, &record(now, now + 60)).await.unwrap());
}

/// The stores' own `migrate`, which `SessionStore` does not have.
trait Migrate: SessionStore + Clone {
    fn migrate_table(&self) -> impl std::future::Future<Output = session_plus::store::Result<()>>;
}

#[cfg(feature = "store-postgres")]
impl Migrate for session_plus::store::PostgresStore {
    async fn migrate_table(&self) -> session_plus::store::Result<()> {
        self.migrate().await
    }
}

#[cfg(feature = "store-mysql")]
impl Migrate for session_plus::store::MySqlStore {
    async fn migrate_table(&self) -> session_plus::store::Result<()> {
        self.migrate().await
    }
}

#[cfg(feature = "store-postgres")]
mod postgres {
    use std::time::Duration;

    use serde_json::{json, Value};
    use session_plus::store::PostgresStore;
    use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};
    use sqlx::postgres::PgConnection;
    use sqlx::Connection;

    use super::common::{serve, Client, SECRET};
    use super::*;

    fn url() -> String {
        std::env::var("SESSION_PLUS_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// A migrated store on `table`.
    async fn store(table: &str) -> PostgresStore {
        let store = PostgresStore::open(&url()).await.unwrap().with_table_name(table).unwrap();
        store.migrate().await.unwrap();
        store
    }

    async fn count(store: &PostgresStore, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(store.pool()).await.unwrap()
    }

    async fn drop_table(table: &str) {
        let mut conn = PgConnection::connect(&url()).await.unwrap();
        sqlx::query(&format!("DROP TABLE IF EXISTS {table}")).execute(&mut conn).await.unwrap();
    }

    /// A configuration whose server-side session "session" lives in `table` at `url`.
    fn config(url: &str, table: &str) -> Config {
        Config::new().with_secret_key(SECRET).with_session(
            SessionConfig::new("session")
                .with_type(SessionType::Postgres)
                .with_url(url)
                .with_table(table)
                .with_field_selector(FieldSelector::Auto)
                .with_error_statuses(503, 500),
        )
    }

    async fn app(url: &str, table: &str) -> (SessionManager, Client) {
        let manager = SessionManager::builder(config(url, table)).without_purge_tasks().build().await.unwrap();
        let client = Client::new(serve(&manager).await);
        (manager, client)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_share_one_table() {
        let table = unique_table();
        let (_a, mut on_a) = app(&url(), &table).await;
        let (_b, mut on_b) = app(&url(), &table).await;

        // Log in on A; B sees it.
        assert_eq!(on_a.post("/set/user_id", "42").await.status, 200);
        on_b.jar = on_a.jar.clone();
        assert_eq!(on_b.get("/get/user_id").await.json(), json!(42));

        // A field written on B is seen on A, next to A's own.
        assert_eq!(on_b.post("/set/theme", "\"dark\"").await.status, 200);
        assert_eq!(on_a.jar, on_b.jar, "the same session, the same id");
        assert_eq!(on_a.get("/fields").await.json(), json!({"user_id": 42, "theme": "dark"}));

        // Log out on B; A, still holding the cookie, sees an anonymous visitor.
        let reply = on_b.post("/clear", "").await;
        assert_eq!(reply.status, 200);
        assert!(on_b.jar.is_empty());
        assert_eq!(on_a.get("/get/user_id").await.json(), Value::Null);
        assert_eq!(on_a.get("/fields").await.json(), json!({}));
        assert_eq!(count(&store(&table).await, &table).await, 0, "the row is gone");
        drop_table(&table).await;
    }

    /// Terminates the backends of every connection that identifies as `application_name`,
    /// from a connection of its own; returns how many it terminated.
    async fn kill_backends(application_name: &str) -> usize {
        let mut conn = PgConnection::connect(&url()).await.unwrap();
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
             AND application_name = $1",
        )
        .bind(application_name)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        killed.into_iter().filter(|killed| *killed).count()
    }

    /// Sends `request` until it succeeds: every failure must be one of `allowed`, and the
    /// app must recover within a pool's worth of attempts (each dead connection fails at most
    /// one request, then the pool drops it). Returns the failures seen.
    async fn until_ok(client: &mut Client, post: Option<&str>, path: &str, allowed: &[u16]) -> Vec<u16> {
        let mut failures = Vec::new();
        for _ in 0..20 {
            let reply = match post {
                Some(body) => client.post(path, body).await,
                None => client.get(path).await,
            };
            if reply.status == 200 {
                return failures;
            }
            assert!(allowed.contains(&reply.status), "{path}: {reply:?}");
            failures.push(reply.status);
        }
        panic!("{path} still fails after 20 attempts: {failures:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn killed_connections_fail_cleanly_and_recover() {
        let table = unique_table();
        // Tagged so the kill spares every other test's connections.
        let tag = format!("sp_kill_{}", letters(10));
        let separator = if url().contains('?') { '&' } else { '?' };
        let tagged = format!("{}{separator}application_name={tag}", url());
        let (_manager, mut client) = app(&tagged, &table).await;
        assert_eq!(client.post("/set/user_id", "1").await.status, 200);
        // Several requests at once, so the pool holds several connections to kill.
        let replies = futures_util::future::join_all((0..6).map(|_| {
            let mut client = client.clone();
            async move { client.get("/get/user_id").await }
        }))
        .await;
        assert!(replies.iter().all(|r| r.status == 200));

        // Right after the kill: each request succeeds or fails with the configured status.
        assert!(kill_backends(&tag).await >= 1);
        let failures = until_ok(&mut client, None, "/get/user_id", &[503]).await;
        println!("reads failed right after the kill: {failures:?}");
        for _ in 0..5 {
            let reply = client.get("/get/user_id").await;
            assert_eq!((reply.status, reply.json()), (200, json!(1)));
        }
        assert_eq!(client.post("/set/user_id", "2").await.status, 200);
        assert_eq!(client.get("/get/user_id").await.json(), json!(2));

        // Writes right after a kill: a failed load is 503, a failed save 500.
        assert!(kill_backends(&tag).await >= 1);
        let failures = until_ok(&mut client, Some("3"), "/set/user_id", &[500, 503]).await;
        println!("writes failed right after the kill: {failures:?}");
        assert_eq!(client.get("/get/user_id").await.json(), json!(3));

        // Killed while idle: connections idle for a second are pinged before use, so the
        // first request after a quiet second already succeeds.
        assert!(kill_backends(&tag).await >= 1);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let reply = client.get("/get/user_id").await;
        assert_eq!((reply.status, reply.json()), (200, json!(3)));
        assert_eq!(client.post("/set/user_id", "4").await.status, 200);
        assert_eq!(client.get("/get/user_id").await.json(), json!(4));
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn purge_removes_expired_rows_only() {
        let table = unique_table();
        let store = store(&table).await;
        let now = SystemClock.now();
        let (purged, live, dead) = purge_scenario(&store, now).await;
        assert_eq!(purged, 6);
        assert_eq!(count(&store, &table).await, 4);
        for key in &live {
            assert!(store.load(key).await.unwrap().is_some());
        }
        for key in &dead {
            assert!(store.load(key).await.unwrap().is_none());
        }
        assert_eq!(store.purge_expired(now).await.unwrap(), 0);
        assert_eq!(count(&store, &table).await, 4);
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrate_twice_and_concurrently_is_harmless() {
        let table = unique_table();
        let fresh_table = unique_table();
        let store = store(&table).await;
        migrate_is_repeatable(&store, || async {
            PostgresStore::open(&url()).await.unwrap().with_table_name(&fresh_table).unwrap()
        })
        .await;
        assert_eq!(count(&store, &table).await, 1);
        drop_table(&table).await;
        drop_table(&fresh_table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_are_case_sensitive() {
        let table = unique_table();
        ids_are_case_sensitive(&store(&table).await).await;
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn update_is_one_statement_and_replaces_nested_values() {
        let table = unique_table();
        let store = store(&table).await;
        let now = SystemClock.now();
        let key = random_key();
        let mut created = record(now, now + 60);
        created.fields.insert("nested".into(), json!({"a": {"b": 1}, "keep": true}));
        created.fields.insert("gone".into(), json!([1, 2]));
        assert!(store.create(&key, &created).await.unwrap());
        let mut update = Update { expires_at: now + 120, permanent: true, ..Update::default() };
        update.set.insert("nested".into(), json!({"a": {"c": 2}}));
        update.set.insert("null".into(), Value::Null);
        update.remove.push("gone".into());
        assert!(store.update(&key, &update).await.unwrap());
        let loaded = store.load(&key).await.unwrap().unwrap();
        assert_eq!(Value::Object(loaded.fields), json!({"user_id": 1, "nested": {"a": {"c": 2}}, "null": null}));
        assert_eq!((loaded.expires_at, loaded.permanent), (now + 120, true));
        // An update that changes nothing still finds the row.
        let same = Update { expires_at: now + 120, permanent: true, ..Update::default() };
        assert!(store.update(&key, &same).await.unwrap());
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_configuration_names_the_key() {
        let err = SessionManager::builder(config(&url(), "no-such table")).build().await.unwrap_err();
        assert_eq!(err.key(), Some("table"), "{err}");
        let err =
            SessionManager::builder(config("postgres://postgres@127.0.0.1:1/test", "t")).build().await.unwrap_err();
        assert_eq!(err.key(), Some("url"), "{err}");
    }

    #[tokio::test]
    async fn table_names_must_be_plain_identifiers() {
        let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy(&url()).unwrap();
        for bad in ["", "1abc", "a-b", "a b", "t; DROP TABLE x", "é"] {
            assert!(PostgresStore::new(pool.clone()).with_table_name(bad).is_err(), "{bad:?}");
        }
        assert!(PostgresStore::new(pool).with_table_name("_web_sessions2").is_ok());
    }
}

#[cfg(feature = "store-mysql")]
mod mysql {
    use serde_json::{json, Value};
    use session_plus::store::MySqlStore;
    use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};
    use sqlx::mysql::MySqlConnection;
    use sqlx::Connection;

    use super::common::{serve, Client, SECRET};
    use super::*;

    fn url() -> String {
        std::env::var("SESSION_PLUS_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
    }

    /// A migrated store on `table`.
    async fn store(table: &str) -> MySqlStore {
        let store = MySqlStore::open(&url()).await.unwrap().with_table_name(table).unwrap();
        store.migrate().await.unwrap();
        store
    }

    async fn count(store: &MySqlStore, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(store.pool()).await.unwrap()
    }

    async fn drop_table(table: &str) {
        let mut conn = MySqlConnection::connect(&url()).await.unwrap();
        sqlx::query(&format!("DROP TABLE IF EXISTS {table}")).execute(&mut conn).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn purge_removes_expired_rows_only() {
        let table = unique_table();
        let store = store(&table).await;
        let now = SystemClock.now();
        let (purged, live, dead) = purge_scenario(&store, now).await;
        assert_eq!(purged, 6);
        assert_eq!(count(&store, &table).await, 4);
        for key in &live {
            assert!(store.load(key).await.unwrap().is_some());
        }
        for key in &dead {
            assert!(store.load(key).await.unwrap().is_none());
        }
        assert_eq!(store.purge_expired(now).await.unwrap(), 0);
        assert_eq!(count(&store, &table).await, 4);
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrate_twice_and_concurrently_is_harmless() {
        let table = unique_table();
        let fresh_table = unique_table();
        let store = store(&table).await;
        migrate_is_repeatable(&store, || async {
            MySqlStore::open(&url()).await.unwrap().with_table_name(&fresh_table).unwrap()
        })
        .await;
        assert_eq!(count(&store, &table).await, 1);
        drop_table(&table).await;
        drop_table(&fresh_table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_are_case_sensitive() {
        let table = unique_table();
        ids_are_case_sensitive(&store(&table).await).await;
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn update_that_changes_nothing_still_finds_the_row() {
        let table = unique_table();
        let store = store(&table).await;
        let now = SystemClock.now();
        let key = random_key();
        assert!(store.create(&key, &record(now, now + 60)).await.unwrap());
        // The same expiry and permanence, no fields: MySQL changes no row.
        let same = Update { expires_at: now + 60, permanent: false, ..Update::default() };
        assert!(store.update(&key, &same).await.unwrap());
        // A field set to the value it already has: again no change.
        let mut same_value = same.clone();
        same_value.set.insert("user_id".into(), json!(1));
        assert!(store.update(&key, &same_value).await.unwrap());
        assert!(store.update(&key, &same_value).await.unwrap());
        // Removing a field that is not there.
        let mut remove_missing = same.clone();
        remove_missing.remove.push("nothing".into());
        assert!(store.update(&key, &remove_missing).await.unwrap());
        assert_eq!(store.load(&key).await.unwrap().unwrap(), record(now, now + 60));
        // And a missing row is still reported missing.
        assert!(!store.update(&random_key(), &same).await.unwrap());
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn update_replaces_nested_values_and_keeps_unicode() {
        let table = unique_table();
        let store = store(&table).await;
        let now = SystemClock.now();
        let key = random_key();
        let mut created = record(now, now + 60);
        created.fields.insert("nested".into(), json!({"a": {"b": 1}, "keep": true}));
        created.fields.insert("gone".into(), json!([1, 2]));
        assert!(store.create(&key, &created).await.unwrap());
        let mut update = Update { expires_at: now + 120, permanent: true, ..Update::default() };
        update.set.insert("nested".into(), json!({"a": {"c": 2}}));
        update.set.insert("null".into(), Value::Null);
        update.set.insert("text".into(), json!("é ✓ 😀 \"quoted\" \\ \u{0} \n"));
        update.remove.push("gone".into());
        assert!(store.update(&key, &update).await.unwrap());
        let loaded = store.load(&key).await.unwrap().unwrap();
        assert_eq!(
            Value::Object(loaded.fields),
            json!({
                "user_id": 1,
                "nested": {"a": {"c": 2}},
                "null": null,
                "text": "é ✓ 😀 \"quoted\" \\ \u{0} \n"
            })
        );
        assert_eq!((loaded.expires_at, loaded.permanent), (now + 120, true));
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_it_cannot_hold_are_refused_not_mangled() {
        let table = unique_table();
        let store = store(&table).await;
        let now = SystemClock.now();
        let long = format!("session:{}", "a".repeat(300));
        for bad in [long.as_str(), "session:é"] {
            assert!(store.create(bad, &record(now, now + 60)).await.is_err(), "{bad:?}");
            assert!(store.load(bad).await.is_err(), "{bad:?}");
        }
        assert_eq!(count(&store, &table).await, 0, "nothing truncated or converted");
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_session_configured_as_mysql_round_trips() {
        let table = unique_table();
        let config = Config::new().with_secret_key(SECRET).with_session(
            SessionConfig::new("session")
                .with_type(SessionType::Mysql)
                .with_url(url())
                .with_table(&table)
                .with_field_selector(FieldSelector::Auto),
        );
        let manager = SessionManager::builder(config).without_purge_tasks().build().await.unwrap();
        let mut client = Client::new(serve(&manager).await);
        assert_eq!(client.post("/set/user_id", "\"alice\"").await.status, 200);
        assert_eq!(client.get("/get/user_id").await.json(), json!("alice"));
        let store = store(&table).await;
        assert_eq!(count(&store, &table).await, 1);
        assert_eq!(client.post("/clear", "").await.status, 200);
        assert_eq!(count(&store, &table).await, 0);
        drop_table(&table).await;
    }

    #[tokio::test]
    async fn table_names_must_be_plain_identifiers() {
        let pool = sqlx::mysql::MySqlPoolOptions::new().connect_lazy(&url()).unwrap();
        for bad in ["", "1abc", "a-b", "a b", "t; DROP TABLE x", "é"] {
            assert!(MySqlStore::new(pool.clone()).with_table_name(bad).is_err(), "{bad:?}");
        }
        assert!(MySqlStore::new(pool).with_table_name("_web_sessions2").is_ok());
    }
}
