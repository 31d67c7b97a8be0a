"""The one patch applied to flask-session-plus 0.6.2, on import (tests/python/fsp_app.py and
session-plus-bench/python/fsp_bench_app.py import it).

Released flask-session-plus never writes Redis. backends.py:398 (:395 at the project's HEAD)
calls flask.helpers.total_seconds(expires) with a *datetime*; that raises AttributeError inside
a try, which is logged and swallowed, so no key is ever created (shared/spec/flask-wire.md §1c).
This accepts the datetime the backend passes and returns the seconds left, which is what the
code meant; a timedelta still works as before.
"""
import datetime

import flask_session_plus.backends as backends

_total_seconds = backends.total_seconds


def _patched_total_seconds(value):
    if isinstance(value, datetime.datetime):
        value = value - datetime.datetime.utcnow()
    return max(1, _total_seconds(value))


backends.total_seconds = _patched_total_seconds
