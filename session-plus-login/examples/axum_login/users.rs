//! The users: a table in SQLite, passwords hashed with Argon2 (password-auth), as in
//! axum-login's SQLite example. Nothing here knows session-plus: the traits are axum-login's,
//! and only the `use` line below changed.

use std::collections::HashSet;
use std::sync::Arc;

use password_auth::{generate_hash, verify_password};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Deserialize;
use session_plus_login::{AuthUser, AuthnBackend, AuthzBackend, UserId};
use tokio::sync::Mutex;
use tokio::task;

#[derive(Clone)]
pub(crate) struct User {
    id: i64,
    pub(crate) username: String,
    password: String,
    is_admin: bool,
}

// By hand, so that the password hash is never logged.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).field("username", &self.username).finish_non_exhaustive()
    }
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> Self::Id {
        self.id
    }

    // The password hash: when the password changes, every session logged in with the old one
    // ends.
    fn session_auth_hash(&self) -> &[u8] {
        self.password.as_bytes()
    }
}

impl User {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self { id: row.get(0)?, username: row.get(1)?, password: row.get(2)?, is_admin: row.get(3)? })
    }
}

/// What the login form sends.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) next: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Backend {
    db: Arc<Mutex<Connection>>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    TaskJoin(#[from] task::JoinError),
}

const USER_COLUMNS: &str = "id, username, password, is_admin";

impl Backend {
    /// The users' database at `path` (`:memory:` for one in memory), its table created.
    pub(crate) fn open(path: &str) -> Result<Self, Error> {
        let db = Connection::open(path)?;
        db.execute_batch(
            "create table if not exists users (
                id integer primary key not null,
                username text not null unique,
                password text not null,
                is_admin boolean not null default false
            )",
        )?;
        Ok(Self { db: Arc::new(Mutex::new(db)) })
    }

    /// Adds a user, its password hashed.
    pub(crate) async fn add_user(&self, username: &str, password: &str, is_admin: bool) -> Result<User, Error> {
        let password = hash(password).await?;
        let username = username.to_owned();
        self.with_db(move |db| {
            db.query_row(
                &format!(
                    "insert into users (username, password, is_admin) values (?1, ?2, ?3) returning {USER_COLUMNS}"
                ),
                params![username, password, is_admin],
                User::from_row,
            )
        })
        .await
    }

    /// Sets a user's password: its auth hash changes, so its other sessions end.
    pub(crate) async fn set_password(&self, user_id: i64, password: &str) -> Result<Option<User>, Error> {
        let password = hash(password).await?;
        self.with_db(move |db| {
            db.query_row(
                &format!("update users set password = ?1 where id = ?2 returning {USER_COLUMNS}"),
                params![password, user_id],
                User::from_row,
            )
            .optional()
        })
        .await
    }

    /// Runs `query` on the database, off the async threads.
    async fn with_db<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, Error> {
        let db = self.db.clone();
        Ok(task::spawn_blocking(move || query(&db.blocking_lock())).await??)
    }
}

/// Hashing is slow on purpose: off the async threads.
async fn hash(password: &str) -> Result<String, Error> {
    let password = password.to_owned();
    Ok(task::spawn_blocking(move || generate_hash(password)).await?)
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = Error;

    async fn authenticate(&self, creds: Self::Credentials) -> Result<Option<Self::User>, Self::Error> {
        let username = creds.username;
        let user = self
            .with_db(move |db| {
                let query = format!("select {USER_COLUMNS} from users where username = ?1");
                db.query_row(&query, [username], User::from_row).optional()
            })
            .await?;
        // Verifying the password is slow on purpose, too.
        Ok(task::spawn_blocking(move || user.filter(|user| verify_password(creds.password, &user.password).is_ok()))
            .await?)
    }

    async fn get_user(&self, user_id: &UserId<Self>) -> Result<Option<Self::User>, Self::Error> {
        let user_id = *user_id;
        self.with_db(move |db| {
            let query = format!("select {USER_COLUMNS} from users where id = ?1");
            db.query_row(&query, [user_id], User::from_row).optional()
        })
        .await
    }
}

impl AuthzBackend for Backend {
    type Permission = String;

    async fn get_user_permissions(&self, user: &Self::User) -> Result<HashSet<Self::Permission>, Self::Error> {
        Ok(if user.is_admin { HashSet::from(["admin".to_owned()]) } else { HashSet::new() })
    }
}

pub(crate) type AuthSession = session_plus_login::AuthSession<Backend>;
