//! Memcached-only behaviour: the server itself drops expired sessions.
#![cfg(feature = "store-memcached")]

use std::time::Duration;

use session_plus::clock::{Clock, SystemClock};
use session_plus::session::Id;
use session_plus::store::{MemcachedStore, Record, SessionStore, Update};

fn url() -> String {
    std::env::var("SESSION_PLUS_MEMCACHED_URL").unwrap_or_else(|_| "memcache://127.0.0.1:11211?timeout=2".into())
}

#[tokio::test]
async fn memcached_drops_expired_sessions_itself() {
    let store = MemcachedStore::connect(&url()).await.unwrap();
    let key = format!("session:{}", Id::random().unwrap().as_str());
    let now = SystemClock.now();
    let record = Record { created_at: now, expires_at: now + 2, ..Record::default() };
    assert!(store.create(&key, &record).await.unwrap());
    assert!(store.load(&key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert!(store.load(&key).await.unwrap().is_none(), "gone from Memcached itself");
    let update = Update { expires_at: now + 100, ..Update::default() };
    assert!(!store.update(&key, &update).await.unwrap(), "and an update does not bring it back");
}

#[tokio::test]
async fn a_thirty_one_day_session_keeps_its_absolute_expiry() {
    let store = MemcachedStore::connect(&url()).await.unwrap();
    let key = format!("session:{}", Id::random().unwrap().as_str());
    let now = SystemClock.now();
    let record = Record { created_at: now, expires_at: now + 31 * 86_400, permanent: true, ..Record::default() };
    assert!(store.create(&key, &record).await.unwrap());
    assert_eq!(store.load(&key).await.unwrap().unwrap(), record);
}
