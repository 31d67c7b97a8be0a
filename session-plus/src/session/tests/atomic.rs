//! `Session::update` in each kind of session, with stores that show what the HTTP suite cannot
//! stage: a record deleted between the load and the update, and writers that keep coming first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::StatusCode;
use serde_json::{json, Value};

use super::{FailingSaves, Fixture, T0};
use crate::config::Format;
use crate::session::Error;
use crate::store::{self, CasOutcome, MemoryStore, Record, SessionStore, Update};

fn increment(n: Option<u64>) -> u64 {
    n.unwrap_or(0) + 1
}

#[tokio::test]
async fn a_live_record_is_set_at_once_and_its_save_does_not_write_the_value_again() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    fx.respond(session).await;
    let key = format!("session:{}", fx.cookie("session").unwrap());

    fx.advance(100);
    let first = fx.request();
    assert_eq!(first.update("n", increment).await.unwrap(), 1);
    let record = fx.store.load(&key).await.unwrap().unwrap();
    assert_eq!(record.fields["n"], json!(1), "written at once, before the response");
    assert_eq!(record.expires_at, T0 + 100 + 3600, "the expiry slides as with any write");
    assert_eq!(first.get::<u64>("n").await.unwrap(), Some(1), "the request sees its value");

    // Another request updates the field before the first one's save.
    let second = fx.request();
    assert_eq!(second.update("n", increment).await.unwrap(), 2);
    assert!(fx.respond(second).await.is_empty(), "nothing else to write, no cookie");
    assert!(fx.respond(first).await.is_empty());
    let record = fx.store.load(&key).await.unwrap().unwrap();
    assert_eq!((record.fields["n"].clone(), record.fields["user_id"].clone()), (json!(2), json!(7)));
}

#[tokio::test]
async fn a_new_visitor_and_a_cookie_session_get_the_value_with_the_response() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    assert_eq!(session.update("n", increment).await.unwrap(), 1);
    assert_eq!(session.update("n", increment).await.unwrap(), 2);
    assert_eq!(session.update("csrf_token", |t: Option<String>| t.unwrap_or_default() + "x").await.unwrap(), "x");
    assert!(fx.store.is_empty(), "no record before the response");
    assert_eq!(fx.respond(session).await.len(), 2, "the id cookie and the csrf cookie");
    let key = format!("session:{}", fx.cookie("session").unwrap());
    assert_eq!(fx.store.load(&key).await.unwrap().unwrap().fields["n"], json!(2));

    let session = fx.request();
    assert_eq!(session.update("csrf_token", |t: Option<String>| t.unwrap_or_default() + "y").await.unwrap(), "xy");
    fx.respond(session).await;
    assert_eq!(fx.request().get::<String>("csrf_token").await.unwrap().as_deref(), Some("xy"));
}

#[tokio::test]
async fn a_field_the_request_changed_is_updated_in_its_copy() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("n", 1).await.unwrap();
    fx.respond(session).await;
    let key = format!("session:{}", fx.cookie("session").unwrap());

    let session = fx.request();
    session.insert("n", 10).await.unwrap();
    assert_eq!(session.update("n", increment).await.unwrap(), 11, "the request's own value");
    assert_eq!(fx.store.load(&key).await.unwrap().unwrap().fields["n"], json!(1), "saved with the response");
    fx.respond(session).await;
    assert_eq!(fx.store.load(&key).await.unwrap().unwrap().fields["n"], json!(11));

    // After `clear`, the fresh record is the request's own too.
    let session = fx.request();
    session.clear().await.unwrap();
    assert_eq!(session.update("n", increment).await.unwrap(), 1);
    fx.respond(session).await;
    assert!(fx.store.load(&key).await.unwrap().is_none());
    assert_eq!(fx.request().get::<u64>("n").await.unwrap(), Some(1));
}

#[tokio::test]
async fn a_record_deleted_meanwhile_is_not_brought_back() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.insert("n", 5).await.unwrap();
    fx.respond(session).await;
    let key = format!("session:{}", fx.cookie("session").unwrap());

    let session = fx.request();
    assert_eq!(session.get::<u64>("user_id").await.unwrap(), Some(7));
    assert!(fx.store.delete(&key).await.unwrap(), "a logout elsewhere");
    assert_eq!(session.update("n", increment).await.unwrap(), 1, "the count starts anew");
    fx.respond(session).await;
    assert!(fx.store.load(&key).await.unwrap().is_none(), "the logged-out record came back");
    let new = format!("session:{}", fx.cookie("session").unwrap());
    assert_ne!(new, key);
    let record = fx.store.load(&new).await.unwrap().unwrap();
    assert_eq!(Value::Object(record.fields), json!({"n": 1}), "only what this request wrote");
}

#[tokio::test(start_paused = true)]
async fn a_conflict_reads_again_and_too_many_give_409_writing_nothing() {
    let contended = Arc::new(Contended::default());
    let mut fx = Fixture::with_account_store(contended.clone());
    let session = fx.request();
    session.insert("account", 1).await.unwrap();
    fx.respond(session).await;
    let key = format!("session:{}", fx.cookie("account").unwrap()); // the default key prefix

    // Two other writers come first: the third attempt wins, on their value.
    contended.bumps.store(2, Ordering::SeqCst);
    let session = fx.request();
    let mut calls = 0;
    let value = session.update("account", |n: Option<u64>| {
        calls += 1;
        increment(n)
    });
    assert_eq!(value.await.unwrap(), 202);
    assert_eq!(calls, 3);
    assert_eq!(contended.inner.load(&key).await.unwrap().unwrap().fields["account"], json!(202));
    fx.respond(session).await;

    // Others always come first: after 16 attempts, a 409, and none of this request's values.
    contended.bumps.store(usize::MAX, Ordering::SeqCst);
    contended.calls.store(0, Ordering::SeqCst);
    let session = fx.request();
    let error = session.update("account", increment).await.unwrap_err();
    assert!(matches!(&error, Error::Conflict { field } if field == "account"), "{error}");
    assert_eq!(error.status(), StatusCode::CONFLICT);
    assert_eq!(contended.calls.load(Ordering::SeqCst), 16);
    let stored = contended.inner.load(&key).await.unwrap().unwrap().fields["account"].as_u64().unwrap();
    assert_eq!(stored % 100, 2, "only the other writers' changes: {stored}");
    let (_, failure) = fx.respond_even_failing(session).await;
    assert_eq!(failure, None, "the save itself is fine");
    assert_eq!(contended.inner.load(&key).await.unwrap().unwrap().fields["account"].as_u64(), Some(stored));
}

#[tokio::test]
async fn stores_without_compare_and_set_and_python_formats_refuse_clearly() {
    // A store of one's own that keeps the trait's default.
    let mut fx = Fixture::with_account_store(Arc::new(FailingSaves::default()));
    let session = fx.request();
    session.insert("account", 1).await.unwrap();
    fx.respond(session).await;
    let error = fx.request().update("account", increment).await.unwrap_err();
    assert!(matches!(&error, Error::Unsupported { session } if session == "account"), "{error}");
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);

    // A Python format, even for a new visitor: its records are shared with Flask.
    let fx = Fixture::new(|s| s.with_format(Format::FlaskSession));
    let error = fx.request().update("n", increment).await.unwrap_err();
    assert!(matches!(error, Error::Unsupported { .. }), "{error}");

    // A value of another type, and a reserved or unowned field.
    let fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("n", "text").await.unwrap();
    assert!(matches!(session.update("n", increment).await, Err(Error::Deserialize { .. })));
    assert!(matches!(session.update("_sp_user", increment).await, Err(Error::ReservedField(_))));
}

/// A memory store where, before each of its next `bumps` compare-and-sets, another writer adds
/// 100 to the field, as another process would: those compare-and-sets conflict.
#[derive(Debug, Default)]
struct Contended {
    inner: MemoryStore,
    bumps: AtomicUsize,
    /// Compare-and-sets asked for.
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl SessionStore for Contended {
    async fn load(&self, key: &str) -> store::Result<Option<Record>> {
        self.inner.load(key).await
    }
    async fn create(&self, key: &str, record: &Record) -> store::Result<bool> {
        self.inner.create(key, record).await
    }
    async fn update(&self, key: &str, update: &Update) -> store::Result<bool> {
        self.inner.update(key, update).await
    }
    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> store::Result<CasOutcome> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.bumps.load(Ordering::SeqCst) > 0 {
            self.bumps.fetch_sub(1, Ordering::SeqCst);
            let current = self.inner.load(key).await?.and_then(|record| record.fields.get(field)?.as_u64());
            let mut bump = Update::default();
            bump.set.insert(field.to_owned(), json!(current.unwrap_or(0) + 100));
            self.inner.update(key, &bump).await?;
        }
        self.inner.compare_and_set(key, field, expected, new, expires_at).await
    }
    async fn delete(&self, key: &str) -> store::Result<bool> {
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: i64) -> store::Result<u64> {
        self.inner.purge_expired(now).await
    }
    fn backend_name(&self) -> &'static str {
        "contended"
    }
}
