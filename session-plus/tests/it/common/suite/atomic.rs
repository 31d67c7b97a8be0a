//! The conformance cases of atomic updates of one field (issue 14, item 5): the store's
//! `compare_and_set`, and `Session::update` over HTTP with concurrent requests that must lose
//! no increment.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{self, CasOutcome, Record, SessionStore};

use super::{config, setup};
use crate::common::{captured_logs, manager, serve_with, Client, Framework};

/// How many increments race in each test: the 32 concurrent connections.
const N: u64 = 32;

fn new_key() -> String {
    format!("session:{}", Id::random().unwrap().as_str())
}

/// The store's compare-and-set: compares as JSON values, writes only the one field, never moves
/// the expiry backwards, never creates a record; and `N` concurrent read-compare-set loops on
/// one field, with no turns taken, end at exactly `N`.
pub async fn compare_and_set_contract(store: Arc<dyn SessionStore>, _: Framework) {
    let t0 = SystemClock.now();
    let key = new_key();
    let mut fields = Map::new();
    fields.insert("other".into(), json!({"keep": [1, 2]}));
    let record = Record { fields, created_at: t0, expires_at: t0 + 100, permanent: true };
    assert!(store.create(&key, &record).await.unwrap());

    // An absent field is expected as `None`; an earlier expiry is ignored; the permanence stays.
    assert_eq!(store.compare_and_set(&key, "n", None, &json!(1), t0 + 50).await.unwrap(), CasOutcome::Set);
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(Value::Object(loaded.fields.clone()), json!({"other": {"keep": [1, 2]}, "n": 1}));
    assert_eq!((loaded.expires_at, loaded.permanent, loaded.created_at), (t0 + 100, true, t0));

    // Any other expectation is a conflict, and writes nothing.
    for wrong in [None, Some(json!(2)), Some(json!("1")), Some(json!(1.5)), Some(Value::Null), Some(json!([1]))] {
        let outcome = store.compare_and_set(&key, "n", wrong.as_ref(), &json!(99), t0 + 500).await.unwrap();
        assert_eq!(outcome, CasOutcome::Conflict, "expected {wrong:?}");
    }
    assert_eq!(store.load(&key).await.unwrap().unwrap(), loaded, "a conflict wrote something");

    // The right expectation, with a later expiry: set, and the expiry moves forward.
    let nested = json!({"b": [1.5, null, {"z": 1, "a": "é"}], "a": true});
    assert_eq!(store.compare_and_set(&key, "n", Some(&json!(1)), &nested, t0 + 200).await.unwrap(), CasOutcome::Set);
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!((&loaded.fields["n"], loaded.expires_at, loaded.permanent), (&nested, t0 + 200, true));
    // A nested value is expected as it was loaded; JSON null is a value, not an absent field.
    let outcome = store.compare_and_set(&key, "n", Some(&loaded.fields["n"]), &Value::Null, t0).await.unwrap();
    assert_eq!(outcome, CasOutcome::Set);
    assert_eq!(store.compare_and_set(&key, "n", None, &json!(0), t0).await.unwrap(), CasOutcome::Conflict);
    assert_eq!(store.compare_and_set(&key, "n", Some(&Value::Null), &json!(0), t0).await.unwrap(), CasOutcome::Set);

    // Names the stores escape (MongoDB, Firestore) or keep beside others (Redis hash fields).
    for name in ["a.b", "$x", "", "%2E", "m", "m:created", "__x__", "a/b"] {
        assert_eq!(store.compare_and_set(&key, name, None, &json!(1), t0).await.unwrap(), CasOutcome::Set, "{name:?}");
        let outcome = store.compare_and_set(&key, name, Some(&json!(1)), &json!(2), t0).await.unwrap();
        assert_eq!(outcome, CasOutcome::Set, "{name:?}");
    }
    let loaded = store.load(&key).await.unwrap().unwrap();
    for name in ["a.b", "$x", "", "%2E", "m", "m:created", "__x__", "a/b"] {
        assert_eq!(loaded.fields.get(name), Some(&json!(2)), "{name:?}");
    }
    assert_eq!((loaded.fields["other"].clone(), loaded.created_at), (json!({"keep": [1, 2]}), t0));

    // No record: nothing is created.
    let missing = new_key();
    assert_eq!(store.compare_and_set(&missing, "n", None, &json!(1), t0 + 10).await.unwrap(), CasOutcome::NoRecord);
    assert!(store.load(&missing).await.unwrap().is_none(), "compare_and_set created a record");
    assert!(store.delete(&key).await.unwrap());
    assert_eq!(store.compare_and_set(&key, "n", None, &json!(1), t0 + 10).await.unwrap(), CasOutcome::NoRecord);
    assert!(store.load(&key).await.unwrap().is_none(), "compare_and_set brought a deleted record back");

    // N concurrent increments straight on the store: every one lands, each on its own count.
    let key = new_key();
    assert!(store.create(&key, &Record { created_at: t0, expires_at: t0 + 100, ..Record::default() }).await.unwrap());
    let tasks = (0..N).map(|_| {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            loop {
                let record = store.load(&key).await.unwrap().expect("the record");
                let current = record.fields.get("count");
                let next = json!(current.map_or(0, |n| n.as_u64().unwrap()) + 1);
                match store.compare_and_set(&key, "count", current, &next, t0 + 100).await.unwrap() {
                    CasOutcome::Set => break next.as_u64().unwrap(),
                    CasOutcome::Conflict => tokio::task::yield_now().await,
                    outcome => panic!("{outcome:?}"),
                }
            }
        })
    });
    let mut counts: Vec<u64> = futures_util::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=N).collect::<Vec<_>>(), "two increments saw the same count");
    assert_eq!(store.load(&key).await.unwrap().unwrap().fields["count"], json!(N));
    store.delete(&key).await.unwrap();
}

/// `N` concurrent requests each increment one session's counter with `Session::update`, over
/// TCP, spread over four servers on the store as four processes would be (the requests of one
/// server take turns; those of different servers race, and the store's compare-and-set decides):
/// the counter ends at exactly `N`, each request saw a count of its own, and no save wrote the
/// value again.
pub async fn concurrent_increments_lose_nothing(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store, |s| s).await;
    ctx.client.post("/set/user_id", "1").await;
    let id = ctx.id();
    let mut servers = vec![ctx.addr];
    let mut others = Vec::new();
    for _ in 0..3 {
        let other = manager(config(|s| s), ctx.store.clone(), &ctx.clock).await;
        servers.push(serve_with(on, &other).await);
        others.push(other);
    }
    ctx.probe.reset();
    let requests = (0..N as usize).map(|i| {
        let mut client = Client::new(servers[i % servers.len()]);
        client.jar = ctx.client.jar.clone();
        tokio::spawn(async move { client.post("/incr/visits", "").await })
    });
    let mut counts = Vec::new();
    for reply in futures_util::future::join_all(requests).await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.set_cookie("session").is_none(), "the id stays: {:?}", reply.set_cookies);
        counts.push(reply.json().as_u64().expect("a count"));
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=N).collect::<Vec<_>>(), "two requests saw the same count");
    let record = ctx.record(&id).await.unwrap();
    assert_eq!(record.fields["visits"], json!(N), "lost increments");
    assert_eq!(record.fields["user_id"], json!(1));
    let calls = ctx.probe.take();
    assert_eq!((calls.create, calls.update), (0, 0), "a save wrote again what the update had written: {calls}");
    assert_eq!(ctx.client.get("/get/visits").await.json(), json!(N));

    // A new visitor's first count is saved with the response, under a fresh id.
    let mut visitor = Client::new(ctx.addr);
    assert_eq!(visitor.post("/incr/visits", "").await.json(), json!(1));
    assert_eq!(visitor.post("/incr/visits", "").await.json(), json!(2));
    let fresh = visitor.cookie("session").expect("an id for the new visitor");
    assert_ne!(fresh, id);
    assert_eq!(ctx.record(&fresh).await.unwrap().fields["visits"], json!(2));

    // The cookies from before a logout elsewhere never bring the session back: a new one starts.
    let mut replay = ctx.client.clone();
    assert_eq!(ctx.client.post("/clear", "").await.status, 200);
    assert_eq!(replay.post("/incr/visits", "").await.json(), json!(1), "the old count is gone with its session");
    assert_ne!(replay.cookie("session"), Some(id.clone()));
    assert!(ctx.record(&id).await.is_none(), "the logged-out record came back");
    drop(others);
}

/// A store that cannot compare and set one field (the Python formats): `Session::update` of a
/// live record fails with a clear error and writes nothing, and the store says why.
pub async fn atomic_updates_are_refused_clearly(store: Arc<dyn SessionStore>, on: Framework) {
    let mut ctx = setup(on, store.clone(), |s| s).await;
    ctx.client.post("/set/visits", "5").await;
    let id = ctx.id();
    let reply = ctx.client.post("/incr/visits", "").await;
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert_eq!(ctx.record(&id).await.unwrap().fields["visits"], json!(5));
    assert!(captured_logs().contains("cannot update a field atomically"));
    let key = format!("session:{id}");
    let error = store.compare_and_set(&key, "visits", Some(&json!(5)), &json!(6), ctx.t0 + 10).await.unwrap_err();
    assert!(matches!(error, store::Error::Unsupported { operation: "compare_and_set", .. }), "{error}");
}
