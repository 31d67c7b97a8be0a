//! TLS to every server store, against local servers started with TLS on by
//! `scripts/services.sh`'s `ensure_tls_servers` (certificates in `SESSION_PLUS_TLS_DIR`): with the
//! right CA a session makes a round trip over HTTP; with the wrong CA `SessionManager::new` fails
//! with an error that names the session and says the certificate was not trusted.
//!
//! Servers: `SESSION_PLUS_TLS_REDIS_URL`, `SESSION_PLUS_TLS_REDIS_CLUSTER_URL`,
//! `SESSION_PLUS_TLS_POSTGRES_PORT`, `SESSION_PLUS_TLS_MYSQL_URL`, `SESSION_PLUS_TLS_MONGODB_URL`
//! (defaults: the ports `ensure_tls_servers` uses). `SESSION_PLUS_TLS_DIR` has no default: the
//! tests fail, saying how to start the servers, when it is unset.
#![cfg(any(feature = "store-redis", feature = "store-postgres", feature = "store-mysql", feature = "store-mongodb"))]

use serde_json::json;
use session_plus::{BuildError, Config, SessionConfig, SessionManager, SessionType};

use crate::common::{serve, Client, SECRET};

/// `ca.pem` (signed the servers' certificate) or `wrong-ca.pem` (an unrelated CA).
fn ca(name: &str) -> String {
    let dir = std::env::var("SESSION_PLUS_TLS_DIR").expect(
        "SESSION_PLUS_TLS_DIR is unset: the TLS tests need the servers of scripts/services.sh's ensure_tls_servers \
         (run scripts/test.sh, or `source scripts/services.sh; ensure_tls_servers` and export its variables)",
    );
    format!("{dir}/{name}")
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn config(session_type: SessionType, url: &str, ca_file: Option<&str>) -> Config {
    let mut session = SessionConfig::new("tls_session").with_type(session_type).with_url(url);
    if let Some(ca_file) = ca_file {
        session = session.with_tls_ca_file(ca_file);
    }
    Config::new().with_secret_key(SECRET).with_session(session)
}

/// Builds a manager over TLS and sets then reads a field over HTTP, in a new session.
async fn round_trip(session_type: SessionType, url: &str, ca_file: Option<&str>) {
    let manager = SessionManager::new(config(session_type, url, ca_file))
        .await
        .unwrap_or_else(|e| panic!("{session_type} over TLS ({url}): {e}"));
    let mut client = Client::new(serve(&manager).await);
    assert_eq!(client.post("/set/user_id", "42").await.status, 200);
    assert!(client.cookie("tls_session").is_some());
    assert_eq!(client.get("/get/user_id").await.json(), json!(42));
}

/// `SessionManager::new` fails with a TLS error that names the session, the store, and the
/// certificate's refusal; the returned text.
async fn refused(session_type: SessionType, url: &str, ca_file: Option<&str>) -> String {
    let error = SessionManager::new(config(session_type, url, ca_file))
        .await
        .err()
        .unwrap_or_else(|| panic!("{session_type} ({url}) with CA {ca_file:?} was accepted"));
    let text = error.to_string();
    assert!(
        matches!(&error, BuildError::Tls { session, store, .. } if session == "tls_session" && *store == session_type),
        "{error:?}"
    );
    assert!(text.contains("session `tls_session`") && text.contains("not trusted"), "{text}");
    text
}

fn assert_unknown_issuer(text: &str) {
    assert!(text.contains("UnknownIssuer") || text.contains("unknown issuer"), "{text}");
}

#[cfg(feature = "store-redis")]
mod redis {
    use super::*;

    fn url() -> String {
        env_or("SESSION_PLUS_TLS_REDIS_URL", "rediss://localhost:6390/0")
    }

    fn cluster_url() -> String {
        env_or("SESSION_PLUS_TLS_REDIS_CLUSTER_URL", "rediss+cluster://localhost:7201,localhost:7202,localhost:7203")
    }

    #[tokio::test]
    async fn right_ca_round_trip() {
        round_trip(SessionType::Redis, &url(), Some(&ca("ca.pem"))).await;
        round_trip(SessionType::Redis, &url().replace("localhost", "127.0.0.1"), Some(&ca("ca.pem"))).await;
    }

    #[tokio::test]
    async fn wrong_ca_refused() {
        assert_unknown_issuer(&refused(SessionType::Redis, &url(), Some(&ca("wrong-ca.pem"))).await);
    }

    #[tokio::test]
    async fn system_roots_refuse_a_private_ca() {
        assert_unknown_issuer(&refused(SessionType::Redis, &url(), None).await);
    }

    #[tokio::test]
    async fn cluster_right_ca_round_trip() {
        round_trip(SessionType::Redis, &cluster_url(), Some(&ca("ca.pem"))).await;
    }

    #[tokio::test]
    async fn cluster_wrong_ca_refused() {
        assert_unknown_issuer(&refused(SessionType::Redis, &cluster_url(), Some(&ca("wrong-ca.pem"))).await);
    }

    #[tokio::test]
    async fn the_error_shows_no_password() {
        let url = url().replace("rediss://", "rediss://:s3cret@");
        let text = refused(SessionType::Redis, &url, Some(&ca("wrong-ca.pem"))).await;
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[tokio::test]
    async fn a_ca_file_without_tls_in_the_url_is_refused() {
        let plain = url().replace("rediss://", "redis://");
        let error = SessionManager::new(config(SessionType::Redis, &plain, Some(&ca("ca.pem")))).await.unwrap_err();
        assert!(error.to_string().contains("does not ask for TLS"), "{error}");
    }
}

#[cfg(feature = "store-postgres")]
mod postgres {
    use super::*;

    fn url(host: &str, mode: &str) -> String {
        let port = env_or("SESSION_PLUS_TLS_POSTGRES_PORT", "5433");
        format!("postgres://postgres@{host}:{port}/test?sslmode={mode}&application_name=session_plus_tls_{mode}")
    }

    #[tokio::test]
    async fn verify_full_right_ca_round_trip() {
        round_trip(SessionType::Postgres, &url("localhost", "verify-full"), Some(&ca("ca.pem"))).await;
        round_trip(SessionType::Postgres, &url("127.0.0.1", "verify-full"), Some(&ca("ca.pem"))).await;
    }

    #[tokio::test]
    async fn verify_full_wrong_ca_refused() {
        assert_unknown_issuer(
            &refused(SessionType::Postgres, &url("localhost", "verify-full"), Some(&ca("wrong-ca.pem"))).await,
        );
    }

    /// The URL's own `sslrootcert` still works without `tls_ca_file`.
    #[tokio::test]
    async fn sslrootcert_in_the_url_works() {
        let url = format!("{}&sslrootcert={}", url("localhost", "verify-full"), ca("ca.pem"));
        round_trip(SessionType::Postgres, &url, None).await;
    }

    #[tokio::test]
    async fn the_error_shows_no_password() {
        let url = url("localhost", "verify-full").replace("postgres@", "postgres:s3cret@");
        let text = refused(SessionType::Postgres, &url, Some(&ca("wrong-ca.pem"))).await;
        assert!(!text.contains("s3cret"), "{text}");
    }

    /// With a CA file, `require` verifies the chain (as libpq does): the wrong CA is refused.
    #[tokio::test]
    async fn require_with_wrong_ca_refused() {
        refused(SessionType::Postgres, &url("localhost", "require"), Some(&ca("wrong-ca.pem"))).await;
    }

    /// `require` without a CA file encrypts without verifying: the connection works, and the
    /// server sees it encrypted.
    #[tokio::test]
    async fn require_without_ca_encrypts() {
        round_trip(SessionType::Postgres, &url("localhost", "require"), None).await;
        let port = env_or("SESSION_PLUS_TLS_POSTGRES_PORT", "5433");
        let pool =
            sqlx::PgPool::connect(&format!("postgres://postgres@127.0.0.1:{port}/test?sslmode=disable")).await.unwrap();
        let (encrypted, plain): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'session_plus_tls_require'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(encrypted >= 1 && plain == 0, "encrypted {encrypted}, plain {plain}");
    }

    /// The certificate names 127.0.0.1 and localhost, not 127.0.0.2 (where the server listens
    /// too): `verify-full` refuses that host and accepts both named ones (see
    /// `verify_full_right_ca_round_trip`). (`verify-ca` should accept 127.0.0.2, but sqlx 0.8's
    /// rustls verifier only recognises the older rustls error for a wrong name, so it refuses it
    /// too: not asserted here, as a fix upstream would change it.)
    #[tokio::test]
    async fn verify_full_checks_the_host_name() {
        let text = refused(SessionType::Postgres, &url("127.0.0.2", "verify-full"), Some(&ca("ca.pem"))).await;
        assert!(text.contains("not valid for name \"127.0.0.2\""), "{text}");
    }
}

#[cfg(feature = "store-mysql")]
mod mysql {
    use super::*;

    fn url(mode: &str) -> String {
        format!("{}?ssl-mode={mode}", env_or("SESSION_PLUS_TLS_MYSQL_URL", "mysql://root@localhost:3307/test"))
    }

    #[tokio::test]
    async fn verify_identity_right_ca_round_trip() {
        round_trip(SessionType::Mysql, &url("VERIFY_IDENTITY"), Some(&ca("ca.pem"))).await;
    }

    #[tokio::test]
    async fn verify_identity_wrong_ca_refused() {
        assert_unknown_issuer(&refused(SessionType::Mysql, &url("VERIFY_IDENTITY"), Some(&ca("wrong-ca.pem"))).await);
    }

    #[tokio::test]
    async fn required_with_wrong_ca_refused() {
        refused(SessionType::Mysql, &url("REQUIRED"), Some(&ca("wrong-ca.pem"))).await;
    }

    /// `ssl-mode=REQUIRED` to a server without TLS (the plain test server) fails at start-up as TLS.
    #[tokio::test]
    async fn a_server_without_tls_is_refused() {
        let plain = env_or("SESSION_PLUS_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
        let error = SessionManager::new(config(SessionType::Mysql, &format!("{plain}?ssl-mode=REQUIRED"), None))
            .await
            .unwrap_err();
        assert!(matches!(error, BuildError::Tls { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn required_without_ca_works() {
        round_trip(SessionType::Mysql, &url("REQUIRED"), None).await;
    }
}

#[cfg(feature = "store-mongodb")]
mod mongodb {
    use super::*;

    fn url() -> String {
        env_or(
            "SESSION_PLUS_TLS_MONGODB_URL",
            "mongodb://localhost:27019/session_plus_tls?directConnection=true&tls=true",
        )
    }

    #[tokio::test]
    async fn right_ca_round_trip() {
        round_trip(SessionType::Mongodb, &url(), Some(&ca("ca.pem"))).await;
    }

    /// The URL's own `tlsCAFile` still works without `tls_ca_file`.
    #[tokio::test]
    async fn tls_ca_file_in_the_url_works() {
        round_trip(SessionType::Mongodb, &format!("{}&tlsCAFile={}", url(), ca("ca.pem")), None).await;
    }

    #[tokio::test]
    async fn wrong_ca_refused() {
        let url = format!("{}&serverSelectionTimeoutMS=1500", url());
        assert_unknown_issuer(&refused(SessionType::Mongodb, &url, Some(&ca("wrong-ca.pem"))).await);
    }
}

#[tokio::test]
async fn an_unreadable_ca_file_is_a_configuration_error() {
    let config = config(
        SessionType::Postgres,
        "postgres://postgres@localhost:5433/test?sslmode=verify-full",
        Some("/nonexistent/ca.pem"),
    );
    match SessionManager::new(config).await {
        Err(BuildError::Config(error)) => {
            assert_eq!(error.key(), Some("tls_ca_file"), "{error}");
            assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}
