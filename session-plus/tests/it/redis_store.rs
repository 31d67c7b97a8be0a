//! Redis-only behaviour: native expiry, round trips counted by the server, an outage and
//! recovery of a real redis-server, and two app instances sharing one Redis.
#![cfg(feature = "store-redis")]

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{serve, Client, SECRET};
use serde_json::{json, Value};
use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{CasOutcome, Error, Record, RedisStore, ReplicationError, SessionStore, Update};
use session_plus::{Config, SessionManager};

/// A redis-server of this test's own, on a free port, so it can be stopped without disturbing
/// other tests.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
    /// More arguments for redis-server (`--replicaof`).
    extra: Vec<String>,
}

impl OwnRedis {
    fn start() -> Self {
        Self::start_with(Vec::new())
    }

    fn start_with(extra: Vec<String>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Self { port, child: None, extra };
        redis.restart();
        redis
    }

    /// A replica of `primary`, once the primary counts it as online.
    async fn replica_of(primary: &OwnRedis) -> Self {
        let client = redis::Client::open(primary.url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        // The primary waits 5 s for more replicas before a diskless sync by default: none here.
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("repl-diskless-sync-delay")
            .arg(0)
            .query_async(&mut connection)
            .await
            .unwrap();
        // A replica stores the primary's snapshot on disk while it syncs: in the temp dir.
        let dir = std::env::temp_dir().display().to_string();
        let args = ["--replicaof", "127.0.0.1", &primary.port.to_string(), "--dir", &dir].map(str::to_owned);
        let replica = Self::start_with(args.to_vec());
        for _ in 0..100 {
            let info: String = redis::cmd("INFO").arg("replication").query_async(&mut connection).await.unwrap();
            if info.contains("state=online") {
                return replica;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the replica did not come online");
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test.sh installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
    }

    /// How many times the server ran `commands`, in all (from `INFO commandstats`).
    async fn calls(&self, commands: &[&str]) -> u64 {
        let info: String =
            redis::cmd("INFO").arg("commandstats").query_async(&mut self.connection().await).await.unwrap();
        let calls = |command: &str| {
            info.lines()
                .find(|line| line.starts_with(&format!("cmdstat_{command}:")))
                .and_then(|line| line.split("calls=").nth(1))
                .and_then(|rest| rest.split(',').next())
                .map_or(0, |n| n.parse().unwrap())
        };
        commands.iter().map(|command| calls(command)).sum()
    }

    async fn stats(&self) -> (u64, u64) {
        // Every write is a script (its inner commands count in their own lines, so they are left
        // out), a DEL or a transaction.
        (self.calls(&["hgetall"]).await, self.calls(&["evalsha", "eval", "exec", "del"]).await)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The Redis the test command starts (or `SESSION_PLUS_REDIS_URL`).
fn redis_url() -> String {
    std::env::var("SESSION_PLUS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// The key of a session with a fresh id.
fn new_key() -> String {
    format!("session:{}", Id::random().unwrap().as_str())
}

fn config(url: &str) -> Config {
    Config::from_toml_str(&config_toml(url)).unwrap()
}

/// The configuration's text, ending in the `session` table, so that a test can add its keys.
fn config_toml(url: &str) -> String {
    format!(
        r#"
        secret_keys = ["{SECRET}"]
        [[session]]
        cookie_name = "csrf"
        session_fields = ["csrf_token"]
        [[session]]
        cookie_name = "session"
        session_type = "redis"
        url = "{url}"
        session_fields = "auto"
        "#
    )
}

#[tokio::test]
async fn redis_drops_expired_sessions_itself() {
    let url = redis_url();
    let store = RedisStore::connect(&url).await.unwrap();
    let key = new_key();
    let now = SystemClock.now();
    let record = Record { created_at: now, expires_at: now + 1, ..Record::default() };
    assert!(store.create(&key, &record).await.unwrap());
    assert!(store.load(&key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let exists: i64 = redis::cmd("EXISTS").arg(&key).query_async(&mut connection).await.unwrap();
    assert_eq!(exists, 0, "the key is gone from Redis itself");
}

#[tokio::test]
async fn round_trips_counted_by_the_server() {
    let redis = OwnRedis::start();
    let manager = SessionManager::new(config(&redis.url())).await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/user_id", "1").await;
    client.post("/set/csrf_token", "\"t\"").await;
    // Warm the script cache so EVALSHA is not followed by an EVAL.
    client.post("/set/user_id", "2").await;

    let before = redis.stats().await;
    client.get("/get/csrf_token").await;
    assert_eq!(redis.stats().await, before, "a request that does not use Redis costs nothing");

    client.get("/get/user_id").await;
    let after_read = redis.stats().await;
    assert_eq!((after_read.0 - before.0, after_read.1 - before.1), (1, 0), "a read is one HGETALL");

    client.post("/set/user_id", "3").await;
    let after_write = redis.stats().await;
    assert_eq!(
        (after_write.0 - after_read.0, after_write.1 - after_read.1),
        (1, 1),
        "a read and a write are one HGETALL and one update script (HSET and PEXPIREAT within it)"
    );
}

/// flask-session-plus's format keeps a session in one value, which an update swaps whole: the
/// value the request's load read is the swap's guess, so a read and a write read the record once
/// (a `GET` and `PTTL`, then the script), not again before the script.
#[cfg(feature = "flask")]
#[tokio::test]
async fn a_python_format_update_swaps_against_what_the_load_read() {
    let redis = OwnRedis::start();
    let toml = config_toml(&redis.url()) + "        format = \"flask-session-plus\"\n";
    let manager = SessionManager::new(Config::from_toml_str(&toml).unwrap()).await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/user_id", "1").await;
    // Warm the script cache so EVALSHA is not followed by an EVAL.
    client.post("/set/user_id", "2").await;
    // A read is a `GET` and a `PTTL`, pipelined; the script's own `GET` and `SET` count under
    // their names too, so reads are counted by their `PTTL`.
    let reads = || async { redis.calls(&["pttl"]).await };
    let scripts = || async { redis.calls(&["evalsha", "eval"]).await };

    let (reads_before, scripts_before) = (reads().await, scripts().await);
    client.post("/set/user_id", "3").await;
    assert_eq!(reads().await - reads_before, 1, "one read: the load's");
    assert_eq!(scripts().await - scripts_before, 1, "one compare-and-swap script");
    assert_eq!(client.get("/get/user_id").await.json(), json!(3));

    // Another writer between a load and its update: the guess misses, and the script's reply
    // carries what that writer left, so the retry swaps against it with no read in between;
    // both changes are kept. (Over HTTP a request's load comes right before its update, so this
    // is done on the store itself.)
    let key = redis_key_of(&client, "session");
    let store = session_plus::store::FlaskStore::redis(
        RedisStore::connect(&redis.url()).await.unwrap(),
        session_plus::store::RecordEncoding::TaggedJson,
    );
    assert!(store.load(&key).await.unwrap().is_some());
    let mut connection = redis.connection().await;
    let value: String = redis::cmd("GET").arg(&key).query_async(&mut connection).await.unwrap();
    let other = value.replacen('{', r#"{"theme":"dark","#, 1);
    let () = redis::cmd("SET").arg(&key).arg(&other).arg("KEEPTTL").query_async(&mut connection).await.unwrap();
    let gets = || async { redis.calls(&["get"]).await };
    let (gets_before, scripts_before, reads_before) = (gets().await, scripts().await, reads().await);
    let mut update = Update { expires_at: SystemClock.now() + 3600, ..Update::default() };
    update.set.insert("user_id".into(), json!(4));
    assert!(store.update(&key, &update).await.unwrap());
    assert_eq!(scripts().await - scripts_before, 2, "a missed swap and its retry");
    assert_eq!(gets().await - gets_before, 2, "one GET in each script: no read in between");
    assert_eq!(reads().await - reads_before, 1, "the miss's reply carries the time to live");
    assert_eq!(client.get("/get/user_id").await.json(), json!(4));
    assert_eq!(client.get("/get/theme").await.json(), json!("dark"), "the other write is kept");

    // A logout elsewhere is never undone by an update that guessed.
    client.get("/get/user_id").await;
    let () = redis::cmd("DEL").arg(&key).query_async(&mut connection).await.unwrap();
    client.post("/set/user_id", "5").await;
    let new_key = redis_key_of(&client, "session");
    assert_ne!(new_key, key, "a new session, never the deleted one re-created");
    let exists: i64 = redis::cmd("EXISTS").arg(&key).query_async(&mut connection).await.unwrap();
    assert_eq!(exists, 0);
}

/// A Python-format update that loses its swap to a write that changed, since the request's load,
/// the very fields it changes keeps that write and stops: per-field last-writer-wins lets it count
/// as the earlier write, and a retry would only overwrite the winner. Then the threads of one
/// process need not take turns for a same-field race, and it costs one script, not two.
#[cfg(feature = "flask")]
#[tokio::test]
async fn a_python_format_update_that_lost_its_field_to_a_later_write_keeps_that_write() {
    let redis = OwnRedis::start();
    let store = session_plus::store::FlaskStore::redis(
        RedisStore::connect(&redis.url()).await.unwrap(),
        session_plus::store::RecordEncoding::TaggedJson,
    );
    assert!(store.reads_loaded_values(), "sessions fill `Update::loaded` for it");
    let key = new_key();
    let expires_at = SystemClock.now() + 3600;
    let mut record = Record { expires_at, ..Record::default() };
    record.fields.insert("hits".into(), json!(1));
    assert!(store.create(&key, &record).await.unwrap());
    let mut connection = redis.connection().await;
    let scripts = || async { redis.calls(&["evalsha", "eval"]).await };
    // Warm the script cache, so that each swap below is one EVALSHA.
    let mut warm = Update { expires_at, ..Update::default() };
    warm.set.insert("warm".into(), json!(true));
    assert!(store.update(&key, &warm).await.unwrap());

    // The request loads `hits: 1`; another process writes `hits: 7` before its update.
    assert!(store.load(&key).await.unwrap().is_some());
    let value: String = redis::cmd("GET").arg(&key).query_async(&mut connection).await.unwrap();
    let later = value.replace(r#""hits":1"#, r#""hits":7"#);
    assert_ne!(later, value);
    let () = redis::cmd("SET").arg(&key).arg(&later).arg("KEEPTTL").query_async(&mut connection).await.unwrap();
    let mut update = Update { expires_at, loaded: Some(serde_json::Map::new()), ..Update::default() };
    update.set.insert("hits".into(), json!(2));
    update.loaded.as_mut().unwrap().insert("hits".into(), json!(1));
    let before = scripts().await;
    assert!(store.update(&key, &update).await.unwrap(), "the record is there");
    assert_eq!(scripts().await - before, 1, "the missed swap, and no retry");
    assert_eq!(store.load(&key).await.unwrap().unwrap().fields["hits"], json!(7), "the later write stands");

    // Another field changed since the load, this one not: the retry writes it over that write.
    let value: String = redis::cmd("GET").arg(&key).query_async(&mut connection).await.unwrap();
    let other = value.replacen('{', r#"{"theme":"dark","#, 1);
    let () = redis::cmd("SET").arg(&key).arg(&other).arg("KEEPTTL").query_async(&mut connection).await.unwrap();
    update.loaded.as_mut().unwrap().insert("hits".into(), json!(7));
    let before = scripts().await;
    assert!(store.update(&key, &update).await.unwrap());
    assert_eq!(scripts().await - before, 2, "a missed swap and its retry");
    let fields = store.load(&key).await.unwrap().unwrap().fields;
    assert_eq!((&fields["hits"], &fields["theme"]), (&json!(2), &json!("dark")), "both changes kept");

    // Loaded values unknown: a miss is always retried, as before.
    let value: String = redis::cmd("GET").arg(&key).query_async(&mut connection).await.unwrap();
    let later = value.replace(r#""hits":2"#, r#""hits":9"#);
    let () = redis::cmd("SET").arg(&key).arg(&later).arg("KEEPTTL").query_async(&mut connection).await.unwrap();
    let blind = Update { loaded: None, ..update.clone() };
    assert!(store.update(&key, &blind).await.unwrap());
    assert_eq!(store.load(&key).await.unwrap().unwrap().fields["hits"], json!(2));
}

/// The Redis key of the session behind `client`'s cookie `name`.
#[cfg(feature = "flask")]
fn redis_key_of(client: &Client, name: &str) -> String {
    let cookie = client.cookie(name).expect("the session has a cookie");
    // flask-session-plus's ids are unsigned uuid4s; its keys are the prefix and the id.
    format!("session{cookie}")
}

#[tokio::test]
async fn an_outage_gives_503_and_the_same_instance_recovers() {
    let mut redis = OwnRedis::start();
    let manager = SessionManager::new(config(&redis.url())).await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    client.post("/set/user_id", "1").await;
    client.post("/set/csrf_token", "\"t\"").await;

    redis.stop();
    for _ in 0..3 {
        let reply = client.get("/get/user_id").await;
        assert_eq!(reply.status, 503);
        assert!(reply.set_cookies.is_empty());
        assert_eq!(client.post("/set/user_id", "2").await.status, 503);
    }
    assert_eq!(client.get("/get/csrf_token").await.json(), json!("t"), "cookie sessions keep working");

    redis.restart(); // an empty Redis: the session is gone, the app must not be
    let mut recovered = false;
    for _ in 0..50 {
        if client.get("/get/user_id").await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the same instance works again once Redis is back");
    assert_eq!(client.get("/get/user_id").await.json(), Value::Null);
    assert_eq!(client.post("/set/user_id", "3").await.status, 200);
    assert_eq!(client.get("/get/user_id").await.json(), json!(3));
}

#[tokio::test]
async fn two_instances_share_one_redis() {
    let url = redis_url();
    let a = SessionManager::new(config(&url)).await.unwrap();
    let b = SessionManager::new(config(&url)).await.unwrap();
    let (addr_a, addr_b) = (serve(&a).await, serve(&b).await);
    let mut on_a = Client::new(addr_a);
    on_a.post("/set/user_id", "\"alice\"").await;
    let mut on_b = Client::new(addr_b);
    on_b.jar = on_a.jar.clone();
    assert_eq!(on_b.get("/get/user_id").await.json(), json!("alice"), "a login on A is seen on B");
    on_b.post("/clear", "").await;
    assert_eq!(on_a.get("/get/user_id").await.json(), Value::Null, "a logout on B is seen on A");
}

#[tokio::test]
async fn an_update_of_a_deleted_session_leaves_nothing_behind() {
    let url = redis_url();
    let store = RedisStore::connect(&url).await.unwrap();
    let key = new_key();
    let now = SystemClock.now();
    let mut update = Update { expires_at: now + 60, ..Update::default() };
    assert!(!store.update(&key, &update).await.unwrap(), "no record: nothing to update");
    update.set.insert("user_id".into(), json!(7));
    update.remove.push("theme".into());
    assert!(!store.update(&key, &update).await.unwrap());
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let exists: i64 = redis::cmd("EXISTS").arg(&key).query_async(&mut connection).await.unwrap();
    assert_eq!(exists, 0, "no remnant is left");

    // And an existing record is updated, meta fields only or with fields.
    let record = Record { created_at: now, expires_at: now + 10, ..Record::default() };
    assert!(store.create(&key, &record).await.unwrap());
    assert!(store.update(&key, &Update { expires_at: now + 90, ..Update::default() }).await.unwrap());
    assert!(store.update(&key, &update).await.unwrap());
    let loaded = store.load(&key).await.unwrap().unwrap();
    // Issue 10, item 6: without a new permanence the expiry never moves backwards.
    assert_eq!((loaded.expires_at, loaded.fields.get("user_id")), (now + 90, Some(&json!(7))));
    assert!(store.delete(&key).await.unwrap());
}

/// The compare-and-set script compares texts; a value stored in another spelling (by a build
/// whose `serde_json` orders keys or prints floats otherwise) is still the same value: the store
/// retries with the stored text, and another value still conflicts.
#[tokio::test]
async fn compare_and_set_compares_values_not_their_spelling() {
    let url = redis_url();
    let store = RedisStore::connect(&url).await.unwrap();
    let key = new_key();
    let now = SystemClock.now();
    assert!(store.create(&key, &Record { created_at: now, expires_at: now + 60, ..Record::default() }).await.unwrap());
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("f:n")
        .arg(r#"{ "b": [1.50], "a": 1 }"#)
        .query_async(&mut connection)
        .await
        .unwrap();

    let expected = store.load(&key).await.unwrap().unwrap().fields["n"].clone();
    assert_eq!(expected, json!({"a": 1, "b": [1.5]}));
    let other = json!({"a": 2, "b": [1.5]});
    assert_eq!(store.compare_and_set(&key, "n", Some(&other), &json!(0), now).await.unwrap(), CasOutcome::Conflict);
    assert_eq!(store.compare_and_set(&key, "n", Some(&expected), &json!(3), now).await.unwrap(), CasOutcome::Set);
    let stored: String = redis::cmd("HGET").arg(&key).arg("f:n").query_async(&mut connection).await.unwrap();
    assert_eq!(stored, "3");
    assert!(store.delete(&key).await.unwrap());
}

/// Issue 14, item 9: `redis_wait_replicas` makes every write wait for a replica (`WAIT`, pipelined
/// with it). With the replica up, writes succeed; with it gone, a write fails with a
/// `ReplicationError` (it stays on the primary) and the response is the save's error status
/// with no cookie of that session.
#[tokio::test]
async fn wait_confirms_writes_on_a_replica_and_refuses_them_without_one() {
    let primary = OwnRedis::start();
    let mut replica = OwnRedis::replica_of(&primary).await;
    // Writes a live replica confirms get time to spare (a loaded CI machine answers `WAIT` late:
    // 100 ms once proved too short); the refusals below wait 100 ms.
    let timeout = Duration::from_millis(100);
    let generous = Duration::from_millis(1500); // the most `redis_wait_timeout` allows
    let store = RedisStore::connect(&primary.url()).await.unwrap().with_wait(1, generous);
    let key = new_key();
    let now = SystemClock.now();
    let record = Record { created_at: now, expires_at: now + 60, ..Record::default() };
    assert!(store.create(&key, &record).await.unwrap(), "confirmed by the replica");
    let mut update = Update { expires_at: now + 60, ..Update::default() };
    update.set.insert("user_id".into(), json!(1));
    assert!(store.update(&key, &update).await.unwrap());

    let with_wait = |timeout: &str| {
        let toml = format!(
            "{}\nredis_wait_replicas = 1\nredis_wait_timeout = \"{timeout}\"\nsave_error_status = 503\n",
            config_toml(&primary.url())
        );
        Config::from_toml_str(&toml).unwrap()
    };
    let confirmed = SessionManager::new(with_wait("1500ms")).await.unwrap();
    let mut client = Client::new(serve(&confirmed).await);
    let reply = client.post("/set/user_id", "1").await;
    assert_eq!(reply.status, 200);
    assert!(reply.set_cookie("session").is_some());

    replica.stop();
    let store = store.with_wait(1, timeout);
    let manager = SessionManager::new(with_wait("100ms")).await.unwrap();
    update.set.insert("user_id".into(), json!(2));
    let started = std::time::Instant::now();
    match store.update(&key, &update).await {
        Err(Error::Backend(error)) => {
            let shortfall = error.downcast_ref::<ReplicationError>().expect("a ReplicationError");
            assert_eq!((shortfall.acknowledged, shortfall.wanted, shortfall.timeout_ms), (0, 1, 100));
            assert!(error.to_string().contains("only 0 of 1 replicas confirmed it within 100 ms"), "{error}");
        }
        other => panic!("expected a replication error, got {other:?}"),
    }
    assert!(started.elapsed() >= timeout, "the primary waited for the replica");
    let kept = store.load(&key).await.unwrap().expect("the record");
    assert_eq!(kept.fields["user_id"], json!(2), "the write is on the primary, only unconfirmed");

    let mut fresh = Client::new(serve(&manager).await);
    let reply = fresh.post("/set/user_id", "1").await;
    assert_eq!(reply.status, 503, "a save WAIT cannot confirm fails");
    assert!(reply.set_cookie("session").is_none(), "and sends no cookie of that session");
    // The visitor above, now on an app whose writes no replica confirms.
    let jar = client.jar.clone();
    let mut client = Client::new(serve(&manager).await);
    client.jar = jar;
    let reply = client.post("/set/user_id", "2").await;
    assert_eq!(reply.status, 503);
    assert!(reply.set_cookie("session").is_none());
}

/// A session's creation time, expiry and permanence are one hash field, `m`, beside its fields:
/// a load's reply carries two strings for them, not six.
#[tokio::test]
async fn a_session_keeps_its_meta_in_one_hash_field() {
    let url = redis_url();
    let store = RedisStore::connect(&url).await.unwrap();
    let key = new_key();
    let now = SystemClock.now();
    let mut record = Record { created_at: now, expires_at: now + 60, permanent: true, ..Record::default() };
    record.fields.insert("user_id".into(), json!(7));
    assert!(store.create(&key, &record).await.unwrap());
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let hash: std::collections::BTreeMap<String, String> =
        redis::cmd("HGETALL").arg(&key).query_async(&mut connection).await.unwrap();
    let expected = [("f:user_id".to_owned(), "7".to_owned()), ("m".to_owned(), format!("{now} {} 1", now + 60))];
    assert_eq!(hash, expected.into_iter().collect());

    // An update keeps it one field, with the new expiry and permanence.
    let update = Update { expires_at: now + 90, permanent: Some(false), ..Update::default() };
    assert!(store.update(&key, &update).await.unwrap());
    let meta: String = redis::cmd("HGET").arg(&key).arg("m").query_async(&mut connection).await.unwrap();
    assert_eq!(meta, format!("{now} {} 0", now + 90));
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!((loaded.created_at, loaded.expires_at, loaded.permanent), (now, now + 90, false));
    assert!(store.delete(&key).await.unwrap());
}

/// Sessions written before the meta became one field (`m:created`, `m:expires`, `m:permanent`)
/// are read as they are, and moved to the one field by their first write: an upgrade logs
/// no one out.
#[tokio::test]
async fn a_session_in_the_earlier_three_field_layout_is_read_and_moved_on_its_first_write() {
    let url = redis_url();
    let store = RedisStore::connect(&url).await.unwrap();
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let now = SystemClock.now();
    let legacy = |key: &str, permanent: &str| {
        let mut call = redis::cmd("HSET");
        call.arg(key).arg("m:created").arg(now - 5).arg("m:expires").arg(now + 60);
        call.arg("m:permanent").arg(permanent).arg("f:user_id").arg("7");
        call
    };
    let keys = |key: &str| redis::cmd("HKEYS").arg(key).clone();

    // Read, then updated without a new permanence: the later expiry and the permanence stay.
    let key = new_key();
    let _: () = legacy(&key, "1").query_async(&mut connection).await.unwrap();
    let loaded = store.load(&key).await.unwrap().expect("the earlier layout is a session");
    assert_eq!((loaded.created_at, loaded.expires_at, loaded.permanent), (now - 5, now + 60, true));
    assert_eq!(loaded.fields.get("user_id"), Some(&json!(7)));
    let mut update = Update { expires_at: now + 30, ..Update::default() };
    update.set.insert("theme".into(), json!("dark"));
    assert!(store.update(&key, &update).await.unwrap());
    let mut names: Vec<String> = keys(&key).query_async(&mut connection).await.unwrap();
    names.sort();
    assert_eq!(names, ["f:theme", "f:user_id", "m"]);
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!((loaded.created_at, loaded.expires_at, loaded.permanent), (now - 5, now + 60, true));
    assert_eq!(loaded.fields.get("theme"), Some(&json!("dark")));
    assert!(store.delete(&key).await.unwrap());

    // A compare-and-set moves it too, and moves the expiry forward only.
    let key = new_key();
    let _: () = legacy(&key, "0").query_async(&mut connection).await.unwrap();
    let outcome = store.compare_and_set(&key, "user_id", Some(&json!(7)), &json!(8), now + 120).await.unwrap();
    assert_eq!(outcome, CasOutcome::Set);
    let mut names: Vec<String> = keys(&key).query_async(&mut connection).await.unwrap();
    names.sort();
    assert_eq!(names, ["f:user_id", "m"]);
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!((loaded.created_at, loaded.expires_at, loaded.permanent), (now - 5, now + 120, false));
    assert_eq!(loaded.fields.get("user_id"), Some(&json!(8)));
    assert!(store.delete(&key).await.unwrap());
}
