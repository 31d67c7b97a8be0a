//! The conformance suite, once per store. A new store gets the whole suite with one line here.

mod common;

use std::sync::Arc;

use session_plus::store::{MemoryStore, SessionStore};

store_suite!(memory, async {
    Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>
});

#[cfg(feature = "store-sqlite")]
store_suite!(sqlite, async {
    let store = session_plus::store::SqliteStore::open(&common::temp_db_path())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn SessionStore>
});
