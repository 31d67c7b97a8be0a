//! Observability (issue 14, item 6): a span for each load and save, with the session, backend,
//! outcome and duration and never an id or a value; with the `metrics` feature, the counters and
//! histograms exported to Prometheus and scraped over HTTP.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_plus::clock::ManualClock;
use session_plus::store::{self, MemoryStore, Record, SessionStore, Update};
use session_plus::{Config, FieldSelector, SessionConfig, SessionManager, SessionType};

use crate::common::{capture_logs, captured_logs, serve, Client, Probe, SECRET};

/// A memory store under a backend name of its own, so this binary's other tests never add to the
/// figures checked here.
#[derive(Debug)]
struct Named(MemoryStore, &'static str);

#[async_trait]
impl SessionStore for Named {
    async fn load(&self, key: &str) -> store::Result<Option<Record>> {
        self.0.load(key).await
    }
    async fn create(&self, key: &str, record: &Record) -> store::Result<bool> {
        self.0.create(key, record).await
    }
    async fn update(&self, key: &str, update: &Update) -> store::Result<bool> {
        self.0.update(key, update).await
    }
    async fn delete(&self, key: &str) -> store::Result<bool> {
        self.0.delete(key).await
    }
    async fn purge_expired(&self, now: i64) -> store::Result<u64> {
        self.0.purge_expired(now).await
    }
    fn backend_name(&self) -> &'static str {
        self.1
    }
}

/// `<prefix>_csrf` (a cookie, `csrf_token`) and `<prefix>_session` (the probed store, the rest).
async fn manager(prefix: &str, probe: Arc<Probe>, clock: &ManualClock) -> SessionManager {
    let config = Config::new()
        .with_secret_key(SECRET)
        .with_session(SessionConfig::new(format!("{prefix}_csrf")).with_fields(["csrf_token"]))
        .with_session(
            SessionConfig::new(format!("{prefix}_session"))
                .with_type(SessionType::Custom)
                .with_field_selector(FieldSelector::Auto)
                .with_lifetime(Duration::from_secs(3600)),
        );
    SessionManager::builder(config)
        .with_store(format!("{prefix}_session"), probe)
        .with_clock(clock.clone())
        .without_purge_tasks()
        .build()
        .await
        .unwrap()
}

/// Four requests: a write to the store session, a write to the cookie, a read, a read with the
/// store down. Returns the client.
async fn four_requests(manager: &SessionManager, probe: &Probe) -> Client {
    let mut client = Client::new(serve(manager).await);
    assert_eq!(client.post("/set/user_id", "\"value-of-user-7f3a\"").await.status, 200);
    assert_eq!(client.post("/set/csrf_token", "\"value-of-csrf-91bc\"").await.status, 200);
    assert_eq!(client.get("/get/user_id").await.status, 200);
    probe.fail_load.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(client.get("/get/user_id").await.status, 503);
    probe.fail_load.store(false, std::sync::atomic::Ordering::SeqCst);
    client
}

#[tokio::test]
async fn loads_and_saves_are_spans_with_outcome_and_duration_but_no_id_or_value() {
    capture_logs();
    let clock = ManualClock::new(session_plus::clock::Clock::now(&session_plus::clock::SystemClock));
    let probe = Probe::new(Arc::new(Named(MemoryStore::new(), "spans-memory")));
    let manager = manager("spans", probe.clone(), &clock).await;
    let client = four_requests(&manager, &probe).await;

    let logs = captured_logs();
    let spans = |name: &str, session: &str, outcome: &str| {
        logs.lines()
            .filter(|line| line.contains(&format!("{name}{{")) && line.contains(session))
            .filter(|line| {
                line.contains(&format!("outcome=\"{outcome}\"")) || line.contains(&format!("outcome={outcome}"))
            })
            .filter(|line| line.contains("duration_us=") && line.contains(" close"))
            .count()
    };
    assert_eq!(spans("session_plus.load", "spans_session", "ok"), 2, "{logs}");
    assert_eq!(spans("session_plus.load", "spans_session", "error"), 1, "{logs}");
    // A save is a write: the read that changed nothing (and needed no refresh) saved nothing.
    assert_eq!(spans("session_plus.save", "spans_session", "ok"), 1, "{logs}");
    assert_eq!(spans("session_plus.save", "spans_csrf", "ok"), 1, "{logs}");
    let skipped = logs.lines().filter(|line| line.contains("session_plus.save{session=\"spans_csrf\"")).count();
    assert_eq!(skipped, 1, "a cookie session left alone leaves no save span: {logs}");
    let id = client.cookie("spans_session").expect("an id cookie");
    for secret in [id.as_str(), "value-of-user-7f3a", "value-of-csrf-91bc"] {
        assert!(!logs.contains(secret), "the logs hold `{secret}`");
    }
}

#[cfg(feature = "metrics")]
#[tokio::test]
async fn metrics_are_scraped_by_prometheus_over_http() {
    use axum::routing::get;
    use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
    use std::sync::OnceLock;

    static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();
    let prometheus = PROMETHEUS.get_or_init(|| PrometheusBuilder::new().install_recorder().unwrap()).clone();
    let clock = ManualClock::new(session_plus::clock::Clock::now(&session_plus::clock::SystemClock));
    let probe = Probe::new(Arc::new(Named(MemoryStore::new(), "observed-memory")));
    let manager = manager("metrics", probe.clone(), &clock).await;
    four_requests(&manager, &probe).await;
    clock.advance(Duration::from_secs(3601));
    assert_eq!(manager.purge_expired().await.unwrap(), 1);

    // Scraped as Prometheus does, over HTTP.
    let app = axum::Router::new().route("/metrics", get(move || std::future::ready(prometheus.render())));
    let mut scraper = Client::new(crate::common::serve_router(app).await);
    let text = scraper.get("/metrics").await.body;
    let value = |name: &str, labels: &[&str]| -> f64 {
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("{name}{{")) && labels.iter().all(|label| line.contains(label)))
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let session = "session=\"metrics_session\"";
    assert_eq!(value("session_plus_loads_total", &[session, "backend=\"observed-memory\"", "outcome=\"ok\""]), 2.0);
    assert_eq!(value("session_plus_loads_total", &[session, "outcome=\"error\""]), 1.0);
    assert_eq!(value("session_plus_saves_total", &[session, "outcome=\"ok\""]), 1.0, "the write, not the read");
    assert_eq!(value("session_plus_saves_total", &["session=\"metrics_csrf\"", "backend=\"cookie\""]), 1.0);
    let backend = "backend=\"observed-memory\"";
    assert_eq!(value("session_plus_store_operations_total", &[backend, "operation=\"create\"", "outcome=\"ok\""]), 1.0);
    assert_eq!(value("session_plus_store_operations_total", &[backend, "operation=\"load\"", "outcome=\"ok\""]), 1.0);
    assert_eq!(
        value("session_plus_store_operations_total", &[backend, "operation=\"load\"", "outcome=\"error\""]),
        1.0
    );
    assert_eq!(value("session_plus_purged_records_total", &[backend]), 1.0);
    assert_eq!(value("session_plus_cookie_bytes_count", &["session=\"metrics_csrf\""]), 1.0);
    assert!(value("session_plus_cookie_bytes_sum", &["session=\"metrics_csrf\""]) > 40.0);
    assert_eq!(value("session_plus_load_seconds_count", &[session]), 3.0);
}
