"""Flask's ``SessionInterface`` over session-plus: ``open_session`` starts a request's session
from its ``Cookie`` header, ``save_session`` finishes it into the response's headers."""
import http
import logging
import os
import threading

from flask.sessions import SessionInterface

from . import _core, config
from .session import Session

log = logging.getLogger("session_plus_flask")


def _generic_body(status):
    """`503 Service Unavailable`: what the Rust adapters answer; the details are in the log."""
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Session error"


class SessionPlusInterface(SessionInterface):
    """The interface ``Session(app)`` installs. Its stores are opened on the first request of
    each process (after a fork, again), from the app's configuration at that moment."""

    session_class = Session

    def __init__(self, app):
        # Checked now, so a bad configuration fails at start-up; with a placeholder key when
        # the app sets SECRET_KEY only later (the real key is read at the first request).
        placeholder = None if config._key_ring(app.config) else ["placeholder key for checking only, 32+ bytes"]
        try:
            _core.validate_config(config.to_json(app, placeholder))
        except ValueError as error:
            raise config.ConfigurationError(str(error)) from None
        self._manager = None
        self._pid = None
        self._lock = threading.Lock()
        self._names = [s["cookie_name"] for s in config.translate(app, placeholder)["session"]]

    def manager(self, app):
        """This process's ``_core.Manager``, opened on first use."""
        manager = self._manager
        if manager is not None and self._pid == os.getpid():
            return manager
        with self._lock:
            if self._manager is None or self._pid != os.getpid():
                # A manager inherited through fork has no runtime threads: it is left behind.
                self._manager = _core.Manager(config.to_json(app))
                self._pid = os.getpid()
            return self._manager

    def end_user_sessions(self, app, user_id):
        """Ends every session tied to ``user_id`` by ``session.set_user`` in every store (a
        password change, "log out everywhere"); other users are untouched."""
        self.manager(app).end_user_sessions(str(user_id))

    def purge_expired(self, app):
        """Deletes expired records from the stores without native expiry (SQL, Firestore) now.
        A background task does it every `purge_interval` too, while the process serves requests
        (the session runtime runs on the threads that wait on it: an idle process purges once
        requests come again). Returns how many."""
        return self.manager(app).purge_expired()

    def open_session(self, app, request):
        try:
            manager = self.manager(app)
        except RuntimeError as error:  # a store cannot be reached (ValueError, a bad config, is raised)
            log.error("session stores cannot be opened: %s", error)
            return self.session_class(_Unavailable(), self._names)
        cookie = request.environ.get("HTTP_COOKIE")
        raw = cookie.encode("latin-1", "replace") if cookie else None
        return self.session_class(manager.start(raw), self._names)

    def save_session(self, app, session, response):
        if not isinstance(session, Session):
            return
        session._write_nested_changes()
        headers = response.headers
        error_status, set_cookies, cache_control, vary = session._core.finish(
            response.status_code, headers.get("Cache-Control"), headers.get("Vary")
        )
        if error_status is not None:
            # Generic text: what failed is in the log, never in the response.
            response.status_code = error_status
            response.set_data(_generic_body(error_status))
            headers["Content-Type"] = "text/plain; charset=utf-8"
            cache_control = "no-store"
        for set_cookie in set_cookies:
            headers.add("Set-Cookie", set_cookie)
        if cache_control is not None:
            headers["Cache-Control"] = cache_control
        if vary is not None:
            headers["Vary"] = vary
        if session.accessed and not _names_cookie(vary):
            # As Flask's own cookie session: Flask ≥ 3.1 marks every use of `flask.session`. The
            # core has added it already whenever it saw the use (werkzeug's `vary` parses the
            # header: checking the text first saves that on every request).
            response.vary.add("Cookie")


def _names_cookie(vary):
    """Whether the ``Vary`` value ``vary`` (or ``None``) names ``Cookie`` (or ``*``)."""
    return vary is not None and any(token.strip().lower() in ("cookie", "*") for token in vary.split(","))


class _Unavailable:
    """A request's session while the stores cannot be opened: every use is a 503 (as a store
    that fails to load), and a request that does not use the session is answered normally."""

    used = False

    def __getattr__(self, name):
        def unavailable(*args):
            self.used = True
            raise _core.SessionError(503, "load", "the session stores cannot be opened")

        return unavailable

    def finish(self, status, cache_control, vary):
        return (503 if self.used else None), [], cache_control, vary
