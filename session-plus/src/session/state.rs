//! One named session during one request: lazy load, change tracking, expiry, and the save.
//!
//! Every lifetime rule of the crate lives here, the checks of a session as it is read in [`load`]
//! (times from cookies and stores are untrusted: all arithmetic on them saturates):
//! - a cookie session is valid while `now - issued_at <= lifetime` and its issue time is not in the
//!   future; a server record while `now < expires_at`; both while `now - created_at <= absolute`;
//! - a used, non-empty session is written again (sliding its expiry) once its last write is
//!   `refresh_interval` old, never on every request, and never when the request did not use it;
//! - an id the server did not issue, or whose record expired, is never reused: new data gets a
//!   fresh id and the client's id gets no record.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Map, Value};
use tracing::Instrument;

use super::expiry::{Lifetime, EXPIRY_FIELD};
use super::failure::{Failure, Stage};
use super::fields::Fields;
use super::{Backend, Id, NamedSession};
use crate::codec::{self, CookieCodec, CookieContents, MAX_COOKIE_LEN};
use crate::config::SessionConfig;
use crate::cookies::{self, RequestCookie, TooLarge};
use crate::observe::{Step, StepKind};
use crate::store::{self, Record, SessionStore, Update};

mod load;

/// What a cookie session bound to a server session (`bind_to`) is checked against: that
/// session's id, which the cookie's MAC covers. Its fields count only beside that id, and only
/// while its record lives, so ending the server session (logout, regenerate, the end of a user's
/// sessions) revokes every copy of the cookie.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Binding<'a> {
    /// Not bound.
    Unbound,
    /// Bound; the server session's live id (`None`: no live record, so the cookie is worth nothing).
    Server(Option<&'a Id>),
    /// Bound, but this request did not load the server session: the cookie is left as it is,
    /// neither read nor refreshed (that would cost a store round trip).
    Unknown,
}

impl Binding<'_> {
    /// The name the cookie is sealed under, when it can be checked at all.
    fn codec_name(self, name: &str) -> Option<Cow<'_, str>> {
        match self {
            Self::Unbound => Some(Cow::Borrowed(name)),
            Self::Server(Some(id)) => Some(Cow::Owned(codec::bound_name(name, id.as_str()))),
            Self::Server(None) | Self::Unknown => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadState {
    NotLoaded,
    Loaded,
    Failed,
    /// Its store failed and the session is configured to be empty then (`load_error_as_empty`),
    /// or it is a cookie bound to such a session: read as empty, its cookie left alone, a change
    /// refused at the save.
    Unavailable,
}

/// The state of one named session within one request.
#[derive(Debug)]
pub(crate) struct SubSession {
    /// The cookie's value as the client sent it.
    request_value: Option<RequestCookie>,
    state: LoadState,
    /// The id of the valid record this request found (server-side sessions).
    id: Option<Id>,
    /// An id whose record had expired: deleted on save.
    expired_id: Option<Id>,
    /// A valid session was found (record or cookie).
    existed: bool,
    pub(crate) fields: Fields,
    /// Fields set or removed by this request.
    pub(crate) changed: BTreeSet<String>,
    /// Of the changed fields of a live record, each one's value as loaded (absent: it was
    /// absent), for [`Update::loaded`]; `None` unless the store reads it.
    loaded: Option<Map<String, Value>>,
    cleared: bool,
    pub(crate) regenerate: bool,
    pub(crate) permanent: bool,
    pub(crate) permanent_changed: bool,
    created_at: i64,
    /// Cookie sessions: the issue time. Server sessions: the record's expiry.
    stamp: i64,
    /// Which key verified the cookie (0 = newest).
    key_index: usize,
    /// Bound cookie sessions: the server session's id the cookie was verified beside.
    bound_id: Option<Id>,
    /// Server sessions: a bound cookie session holds fields, so the record must live on (created
    /// empty if need be) for them to count.
    pub(crate) keep_record: bool,
    /// Server sessions, once their writes committed: the id the client holds after this
    /// response (`Some(None)`: none). The cookie sessions bound to it are sealed beside it.
    pub(crate) id_after_writes: Option<Option<Id>>,
}

/// One session's save after its writes (phase one), before its deletes (phase two, which runs
/// only when every session's writes committed, so that no old record is deleted for a new one
/// that does not exist).
#[derive(Debug, Default)]
pub(crate) struct Staged {
    /// The `Set-Cookie` value to send.
    cookie: Option<String>,
    /// A record whose expiry this request found.
    expired: Option<Id>,
    /// The record this request ends (logout, or the old id of a regenerate).
    old: Option<Id>,
    /// After a regenerate that carried the loaded data: the new record, deleted again (and its
    /// cookie replaced by a removal) when `old` turns out to be gone already, since then a
    /// logout elsewhere ended the session after this request loaded it.
    moved_to: Option<Id>,
}

impl Staged {
    /// The save of a session that needed no store: a cookie to send, nothing to delete.
    pub(crate) fn cookie_only(cookie: Option<String>) -> Self {
        Self { cookie, ..Self::default() }
    }

    /// Whether phase two has anything to delete for this session.
    pub(crate) fn has_deletes(&self) -> bool {
        self.expired.is_some() || self.old.is_some()
    }

    /// The cookie alone, when the deletes do not run (another session's writes failed): its
    /// writes committed, and a removal is always sent.
    pub(crate) fn into_cookie(self) -> Option<String> {
        self.cookie
    }

    /// Runs the deletes (phase two); returns the `Set-Cookie` value to send and the failure, if a
    /// delete failed. The cookie is sent either way: the writes it names committed.
    pub(crate) async fn delete_old(self, spec: &NamedSession) -> (Option<String>, Option<Failure>) {
        let Self { mut cookie, expired, old, moved_to } = self;
        let Backend::Store(store) = &spec.backend else { return (cookie, None) };
        let mut failure = None;
        if let Some(expired) = expired
            && let Err(error) = store.delete(&spec.key(&expired)).await
        {
            failure = Some(save_failure(spec, store, &error));
        }
        if let Some(old) = old {
            match (store.delete(&spec.key(&old)).await, moved_to) {
                (Ok(false), Some(new)) => {
                    // Gone already: a logout elsewhere won. Never resurrect what it ended.
                    cookie = Some(cookies::removal(&spec.config));
                    if let Err(error) = store.delete(&spec.key(&new)).await {
                        failure = Some(save_failure(spec, store, &error));
                    }
                }
                (Ok(_), _) => {}
                (Err(error), _) => failure = Some(save_failure(spec, store, &error)),
            }
        }
        (cookie, failure)
    }
}

impl SubSession {
    /// The state of a session whose cookie the request sent as `request_value` (the first one
    /// sent, if it sent several).
    pub(crate) fn new(request_value: Option<RequestCookie>) -> Self {
        Self {
            request_value,
            state: LoadState::NotLoaded,
            id: None,
            expired_id: None,
            existed: false,
            fields: Fields::default(),
            changed: BTreeSet::new(),
            loaded: None,
            cleared: false,
            regenerate: false,
            permanent: false,
            permanent_changed: false,
            created_at: 0,
            stamp: 0,
            key_index: 0,
            bound_id: None,
            keep_record: false,
            id_after_writes: None,
        }
    }

    fn request_value(&self) -> Option<&str> {
        self.request_value.as_ref().map(RequestCookie::as_str)
    }

    /// Whether the store failed to load this session.
    pub(crate) fn load_failed(&self) -> bool {
        self.state == LoadState::Failed
    }

    /// Whether this session reads as empty because its store (or, for a bound cookie, its server
    /// session's store) is down.
    pub(crate) fn is_unavailable(&self) -> bool {
        self.state == LoadState::Unavailable
    }

    /// Whether [`load`](Self::load) has anything left to do (a failure is repeated at once).
    pub(crate) fn needs_load(&self) -> bool {
        self.state == LoadState::NotLoaded
    }

    /// The id of the live record this request found (server sessions).
    pub(crate) fn live_id(&self) -> Option<&Id> {
        self.id.as_ref()
    }

    /// The live record an [atomic update](super::Session::update) of `field` compares and sets:
    /// none when the request clears or regenerates the session (its save writes a fresh record
    /// under a new id, which no one else holds yet) or already changed `field` (its save writes
    /// the request's copy anyway).
    pub(crate) fn atomic_target(&self, field: &str) -> Option<&Id> {
        if self.cleared || self.regenerate || self.changed.contains(field) {
            return None;
        }
        self.id.as_ref()
    }

    /// Takes in a value an atomic update wrote to the store, with the record's new expiry. Not
    /// marked changed: the save must not write this value again over a later update.
    pub(crate) fn atomically_set(&mut self, field: &str, value: Value, expires_at: i64) {
        self.fields.insert(field, value);
        self.stamp = self.stamp.max(expires_at);
    }

    /// Whether this request loaded the session and it holds fields.
    pub(crate) fn holds_fields(&self) -> bool {
        self.state == LoadState::Loaded && self.fields.holds_data()
    }

    /// A server session whose save would delete its record for holding nothing: its live id,
    /// beside which the cookie sessions bound to it are checked before that may happen.
    pub(crate) fn emptied_record(&self) -> Option<&Id> {
        (self.state == LoadState::Loaded && !self.fields.holds_data() && !self.cleared).then_some(self.id.as_ref())?
    }

    /// Empties the session without loading it; the save deletes the record and the cookie.
    pub(crate) fn clear(&mut self, spec: &NamedSession) {
        // A logout during an outage still tries to end the record, and expires the cookie.
        if matches!(self.state, LoadState::NotLoaded | LoadState::Unavailable) {
            if matches!(spec.backend, Backend::Store(_)) {
                // Only a well-formed id is ever sent to the store, here for deletion.
                self.id = self.request_id(spec).map(|(id, _)| id);
            }
            self.state = LoadState::Loaded;
        }
        self.fields.clear();
        self.changed.clear();
        self.loaded = None; // a cleared session is saved as a new record
        self.cleared = true;
    }

    /// Sets `field` in the request's copy, which the save writes.
    pub(crate) fn set_field(&mut self, field: &str, value: Value) {
        if !self.changed.contains(field) {
            if let Some(loaded) = &mut self.loaded
                && let Some(value) = self.fields.get(field)
            {
                loaded.insert(field.to_owned(), value.clone());
            }
            self.changed.insert(field.to_owned());
        }
        self.fields.insert(field, value);
    }

    /// Removes `field` from the request's copy, which the save writes; returns its value.
    pub(crate) fn remove_field(&mut self, field: &str) -> Option<Value> {
        let value = self.fields.remove(field)?;
        if self.changed.insert(field.to_owned())
            && let Some(loaded) = &mut self.loaded
        {
            loaded.insert(field.to_owned(), value.clone());
        }
        Some(value)
    }

    /// Whether saving this session talks to its store: a server-side session this request loaded
    /// and changed, or whose refresh is due, or that has a record to delete. Every other save is
    /// [`finalize_now`](Self::finalize_now), with no I/O: most requests that read a server
    /// session finish without awaiting anything.
    pub(crate) fn needs_store(&self, spec: &NamedSession, now: i64) -> bool {
        self.is_loaded_server(spec) && self.writes_store(spec, now)
    }

    /// Whether this is a server-side session this request loaded.
    pub(crate) fn is_loaded_server(&self, spec: &NamedSession) -> bool {
        matches!(spec.backend, Backend::Store(_)) && self.state == LoadState::Loaded
    }

    /// Whether the save of this loaded server session calls its store: to delete an expired id's
    /// record, or to [write its own](Self::writes_record).
    fn writes_store(&self, spec: &NamedSession, now: i64) -> bool {
        self.expired_id.is_some() || self.writes_record(spec, now)
    }

    /// Whether the save creates, updates or deletes this session's record (what
    /// [`write_store`](Self::write_store) does then).
    fn writes_record(&self, spec: &NamedSession, now: i64) -> bool {
        let empty = self.is_empty_record();
        let dirty = !self.changed.is_empty();
        match &self.id {
            // Emptied by this request: the record is deleted.
            Some(_) if empty => dirty || self.cleared,
            Some(_) if self.cleared || self.regenerate => true,
            Some(_) => dirty || self.permanent_changed || self.refresh_due(spec, now),
            // New data: a record is created.
            None => !empty,
        }
    }

    /// The save of a loaded server session that calls no store: the id stays, and a cookie is
    /// sent only to sign it again with the newest key, or to expire one that holds no session.
    fn save_unwritten(&mut self, spec: &NamedSession, now: i64) -> Option<String> {
        match self.id.clone() {
            Some(id) => {
                // An id cookie signed with an older key is signed again with the newest, so key
                // rotation logs nobody out.
                let resign = !self.is_empty_record() && self.key_index > 0;
                let cookie = resign.then(|| self.id_cookie(spec, &id, now));
                self.id_after_writes = Some(Some(id));
                cookie
            }
            None => {
                self.id_after_writes = Some(None);
                let emptied = !self.changed.is_empty() || self.cleared;
                (self.request_value.is_some() && emptied).then(|| cookies::removal(&spec.config))
            }
        }
    }

    /// A record that holds nothing is deleted, unless bound cookie fields need it.
    fn is_empty_record(&self) -> bool {
        !self.fields.holds_data() && !self.keep_record
    }

    /// Whether a write is due to move this record's expiry forward (`refresh_on_request`).
    fn refresh_due(&self, spec: &NamedSession, now: i64) -> bool {
        let config = &spec.config;
        let lifetime = Lifetime::of(config, self.permanent, &self.fields, now);
        // Times from a store are untrusted too: saturating arithmetic, never an overflow.
        let last_write = self.stamp.saturating_sub(lifetime.idle);
        // Only when a write would move the expiry (not once it is capped by an instant).
        config.lifetimes.refresh_on_request
            && now.saturating_sub(last_write) >= lifetime.refresh
            && lifetime.expires_at(now) > self.stamp
    }

    /// Phase one of the save: writes what changed (creates and updates) and encodes the cookie;
    /// the deletes it needs wait in the returned [`Staged`].
    pub(crate) async fn write(
        &mut self,
        spec: &NamedSession,
        now: i64,
        binding: Binding<'_>,
    ) -> Result<Staged, Failure> {
        let (Backend::Store(store), LoadState::Loaded, true) =
            (&spec.backend, self.state, self.writes_store(spec, now))
        else {
            return self.finalize_now(spec, now, binding).map(Staged::cookie_only);
        };
        let mut staged = Staged { expired: self.expired_id.take(), ..Staged::default() };
        let step = Step::start(StepKind::Save, &spec.config.cookie_name, store.backend_name());
        let written = self.write_store(spec, store, now, &mut staged).instrument(step.span()).await;
        step.finish(written.is_ok());
        let cookie = written.map_err(|error| save_failure(spec, store, &error))?;
        staged.cookie = cookie.map(|cookie| sendable(&spec.config, cookie)).transpose()?;
        Ok(staged)
    }

    /// The save of a session that needs no store ([`needs_store`](Self::needs_store) is false):
    /// a cookie session, a server-side one this request did not load, or one it loaded and left
    /// as it was.
    pub(crate) fn finalize_now(
        &mut self,
        spec: &NamedSession,
        now: i64,
        binding: Binding<'_>,
    ) -> Result<Option<String>, Failure> {
        let config = &spec.config;
        match self.state {
            LoadState::Failed => return Err(Failure::new(config, Stage::Load)),
            LoadState::Unavailable => {
                if self.changed.is_empty() && !self.regenerate && !self.permanent_changed {
                    return Ok(None); // read as empty, nothing to save: the cookie stays as it is
                }
                tracing::error!(session = %config.cookie_name, "a change to a session whose store is down is refused");
                return Err(Failure::new(config, Stage::Save));
            }
            LoadState::NotLoaded | LoadState::Loaded => {}
        }
        match &spec.backend {
            Backend::Cookie(codec) => {
                let step = Step::deferred(StepKind::Save, &config.cookie_name, "cookie");
                let cookie = self.finalize_cookie(spec, codec, now, binding);
                // A save is a cookie written (or refused); most requests write none.
                if !matches!(cookie, Ok(None)) {
                    step.finish(cookie.is_ok());
                }
                cookie?.map(|cookie| sendable(config, cookie)).transpose()
            }
            Backend::Store(_) if self.state == LoadState::Loaded => {
                self.save_unwritten(spec, now).map(|cookie| sendable(config, cookie)).transpose()
            }
            // Not used by this request: nothing to save.
            Backend::Store(_) => Ok(None),
        }
    }

    fn finalize_cookie(
        &mut self,
        spec: &NamedSession,
        codec: &CookieCodec,
        now: i64,
        binding: Binding<'_>,
    ) -> Result<Option<String>, Failure> {
        let config = &spec.config;
        if self.state == LoadState::NotLoaded {
            if let Binding::Unknown = binding {
                return Ok(None);
            }
            if !self.request_value.as_ref().is_some_and(|value| unused_cookie_saves(spec, codec, value.as_bytes(), now))
            {
                return Ok(None);
            }
            self.load_cookie(spec, codec, now, binding);
            self.state = LoadState::Loaded;
        }
        let removal = || self.request_value.as_ref().map(|_| cookies::removal(config));
        if !self.fields.holds_data() {
            // Emptied, expired or invalid: expire the client's cookie, if it sent one.
            return Ok(removal());
        }
        let Some(sealed_as) = binding.codec_name(&config.cookie_name) else {
            return Ok(match binding {
                // The server session's writes failed: the client's cookie stays as it is.
                Binding::Unknown => None,
                // Bound to a server session that ended meanwhile: so do these fields.
                _ => removal(),
            });
        };
        // Bound beside another id than the one the server session has now (regenerated, or
        // created by this request): sealed again beside the new one.
        let rebound = match binding {
            Binding::Server(id) => id != self.bound_id.as_ref(),
            Binding::Unbound | Binding::Unknown => false,
        };
        let lifetime = Lifetime::of(config, self.permanent, &self.fields, now);
        let refresh_due = config.lifetimes.refresh_on_request
            && now.saturating_sub(self.stamp) >= lifetime.refresh
            && lifetime.expires_at(now) > lifetime.expires_at(self.stamp);
        let rewrite = !self.existed
            || !self.changed.is_empty()
            || self.cleared
            || self.regenerate
            || self.permanent_changed
            || self.key_index > 0
            || rebound
            || refresh_due;
        if !rewrite {
            return Ok(None);
        }
        let fresh = self.cleared || !self.existed;
        let contents = CookieContents {
            fields: std::mem::take(self.fields.all()),
            issued_at: now,
            created_at: if fresh { now } else { self.created_at },
            permanent: self.permanent,
        };
        let encoded = codec.encode(&sealed_as, &contents);
        self.fields = Fields::from(contents.fields);
        let value = encoded.map_err(|error| {
            tracing::error!(session = %config.cookie_name, %error, "session cookie could not be encoded");
            Failure::new(config, Stage::Save)
        })?;
        Ok(Some(cookies::set(config, &value, lifetime.max_age)))
    }

    /// The writes of a server-side session; the deletes go to `staged`.
    async fn write_store(
        &mut self,
        spec: &NamedSession,
        store: &Arc<dyn SessionStore>,
        now: i64,
        staged: &mut Staged,
    ) -> Result<Option<String>, store::Error> {
        if !self.writes_record(spec, now) {
            return Ok(self.save_unwritten(spec, now));
        }
        let config = &spec.config;
        let lifetime = Lifetime::of(config, self.permanent, &self.fields, now);
        // Each branch is one of `writes_record`'s.
        let cookie = match self.id.clone() {
            Some(old) if self.is_empty_record() => {
                staged.old = Some(old);
                self.id_after_writes = Some(None);
                Some(cookies::removal(config))
            }
            Some(old) if self.cleared || self.regenerate => {
                let created = if self.cleared { now } else { self.created_at };
                let fields = self.fields.all().clone();
                let new = self.create(spec, store, fields, created, now).await?;
                let cookie = self.id_cookie(spec, &new, now);
                staged.old = Some(old);
                self.id_after_writes = Some(Some(new.clone()));
                // Data carried from the load, unlike what a request writes after `clear`.
                staged.moved_to = (!self.cleared).then_some(new);
                Some(cookie)
            }
            Some(old) => {
                // Changed, or its refresh is due. Signed with an older key: signed again.
                let resign = self.key_index > 0;
                // Permanence only when this request changed it: a request that loaded before
                // another changed it must not undo that (and the store never shortens the expiry
                // then).
                let permanent = self.permanent_changed.then_some(self.permanent);
                let loaded = self.loaded.take();
                let mut update =
                    Update { expires_at: lifetime.expires_at(now), permanent, loaded, ..Update::default() };
                for field in &self.changed {
                    match self.fields.get(field) {
                        Some(value) => drop(update.set.insert(field.clone(), value.clone())),
                        None => update.remove.push(field.clone()),
                    }
                }
                if store.update(&spec.key(&old), &update).await? {
                    // A new `Max-Age` for a persistent cookie, or for a lifetime set on this session.
                    let slide = lifetime.max_age.is_some() || self.changed.contains(EXPIRY_FIELD);
                    let cookie = (self.permanent_changed || slide || resign).then(|| self.id_cookie(spec, &old, now));
                    self.id_after_writes = Some(Some(old));
                    cookie
                } else if update.set.is_empty() {
                    // Deleted meanwhile (a logout elsewhere): that deletion wins.
                    self.id_after_writes = Some(None);
                    Some(cookies::removal(config))
                } else {
                    // Never resurrect a deleted id, nor the data loaded before it was deleted:
                    // only what this request wrote starts a new session.
                    let new = self.create(spec, store, update.set, now, now).await?;
                    let cookie = self.id_cookie(spec, &new, now);
                    self.id_after_writes = Some(Some(new));
                    Some(cookie)
                }
            }
            None => {
                let fields = self.fields.all().clone();
                let new = self.create(spec, store, fields, now, now).await?;
                let cookie = self.id_cookie(spec, &new, now);
                self.id_after_writes = Some(Some(new));
                Some(cookie)
            }
        };
        Ok(cookie)
    }

    /// Creates a record under a fresh id, never over an existing one.
    async fn create(
        &self,
        spec: &NamedSession,
        store: &Arc<dyn SessionStore>,
        fields: Map<String, Value>,
        created_at: i64,
        now: i64,
    ) -> Result<Id, store::Error> {
        let expires_at = Lifetime::of(&spec.config, self.permanent, &fields, now).expires_at(now);
        let record = Record { fields, created_at, expires_at, permanent: self.permanent };
        // A collision of 256-bit random ids does not happen; the loop only makes it harmless.
        for _ in 0..3 {
            let id = spec.new_id().map_err(|e| store::Error::Backend(Box::new(e)))?;
            if store.create(&spec.key(&id), &record).await? {
                return Ok(id);
            }
        }
        Err(store::Error::Backend("could not find a free session id".into()))
    }

    fn id_cookie(&self, spec: &NamedSession, id: &Id, now: i64) -> String {
        let config = &spec.config;
        let value = match &spec.id_signer {
            Some(signer) => signer.sign(&config.cookie_name, id.as_str()),
            None => id.as_str().to_owned(),
        };
        cookies::set(config, &value, Lifetime::of(config, self.permanent, &self.fields, now).max_age)
    }

    /// When this session ends if it is not used again, once this request's save is done: `None`
    /// when it holds no data. Mirrors the save: a session the save writes (changed, new, or due
    /// for a refresh) is valid for its idle lifetime from `now`, any other from its last write;
    /// an instant set on it and its absolute lifetime cap both.
    pub(crate) fn expires_at(&self, spec: &NamedSession, now: i64) -> Option<i64> {
        if !self.fields.holds_data() {
            return None;
        }
        let config = &spec.config;
        let lifetime = Lifetime::of(config, self.permanent, &self.fields, now);
        let fresh = self.cleared || !self.existed;
        let written = fresh || !self.changed.is_empty() || self.regenerate || self.permanent_changed;
        let last_write = match spec.backend {
            Backend::Cookie(_) => self.stamp,
            Backend::Store(_) => self.stamp.saturating_sub(lifetime.idle),
        };
        let refreshed = config.lifetimes.refresh_on_request && now.saturating_sub(last_write) >= lifetime.refresh;
        let ends = match spec.backend {
            Backend::Store(_) if !(written || refreshed) => self.stamp,
            _ => lifetime.expires_at(if written || refreshed { now } else { last_write }),
        };
        let created_at = if fresh { now } else { self.created_at };
        Some(config.absolute_secs().map_or(ends, |absolute| ends.min(created_at.saturating_add(absolute))))
    }
}

/// Whether the save of a cookie session that the request sent as `value` but did not use writes
/// anything: only a refresh (`refresh_on_request`) can, and only when the issue time the value
/// claims says one is due. The claim is read without verifying it (a forged one can only skip a
/// refresh); the save verifies the cookie before it signs it again. No I/O either way.
pub(crate) fn unused_cookie_saves(spec: &NamedSession, codec: &CookieCodec, value: &[u8], now: i64) -> bool {
    let config = &spec.config;
    if !config.lifetimes.refresh_on_request {
        return false;
    }
    let Some(issued_at) = codec.peek_issued_at(value) else { return true };
    let age = now.saturating_sub(issued_at);
    // Younger than either lifetime's refresh interval: not due, permanent or not (most requests
    // stop here, having decoded a third of what the flag would take).
    if (0..config.refresh_secs(false).min(config.refresh_secs(true))).contains(&age) {
        return false;
    }
    match codec.peek_permanent(value) {
        Some(permanent) => !(0..config.refresh_secs(permanent)).contains(&age),
        None => true,
    }
}

/// The `Set-Cookie` value, if browsers will keep it; a clear error if they would drop it.
fn sendable(config: &SessionConfig, set_cookie: String) -> Result<String, Failure> {
    crate::observe::cookie_sent(&config.cookie_name, set_cookie.len());
    cookies::checked(set_cookie).map_err(|TooLarge { len }| {
        tracing::error!(
            session = %config.cookie_name,
            bytes = len,
            "Set-Cookie exceeds {MAX_COOKIE_LEN} bytes, which browsers drop; not sent: move fields to a server-side session"
        );
        Failure::new(config, Stage::Save)
    })
}

/// Logs a failed save (without ids) and gives the configured status.
fn save_failure(spec: &NamedSession, store: &Arc<dyn SessionStore>, error: &store::Error) -> Failure {
    tracing::error!(
        session = %spec.config.cookie_name,
        backend = store.backend_name(),
        %error,
        "session store failed to save"
    );
    Failure::new(&spec.config, Stage::Save)
}
