//! Typed fields: a field declared once with its name and type, read and written without
//! repeating either.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Result, Session};

/// A session field declared once with its type.
///
/// ```
/// use session_plus::session::Field;
/// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
///
/// const USER_ID: Field<u64> = Field::new("user_id");
/// const THEME: Field<String> = Field::new("theme");
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let config = Config::new()
///     .with_secret_key("a literal key for development, at least 32 bytes long")
///     .with_session(SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["user_id"]))
///     .with_session(SessionConfig::new("data").with_fields(["theme"]));
/// // At start-up, every declared field must be listed by a session: a typo is an error.
/// let manager = SessionManager::builder(config)
///     .with_declared_fields([USER_ID.name(), THEME.name()])
///     .build()
///     .await?;
/// let session = manager.start(&http::HeaderMap::new());
/// session.insert_field(&USER_ID, 42u64).await?;
/// session.insert_field(&THEME, "dark").await?;
/// assert_eq!(session.get_field(&USER_ID).await?, Some(42));
/// assert_eq!(session.remove_field(&THEME).await?.as_deref(), Some("dark"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Field<T> {
    name: &'static str,
    // `fn() -> T`: the field neither owns a `T` nor constrains `Send`/`Sync`.
    value: PhantomData<fn() -> T>,
}

impl<T> Field<T> {
    /// The field called `name`, holding `T`s.
    pub const fn new(name: &'static str) -> Self {
        Self { name, value: PhantomData }
    }

    /// The field's name, as the configuration's `session_fields` lists it.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

// By hand: the derives would require `T: Clone` (or `Debug`), which a field does not need.
impl<T> Clone for Field<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Field<T> {}

impl<T> fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Field").field(&self.name).field(&std::any::type_name::<T>()).finish()
    }
}

impl Session {
    /// The value of a typed field ([`Session::get`] with the field's name and type).
    ///
    /// # Errors
    /// As [`Session::get`].
    pub async fn get_field<T: DeserializeOwned>(&self, field: &Field<T>) -> Result<Option<T>> {
        self.get(field.name).await
    }

    /// Sets a typed field to `value` (anything that converts into its type, such as a `&str`
    /// for a `Field<String>`).
    ///
    /// # Errors
    /// As [`Session::insert`].
    pub async fn insert_field<T: Serialize>(&self, field: &Field<T>, value: impl Into<T>) -> Result<()> {
        self.insert(field.name, value.into()).await
    }

    /// Updates a typed field so that no concurrent update of it is lost ([`Session::update`]
    /// with the field's name and type), returning the new value.
    ///
    /// ```
    /// use session_plus::session::Field;
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    ///
    /// const VISITS: Field<u64> = Field::new("visits");
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// let session = SessionManager::new(config).await?.start(&http::HeaderMap::new());
    /// assert_eq!(session.update_field(&VISITS, |n| n.unwrap_or(0) + 1).await?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Session::update`].
    pub async fn update_field<T, F>(&self, field: &Field<T>, f: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(Option<T>) -> T,
    {
        self.update(field.name, f).await
    }

    /// Removes a typed field, returning its value.
    ///
    /// # Errors
    /// As [`Session::remove`].
    pub async fn remove_field<T: DeserializeOwned>(&self, field: &Field<T>) -> Result<Option<T>> {
        self.remove(field.name).await
    }
}
