//! session-plus with no web framework: the two calls any adapter makes, `SessionManager::start`
//! with a request's headers and `Session::finish` once its handler has answered, shown on two
//! requests without a socket. Run it with `cargo run -p session-plus --example no_framework`.

use http::header::{COOKIE, SET_COOKIE};
use http::HeaderMap;
use session_plus::{Config, SessionConfig, SessionManager, SessionType};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::new()
        .with_secret_key("a literal key for development only, at least 32 bytes")
        .with_session(SessionConfig::new("session").with_type(SessionType::Memory));
    let manager = SessionManager::new(config).await?;

    let mut browser = HeaderMap::new(); // the cookies a browser would send back
    for request in 1..=2 {
        let session = manager.start(&browser);
        let visits = session.get::<u64>("visits").await?.unwrap_or(0) + 1;
        session.insert("visits", visits).await?;

        let finished = session.finish().await;
        if let Some(status) = finished.error_status() {
            println!("request {request}: answer {status} instead (a store failed)");
        }
        let mut response = HeaderMap::new();
        finished.apply_to_headers(&mut response);
        println!("request {request}: visits = {visits}, response headers = {response:?}");
        for set_cookie in response.get_all(SET_COOKIE) {
            let pair = set_cookie.to_str()?.split(';').next().unwrap_or_default().to_owned();
            browser.insert(COOKIE, pair.parse()?);
        }
    }
    Ok(())
}
