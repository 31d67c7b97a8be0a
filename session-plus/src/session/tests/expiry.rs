//! Ids and expiry per named session (`Session::id`, `expiry`, `set_expiry`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Fixture, T0};
use crate::session::{Error, Expiry};

fn at(unix: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).expect("after 1970"))
}

#[tokio::test]
async fn an_idle_lifetime_set_on_one_session_holds_on_later_requests_then_ends_it() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.set_expiry("session", Some(Expiry::OnInactivity(Duration::from_secs(120)))).await.unwrap();
    assert_eq!(session.expiry("session").await.unwrap(), Some(at(T0 + 120)));
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies[0].contains("Max-Age=120"), "a persistent cookie as long: {set_cookies:?}");
    assert_eq!(fx.expires_at().await, T0 + 120, "the record ends with it, not after the configured hour");

    // Used again after 100 s: the 120 s slide from now (refreshed every 12 s), on a later request too.
    fx.advance(100);
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
    assert_eq!(session.expiry("session").await.unwrap(), Some(at(T0 + 100 + 120)));
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies[0].contains("Max-Age=120"), "{set_cookies:?}");
    assert_eq!(fx.expires_at().await, T0 + 220);

    // Unused for 120 s: over, though the configured lifetime is an hour.
    fx.advance(120);
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), None);
    assert_eq!(session.expiry("session").await.unwrap(), None);
}

#[tokio::test]
async fn an_instant_set_on_a_cookie_session_ends_it_however_often_it_is_used() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("csrf_token", "t").await.unwrap();
    session.set_expiry("csrf", Some(Expiry::AtDateTime(at(T0 + 1000)))).await.unwrap();
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies[0].contains("Max-Age=1000"), "{set_cookies:?}");
    for _ in 0..3 {
        fx.advance(300);
        let session = fx.request();
        assert_eq!(session.get::<String>("csrf_token").await.unwrap().as_deref(), Some("t"));
        assert_eq!(session.expiry("csrf").await.unwrap(), Some(at(T0 + 1000)), "the instant caps the slide");
        fx.respond(session).await;
    }
    fx.advance(100); // T0 + 1000
    let session = fx.request();
    assert_eq!(session.get::<String>("csrf_token").await.unwrap(), None);
}

#[tokio::test]
async fn an_instant_caps_a_record_and_a_past_one_ends_the_session_now() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.set_expiry("session", Some(Expiry::AtDateTime(at(T0 + 900)))).await.unwrap();
    fx.respond(session).await;
    assert_eq!(fx.expires_at().await, T0 + 900);

    // A refresh never moves a capped expiry: reads write nothing.
    fx.advance(700);
    let session = fx.request();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), Some(7));
    assert!(fx.respond(session).await.is_empty());

    let session = fx.request();
    session.set_expiry("session", Some(Expiry::AtDateTime(at(T0)))).await.unwrap();
    assert_eq!(session.get::<u32>("user_id").await.unwrap(), None, "ended now");
    let set_cookies = fx.respond(session).await;
    assert!(set_cookies[0].contains("Max-Age=0"), "{set_cookies:?}");
    assert!(fx.store.is_empty());
}

#[tokio::test]
async fn the_set_expiry_is_hidden_reserved_and_can_be_removed() {
    let mut fx = Fixture::new(|s| s);
    let session = fx.request();
    session.insert("user_id", 7).await.unwrap();
    session.set_expiry("session", Some(Expiry::OnInactivity(Duration::from_secs(60)))).await.unwrap();
    assert_eq!(session.fields().await.unwrap().keys().collect::<Vec<_>>(), ["user_id"]);
    assert_eq!(session.get_value("_sp_expiry").await.unwrap(), None);
    assert!(matches!(session.insert("_sp_expiry", 1).await, Err(Error::ReservedField(_))));
    fx.respond(session).await;

    // Back to the configured hour.
    let session = fx.request();
    session.set_expiry("session", None).await.unwrap();
    assert_eq!(session.expiry("session").await.unwrap(), Some(at(T0 + 3600)));
    fx.respond(session).await;
    assert_eq!(fx.expires_at().await, T0 + 3600);

    // A session that holds nothing but its expiry holds nothing: no record, no cookie.
    let session = fx.request();
    session.remove_value("user_id").await.unwrap();
    session.set_expiry("session", Some(Expiry::OnInactivity(Duration::from_secs(60)))).await.unwrap();
    assert_eq!(session.expiry("session").await.unwrap(), None);
    fx.respond(session).await;
    assert!(fx.store.is_empty());
    assert!(matches!(fx.request().expiry("nope").await, Err(Error::UnknownSession(_))));
}

#[tokio::test]
async fn id_and_expiry_report_what_the_response_leaves() {
    let mut fx = Fixture::new(|s| s.with_absolute_lifetime(Duration::from_secs(4000)));
    let session = fx.request();
    assert_eq!(session.id("session").await.unwrap(), None);
    session.insert("user_id", 7).await.unwrap();
    assert_eq!(session.id("csrf").await.unwrap(), None, "a cookie session has no id");
    fx.respond(session).await;

    fx.advance(300); // within the 600 s refresh interval: the stored expiry stands
    let session = fx.request();
    assert_eq!(session.id("session").await.unwrap().unwrap().as_str(), fx.cookie("session").unwrap());
    assert_eq!(session.expiry("session").await.unwrap(), Some(at(T0 + 3600)));
    fx.respond(session).await;

    fx.advance(300); // refresh due: the save slides it, up to the absolute lifetime
    let session = fx.request();
    assert_eq!(session.expiry("session").await.unwrap(), Some(at(T0 + 4000)));
    fx.respond(session).await;
    assert_eq!(fx.expires_at().await, T0 + 600 + 3600);
}
