//! Firestore-only behaviour, against the Firestore emulator: field names and keys Firestore treats
//! specially, exact JSON values, preconditions, the purge, racing writers, the builder's
//! settings, two app instances sharing one collection, an outage and recovery of an emulator of
//! the test's own (flask-session-plus's layout: flask_firestore_live.rs). Every test uses a collection of its
//! own, so they run in parallel on one emulator (`FIRESTORE_EMULATOR_HOST`, 127.0.0.1:8085).
#![cfg(feature = "store-firestore")]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{FirestoreClient, FirestoreStore, Record, SessionStore, Update};
use session_plus::{BuildError, Config, FieldSelector, SessionConfig, SessionManager, SessionType};

use crate::common::{serve, Client, SECRET};

pub(crate) const PROJECT: &str = "session-plus-test";

pub(crate) fn host() -> String {
    std::env::var("FIRESTORE_EMULATOR_HOST").unwrap_or_else(|_| "127.0.0.1:8085".into())
}

pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &Id::random().unwrap().as_str()[..16])
}

/// A store on a collection of its own.
pub(crate) fn fresh_store() -> FirestoreStore {
    let client = FirestoreClient::emulator(&host(), PROJECT, "(default)").unwrap();
    FirestoreStore::new(client).with_collection_name(unique("t")).unwrap()
}

fn key() -> String {
    format!("session:{}", Id::random().unwrap().as_str())
}

/// The raw document `collection/id` (`id` as stored), through the REST API.
pub(crate) async fn raw(collection: &str, id: &str) -> Option<Value> {
    let root = format!("projects/{PROJECT}/databases/(default)/documents");
    let answer: Value = reqwest::Client::new()
        .post(format!("http://{}/v1/{root}:batchGet", host()))
        .bearer_auth("owner")
        .json(&json!({ "documents": [format!("{root}/{collection}/{id}")] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer[0].get("found").cloned()
}

const HOSTILE: [&str; 16] =
    [".", "..", "a.b", "", "`", "a`b\\c", "__name__", "__x__", "%", "%2F", "a/b", "/", "日本.語 ✓", "f", "*", "\0"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_field_names_and_keys_round_trip() {
    let store = fresh_store();
    let now = SystemClock.now();
    let mut fields = Map::new();
    for (i, name) in HOSTILE.iter().enumerate() {
        fields.insert((*name).to_owned(), json!(i));
    }
    let record = Record { fields, created_at: now, expires_at: now + 60, permanent: false };
    for key in [key(), "..".to_owned(), "__k__".to_owned(), "a/b".to_owned(), "%".to_owned(), String::new()] {
        assert!(store.create(&key, &record).await.unwrap(), "{key:?}");
        assert_eq!(store.load(&key).await.unwrap().unwrap(), record, "{key:?}");
    }
    let key = key();
    assert!(store.create(&key, &record).await.unwrap());
    let document = raw(store.collection_name(), &key).await.expect("stored under the key as it is");
    let stored = document["fields"]["f"]["mapValue"]["fields"].as_object().unwrap();
    assert_eq!(stored.len(), HOSTILE.len(), "one literal map key per field");

    // Updates address the same fields: set some, remove others, add new hostile ones.
    let mut update = Update { expires_at: now + 120, permanent: Some(true), ..Update::default() };
    update.set.insert("a.b".into(), json!("changed"));
    update.set.insert("".into(), json!({"empty": true}));
    update.set.insert("`new`.field\\".into(), json!([1]));
    update.set.insert("__x__".into(), json!("set and removed"));
    update.remove = vec![".".into(), "a`b\\c".into(), "a/b".into(), "__x__".into(), "never.there".into()];
    assert!(store.update(&key, &update).await.unwrap());
    let mut expected = record.clone();
    update.apply_to(&mut expected);
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(loaded, expected);
    assert_eq!(loaded.fields[".."], json!(1), "`..` was left alone");
    assert!(!loaded.fields.contains_key("__x__"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_values_round_trip_exactly() {
    let store = fresh_store();
    let now = SystemClock.now();
    let values = json!({
        "u64_max": u64::MAX,
        "above_i64": (i64::MAX as u64) + 1,
        "i64_min": i64::MIN,
        "float_one": 1.0,
        "tenth": 0.1,
        "huge": 1e300,
        "tiny": 5e-324,
        "negative_zero": -0.0,
        "text": "NUL \u{0} é 😀 \"quoted\"",
        "nested": {"a.b": {"__c__": 1, "": [[1], [[]]]}, "": {"$": ""}},
        "typed": {"integerValue": "5", "timestampValue": "2020-01-01T00:00:00Z"},
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

    let mut update = Update { expires_at: now + 60, permanent: Some(true), ..Update::default() };
    update.set = fields.into_iter().map(|(name, value)| (format!("{name}.again"), value)).collect();
    assert!(store.update(&key, &update).await.unwrap());
    let mut expected = record;
    update.apply_to(&mut expected);
    assert_eq!(store.load(&key).await.unwrap().unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_is_a_timestamp_and_only_moves_forward() {
    let store = fresh_store();
    let now = SystemClock.now();
    let key = key();
    assert!(store.create(&key, &Record { created_at: now, expires_at: now + 100, ..Record::default() }).await.unwrap());
    let document = raw(store.collection_name(), &key).await.unwrap();
    assert!(document["fields"]["expires_at"]["timestampValue"].is_string(), "usable by a TTL policy");

    // Earlier: kept; later: moved; permanence changed: set as given.
    let mut update = Update { expires_at: now + 50, ..Update::default() };
    update.set.insert("a".into(), json!(1));
    assert!(store.update(&key, &update).await.unwrap());
    assert_eq!(store.load(&key).await.unwrap().unwrap().expires_at, now + 100);
    assert!(store.update(&key, &Update { expires_at: now + 200, ..Update::default() }).await.unwrap());
    assert_eq!(store.load(&key).await.unwrap().unwrap().expires_at, now + 200);
    let shorten = Update { expires_at: now + 10, permanent: Some(false), ..Update::default() };
    assert!(store.update(&key, &shorten).await.unwrap());
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!((loaded.expires_at, loaded.permanent, loaded.fields["a"].clone()), (now + 10, false, json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_updates_keep_every_field_and_the_latest_expiry() {
    let store = Arc::new(fresh_store());
    let now = SystemClock.now();
    let key = key();
    assert!(store.create(&key, &Record { created_at: now, expires_at: now + 10, ..Record::default() }).await.unwrap());
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                let mut update = Update { expires_at: now + 100 + i, ..Update::default() };
                update.set.insert(format!("field{i}"), json!(i));
                assert!(store.update(&key, &update).await.unwrap());
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(loaded.fields.len(), 12, "{:?}", loaded.fields);
    assert_eq!(loaded.expires_at, now + 111, "the latest expiry wins whatever the order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_key_have_one_winner() {
    let store = Arc::new(fresh_store());
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preconditions_never_recreate_and_deletes_tell() {
    let store = fresh_store();
    let now = SystemClock.now();
    let key = key();
    let mut update = Update { expires_at: now + 60, ..Update::default() };
    update.set.insert("user_id".into(), json!(1));
    update.remove.push("other".into());
    assert!(!store.update(&key, &update).await.unwrap());
    let blind = Update { permanent: Some(true), ..update.clone() };
    assert!(!store.update(&key, &blind).await.unwrap(), "nor a write of permanence");
    assert!(!store.update(&key, &Update::default()).await.unwrap(), "nor an empty update");
    assert!(store.load(&key).await.unwrap().is_none() && raw(store.collection_name(), &key).await.is_none());

    let record = Record { created_at: now, expires_at: now + 60, ..Record::default() };
    assert!(store.create(&key, &record).await.unwrap());
    assert!(!store.create(&key, &Record { permanent: true, ..record.clone() }).await.unwrap(), "never overwrites");
    assert_eq!(store.load(&key).await.unwrap().unwrap(), record);
    assert!(store.delete(&key).await.unwrap());
    assert!(!store.delete(&key).await.unwrap(), "already gone");
    assert!(!store.update(&key, &update).await.unwrap());
    assert!(raw(store.collection_name(), &key).await.is_none(), "an update does not bring it back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_expired_counts_what_it_deletes() {
    let store = fresh_store();
    let now = SystemClock.now();
    let mut keys = Vec::new();
    for expires_at in [now - 100, now - 1, now, now + 1, now + 100, now + 1000] {
        let key = key();
        assert!(store.create(&key, &Record { created_at: now - 200, expires_at, ..Record::default() }).await.unwrap());
        keys.push((key, expires_at));
    }
    // Another collection is not touched.
    let other = fresh_store();
    assert!(other.create("k", &Record { expires_at: now - 100, ..Record::default() }).await.unwrap());
    assert_eq!(store.purge_expired(now).await.unwrap(), 3, "expires_at <= now");
    for (key, expires_at) in &keys {
        assert_eq!(store.load(key).await.unwrap().is_some(), *expires_at > now);
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);
    assert_eq!(store.purge_expired(now + 1000).await.unwrap(), 3);
    assert!(other.load("k").await.unwrap().is_some());
    assert!(!store.expires_natively(), "the purge task runs (a TTL policy is optional)");

    // More than one purge batch.
    for _ in 0..320 {
        assert!(store.create(&key(), &Record { expires_at: now - 5, ..Record::default() }).await.unwrap());
    }
    assert_eq!(store.purge_expired(now).await.unwrap(), 320);
}

fn config(url: &str, collection: &str) -> Config {
    Config::new().with_secret_key(SECRET).with_session(
        SessionConfig::new("session")
            .with_type(SessionType::Firestore)
            .with_url(url)
            .with_table(collection)
            .with_field_selector(FieldSelector::Auto),
    )
}

pub(crate) fn url() -> String {
    format!("firestore://{PROJECT}?emulator={}", host())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_uses_url_and_table() {
    let collection = unique("t");
    let manager = SessionManager::builder(config(&url(), &collection)).without_purge_tasks().build().await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    assert_eq!(client.post("/set/user_id", "7").await.status, 200);
    let id = client.cookie("session").unwrap();
    let id = id.split('.').next().unwrap();
    let document = raw(&collection, &format!("session:{id}")).await.expect("in the configured collection");
    assert_eq!(document["fields"]["f"]["mapValue"]["fields"]["user_id"]["stringValue"], "7");

    let err = SessionManager::builder(config(&url(), "a/b")).build().await.unwrap_err();
    assert!(matches!(&err, BuildError::Config(e) if e.key() == Some("table")), "{err}");
    let err = SessionManager::builder(config("mongodb://x", "t")).build().await.unwrap_err();
    assert!(matches!(&err, BuildError::Store { session, .. } if session == "session"), "{err}");
    let no_url = Config::from_toml_str(&format!(
        "secret_keys = [\"{SECRET}\"]\n[[session]]\ncookie_name = \"session\"\nsession_type = \"firestore\"\n"
    ));
    assert!(no_url.unwrap_err().to_string().contains("url"), "`url` is required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_collection() {
    let collection = unique("t");
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
}

/// A Firestore emulator of this test's own, on a free port, so it can be stopped without
/// disturbing other tests.
pub(crate) struct OwnEmulator {
    pub(crate) port: u16,
    child: Option<Child>,
}

impl OwnEmulator {
    pub(crate) fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut emulator = Self { port, child: None };
        emulator.restart();
        emulator
    }

    pub(crate) fn restart(&mut self) {
        let jar = std::env::var("FIRESTORE_EMULATOR_JAR").unwrap_or_else(|_| {
            "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar".into()
        });
        let child = Command::new("java")
            .args(["-cp", &jar, "com.google.cloud.datastore.emulator.firestore.CloudFirestore", "start"])
            .arg("--host=127.0.0.1")
            .arg(format!("--port={}", self.port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("java and the Firestore emulator (scripts/services.sh)");
        self.child = Some(child);
        for _ in 0..600 {
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let (mut answer, mut chunk) = (Vec::new(), [0u8; 512]);
                while let Ok(read @ 1..) = stream.read(&mut chunk) {
                    answer.extend_from_slice(&chunk[..read]);
                    if String::from_utf8_lossy(&answer).contains("\r\n\r\nOk") {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the Firestore emulator did not start");
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for OwnEmulator {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_gives_503_and_the_same_instance_recovers() {
    let mut emulator = OwnEmulator::start();
    let config = Config::from_toml_str(&format!(
        r#"
        secret_keys = ["{SECRET}"]
        [[session]]
        cookie_name = "csrf"
        session_fields = ["csrf_token"]
        [[session]]
        cookie_name = "session"
        session_type = "firestore"
        url = "firestore://outage?emulator=127.0.0.1:{}"
        session_fields = "auto"
        "#,
        emulator.port
    ))
    .unwrap();
    let manager = SessionManager::new(config).await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    assert_eq!(client.post("/set/user_id", "1").await.status, 200);
    assert_eq!(client.post("/set/csrf_token", "\"t\"").await.status, 200);
    let direct =
        FirestoreStore::connect(&format!("firestore://outage?emulator=127.0.0.1:{}", emulator.port)).await.unwrap();

    emulator.stop();
    for _ in 0..2 {
        let reply = client.get("/get/user_id").await;
        assert_eq!(reply.status, 503);
        assert!(reply.set_cookies.is_empty());
        assert_eq!(client.post("/set/user_id", "2").await.status, 503);
    }
    assert!(direct.load("session:x").await.is_err(), "the store reports an error, not a missing record");
    assert_eq!(client.get("/get/csrf_token").await.json(), json!("t"), "cookie sessions keep working");

    emulator.restart(); // an empty emulator (in memory): the session is gone, the app must not be
    let mut recovered = false;
    for _ in 0..100 {
        if client.get("/get/user_id").await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the same instance works again once the emulator is back");
    assert_eq!(client.get("/get/user_id").await.json(), Value::Null);
    assert_eq!(client.post("/set/user_id", "3").await.status, 200);
    assert_eq!(client.get("/get/user_id").await.json(), json!(3), "what was acknowledged is there");
    assert!(direct.purge_expired(SystemClock.now()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_database_is_its_own() {
    let collection = unique("t");
    let open = |database: &str| {
        let url = format!("firestore://{PROJECT}/{database}?emulator={}", host());
        let collection = collection.clone();
        async move { FirestoreStore::connect(&url).await.unwrap().with_collection_name(collection).unwrap() }
    };
    let (named, default) = (open("sessions-db").await, open("(default)").await);
    let now = SystemClock.now();
    let key = key();
    assert!(named.create(&key, &Record { created_at: now, expires_at: now + 60, ..Record::default() }).await.unwrap());
    assert!(named.load(&key).await.unwrap().is_some());
    assert!(default.load(&key).await.unwrap().is_none(), "not in the default database");
    assert!(raw(&collection, &key).await.is_none());
}
