//! The store's threads: the connections, the writer's batches (group commit) and the readers'
//! loop, and the SQL they run. [`SqliteStore`](super::SqliteStore) only queues calls for them.

use std::sync::Arc;

use crossbeam_channel::Receiver;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::Value;
use tokio::sync::oneshot;

use super::{BUSY_TIMEOUT, READ_BATCH, WRITE_BATCH};
use crate::store::sql::{self, backend};
use crate::store::{CasOutcome, Error, Result};

/// Where the connections go: what `sqlite3_open_v2` gets, and whether it is an in-memory
/// database (which exists once per connection, so it gets only one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) name: String,
    pub(super) in_memory: bool,
}

impl Target {
    /// A file path, `:memory:` or a `file:` URI as it is; a `sqlite:` URL as a `file:` URI.
    pub(super) fn parse(path_or_url: &str) -> Self {
        let name = match path_or_url.strip_prefix("sqlite:") {
            Some(rest) => {
                let rest = rest.strip_prefix("//").unwrap_or(rest);
                // `#` would start the URI's fragment; SQLite decodes `%23` back.
                format!("file:{}", rest.replace('#', "%23"))
            }
            None => path_or_url.to_owned(),
        };
        let in_memory = {
            let (path, params) = match name.strip_prefix("file:") {
                Some(uri) => uri.split_once('?').unwrap_or((uri, "")),
                None => (name.as_str(), ""),
            };
            // An empty name is a private temporary database: one connection too.
            path.is_empty() || path == ":memory:" || params.split('&').any(|param| param == "mode=memory")
        };
        Self { name, in_memory }
    }
}

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Writer,
    Reader,
}

/// Opens a connection. The writer sets WAL mode (which stays with the file) before the readers
/// open theirs; readers refuse to write.
pub(super) fn connect(name: &str, role: Role) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(name, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(32);
    match role {
        Role::Writer => {
            // Reads the file too, so a file that is not a database fails here, at open.
            let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        Role::Reader => conn.pragma_update(None, "query_only", true)?,
    }
    Ok(conn)
}

/// A reply channel.
pub(super) type Reply<T> = oneshot::Sender<Result<T>>;

/// A record as stored: `data` is still the column's JSON text, decoded by the caller so the
/// database threads do only database work.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) data: String,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
    pub(super) permanent: bool,
}

/// The SQL of every statement, for one table.
#[derive(Debug)]
pub(super) struct Statements {
    pub(super) table: String,
    pub(super) load: String,
    pub(super) create: String,
    pub(super) touch: String,
    pub(super) patch: String,
    pub(super) delete: String,
    pub(super) purge: String,
}

/// An update's expiry (`?2`) and permanence (`?3`, `NULL` when the request did not change it):
/// without a new permanence, the stored one stays and the expiry never moves backwards.
pub(super) const EXPIRY_AND_PERMANENCE: &str =
    "expires_at = CASE WHEN ?3 IS NULL THEN max(expires_at, ?2) ELSE ?2 END, permanent = coalesce(?3, permanent)";

impl Statements {
    pub(super) fn new(table: &str) -> Self {
        Self {
            table: table.to_owned(),
            load: format!("SELECT data, created_at, expires_at, permanent FROM {table} WHERE id = ?1"),
            create: format!(
                "INSERT INTO {table} (id, data, created_at, expires_at, permanent) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO NOTHING"
            ),
            touch: format!("UPDATE {table} SET {EXPIRY_AND_PERMANENCE} WHERE id = ?1"),
            patch: format!("UPDATE {table} SET {EXPIRY_AND_PERMANENCE}, data = json_patch(data, ?4) WHERE id = ?1"),
            delete: format!("DELETE FROM {table} WHERE id = ?1"),
            purge: format!("DELETE FROM {table} WHERE expires_at <= ?1"),
        }
    }
}

/// A load, for a reader thread (or the writer thread of an in-memory database).
#[derive(Debug)]
pub(super) struct Read {
    pub(super) sql: Arc<Statements>,
    pub(super) key: String,
    pub(super) reply: Reply<Option<Row>>,
}

/// A request for the writer thread.
#[derive(Debug)]
pub(super) enum Write {
    Load(Read),
    Create {
        sql: Arc<Statements>,
        key: String,
        row: Row,
        reply: Reply<bool>,
    },
    Update {
        sql: Arc<Statements>,
        key: String,
        expires_at: i64,
        permanent: Option<bool>,
        patch: Option<String>,
        reply: Reply<bool>,
    },
    Delete {
        sql: Arc<Statements>,
        key: String,
        reply: Reply<bool>,
    },
    CompareAndSet {
        sql: Arc<Statements>,
        cas: Cas,
        reply: Reply<CasOutcome>,
    },
    Purge {
        sql: Arc<Statements>,
        now: i64,
        reply: Reply<u64>,
    },
    Migrate {
        sql: Arc<Statements>,
        reply: Reply<()>,
    },
}

/// A compare-and-set of one field, for the writer thread.
#[derive(Debug)]
pub(super) struct Cas {
    pub(super) key: String,
    pub(super) field: String,
    pub(super) expected: Option<Value>,
    /// The `json_patch` that sets the field to its new value.
    pub(super) patch: String,
    pub(super) expires_at: i64,
}

/// A write that succeeded inside the open transaction: its answer, sent once the transaction
/// commits, or replaced by an error if it does not.
#[derive(Debug)]
pub(super) enum Done {
    Load(Reply<Option<Row>>, Option<Row>),
    Bool(Reply<bool>, bool),
    Unit(Reply<()>),
    Count(Reply<u64>, u64),
    Cas(Reply<CasOutcome>, CasOutcome),
}

impl Done {
    /// Sends the answer. A caller that stopped waiting does not matter.
    pub(super) fn send(self) {
        match self {
            Self::Load(reply, row) => drop(reply.send(Ok(row))),
            Self::Bool(reply, done) => drop(reply.send(Ok(done))),
            Self::Unit(reply) => drop(reply.send(Ok(()))),
            Self::Count(reply, count) => drop(reply.send(Ok(count))),
            Self::Cas(reply, outcome) => drop(reply.send(Ok(outcome))),
        }
    }

    /// Answers with an error instead: the transaction was not committed.
    pub(super) fn fail(self, why: &str) {
        let error = || Error::Backend(why.into());
        match self {
            Self::Load(reply, _) => drop(reply.send(Err(error()))),
            Self::Bool(reply, _) => drop(reply.send(Err(error()))),
            Self::Unit(reply) => drop(reply.send(Err(error()))),
            Self::Count(reply, _) => drop(reply.send(Err(error()))),
            Self::Cas(reply, _) => drop(reply.send(Err(error()))),
        }
    }
}

/// Sends a failed write's error at once, or keeps a successful one's answer for after the commit.
pub(super) fn finish<T>(reply: Reply<T>, result: Result<T>, done: impl FnOnce(Reply<T>, T) -> Done) -> Option<Done> {
    match result {
        Ok(value) => Some(done(reply, value)),
        Err(e) => {
            drop(reply.send(Err(e)));
            None
        }
    }
}

impl Write {
    /// Runs the write in the open transaction: `None` when it failed (and has had its error).
    pub(super) fn run(self, conn: &Connection) -> Option<Done> {
        match self {
            Self::Load(Read { sql, key, reply }) => finish(reply, load(conn, &sql, &key).map_err(backend), Done::Load),
            Self::Create { sql, key, row, reply } => {
                let result = conn.prepare_cached(&sql.create).and_then(|mut statement| {
                    statement.execute((&key, &row.data, row.created_at, row.expires_at, row.permanent))
                });
                finish(reply, result.map(|changed| changed == 1).map_err(backend), Done::Bool)
            }
            Self::Update { sql, key, expires_at, permanent, patch, reply } => {
                let result = match &patch {
                    None => conn
                        .prepare_cached(&sql.touch)
                        .and_then(|mut statement| statement.execute((&key, expires_at, permanent))),
                    Some(patch) => conn
                        .prepare_cached(&sql.patch)
                        .and_then(|mut statement| statement.execute((&key, expires_at, permanent, patch))),
                };
                finish(reply, result.map(|changed| changed == 1).map_err(backend), Done::Bool)
            }
            Self::Delete { sql, key, reply } => {
                let result = conn.prepare_cached(&sql.delete).and_then(|mut statement| statement.execute([&key]));
                finish(reply, result.map(|deleted| deleted > 0).map_err(backend), Done::Bool)
            }
            Self::CompareAndSet { sql, cas, reply } => finish(reply, compare_and_set(conn, &sql, &cas), Done::Cas),
            Self::Purge { sql, now, reply } => {
                let result = conn.prepare_cached(&sql.purge).and_then(|mut statement| statement.execute([now]));
                finish(reply, result.map(|purged| purged as u64).map_err(backend), Done::Count)
            }
            Self::Migrate { sql, reply } => {
                finish(reply, migrate(conn, &sql.table).map_err(backend), |reply, ()| Done::Unit(reply))
            }
        }
    }

    /// Answers with an error without running.
    pub(super) fn fail(self, why: &str) {
        let error = || Error::Backend(why.into());
        match self {
            Self::Load(read) => drop(read.reply.send(Err(error()))),
            Self::Create { reply, .. } | Self::Update { reply, .. } | Self::Delete { reply, .. } => {
                drop(reply.send(Err(error())))
            }
            Self::CompareAndSet { reply, .. } => drop(reply.send(Err(error()))),
            Self::Migrate { reply, .. } => drop(reply.send(Err(error()))),
            Self::Purge { reply, .. } => drop(reply.send(Err(error()))),
        }
    }
}

/// The record under `key`.
pub(super) fn load(conn: &Connection, sql: &Statements, key: &str) -> rusqlite::Result<Option<Row>> {
    let mut statement = conn.prepare_cached(&sql.load)?;
    statement
        .query_row([key], |row| {
            Ok(Row {
                data: row.get(0)?,
                created_at: row.get(1)?,
                expires_at: row.get(2)?,
                permanent: row.get::<_, i64>(3)? != 0,
            })
        })
        .optional()
}

/// Reads the field, compares it and writes it, in the writer's open transaction.
pub(super) fn compare_and_set(conn: &Connection, sql: &Statements, cas: &Cas) -> Result<CasOutcome> {
    let row = load(conn, sql, &cas.key).map_err(backend)?;
    if let Some(outcome) =
        sql::text_cas_refusal(row.as_ref().map(|row| row.data.as_str()), &cas.field, cas.expected.as_ref())?
    {
        return Ok(outcome);
    }
    // Permanence `NULL`: the stored one stays, and the expiry only moves forward.
    let mut statement = conn.prepare_cached(&sql.patch).map_err(backend)?;
    statement.execute((&cas.key, cas.expires_at, None::<bool>, &cas.patch)).map_err(backend)?;
    Ok(CasOutcome::Set)
}

/// Creates the table and its index, both or neither.
pub(super) fn migrate(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    conn.execute_batch("SAVEPOINT migrate")?;
    let result = conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            id TEXT PRIMARY KEY NOT NULL,
            data TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            permanent INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS {table}_expires_at ON {table} (expires_at);"
    ));
    match result {
        Ok(()) => conn.execute_batch("RELEASE migrate"),
        Err(e) => {
            // Unless the error already ended the whole transaction.
            if !conn.is_autocommit() {
                drop(conn.execute_batch("ROLLBACK TO migrate; RELEASE migrate"));
            }
            Err(e)
        }
    }
}

/// Runs a statement without parameters, such as `BEGIN`, through the statement cache.
pub(super) fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Moves what is already queued into `batch`, up to `cap` in all.
pub(super) fn drain<T>(queue: &Receiver<T>, batch: &mut Vec<T>, cap: usize) {
    while batch.len() < cap {
        match queue.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
}

/// The writer thread: waits for a write, takes every other one queued, runs them in one
/// transaction. Ends when every store clone is gone.
pub(super) fn write_loop(conn: &Connection, queue: &Receiver<Write>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    while let Ok(first) = queue.recv() {
        batch.push(first);
        drain(queue, &mut batch, WRITE_BATCH);
        write_batch(conn, &mut batch);
    }
}

/// Runs `batch` in one transaction and answers every write in it: a write that fails gets its
/// error at once (SQLite undoes the failed statement alone); the others get their answers once
/// `COMMIT` succeeds, or an error if the transaction is lost. If a failure makes SQLite roll back
/// the whole transaction, the writes before it get an error and the rest go on in a new one.
pub(super) fn write_batch(conn: &Connection, batch: &mut Vec<Write>) {
    let mut done: Vec<Done> = Vec::with_capacity(batch.len());
    let mut writes = batch.drain(..);
    'transaction: loop {
        if let Err(e) = run(conn, "BEGIN IMMEDIATE") {
            let why = format!("cannot begin a SQLite transaction: {e}");
            writes.for_each(|write| write.fail(&why));
            return;
        }
        for write in writes.by_ref() {
            match write.run(conn) {
                Some(answer) => done.push(answer),
                None if conn.is_autocommit() => {
                    // The failure rolled the whole transaction back.
                    let why = "the SQLite transaction was rolled back by another write's failure";
                    done.drain(..).for_each(|answer| answer.fail(why));
                    continue 'transaction;
                }
                None => {}
            }
        }
        break;
    }
    match run(conn, "COMMIT") {
        Ok(()) => done.into_iter().for_each(Done::send),
        Err(e) => {
            if !conn.is_autocommit() {
                drop(conn.execute_batch("ROLLBACK"));
            }
            let why = format!("the SQLite transaction failed to commit: {e}");
            done.into_iter().for_each(|answer| answer.fail(&why));
        }
    }
}

/// A reader thread: waits for a load, takes the others queued, answers each as it goes (in one
/// read transaction when there are several). Ends when every store clone is gone.
pub(super) fn read_loop(conn: &Connection, queue: &Receiver<Read>) {
    let mut batch = Vec::with_capacity(READ_BATCH);
    while let Ok(first) = queue.recv() {
        batch.push(first);
        drain(queue, &mut batch, READ_BATCH);
        let snapshot = batch.len() > 1 && run(conn, "BEGIN").is_ok();
        for Read { sql, key, reply } in batch.drain(..) {
            drop(reply.send(load(conn, &sql, &key).map_err(backend)));
        }
        if snapshot && run(conn, "COMMIT").is_err() && !conn.is_autocommit() {
            drop(conn.execute_batch("ROLLBACK"));
        }
    }
}
