//! [`SqliteStore`]: records in a SQLite file, the embedded default.
//!
//! One row per session. `data` is a JSON object mapping each field to its value's JSON text, so
//! a request's changes apply as one `json_patch` (a string value replaces, `null` removes) and two
//! requests that change different fields both survive. `expires_at` is indexed for the purge.
//!
//! SQLite calls block, so each connection lives on a thread of its own and requests reach it over
//! a channel: one writer thread, which owns the only writing connection (SQLite has one writer at a
//! time, and queueing here is much cheaper than colliding on the file lock), and a few reader
//! threads sharing one queue of loads. The writer takes every write already queued (up to 256)
//! and runs them in one transaction, answering only after its `COMMIT`: one commit per batch
//! instead of one per write (group commit), and one thread wake-up per request. A compare-and-set
//! of one field runs there too: read, compared in Rust and written inside the writer's
//! `BEGIN IMMEDIATE` transaction, which holds the database's write lock. An in-memory
//! database has a single connection, so its writer thread serves the loads too.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use async_trait::async_trait;
use crossbeam_channel::{Sender, TrySendError};
use rusqlite::Connection;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

mod worker;

use self::worker::{connect, read_loop, write_loop, Cas, Read, Reply, Role, Row, Statements, Target, Write};
use super::sql::{self, backend, text_patch};
use super::{CasOutcome, Error, Record, Result, SessionStore, StoredFields, UnparsedRecord, Update};

/// The most writes the writer thread takes into one transaction.
const WRITE_BATCH: usize = 256;

/// The most loads a reader thread takes off the queue at once (and reads in one snapshot).
const READ_BATCH: usize = 32;

/// The most reader threads a store starts (fewer on a machine with fewer cores).
const MAX_READERS: usize = 4;

/// How long a connection waits for a lock another process holds before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The most calls that may wait for a thread; past that, a call fails at once rather than queue
/// without bound behind a database that has stopped answering.
const QUEUE_CAPACITY: usize = 4096;

/// How long a call waits for its thread's answer: a few busy timeouts, then it fails.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A SQLite-backed store.
///
/// Cloning is cheap: clones share the database connections and their threads, which end once the
/// last clone is dropped.
///
/// ```
/// use session_plus::store::{Record, SessionStore, SqliteStore};
/// # tokio_test_block(async {
/// let store = SqliteStore::connect(":memory:").await?;
/// store.migrate().await?;
/// let record = Record { created_at: 0, expires_at: 100, ..Default::default() };
/// assert!(store.create("session:k", &record).await?);
/// assert_eq!(store.load("session:k").await?, Some(record));
/// # Ok::<(), session_plus::store::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The writer thread's queue.
    writer: Sender<Write>,
    /// The reader threads' queue; `None` for an in-memory database, whose writer serves loads.
    readers: Option<Sender<Read>>,
    /// The statements for the store's table.
    sql: Arc<Statements>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path_or_url` in WAL mode, with
    /// `synchronous = NORMAL` and a 10-second busy timeout, and starts its threads.
    ///
    /// `path_or_url` is a file path (`sessions.db`, `/var/lib/app/sessions.db`, `:memory:`, or a
    /// SQLite `file:` URI), or a `sqlite:` URL: `sqlite://sessions.db` (relative),
    /// `sqlite:///var/lib/app/sessions.db` (absolute), `sqlite::memory:`, with SQLite's URI
    /// parameters after `?` (such as `mode=ro`). An in-memory database lives as long as the store.
    ///
    /// ```no_run
    /// use session_plus::store::SqliteStore;
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let store = SqliteStore::connect("sqlite://sessions.db").await?;
    /// store.migrate().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The file cannot be opened or created, or is not a SQLite database.
    pub async fn connect(path_or_url: &str) -> Result<Self> {
        let target = Target::parse(path_or_url);
        let sql = Arc::new(Statements::new("sessions"));

        let (writer, queue) = crossbeam_channel::bounded(QUEUE_CAPACITY);
        let (ready, opened) = oneshot::channel();
        let name = target.name.clone();
        spawn("sp-sqlite-writer", move || match connect(&name, Role::Writer) {
            Ok(conn) => {
                if ready.send(Ok(())).is_ok() {
                    write_loop(&conn, &queue);
                }
            }
            Err(e) => drop(ready.send(Err(backend(e)))),
        })?;
        opened.await.map_err(|_| stopped(WRITER))??;

        let readers = if target.in_memory {
            None
        } else {
            let count = thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_READERS);
            let (readers, queue) = crossbeam_channel::bounded(QUEUE_CAPACITY);
            let mut openings = Vec::with_capacity(count);
            for _ in 0..count {
                let (ready, opened) = oneshot::channel();
                let (name, queue) = (target.name.clone(), queue.clone());
                spawn("sp-sqlite-reader", move || match connect(&name, Role::Reader) {
                    Ok(conn) => {
                        if ready.send(Ok(())).is_ok() {
                            read_loop(&conn, &queue);
                        }
                    }
                    Err(e) => drop(ready.send(Err(backend(e)))),
                })?;
                openings.push(opened);
            }
            // On an error, dropping the queues ends the threads already started.
            for opened in openings {
                opened.await.map_err(|_| stopped(READERS))??;
            }
            Some(readers)
        };
        Ok(Self { writer, readers, sql })
    }

    /// Uses a connection your application opened (with its own pragmas, or an in-memory
    /// database): one thread owns it and serves loads and writes in turn.
    ///
    /// ```
    /// use session_plus::store::SqliteStore;
    /// # tokio_test_block(async {
    /// let connection = rusqlite::Connection::open_in_memory().expect("SQLite opens in memory");
    /// let store = SqliteStore::new(connection)?;
    /// store.migrate().await?;
    /// # Ok::<(), session_plus::store::Error>(())
    /// # });
    /// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// ```
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn new(connection: Connection) -> Result<Self> {
        let (writer, queue) = crossbeam_channel::bounded(QUEUE_CAPACITY);
        spawn("sp-sqlite-writer", move || write_loop(&connection, &queue))?;
        Ok(Self { writer, readers: None, sql: Arc::new(Statements::new("sessions")) })
    }

    /// Uses another table; its name must be a plain SQL identifier.
    ///
    /// ```
    /// use session_plus::store::SqliteStore;
    /// # tokio_test_block(async {
    /// let store = SqliteStore::connect(":memory:").await?;
    /// let store = store.with_table_name("web_sessions").expect("a plain identifier");
    /// store.migrate().await?;
    /// assert!(store.clone().with_table_name("web-sessions").is_err());
    /// # Ok::<(), session_plus::store::Error>(())
    /// # });
    /// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// ```
    ///
    /// # Errors
    /// The name is empty or has characters other than ASCII letters, digits and `_`.
    pub fn with_table_name(mut self, table: impl Into<String>) -> std::result::Result<Self, String> {
        let table = table.into();
        super::sql::check_table_name(&table)?;
        self.sql = Arc::new(Statements::new(&table));
        Ok(self)
    }

    /// Creates the table and its index if they do not exist, in one transaction.
    ///
    /// ```
    /// use session_plus::store::SqliteStore;
    /// # tokio_test_block(async {
    /// let store = SqliteStore::connect(":memory:").await?;
    /// store.migrate().await?;
    /// store.migrate().await?; // again: harmless
    /// # Ok::<(), session_plus::store::Error>(())
    /// # });
    /// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// ```
    ///
    /// # Errors
    /// The database refuses the statements.
    pub async fn migrate(&self) -> Result<()> {
        self.write(|sql, reply| Write::Migrate { sql, reply }).await
    }

    /// Sends a write to the writer thread and waits for its answer.
    async fn write<T>(&self, write: impl FnOnce(Arc<Statements>, Reply<T>) -> Write) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        enqueue(&self.writer, write(Arc::clone(&self.sql), reply), WRITER)?;
        wait_for(answer, WRITER).await?
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        UnparsedRecord::parsed(self.load_unparsed(key).await?)
    }

    async fn load_unparsed(&self, key: &str) -> Result<Option<UnparsedRecord>> {
        let (reply, answer) = oneshot::channel();
        let read = Read { sql: Arc::clone(&self.sql), key: key.to_owned(), reply };
        let which = match &self.readers {
            Some(readers) => enqueue(readers, read, READERS).map(|()| READERS),
            None => enqueue(&self.writer, Write::Load(read), WRITER).map(|()| WRITER),
        }?;
        let Some(row) = wait_for(answer, which).await?? else {
            return Ok(None);
        };
        Ok(Some(UnparsedRecord {
            fields: StoredFields::PerField(sql::text_fields(&row.data)?),
            created_at: row.created_at,
            expires_at: row.expires_at,
            permanent: row.permanent,
        }))
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let row = Row {
            data: text_patch(&record.fields, &[]),
            created_at: record.created_at,
            expires_at: record.expires_at,
            permanent: record.permanent,
        };
        let key = key.to_owned();
        self.write(|sql, reply| Write::Create { sql, key, row, reply }).await
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        let patch = if update.set.is_empty() && update.remove.is_empty() {
            None
        } else {
            Some(text_patch(&update.set, &update.remove))
        };
        let (key, expires_at, permanent) = (key.to_owned(), update.expires_at, update.permanent);
        self.write(|sql, reply| Write::Update { sql, key, expires_at, permanent, patch, reply }).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        // The writer thread reads, compares and writes inside its `BEGIN IMMEDIATE` transaction,
        // which holds the database's write lock: no other write, from any process, comes between.
        let mut set = Map::new();
        set.insert(field.to_owned(), new.clone());
        let cas = Cas {
            key: key.to_owned(),
            field: field.to_owned(),
            expected: expected.cloned(),
            patch: text_patch(&set, &[]),
            expires_at,
        };
        self.write(|sql, reply| Write::CompareAndSet { sql, cas, reply }).await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let key = key.to_owned();
        self.write(|sql, reply| Write::Delete { sql, key, reply }).await
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        self.write(|sql, reply| Write::Purge { sql, now, reply }).await
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }
}

// ---------------------------------------------------------------------------------------------
// The threads.

/// Which thread a failure message names.
const WRITER: &str = "writer";
const READERS: &str = "reader";

/// The error for a request whose thread is gone (it can only have panicked, or failed to start).
fn stopped(which: &str) -> Error {
    Error::Backend(format!("the SQLite store's {which} thread has stopped").into())
}

/// Queues a call for a thread: an error at once when the queue is full or the thread is gone.
fn enqueue<T>(queue: &Sender<T>, call: T, which: &str) -> Result<()> {
    queue.try_send(call).map_err(|error| match error {
        TrySendError::Full(_) => {
            Error::Backend(format!("the SQLite store's {which} queue is full ({QUEUE_CAPACITY} calls waiting)").into())
        }
        TrySendError::Disconnected(_) => stopped(which),
    })
}

/// Waits for a thread's answer, at most [`ANSWER_TIMEOUT`].
async fn wait_for<T>(answer: oneshot::Receiver<T>, which: &str) -> Result<T> {
    match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(stopped(which)),
        Err(_) => Err(Error::Backend(
            format!("the SQLite store's {which} thread gave no answer within {} s", ANSWER_TIMEOUT.as_secs()).into(),
        )),
    }
}

/// Starts a named thread.
fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<()> {
    thread::Builder::new().name(name.to_owned()).spawn(body).map(drop).map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::worker::{load, migrate, write_batch};
    use super::*;

    #[test]
    fn targets() {
        let file = |name: &str| Target { name: name.to_owned(), in_memory: false };
        let memory = |name: &str| Target { name: name.to_owned(), in_memory: true };
        assert_eq!(Target::parse("sessions.db"), file("sessions.db"));
        assert_eq!(Target::parse("/var/lib/app/s.db"), file("/var/lib/app/s.db"));
        assert_eq!(Target::parse(":memory:"), memory(":memory:"));
        assert_eq!(Target::parse(""), memory(""));
        assert_eq!(Target::parse("file::memory:"), memory("file::memory:"));
        assert_eq!(Target::parse("file:s.db?mode=memory&cache=shared"), memory("file:s.db?mode=memory&cache=shared"));
        assert_eq!(Target::parse("sqlite://sessions.db"), file("file:sessions.db"));
        assert_eq!(Target::parse("sqlite:sessions.db"), file("file:sessions.db"));
        assert_eq!(Target::parse("sqlite:///var/lib/s.db?mode=rwc"), file("file:/var/lib/s.db?mode=rwc"));
        assert_eq!(Target::parse("sqlite://a#b.db"), file("file:a%23b.db"));
        assert_eq!(Target::parse("sqlite::memory:"), memory("file::memory:"));
        assert_eq!(Target::parse("sqlite://s.db?mode=memory"), memory("file:s.db?mode=memory"));
    }

    #[tokio::test]
    async fn a_stopped_thread_is_an_error_not_a_panic_or_a_hang() {
        let (writer, queue) = crossbeam_channel::bounded(QUEUE_CAPACITY);
        let (readers, read_queue) = crossbeam_channel::unbounded();
        let store = SqliteStore { writer, readers: Some(readers), sql: Arc::new(Statements::new("sessions")) };
        // A thread that takes a request and dies without answering.
        let taker = thread::spawn(move || drop(queue.recv()));
        let err = store.delete("session:k").await.unwrap_err();
        assert!(err.to_string().contains("writer thread has stopped"), "{err}");
        taker.join().unwrap();
        // Then nothing takes requests at all.
        let err = store.purge_expired(0).await.unwrap_err();
        assert!(err.to_string().contains("writer thread has stopped"), "{err}");
        drop(read_queue);
        let err = store.load("session:k").await.unwrap_err();
        assert!(err.to_string().contains("reader thread has stopped"), "{err}");
    }

    /// A write that fails alone (here: its table is missing) gets its error; SQLite undoes only
    /// that statement, so the rest of the batch commits.
    #[test]
    fn one_failing_write_does_not_undo_the_others() {
        let conn = connect(":memory:", Role::Writer).unwrap();
        migrate(&conn, "sessions").unwrap();
        let sql = Arc::new(Statements::new("sessions"));
        let missing = Arc::new(Statements::new("no_such_table"));
        let row = || Row { data: "{}".into(), created_at: 0, expires_at: 1, permanent: false };
        let mut batch = Vec::new();
        let mut answers = Vec::new();
        for (i, key) in ["a", "b", "c", "a"].into_iter().enumerate() {
            let (reply, answer) = oneshot::channel();
            let sql = if i == 1 { Arc::clone(&missing) } else { Arc::clone(&sql) };
            batch.push(Write::Create { sql, key: key.into(), row: row(), reply });
            answers.push(answer);
        }
        write_batch(&conn, &mut batch);
        let answers: Vec<_> = answers.into_iter().map(|mut answer| answer.try_recv().unwrap().ok()).collect();
        assert_eq!(answers, [Some(true), None, Some(true), Some(false)]);
        assert!(load(&conn, &sql, "a").unwrap().is_some());
        assert!(load(&conn, &sql, "c").unwrap().is_some());
        assert!(conn.is_autocommit());
    }

    /// Writes that fail in a batch: each gets an error, and every write answered `Ok` is in the
    /// database afterwards, every one answered `Err` is not.
    #[test]
    fn a_batch_answers_ok_only_for_what_it_committed() {
        let dir = std::env::temp_dir().join(format!("session-plus-batch-{}", std::process::id()));
        drop(std::fs::remove_dir_all(&dir));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("batch.db");
        let conn = connect(path.to_str().unwrap(), Role::Writer).unwrap();
        migrate(&conn, "sessions").unwrap();
        // Little room: big records fill the database.
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |row| row.get(0)).unwrap();
        conn.pragma_update(None, "max_page_count", pages + 20).unwrap();
        let sql = Arc::new(Statements::new("sessions"));
        let missing = Arc::new(Statements::new("no_such_table"));

        let mut batch = Vec::new();
        let mut answers = Vec::new();
        for i in 0..40 {
            let (reply, answer) = oneshot::channel();
            let size = if i % 3 == 0 { 20_000 } else { 10 };
            let row = Row {
                data: format!("{{\"f\":\"{}\"}}", "x".repeat(size)),
                created_at: 0,
                expires_at: 1,
                permanent: false,
            };
            let sql = if i == 7 { Arc::clone(&missing) } else { Arc::clone(&sql) };
            batch.push(Write::Create { sql, key: format!("k{i}"), row, reply });
            answers.push(answer);
        }
        write_batch(&conn, &mut batch);
        assert!(batch.is_empty());
        assert!(conn.is_autocommit(), "no transaction left open");
        let (mut ok, mut failed, mut rolled_back) = (0, 0, 0);
        for (i, mut answer) in answers.into_iter().enumerate() {
            let stored = load(&conn, &sql, &format!("k{i}")).unwrap().is_some();
            match answer.try_recv().expect("every write is answered") {
                Ok(created) => {
                    assert!(created && stored, "k{i} answered Ok but is not stored");
                    ok += 1;
                }
                Err(e) => {
                    rolled_back += usize::from(e.to_string().contains("rolled back"));
                    assert!(!stored, "k{i} answered Err but is stored");
                    failed += 1;
                }
            }
        }
        // SQLite rolls the whole transaction back when the database is full: the writes before
        // the failure are lost, and answered so; the ones after it go on in a new transaction.
        assert!(ok > 0 && rolled_back > 0, "{ok} ok, {failed} failed, {rolled_back} rolled back");
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
