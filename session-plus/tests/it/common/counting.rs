//! [`CountingStore`]: a store that wraps another and counts the calls a request makes to it, to
//! measure round trips per request (issue 11, item 5).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use session_plus::store::{self, Record, SessionStore, Update};

/// Counts `load`, `create`, `update` and `delete` calls, then passes them on.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn SessionStore>,
    loads: AtomicUsize,
    creates: AtomicUsize,
    updates: AtomicUsize,
    deletes: AtomicUsize,
}

/// The calls counted since the last [`CountingStore::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub load: usize,
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.load + self.create + self.update + self.delete
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { load, create, update, delete } = self;
        write!(f, "load {load}, create {create}, update {update}, delete {delete} (total {})", self.total())
    }
}

impl CountingStore {
    pub fn new(inner: Arc<dyn SessionStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            loads: AtomicUsize::new(0),
            creates: AtomicUsize::new(0),
            updates: AtomicUsize::new(0),
            deletes: AtomicUsize::new(0),
        })
    }

    /// The counts so far, and starts again from zero.
    pub fn take(&self) -> Counts {
        Counts {
            load: self.loads.swap(0, Ordering::SeqCst),
            create: self.creates.swap(0, Ordering::SeqCst),
            update: self.updates.swap(0, Ordering::SeqCst),
            delete: self.deletes.swap(0, Ordering::SeqCst),
        }
    }
}

#[async_trait]
impl SessionStore for CountingStore {
    async fn load(&self, key: &str) -> store::Result<Option<Record>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load(key).await
    }

    async fn create(&self, key: &str, record: &Record) -> store::Result<bool> {
        self.creates.fetch_add(1, Ordering::SeqCst);
        self.inner.create(key, record).await
    }

    async fn update(&self, key: &str, update: &Update) -> store::Result<bool> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        self.inner.update(key, update).await
    }

    async fn delete(&self, key: &str) -> store::Result<bool> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }

    async fn purge_expired(&self, now: i64) -> store::Result<u64> {
        self.inner.purge_expired(now).await
    }

    fn expires_natively(&self) -> bool {
        self.inner.expires_natively()
    }

    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }
}
