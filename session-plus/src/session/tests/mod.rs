//! The per-request state of named sessions, driven through [`Session`] with a [`MemoryStore`] and
//! a [`ManualClock`]: no socket, no framework, time under the test's control.

use std::sync::Arc;
use std::time::Duration;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

mod atomic;
mod expiry;
mod updates;

use super::{Backend, Error, NamedSession, Session, Sessions};
use crate::clock::ManualClock;
use crate::codec::{CookieCodec, Key, KeyRing};
use crate::config::{FieldSelector, SessionConfig, SessionType};
use crate::routing::Routing;
use crate::store::{MemoryStore, SessionStore};

const T0: i64 = 1_700_000_000;
const SECRET: &str = "a literal key for development, at least 32 bytes long";

/// A `csrf` cookie session for `csrf_token`, and a `session` memory-store session for every
/// other field, with a one-hour lifetime.
struct Fixture {
    sessions: Arc<Sessions>,
    store: Arc<MemoryStore>,
    clock: ManualClock,
    /// The browser's cookies: name → value.
    jar: Vec<(String, String)>,
}

impl Fixture {
    fn new(tweak: impl FnOnce(SessionConfig) -> SessionConfig) -> Self {
        Self::build(tweak, None)
    }

    /// The fixture plus an `account` session for the `account` field, kept by `other`.
    fn with_account_store(other: Arc<dyn SessionStore>) -> Self {
        Self::build(|s| s, Some(other))
    }

    /// The fixture plus a `data` cookie session for `visits`, bound to `session` (`bind_to`).
    fn bound() -> Self {
        let mut fx = Self::new(|s| s);
        let ring = KeyRing::new(vec![Key::derive(SECRET.as_bytes())]).expect("one key");
        let data = NamedSession {
            config: SessionConfig::new("data")
                .with_fields(["visits"])
                .with_bind_to("session")
                .with_refresh_interval(Duration::from_secs(600)),
            backend: Backend::Cookie(CookieCodec::signed(ring)),
            id_signer: None,
        };
        let sessions = Arc::into_inner(fx.sessions).expect("no request yet");
        let mut list = sessions.list;
        list.push(data);
        let configs: Vec<SessionConfig> = list.iter().map(|named| named.config.clone()).collect();
        fx.sessions = Arc::new(Sessions::new(list, Routing::new(&configs), sessions.clock));
        fx
    }

    fn build(tweak: impl FnOnce(SessionConfig) -> SessionConfig, other: Option<Arc<dyn SessionStore>>) -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(T0);
        let session = SessionConfig::new("session")
            .with_type(SessionType::Custom)
            .with_field_selector(FieldSelector::Auto)
            .with_lifetime(Duration::from_secs(3600))
            .with_refresh_interval(Duration::from_secs(600));
        let ring = KeyRing::new(vec![Key::derive(SECRET.as_bytes())]).expect("one key");
        let csrf = NamedSession {
            config: SessionConfig::new("csrf").with_fields(["csrf_token"]),
            backend: Backend::Cookie(CookieCodec::signed(ring)),
            id_signer: None,
        };
        let session = NamedSession {
            config: tweak(session),
            backend: Backend::Store(store.clone() as Arc<dyn SessionStore>),
            id_signer: None,
        };
        let mut list = vec![csrf, session];
        if let Some(other) = other {
            let config = SessionConfig::new("account").with_type(SessionType::Custom).with_fields(["account"]);
            list.push(NamedSession { config, backend: Backend::Store(other), id_signer: None });
        }
        let configs: Vec<SessionConfig> = list.iter().map(|named| named.config.clone()).collect();
        let routing = Routing::new(&configs);
        let sessions = Arc::new(Sessions::new(list, routing, Arc::new(clock.clone())));
        Self { sessions, store, clock, jar: Vec::new() }
    }

    /// A request's session carrying the jar's cookies.
    fn request(&self) -> Session {
        let mut headers = HeaderMap::new();
        let cookie: Vec<String> = self.jar.iter().map(|(name, value)| format!("{name}={value}")).collect();
        if !cookie.is_empty() {
            headers.insert(COOKIE, HeaderValue::from_str(&cookie.join("; ")).expect("ASCII cookies"));
        }
        Session::new(self.sessions.clone(), Some(&headers))
    }

    /// Saves the request's session and stores its `Set-Cookie` values in the jar, as a browser
    /// does; returns them.
    async fn respond(&mut self, session: Session) -> Vec<String> {
        let (set_cookies, failure) = self.respond_even_failing(session).await;
        assert_eq!(failure, None, "the save succeeds");
        set_cookies
    }

    /// Saves the request's session and keeps its `Set-Cookie` values, as [`respond`] does, even
    /// when the save fails; returns them with the failure's status.
    ///
    /// [`respond`]: Self::respond
    async fn respond_even_failing(&mut self, session: Session) -> (Vec<String>, Option<StatusCode>) {
        let saved = session.finalize().await;
        let (set_cookies, failure) = (saved.set_cookies, saved.failure.map(|failure| failure.status()));
        for set_cookie in &set_cookies {
            let (pair, attributes) = set_cookie.split_once(';').unwrap_or((set_cookie, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            self.jar.retain(|(kept, _)| kept != name);
            if !attributes.contains("Max-Age=0") {
                self.jar.push((name.to_owned(), value.to_owned()));
            }
        }
        (set_cookies, failure)
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.iter().find(|(kept, _)| kept == name).map(|(_, value)| value.as_str())
    }

    /// The expiry of the record behind the jar's `session` cookie.
    async fn expires_at(&self) -> i64 {
        let key = format!("session:{}", self.cookie("session").expect("an id cookie"));
        self.store.load(&key).await.unwrap().expect("the record").expires_at
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

#[tokio::test]
async fn a_visitor_whose_session_stays_empty_gets_nothing() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), None);
    assert!(fx.respond(session).await.is_empty());
    assert!(fx.store.is_empty());
}

#[tokio::test]
async fn a_record_is_written_once_then_only_when_its_refresh_is_due() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    assert_eq!(fx.respond(session).await.len(), 1);
    let id = fx.cookie("session").expect("an id cookie").to_owned();
    assert_eq!(fx.expires_at().await, T0 + 3600);

    // Read within the refresh interval: no write, no cookie.
    fx.advance(599);
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
    assert!(fx.respond(session).await.is_empty());
    assert_eq!(fx.expires_at().await, T0 + 3600);

    // Once the refresh is due, the expiry slides; the id stays.
    fx.advance(1);
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
    fx.respond(session).await;
    assert_eq!(fx.expires_at().await, T0 + 600 + 3600);
    assert_eq!(fx.cookie("session"), Some(id.as_str()));
}

/// A cookie the request sent but did not use has no state during the request (it costs an
/// entry, not a state), yet its refresh still happens at the save when it is due: beside a store
/// write (the awaited save) as beside nothing (the save that finishes at once).
#[tokio::test]
async fn a_cookie_sent_but_not_used_is_refreshed_when_due() {
    let mut fx = Fixture::new(|s| s.with_lifetime(Duration::from_secs(30 * 86_400)));
    let session = fx.request();
    session.insert("csrf_token", "t").await.unwrap();
    session.insert("user_id", 1).await.unwrap();
    assert_eq!(fx.respond(session).await.len(), 2);
    let first = fx.cookie("csrf").expect("a csrf cookie").to_owned();

    // Within the csrf cookie's refresh interval (a tenth of its day): left alone.
    fx.advance(8_639);
    let session = fx.request();
    session.insert("user_id", 2).await.unwrap();
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies.iter().all(|c| !c.starts_with("csrf=")), "{set_cookies:?}");

    // Due: signed again beside the store write, holding what it held.
    fx.advance(1);
    let session = fx.request();
    session.insert("user_id", 3).await.unwrap();
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies.iter().any(|c| c.starts_with("csrf=")), "{set_cookies:?}");
    let second = fx.cookie("csrf").expect("a csrf cookie").to_owned();
    assert_ne!(second, first);

    // Due again, in a request that uses nothing: the save that finishes at once refreshes it.
    fx.advance(8_640);
    let mut session = fx.request();
    let finished = session.finish_now().expect("no store to wait for");
    assert!(finished.set_cookies().iter().any(|c| c.starts_with("csrf=")), "{:?}", finished.set_cookies());
    let session = fx.request();
    assert_eq!(session.get::<String>("csrf_token").await.unwrap().as_deref(), Some("t"));
}

#[tokio::test]
async fn a_read_that_writes_nothing_finishes_without_awaiting_its_store() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    fx.respond(session).await;

    // Loaded and left as it was: nothing to write, so nothing to wait for.
    fx.advance(599);
    let mut session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
    let finished = session.finish_now().expect("a save with no store call finishes at once");
    assert!(finished.set_cookies().is_empty() && finished.was_accessed());

    // A write, or a refresh that is due, needs the store.
    let mut session = fx.request();
    session.insert("user_id", 8).await.unwrap();
    assert!(session.finish_now().is_none(), "a write awaits the store");
    fx.respond(session).await;
    fx.advance(600);
    let mut session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(8));
    assert!(session.finish_now().is_none(), "a due refresh awaits the store");
    fx.respond(session).await;
    assert_eq!(fx.expires_at().await, T0 + 1199 + 3600);
}

#[tokio::test]
async fn an_expired_record_is_no_session_and_its_id_is_never_reused() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    fx.respond(session).await;
    let old = fx.cookie("session").unwrap().to_owned();

    fx.advance(3600);
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), None);
    session.insert("user_id", 8).await.unwrap();
    fx.respond(session).await;
    let new = fx.cookie("session").unwrap().to_owned();
    assert_ne!(new, old, "a fresh id for new data");
    assert_eq!(fx.store.load(&format!("session:{old}")).await.unwrap(), None, "the expired record is deleted");
    assert_eq!(fx.store.len(), 1);
}

#[tokio::test]
async fn the_absolute_lifetime_ends_a_session_however_often_it_is_used() {
    let mut fx = Fixture::new(|s| s.with_absolute_lifetime(Duration::from_secs(5000)));
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    fx.respond(session).await;
    for _ in 0..8 {
        fx.advance(600);
        let session = fx.request();
        assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
        fx.respond(session).await;
    }
    fx.advance(600); // 5400 s after creation
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), None);
}

#[tokio::test]
async fn clear_deletes_the_record_and_expires_every_cookie() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.insert("csrf_token", "t").await.unwrap();
    fx.respond(session).await;
    assert_eq!(fx.jar.len(), 2);

    let session = fx.request();
    session.clear().await.unwrap();
    let set_cookies = fx.respond(session).await;
    assert_eq!(set_cookies.len(), 2);
    assert!(set_cookies.iter().all(|c| c.contains("Max-Age=0")), "{set_cookies:?}");
    assert!(fx.store.is_empty());
    assert!(fx.jar.is_empty());
}

#[tokio::test]
async fn regenerate_moves_the_data_to_a_new_id_and_deletes_the_old_record() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    fx.respond(session).await;
    let old = fx.cookie("session").unwrap().to_owned();

    fx.advance(10);
    let session = fx.request();
    session.regenerate().await.unwrap();
    fx.respond(session).await;
    let new = fx.cookie("session").unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(fx.store.load(&format!("session:{old}")).await.unwrap(), None);
    let record = fx.store.load(&format!("session:{new}")).await.unwrap().expect("the new record");
    assert_eq!(record.fields["user_id"], json!(7));
    assert_eq!(record.created_at, T0, "a login does not extend the absolute lifetime");
}

#[tokio::test]
async fn permanence_lengthens_the_record_and_the_cookie() {
    let mut fx = Fixture::new(|s| s.with_permanent_lifetime(Duration::from_secs(86_400)));
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.set_permanent("session", true).await.unwrap();
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies[0].contains("Max-Age=86400"), "{set_cookies:?}");
    let key = format!("session:{}", fx.cookie("session").unwrap());
    let record = fx.store.load(&key).await.unwrap().unwrap();
    assert!(record.permanent);
    assert_eq!(record.expires_at, T0 + 86_400);
    assert!(matches!(fx.request().set_permanent("nope", true).await, Err(Error::UnknownSession(_))));
}

#[tokio::test]
async fn cookie_sessions_from_the_future_or_past_their_lifetime_are_ignored() {
    let mut fx = Fixture::new(|s| s);
    fx.clock.set(T0 + 100);
    let session = fx.request();
    session.insert("csrf_token", "t").await.unwrap();
    fx.respond(session).await;

    fx.clock.set(T0); // the cookie now claims an issue time 100 s ahead
    assert_eq!(fx.request().get::<String>("csrf_token").await.unwrap(), None);
    fx.clock.set(T0 + 100 + 86_400); // the default one-day lifetime, exactly
    assert_eq!(fx.request().get::<String>("csrf_token").await.unwrap().as_deref(), Some("t"));
    fx.clock.set(T0 + 100 + 86_401);
    assert_eq!(fx.request().get::<String>("csrf_token").await.unwrap(), None);
}

#[tokio::test]
async fn malformed_ids_never_reach_the_store() {
    let mut fx = Fixture::new(|s| s);
    for bad in ["admin", "../x", "*", "session:admin"] {
        fx.jar = vec![("session".to_owned(), bad.to_owned())];
        let session = fx.request();
        assert_eq!(session.get::<u32>("user_id").await.unwrap(), None);
        session.insert("user_id", 1).await.unwrap();
        fx.respond(session).await;
        assert_ne!(fx.cookie("session"), Some(bad));
    }
    assert_eq!(fx.store.len(), 4, "each got a fresh record of its own");
}

#[tokio::test]
async fn a_store_that_fails_gives_the_configured_status() {
    let config = SessionConfig::new("session").with_type(SessionType::Custom);
    let routing = Routing::new(std::slice::from_ref(&config));
    let down = NamedSession { config, backend: Backend::Store(Arc::new(Down)), id_signer: None };
    let sessions = Arc::new(Sessions::new(vec![down], routing, Arc::new(ManualClock::new(T0))));
    let id = crate::session::Id::random().unwrap();
    let headers = HeaderMap::from_iter([(COOKIE, HeaderValue::from_str(&format!("session={}", id.as_str())).unwrap())]);
    let session = Session::new(sessions, Some(&headers));
    let error = session.get::<u32>("user_id").await.unwrap_err();
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    let failure = session.finalize().await.failure.expect("a failure");
    assert_eq!(failure.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// A store whose every call fails, as one that is down does.
#[derive(Debug)]
pub(crate) struct Down;
#[async_trait::async_trait]
impl SessionStore for Down {
    async fn load(&self, _: &str) -> crate::store::Result<Option<crate::store::Record>> {
        Err(crate::store::Error::Backend("down".into()))
    }
    async fn create(&self, _: &str, _: &crate::store::Record) -> crate::store::Result<bool> {
        Err(crate::store::Error::Backend("down".into()))
    }
    async fn update(&self, _: &str, _: &crate::store::Update) -> crate::store::Result<bool> {
        Err(crate::store::Error::Backend("down".into()))
    }
    async fn delete(&self, _: &str) -> crate::store::Result<bool> {
        Err(crate::store::Error::Backend("down".into()))
    }
    async fn purge_expired(&self, _: i64) -> crate::store::Result<u64> {
        Err(crate::store::Error::Backend("down".into()))
    }
    fn backend_name(&self) -> &'static str {
        "down"
    }
}

/// Issue 10, item 10: issue and creation times come from the client; no value of theirs may
/// overflow the arithmetic on them (a debug build would panic).
#[tokio::test]
async fn cookie_times_at_the_extremes_never_overflow() {
    let ring = KeyRing::new(vec![Key::derive(SECRET.as_bytes())]).unwrap();
    let codec = CookieCodec::signed(ring);
    for (issued_at, created_at) in [(i64::MIN, i64::MIN), (i64::MAX, i64::MAX), (i64::MIN, i64::MAX), (0, i64::MIN)] {
        let mut contents = crate::codec::CookieContents::new(0);
        contents.issued_at = issued_at;
        contents.created_at = created_at;
        contents.fields.insert("csrf_token".into(), json!("t"));
        let value = codec.encode("csrf", &contents).unwrap();
        let mut fx = Fixture::new(|s| s.with_absolute_lifetime(Duration::from_secs(60)));
        // Untouched (the refresh check peeks at the issue time), then read.
        fx.jar = vec![("csrf".to_owned(), value.clone())];
        let session = fx.request();
        fx.respond(session).await;
        fx.jar = vec![("csrf".to_owned(), value)];
        let session = fx.request();
        assert_eq!(session.get::<String>("csrf_token").await.unwrap(), None, "({issued_at}, {created_at})");
        fx.respond(session).await;
    }
}

/// Issue 10, item 7: an id cookie signed with an older key of the ring is signed again with the
/// newest, so that dropping the old key later logs nobody out.
#[tokio::test]
async fn signed_ids_under_an_older_key_are_signed_again_with_the_newest() {
    let store = Arc::new(MemoryStore::new());
    let old = Key::derive(b"the old key, at least thirty-two bytes long");
    let new = Key::derive(b"the new key, at least thirty-two bytes long");
    let build = |keys: Vec<Key>| {
        let config = SessionConfig::new("session").with_type(SessionType::Custom).with_signer(true);
        let routing = Routing::new(std::slice::from_ref(&config));
        let signer = crate::codec::IdSigner::Native(KeyRing::new(keys).unwrap());
        let backend = Backend::Store(store.clone() as Arc<dyn SessionStore>);
        let named = NamedSession { config, backend, id_signer: Some(signer) };
        Arc::new(Sessions::new(vec![named], routing, Arc::new(ManualClock::new(T0))))
    };
    let with_cookie = |sessions: &Arc<Sessions>, value: &str| {
        let headers = HeaderMap::from_iter([(COOKIE, HeaderValue::from_str(&format!("session={value}")).unwrap())]);
        Session::new(sessions.clone(), Some(&headers))
    };
    let value_of = |set_cookie: &str| set_cookie.split(';').next().unwrap().trim_start_matches("session=").to_owned();

    let session = Session::new(build(vec![old.clone()]), None);
    session.insert("user_id", 7).await.unwrap();
    let under_old = value_of(&session.finalize().await.set_cookies[0]);

    let rotated = build(vec![new.clone(), old]);
    let session = with_cookie(&rotated, &under_old);
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7), "the old key still verifies");
    let saved = session.finalize().await;
    assert_eq!(saved.failure, None);
    let set_cookies = saved.set_cookies;
    assert_eq!(set_cookies.len(), 1, "re-signed although nothing changed");
    let under_new = value_of(&set_cookies[0]);
    assert_ne!(under_new, under_old);
    assert_eq!(under_new.split('.').next(), under_old.split('.').next(), "the same id");

    let only_new = build(vec![new]);
    assert_eq!(with_cookie(&only_new, &under_new).get::<u32>("user_id").await.unwrap(), Some(7));
    assert_eq!(with_cookie(&only_new, &under_old).get::<u32>("user_id").await.unwrap(), None);
}

/// Issue 10, item 2: the user tag is session-plus's own field, and `set_user` checks its input.
#[tokio::test]
async fn the_user_tag_is_hidden_and_user_ids_are_checked() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    assert!(matches!(session.set_user("").await, Err(Error::InvalidUserId)));
    assert!(matches!(session.set_user(&"x".repeat(129)).await, Err(Error::InvalidUserId)));
    assert!(matches!(session.set_user("a\nb").await, Err(Error::InvalidUserId)));
    session.set_user("alice").await.unwrap();
    assert!(matches!(session.insert("_sp_user", 1).await, Err(Error::ReservedField(_))));
    assert_eq!(session.get_value("_sp_user").await.unwrap(), None);
    assert!(session.fields().await.unwrap().is_empty(), "the tag is not a field of the handler's");
    fx.respond(session).await;
    assert_eq!(fx.store.len(), 2, "the session and alice's record");

    // A configuration without a server session has nothing to tie.
    let ring = KeyRing::new(vec![Key::derive(SECRET.as_bytes())]).unwrap();
    let config = SessionConfig::new("csrf");
    let routing = Routing::new(std::slice::from_ref(&config));
    let cookie = NamedSession { config, backend: Backend::Cookie(CookieCodec::signed(ring)), id_signer: None };
    let sessions = Arc::new(Sessions::new(vec![cookie], routing, Arc::new(ManualClock::new(T0))));
    assert!(matches!(Session::new(sessions, None).set_user("alice").await, Err(Error::NoServerSession)));
}

/// Issue 10, item 3: a request that loaded the session and regenerates it while a logout of the
/// same session completes elsewhere must not bring the session back under a new id: the logout
/// wins, the regenerating response removes the cookie, and no record holds the data.
#[tokio::test]
async fn regenerate_after_a_concurrent_logout_resurrects_nothing() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    fx.respond(session).await;

    let regenerating = fx.request();
    assert_eq!(regenerating.get::<u32>("user_id").await.unwrap(), Some(7));
    regenerating.regenerate().await.unwrap();
    let logout = fx.request();
    logout.clear().await.unwrap();
    fx.respond(logout).await;
    assert!(fx.store.is_empty(), "the logout deleted the record");

    let set_cookies = fx.respond(regenerating).await;
    let id_cookie = set_cookies.iter().find(|c| c.starts_with("session="));
    assert!(id_cookie.is_none_or(|c| c.contains("Max-Age=0")), "no live id after a logout: {set_cookies:?}");
    assert!(fx.store.is_empty(), "the logged-out data came back under a new id");
}

/// Issue 10, item 4: a logout while the store of one session is down still expires the cookies
/// of every other session (and deletes their records); the response reports the failure.
#[tokio::test]
async fn a_logout_with_one_store_down_still_expires_the_other_cookies() {
    let account = Arc::new(FailingSaves::default());
    let mut fx = Fixture::with_account_store(account.clone());
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.insert("csrf_token", "t").await.unwrap();
    session.insert("account", "a").await.unwrap();
    fx.respond(session).await;
    assert_eq!(fx.jar.len(), 3);

    account.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let session = fx.request();
    session.clear().await.unwrap();
    let (set_cookies, failure) = fx.respond_even_failing(session).await;
    assert_eq!(failure, Some(StatusCode::INTERNAL_SERVER_ERROR), "the failure is reported");
    for name in ["csrf", "session"] {
        let cookie = set_cookies.iter().find(|c| c.starts_with(&format!("{name}=")));
        assert!(cookie.is_some_and(|c| c.contains("Max-Age=0")), "{name} is not expired: {set_cookies:?}");
    }
    assert!(fx.store.is_empty(), "the record of the store that works is deleted");
}

/// Issue 10, item 4: a regenerate where the save of one session fails runs no delete (every old
/// record stays), and the new record of the session that committed is not orphaned: its cookie
/// is sent with the failure.
#[tokio::test]
async fn a_regenerate_where_one_store_fails_keeps_the_old_records_and_orphans_nothing() {
    let account = Arc::new(FailingSaves::default());
    let mut fx = Fixture::with_account_store(account.clone());
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.insert("account", "a").await.unwrap();
    fx.respond(session).await;
    let old = fx.cookie("session").unwrap().to_owned();
    let old_account = fx.cookie("account").unwrap().to_owned();

    account.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let session = fx.request();
    session.regenerate().await.unwrap();
    let (set_cookies, failure) = fx.respond_even_failing(session).await;
    assert_eq!(failure, Some(StatusCode::INTERNAL_SERVER_ERROR), "the failure is reported");
    assert!(fx.store.load(&format!("session:{old}")).await.unwrap().is_some(), "no delete ran");
    assert!(account.inner.load(&format!("session:{old_account}")).await.unwrap().is_some());
    assert_eq!(account.inner.len(), 1, "the failed session wrote nothing");
    let new = fx.cookie("session").expect("the committed session's new id is sent").to_owned();
    assert_ne!(new, old, "{set_cookies:?}");
    assert_eq!(fx.store.load(&format!("session:{new}")).await.unwrap().unwrap().fields["user_id"], json!(7));
    assert_eq!(fx.store.len(), 2, "the old record and the one the cookie names: nothing else");
    assert_eq!(fx.cookie("account"), Some(old_account.as_str()), "the failed session keeps its cookie");
}

/// A memory store whose writes fail once `fail` is set (loads keep working): a store that goes
/// down between a request's load and its save.
#[derive(Debug, Default)]
pub(crate) struct FailingSaves {
    inner: MemoryStore,
    fail: std::sync::atomic::AtomicBool,
}

impl FailingSaves {
    fn check(&self) -> crate::store::Result<()> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::store::Error::Backend("down".into()));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SessionStore for FailingSaves {
    async fn load(&self, key: &str) -> crate::store::Result<Option<crate::store::Record>> {
        self.inner.load(key).await
    }
    async fn create(&self, key: &str, record: &crate::store::Record) -> crate::store::Result<bool> {
        self.check()?;
        self.inner.create(key, record).await
    }
    async fn update(&self, key: &str, update: &crate::store::Update) -> crate::store::Result<bool> {
        self.check()?;
        self.inner.update(key, update).await
    }
    async fn delete(&self, key: &str) -> crate::store::Result<bool> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: i64) -> crate::store::Result<u64> {
        self.inner.purge_expired(now).await
    }
    fn backend_name(&self) -> &'static str {
        "failing-saves"
    }
}

/// Logs a visitor of [`Fixture::bound`] in (a user in `session`, a count in `data`) and returns
/// the jar as it was then.
async fn log_in_with_a_bound_cookie(fx: &mut Fixture) -> Vec<(String, String)> {
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.insert("visits", 3).await.unwrap();
    session.insert("csrf_token", "t").await.unwrap();
    fx.respond(session).await;
    assert_eq!(fx.jar.len(), 3, "{:?}", fx.jar);
    assert_eq!(fx.request().get::<u32>("visits").await.unwrap(), Some(3));
    fx.jar.clone()
}

// Promise 10: replaying every cookie captured before a logout restores no field of a bound
// cookie session (an unbound one keeps the documented limit: see the next tests).
#[tokio::test]
async fn a_bound_cookie_replayed_after_logout_yields_nothing() {
    let mut fx = Fixture::bound();
    let captured = log_in_with_a_bound_cookie(&mut fx).await;

    let session = fx.request();
    session.clear().await.unwrap();
    fx.respond(session).await;
    assert!(fx.jar.is_empty());

    fx.jar = captured;
    let replayed = fx.request();
    assert_eq!(replayed.get::<u32>("visits").await.unwrap(), None, "the bound field is revoked");
    assert_eq!(replayed.get::<u32>("user_id").await.unwrap(), None);
    assert_eq!(replayed.get::<String>("csrf_token").await.unwrap().as_deref(), Some("t"), "unbound: still there");
    let set_cookies = fx.respond(replayed).await;
    assert!(set_cookies.iter().any(|c| c.starts_with("data=") && c.contains("Max-Age=0")), "{set_cookies:?}");
}

#[tokio::test]
async fn a_bound_cookie_replayed_after_regenerate_yields_nothing_and_the_new_one_works() {
    let mut fx = Fixture::bound();
    let captured = log_in_with_a_bound_cookie(&mut fx).await;

    fx.advance(10);
    let session = fx.request();
    session.regenerate().await.unwrap();
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies.iter().any(|c| c.starts_with("data=")), "re-sealed beside the new id: {set_cookies:?}");
    assert_eq!(fx.request().get::<u32>("visits").await.unwrap(), Some(3), "the new cookies carry the data");

    let current = fx.jar.clone();
    fx.jar = captured.clone();
    assert_eq!(fx.request().get::<u32>("visits").await.unwrap(), None, "the old cookies are revoked");
    // The old data cookie beside the new id cookie: sealed beside another id, so refused.
    fx.jar = current.iter().filter(|(name, _)| name != "data").cloned().collect();
    fx.jar.extend(captured.iter().filter(|(name, _)| name == "data").cloned());
    assert_eq!(fx.request().get::<u32>("visits").await.unwrap(), None);
}

#[tokio::test]
async fn a_bound_cookie_moved_beside_another_visitors_session_is_refused() {
    let mut alice = Fixture::bound();
    log_in_with_a_bound_cookie(&mut alice).await;
    let mut bob = Fixture { jar: Vec::new(), ..Fixture::bound() };
    bob.sessions = alice.sessions.clone();
    bob.store = alice.store.clone();
    let session = bob.request();
    session.insert("user_id", 8).await.unwrap();
    bob.respond(session).await;

    // Bob presents Alice's data cookie beside his own live session.
    bob.jar.extend(alice.jar.iter().filter(|(name, _)| name == "data").cloned());
    let session = bob.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(8));
    assert_eq!(session.get::<u32>("visits").await.unwrap(), None);
}

#[tokio::test]
async fn a_bound_field_keeps_its_server_record_alive_and_dies_with_it() {
    let mut fx = Fixture::bound();
    // Only a bound field: the server session gets an empty record to be bound to.
    let session = fx.request();
    session.insert("visits", 1).await.unwrap();
    fx.respond(session).await;
    assert!(fx.cookie("session").is_some() && fx.cookie("data").is_some(), "{:?}", fx.jar);
    let key = format!("session:{}", fx.cookie("session").unwrap());
    assert!(fx.store.load(&key).await.unwrap().expect("an anchor record").fields.is_empty());
    assert_eq!(fx.request().get::<u32>("visits").await.unwrap(), Some(1));

    // Removing the server session's last field does not drop the record while `data` holds one.
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    fx.respond(session).await;
    let session = fx.request();
    session.remove::<u32>("user_id").await.unwrap();
    fx.respond(session).await;
    assert_eq!(fx.request().get::<u32>("visits").await.unwrap(), Some(1));

    // The record gone (expired, purged, deleted elsewhere): the bound fields go with it.
    assert!(fx.store.delete(&key).await.unwrap());
    let session = fx.request();
    assert_eq!(session.get::<u32>("visits").await.unwrap(), None);
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies.iter().any(|c| c.starts_with("data=") && c.contains("Max-Age=0")), "{set_cookies:?}");
}

#[tokio::test]
async fn a_bound_cookie_costs_nothing_on_requests_that_leave_the_server_session_alone() {
    let mut fx = Fixture::bound();
    log_in_with_a_bound_cookie(&mut fx).await;
    let data = fx.cookie("data").unwrap().to_owned();

    // Long past the cookie's refresh interval: a request that loads nothing leaves it alone.
    fx.advance(3000);
    let session = fx.request();
    assert_eq!(session.get::<String>("csrf_token").await.unwrap().as_deref(), Some("t"));
    let set_cookies = fx.respond(session).await;
    assert!(!set_cookies.iter().any(|c| c.starts_with("data=")), "{set_cookies:?}");

    // A request that loads the server session re-seals it (sliding) without reading it.
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies.iter().any(|c| c.starts_with("data=")), "{set_cookies:?}");
    assert_ne!(fx.cookie("data"), Some(data.as_str()));
    assert_eq!(fx.request().get::<u32>("visits").await.unwrap(), Some(3));
}

// An unbound cookie session cannot be revoked: it ends with its lifetime, and a native one ends
// 31 days after its creation however often it is refreshed, unless configured otherwise.
#[tokio::test]
async fn an_unbound_cookie_session_ends_at_its_default_absolute_lifetime() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("csrf_token", "t").await.unwrap();
    fx.respond(session).await;
    for _ in 0..30 {
        fx.advance(86_000);
        let session = fx.request();
        assert_eq!(session.get::<String>("csrf_token").await.unwrap().as_deref(), Some("t"));
        fx.respond(session).await;
    }
    fx.advance(86_000 + 31 * (86_400 - 86_000));
    assert_eq!(fx.request().get::<String>("csrf_token").await.unwrap(), None, "31 days after creation");
}
