//! [`PostgresStore`]: records in a PostgreSQL table.
//!
//! One row per session. `data` is a `JSONB` object of the session's fields, so a request's
//! changes apply in one `UPDATE`: `(data || patch) - removed` (jsonb `||` replaces top-level keys
//! whole, so nested values are never merged) and two requests that change different fields both
//! survive. `expires_at` is indexed for the purge.
//!
//! Every store call is one statement but a compare-and-set of one field: a transaction that reads
//! the field with `SELECT … FOR UPDATE` (the row stays locked until the commit), compares it in
//! Rust and writes it with the same `UPDATE` as an update. The pool that [`PostgresStore::connect`]
//! builds pings a connection before handing it out only when it sat idle for a second or more, so a
//! busy pool pays no extra round trip, and a connection the server dropped while idle is replaced
//! instead of failing a request.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{Connection, Executor, Postgres, Row};

use super::sql::{self, backend};
use super::{CasOutcome, Error, Record, Result, SessionStore, StoredFields, UnparsedRecord, Update};

/// How long a pooled connection may sit idle before [`PostgresStore::connect`]'s pool pings it
/// on checkout.
const IDLE_PING_AFTER: Duration = Duration::from_secs(1);

/// The advisory lock that serialises [`PostgresStore::migrate`] across processes
/// (the bytes of `"session+"`).
const MIGRATE_LOCK: i64 = 0x7365_7373_696f_6e2b;

/// An update's expiry (`$2`) and permanence (`$3`, `NULL` when the request did not change it):
/// without a new permanence, the stored one stays and the expiry never moves backwards.
const EXPIRY_AND_PERMANENCE: &str =
    "expires_at = CASE WHEN $3::boolean IS NULL THEN GREATEST(expires_at, $2) ELSE $2 END, \
     permanent = COALESCE($3::boolean, permanent)";

/// A PostgreSQL-backed store.
///
/// ```no_run
/// use session_plus::store::PostgresStore;
/// # async fn run() -> Result<(), session_plus::store::Error> {
/// let store = PostgresStore::connect("postgres://app@127.0.0.1:5432/app").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    table: String,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, with
    /// any of sqlx's query parameters such as `sslmode` or `application_name`).
    ///
    /// The pool holds at most 8 connections, waits at most 5 seconds for one, and pings a
    /// connection before use only when it has been idle for a second or more. Build a
    /// [`PgPool`] yourself and use [`PostgresStore::new`] for other settings.
    ///
    /// # Errors
    /// The URL is invalid or the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(PgConnectOptions::from_str(url).map_err(backend)?).await
    }

    /// As [`connect`](Self::connect), verifying the server's TLS certificate with the CA
    /// certificates (PEM) of the file `ca_file` instead of the built-in (webpki) roots. The URL
    /// must ask for TLS: `sslmode=require`, `verify-ca` or `verify-full`. With a CA file,
    /// `sslmode=require` verifies the chain as `verify-ca` does, as libpq does with a root
    /// certificate; `verify-full` also checks that the certificate names the URL's host.
    ///
    /// ```no_run
    /// use session_plus::store::PostgresStore;
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let store = PostgresStore::connect_with_tls_ca_file("postgres://app@db.internal/app?sslmode=verify-full", "ca.pem").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The URL is invalid or does not ask for TLS, the server cannot be reached, or its
    /// certificate is not signed by the CA (or, when verifying the host, does not name it).
    pub async fn connect_with_tls_ca_file(url: &str, ca_file: impl AsRef<std::path::Path>) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let mode = match options.get_ssl_mode() {
            PgSslMode::Require => PgSslMode::VerifyCa,
            mode @ (PgSslMode::VerifyCa | PgSslMode::VerifyFull) => mode,
            _ => {
                let message = "a CA file was given but the URL does not ask for TLS: add sslmode=require, verify-ca or verify-full";
                return Err(Error::Backend(message.into()));
            }
        };
        Self::open(options.ssl_mode(mode).ssl_root_cert(ca_file.as_ref())).await
    }

    async fn open(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
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
    pub fn new(pool: PgPool) -> Self {
        Self { pool, table: "sessions".to_owned() }
    }

    /// Uses another table; its name must be a plain SQL identifier (used unquoted, so
    /// PostgreSQL folds it to lower case).
    ///
    /// # Errors
    /// The name is empty or has characters other than ASCII letters, digits and `_`.
    pub fn with_table_name(mut self, table: impl Into<String>) -> std::result::Result<Self, String> {
        let table = table.into();
        super::sql::check_table_name(&table)?;
        self.table = table;
        Ok(self)
    }

    /// Creates the table and its index if they do not exist.
    ///
    /// Safe to run from several processes at once: the statements run in one transaction
    /// under a transaction-level advisory lock, since two concurrent `CREATE TABLE IF NOT
    /// EXISTS` can otherwise both try to create the table and one fail.
    ///
    /// # Errors
    /// The database refuses the statements.
    pub async fn migrate(&self) -> Result<()> {
        let table = &self.table;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Keeps the "already exists, skipping" notices of a repeated migration out of the logs.
        sqlx::query("SET LOCAL client_min_messages = warning").execute(&mut *tx).await.map_err(backend)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATE_LOCK).execute(&mut *tx).await.map_err(backend)?;
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                id TEXT PRIMARY KEY,
                data JSONB NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                permanent BOOLEAN NOT NULL DEFAULT false
            )"
        ))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(&format!("CREATE INDEX IF NOT EXISTS {table}_expires_at ON {table} (expires_at)"))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        UnparsedRecord::parsed(self.load_unparsed(key).await?)
    }

    /// The `jsonb` column as its text, one object: a request parses only the fields it reads.
    async fn load_unparsed(&self, key: &str) -> Result<Option<UnparsedRecord>> {
        let row = sqlx::query(&format!(
            "SELECT data::text, created_at, expires_at, permanent FROM {} WHERE id = $1",
            self.table
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get(0).map_err(backend)?;
        Ok(Some(UnparsedRecord {
            fields: StoredFields::Object(data.into_bytes().into()),
            created_at: row.try_get(1).map_err(backend)?,
            expires_at: row.try_get(2).map_err(backend)?,
            permanent: row.try_get(3).map_err(backend)?,
        }))
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO {} (id, data, created_at, expires_at, permanent)
             VALUES ($1, $2::jsonb, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
            self.table
        ))
        .bind(key)
        .bind(json_object(&record.fields)?)
        .bind(record.created_at)
        .bind(record.expires_at)
        .bind(record.permanent)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
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
        // The row stays locked from the read to the commit: no other write comes between.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let row = sqlx::query(&format!("SELECT (data -> $2)::text FROM {} WHERE id = $1 FOR UPDATE", self.table))
            .bind(key)
            .bind(field)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let text: Option<Option<String>> = row.map(|row| row.try_get(0)).transpose().map_err(backend)?;
        if let Some(outcome) = sql::cas_refusal(text.as_ref().map(Option::as_deref), expected)? {
            tx.rollback().await.map_err(backend)?;
            return Ok(outcome);
        }
        run_update(&mut *tx, &self.table, key, &sql::cas_update(field, new, expires_at)).await?;
        tx.commit().await.map_err(backend)?;
        Ok(CasOutcome::Set)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let done = sqlx::query(&format!("DELETE FROM {} WHERE id = $1", self.table))
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        let done = sqlx::query(&format!("DELETE FROM {} WHERE expires_at <= $1", self.table))
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }
}

/// Applies `update` to the record under `key` through `executor` (the pool, or a transaction's
/// connection): whether there was a record.
async fn run_update<'c>(
    executor: impl Executor<'c, Database = Postgres>,
    table: &str,
    key: &str,
    update: &Update,
) -> Result<bool> {
    let done = if update.set.is_empty() && update.remove.is_empty() {
        sqlx::query(&format!("UPDATE {table} SET {EXPIRY_AND_PERMANENCE} WHERE id = $1"))
            .bind(key)
            .bind(update.expires_at)
            .bind(update.permanent)
            .execute(executor)
            .await
    } else {
        sqlx::query(&format!(
            "UPDATE {table} SET data = (data || $4::jsonb) - $5::text[], {EXPIRY_AND_PERMANENCE}
             WHERE id = $1"
        ))
        .bind(key)
        .bind(update.expires_at)
        .bind(update.permanent)
        .bind(json_object(&update.set)?)
        .bind(update.remove.as_slice())
        .execute(executor)
        .await
    }
    .map_err(backend)?;
    Ok(done.rows_affected() == 1)
}

/// The fields as a JSON object's text, for a `$n::jsonb` parameter.
fn json_object(fields: &Map<String, Value>) -> Result<String> {
    serde_json::to_string(fields).map_err(|e| Error::Backend(Box::new(e)))
}
