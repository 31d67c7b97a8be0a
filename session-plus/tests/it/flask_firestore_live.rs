//! flask-session-plus's Firestore layout: the Rust side alone (native values, guarded metadata, the
//! builder), then live interoperability with flask-session-plus 0.6.2's Firestore backend, unpatched, through a
//! real `google.cloud.firestore.Client` (`tests/python/fsp_firestore_app.py`, the `firestore`
//! venv of `tests/python/setup_venvs.sh`), on the emulator at `FIRESTORE_EMULATOR_HOST`: a Rust
//! app and the Python app share one browser and one collection, and each reads what the other
//! wrote, logins and logouts included.
#![cfg(all(feature = "flask", feature = "store-firestore"))]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{Record, SessionStore, Update};
use session_plus::{Config, SessionManager};

use crate::common::{serve, Client, Reply};
use crate::firestore_store::{fresh_store, host, raw, unique, url, PROJECT};

/// 2023-11-14 22:13:20 UTC.
const WHEN: i64 = 1_700_000_000;
const WHEN_HTTP: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

fn python() -> PathBuf {
    static READY: OnceLock<()> = OnceLock::new();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    READY.get_or_init(|| {
        let status = Command::new("bash").arg(tests.join("setup_venvs.sh")).status().expect("bash runs setup_venvs.sh");
        assert!(status.success(), "tests/python/setup_venvs.sh failed: {status}");
    });
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/python/firestore/bin/python")
}

/// The Python app on a free loopback port, killed when dropped.
struct PyApp {
    child: Child,
    addr: SocketAddr,
}

impl PyApp {
    fn start(collection: &str) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/fsp_firestore_app.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("FIRESTORE_EMULATOR_HOST", host())
            .env("FIRESTORE_PROJECT", PROJECT)
            .env("FIRESTORE_COLLECTION", collection)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the firestore venv's python");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(Ok(line))) => line,
            other => panic!("fsp_firestore_app.py did not start: {other:?}"),
        };
        let addr = line.strip_prefix("ready http://").unwrap_or_else(|| panic!("it said {line:?}"));
        Self { addr: addr.parse().unwrap(), child }
    }
}

impl Drop for PyApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser (one cookie jar) talking to both apps on the same host.
struct Browser {
    jar: BTreeMap<String, String>,
    py: Client,
    rs: Client,
}

impl Browser {
    async fn send(&mut self, python: bool, post: Option<&str>, path: &str) -> Reply {
        let client = if python { &mut self.py } else { &mut self.rs };
        client.jar = std::mem::take(&mut self.jar);
        let reply = match post {
            Some(body) => client.post(path, body).await,
            None => client.get(path).await,
        };
        self.jar = std::mem::take(&mut client.jar);
        assert_eq!(reply.status, 200, "{} {path}: {}", if python { "Python" } else { "Rust" }, reply.body);
        reply
    }

    async fn set(&mut self, python: bool, field: &str, value: Value) {
        self.send(python, Some(&value.to_string()), &format!("/set/{field}")).await;
    }

    async fn fields(&mut self, python: bool) -> Value {
        self.send(python, None, "/fields").await.json()
    }

    async fn py_repr(&mut self, field: &str) -> String {
        self.send(true, None, &format!("/repr/{field}")).await.body
    }
}

const PY: bool = true;
const RS: bool = false;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_session_plus_firestore_both_ways() {
    let collection = unique("fsp");
    let python = PyApp::start(&collection);
    let config = Config::from_toml_str(&format!(
        r#"
        [[session]]
        cookie_name = "session"
        session_type = "firestore"
        format = "flask-session-plus"
        url = "firestore://{PROJECT}?emulator={}"
        table = "{collection}"
        session_fields = ["user_id", "user_data", "cart", "seen_at", "pair", "blob"]
        "#,
        host()
    ))
    .unwrap();
    let manager = SessionManager::new(config).await.unwrap();
    let rust = serve(&manager).await;
    let cart = json!({"items": [{"sku": "sku-1", "qty": 2}], "coupon": null, "total": 9.5});
    let blob = json!({" b": "AP9ieXRlcw=="});

    // Python → Rust: native values, a datetime, a tuple and bytes.
    let mut b = Browser { jar: BTreeMap::new(), py: Client::new(python.addr), rs: Client::new(rust) };
    b.set(PY, "user_id", json!(42)).await;
    b.set(PY, "cart", cart.clone()).await;
    b.send(PY, Some(&WHEN.to_string()), "/setdt/seen_at").await;
    b.send(PY, Some(""), "/setpy/pair").await;
    b.send(PY, Some(""), "/setpy/blob").await;
    let sid = b.jar.get("session").cloned().expect("Python set the sid cookie");
    let document = raw(&collection, &format!("session{sid}")).await.expect("flask-session-plus wrote its document");
    assert!(document["fields"]["_expiration"]["timestampValue"].is_string(), "{document}");
    assert_eq!(document["fields"]["_permanent"], json!({"booleanValue": false}));
    assert_eq!(document["fields"]["user_id"], json!({"integerValue": "42"}), "a native value");
    assert_eq!(
        b.fields(RS).await,
        json!({"user_id": 42, "cart": cart, "seen_at": {" d": WHEN_HTTP}, "pair": [1, "two"], "blob": blob}),
        "Rust reads what flask-session-plus wrote"
    );

    // Rust → Python: Rust changes some fields; the ones it did not touch stay Python's own.
    b.set(RS, "user_id", json!(43)).await;
    b.set(RS, "user_data", json!({"name": "Ada", "roles": ["admin"], "at": {" d": WHEN_HTTP}})).await;
    assert_eq!(b.jar.get("session"), Some(&sid), "the same server-side session");
    let on_python = b.fields(PY).await;
    assert_eq!(on_python["user_id"], json!(43), "Python reads Rust's write");
    assert_eq!(on_python["user_data"]["roles"], json!(["admin"]));
    assert_eq!(on_python["cart"], cart);
    let seen_at = b.py_repr("seen_at").await;
    assert!(seen_at.contains("2023, 11, 14, 22, 13, 20"), "still a datetime: {seen_at}");
    assert!(b.py_repr("user_data").await.contains("2023, 11, 14, 22, 13, 20"), "Rust's datetime is one for Python");
    assert_eq!(b.py_repr("blob").await, "b'\\x00\\xffbytes'", "bytes stay bytes");
    let document = raw(&collection, &format!("session{sid}")).await.unwrap();
    assert_eq!(document["fields"]["user_id"], json!({"integerValue": "43"}));

    // Permanence set by Python survives a Rust write of another field.
    b.send(PY, Some(""), "/permanent").await;
    b.set(RS, "cart", json!({"items": []})).await;
    let document = raw(&collection, &format!("session{sid}")).await.unwrap();
    assert_eq!(document["fields"]["_permanent"], json!({"booleanValue": true}));

    // Logout on Python: Rust sees an empty session; replayed cookies find nothing.
    let before = b.jar.clone();
    b.send(PY, Some(""), "/clear").await;
    assert!(raw(&collection, &format!("session{sid}")).await.is_none(), "Python deleted the document");
    assert_eq!(b.fields(RS).await, json!({}), "Rust sees Python's logout");
    b.jar = before;
    assert_eq!(b.fields(RS).await, json!({}), "the old sid is dead for Rust");

    // A session Rust creates is read by Python; a logout on Rust is seen by Python.
    let mut b = Browser { jar: BTreeMap::new(), py: Client::new(python.addr), rs: Client::new(rust) };
    b.set(RS, "user_id", json!(7)).await;
    b.set(RS, "pair", json!({" t": [1, 2]})).await;
    let sid = b.jar.get("session").cloned().expect("Rust set the sid cookie");
    assert!(session_plus::session::Id::parse_uuid(&sid).is_some(), "a flask-session-plus sid: {sid}");
    assert_eq!(b.fields(PY).await, json!({"user_id": 7, "pair": [1, 2]}), "Python reads Rust's session");
    let document = raw(&collection, &format!("session{sid}")).await.unwrap();
    assert!(document["fields"]["_expiration"]["timestampValue"].is_string(), "{document}");
    let before = b.jar.clone();
    b.send(RS, Some(""), "/clear").await;
    assert!(raw(&collection, &format!("session{sid}")).await.is_none(), "Rust deleted the document");
    assert_eq!(b.fields(PY).await, json!({}), "Python sees Rust's logout");
    b.jar = before;
    assert_eq!(b.fields(PY).await, json!({}), "the old sid is dead for Python");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_layout_stores_native_values_and_guards_its_metadata() {
    let store = fresh_store().flask_session_plus();
    let now = SystemClock.now();
    let fields = json!({
        "user_id": 42,
        "ratio": 0.5,
        "name": "Ada",
        "nothing": null,
        "nested": {"a": [1, "b", {"c": true}]},
        "when": {" d": "Tue, 14 Nov 2023 22:13:20 GMT"},
        "blob": {" b": "AP8="},
        "dotted.name`": "x",
    });
    let Value::Object(fields) = fields else { unreachable!() };
    let record = Record { fields: fields.clone(), created_at: now, expires_at: now + 60, permanent: true };
    let key = format!("session{}", Id::random().unwrap().as_str());
    assert!(store.create(&key, &record).await.unwrap());
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!((loaded.fields, loaded.expires_at, loaded.permanent), (fields, now + 60, true));

    let document = raw(store.collection_name(), &key).await.unwrap();
    let stored = &document["fields"];
    assert_eq!(stored["user_id"], json!({"integerValue": "42"}));
    assert_eq!(stored["ratio"], json!({"doubleValue": 0.5}));
    assert_eq!(stored["when"], json!({"timestampValue": "2023-11-14T22:13:20Z"}));
    assert_eq!(stored["blob"], json!({"bytesValue": "AP8="}));
    assert_eq!(stored["_permanent"], json!({"booleanValue": true}));
    assert!(stored["_expiration"]["timestampValue"].is_string());

    // Session fields never overwrite the metadata, and what Firestore cannot hold is refused.
    for name in ["_expiration", "_permanent"] {
        let mut update = Update { expires_at: now + 60, ..Update::default() };
        update.set.insert(name.into(), json!(false));
        assert!(store.update(&key, &update).await.is_err(), "{name}");
        let mut record = record.clone();
        record.fields.insert(name.into(), json!(1));
        assert!(store.create(&format!("{key}x"), &record).await.is_err(), "{name}");
    }
    let mut update = Update { expires_at: now + 60, ..Update::default() };
    update.set.insert("big".into(), json!(u64::MAX));
    assert!(store.update(&key, &update).await.is_err(), "no home for a u64 above i64::MAX");
    let after = store.load(&key).await.unwrap().unwrap();
    assert_eq!((after.expires_at, after.permanent), (now + 60, true), "nothing was written");

    // Per-field updates with masks, on names that need quoting.
    let mut update = Update { expires_at: now + 30, ..Update::default() };
    update.set.insert("dotted.name`".into(), json!("y"));
    update.remove.push("nested".into());
    assert!(store.update(&key, &update).await.unwrap());
    let after = store.load(&key).await.unwrap().unwrap();
    assert_eq!(after.fields["dotted.name`"], json!("y"));
    assert!(!after.fields.contains_key("nested") && after.fields["user_id"] == json!(42));
    assert_eq!(after.expires_at, now + 60, "the expiry never moves back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_makes_the_flask_layout() {
    let collection = unique("fsp");
    let config = Config::from_toml_str(&format!(
        r#"
        [[session]]
        cookie_name = "session"
        session_type = "firestore"
        format = "flask-session-plus"
        url = "{}"
        table = "{collection}"
        session_fields = "auto"
        "#,
        url()
    ))
    .unwrap();
    let manager = SessionManager::builder(config).without_purge_tasks().build().await.unwrap();
    let mut client = Client::new(serve(&manager).await);
    assert_eq!(client.post("/set/user_id", "7").await.status, 200);
    let sid = client.cookie("session").unwrap();
    let document = raw(&collection, &format!("session{sid}")).await.expect("key_prefix + sid, no separator");
    assert_eq!(document["fields"]["user_id"], json!({"integerValue": "7"}));
    assert_eq!(client.get("/get/user_id").await.json(), json!(7));
}
