//! The conformance suite, once per store. A new store gets the whole suite with one line here.

use std::sync::Arc;

use session_plus::store::{MemoryStore, SessionStore};

store_suite!(memory, async { Arc::new(MemoryStore::new()) as Arc<dyn SessionStore> });

#[cfg(feature = "store-sqlite")]
store_suite!(sqlite, async {
    let store = session_plus::store::SqliteStore::connect(&crate::common::temp_db_path()).await.unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

#[cfg(feature = "store-redis")]
fn redis_url() -> String {
    std::env::var("SESSION_PLUS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

#[cfg(feature = "store-redis")]
store_suite!(redis, async {
    let store = session_plus::store::RedisStore::connect(&redis_url()).await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

#[cfg(feature = "store-redis")]
store_suite!(redis_cluster, async {
    let url = std::env::var("SESSION_PLUS_REDIS_CLUSTER_URL")
        .unwrap_or_else(|_| "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103".into());
    let store = session_plus::store::RedisStore::connect(&url).await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

#[cfg(feature = "store-memcached")]
fn memcached_url() -> String {
    std::env::var("SESSION_PLUS_MEMCACHED_URL").unwrap_or_else(|_| "memcache://127.0.0.1:11211?timeout=2".into())
}

#[cfg(feature = "store-memcached")]
store_suite!(memcached, async {
    let store = session_plus::store::MemcachedStore::connect(&memcached_url()).await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

// One collection for the whole suite (records under random ids), with the TTL index.
#[cfg(feature = "store-mongodb")]
store_suite!(mongodb, async {
    let store = session_plus::store::MongoDbStore::connect(&crate::mongodb_store::url())
        .await
        .unwrap()
        .with_collection_name("session_plus_suite")
        .unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

// One collection for the whole suite (records under random ids), on the emulator.
#[cfg(feature = "store-firestore")]
store_suite!(firestore, async { Arc::new(crate::firestore_store::fresh_store()) as Arc<dyn SessionStore> });

/// One table per SQL server for the whole suite: every test works on records under random ids,
/// so tests do not see each other, and no run leaves tables behind.
#[cfg(any(feature = "store-postgres", feature = "store-mysql"))]
const SUITE_TABLE: &str = "session_plus_suite";

#[cfg(feature = "store-postgres")]
store_suite!(postgres, async {
    let url =
        std::env::var("SESSION_PLUS_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let store = session_plus::store::PostgresStore::connect(&url).await.unwrap().with_table_name(SUITE_TABLE).unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

#[cfg(feature = "store-mysql")]
store_suite!(mysql, async {
    let url = std::env::var("SESSION_PLUS_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let store = session_plus::store::MySqlStore::connect(&url).await.unwrap().with_table_name(SUITE_TABLE).unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

/// The Python formats keep whole records without a creation time, so `absolute_expiry` does not
/// apply to [`FlaskStore`](session_plus::store::FlaskStore): no absolute lifetime can be enforced
/// on them (a load reports "created now"; the configuration refuses one with a Flask format). Nor
/// can one field of them be compared and set (Flask rewrites whole records): they refuse
/// atomic updates clearly instead of running the two cases of them.
#[allow(unused_macros)] // without `flask`
macro_rules! flask_store_suite {
    ($name:ident, $make:expr) => {
        store_suite!($name, $make, only [
            routing_round_trip,
            lazy_loading_and_round_trips,
            strict_ids,
            malformed_ids_never_reach_the_store,
            regeneration,
            idle_expiry_and_refresh,
            permanence,
            clear_logs_out_everywhere,
            concurrent_different_fields_survive,
            faults_give_errors_and_recover,
            empty_visitors_cost_nothing,
            store_contract,
            ending_a_users_sessions,
            regenerate_never_resurrects_a_logout,
            a_stale_request_keeps_newer_permanence,
            atomic_updates_are_refused_clearly,
        ]);
    };
}

#[cfg(all(feature = "flask", feature = "store-redis"))]
flask_store_suite!(flask_redis_tagged_json, async {
    use session_plus::store::{FlaskStore, RecordEncoding, RedisStore};
    let store = RedisStore::connect(&redis_url()).await.unwrap();
    Arc::new(FlaskStore::redis(store, RecordEncoding::TaggedJson)) as Arc<dyn SessionStore>
});

#[cfg(all(feature = "flask", feature = "store-redis"))]
flask_store_suite!(flask_redis_message_pack, async {
    use session_plus::store::{FlaskStore, RecordEncoding, RedisStore};
    let store = RedisStore::connect(&redis_url()).await.unwrap();
    Arc::new(FlaskStore::redis(store, RecordEncoding::MessagePack)) as Arc<dyn SessionStore>
});

// The compare-and-swap script touches one key, so it runs on a Cluster too.
#[cfg(all(feature = "flask", feature = "store-redis"))]
flask_store_suite!(flask_redis_cluster_tagged_json, async {
    use session_plus::store::{FlaskStore, RecordEncoding, RedisStore};
    let url = std::env::var("SESSION_PLUS_REDIS_CLUSTER_URL")
        .unwrap_or_else(|_| "redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103".into());
    let store = RedisStore::connect(&url).await.unwrap();
    Arc::new(FlaskStore::redis(store, RecordEncoding::TaggedJson)) as Arc<dyn SessionStore>
});

// flask-session-plus's MongoDB documents (`id`, `val`, `_expiration`, `_permanent`), with the
// unique index on `id` and the TTL index; `val` is swapped whole, as on Redis.
#[cfg(all(feature = "flask", feature = "store-mongodb"))]
flask_store_suite!(flask_mongodb_tagged_json, async {
    use session_plus::store::{FlaskStore, MongoDbStore};
    let store = MongoDbStore::connect(&crate::mongodb_store::url()).await.unwrap();
    let store = FlaskStore::mongodb(store.with_collection_name("session_plus_flask_suite").unwrap());
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});

// flask-session-plus's per-field Firestore documents.
#[cfg(all(feature = "flask", feature = "store-firestore"))]
flask_store_suite!(flask_firestore, async {
    Arc::new(crate::firestore_store::fresh_store().flask_session_plus()) as Arc<dyn SessionStore>
});

// On Memcached too: the store keeps each record's expiry beside it, since Memcached does not
// tell an item's expiry.
#[cfg(all(feature = "flask", feature = "store-memcached"))]
flask_store_suite!(flask_memcached_tagged_json, async {
    use session_plus::store::{FlaskStore, MemcachedStore};
    let store = MemcachedStore::connect(&memcached_url()).await.unwrap();
    Arc::new(FlaskStore::memcached(store)) as Arc<dyn SessionStore>
});
