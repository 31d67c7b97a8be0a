//! The actix-web twin of the axum test app: the same routes (`super::routes`), each doing what
//! the shared handler of its name does, served over real TCP.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use session_plus::adapter::actix::SessionMiddleware;
use session_plus::{Session, SessionManager};

use super::Gate;

/// The routes of `super::routes`, on actix-web.
pub fn routes(app: &mut web::ServiceConfig) {
    app.route(
        "/get/{field}",
        web::get().to(|session: Session, field: web::Path<String>| async move {
            super::get_field(session, field.into_inner()).await.map(web::Json)
        }),
    )
    .route(
        "/set/{field}",
        web::post().to(|session: Session, field: web::Path<String>, body: String| {
            super::set_field(session, field.into_inner(), body)
        }),
    )
    .route(
        "/remove/{field}",
        web::post().to(|session: Session, field: web::Path<String>| async move {
            super::remove_field(session, field.into_inner()).await.map(web::Json)
        }),
    )
    .route(
        "/incr/{field}",
        web::post().to(|session: Session, field: web::Path<String>| async move {
            super::increment(session, field.into_inner()).await.map(web::Json)
        }),
    )
    .route("/clear", web::post().to(super::clear))
    .route("/regenerate", web::post().to(super::regenerate))
    .route(
        "/login/{user}",
        web::post().to(|session: Session, user: web::Path<String>| super::login(session, user.into_inner())),
    )
    .route(
        "/permanent/{name}/{on}",
        web::post().to(|session: Session, path: web::Path<(String, bool)>| {
            let (name, on) = path.into_inner();
            super::permanent(session, name, on)
        }),
    )
    .route("/fields", web::get().to(|session: Session| async move { super::fields(session).await.map(web::Json) }))
    .route("/nothing", web::get().to(|| async { "nothing" }));
}

/// Serves `manager` with the test routes (and `POST /held/{action}` when given a gate) on an
/// ephemeral loopback port: an `HttpServer` with one worker, on a thread of its own with its own
/// actix System. It stops when the test's runtime ends.
pub async fn serve(manager: &SessionManager, held: Option<Gate>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let manager = manager.clone();
    let (handle_sender, handle) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = move || {
                let mut app = App::new().wrap(SessionMiddleware::new(manager.clone())).configure(routes);
                if let Some(gate) = held.clone() {
                    let held = move |session: Session, action: web::Path<String>| {
                        super::held(session, action.into_inner(), gate.clone())
                    };
                    app = app.route("/held/{action}", web::post().to(held));
                }
                app
            };
            let server =
                HttpServer::new(app).workers(1).disable_signals().shutdown_timeout(0).listen(listener).unwrap().run();
            let _ = handle_sender.send(server.handle());
            server.await.unwrap();
        })
    });
    let handle = handle.await.expect("the actix-web server starts");
    // The test's runtime drops this task when the test ends, and the guard stops the server.
    tokio::spawn(async move {
        let _stop = StopOnDrop(handle);
        std::future::pending::<()>().await
    });
    addr
}

struct StopOnDrop(ServerHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // The command is sent at once; the returned future would only wait for the stop.
        drop(self.0.stop(false));
    }
}
