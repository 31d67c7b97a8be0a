//! MongoDB-only behaviour: field names MongoDB treats specially, exact JSON values, the TTL index
//! and the server's own expiry, the purge, racing creates, the builder's settings, an outage and
//! recovery of a server of the test's own, and two app instances sharing one collection.
#![cfg(feature = "store-mongodb")]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::doc;
use serde_json::{json, Map, Value};
use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{CasOutcome, MongoDbStore, Record, SessionStore, Update};
use session_plus::{BuildError, Config, FieldSelector, SessionConfig, SessionManager, SessionType};

use crate::common::{serve, Client, SECRET};

pub(crate) fn url() -> String {
    std::env::var("SESSION_PLUS_MONGODB_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/session_plus_test?directConnection=true".into())
}

/// A store on a collection of its own, dropped by [`drop`].
async fn fresh_store() -> MongoDbStore {
    let name = format!("t_{}", &Id::random().unwrap().as_str()[..16]);
    MongoDbStore::connect(&url()).await.unwrap().with_collection_name(name).unwrap()
}

async fn drop(store: &MongoDbStore) {
    store.collection().drop().await.unwrap();
}

fn key() -> String {
    format!("session:{}", Id::random().unwrap().as_str())
}

const HOSTILE: [&str; 13] =
    [".", "a.b", "$x", "$", "", "a.b.$c", "%", "%2E", "%24x", "a%", "\0", "日本.語 ✓", "$where.$gt"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_field_names_round_trip() {
    let store = fresh_store().await;
    let now = SystemClock.now();
    let mut fields = Map::new();
    for (i, name) in HOSTILE.iter().enumerate() {
        fields.insert((*name).to_owned(), json!(i));
    }
    let record = Record { fields, created_at: now, expires_at: now + 60, permanent: false };
    let key = key();
    assert!(store.create(&key, &record).await.unwrap());
    assert_eq!(store.load(&key).await.unwrap().unwrap(), record);

    // Every stored key is one literal key under `f`: no path, no operator.
    let raw = store.collection().find_one(doc! { "_id": &key }).await.unwrap().unwrap();
    let stored = raw.get_document("f").unwrap();
    assert_eq!(stored.len(), HOSTILE.len());
    for name in stored.keys() {
        assert!(!name.is_empty() && !name.contains(['.', '\0']) && !name.starts_with('$'), "{name:?}");
    }

    // Updates address the same fields: set some, remove others, add new hostile ones.
    let mut update = Update { expires_at: now + 120, permanent: Some(true), ..Update::default() };
    update.set.insert("a.b.$c".into(), json!("changed"));
    update.set.insert("".into(), json!({"empty": true}));
    update.set.insert("$new.field".into(), json!([1]));
    update.remove = vec![".".into(), "$x".into(), "\0".into(), "never.there".into()];
    assert!(store.update(&key, &update).await.unwrap());
    let mut expected = record.clone();
    update.apply_to(&mut expected);
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(loaded, expected);
    assert_eq!(loaded.fields["a.b"], json!(1), "`a.b` is not the path a → b, and was left alone");
    assert!(!loaded.fields.contains_key("$x"));
    drop(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_values_round_trip_exactly() {
    let store = fresh_store().await;
    let now = SystemClock.now();
    let values = json!({
        "u64_max": u64::MAX,
        "above_i64": (i64::MAX as u64) + 1,
        "i64_min": i64::MIN,
        "i64_max": i64::MAX,
        "float_one": 1.0,
        "tenth": 0.1,
        "huge": 1e300,
        "tiny": 5e-324,
        "negative_zero": -0.0,
        "text": "NUL \u{0} é 😀 \"quoted\"",
        "nested": {"a.b": {"$c": 1, "$gt": [{"x.y": null}]}, "": {"$": ""}},
        "extended_json": {"$numberLong": "5", "$date": {"$numberLong": "0"}, "$oid": "000000000000000000000000"},
        "array": [1, 1.5, "2", [], {}, null, true],
    });
    let Value::Object(fields) = values else { unreachable!() };
    let record = Record { fields: fields.clone(), created_at: now, expires_at: now + 60, permanent: true };
    let key = key();
    assert!(store.create(&key, &record).await.unwrap());
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(loaded, record);
    assert!(loaded.fields["float_one"].is_f64(), "1.0 stays a float");
    assert_eq!(loaded.fields["u64_max"].as_u64(), Some(u64::MAX));
    assert_eq!(loaded.fields["extended_json"]["$numberLong"], "5", "not read as Extended JSON");

    // Through an update too.
    let mut update = Update { expires_at: now + 60, permanent: Some(true), ..Update::default() };
    update.set = fields.into_iter().map(|(name, value)| (format!("{name}.again"), value)).collect();
    assert!(store.update(&key, &update).await.unwrap());
    let mut expected = record;
    update.apply_to(&mut expected);
    assert_eq!(store.load(&key).await.unwrap().unwrap(), expected);
    drop(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_makes_a_ttl_index_and_is_idempotent() {
    let store = fresh_store().await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let mut indexes = store.collection().list_indexes().await.unwrap();
    let mut ttl = Vec::new();
    while indexes.advance().await.unwrap() {
        let index = indexes.deserialize_current().unwrap();
        if index.keys == doc! { "expires_at": 1 } {
            ttl.push(index.options.and_then(|o| o.expire_after));
        }
    }
    assert_eq!(ttl, [Some(Duration::ZERO)], "one TTL index on expires_at, expireAfterSeconds 0");
    // Concurrent migrations (several app instances starting at once) agree too.
    let (a, b) = tokio::join!(store.migrate(), store.migrate());
    a.unwrap();
    b.unwrap();
    drop(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_expired_counts_what_it_deletes() {
    // No TTL index on this collection: only the purge removes anything.
    let store = fresh_store().await;
    let now = SystemClock.now();
    let mut keys = Vec::new();
    for expires_at in [now - 100, now - 1, now, now + 1, now + 100, now + 1000] {
        let key = key();
        assert!(store.create(&key, &Record { created_at: now - 200, expires_at, ..Record::default() }).await.unwrap());
        keys.push((key, expires_at));
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 3, "expires_at <= now");
    for (key, expires_at) in &keys {
        assert_eq!(store.load(key).await.unwrap().is_some(), *expires_at > now);
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);
    assert_eq!(store.purge_expired(now + 1000).await.unwrap(), 3);
    assert!(store.expires_natively());
    drop(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_key_have_one_winner() {
    let store = Arc::new(fresh_store().await);
    let now = SystemClock.now();
    let key = key();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                let mut fields = Map::new();
                fields.insert("writer".into(), json!(i));
                let record = Record { fields, created_at: now, expires_at: now + 60, permanent: false };
                (i, store.create(&key, &record).await.unwrap())
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (i, created) = task.await.unwrap();
        if created {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create succeeds: {winners:?}");
    assert_eq!(store.load(&key).await.unwrap().unwrap().fields["writer"], json!(winners[0]));
    drop(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_of_a_missing_record_creates_nothing() {
    let store = fresh_store().await;
    let now = SystemClock.now();
    let key = key();
    let mut update = Update { expires_at: now + 60, ..Update::default() };
    update.set.insert("user_id".into(), json!(1));
    update.remove.push("other".into());
    assert!(!store.update(&key, &update).await.unwrap());
    assert!(store.load(&key).await.unwrap().is_none());
    assert_eq!(store.collection().count_documents(doc! {}).await.unwrap(), 0);

    // Nor once deleted.
    assert!(store.create(&key, &Record { created_at: now, expires_at: now + 60, ..Record::default() }).await.unwrap());
    store.delete(&key).await.unwrap();
    assert!(!store.update(&key, &update).await.unwrap());
    assert_eq!(store.collection().count_documents(doc! {}).await.unwrap(), 0);
    drop(&store).await;
}

/// The compare-and-set filter compares texts; a value stored in another spelling is still the
/// same value (the store retries with the stored text), and another value still conflicts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_set_compares_values_not_their_spelling() {
    let store = fresh_store().await;
    let now = SystemClock.now();
    let key = key();
    assert!(store.create(&key, &Record { created_at: now, expires_at: now + 60, ..Record::default() }).await.unwrap());
    let spelled = doc! { "$set": { "f.n": r#"{ "b": [1.50], "a": 1 }"# } };
    store.collection().update_one(doc! { "_id": &key }, spelled).await.unwrap();

    let expected = store.load(&key).await.unwrap().unwrap().fields["n"].clone();
    assert_eq!(expected, json!({"a": 1, "b": [1.5]}));
    let other = json!({"a": 2, "b": [1.5]});
    assert_eq!(store.compare_and_set(&key, "n", Some(&other), &json!(0), now).await.unwrap(), CasOutcome::Conflict);
    assert_eq!(store.compare_and_set(&key, "n", Some(&expected), &json!(3), now).await.unwrap(), CasOutcome::Set);
    let raw = store.collection().find_one(doc! { "_id": &key }).await.unwrap().unwrap();
    assert_eq!(raw.get_document("f").unwrap().get_str("n").unwrap(), "3");
    drop(&store).await;
}

/// The server drops an expired record itself. MongoDB's TTL monitor runs every 60 s; the test
/// server (scripts/mongodb_server.py) sweeps every second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_drops_expired_records_itself() {
    let store = fresh_store().await;
    store.migrate().await.unwrap();
    let now = SystemClock.now();
    let (gone, kept) = (key(), key());
    assert!(store.create(&gone, &Record { created_at: now, expires_at: now + 1, ..Record::default() }).await.unwrap());
    assert!(store
        .create(&kept, &Record { created_at: now, expires_at: now + 600, ..Record::default() })
        .await
        .unwrap());
    let mut waited = Duration::ZERO;
    while store.load(&gone).await.unwrap().is_some() {
        assert!(waited < Duration::from_secs(15), "still there after {waited:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    assert!(store.load(&kept).await.unwrap().is_some());
    let update = Update { expires_at: now + 600, ..Update::default() };
    assert!(!store.update(&gone, &update).await.unwrap(), "and an update does not bring it back");
    drop(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_uses_table_as_the_collection_and_migrates() {
    let collection = format!("t_{}", &Id::random().unwrap().as_str()[..16]);
    let manager = SessionManager::builder(config(&url(), &collection)).without_purge_tasks().build().await.unwrap();
    std::mem::drop(manager);
    let store = MongoDbStore::connect(&url()).await.unwrap().with_collection_name(&collection).unwrap();
    let mut indexes = store.collection().list_index_names().await.unwrap();
    indexes.sort();
    assert_eq!(indexes, ["_id_", "expires_at_ttl"]);
    drop(&store).await;

    let err = SessionManager::builder(config(&url(), "bad$name")).build().await.unwrap_err();
    assert!(matches!(&err, BuildError::Config(e) if e.key() == Some("table")), "{err}");
    let unreachable = "mongodb://127.0.0.1:1/x?directConnection=true&serverSelectionTimeoutMS=500";
    let err = SessionManager::builder(config(unreachable, "t")).build().await.unwrap_err();
    assert!(matches!(&err, BuildError::Store { session, .. } if session == "session"), "{err}");
}

#[tokio::test]
async fn collection_names_are_checked() {
    let store = MongoDbStore::connect(&url()).await.unwrap();
    for bad in ["", "a$b", "system.x", "a\0b"] {
        assert!(store.clone().with_collection_name(bad).is_err(), "{bad:?}");
    }
    let renamed = store.with_collection_name("web.sessions").unwrap();
    assert_eq!(renamed.collection().namespace().to_string(), "session_plus_test.web.sessions");
}

fn config(url: &str, collection: &str) -> Config {
    Config::new().with_secret_key(SECRET).with_session(
        SessionConfig::new("session")
            .with_type(SessionType::Mongodb)
            .with_url(url)
            .with_table(collection)
            .with_field_selector(FieldSelector::Auto),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_collection() {
    let collection = format!("t_{}", &Id::random().unwrap().as_str()[..16]);
    let a = SessionManager::builder(config(&url(), &collection)).without_purge_tasks().build().await.unwrap();
    let b = SessionManager::builder(config(&url(), &collection)).without_purge_tasks().build().await.unwrap();
    let mut on_a = Client::new(serve(&a).await);
    assert_eq!(on_a.post("/set/user_id", "\"alice\"").await.status, 200);
    let mut on_b = Client::new(serve(&b).await);
    on_b.jar = on_a.jar.clone();
    assert_eq!(on_b.get("/get/user_id").await.json(), json!("alice"), "a login on A is seen on B");
    assert_eq!(on_b.post("/set/theme", "\"dark\"").await.status, 200);
    on_a.jar = on_b.jar.clone();
    assert_eq!(on_a.get("/get/theme").await.json(), json!("dark"));
    on_b.post("/clear", "").await;
    assert_eq!(on_a.get("/get/user_id").await.json(), Value::Null, "a logout on B is seen on A");
    MongoDbStore::connect(&url())
        .await
        .unwrap()
        .with_collection_name(collection)
        .unwrap()
        .collection()
        .drop()
        .await
        .unwrap();
}

/// A SecantusDB of this test's own, on a free port, so it can be stopped without disturbing
/// other tests. The venv is the one scripts/services.sh makes (`SESSION_PLUS_MONGODB_PYTHON`).
struct OwnServer {
    port: u16,
    child: Option<Child>,
}

impl OwnServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Self { port, child: None };
        server.restart();
        server
    }

    fn restart(&mut self) {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let python = std::env::var("SESSION_PLUS_MONGODB_PYTHON")
            .unwrap_or_else(|_| format!("{root}/target/python/mongo/bin/python"));
        let child = Command::new(python)
            .arg(format!("{root}/scripts/mongodb_server.py"))
            .arg(self.port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("SecantusDB's venv exists (scripts/services.sh makes it)");
        self.child = Some(child);
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("SecantusDB did not start");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Short timeouts, so requests during the outage fail fast.
    fn url(&self) -> String {
        format!(
            "mongodb://127.0.0.1:{}/outage?directConnection=true&serverSelectionTimeoutMS=1000&connectTimeoutMS=1000",
            self.port
        )
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_gives_503_and_the_same_instance_recovers() {
    let mut server = OwnServer::start();
    let config = Config::from_toml_str(&format!(
        r#"
        secret_keys = ["{SECRET}"]
        [[session]]
        cookie_name = "csrf"
        session_fields = ["csrf_token"]
        [[session]]
        cookie_name = "session"
        session_type = "mongodb"
        url = "{}"
        session_fields = "auto"
        "#,
        server.url()
    ))
    .unwrap();
    let manager = SessionManager::new(config).await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    assert_eq!(client.post("/set/user_id", "1").await.status, 200);
    assert_eq!(client.post("/set/csrf_token", "\"t\"").await.status, 200);

    server.stop();
    for _ in 0..2 {
        let reply = client.get("/get/user_id").await;
        assert_eq!(reply.status, 503);
        assert!(reply.set_cookies.is_empty());
        assert_eq!(client.post("/set/user_id", "2").await.status, 503);
    }
    assert_eq!(client.get("/get/csrf_token").await.json(), json!("t"), "cookie sessions keep working");

    server.restart(); // an empty server (in memory): the session is gone, the app must not be
    let mut recovered = false;
    for _ in 0..100 {
        if client.get("/get/user_id").await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the same instance works again once the server is back");
    assert_eq!(client.get("/get/user_id").await.json(), Value::Null);
    assert_eq!(client.post("/set/user_id", "3").await.status, 200);
    assert_eq!(client.get("/get/user_id").await.json(), json!(3));
}
