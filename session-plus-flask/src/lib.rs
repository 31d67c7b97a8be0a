//! `session_plus_flask._core`: session-plus's core as a Python module, for the Flask extension
//! `session_plus_flask` (its Python half, in `python/`, implements Flask's `SessionInterface`
//! over this).
//!
//! Two classes: [`Manager`], built once per process from a configuration (JSON, the crate's own
//! keys: the Python side translates `SESSION_CONFIG`), and [`RequestSession`], one request's
//! session ([`SessionManager::start`] … [`Session::finish`]).
//!
//! Values cross as Flask's tagged JSON text, the way Flask's own cookie session writes them:
//! Python dumps a value with `flask.json.tag.TaggedJSONSerializer`, Rust reads it with
//! [`flask_wire::tagged_json::loads`] (tuples, bytes, datetimes, Markup and UUIDs stay one-key
//! tagged objects, integers beyond 64 bits keep their digits), and the way back is
//! [`flask_wire::tagged_json::dumps`]. That is also how the core keeps values in `format =
//! "flask-session-plus"` and `"flask"` sessions, so what Python stores is what a Flask app
//! running flask-session-plus reads.
//!
//! Every call that may touch a store runs on the manager's tokio runtime with the GIL released
//! ([`Python::detach`]), so other Python threads run during store I/O. The runtime is a
//! current-thread one, driven by whichever Python thread is waiting on it: a store's reply wakes
//! the thread that waits for it, not a runtime worker that then wakes it (two thread hand-offs
//! per round trip less; the session layer's `/hit` went from 211 to 176 µs in process). Several
//! waiting threads take turns driving it, and each is woken by its own reply.

use std::sync::{Arc, Mutex, PoisonError};

use flask_wire::tagged_json;
use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use session_plus::{session, Config, Session, SessionManager};
use tokio::runtime::Runtime;

create_exception!(
    _core,
    SessionError,
    PyException,
    "A session could not be used: args are (status, kind, message); kind is `load`, `write`, \
     `unowned`, `unknown_session`, `reserved`, `conflict`, `saved` or `other`."
);

/// The Python module.
#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Manager>()?;
    m.add_class::<RequestSession>()?;
    m.add("SessionError", m.py().get_type::<SessionError>())?;
    m.add_function(wrap_pyfunction!(validate_config, m)?)?;
    Ok(())
}

/// Checks a configuration (JSON text) without opening any store: raises `ValueError` with the
/// message that names the session and the key.
#[pyfunction]
fn validate_config(config_json: &str) -> PyResult<()> {
    Config::from_json_str(config_json).map(drop).map_err(|error| PyValueError::new_err(error.to_string()))
}

/// A process's session manager: the configuration's stores, opened once, and the tokio runtime
/// that drives them.
#[pyclass(frozen, module = "session_plus_flask._core")]
#[derive(Debug)]
pub struct Manager {
    runtime: Arc<OwnedRuntime>,
    manager: SessionManager,
}

#[pymethods]
impl Manager {
    /// Validates `config_json`, makes the runtime and opens every store (GIL released).
    ///
    /// Raises `ValueError` for a bad configuration, `RuntimeError` for a store that cannot be
    /// reached or a key that cannot be used.
    #[new]
    fn new(py: Python<'_>, config_json: &str) -> PyResult<Self> {
        let config = Config::from_json_str(config_json).map_err(|error| PyValueError::new_err(error.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| PyRuntimeError::new_err(format!("cannot start the session runtime: {error}")))?;
        let runtime = Arc::new(OwnedRuntime(Some(runtime)));
        let manager = py
            .detach(|| runtime.get().block_on(SessionManager::new(config)))
            .map_err(|error| PyRuntimeError::new_err(error.to_string()))?;
        Ok(Self { runtime, manager })
    }

    /// The session of a request whose `Cookie` header is `cookie` (its raw bytes; `None` when
    /// there is none). Nothing is verified or loaded until a field is used.
    fn start(&self, cookie: Option<&[u8]>) -> RequestSession {
        let mut headers = HeaderMap::new();
        // A header Werkzeug accepted but `http` does not (bytes below 0x20) counts as no cookie:
        // the visitor gets a fresh session, never an error.
        if let Some(value) = cookie.and_then(|bytes| HeaderValue::from_bytes(bytes).ok()) {
            headers.insert(COOKIE, value);
        }
        RequestSession { runtime: self.runtime.clone(), session: Mutex::new(Some(self.manager.start(&headers))) }
    }

    /// The names of the sessions owning `field`, in configuration order.
    fn owners(&self, field: &str) -> Vec<String> {
        self.manager.routing().owner_names(field).map(str::to_owned).collect()
    }

    /// Deletes expired records from the stores without native expiry; returns how many.
    fn purge_expired(&self, py: Python<'_>) -> PyResult<u64> {
        let runtime = self.runtime.clone();
        py.detach(|| runtime.get().block_on(self.manager.purge_expired()))
            .map_err(|error| PyRuntimeError::new_err(format!("purge failed: {error}")))
    }

    /// Ends every session tied to `user_id` with `RequestSession.set_user`.
    fn end_user_sessions(&self, py: Python<'_>, user_id: &str) -> PyResult<()> {
        let runtime = self.runtime.clone();
        py.detach(|| runtime.get().block_on(self.manager.end_user_sessions(user_id)))
            .map_err(|error| PyRuntimeError::new_err(format!("ending the user's sessions failed: {error}")))
    }
}

/// One request's session. Values are tagged JSON text (see the module's docs).
#[pyclass(frozen, module = "session_plus_flask._core")]
#[derive(Debug)]
pub struct RequestSession {
    runtime: Arc<OwnedRuntime>,
    /// `None` once finished.
    session: Mutex<Option<Session>>,
}

#[pymethods]
impl RequestSession {
    /// The value of `field` as tagged JSON text, or `None`.
    fn get(&self, py: Python<'_>, field: &str) -> PyResult<Option<String>> {
        let value = self.run(py, |session| async move { session.get_value(field).await })?;
        value.map(|value| dump(&value)).transpose()
    }

    /// Sets `field` to the value of the tagged JSON text `value`.
    fn insert(&self, py: Python<'_>, field: &str, value: &str) -> PyResult<()> {
        let value = tagged_json::loads(value).map_err(|error| PyValueError::new_err(format!("{error}")))?;
        self.run(py, |session| async move { session.insert_value(field, value).await })
    }

    /// Removes `field`; its value as tagged JSON text, or `None` when it was not set.
    fn remove(&self, py: Python<'_>, field: &str) -> PyResult<Option<String>> {
        let value = self.run(py, |session| async move { session.remove_value(field).await })?;
        value.map(|value| dump(&value)).transpose()
    }

    /// Whether `field` is set.
    fn contains(&self, py: Python<'_>, field: &str) -> PyResult<bool> {
        self.run(py, |session| async move { session.contains(field).await })
    }

    /// Every field, as the tagged JSON text of one object (every session loaded, concurrently).
    fn fields(&self, py: Python<'_>) -> PyResult<String> {
        let fields = self.run(py, |session| async move { session.fields().await })?;
        tagged_json::dumps_object(&fields).map_err(|error| PyValueError::new_err(format!("{error}")))
    }

    /// Empties every session (logout): records deleted and cookies expired at the save.
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |session| async move { session.clear().await })
    }

    /// Makes the session `name` permanent or not.
    fn set_permanent(&self, py: Python<'_>, name: &str, permanent: bool) -> PyResult<()> {
        self.run(py, |session| async move { session.set_permanent(name, permanent).await })
    }

    /// Whether the session `name` is permanent.
    fn is_permanent(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        self.run(py, |session| async move { session.is_permanent(name).await })
    }

    /// New ids for every session, keeping the data (call on login).
    fn regenerate(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |session| async move { session.regenerate().await })
    }

    /// Ties this visitor's native server sessions to `user_id` (see `Manager.end_user_sessions`).
    fn set_user(&self, py: Python<'_>, user_id: &str) -> PyResult<()> {
        self.run(py, |session| async move { session.set_user(user_id).await })
    }

    /// The id of the session `name`'s record (`None` for a cookie session or a new visitor).
    fn id(&self, py: Python<'_>, name: &str) -> PyResult<Option<String>> {
        let id = self.run(py, |session| async move { session.id(name).await })?;
        Ok(id.map(|id| id.as_str().to_owned()))
    }

    /// Whether any session was read or changed.
    fn was_accessed(&self) -> PyResult<bool> {
        Ok(self.handle()?.was_accessed())
    }

    /// Saves the request's sessions once the response (status `status`) is ready, merging the
    /// response's `Cache-Control` and `Vary` values. Returns `(error_status, set_cookies,
    /// cache_control, vary)`: the status the response must have instead when a store failed
    /// (`None` otherwise), the `Set-Cookie` values, and the response's `Cache-Control` and `Vary`
    /// values with what the sessions need added (`None`: no such header).
    #[allow(clippy::type_complexity)] // the tuple is what Python unpacks
    fn finish(
        &self,
        py: Python<'_>,
        status: u16,
        cache_control: Option<&str>,
        vary: Option<&str>,
    ) -> PyResult<(Option<u16>, Vec<String>, Option<String>, Option<String>)> {
        let taken = self.session.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(mut session) = taken else {
            return Err(PyRuntimeError::new_err("this request's session was already saved"));
        };
        if let Ok(status) = StatusCode::from_u16(status) {
            session.set_response_status(status);
        }
        // Cookie sessions only: finished here, with no runtime and the GIL kept (nothing to wait for).
        let finished = match session.finish_now() {
            Some(finished) => finished,
            None => {
                let runtime = self.runtime.clone();
                py.detach(|| runtime.get().block_on(session.finish()))
            }
        };
        let error_status = finished.error_status().map(|status| status.as_u16());
        let mut headers = HeaderMap::new();
        for (name, value) in [(CACHE_CONTROL, cache_control), (VARY, vary)] {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name, value);
            }
        }
        finished.apply_to_headers(&mut headers);
        let text = |value: &HeaderValue| value.to_str().ok().map(str::to_owned);
        let set_cookies = headers.get_all(SET_COOKIE).iter().filter_map(text).collect();
        let cache_control = headers.get(CACHE_CONTROL).and_then(text);
        let vary = headers.get_all(VARY).iter().filter_map(text).collect::<Vec<_>>().join(", ");
        Ok((error_status, set_cookies, cache_control, Some(vary).filter(|v| !v.is_empty())))
    }
}

impl RequestSession {
    /// A handle on the request's session, or an error once it was saved.
    fn handle(&self) -> PyResult<Session> {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("this request's session was already saved"))
    }

    /// Runs `call` on the request's session on the runtime, with the GIL released.
    fn run<'a, T, F, Fut>(&self, py: Python<'_>, call: F) -> PyResult<T>
    where
        F: FnOnce(Session) -> Fut + Send + 'a,
        Fut: std::future::Future<Output = session::Result<T>> + Send + 'a,
        T: Send,
    {
        let session = self.handle()?;
        let runtime = self.runtime.clone();
        py.detach(move || runtime.get().block_on(call(session))).map_err(session_error)
    }
}

/// A tokio runtime shut down without waiting when dropped: a runtime inherited through `fork`
/// has no threads to join, and an interpreter exiting must not wait for a store.
#[derive(Debug)]
struct OwnedRuntime(Option<Runtime>);

impl OwnedRuntime {
    fn get(&self) -> &Runtime {
        // Some until dropped: only `Drop` takes it.
        self.0.as_ref().expect("the runtime lives as long as its owner")
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A stored value as tagged JSON text.
fn dump(value: &serde_json::Value) -> PyResult<String> {
    tagged_json::dumps(value).map_err(|error| PyValueError::new_err(format!("{error}")))
}

/// A [`session::Error`] as `SessionError(status, kind, message)`.
fn session_error(error: session::Error) -> PyErr {
    let kind = match &error {
        session::Error::Load { .. } => "load",
        session::Error::Write { .. } => "write",
        session::Error::UnownedField(_) => "unowned",
        session::Error::UnknownSession(_) => "unknown_session",
        session::Error::ReservedField(_) => "reserved",
        session::Error::Conflict { .. } => "conflict",
        session::Error::AlreadySaved => "saved",
        _ => "other",
    };
    SessionError::new_err((error.status().as_u16(), kind, error.to_string()))
}
