//! [`SqliteStore`]: records in a SQLite file, the embedded default.
//!
//! One row per session. `data` is a JSON object mapping each field to its value's JSON text, so
//! a request's changes apply as one `json_patch` (a string value replaces, `null` removes) and two
//! requests that change different fields both survive. `expires_at` is indexed for the purge.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;

use super::sql::{backend, decode_text_fields, text_patch};
use super::{Record, Result, SessionStore, Update};
use crate::config::{ConfigError, SessionConfig};

/// A SQLite-backed store.
///
/// ```no_run
/// use session_plus::store::SqliteStore;
/// # async fn run() -> Result<(), session_plus::store::Error> {
/// let store = SqliteStore::open("sessions.db").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    table: String,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path_or_url` (a file path or a `sqlite:` URL)
    /// in WAL mode, with a busy timeout so concurrent writers wait rather than fail.
    ///
    /// # Errors
    /// The file cannot be opened or created.
    pub async fn open(path_or_url: &str) -> Result<Self> {
        let options = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url).map_err(backend)?
        } else {
            SqliteConnectOptions::new().filename(path_or_url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.map_err(backend)?;
        Ok(Self::new(pool))
    }

    /// A store on an existing pool, using the table `sessions`.
    pub fn new(pool: SqlitePool) -> Self {
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

    /// Creates the table and its index if they do not exist.
    ///
    /// # Errors
    /// The database refuses the statements.
    pub async fn migrate(&self) -> Result<()> {
        let table = &self.table;
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                id TEXT PRIMARY KEY NOT NULL,
                data TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                permanent INTEGER NOT NULL DEFAULT 0
            )"
        ))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        sqlx::query(&format!("CREATE INDEX IF NOT EXISTS {table}_expires_at ON {table} (expires_at)"))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn load(&self, key: &str) -> Result<Option<Record>> {
        let row =
            sqlx::query(&format!("SELECT data, created_at, expires_at, permanent FROM {} WHERE id = ?1", self.table))
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get(0).map_err(backend)?;
        Ok(Some(Record {
            fields: decode_text_fields(&data)?,
            created_at: row.try_get(1).map_err(backend)?,
            expires_at: row.try_get(2).map_err(backend)?,
            permanent: row.try_get::<i64, _>(3).map_err(backend)? != 0,
        }))
    }

    async fn create(&self, key: &str, record: &Record) -> Result<bool> {
        let patch = text_patch(&record.fields, &[]);
        let done = sqlx::query(&format!(
            "INSERT INTO {} (id, data, created_at, expires_at, permanent) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO NOTHING",
            self.table
        ))
        .bind(key)
        .bind(patch)
        .bind(record.created_at)
        .bind(record.expires_at)
        .bind(record.permanent)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update(&self, key: &str, update: &Update) -> Result<bool> {
        let query = if update.set.is_empty() && update.remove.is_empty() {
            format!("UPDATE {} SET expires_at = ?2, permanent = ?3 WHERE id = ?1", self.table)
        } else {
            format!(
                "UPDATE {} SET expires_at = ?2, permanent = ?3, data = json_patch(data, ?4) WHERE id = ?1",
                self.table
            )
        };
        let done = sqlx::query(&query)
            .bind(key)
            .bind(update.expires_at)
            .bind(update.permanent)
            .bind(text_patch(&update.set, &update.remove))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        sqlx::query(&format!("DELETE FROM {} WHERE id = ?1", self.table))
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn purge_expired(&self, now: i64) -> Result<u64> {
        let done = sqlx::query(&format!("DELETE FROM {} WHERE expires_at <= ?1", self.table))
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }
}

/// Opens the store a `sqlite` session's configuration describes, creating its table.
pub(crate) async fn open(config: &SessionConfig) -> std::result::Result<std::sync::Arc<dyn SessionStore>, ConfigError> {
    match (&config.url, &config.path) {
        (Some(url), _) => super::sql::open::<SqliteStore>(config, "url", url).await,
        (None, Some(path)) => super::sql::open::<SqliteStore>(config, "path", path).await,
        // `Config::validate` insists on one of them.
        (None, None) => Err(ConfigError::new(config.cookie_name(), "path", "a sqlite session needs `path` or `url`")),
    }
}

impl super::sql::SqlStore for SqliteStore {
    const DATABASE: &'static str = "the SQLite database";

    async fn connect(target: &str) -> Result<Self> {
        Self::open(target).await
    }

    fn table(self, table: &str) -> std::result::Result<Self, String> {
        self.with_table_name(table)
    }

    async fn create_schema(&self) -> Result<()> {
        self.migrate().await
    }
}
