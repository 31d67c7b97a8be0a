"""flask-session-plus 0.6.2 on Flask 1.1.4 (the "legacy" venv), for tests/flask_live.rs.

Two sessions, as flask-session-plus configures them:
- `fcookie`: a `secure_cookie` (itsdangerous, SHA3-256, salt `cookie-session`) holding
  `csrf_token`, `profile` and `seen_at`;
- `session`: a `redis` session (key `session<uuid4>`, tagged JSON) holding `user_id`,
  `user_data` and `cart`, on the Redis of $SESSION_REDIS_URL (host, port and db from the URL).

Usage: python fsp_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import datetime
import json
import logging
import os
import sys

import redis
from flask import Flask, Response, request, session
from werkzeug.serving import make_server

from flask_session_plus import Session

import fsp_redis_patch  # noqa: F401  (the one patch: makes released flask-session-plus write Redis)

COOKIE_FIELDS = ["csrf_token", "profile", "seen_at"]
REDIS_FIELDS = ["user_id", "user_data", "cart"]

app = Flask(__name__)
app.secret_key = "dev-secret-key"
app.config["SESSION_CONFIG"] = [
    {"cookie_name": "fcookie", "session_type": "secure_cookie", "session_fields": COOKIE_FIELDS},
    {
        "cookie_name": "session",
        "session_type": "redis",
        "client": redis.Redis.from_url(os.environ.get("SESSION_REDIS_URL", "redis://127.0.0.1:6379/11")),
        "session_fields": REDIS_FIELDS,
    },
]
Session(app)


def as_json(value):
    return Response(json.dumps(value, default=str), mimetype="application/json")


@app.route("/get/<field>")
def get_field(field):
    return as_json(session.get(field))


@app.route("/repr/<field>")
def repr_field(field):
    """The Python value exactly (a datetime stays a datetime, a tuple a tuple)."""
    return repr(session.get(field))


@app.route("/set/<field>", methods=["POST"])
def set_field(field):
    session[field] = json.loads(request.get_data(as_text=True))
    return "ok"


@app.route("/setdt/<field>", methods=["POST"])
def set_datetime(field):
    """Stores a naive UTC datetime (what Werkzeug 1.x gives back) from Unix seconds in the body."""
    session[field] = datetime.datetime.utcfromtimestamp(int(request.get_data(as_text=True)))
    return "ok"


@app.route("/clear", methods=["POST"])
def clear():
    session.clear()
    return "cleared"


@app.route("/fields")
def fields():
    return as_json(dict(session))


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready http://127.0.0.1:%d" % server.server_port, flush=True)
    server.serve_forever()
