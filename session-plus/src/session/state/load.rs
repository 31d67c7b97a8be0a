//! Loading one named session: its cookie checked, or its record read from its store, and either
//! taken in only while it lives (the lifetime rules of [`state`](super)).

use tracing::Instrument;

use super::{Binding, LoadState, SubSession};
use crate::codec::{CookieCodec, ErrorKind, OpenedFields};
use crate::cookies::RequestCookie;
use crate::observe::{Step, StepKind};
use crate::session::expiry::Lifetime;
use crate::session::fields::Fields;
use crate::session::user::{self, UserTag};
use crate::session::{Backend, Error, Id, NamedSession};
use crate::store::{self, SessionStore, UnparsedRecord};

/// Seconds a cookie's issue time may lie in the future (clock skew between servers).
const MAX_CLOCK_SKEW: i64 = 5;

impl SubSession {
    /// Loads the session once; later calls return at once (or repeat the failure). A bound
    /// cookie session is given its server session's live id.
    pub(crate) async fn load(&mut self, spec: &NamedSession, now: i64, binding: Binding<'_>) -> Result<(), Error> {
        match self.state {
            LoadState::Loaded | LoadState::Unavailable => return Ok(()),
            LoadState::Failed => return Err(load_error(spec)),
            LoadState::NotLoaded => {}
        }
        match &spec.backend {
            // Bound to a server session whose store is down: its fields cannot be checked.
            Backend::Cookie(_) if matches!(binding, Binding::Unknown) => {
                self.state = LoadState::Unavailable;
                return Ok(());
            }
            Backend::Cookie(codec) => {
                let step = Step::start(StepKind::Load, &spec.config.cookie_name, "cookie");
                self.load_cookie(spec, codec, now, binding);
                step.finish(true);
            }
            Backend::Store(store) => {
                let step = Step::start(StepKind::Load, &spec.config.cookie_name, store.backend_name());
                // The store's future is awaited here rather than in a helper: each level of
                // nesting would hold (and move) the one below it whole, and this future is part of
                // every read's.
                let loaded = match self.request_id(spec) {
                    None => Ok(()),
                    Some((id, key_index)) => {
                        let record = store.load_unparsed(&spec.key(&id)).instrument(step.span()).await;
                        match self.take_loaded(spec, now, id, key_index, record) {
                            // Boxed: only sessions tied to a user take this path.
                            Ok(Some(tied)) => {
                                let check = self.adopt_unless_ended(spec, store.as_ref(), now, *tied);
                                Box::pin(check).instrument(step.span()).await
                            }
                            Ok(None) => Ok(()),
                            Err(error) => Err(error),
                        }
                    }
                };
                step.finish(loaded.is_ok());
                if let Err(error) = loaded {
                    tracing::error!(
                        session = %spec.config.cookie_name,
                        backend = store.backend_name(),
                        %error,
                        "session store failed to load"
                    );
                    if spec.config.on_error.load_error_as_empty {
                        tracing::warn!(session = %spec.config.cookie_name, "session read as empty (load_error_as_empty)");
                        self.state = LoadState::Unavailable;
                        return Ok(());
                    }
                    self.state = LoadState::Failed;
                    return Err(load_error(spec));
                }
            }
        }
        self.state = LoadState::Loaded;
        Ok(())
    }

    /// Takes in the request's cookie if it verifies (under the server session's id, when bound)
    /// and is within its lifetimes; otherwise the session starts empty.
    pub(super) fn load_cookie(&mut self, spec: &NamedSession, codec: &CookieCodec, now: i64, binding: Binding<'_>) {
        let Some(value) = self.request_value.as_ref().map(RequestCookie::as_bytes) else {
            return;
        };
        let name = &spec.config.cookie_name;
        let Some(sealed_as) = binding.codec_name(name) else {
            tracing::debug!(session = %name, "bound session cookie ignored: its server session has no live record");
            return;
        };
        let c = match codec.open(&sealed_as, value) {
            Ok(opened) => opened,
            Err(error) => {
                tracing::debug!(session = %name, kind = ?error.kind(), "invalid session cookie ignored");
                return;
            }
        };
        // The fields stay text, checked here; a read parses only the field it reads.
        let fields = match c.fields {
            OpenedFields::Json { body, start } => Fields::from_cookie_body(body, start),
            #[cfg(feature = "flask")]
            OpenedFields::Parsed(fields) => Ok(fields.into()),
        };
        let Ok(fields) = fields else {
            tracing::debug!(session = %name, kind = ?ErrorKind::Malformed, "invalid session cookie ignored");
            return;
        };
        let lifetime = Lifetime::of(&spec.config, c.permanent, &fields, now);
        let idle_ok = now.saturating_sub(c.issued_at) <= lifetime.idle && !lifetime.has_ended(now);
        let not_future = c.issued_at <= now + MAX_CLOCK_SKEW;
        if idle_ok && not_future && within_absolute(spec, c.created_at, now) {
            self.fields = fields;
            self.created_at = c.created_at;
            self.stamp = c.issued_at;
            self.permanent = c.permanent;
            self.key_index = c.key_index;
            self.existed = true;
            if let Binding::Server(id) = binding {
                self.bound_id = id.cloned();
            }
        } else {
            tracing::debug!(session = %name, "expired session cookie ignored");
        }
    }

    /// Takes in what a store's load gave: a live record (or, when it is over, its id for
    /// deletion). A live record tied to a user comes back instead, to be checked against that
    /// user's sessions first.
    fn take_loaded(
        &mut self,
        spec: &NamedSession,
        now: i64,
        id: Id,
        key_index: usize,
        loaded: store::Result<Option<UnparsedRecord>>,
    ) -> store::Result<Option<Box<(Found, UserTag)>>> {
        match loaded {
            Ok(Some(record)) => Ok(self.take_record(spec, now, id, key_index, record)),
            Ok(None) => Ok(None),
            // A record we cannot read (corrupt, or a Python pickle) is no session; it is left in
            // place for whoever wrote it, and new data gets a fresh id.
            Err(store::Error::Decode(error)) => {
                tracing::warn!(session = %spec.config.cookie_name, %error, "undecodable session record ignored");
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// [`take_loaded`](Self::take_loaded) for a record found.
    fn take_record(
        &mut self,
        spec: &NamedSession,
        now: i64,
        id: Id,
        key_index: usize,
        record: UnparsedRecord,
    ) -> Option<Box<(Found, UserTag)>> {
        // Checked here, parsed only as far as the request reads.
        let fields = match Fields::from_stored(record.fields) {
            Ok(fields) => fields,
            Err(error) => {
                tracing::warn!(session = %spec.config.cookie_name, %error, "undecodable session record ignored");
                return None;
            }
        };
        let alive = now < record.expires_at
            && within_absolute(spec, record.created_at, now)
            && !Lifetime::of(&spec.config, record.permanent, &fields, now).has_ended(now);
        let found = Found {
            id,
            key_index,
            fields,
            created_at: record.created_at,
            expires_at: record.expires_at,
            permanent: record.permanent,
            reads_loaded: matches!(&spec.backend, Backend::Store(store) if store.reads_loaded_values()),
        };
        match UserTag::from_fields(&found.fields) {
            Some(tag) if alive => Some(Box::new((found, tag))),
            _ => {
                self.adopt(found, alive);
                None
            }
        }
    }

    /// Takes in a live record tied to a user unless all that user's sessions were ended
    /// meanwhile: then it is over, like an expired one.
    async fn adopt_unless_ended(
        &mut self,
        spec: &NamedSession,
        store: &dyn SessionStore,
        now: i64,
        (found, tag): (Found, UserTag),
    ) -> Result<(), store::Error> {
        let ended = user::is_ended(spec, store, &tag, now).await?;
        self.adopt(found, !ended);
        Ok(())
    }

    /// Takes in the record found, or, when it is over, remembers its id (for deletion).
    fn adopt(&mut self, found: Found, alive: bool) {
        if !alive {
            self.expired_id = Some(found.id);
            return;
        }
        self.fields = found.fields;
        self.created_at = found.created_at;
        self.stamp = found.expires_at;
        self.permanent = found.permanent;
        self.id = Some(found.id);
        // Only a live record is updated (others are created whole): only its values count.
        self.loaded = found.reads_loaded.then(serde_json::Map::new);
        self.key_index = found.key_index;
        self.existed = true;
    }

    /// The id in the request's cookie, if it is well-formed (and signed, with `use_signer`), with
    /// the index of the key that verified its signature (0 = the newest, or unsigned).
    pub(super) fn request_id(&self, spec: &NamedSession) -> Option<(Id, usize)> {
        let value = self.request_value()?;
        let (text, key_index) = match &spec.id_signer {
            Some(signer) => signer.verify(&spec.config.cookie_name, value)?,
            None => (value, 0),
        };
        let id = spec.parse_id(text);
        if id.is_none() {
            tracing::debug!(session = %spec.config.cookie_name, "malformed session id ignored");
        }
        id.map(|id| (id, key_index))
    }
}

/// Whether a session created at `created_at` is still within its absolute lifetime, if it has one.
fn within_absolute(spec: &NamedSession, created_at: i64, now: i64) -> bool {
    spec.config.absolute_secs().is_none_or(|absolute| now.saturating_sub(created_at) <= absolute)
}

/// The error of a load that failed (and of every later read of that session in the request).
fn load_error(spec: &NamedSession) -> Error {
    Error::Load { session: spec.config.cookie_name.clone(), status: spec.config.on_error.load_error_status }
}

/// A record a load found, read and checked, before it is taken in.
struct Found {
    id: Id,
    key_index: usize,
    fields: Fields,
    created_at: i64,
    expires_at: i64,
    permanent: bool,
    /// The store reads [`Update::loaded`](crate::store::Update::loaded).
    reads_loaded: bool,
}
