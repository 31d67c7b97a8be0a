//! Atomic updates of one field: [`Session::update`] reads a field, computes its new value and
//! writes it so that no concurrent update of the field is lost.
//!
//! The whole story is on [`Session::update`].

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::expiry::Lifetime;
use super::{decode, Backend, Error, NamedSession, Result, Session, SubSession};
use crate::config::Format;
use crate::store::{self, cas_backoff, CasOutcome, SessionStore};

/// How many times an update reads the record again after losing to another update.
const ATTEMPTS: usize = 16;

impl Session {
    /// Updates `field` to `f(its current value)` so that no concurrent update of it is lost,
    /// and returns the new value (as written to the first session that owns the field). `f` may
    /// run more than once: once per attempt, and once per owning session.
    ///
    /// A plain read and [`insert`](Session::insert) is last-writer-wins: two requests that read a
    /// counter at once both write the same next value, and one increment is gone. `update` instead
    /// works on the store, for each session that owns the field:
    ///
    /// - **A server-side session with a live record**: it reads the record afresh from the store,
    ///   applies the closure to the field's current value, and [compares and
    ///   sets](crate::store::SessionStore::compare_and_set) the field against the value it read.
    ///   When another request changed the field in between, it reads again and retries, up to 16
    ///   attempts with a short random backoff, then fails with [`Error::Conflict`] (409) and writes
    ///   nothing. The requests of one process take turns on one record, so retries are only spent
    ///   on other processes. The value is written at once, not at the end of the request, and the
    ///   request's save does not write it again (that would undo a later update of another
    ///   request). The record's expiry slides as with any write; its permanence is left alone.
    /// - **A session without a live record yet** (a new visitor, an expired or unknown id), or one
    ///   this request [clears](Session::clear) or [regenerates](Session::regenerate): the new value
    ///   goes into the request's copy and is saved with the response, like an `insert`. That is
    ///   still atomic: the save creates a record under a fresh id that no other request holds yet.
    /// - **A cookie session**: the same, in the request's copy. The concurrent requests of one
    ///   client each carry their own copy of a cookie session and the client keeps whichever
    ///   `Set-Cookie` arrives last: cookies are last-writer-wins by nature, and no server can
    ///   change that. Keep counters that must not lose updates in a server-side session.
    /// - **A field this request already set or removed** in that session: the closure sees the
    ///   request's value, and the save writes the result, as it writes the earlier change.
    /// - **A record deleted meanwhile** (a logout elsewhere, or the user's sessions ended): the
    ///   closure gets `None`, and the save starts a new session holding only what this request
    ///   wrote, under a new id, as a plain write would: a logout is never undone.
    ///
    /// A field owned by several sessions (mirrored) is updated in each, in configuration order, and
    /// the value written to the first is returned. Sessions in a Python format fail with
    /// [`Error::Unsupported`]: their records are shared with Flask, which rewrites whole records,
    /// so no field of them can be updated atomically.
    ///
    /// ```
    /// use http::header::{COOKIE, SET_COOKIE};
    /// use http::HeaderMap;
    /// use session_plus::{session, Config, Session, SessionConfig, SessionManager, SessionType};
    ///
    /// async fn count(session: Session) -> Result<String, session::Error> {
    ///     let visits = session.update("visits", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
    ///     Ok(format!("visit number {visits}"))
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// let manager = SessionManager::new(config).await?;
    ///
    /// // A new visitor: the count starts in the request's copy, saved with the response.
    /// let session = manager.start(&HeaderMap::new());
    /// assert_eq!(count(session.clone()).await?, "visit number 1");
    /// let mut response = HeaderMap::new();
    /// session.finish().await.apply_to_headers(&mut response);
    ///
    /// // The visitor comes back: now the record is compared and set in the store.
    /// let mut request = HeaderMap::new();
    /// let id_cookie = response[SET_COOKIE].to_str()?.split(';').next().unwrap_or_default();
    /// request.insert(COOKIE, id_cookie.parse()?);
    /// assert_eq!(count(manager.start(&request)).await?, "visit number 2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`Session::insert`], and: the stored value is not a `T` ([`Error::Deserialize`]);
    /// every attempt lost to a concurrent update ([`Error::Conflict`], 409); the store failed to
    /// load ([`Error::Load`]) or to write ([`Error::Write`]); the session's store cannot compare
    /// and set a field ([`Error::Unsupported`]).
    pub async fn update<T, F>(&self, field: &str, mut f: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(Option<T>) -> T,
    {
        let owners = self.owners_for_write(field)?;
        self.load_all(owners).await?;
        let mut first = None;
        for &index in owners {
            let value = self.update_in(index, field, &mut f).await?;
            first.get_or_insert(value);
        }
        // `owners_for_write` refuses a field that no session owns.
        first.ok_or_else(|| Error::UnownedField(field.to_owned()))
    }

    /// The update in the session at `index`.
    async fn update_in<T, F>(&self, index: usize, field: &str, f: &mut F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(Option<T>) -> T,
    {
        let mut sub = self.loaded(index).await?;
        self.check_not_saved()?;
        let sessions = &self.inner.sessions;
        let spec = &sessions.list[index];
        let target = match &spec.backend {
            Backend::Store(_) if spec.config.flask.format != Format::Native => {
                return Err(Error::Unsupported { session: spec.config.cookie_name.clone() });
            }
            Backend::Store(store) => sub.atomic_target(field).map(|id| (store, spec.key(id))),
            Backend::Cookie(_) => None,
        };
        let Some((store, key)) = target else {
            let current = decode(field, sub.fields.get(field))?;
            return set_in_copy(&mut sub, field, current, f);
        };
        let _turn = sessions.turns.lock(&key).await;
        let now = sessions.clock.now();
        for attempt in 0..ATTEMPTS {
            let record = store.load(&key).await.map_err(|error| failed(spec, store.as_ref(), &error, false))?;
            // Deleted since this request loaded it: never resurrected (see the module docs).
            let Some(record) = record else { return set_in_copy(&mut sub, field, None, f) };
            let current = record.fields.get(field);
            let new = f(decode(field, current)?);
            let value = serde_json::to_value(&new).map_err(Error::Serialize)?;
            let expires_at = Lifetime::of(&spec.config, record.permanent, &record.fields, now).expires_at(now);
            let outcome = store.compare_and_set(&key, field, current, &value, expires_at).await;
            match outcome.map_err(|error| failed(spec, store.as_ref(), &error, true))? {
                CasOutcome::Set => {
                    sub.atomically_set(field, value, expires_at);
                    return Ok(new);
                }
                CasOutcome::NoRecord => return set_in_copy(&mut sub, field, None, f),
                // Another request changed the field: read it again, after a random while.
                _ => tokio::time::sleep(cas_backoff(attempt)).await,
            }
        }
        tracing::warn!(session = %spec.config.cookie_name, field, "atomic update lost to concurrent updates {ATTEMPTS} times");
        Err(Error::Conflict { field: field.to_owned() })
    }
}

/// The update in the request's copy, saved with the response like an `insert`.
fn set_in_copy<T, F>(sub: &mut SubSession, field: &str, current: Option<T>, f: &mut F) -> Result<T>
where
    T: Serialize,
    F: FnMut(Option<T>) -> T,
{
    let new = f(current);
    let value = serde_json::to_value(&new).map_err(Error::Serialize)?;
    sub.set_field(field, value);
    Ok(new)
}

/// Logs a store failure during an update (without ids or values) and gives its error.
fn failed(spec: &NamedSession, store: &dyn SessionStore, error: &store::Error, writing: bool) -> Error {
    let session = spec.config.cookie_name.clone();
    if let store::Error::Unsupported { .. } = error {
        tracing::error!(%session, backend = store.backend_name(), %error, "session store cannot update a field atomically");
        return Error::Unsupported { session };
    }
    tracing::error!(%session, backend = store.backend_name(), %error, "session store failed during an atomic update");
    let on_error = &spec.config.on_error;
    if writing {
        Error::Write { session, status: on_error.save_error_status }
    } else {
        Error::Load { session, status: on_error.load_error_status }
    }
}
