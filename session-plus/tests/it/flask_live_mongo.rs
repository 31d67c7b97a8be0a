//! Live interoperability with flask-session-plus 0.6.2's MongoDB backend (issue 11, item 3): a
//! Rust app and the real Python package share one browser and one collection, and each reads
//! what the other wrote, so a team on the Python original moves without logging anyone out.
//!
//! The Python side is `tests/python/fsp_mongo_app.py` in the "legacy" venv (flask-session-plus
//! 0.6.2, Flask 1.1.4, PyMongo 4), on the MongoDB-protocol server of `SESSION_PLUS_MONGODB_URL`
//! (scripts/services.sh starts SecantusDB), a collection of each test's own.
//!
//! Patched Python behaviour, and why (`tests/python/fsp_mongo_patch.py`): flask-session-plus
//! calls PyMongo 3's `Collection.update(spec, doc, True)` and `Collection.remove(spec)`, both gone
//! in PyMongo 4 (the errors are swallowed, so nothing is ever written or deleted); they are
//! mapped onto `replace_one(spec, doc, upsert=True)` and `delete_many(spec)`. Its expiry check
//! compares with an aware datetime, so the app's client is `MongoClient(tz_aware=True)`.
//! Nothing else is patched.
#![cfg(all(feature = "flask", feature = "store-mongodb"))]

use crate::common;

use mongodb::bson::{doc, Bson, Document};
use serde_json::{json, Value};
use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{FlaskStore, MongoDbStore, Record, SessionStore, Update};

use common::python::{cart, rust_app, Browser, PyApp, Side::Python, Side::Rust};
use common::Client;

/// 2023-11-14 22:13:20 UTC (see flask_live.rs).
const WHEN: i64 = 1_700_000_000;
const WHEN_HTTP: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
const WHEN_LEGACY: &str = "datetime.datetime(2023, 11, 14, 22, 13, 20)";
const DAY: i64 = 86_400;
const MONTH: i64 = 31 * DAY;

/// A collection of the test's own on the test server, dropped at the end.
async fn fresh_collection() -> (String, MongoDbStore) {
    let name = format!("fsp_{}", &Id::random().unwrap().as_str()[..16]);
    let store = MongoDbStore::connect(&crate::mongodb_store::url()).await.unwrap().with_collection_name(&name).unwrap();
    (name, store)
}

async fn document(store: &MongoDbStore, sid: &str) -> Option<Document> {
    store.collection().find_one(doc! { "id": format!("session{sid}") }).await.unwrap()
}

fn expiration(document: &Document) -> i64 {
    match document.get("_expiration") {
        Some(Bson::DateTime(at)) => at.timestamp_millis() / 1000,
        other => panic!("`_expiration` is {other:?}"),
    }
}

/// The sid in a cookie value: the bare sid, or `sid.signature` with `use_signer`.
fn sid_of(cookie: &str) -> String {
    cookie.split('.').next().unwrap().to_owned()
}

fn rust_config(collection: &str, use_signer: bool) -> String {
    format!(
        r#"
        [[session]]
        cookie_name = "session"
        session_type = "mongodb"
        format = "flask-session-plus"
        url = "{}"
        table = "{collection}"
        use_signer = {use_signer}
        secret_keys = ["dev-secret-key"]
        session_fields = ["user_id", "user_data", "cart"]
        "#,
        crate::mongodb_store::url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_session_plus_mongodb_both_ways() {
    both_ways(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_session_plus_mongodb_signed_ids_both_ways() {
    both_ways(true).await;
}

async fn both_ways(use_signer: bool) {
    let (collection, raw) = fresh_collection().await;
    let url = crate::mongodb_store::url();
    let signer = if use_signer { "1" } else { "0" };
    let env = [
        ("SESSION_MONGODB_URL", url.as_str()),
        ("SESSION_MONGODB_COLLECTION", &collection),
        ("SESSION_USE_SIGNER", signer),
    ];
    let python = PyApp::start("legacy", "fsp_mongo_app.py", &env);
    let (_manager, rust) = rust_app(&rust_config(&collection, use_signer)).await;
    let when = json!({" d": WHEN_HTTP});

    // Python → Rust: the patched original writes its document; Rust reads every field.
    let mut b = Browser::new(&python, rust);
    b.set(Python, "user_id", json!(42)).await;
    b.set(Python, "cart", cart(&[("sku-1", 2)])).await;
    b.set_datetime("user_data", WHEN).await;
    let cookie = b.jar.get("session").cloned().expect("Python set the sid cookie");
    assert_eq!(cookie.contains('.'), use_signer, "{cookie}");
    let sid = sid_of(&cookie);
    let written = document(&raw, &sid).await.expect("the patched Python app wrote its document");
    assert!(matches!(written.get("val"), Some(Bson::String(_))), "{written}");
    assert_eq!(written.get("_permanent"), Some(&Bson::Boolean(false)));
    assert!((expiration(&written) - (SystemClock.now() + DAY)).abs() <= 5, "{written}");
    assert_eq!(
        b.fields(Rust).await,
        json!({"user_id": 42, "cart": cart(&[("sku-1", 2)]), "user_data": when}),
        "Rust reads what flask-session-plus wrote"
    );

    // Rust → Python, in the same document; Python's datetime comes back a datetime.
    b.set(Rust, "user_id", json!(43)).await;
    b.set(Rust, "cart", cart(&[("sku-1", 2), ("sku-2", 1)])).await;
    assert_eq!(b.jar.get("session"), Some(&cookie), "the same server-side session");
    assert_eq!(b.get(Python, "user_id").await, json!(43), "Python reads Rust's write");
    assert_eq!(b.get(Python, "cart").await, cart(&[("sku-1", 2), ("sku-2", 1)]));
    assert_eq!(b.py_repr("user_data").await, WHEN_LEGACY, "datetime unchanged by a Rust write");
    let written = document(&raw, &sid).await.unwrap();
    let mut keys: Vec<&str> = written.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["_expiration", "_id", "_permanent", "id", "val"], "the Python document, nothing more");
    assert_eq!(raw.collection().count_documents(doc! {}).await.unwrap(), 1, "updated in place, not duplicated");

    // Python values beyond JSON: integers past 64 bits, tuples and bytes survive a Rust write.
    let literal = "(1267650600228229401496703205376, -1180591620717411303424, (1, (b'\\x00hi', [3])), [(), -0.5])";
    b.send(Python, Some(literal), "/setpy/user_data").await;
    let before = b.py_repr("user_data").await;
    assert!(before.starts_with("(1267650600228229401496703205376, -1180591620717411303424, (1, (b'"), "{before}");
    b.set(Rust, "user_id", json!(44)).await;
    assert_eq!(b.py_repr("user_data").await, before, "every value unchanged by a Rust write");

    // Permanence set on Python is kept by a Rust write, with its 31-day expiry.
    b.send(Python, Some(""), "/permanent/session/true").await;
    let written = document(&raw, &sid).await.unwrap();
    assert_eq!(written.get("_permanent"), Some(&Bson::Boolean(true)));
    b.set(Rust, "user_id", json!(45)).await;
    let written = document(&raw, &sid).await.unwrap();
    assert_eq!(written.get("_permanent"), Some(&Bson::Boolean(true)), "still permanent after a Rust write");
    assert!(expiration(&written) >= SystemClock.now() + MONTH - 5, "{written}");
    assert_eq!(b.get(Python, "user_id").await, json!(45));

    // Logout on Python: the document is gone, Rust sees an empty session, replay finds nothing.
    let before = b.snapshot();
    b.clear(Python).await;
    assert!(document(&raw, &sid).await.is_none(), "Python deleted the document");
    assert_eq!(b.fields(Rust).await, json!({}), "Rust sees Python's logout");
    let mut replay = before;
    assert_eq!(replay.get(Rust, "user_id").await, Value::Null, "the old sid is dead for Rust");

    // A session Rust creates (a uuid4 sid, signed as Python signs it) is read by Python.
    let mut b = Browser::new(&python, rust);
    b.set(Rust, "user_id", json!(7)).await;
    b.set(Rust, "cart", cart(&[("sku-9", 3)])).await;
    let cookie = b.jar.get("session").cloned().expect("Rust set the sid cookie");
    assert_eq!(cookie.contains('.'), use_signer, "{cookie}");
    let sid = sid_of(&cookie);
    assert!(Id::parse_uuid(&sid).is_some(), "a flask-session-plus sid: {sid}");
    let written = document(&raw, &sid).await.expect("Rust wrote a document under `id`");
    assert_eq!(written.get("_permanent"), Some(&Bson::Boolean(false)));
    assert!((expiration(&written) - (SystemClock.now() + DAY)).abs() <= 5, "{written}");
    assert_eq!(b.fields(Python).await, json!({"user_id": 7, "cart": cart(&[("sku-9", 3)])}), "Python reads it");
    b.set(Python, "user_id", json!(8)).await;
    assert_eq!(b.jar.get("session"), Some(&cookie), "Python kept Rust's sid");
    assert_eq!(b.get(Rust, "user_id").await, json!(8), "and Rust reads Python's replacement of it");

    // Logout on Rust.
    let before = b.snapshot();
    b.clear(Rust).await;
    assert!(document(&raw, &sid).await.is_none(), "Rust deleted the document");
    assert_eq!(b.fields(Python).await, json!({}), "Python sees Rust's logout");
    let mut replay = before;
    assert_eq!(replay.get(Python, "user_id").await, Value::Null, "the old sid is dead for Python");
    raw.collection().drop().await.unwrap();
}

/// Documents the Rust side cannot read are no session (a fresh one on write), never a 500: a
/// `val` that is not tagged JSON of an object, an `_expiration` that is missing or not a date.
/// An expired document is no session either, and the TTL index drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_or_expired_documents_are_no_session() {
    let (collection, raw) = fresh_collection().await;
    let (_manager, rust) = rust_app(&rust_config(&collection, false)).await;
    let now = mongodb::bson::DateTime::from_millis((SystemClock.now() + 3600) * 1000);
    let past = mongodb::bson::DateTime::from_millis((SystemClock.now() - 10) * 1000);
    let bad = [
        doc! { "val": "not json", "_expiration": now, "_permanent": false },
        doc! { "val": "[1, 2]", "_expiration": now, "_permanent": false },
        doc! { "val": 5, "_expiration": now, "_permanent": false },
        doc! { "val": "{\"user_id\": 1}", "_permanent": false },
        doc! { "val": "{\"user_id\": 1}", "_expiration": "2030-01-01T00:00:00", "_permanent": false },
        doc! { "val": "{\"user_id\": 1}", "_expiration": now, "_permanent": "yes" },
        doc! { "val": "{\"user_id\": 1}", "_expiration": past, "_permanent": false },
    ];
    for mut document in bad {
        let sid = Id::random_uuid().unwrap().as_str().to_owned();
        document.insert("id", format!("session{sid}"));
        raw.collection().insert_one(document.clone()).await.unwrap();
        let mut client = Client::new(rust);
        client.jar.insert("session".into(), sid.clone());
        let reply = client.get("/get/user_id").await;
        assert_eq!((reply.status, reply.json()), (200, Value::Null), "{document}");
        let reply = client.post("/set/user_id", "2").await;
        assert_eq!(reply.status, 200, "{document}: {}", reply.body);
        assert_ne!(client.cookie("session"), Some(sid.clone()), "{document}: a fresh sid");
        assert_eq!(client.get("/get/user_id").await.json(), json!(2));
    }
    // A missing `_permanent` is not permanent, as Python reads it.
    let sid = Id::random_uuid().unwrap().as_str().to_owned();
    raw.collection()
        .insert_one(doc! { "id": format!("session{sid}"), "val": "{\"user_id\": 3}", "_expiration": now })
        .await
        .unwrap();
    let mut client = Client::new(rust);
    client.jar.insert("session".into(), sid);
    assert_eq!(client.get("/get/user_id").await.json(), json!(3));

    // The builder made the indexes: `id` is unique, `_expiration` a TTL index.
    let mut names = raw.collection().list_index_names().await.unwrap();
    names.sort();
    assert_eq!(names, ["_expiration_ttl", "_id_", "id_unique"]);
    let store = FlaskStore::mongodb(raw.clone());
    store.migrate().await.unwrap();
    let t = SystemClock.now();
    let key = format!("session{}", Id::random_uuid().unwrap().as_str());
    assert!(store.create(&key, &Record { expires_at: t + 1, ..Record::default() }).await.unwrap());
    for _ in 0..60 {
        if store.load(&key).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(store.load(&key).await.unwrap().is_none(), "the TTL index dropped the expired document");
    let update = Update { expires_at: t + 600, ..Update::default() };
    assert!(!store.update(&key, &update).await.unwrap(), "and an update does not bring it back");
    raw.collection().drop().await.unwrap();
}

/// Create if absent is atomic under the unique index on `id`: of ten racing creates of one id,
/// one wins, and there is one document.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_id_have_one_winner() {
    let (_, raw) = fresh_collection().await;
    let store = std::sync::Arc::new(FlaskStore::mongodb(raw.clone()));
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let key = format!("session{}", Id::random_uuid().unwrap().as_str());
    let now = SystemClock.now();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                let mut fields = serde_json::Map::new();
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
    assert_eq!(raw.collection().count_documents(doc! { "id": &key }).await.unwrap(), 1);
    raw.collection().drop().await.unwrap();
}

/// An update that finds the fields it changes changed since the request's load, by another
/// process, keeps that write and stops; one that finds only other fields changed writes its own
/// and keeps theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_keeps_a_later_write_of_its_field_and_merges_other_fields() {
    let (_, raw) = fresh_collection().await;
    let (store, other_process) = (FlaskStore::mongodb(raw.clone()), FlaskStore::mongodb(raw.clone()));
    store.migrate().await.unwrap();
    assert!(store.reads_loaded_values(), "sessions fill `Update::loaded` for it");
    let key = format!("session{}", Id::random_uuid().unwrap().as_str());
    let now = SystemClock.now();
    let mut record = Record { created_at: now, expires_at: now + 100, ..Record::default() };
    record.fields.insert("hits".into(), json!(1));
    assert!(store.create(&key, &record).await.unwrap());
    let hits = |loaded: i64, new: i64| {
        let mut update = Update { expires_at: now + 100, loaded: Some(serde_json::Map::new()), ..Update::default() };
        update.set.insert("hits".into(), json!(new));
        update.loaded.as_mut().unwrap().insert("hits".into(), json!(loaded));
        update
    };

    // Both loaded `hits: 1`; the other process writes 7 first.
    assert!(other_process.update(&key, &hits(1, 7)).await.unwrap());
    assert!(store.update(&key, &hits(1, 2)).await.unwrap());
    assert_eq!(store.load(&key).await.unwrap().unwrap().fields["hits"], json!(7), "the later write stands");

    // The other process changes another field: this update writes `hits` and keeps it.
    let mut theme = Update { expires_at: now + 100, ..Update::default() };
    theme.set.insert("theme".into(), json!("dark"));
    assert!(other_process.update(&key, &theme).await.unwrap());
    assert!(store.update(&key, &hits(7, 8)).await.unwrap());
    let fields = store.load(&key).await.unwrap().unwrap().fields;
    assert_eq!((&fields["hits"], &fields["theme"]), (&json!(8), &json!("dark")));
    raw.collection().drop().await.unwrap();
}

/// A collection where the Python side left two documents with one `id` (PyMongo 3's racing
/// upserts could) cannot get the unique index: start-up fails, naming the session, rather than
/// running without atomic creates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_ids_stop_the_start_up() {
    let (collection, raw) = fresh_collection().await;
    let twice = doc! { "id": "session5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d", "val": "{}", "_permanent": false };
    raw.collection().insert_many([twice.clone(), twice]).await.unwrap();
    assert!(FlaskStore::mongodb(raw.clone()).migrate().await.is_err());
    let config = session_plus::Config::from_toml_str(&rust_config(&collection, false)).unwrap();
    let err = session_plus::SessionManager::new(config).await.unwrap_err();
    assert!(matches!(&err, session_plus::BuildError::Store { session, .. } if session == "session"), "{err}");
    raw.collection().drop().await.unwrap();
}
