//! The request path: arbitrary bytes as one or more `Cookie` header values (split at newlines)
//! reach `SessionManager::session_for_cookies` of a manager with a signed cookie session, an
//! encrypted cookie session and a memory-store session with signed ids; then the session's fields
//! are read. Nothing may panic, and a session read twice gives the same fields.
#![no_main]

use std::sync::OnceLock;

use http::{header::COOKIE, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use session_plus::{Config, SessionConfig, SessionManager, SessionType};
use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"))
}

fn manager() -> &'static SessionManager {
    static MANAGER: OnceLock<SessionManager> = OnceLock::new();
    MANAGER.get_or_init(|| {
        let config = Config::new()
            .with_secret_key(session_plus_fuzz::SECRET)
            .with_secret_key(session_plus_fuzz::OLD_SECRET)
            .with_session(SessionConfig::new("sig").with_fields(["csrf_token", "theme"]))
            .with_session(SessionConfig::new("enc").with_encryption(true).with_fields(["user_id"]))
            .with_session(SessionConfig::new("mem").with_type(SessionType::Memory).with_signer(true));
        runtime()
            .block_on(SessionManager::builder(config).without_purge_tasks().build())
            .expect("the fuzzing manager builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(COOKIE, value);
        }
    }
    let manager = manager();
    let session = manager.session_for_cookies(Some(&headers));
    runtime().block_on(async {
        let first = session.fields().await;
        for field in ["csrf_token", "theme", "user_id", "cart", "_permanent"] {
            let _ = session.get_value(field).await;
        }
        let _ = session.is_permanent("sig").await;
        let _ = session.is_permanent("enc").await;
        let _ = session.is_permanent("mem").await;
        let second = session.fields().await;
        if let (Ok(first), Ok(second)) = (first, second) {
            assert_eq!(first, second, "reading a session changed it");
        }
    });
});
