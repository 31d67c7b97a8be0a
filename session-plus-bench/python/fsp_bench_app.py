"""The benchmark routes on the Python original: flask-session-plus 0.6.2 on Flask 1.1.4 (the
legacy pins of shared/spec/flask-wire.md, session-plus/tests/python/requirements-legacy.txt),
served by gunicorn. Run by session-plus-bench/python/run.sh.

The README's three sessions, as flask-session-plus can hold them:
- `csrf`: a secure cookie with `csrf_token`;
- `session`: Redis ($SESSION_REDIS_URL) with `user_id`, `user_data` and `counter`;
- `data`: a secure cookie with `theme`. Listed, not `"auto"`: flask-session-plus never marks an
  "auto" session modified, so it would never be saved (shared/spec/flask-wire.md §1, item 2).

Routes as in session-plus-bench/src/variants.rs: POST /setup, GET /hit, /read, /csrf; 409 when
the session is missing.
"""
import os
import sys

import redis
from flask import Flask, session

from flask_session_plus import Session

# The one patch the live tests apply too: released flask-session-plus never writes Redis.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "session-plus", "tests", "python"))
import fsp_redis_patch  # noqa: E402,F401

CSRF_TOKEN = "q3Vx1b2LZr7dT0wYc9uKfH4mN8pS6aJe5oGiQ2lWxRk"

app = Flask(__name__)
app.secret_key = "session-plus-bench: a fixed 64-byte secret, for benchmarks only!"
app.config["SESSION_CONFIG"] = [
    {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
    {
        "cookie_name": "session",
        "session_type": "redis",
        "client": redis.Redis.from_url(os.environ.get("SESSION_REDIS_URL", "redis://127.0.0.1:6379/14")),
        "session_fields": ["user_id", "user_data", "counter"],
    },
    {"cookie_name": "data", "session_type": "secure_cookie", "session_fields": ["theme"]},
]
Session(app)


@app.route("/setup", methods=["POST"])
def setup():
    session["csrf_token"] = CSRF_TOKEN
    session["user_id"] = 42
    session["user_data"] = {"name": "Alice", "role": "admin"}
    session["counter"] = 0
    session["theme"] = "dark"
    return "ok"


@app.route("/hit")
def hit():
    counter = session.get("counter")
    if counter is None:
        return "", 409
    session["counter"] = counter + 1
    return str(counter + 1)


@app.route("/read")
def read():
    counter = session.get("counter")
    return ("", 409) if counter is None else str(counter)


@app.route("/csrf")
def csrf():
    token = session.get("csrf_token")
    return ("", 409) if token is None else token
