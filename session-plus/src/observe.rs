//! What session-plus reports of its work, in one place: a `tracing` span for each load and save
//! of a named session, and, with the `metrics` feature, counters and histograms through the
//! [`metrics`](https://docs.rs/metrics) facade, for any exporter (Prometheus, StatsD, …).
//!
//! Spans are `session_plus.load` and `session_plus.save` at `DEBUG`, with the session's cookie
//! name, its backend, the outcome (`ok` or `error`) and the duration in microseconds. They never
//! hold an id, a field's value or a cookie. A save is a write: a cookie sent, or a call to the
//! session's store; a request that reads a session and changes nothing (no refresh due either)
//! saves nothing, and leaves no save span.
//!
//! Metrics (feature `metrics`), labelled by `session` (cookie name) and `backend` (`cookie` or the
//! store's name):
//!
//! | Name | Kind | Labels |
//! |---|---|---|
//! | `session_plus_loads_total` | counter | session, backend, outcome |
//! | `session_plus_saves_total` | counter | session, backend, outcome |
//! | `session_plus_load_seconds`, `session_plus_save_seconds` | histogram | session, backend |
//! | `session_plus_store_operations_total` | counter | backend, operation, outcome |
//! | `session_plus_store_operation_seconds` | histogram | backend, operation |
//! | `session_plus_cookie_bytes` | histogram | session |
//! | `session_plus_purged_records_total` | counter | backend |
//!
//! A store operation is one call of the [`SessionStore`](crate::store::SessionStore) trait
//! (`load`, `create`, `update`, `delete`, `compare_and_set`, `purge_expired`): one round trip for
//! most stores.

use std::time::Instant;

use tracing::field::Empty;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::{Level, Span};

/// One load or save of one named session, timed from its start to [`finish`](Self::finish).
pub(crate) struct Step<'a> {
    /// `None` for a [deferred](Self::deferred) step until it finishes.
    span: Option<Span>,
    /// Only when someone listens: no clock read otherwise.
    started: Option<Instant>,
    kind: StepKind,
    session: &'a str,
    backend: &'static str,
}

/// Which step a [`Step`] times.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StepKind {
    Load,
    Save,
}

impl<'a> Step<'a> {
    /// Starts timing a step of the session named `session`, kept by `backend`.
    pub(crate) fn start(kind: StepKind, session: &'a str, backend: &'static str) -> Self {
        // No span at all unless a subscriber takes `DEBUG`: building even a disabled one costs
        // hundreds of instructions per step (its callsite's interest, `tracing`'s `log` bridge).
        let span = if debug_enabled() { new_span(kind, session, backend) } else { Span::none() };
        let listened = !span.is_disabled() || cfg!(feature = "metrics");
        Self { span: Some(span), started: listened.then(Instant::now), kind, session, backend }
    }

    /// A step that may turn out to be no step at all (a cookie session's save, which most
    /// requests skip): its span is made only if it [finishes](Self::finish), so that skipped
    /// steps leave no trace.
    pub(crate) fn deferred(kind: StepKind, session: &'a str, backend: &'static str) -> Self {
        let listened = debug_enabled() || cfg!(feature = "metrics");
        Self { span: None, started: listened.then(Instant::now), kind, session, backend }
    }

    /// The span, to instrument the step's future with (none for a deferred step).
    pub(crate) fn span(&self) -> Span {
        self.span.clone().unwrap_or_else(Span::none)
    }

    /// Ends the step with its outcome.
    pub(crate) fn finish(self, ok: bool) {
        let Some(started) = self.started else { return };
        let elapsed = started.elapsed();
        let outcome = if ok { "ok" } else { "error" };
        let span = self.span.unwrap_or_else(|| new_span(self.kind, self.session, self.backend));
        span.record("outcome", outcome);
        span.record("duration_us", u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
        #[cfg(feature = "metrics")]
        {
            let (total, seconds) = match self.kind {
                StepKind::Load => ("session_plus_loads_total", "session_plus_load_seconds"),
                StepKind::Save => ("session_plus_saves_total", "session_plus_save_seconds"),
            };
            let (session, backend) = (self.session.to_owned(), self.backend);
            metrics::histogram!(seconds, "session" => session.clone(), "backend" => backend)
                .record(elapsed.as_secs_f64());
            metrics::counter!(total, "session" => session, "backend" => backend, "outcome" => outcome).increment(1);
        }
    }
}

/// Whether any subscriber may take `DEBUG` spans: two loads and compares, where asking the
/// callsite costs far more.
fn debug_enabled() -> bool {
    Level::DEBUG <= STATIC_MAX_LEVEL && Level::DEBUG <= LevelFilter::current()
}

fn new_span(kind: StepKind, session: &str, backend: &'static str) -> Span {
    match kind {
        StepKind::Load => {
            tracing::debug_span!("session_plus.load", session, backend, outcome = Empty, duration_us = Empty)
        }
        StepKind::Save => {
            tracing::debug_span!("session_plus.save", session, backend, outcome = Empty, duration_us = Empty)
        }
    }
}

/// Records the size of a `Set-Cookie` value sent for the session named `session`.
pub(crate) fn cookie_sent(session: &str, bytes: usize) {
    #[cfg(feature = "metrics")]
    metrics::histogram!("session_plus_cookie_bytes", "session" => session.to_owned()).record(bytes as f64);
    #[cfg(not(feature = "metrics"))]
    let _ = (session, bytes);
}

#[cfg(feature = "metrics")]
pub(crate) use observed_store::ObservedStore;

#[cfg(feature = "metrics")]
mod observed_store {
    use std::sync::Arc;
    use std::time::Instant;

    use async_trait::async_trait;

    use serde_json::Value;

    use crate::store::{CasOutcome, Record, Result, SessionStore, Update};

    /// A store that counts and times every operation of the store it wraps (feature `metrics`);
    /// the manager wraps each store it opens or is given.
    #[derive(Debug)]
    pub(crate) struct ObservedStore(pub(crate) Arc<dyn SessionStore>);

    impl ObservedStore {
        async fn timed<T>(
            &self,
            operation: &'static str,
            call: impl std::future::Future<Output = Result<T>>,
        ) -> Result<T> {
            let started = Instant::now();
            let result = call.await;
            let backend = self.0.backend_name();
            let outcome = if result.is_ok() { "ok" } else { "error" };
            metrics::histogram!("session_plus_store_operation_seconds", "backend" => backend, "operation" => operation)
                .record(started.elapsed().as_secs_f64());
            metrics::counter!(
                "session_plus_store_operations_total",
                "backend" => backend, "operation" => operation, "outcome" => outcome
            )
            .increment(1);
            result
        }
    }

    #[async_trait]
    impl SessionStore for ObservedStore {
        async fn load(&self, key: &str) -> Result<Option<Record>> {
            self.timed("load", self.0.load(key)).await
        }

        async fn create(&self, key: &str, record: &Record) -> Result<bool> {
            self.timed("create", self.0.create(key, record)).await
        }

        async fn update(&self, key: &str, update: &Update) -> Result<bool> {
            self.timed("update", self.0.update(key, update)).await
        }

        async fn delete(&self, key: &str) -> Result<bool> {
            self.timed("delete", self.0.delete(key)).await
        }

        async fn compare_and_set(
            &self,
            key: &str,
            field: &str,
            expected: Option<&Value>,
            new: &Value,
            expires_at: i64,
        ) -> Result<CasOutcome> {
            let call = self.0.compare_and_set(key, field, expected, new, expires_at);
            self.timed("compare_and_set", call).await
        }

        async fn purge_expired(&self, now: i64) -> Result<u64> {
            let purged = self.timed("purge_expired", self.0.purge_expired(now)).await?;
            metrics::counter!("session_plus_purged_records_total", "backend" => self.0.backend_name())
                .increment(purged);
            Ok(purged)
        }

        fn expires_natively(&self) -> bool {
            self.0.expires_natively()
        }

        fn backend_name(&self) -> &'static str {
            self.0.backend_name()
        }
    }
}
