//! [`MySqlStore`]: records in a MySQL (5.7.22+) or MariaDB (10.5+) table.
//!
//! One row per session. `data` is a JSON object mapping each field to its value's JSON text
//! (as in the SQLite store), so a request's changes apply as one `JSON_MERGE_PATCH` (a string
//! value replaces, `null` removes) and two requests that change different fields both survive.
//! `id` uses the `ascii_bin` collation, so ids compare case-sensitively; `expires_at` is indexed
//! for the purge.
//!
//! MySQL normally reports how many rows an `UPDATE` *changed*, which is 0 when the new values
//! equal the old ones. sqlx always connects with the `CLIENT_FOUND_ROWS` capability, so the
//! server reports the rows *matched* instead, and `update`'s answer means "the record exists".
//!
//! Every store call is one statement but a compare-and-set of one field: a transaction that reads
//! the row with `SELECT … FOR UPDATE` (a locking read of the latest row, locked until the commit),
//! compares the field in Rust and writes it with the same `UPDATE` as an update. The pool that
//! [`MySqlStore::connect`] builds pings a connection before handing it out only when it sat idle
//! for a second or more, so a busy pool pays no extra round trip, and a connection the server
//! dropped while idle is replaced instead of failing a request.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlSslMode};
use sqlx::{Connection, Executor, MySql, Row};

use super::sql::{self, backend, text_patch};
use super::{CasOutcome, Error, Record, Result, SessionStore, StoredFields, UnparsedRecord, Update};

/// An update's expiry and permanence, bound as (permanent, expires_at, expires_at, permanent), the
/// permanence `NULL` when the request did not change it: then the stored permanence stays and the
/// expiry never moves backwards. MySQL assigns left to right, so `expires_at` comes first and
/// both read the stored values.
const EXPIRY_AND_PERMANENCE: &str =
    "expires_at = IF(? IS NULL, GREATEST(expires_at, ?), ?), permanent = COALESCE(?, permanent)";

/// How long a pooled connection may sit idle before [`MySqlStore::connect`]'s pool pings it on
/// checkout.
const IDLE_PING_AFTER: Duration = Duration::from_secs(1);

/// The longest key the `id VARCHAR(255)` column holds.
const MAX_KEY_LEN: usize = 255;

/// A MySQL- or MariaDB-backed store.
///
/// ```no_run
/// use session_plus::store::MySqlStore;
/// # async fn run() -> Result<(), session_plus::store::Error> {
/// let store = MySqlStore::connect("mysql://app:secret@127.0.0.1:3306/app").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MySqlStore {
    pool: MySqlPool,
    table: String,
}

impl MySqlStore {
    /// Connects to the database at `url` (`mysql://user:password@host:port/database`, with any
    /// of sqlx's query parameters such as `ssl-mode`).
    ///
    /// The pool holds at most 8 connections, waits at most 5 seconds for one, and pings a
    /// connection before use only when it has been idle for a second or more. Build a
    /// [`MySqlPool`] yourself and use [`MySqlStore::new`] for other settings.
    ///
    /// # Errors
    /// The URL is invalid or the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(MySqlConnectOptions::from_str(url).map_err(backend)?).await
    }

    /// As [`connect`](Self::connect), verifying the server's TLS certificate with the CA
    /// certificates (PEM) of the file `ca_file` instead of the built-in (webpki) roots. The URL
    /// must ask for TLS: `ssl-mode=REQUIRED`, `VERIFY_CA` or `VERIFY_IDENTITY`. With a CA file,
    /// `ssl-mode=REQUIRED` verifies the chain as `VERIFY_CA` does; `VERIFY_IDENTITY` also checks
    /// that the certificate names the URL's host.
    ///
    /// ```no_run
    /// use session_plus::store::MySqlStore;
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let store = MySqlStore::connect_with_tls_ca_file("mysql://app@db.internal/app?ssl-mode=VERIFY_IDENTITY", "ca.pem").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The URL is invalid or does not ask for TLS, the server cannot be reached, or its
    /// certificate is not signed by the CA (or, when verifying the host, does not name it).
    pub async fn connect_with_tls_ca_file(url: &str, ca_file: impl AsRef<std::path::Path>) -> Result<Self> {
        let options = MySqlConnectOptions::from_str(url).map_err(backend)?;
        let mode = match options.get_ssl_mode() {
            MySqlSslMode::Required => MySqlSslMode::VerifyCa,
            mode @ (MySqlSslMode::VerifyCa | MySqlSslMode::VerifyIdentity) => mode,
            _ => {
                let message = "a CA file was given but the URL does not ask for TLS: add ssl-mode=REQUIRED, VERIFY_CA or VERIFY_IDENTITY";
                return Err(super::Error::Backend(message.into()));
            }
        };
        Self::open(options.ssl_mode(mode).ssl_ca(ca_file.as_ref())).await
    }

    async fn open(options: MySqlConnectOptions) -> Result<Self> {
        let pool = MySqlPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_PING_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(backend)?;
        Ok(Self::new(pool))
    }

    /// A store on an existing pool, using the table `sessions`.
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool, table: "sessions".to_owned() }
    }

    /// Uses another table; its name must be a plain SQL identifier.
    ///
    /// # Errors
    /// The name is empty or has characters other than ASCII letters, digits and `_`.
    pub fn with_table_name(mut self, table: impl Into<String>) -> std::result::Result<Self, String> {
        let table = table.into();
        super::sql::check_table_name(&table)?;
        self.table = table;
        Ok(self)
    }

    /// Creates the table (with its index) if it does not exist.
    ///
    /// One `CREATE TABLE IF NOT EXISTS` statement, which the server serialises with its metadata
    /// locks, so several processes may run it at once.
    ///
    /// # Errors
    /// The database refuses the statement.
    pub async fn migrate(&self) -> Result<()> {
        let table = &self.table;
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
                data LONGTEXT CHARACTER SET utf8mb4 NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                permanent BOOLEAN NOT NULL DEFAULT FALSE,
                INDEX {table}_expires_at (expires_at)
            ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4"
        ))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }
}

#[async_trait]
impl SessionStore for MySqlStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        UnparsedRecord::parsed(self.load_unparsed(key).await?)
    }

    async fn load_unparsed(&self, key: &str) -> Result<Option<UnparsedRecord>> {
        check_key(key)?;
        let row =
            sqlx::query(&format!("SELECT data, created_at, expires_at, permanent FROM {} WHERE id = ?", self.table))
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get(0).map_err(backend)?;
        Ok(Some(UnparsedRecord {
            fields: StoredFields::PerField(sql::text_fields(&data)?),
            created_at: row.try_get(1).map_err(backend)?,
            expires_at: row.try_get(2).map_err(backend)?,
            permanent: row.try_get(3).map_err(backend)?,
        }))
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        // `INSERT IGNORE` turns errors such as truncation into warnings: the key is checked first.
        check_key(key)?;
        let done = sqlx::query(&format!(
            "INSERT IGNORE INTO {} (id, data, created_at, expires_at, permanent)
             VALUES (?, ?, ?, ?, ?)",
            self.table
        ))
        .bind(key)
        .bind(text_patch(&record.fields, &[]))
        .bind(record.created_at)
        .bind(record.expires_at)
        .bind(record.permanent)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        check_key(key)?;
        run_update(&self.pool, &self.table, key, update).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        field: &str,
        expected: Option<&Value>,
        new: &Value,
        expires_at: i64,
    ) -> Result<CasOutcome> {
        check_key(key)?;
        // The row stays locked from the read to the commit: no other write comes between (a
        // locking read sees the latest committed row, not the transaction's snapshot).
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let row = sqlx::query(&format!("SELECT data FROM {} WHERE id = ? FOR UPDATE", self.table))
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let data: Option<String> = row.map(|row| row.try_get(0)).transpose().map_err(backend)?;
        if let Some(outcome) = sql::text_cas_refusal(data.as_deref(), field, expected)? {
            tx.rollback().await.map_err(backend)?;
            return Ok(outcome);
        }
        run_update(&mut *tx, &self.table, key, &sql::cas_update(field, new, expires_at)).await?;
        tx.commit().await.map_err(backend)?;
        Ok(CasOutcome::Set)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        check_key(key)?;
        let done = sqlx::query(&format!("DELETE FROM {} WHERE id = ?", self.table))
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        let done = sqlx::query(&format!("DELETE FROM {} WHERE expires_at <= ?", self.table))
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    fn backend_name(&self) -> &'static str {
        "mysql"
    }
}

/// Applies `update` to the record under `key` through `executor` (the pool, or a transaction's
/// connection): whether there was a record.
async fn run_update<'c>(
    executor: impl Executor<'c, Database = MySql>,
    table: &str,
    key: &str,
    update: &Update,
) -> Result<bool> {
    // With CLIENT_FOUND_ROWS (always set by sqlx) `rows_affected` counts matched rows, so an
    // update that changes nothing still reports that the record exists.
    let done = if update.set.is_empty() && update.remove.is_empty() {
        sqlx::query(&format!("UPDATE {table} SET {EXPIRY_AND_PERMANENCE} WHERE id = ?"))
            .bind(update.permanent)
            .bind(update.expires_at)
            .bind(update.expires_at)
            .bind(update.permanent)
            .bind(key)
            .execute(executor)
            .await
    } else {
        sqlx::query(&format!(
            "UPDATE {table} SET data = JSON_MERGE_PATCH(data, ?), {EXPIRY_AND_PERMANENCE}
             WHERE id = ?"
        ))
        .bind(text_patch(&update.set, &update.remove))
        .bind(update.permanent)
        .bind(update.expires_at)
        .bind(update.expires_at)
        .bind(update.permanent)
        .bind(key)
        .execute(executor)
        .await
    }
    .map_err(backend)?;
    Ok(done.rows_affected() == 1)
}

/// Refuses a key the `id` column cannot hold exactly (non-ASCII, or longer than 255 bytes).
fn check_key(key: &str) -> Result<()> {
    if key.is_ascii() && key.len() <= MAX_KEY_LEN {
        Ok(())
    } else {
        Err(Error::Backend(format!("a MySQL session key must be ASCII and at most {MAX_KEY_LEN} bytes").into()))
    }
}
