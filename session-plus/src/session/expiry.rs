//! Ids and expiry per named session: what a handler can read of each ([`Session::id`],
//! [`Session::expiry`]) and the lifetime it can set for one session ([`Session::set_expiry`]),
//! beside [`Session::set_permanent`].
//!
//! A lifetime set here travels with the session's data, in a field session-plus keeps for itself
//! (`_sp_expiry`, never shown to handlers), so it holds on every later request and on every
//! server of a cluster, and it ends with the session (a [`clear`](Session::clear) forgets it).
//! The configured `session_absolute_lifetime` still caps it: no setting lets a session outlive that.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::fields::ReservedFields;
use super::{Error, Id, Result, Session};
use crate::config::{Format, SessionConfig};

/// The reserved field that holds a lifetime set with [`Session::set_expiry`].
pub(crate) const EXPIRY_FIELD: &str = "_sp_expiry";

/// When one named session ends, instead of its configured lifetimes; see [`Session::set_expiry`].
///
/// The names are those of tower-sessions' `Expiry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// The session ends once it is unused this long (a sliding lifetime, instead of
    /// `session_lifetime` or `session_permanent_lifetime`); its cookie is kept as long
    /// (`Max-Age`), across browser restarts.
    OnInactivity(Duration),
    /// The session ends at this instant however often it is used, and its cookie with it. An
    /// instant already past ends the session now.
    AtDateTime(SystemTime),
}

impl Expiry {
    /// The stored form: `{"idle": seconds}` or `{"at": unix seconds}`.
    fn to_value(self) -> Value {
        match self {
            Self::OnInactivity(idle) => json!({ "idle": secs(idle) }),
            Self::AtDateTime(at) => json!({ "at": unix(at) }),
        }
    }

    /// The lifetime set on a session, if its fields hold a well-formed one (anything else counts
    /// as none: the configured lifetimes apply).
    fn from_fields(fields: &impl ReservedFields) -> Option<Self> {
        let stored = fields.reserved(EXPIRY_FIELD)?.as_object()?;
        if let Some(idle) = stored.get("idle").and_then(Value::as_u64) {
            return Some(Self::OnInactivity(Duration::from_secs(idle)));
        }
        let at = stored.get("at").and_then(Value::as_u64)?;
        Some(Self::AtDateTime(UNIX_EPOCH + Duration::from_secs(at)))
    }
}

/// The lifetimes that apply to one named session on this request: the configured ones, or those
/// set with [`Session::set_expiry`]. Seconds; times are Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lifetime {
    /// How long after its last write the session stays valid.
    pub(crate) idle: i64,
    /// The instant the session ends however it is used.
    pub(crate) until: Option<i64>,
    /// How long after its last write a used session is written again.
    pub(crate) refresh: i64,
    /// The cookie's `Max-Age`, if it has one.
    pub(crate) max_age: Option<i64>,
}

impl Lifetime {
    /// The lifetimes of a session with these fields, at `now`.
    pub(crate) fn of(config: &SessionConfig, permanent: bool, fields: &impl ReservedFields, now: i64) -> Self {
        match Expiry::from_fields(fields) {
            None => Self {
                idle: config.lifetime(permanent),
                until: None,
                refresh: config.refresh_secs(permanent),
                max_age: config.cookie_max_age_secs(permanent),
            },
            Some(Expiry::OnInactivity(idle)) => {
                let idle = secs(idle);
                Self { idle, until: None, refresh: config.refresh_secs_within(idle), max_age: Some(idle) }
            }
            Some(Expiry::AtDateTime(at)) => {
                let until = unix(at);
                Self {
                    idle: config.lifetime(permanent),
                    until: Some(until),
                    refresh: config.refresh_secs(permanent),
                    max_age: Some(until.saturating_sub(now).max(0)),
                }
            }
        }
    }

    /// When a session last written at `last_write` stops being valid (before the absolute lifetime).
    pub(crate) fn expires_at(&self, last_write: i64) -> i64 {
        let sliding = last_write.saturating_add(self.idle);
        self.until.map_or(sliding, |until| sliding.min(until))
    }

    /// Whether the instant set with [`Expiry::AtDateTime`] has come.
    pub(crate) fn has_ended(&self, now: i64) -> bool {
        self.until.is_some_and(|until| now >= until)
    }
}

impl Session {
    /// The id of the named session `cookie_name`: the id of the live record this request found
    /// (`None` for a cookie session, or when the client sent no valid id). After
    /// [`regenerate`](Self::regenerate) or [`clear`](Self::clear) the client gets another id
    /// with the response; this stays the one it sent.
    ///
    /// ```
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// let manager = SessionManager::new(config).await?;
    /// let session = manager.start(&http::HeaderMap::new());
    /// assert_eq!(session.id("session").await?, None); // a new visitor has no id yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// No session has that name ([`Error::UnknownSession`]), or its store failed to load.
    pub async fn id(&self, cookie_name: &str) -> Result<Option<Id>> {
        let index = self.index_of(cookie_name)?;
        Ok(self.loaded(index).await?.live_id().cloned())
    }

    /// When the named session `cookie_name` ends if it is not used again, as this request leaves
    /// it (its changes and any refresh saved): the earliest of its idle expiry, the instant set
    /// with [`set_expiry`](Self::set_expiry) and its absolute lifetime. `None` when it holds no
    /// data (it has nothing to end). Whole seconds.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use session_plus::{Config, SessionConfig, SessionManager};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new()
    ///     .with_secret_key("a literal key for development, at least 32 bytes long")
    ///     .with_session(SessionConfig::new("csrf").with_lifetime(Duration::from_secs(3600)));
    /// let manager = SessionManager::new(config).await?;
    /// let session = manager.start(&http::HeaderMap::new());
    /// assert_eq!(session.expiry("csrf").await?, None);
    /// session.insert("csrf_token", "t").await?;
    /// let ends = session.expiry("csrf").await?.unwrap();
    /// assert!(ends > SystemTime::now() + Duration::from_secs(3590));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`id`](Self::id).
    pub async fn expiry(&self, cookie_name: &str) -> Result<Option<SystemTime>> {
        let index = self.index_of(cookie_name)?;
        let now = self.inner.sessions.clock.now();
        let spec = &self.inner.sessions.list[index];
        let at = self.loaded(index).await?.expires_at(spec, now);
        Ok(at.map(|at| UNIX_EPOCH + Duration::from_secs(u64::try_from(at).unwrap_or(0))))
    }

    /// Sets when the named session `cookie_name` ends, for this visitor only, instead of its
    /// configured lifetimes; `None` goes back to them. It is saved with the session, so it holds
    /// on later requests until changed or until the session ends (a [`clear`](Self::clear)
    /// forgets it); `session_absolute_lifetime` still caps it.
    ///
    /// "Remember me for 30 days" on one session, a short-lived session for an admin:
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use session_plus::session::Expiry;
    /// use session_plus::{Config, SessionConfig, SessionManager, SessionType};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = Config::new().with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    /// let manager = SessionManager::new(config).await?;
    /// let session = manager.start(&http::HeaderMap::new());
    /// session.insert("user_id", 42).await?;
    /// session.set_expiry("session", Some(Expiry::OnInactivity(Duration::from_secs(30 * 86_400)))).await?;
    /// let ends = session.expiry("session").await?.unwrap();
    /// assert!(ends > SystemTime::now() + Duration::from_secs(29 * 86_400));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// No session has that name ([`Error::UnknownSession`]); the session is in a Python format,
    /// whose records Flask reads and whose lifetimes Flask's configuration sets
    /// ([`Error::NativeFormatOnly`]); its store failed to load.
    pub async fn set_expiry(&self, cookie_name: &str, expiry: Option<Expiry>) -> Result<()> {
        let index = self.index_of(cookie_name)?;
        let spec = &self.inner.sessions.list[index];
        if spec.config.flask.format != Format::Native {
            return Err(Error::NativeFormatOnly(cookie_name.to_owned()));
        }
        let now = self.inner.sessions.clock.now();
        let mut sub = self.loaded(index).await?;
        self.check_not_saved()?;
        match expiry {
            // Already over: the session ends now, as a logout of this one session would end it.
            Some(Expiry::AtDateTime(at)) if unix(at) <= now => sub.clear(spec),
            Some(expiry) => {
                sub.set_field(EXPIRY_FIELD, expiry.to_value());
            }
            None => drop(sub.remove_field(EXPIRY_FIELD)),
        }
        Ok(())
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn unix(at: SystemTime) -> i64 {
    // An instant before 1970 is long past.
    at.duration_since(UNIX_EPOCH).map_or(0, secs)
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    #[test]
    fn an_expiry_round_trips_through_its_stored_form() {
        for expiry in [
            Expiry::OnInactivity(Duration::from_secs(90)),
            Expiry::AtDateTime(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
        ] {
            let fields = Map::from_iter([(EXPIRY_FIELD.to_owned(), expiry.to_value())]);
            assert_eq!(Expiry::from_fields(&fields), Some(expiry));
        }
    }

    #[test]
    fn a_malformed_stored_expiry_is_none() {
        for stored in [json!(null), json!("90"), json!({"idle": -1}), json!({"at": "x"}), json!({})] {
            let fields = Map::from_iter([(EXPIRY_FIELD.to_owned(), stored)]);
            assert_eq!(Expiry::from_fields(&fields), None);
        }
    }

    #[test]
    fn lifetimes_follow_the_set_expiry() {
        let config = SessionConfig::new("s").with_lifetime(Duration::from_secs(3600));
        let none = Map::new();
        let configured = Lifetime::of(&config, false, &none, 1000);
        assert_eq!(
            (configured.idle, configured.until, configured.refresh, configured.max_age),
            (3600, None, 360, None)
        );

        let idle = Map::from_iter([(EXPIRY_FIELD.to_owned(), json!({"idle": 60}))]);
        let idle = Lifetime::of(&config, false, &idle, 1000);
        assert_eq!((idle.idle, idle.until, idle.refresh, idle.max_age), (60, None, 6, Some(60)));
        assert_eq!(idle.expires_at(1000), 1060);

        let at = Map::from_iter([(EXPIRY_FIELD.to_owned(), json!({"at": 1500}))]);
        let at = Lifetime::of(&config, false, &at, 1000);
        assert_eq!((at.until, at.max_age), (Some(1500), Some(500)));
        assert_eq!(at.expires_at(1000), 1500, "the instant caps the sliding expiry");
        assert!(!at.has_ended(1499) && at.has_ended(1500));
    }
}
