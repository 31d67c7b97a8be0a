"""One Flask app, four session layers, for session-plus-bench/python/flask_run.sh. $VARIANT picks:

- `fsp`: flask-session-plus 0.6.2 (Flask 1.1.4, the legacy venv; Redis patched to write, as in
  fsp_bench_app.py);
- `cookie`: Flask's own signed cookie session (Flask 3.1);
- `flask-session`: Flask-Session 0.8 on Redis (Flask 3.1), every field in Redis;
- `session-plus-flask`: this repository's extension (Flask 3.1), the same SESSION_CONFIG as `fsp`
  (its wire formats, the default for an upgrade), or `session-plus-flask-native` with
  `"format": "native"` on every session.

The three sessions of the README where the layer has several: `csrf` (a cookie, `csrf_token`),
`session` (Redis: `user_id`, `user_data`, `counter`), `data` (a cookie, `theme`). Routes as in
session-plus-bench/src/variants.rs: POST /setup, GET /hit (read and write the counter), /read
(read it), /csrf (read the token only); 409 when the session is missing.
"""
import os
import sys

import redis
from flask import Flask, session

VARIANT = os.environ["VARIANT"]
REDIS_URL = os.environ.get("SESSION_REDIS_URL", "redis://127.0.0.1:6379/14")
CSRF_TOKEN = "q3Vx1b2LZr7dT0wYc9uKfH4mN8pS6aJe5oGiQ2lWxRk"

app = Flask(__name__)
app.secret_key = "session-plus-bench: a fixed 64-byte secret, for benchmarks only!"
SESSION_CONFIG = [
    {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
    {
        "cookie_name": "session",
        "session_type": "redis",
        "client": redis.Redis.from_url(REDIS_URL),
        "session_fields": ["user_id", "user_data", "counter"],
    },
    {"cookie_name": "data", "session_type": "secure_cookie", "session_fields": ["theme"]},
]

if VARIANT == "fsp":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "session-plus", "tests", "python"))
    import fsp_redis_patch  # noqa: F401  (released flask-session-plus never writes Redis)
    from flask_session_plus import Session

    app.config["SESSION_CONFIG"] = SESSION_CONFIG
    Session(app)
elif VARIANT.startswith("session-plus-flask"):
    from session_plus_flask import Session

    if VARIANT.endswith("-native"):
        SESSION_CONFIG = [dict(s, format="native") for s in SESSION_CONFIG]
    app.config["SESSION_CONFIG"] = SESSION_CONFIG
    Session(app)
elif VARIANT == "flask-session":
    from flask_session import Session

    app.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis.Redis.from_url(REDIS_URL))
    Session(app)
elif VARIANT != "cookie":
    raise SystemExit(f"unknown VARIANT {VARIANT}")


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
