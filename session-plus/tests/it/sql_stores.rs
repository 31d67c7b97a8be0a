//! What the conformance suite does not cover for the SQL stores: several app instances on one
//! table, killed connections, purges counted in the table itself, repeated and concurrent
//! migrations, case-sensitive ids, MySQL's affected-rows count and key limits, and SQLite's
//! threads: many concurrent writes batched into one transaction, failures, shutdown.
//!
//! Servers: `SESSION_PLUS_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `SESSION_PLUS_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). Every test works in a
//! table of its own and drops it at the end. SQLite tests each work in a temporary directory of
//! their own.
#![cfg(any(feature = "store-sqlite", feature = "store-postgres", feature = "store-mysql"))]

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
#[cfg(any(feature = "store-postgres", feature = "store-mysql"))]
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

/// Creates six expired records (one expiring exactly at now) and four live ones, then purges:
/// the six go, the four stay, and a second purge finds nothing. The caller counts the rows left.
async fn purge_removes_only_expired(store: &dyn SessionStore) {
    let now = SystemClock.now();
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
    assert_eq!(store.purge_expired(now).await.unwrap(), 6);
    for key in &live {
        assert!(store.load(key).await.unwrap().is_some());
    }
    for key in &dead {
        assert!(store.load(key).await.unwrap().is_none());
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);
}

/// Creates a record, then replaces a nested value, adds a null and `text` and removes a field in
/// one update, and checks what loads back; returns the key and the time.
async fn nested_and_unicode_update(store: &dyn SessionStore, text: &str) -> (String, i64) {
    let now = SystemClock.now();
    let key = random_key();
    let mut created = record(now, now + 60);
    created.fields.insert("nested".into(), json!({"a": {"b": 1}, "keep": true}));
    created.fields.insert("gone".into(), json!([1, 2]));
    assert!(store.create(&key, &created).await.unwrap());
    let mut update = Update { expires_at: now + 120, permanent: Some(true), ..Update::default() };
    update.set.insert("nested".into(), json!({"a": {"c": 2}}));
    update.set.insert("null".into(), serde_json::Value::Null);
    update.set.insert("text".into(), json!(text));
    update.remove.push("gone".into());
    assert!(store.update(&key, &update).await.unwrap());
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(
        serde_json::Value::Object(loaded.fields),
        json!({
            "user_id": 1,
            "nested": {"a": {"c": 2}},
            "null": null,
            "text": text
        })
    );
    assert_eq!((loaded.expires_at, loaded.permanent), (now + 120, true));
    (key, now)
}

/// Quotes, a backslash, a NUL, a newline and characters beyond ASCII.
#[cfg(any(feature = "store-sqlite", feature = "store-mysql"))]
const WITH_NUL: &str = "é ✓ 😀 \"quoted\" \\ \u{0} \n";

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

#[cfg(feature = "store-sqlite")]
impl Migrate for session_plus::store::SqliteStore {
    async fn migrate_table(&self) -> session_plus::store::Result<()> {
        self.migrate().await
    }
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
    use session_plus::{BuildError, Config, FieldSelector, SessionConfig, SessionManager, SessionType};
    use sqlx::postgres::PgConnection;
    use sqlx::Connection;

    use super::*;
    use crate::common::{serve, Client, SECRET};

    fn url() -> String {
        std::env::var("SESSION_PLUS_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// A migrated store on `table`.
    async fn store(table: &str) -> PostgresStore {
        let store = PostgresStore::connect(&url()).await.unwrap().with_table_name(table).unwrap();
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
                .with_error_statuses(http::StatusCode::SERVICE_UNAVAILABLE, http::StatusCode::INTERNAL_SERVER_ERROR),
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
        purge_removes_only_expired(&store).await;
        assert_eq!(count(&store, &table).await, 4);
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrate_twice_and_concurrently_is_harmless() {
        let table = unique_table();
        let fresh_table = unique_table();
        let store = store(&table).await;
        migrate_is_repeatable(&store, || async {
            PostgresStore::connect(&url()).await.unwrap().with_table_name(&fresh_table).unwrap()
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
        // JSONB cannot hold U+0000: the text has none.
        let (key, now) = nested_and_unicode_update(&store, "é ✓ 😀 \"quoted\" \\ \n").await;
        // An update that changes nothing still finds the row.
        let same = Update { expires_at: now + 120, permanent: Some(true), ..Update::default() };
        assert!(store.update(&key, &same).await.unwrap());
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_configuration_names_the_key() {
        let err = SessionManager::builder(config(&url(), "no-such table")).build().await.unwrap_err();
        assert!(matches!(&err, BuildError::Config(e) if e.key() == Some("table")), "{err}");
        let err =
            SessionManager::builder(config("postgres://postgres@127.0.0.1:1/test", "t")).build().await.unwrap_err();
        assert!(matches!(&err, BuildError::Store { session, .. } if session == "session"), "{err}");
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
    use serde_json::json;
    use session_plus::store::MySqlStore;
    use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};
    use sqlx::mysql::MySqlConnection;
    use sqlx::Connection;

    use super::*;
    use crate::common::{serve, Client, SECRET};

    fn url() -> String {
        std::env::var("SESSION_PLUS_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
    }

    /// A migrated store on `table`.
    async fn store(table: &str) -> MySqlStore {
        let store = MySqlStore::connect(&url()).await.unwrap().with_table_name(table).unwrap();
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
        purge_removes_only_expired(&store).await;
        assert_eq!(count(&store, &table).await, 4);
        drop_table(&table).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrate_twice_and_concurrently_is_harmless() {
        let table = unique_table();
        let fresh_table = unique_table();
        let store = store(&table).await;
        migrate_is_repeatable(&store, || async {
            MySqlStore::connect(&url()).await.unwrap().with_table_name(&fresh_table).unwrap()
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
        let same = Update { expires_at: now + 60, permanent: Some(false), ..Update::default() };
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
        nested_and_unicode_update(&store, WITH_NUL).await;
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

#[cfg(feature = "store-sqlite")]
mod sqlite {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use serde_json::{json, Map, Value};
    use session_plus::store::SqliteStore;
    use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};

    use super::*;
    use crate::common::{serve, Client, SECRET};

    /// A temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("session-plus-sqlite-{}", letters(16)));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        /// The database file `sessions.db` in it.
        fn db(&self) -> PathBuf {
            self.0.join("sessions.db")
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            drop(std::fs::remove_dir_all(&self.0));
        }
    }

    /// A migrated store on the file `path`.
    async fn store(path: &Path) -> SqliteStore {
        let store = SqliteStore::connect(path.to_str().unwrap()).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// The rows of `table` in the file `path`, counted on a connection of the test's own.
    fn count(path: &Path, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_updates_of_one_session_all_survive() {
        let dir = TempDir::new();
        let store = store(&dir.db()).await;
        let now = SystemClock.now();
        let key = random_key();
        assert!(store.create(&key, &record(now, now + 60)).await.unwrap());
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let (store, key) = (store.clone(), key.clone());
                tokio::spawn(async move {
                    let mut update = Update { expires_at: now + 120, ..Update::default() };
                    update.set.insert(format!("field_{i}"), json!({ "i": i }));
                    store.update(&key, &update).await
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().unwrap(), "the record is there");
        }
        let loaded = store.load(&key).await.unwrap().unwrap();
        let mut expected = Map::new();
        expected.insert("user_id".into(), json!(1));
        for i in 0..200 {
            expected.insert(format!("field_{i}"), json!({ "i": i }));
        }
        assert_eq!(loaded.fields, expected, "every field written by every task");
        assert_eq!(loaded.expires_at, now + 120);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_creates_updates_and_loads_across_sessions() {
        let dir = TempDir::new();
        let store = store(&dir.db()).await;
        let now = SystemClock.now();
        let keys: Vec<String> = (0..60).map(|_| random_key()).collect();
        let tasks: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(n, key)| {
                let (store, key) = (store.clone(), key.clone());
                tokio::spawn(async move {
                    // Two creates race for the key: exactly one wins.
                    let created = record(now, now + 60);
                    let (a, b) = tokio::join!(store.create(&key, &created), store.create(&key, &created));
                    assert!(a.unwrap() ^ b.unwrap(), "exactly one create wins");
                    let updates = (0..5).map(|i| {
                        let store = store.clone();
                        let key = key.clone();
                        async move {
                            let mut update = Update { expires_at: now + 60 + i, ..Update::default() };
                            update.set.insert(format!("f{i}"), json!(n));
                            assert!(store.update(&key, &update).await.unwrap());
                            assert!(store.load(&key).await.unwrap().unwrap().fields.contains_key(&format!("f{i}")));
                        }
                    });
                    futures_util::future::join_all(updates).await;
                    if n % 4 == 0 {
                        store.delete(&key).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        for (n, key) in keys.iter().enumerate() {
            let loaded = store.load(key).await.unwrap();
            if n % 4 == 0 {
                assert!(loaded.is_none(), "deleted");
                continue;
            }
            let loaded = loaded.unwrap();
            assert_eq!(loaded.fields.len(), 6, "{:?}", loaded.fields);
            for i in 0..5 {
                assert_eq!(loaded.fields[&format!("f{i}")], json!(n));
            }
        }
        assert_eq!(count(&dir.db(), "sessions"), 45);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_table_dropped_underneath_gives_errors_then_recovers() {
        let dir = TempDir::new();
        let store = store(&dir.db()).await;
        let now = SystemClock.now();
        let key = random_key();
        assert!(store.create(&key, &record(now, now + 60)).await.unwrap());
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn.execute_batch("DROP TABLE sessions").unwrap();

        let update = Update { expires_at: now + 120, ..Update::default() };
        let err = store.update(&key, &update).await.unwrap_err();
        assert!(err.to_string().contains("no such table"), "{err}");
        assert!(store.load(&key).await.is_err());
        assert!(store.create(&random_key(), &record(now, now + 60)).await.is_err());
        assert!(store.delete(&key).await.is_err());
        assert!(store.purge_expired(now).await.is_err());

        // The threads are still there: migrating again brings the store back.
        store.migrate().await.unwrap();
        assert!(!store.update(&key, &update).await.unwrap(), "the record went with the table");
        assert!(store.create(&key, &record(now, now + 60)).await.unwrap());
        assert!(store.load(&key).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn what_cannot_be_a_database_fails_to_open() {
        let dir = TempDir::new();
        // A directory where the file should be.
        std::fs::create_dir(dir.db()).unwrap();
        let err = SqliteStore::connect(dir.db().to_str().unwrap()).await.unwrap_err();
        println!("a directory: {err}");
        // A directory that does not exist.
        let missing = dir.0.join("no/such/dir/sessions.db");
        assert!(SqliteStore::connect(missing.to_str().unwrap()).await.is_err());
        // A file that is not a database.
        let text = dir.0.join("text.db");
        std::fs::write(&text, "not a database, but long enough to have a header of a hundred bytes ".repeat(4))
            .unwrap();
        let err = SqliteStore::connect(text.to_str().unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("not a database"), "{err}");
    }

    #[tokio::test]
    async fn a_read_only_database_refuses_writes_but_serves_loads() {
        let dir = TempDir::new();
        let now = SystemClock.now();
        let key = random_key();
        {
            let store = store(&dir.db()).await;
            assert!(store.create(&key, &record(now, now + 60)).await.unwrap());
        }
        let url = format!("sqlite://{}?mode=ro", dir.db().display());
        let store = SqliteStore::connect(&url).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap(), Some(record(now, now + 60)));
        let err = store.create(&random_key(), &record(now, now + 60)).await.unwrap_err();
        println!("a write on a read-only database: {err}");
        assert!(store.update(&key, &Update::default()).await.is_err());
        assert!(store.load(&key).await.unwrap().is_some(), "still served after failed writes");
    }

    /// Issue 10, item 10: calls do not queue without bound behind a database that stopped
    /// answering (here: another process holds it locked); past the queue's capacity they fail at
    /// once, and the store serves again when the database does.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_blocked_database_fills_a_bounded_queue_then_recovers() {
        let dir = TempDir::new();
        let store = store(&dir.db()).await;
        let now = SystemClock.now();
        let locker = rusqlite::Connection::open(dir.db()).unwrap();
        locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let calls = (0..6000).map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let key = random_key();
                let created = store.create(&key, &record(now, now + 60)).await;
                (key, created)
            })
        });
        let calls: Vec<_> = calls.collect();
        // Let every call reach the queue, then let the database answer again.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        locker.execute_batch("COMMIT").unwrap();
        let mut full = 0;
        for call in calls {
            let (key, created) = call.await.unwrap();
            match created {
                Ok(true) => assert!(store.load(&key).await.unwrap().is_some(), "an Ok create is stored"),
                Ok(false) => panic!("a fresh key is never taken"),
                Err(err) if err.to_string().contains("queue is full") => {
                    full += 1;
                    assert!(store.load(&key).await.unwrap().is_none(), "a refused create stores nothing");
                }
                // The batch that waited on the lock may have hit the busy timeout.
                Err(err) => assert!(err.to_string().contains("locked") || err.to_string().contains("busy"), "{err}"),
            }
        }
        assert!(full > 0, "6000 calls behind a locked database overflow a 4096-call queue");
        let key = random_key();
        assert!(store.create(&key, &record(now, now + 60)).await.unwrap(), "served again");
    }

    /// Once every clone is dropped, the threads close their connections: the database can leave
    /// WAL mode (which needs its only connection), be deleted and be opened afresh.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_last_clone_ends_the_threads() {
        let dir = TempDir::new();
        let wal = dir.0.join("sessions.db-wal");
        let now = SystemClock.now();
        let key = random_key();
        let store = store(&dir.db()).await;
        let clone = store.clone();
        assert!(store.create(&key, &record(now, now + 60)).await.unwrap());
        assert!(clone.load(&key).await.unwrap().is_some());
        assert!(wal.exists(), "WAL mode, connections open");
        drop(store);
        assert!(clone.load(&key).await.unwrap().is_some(), "a clone keeps the threads");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(wal.exists(), "a clone keeps the connections");
        drop(clone);
        // Leaving WAL mode needs the only connection to the database: it succeeds once the
        // threads have closed theirs. (Waiting for the `-wal` file to vanish is not enough: two
        // connections closing at the same moment may each leave it to the other.)
        let start = Instant::now();
        loop {
            let conn = rusqlite::Connection::open(dir.db()).unwrap();
            conn.busy_timeout(Duration::ZERO).unwrap();
            let mode = conn.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get::<_, String>(0));
            if mode.is_ok_and(|mode| mode == "delete") {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "the connections are still open");
            drop(conn);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!wal.exists());
        std::fs::remove_file(dir.db()).unwrap();
        let fresh = super::sqlite::store(&dir.db()).await;
        assert!(fresh.load(&key).await.unwrap().is_none(), "a fresh database");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_memory_databases_are_one_per_store() {
        for target in [":memory:", "sqlite::memory:"] {
            let a = SqliteStore::connect(target).await.unwrap();
            a.migrate().await.unwrap();
            let b = SqliteStore::connect(target).await.unwrap();
            let now = SystemClock.now();
            let key = random_key();
            assert!(a.create(&key, &record(now, now + 60)).await.unwrap());
            // Concurrent loads and writes on the single connection.
            let tasks: Vec<_> = (0..50)
                .map(|i| {
                    let (a, key) = (a.clone(), key.clone());
                    tokio::spawn(async move {
                        let mut update = Update { expires_at: now + 60, ..Update::default() };
                        update.set.insert(format!("f{i}"), json!(i));
                        assert!(a.update(&key, &update).await.unwrap());
                        a.load(&key).await.unwrap().unwrap()
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(a.load(&key).await.unwrap().unwrap().fields.len(), 51, "{target}");
            assert!(b.load(&key).await.is_err(), "{target}: another database, without the table");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn purge_removes_expired_rows_only() {
        let dir = TempDir::new();
        let store = store(&dir.db()).await;
        purge_removes_only_expired(&store).await;
        assert_eq!(count(&dir.db(), "sessions"), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrate_twice_and_concurrently_is_harmless() {
        let dir = TempDir::new();
        let store = store(&dir.db()).await;
        let path = dir.db();
        migrate_is_repeatable(&store, || async {
            SqliteStore::connect(path.to_str().unwrap()).await.unwrap().with_table_name("fresh").unwrap()
        })
        .await;
        assert_eq!(count(&dir.db(), "sessions"), 1);
        assert_eq!(count(&dir.db(), "fresh"), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_are_case_sensitive() {
        let dir = TempDir::new();
        ids_are_case_sensitive(&store(&dir.db()).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn update_replaces_nested_values_and_keeps_unicode() {
        let dir = TempDir::new();
        let store = store(&dir.db()).await;
        let (key, now) = nested_and_unicode_update(&store, WITH_NUL).await;
        // The encoding on disk is unchanged: each field's JSON text in one JSON object.
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        let data: String = conn.query_row("SELECT data FROM sessions WHERE id = ?1", [&key], |row| row.get(0)).unwrap();
        let data: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["nested"], json!("{\"a\":{\"c\":2}}"));
        assert_eq!(data["user_id"], json!("1"));
        // An update that changes nothing still finds the row; a missing row is reported missing.
        let same = Update { expires_at: now + 120, permanent: Some(true), ..Update::default() };
        assert!(store.update(&key, &same).await.unwrap());
        assert!(!store.update(&random_key(), &same).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_session_configured_by_url_round_trips() {
        let dir = TempDir::new();
        let url = format!("sqlite://{}", dir.db().display());
        let config = Config::new().with_secret_key(SECRET).with_session(
            SessionConfig::new("session")
                .with_type(SessionType::Sqlite)
                .with_url(url)
                .with_table("web_sessions")
                .with_field_selector(FieldSelector::Auto),
        );
        let manager = SessionManager::builder(config).without_purge_tasks().build().await.unwrap();
        let mut client = Client::new(serve(&manager).await);
        assert_eq!(client.post("/set/user_id", "\"alice\"").await.status, 200);
        assert_eq!(client.get("/get/user_id").await.json(), json!("alice"));
        assert_eq!(count(&dir.db(), "web_sessions"), 1);
        assert_eq!(client.post("/clear", "").await.status, 200);
        assert_eq!(count(&dir.db(), "web_sessions"), 0);
    }

    #[tokio::test]
    async fn table_names_must_be_plain_identifiers() {
        let store = SqliteStore::connect(":memory:").await.unwrap();
        for bad in ["", "1abc", "a-b", "a b", "t; DROP TABLE x", "é"] {
            assert!(store.clone().with_table_name(bad).is_err(), "{bad:?}");
        }
        assert!(store.with_table_name("_web_sessions2").is_ok());
    }
}
