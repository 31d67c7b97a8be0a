//! The middleware in process, through actix-web's test utilities (no socket); over TCP, the
//! integration tests run the shared end-to-end cases on it (`tests/it/frameworks.rs`).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{AsHeaderName, CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE, VARY};
use actix_web::{test, web, App, HttpResponse};
use tower::{service_fn, ServiceExt};
use tower_layer::Layer;

use super::SessionMiddleware;
use crate::config::{Config, SessionConfig, SessionType};
use crate::manager::SessionManager;
use crate::session::tests::Down;
use crate::session::{self, Id, Session};
use crate::store::{MemoryStore, SessionStore};

const SECRET: &str = "a literal key for development, at least 32 bytes long";

/// Runs `test` on actix-web's runtime, as `#[actix_web::test]` would.
fn run(test: impl Future<Output = ()>) {
    actix_web::rt::System::new().block_on(test);
}

/// `csrf` (a signed cookie, `csrf_token`) and `session` (on `store`, `visits` and `user_id`).
async fn manager(store: Arc<dyn SessionStore>) -> SessionManager {
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]))
        .with_session(SessionConfig::new("session").with_type(SessionType::Custom).with_fields(["visits", "user_id"]));
    let builder = SessionManager::builder(config).with_store("session", store);
    builder.without_purge_tasks().build().await.unwrap()
}

async fn count(session: Session) -> Result<String, session::Error> {
    let visits: u64 = session.get("visits").await?.unwrap_or(0) + 1;
    session.insert("visits", visits).await?;
    Ok(visits.to_string())
}

/// Sets the token, then reads `user_id`, ignoring the error a store that is down gives: the
/// middleware still reports it.
async fn tolerant(session: Session) -> &'static str {
    session.insert("csrf_token", "t").await.unwrap();
    let _ = session.get::<u64>("user_id").await;
    "handler output"
}

fn header<B>(response: &ServiceResponse<B>, name: impl AsHeaderName) -> Option<&str> {
    response.headers().get(name).map(|value| value.to_str().unwrap())
}

fn cookie_of<B>(response: &ServiceResponse<B>) -> String {
    header(response, SET_COOKIE).expect("a Set-Cookie").split(';').next().unwrap().to_owned()
}

#[test]
fn an_untouched_session_adds_no_header_and_a_changed_one_reads_back() {
    run(async {
        let app = App::new()
            .wrap(SessionMiddleware::new(manager(Arc::new(MemoryStore::new())).await))
            .route("/count", web::get().to(count))
            .route("/nothing", web::get().to(|| async { "nothing" }));
        let app = test::init_service(app).await;
        let untouched = test::call_service(&app, test::TestRequest::get().uri("/nothing").to_request()).await;
        assert_eq!(untouched.status(), 200);
        assert!(untouched.headers().get(SET_COOKIE).is_none());
        assert!(untouched.headers().get(VARY).is_none());

        let first = test::call_service(&app, test::TestRequest::get().uri("/count").to_request()).await;
        assert_eq!((header(&first, VARY), header(&first, CACHE_CONTROL)), (Some("Cookie"), Some("private")));
        let cookie = cookie_of(&first);
        assert!(cookie.starts_with("session="), "{cookie}");
        assert_eq!(test::read_body(first).await, "1");
        let again = test::TestRequest::get().uri("/count").insert_header((COOKIE, cookie)).to_request();
        assert_eq!(test::read_body(test::call_service(&app, again).await).await, "2");
    });
}

/// The handler's own cookies stay, and its cache headers are merged as the tower layer merges
/// them (`cookies::add_to_response`).
#[test]
fn the_handlers_own_headers_are_kept_and_merged() {
    run(async {
        let handler = |session: Session| async move {
            session.insert("csrf_token", "t").await?;
            let response = HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "public, max-age=60"))
                .insert_header((VARY, "Accept-Encoding"))
                .insert_header((SET_COOKIE, "theirs=1; Path=/"))
                .finish();
            Ok::<_, session::Error>(response)
        };
        let app = App::new()
            .wrap(SessionMiddleware::new(manager(Arc::new(MemoryStore::new())).await))
            .route("/", web::get().to(handler));
        let app = test::init_service(app).await;
        let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        let all = |name| response.headers().get_all(name).map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
        let cookies = all(SET_COOKIE);
        assert_eq!(cookies.len(), 2, "{cookies:?}");
        assert!(cookies[0].starts_with("theirs=1") && cookies[1].starts_with("csrf="), "{cookies:?}");
        assert_eq!(all(CACHE_CONTROL), ["private, max-age=60"], "no shared cache keeps a session cookie");
        assert_eq!(all(VARY), ["Accept-Encoding", "Cookie"]);
    });
}

#[test]
fn a_handler_that_keeps_a_clone_still_gets_its_cookie() {
    run(async {
        let keeps_a_clone = |session: Session| async move {
            session.insert("csrf_token", "t").await?;
            // A clone outlives the handler: the save cannot take the lock-free path.
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                drop(session)
            });
            Ok::<_, session::Error>("kept")
        };
        let app = App::new()
            .wrap(SessionMiddleware::new(manager(Arc::new(MemoryStore::new())).await))
            .route("/", web::get().to(keeps_a_clone));
        let app = test::init_service(app).await;
        let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert!(cookie_of(&response).starts_with("csrf="));
    });
}

/// A store that fails gives, on actix-web, exactly the response the tower layer gives.
#[test]
fn a_failed_store_gives_the_tower_layers_response() {
    run(async {
        let manager = manager(Arc::new(Down)).await;
        let id = Id::random().unwrap();
        let cookie = format!("session={}", id.as_str());

        let app = test::init_service(
            App::new().wrap(SessionMiddleware::new(manager.clone())).route("/", web::get().to(tolerant)),
        )
        .await;
        let request = test::TestRequest::get().uri("/").insert_header((COOKIE, cookie.as_str())).to_request();
        let actix = test::call_service(&app, request).await;

        let tower_handler = service_fn(|request: http::Request<String>| async move {
            let session = request.extensions().get::<Session>().unwrap().clone();
            Ok::<_, Infallible>(http::Response::new(tolerant(session).await.to_owned()))
        });
        let request = http::Request::get("/").header(http::header::COOKIE, &cookie).body(String::new()).unwrap();
        let tower = manager.layer().layer(tower_handler).oneshot(request).await.unwrap();

        assert_eq!(actix.status().as_u16(), tower.status().as_u16());
        assert_eq!(tower.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        for name in ["content-type", "cache-control", "vary"] {
            assert_eq!(header(&actix, name), tower.headers().get(name).map(|v| v.to_str().unwrap()), "{name}");
        }
        let cookie_names = |values: Vec<&str>| values.iter().map(|c| c.split('=').next().unwrap().to_owned()).collect();
        let actix_cookies: Vec<String> =
            cookie_names(actix.headers().get_all(SET_COOKIE).map(|v| v.to_str().unwrap()).collect());
        let tower_cookies: Vec<String> =
            cookie_names(tower.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect());
        assert_eq!(actix_cookies, tower_cookies);
        assert_eq!(actix_cookies, ["csrf"], "the session that committed keeps its cookie");
        let body = test::read_body(actix).await;
        assert_eq!(body, tower.body().as_str());
        assert_eq!(body, "503 Service Unavailable");
    });
}

#[test]
fn session_errors_and_a_missing_middleware_are_500s_that_reveal_nothing_or_name_the_fix() {
    run(async {
        let unowned = |session: Session| async move {
            session.insert("secret-field-name", "secret value").await?;
            Ok::<_, session::Error>("unreachable")
        };
        let config =
            Config::new().with_secret_key(SECRET).with_session(SessionConfig::new("csrf").with_fields(["csrf_token"]));
        let manager = SessionManager::new(config).await.unwrap();
        let app = App::new()
            .service(web::scope("/with").wrap(SessionMiddleware::new(manager)).route("", web::get().to(unowned)))
            .route("/without", web::get().to(count));
        let app = test::init_service(app).await;

        let response = app.call(test::TestRequest::get().uri("/with").to_request()).await.unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(header(&response, CONTENT_TYPE), Some("text/plain; charset=utf-8"));
        assert_eq!(test::read_body(response).await, "500 Internal Server Error");

        let response = app.call(test::TestRequest::get().uri("/without").to_request()).await.unwrap();
        assert_eq!(response.status(), 500);
        let body = test::read_body(response).await;
        assert!(std::str::from_utf8(&body).unwrap().contains("is SessionMiddleware installed"), "{body:?}");
    });
}
