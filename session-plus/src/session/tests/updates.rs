//! What a session's save hands its store: the loaded values of the fields it changes, for the
//! stores that read them.

use std::sync::Arc;

use serde_json::json;

use super::Fixture;
use crate::store::{MemoryStore, SessionStore};

/// A memory store that keeps the last update it was given.
#[derive(Debug, Default)]
struct RecordingUpdates {
    inner: MemoryStore,
    last: std::sync::Mutex<Option<crate::store::Update>>,
    /// What it answers to `reads_loaded_values`.
    reads_loaded: bool,
}

#[async_trait::async_trait]
impl SessionStore for RecordingUpdates {
    async fn load(&self, key: &str) -> crate::store::Result<Option<crate::store::Record>> {
        self.inner.load(key).await
    }
    async fn create(&self, key: &str, record: &crate::store::Record) -> crate::store::Result<bool> {
        self.inner.create(key, record).await
    }
    async fn update(&self, key: &str, update: &crate::store::Update) -> crate::store::Result<bool> {
        *self.last.lock().unwrap() = Some(update.clone());
        self.inner.update(key, update).await
    }
    async fn delete(&self, key: &str) -> crate::store::Result<bool> {
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: i64) -> crate::store::Result<u64> {
        self.inner.purge_expired(now).await
    }
    fn reads_loaded_values(&self) -> bool {
        self.reads_loaded
    }
    fn backend_name(&self) -> &'static str {
        "recording-updates"
    }
}

/// An update tells a store that reads them what the request loaded of each field it changes (the
/// value before the request's first change), which a whole-record store needs to settle a
/// same-field race; other stores are spared the copies.
#[tokio::test]
async fn an_update_carries_the_loaded_values_of_the_fields_it_changes() {
    let store = Arc::new(RecordingUpdates { reads_loaded: true, ..RecordingUpdates::default() });
    let mut fx = Fixture::with_account_store(store.clone());
    let last = || store.last.lock().unwrap().take();
    let session = fx.request();
    session.insert("account", 1).await.unwrap();
    fx.respond(session).await;
    assert_eq!(last(), None, "a new record is created, not updated");

    let session = fx.request();
    session.insert("account", 2).await.unwrap();
    session.insert("account", 3).await.unwrap();
    fx.respond(session).await;
    let update = last().expect("an update");
    assert_eq!(update.set.get("account"), Some(&json!(3)));
    assert_eq!(update.loaded, Some(json!({"account": 1}).as_object().unwrap().clone()), "as loaded, not as first set");

    // Written without being read first: the loaded value is read for the store all the same.
    let session = fx.request();
    session.insert("account", 9).await.unwrap();
    fx.respond(session).await;
    assert_eq!(last().expect("an update").loaded, Some(json!({"account": 3}).as_object().unwrap().clone()));

    let store = Arc::new(RecordingUpdates::default());
    let mut fx = Fixture::with_account_store(store.clone());
    for value in [1, 2] {
        let session = fx.request();
        session.insert("account", value).await.unwrap();
        fx.respond(session).await;
    }
    let update = store.last.lock().unwrap().take().expect("an update");
    assert_eq!((update.set.get("account"), update.loaded), (Some(&json!(2)), None));
}
