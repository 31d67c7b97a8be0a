//! The [`Session`] handle: one logical session over several named sessions.
//!
//! A handler sees one set of fields; [routing](crate::routing) decides which named session holds
//! each. Sessions load lazily: the first use of a field loads the sessions that own it (several at
//! once, concurrently), and a session whose fields are not used is never loaded. Changes are
//! tracked per field and saved by the middleware once the handler has answered.
//!
//! ```
//! use session_plus::{Config, Session, SessionConfig, SessionManager, SessionType};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let config = Config::new()
//!     .with_secret_key("a literal key for development, at least 32 bytes long")
//!     .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
//!     .with_session(SessionConfig::new("session").with_type(SessionType::Memory));
//! let manager = SessionManager::new(config).await?;
//! let session: Session = manager.start(&http::HeaderMap::new());
//! session.insert("user_id", 42).await?;
//! assert_eq!(session.get::<u32>("user_id").await?, Some(42));
//! assert_eq!(session.get::<String>("csrf_token").await?, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod atomic;
mod error;
mod expiry;
mod failure;
mod field;
mod fields;
mod finish;
mod id;
mod named;
mod state;
#[cfg(test)]
pub(crate) mod tests;
pub(crate) mod user;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::future::try_join_all;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
// An async lock, held across a store's load: its uncontended unlock is one atomic operation
// (tokio's takes the semaphore's inner lock), and a request's own handles seldom contend.
use futures_util::lock::{Mutex, MutexGuard};

use crate::config::Format;
use crate::cookies::{self, RequestCookie};
pub use error::{Error, Result};
pub use expiry::Expiry;
pub use failure::{Failure, Stage};
pub use field::Field;
use fields::FieldRef;
pub use finish::{error_response, Finished};
pub(crate) use finish::{ErrorResponder, Saved};
pub use id::{Id, ID_BYTES, ID_LEN};
pub(crate) use named::{Backend, NamedSession, Sessions};
pub(crate) use state::{Binding, Staged, SubSession};
use user::USER_FIELD;

/// Whether session-plus keeps `field` for itself: never read, written or listed by handlers.
fn is_reserved(field: &str) -> bool {
    field == USER_FIELD || field == expiry::EXPIRY_FIELD
}

/// A request's session. Cheap to clone; clones share the same state.
///
/// Obtained with the axum or actix-web extractor (features `axum`, `actix`), from the request's
/// extensions, where the [`SessionManagerLayer`](crate::SessionManagerLayer) puts it, or from
/// [`SessionManager::start`](crate::SessionManager::start) in any other framework.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    sessions: Arc<Sessions>,
    subs: Subs,
    accessed: AtomicBool,
    /// The save has begun: later changes could not reach the response, so they are refused.
    saved: AtomicBool,
    /// The response's status, when the adapter said it ([`Session::set_response_status`]); 0 before.
    response_status: AtomicU16,
}

impl Session {
    pub(crate) fn new(sessions: Arc<Sessions>, headers: Option<&HeaderMap>) -> Self {
        let mut subs = Subs::new(sessions.list.len());
        if let Some(headers) = headers {
            cookies::request_values(headers, &sessions.names, |index, value| subs.offer(index, value));
        }
        Self {
            inner: Arc::new(Inner {
                sessions,
                subs,
                accessed: AtomicBool::new(false),
                saved: AtomicBool::new(false),
                response_status: AtomicU16::new(0),
            }),
        }
    }

    /// The value of `field`, or `None` when it is not set (or no session owns it).
    ///
    /// A mirrored field is read from the first owner, in configuration order, that holds it.
    ///
    /// # Errors
    /// A store failed to load ([`Error::Load`]), or the value is not a `T` ([`Error::Deserialize`]).
    pub async fn get<T: DeserializeOwned>(&self, field: &str) -> Result<Option<T>> {
        // Deserialized from the stored value (or its text) in place, not from a copy of it.
        let value = self.read(field, |found| {
            found.deserialize(field).map_err(|source| Error::Deserialize { field: field.to_owned(), source })
        });
        Ok(value.await?.flatten())
    }

    /// The raw JSON value of `field`.
    ///
    /// # Errors
    /// A store failed to load.
    pub async fn get_value(&self, field: &str) -> Result<Option<Value>> {
        Ok(self.read(field, |found| Ok(found.to_value(field))).await?.flatten())
    }

    /// `read(value)` of `field` in its first owner that holds it.
    async fn read<R>(&self, field: &str, read: impl FnOnce(FieldRef<'_>) -> Result<R>) -> Result<Option<R>> {
        if is_reserved(field) {
            return Ok(None);
        }
        for &index in self.inner.sessions.routing.owners(field) {
            let sub = self.loaded(index).await?;
            if let Some(found) = sub.fields.find(field) {
                return read(found).map(Some);
            }
        }
        Ok(None)
    }

    /// Sets `field` to `value` in every session that owns it.
    ///
    /// # Errors
    /// No session owns the field ([`Error::UnownedField`]), the value does not serialize, or a store
    /// failed to load.
    pub async fn insert(&self, field: &str, value: impl Serialize) -> Result<()> {
        let value = serde_json::to_value(value).map_err(Error::Serialize)?;
        self.insert_value(field, value).await
    }

    /// Sets `field` to a raw JSON value.
    ///
    /// # Errors
    /// As [`Session::insert`].
    pub async fn insert_value(&self, field: &str, value: Value) -> Result<()> {
        let owners = self.owners_for_write(field)?;
        self.load_all(owners).await?;
        for &index in owners {
            let mut sub = self.loaded(index).await?;
            self.check_not_saved()?;
            sub.set_field(field, value.clone());
        }
        Ok(())
    }

    /// Removes `field` from every session that owns it, returning its value.
    ///
    /// # Errors
    /// As [`Session::insert`].
    pub async fn remove<T: DeserializeOwned>(&self, field: &str) -> Result<Option<T>> {
        decode(field, self.remove_value(field).await?.as_ref())
    }

    /// Removes `field`, returning its raw JSON value.
    ///
    /// # Errors
    /// As [`Session::insert`].
    pub async fn remove_value(&self, field: &str) -> Result<Option<Value>> {
        let owners = self.owners_for_write(field)?;
        self.load_all(owners).await?;
        let mut removed = None;
        for &index in owners {
            let mut sub = self.loaded(index).await?;
            self.check_not_saved()?;
            if let Some(value) = sub.remove_field(field) {
                removed.get_or_insert(value);
            }
        }
        Ok(removed)
    }

    /// Whether `field` is set.
    ///
    /// # Errors
    /// A store failed to load.
    pub async fn contains(&self, field: &str) -> Result<bool> {
        Ok(self.get_value(field).await?.is_some())
    }

    /// Every field of every session, loading all of them concurrently. A field a session holds
    /// but no longer owns (after a configuration change) is left out.
    ///
    /// # Errors
    /// A store failed to load.
    pub async fn fields(&self) -> Result<Map<String, Value>> {
        let all: Vec<usize> = (0..self.inner.sessions.list.len()).collect();
        self.load_all(&all).await?;
        let mut fields = Map::new();
        for index in all {
            let mut sub = self.loaded(index).await?;
            for (field, value) in sub.fields.all().iter() {
                let visible = !is_reserved(field) && self.inner.sessions.routing.owns(index, field);
                if visible && !fields.contains_key(field) {
                    fields.insert(field.clone(), value.clone());
                }
            }
        }
        Ok(fields)
    }

    /// Whether no session holds any field.
    ///
    /// # Errors
    /// A store failed to load.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.fields().await?.is_empty())
    }

    /// Empties every session: server records are deleted and every session cookie expired when the
    /// response is sent (logout). Loads nothing.
    ///
    /// # Errors
    /// The response was already saved ([`Error::AlreadySaved`]).
    pub async fn clear(&self) -> Result<()> {
        self.inner.accessed.store(true, Ordering::Relaxed);
        for (index, spec) in self.inner.sessions.list.iter().enumerate() {
            let mut sub = lock(self.inner.subs.get(index)).await;
            self.check_not_saved()?;
            sub.clear(spec);
        }
        Ok(())
    }

    /// Makes the session named `cookie_name` permanent (longer server lifetime, a persistent
    /// cookie) or not.
    ///
    /// # Errors
    /// No session has that name ([`Error::UnknownSession`]), or its store failed to load.
    pub async fn set_permanent(&self, cookie_name: &str, permanent: bool) -> Result<()> {
        let index = self.index_of(cookie_name)?;
        let mut sub = self.loaded(index).await?;
        self.check_not_saved()?;
        if sub.permanent != permanent {
            sub.permanent = permanent;
            sub.permanent_changed = true;
        }
        Ok(())
    }

    /// Whether the session named `cookie_name` is permanent.
    ///
    /// # Errors
    /// As [`Session::set_permanent`].
    pub async fn is_permanent(&self, cookie_name: &str) -> Result<bool> {
        let index = self.index_of(cookie_name)?;
        Ok(self.loaded(index).await?.permanent)
    }

    /// Gives every session a new id (and every cookie session a fresh cookie), keeping the data:
    /// call it on login and on any change of privilege. The new records are written before the
    /// old ones are deleted, when the response is sent, and the old ones only once every new one
    /// is written. If an old record is gone by then (a logout elsewhere won), its new copy is
    /// deleted too and the response removes that cookie: a logout is never undone.
    ///
    /// # Errors
    /// A store failed to load.
    pub async fn regenerate(&self) -> Result<()> {
        let all: Vec<usize> = (0..self.inner.sessions.list.len()).collect();
        self.load_all(&all).await?;
        for index in all {
            let mut sub = self.loaded(index).await?;
            self.check_not_saved()?;
            sub.regenerate = true;
        }
        Ok(())
    }

    /// Ties this visitor's server-side sessions to `user_id`, so that
    /// [`SessionManager::end_user_sessions`](crate::SessionManager::end_user_sessions) can end
    /// them all at once (a password change, "log out everywhere"). Call it at login, after
    /// [`regenerate`](Self::regenerate); the tie survives later regenerations and ends with
    /// [`clear`](Self::clear).
    ///
    /// Every server session in the native format is tied (Python formats are left alone: their
    /// records are shared with Flask). Loading a tied session costs one more store round trip: the
    /// user's record is read to see whether the session was ended.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// let manager = SessionManager::new(config).await?;
    /// let session = manager.start(&http::HeaderMap::new());
    /// session.insert("user_id", "alice").await?;
    /// session.set_user("alice").await?;
    /// manager.end_user_sessions("alice").await?; // every session of alice's ends
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// An empty user id, one over 128 bytes or with control characters ([`Error::InvalidUserId`]);
    /// no native server-side session ([`Error::NoServerSession`]); a store that failed.
    pub async fn set_user(&self, user_id: &str) -> Result<()> {
        if !user::is_valid_user_id(user_id) {
            return Err(Error::InvalidUserId);
        }
        let sessions = &self.inner.sessions;
        let now = sessions.clock.now();
        let mut tied = false;
        for (index, named) in sessions.list.iter().enumerate() {
            let Backend::Store(store) = &named.backend else { continue };
            if named.config.flask.format != Format::Native {
                continue;
            }
            let generation = user::touch(named, store.as_ref(), user_id, now).await.map_err(|error| {
                let session = named.config.cookie_name.clone();
                tracing::error!(%session, backend = store.backend_name(), %error, "session store failed to record a user");
                Error::Load { session, status: named.config.on_error.load_error_status }
            })?;
            let mut sub = self.loaded(index).await?;
            self.check_not_saved()?;
            let tag = user::UserTag { id: user_id.to_owned(), generation };
            sub.set_field(USER_FIELD, tag.to_value());
            tied = true;
        }
        if tied {
            Ok(())
        } else {
            Err(Error::NoServerSession)
        }
    }

    /// The names of the sessions that own `field`, in configuration order.
    pub fn owners(&self, field: &str) -> Vec<&str> {
        self.inner.sessions.routing.owner_names(field).collect()
    }

    /// Whether any session was read or changed during this request (then `Vary: Cookie` is sent).
    pub fn was_accessed(&self) -> bool {
        self.inner.accessed.load(Ordering::Relaxed)
    }

    /// Saves every session at once when none needs its store and this handle is the request's
    /// last (no lock to take, nothing to await: the common case of cookie-only requests); `None`
    /// when [`finalize`](Self::finalize) must do it.
    pub(crate) fn finalize_now(&mut self) -> Option<Saved> {
        if self.discards_changes() {
            return Some(self.discarded());
        }
        let inner = Arc::get_mut(&mut self.inner)?;
        let sessions = &inner.sessions;
        let now = sessions.clock.now();
        // A loaded server session's save needs its store (and a bound cookie waits for its id)
        // only when it writes; bindings take the full save whenever a server session is loaded.
        let bound = sessions.bound_to.iter().any(Option::is_some);
        if inner.subs.made_mut().any(|(index, sub)| {
            let spec = &sessions.list[index];
            sub.needs_store(spec, now) || (bound && sub.is_loaded_server(spec))
        }) {
            return None;
        }
        let mut saved = Saved::default();
        for (index, sub) in inner.subs.to_save_mut(&sessions.list, now) {
            let spec = &sessions.list[index];
            // No server session was loaded (none needs its store): a bound cookie is left as it is.
            let binding = if sessions.bound_to[index].is_some() { Binding::Unknown } else { Binding::Unbound };
            match sub.finalize_now(spec, now, binding) {
                Ok(cookie) => saved.add(cookie, None),
                Err(failure) => saved.add(None, Some(failure)),
            }
        }
        Some(saved)
    }

    /// Saves every changed session in two phases: first every session's writes (creates,
    /// updates, cookie encodes), concurrently; then, only if all of them succeeded, the deletes
    /// (old ids after a regenerate, cleared records, expired ids), concurrently. A failure does
    /// not drop the cookies of the sessions that committed: [`Saved`] carries both, and removals
    /// are always sent. Cookie sessions bound to a server session are sealed once its writes are
    /// done, beside the id it ends up with.
    pub(crate) async fn finalize(&self) -> Saved {
        self.inner.saved.store(true, Ordering::Release);
        if self.discards_changes() {
            return self.discarded();
        }
        let sessions = &self.inner.sessions;
        let now = sessions.clock.now();
        let staged = if sessions.bound_to.iter().all(Option::is_none) {
            self.write_unbound(now).await
        } else {
            self.write_with_bindings(now).await
        };
        let mut saved = Saved::default();
        let committed = staged.iter().all(|(_, staged)| staged.is_ok());
        // Most saves delete nothing: then there is no second phase to run.
        if committed && staged.iter().filter_map(|(_, staged)| staged.as_ref().ok()).any(Staged::has_deletes) {
            let deletes = staged.into_iter().map(|(index, staged)| async move {
                match staged {
                    Ok(staged) => staged.delete_old(&sessions.list[index]).await,
                    Err(failure) => (None, Some(failure)),
                }
            });
            for (cookie, failure) in futures_util::future::join_all(deletes).await {
                saved.add(cookie, failure);
            }
        } else {
            for (_, staged) in staged {
                match staged {
                    Ok(staged) => saved.add(staged.into_cookie(), None),
                    Err(failure) => saved.add(None, Some(failure)),
                }
            }
        }
        saved
    }

    /// Phase one of [`finalize`](Self::finalize) when no session is bound: the sessions that
    /// need no store finish at once; those that do write concurrently, and a single one (the
    /// common case) without the cost of joining futures. Only the sessions the save goes
    /// through have a result (by session index, in configuration order): a session this request
    /// did not use saves nothing (but a due refresh), so the save costs what the request used.
    async fn write_unbound(&self, now: i64) -> Vec<(usize, std::result::Result<Staged, Failure>)> {
        let list = &self.inner.sessions.list;
        let mut staged = Vec::new();
        let mut pending = Vec::new();
        for (index, sub) in self.inner.subs.to_save(list, now) {
            let spec = &list[index];
            let mut sub = lock(sub).await;
            if sub.needs_store(spec, now) {
                pending.push((staged.len(), index)); // written below
                staged.push((index, Ok(Staged::default())));
            } else {
                staged.push((index, sub.finalize_now(spec, now, Binding::Unbound).map(Staged::cookie_only)));
            }
        }
        let write = |index: usize| async move {
            lock(self.inner.subs.get(index)).await.write(&list[index], now, Binding::Unbound).await
        };
        match pending[..] {
            [] => {}
            [(at, index)] => staged[at].1 = write(index).await,
            _ => {
                let written = futures_util::future::join_all(pending.iter().map(|&(_, index)| write(index))).await;
                for ((at, _), result) in pending.into_iter().zip(written) {
                    staged[at].1 = result;
                }
            }
        }
        staged
    }

    /// Phase one of [`finalize`](Self::finalize) when some cookie sessions are bound: the server
    /// sessions that bound cookies hold fields in are kept alive, everything unbound is written,
    /// then the bound cookies, each beside its server session's id after those writes.
    async fn write_with_bindings(&self, now: i64) -> Vec<(usize, std::result::Result<Staged, Failure>)> {
        let (subs, sessions) = (&self.inner.subs, &self.inner.sessions);
        let bound = |index: usize| sessions.bound_to[index];
        for (index, server) in sessions.bound_to.iter().enumerate() {
            let Some(server) = *server else { continue };
            // One lock at a time. A server record about to be dropped for holding nothing: the
            // bound cookie is read first (no I/O), since its fields need that record.
            let emptied = lock(subs.get(server)).await.emptied_record().cloned();
            let holds_fields = {
                let mut sub = lock(subs.get(index)).await;
                if let (Some(id), true) = (&emptied, sub.needs_load()) {
                    // A cookie load does no I/O and cannot fail.
                    let _ = sub.load(&sessions.list[index], now, Binding::Server(Some(id))).await;
                }
                sub.holds_fields()
            };
            if holds_fields {
                lock(subs.get(server)).await.keep_record = true;
            }
        }
        let unbound = (0..subs.len()).filter(|&index| bound(index).is_none()).map(|index| async move {
            lock(subs.get(index)).await.write(&sessions.list[index], now, Binding::Unbound).await
        });
        let unbound = futures_util::future::join_all(unbound).await;
        // Bound sessions are cookie sessions: their writes do no I/O, so one after the other.
        let mut bound_writes = Vec::new();
        for (index, server) in (0..subs.len()).filter_map(|index| Some((index, bound(index)?))) {
            let server_id = lock(subs.get(server)).await.id_after_writes.clone();
            let binding = match &server_id {
                Some(id) => Binding::Server(id.as_ref()),
                None => Binding::Unknown,
            };
            bound_writes.push(lock(subs.get(index)).await.write(&sessions.list[index], now, binding).await);
        }
        // Back in configuration order.
        let (mut unbound, mut bound_writes) = (unbound.into_iter(), bound_writes.into_iter());
        (0..subs.len())
            .filter_map(|index| {
                let staged = if bound(index).is_some() { bound_writes.next() } else { unbound.next() };
                Some((index, staged?))
            })
            .collect()
    }

    /// Tells the session the status of the response it goes with, before it is
    /// [finished](Self::finish): with
    /// [`without_saving_error_responses`](crate::SessionManagerBuilder::without_saving_error_responses),
    /// a 4xx or 5xx response then saves none of the request's changes. The adapters of this crate
    /// call it; an adapter for another framework should too.
    pub fn set_response_status(&self, status: StatusCode) {
        self.inner.response_status.store(status.as_u16(), Ordering::Relaxed);
    }

    /// Whether this request's changes are dropped: its response is an error, and the manager
    /// saves none then.
    fn discards_changes(&self) -> bool {
        let status = self.inner.response_status.load(Ordering::Relaxed);
        !self.inner.sessions.save_error_responses && (400..600).contains(&status)
    }

    /// The save of a request whose changes are dropped: no write, no cookie; a session that failed
    /// to load is still reported.
    fn discarded(&self) -> Saved {
        self.inner.saved.store(true, Ordering::Release);
        let mut saved = Saved::default();
        for (index, sub) in self.inner.subs.made() {
            // Only the save takes these locks now, and it holds none of them.
            let failed = sub.try_lock().is_some_and(|sub| sub.load_failed());
            let config = &self.inner.sessions.list[index].config;
            saved.add(None, failed.then(|| Failure::new(config, Stage::Load)));
        }
        saved
    }

    /// A change is refused once the save has begun: it could not reach the response. Checked
    /// while the session's lock is held, which the save also takes, so no change slips between.
    fn check_not_saved(&self) -> Result<()> {
        if self.inner.saved.load(Ordering::Acquire) {
            return Err(Error::AlreadySaved);
        }
        Ok(())
    }

    fn index_of(&self, cookie_name: &str) -> Result<usize> {
        let index = self.inner.sessions.by_name.get(cookie_name);
        index.copied().ok_or_else(|| Error::UnknownSession(cookie_name.to_owned()))
    }

    fn owners_for_write(&self, field: &str) -> Result<&[usize]> {
        if is_reserved(field) {
            return Err(Error::ReservedField(field.to_owned()));
        }
        let owners = self.inner.sessions.routing.owners(field);
        if owners.is_empty() {
            return Err(Error::UnownedField(field.to_owned()));
        }
        Ok(owners)
    }

    /// Locks session `index`, loading it first if needed. A bound cookie session loads its
    /// server session first: the cookie counts only beside that session's live id.
    async fn loaded(&self, index: usize) -> Result<MutexGuard<'_, SubSession>> {
        self.inner.accessed.store(true, Ordering::Relaxed);
        let mut sub = lock(self.inner.subs.get(index)).await;
        let sessions = &self.inner.sessions;
        let now = sessions.clock.now();
        // One `load` call below, not one per arm, and the server session's (for a bound cookie
        // session, the rarer case) boxed: each awaited load is a large part of this future,
        // which every read moves.
        let server_id;
        let binding = match sessions.bound_to[index] {
            // Locks taken in this order only (bound, then server), never the other way round
            // while both are held, so this cannot deadlock.
            Some(server) if sub.needs_load() => {
                let mut server_sub = lock(self.inner.subs.get(server)).await;
                Box::pin(server_sub.load(&sessions.list[server], now, Binding::Unbound)).await?;
                if server_sub.is_unavailable() {
                    Binding::Unknown
                } else {
                    server_id = server_sub.live_id().cloned();
                    Binding::Server(server_id.as_ref())
                }
            }
            _ => Binding::Unbound,
        };
        sub.load(&sessions.list[index], now, binding).await?;
        Ok(sub)
    }

    /// Loads these sessions concurrently, holding one lock at a time per future.
    async fn load_all(&self, indexes: &[usize]) -> Result<()> {
        if indexes.len() > 1 {
            try_join_all(indexes.iter().map(|&index| async move { self.loaded(index).await.map(drop) })).await?;
        }
        Ok(())
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Field values may be secret; show only the session names.
        let names: BTreeSet<&str> = self.inner.sessions.by_name.keys().map(String::as_str).collect();
        f.debug_struct("Session").field("sessions", &names).finish_non_exhaustive()
    }
}

fn decode<T: DeserializeOwned>(field: &str, value: Option<&Value>) -> Result<Option<T>> {
    value.map(T::deserialize).transpose().map_err(|source| Error::Deserialize { field: field.to_owned(), source })
}

/// Each named session during one request: its cookie as sent, and its state, made when the
/// request first needs it. A configured session the request neither sent nor used costs a check,
/// and one it sent but did not use an entry, not a state: a request's cost follows what it uses
/// rather than what is configured.
struct Subs(Box<[Slot]>);

struct Slot {
    /// The session's cookie as the request sent it (the first, if it sent several).
    sent: Option<RequestCookie>,
    state: OnceLock<Mutex<SubSession>>,
}

impl Slot {
    fn make(&self) -> Mutex<SubSession> {
        Mutex::new(SubSession::new(self.sent.clone()))
    }

    /// Whether the save needs this session's state although the request did not use it: a
    /// cookie it sent that is due for a refresh.
    fn saves_unused(&self, spec: &NamedSession, now: i64) -> bool {
        match (&self.sent, &spec.backend) {
            (Some(value), Backend::Cookie(codec)) => state::unused_cookie_saves(spec, codec, value.as_bytes(), now),
            _ => false,
        }
    }
}

impl Subs {
    fn new(len: usize) -> Self {
        Self((0..len).map(|_| Slot { sent: None, state: OnceLock::new() }).collect())
    }

    /// Notes the request's cookie for session `index`; the first one sent wins.
    fn offer(&mut self, index: usize, value: RequestCookie) {
        self.0[index].sent.get_or_insert(value);
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The state of session `index`, made now if it was not.
    fn get(&self, index: usize) -> &Mutex<SubSession> {
        let slot = &self.0[index];
        slot.state.get_or_init(|| slot.make())
    }

    /// The states made so far, with their session's index.
    fn made(&self) -> impl Iterator<Item = (usize, &Mutex<SubSession>)> {
        self.0.iter().enumerate().filter_map(|(index, slot)| Some((index, slot.state.get()?)))
    }

    /// As [`made`](Self::made), while the request is not shared.
    fn made_mut(&mut self) -> impl Iterator<Item = (usize, &mut SubSession)> {
        self.0.iter_mut().enumerate().filter_map(|(index, slot)| Some((index, slot.state.get_mut()?.get_mut())))
    }

    /// The states the save goes through: those made so far, and those of unused sessions that
    /// [save anyway](Slot::saves_unused), made now.
    fn to_save<'a>(
        &'a self,
        list: &'a [NamedSession],
        now: i64,
    ) -> impl Iterator<Item = (usize, &'a Mutex<SubSession>)> + 'a {
        self.0.iter().enumerate().filter_map(move |(index, slot)| match slot.state.get() {
            Some(state) => Some((index, state)),
            None => slot.saves_unused(&list[index], now).then(|| (index, slot.state.get_or_init(|| slot.make()))),
        })
    }

    /// As [`to_save`](Self::to_save), while the request is not shared.
    fn to_save_mut<'a>(
        &'a mut self,
        list: &'a [NamedSession],
        now: i64,
    ) -> impl Iterator<Item = (usize, &'a mut SubSession)> + 'a {
        self.0.iter_mut().enumerate().filter_map(move |(index, slot)| {
            if slot.state.get().is_none() {
                if !slot.saves_unused(&list[index], now) {
                    return None;
                }
                let made = slot.make();
                // Empty, so the value is set; the result says only that.
                let _ = slot.state.set(made);
            }
            Some((index, slot.state.get_mut()?.get_mut()))
        })
    }
}

/// The lock on one named session: taken at once when it is free, which it is but for concurrent
/// uses of one request's handles (`try_lock` costs a fraction of an awaited `lock`).
async fn lock(sub: &Mutex<SubSession>) -> MutexGuard<'_, SubSession> {
    match sub.try_lock() {
        Some(guard) => guard,
        None => sub.lock().await,
    }
}
