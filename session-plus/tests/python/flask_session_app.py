"""Flask 3.1 + Flask-Session 0.8 on Redis (the "modern" venv), for tests/flask_live.rs.

SESSION_TYPE=redis with the defaults: cookie `session` holding the bare 43-character sid, key
`session:<sid>`, msgspec MessagePack values, strict sids, SESSION_PERMANENT=True. Redis from
$SESSION_REDIS_URL (host, port and db from the URL).

Usage: python flask_session_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import datetime
import json
import logging
import os
import sys

import redis
from flask import Flask, Response, request, session
from flask_session import Session
from werkzeug.serving import make_server

app = Flask(__name__)
app.secret_key = "dev-secret-key"
app.config["SESSION_TYPE"] = "redis"
app.config["SESSION_REDIS"] = redis.Redis.from_url(os.environ.get("SESSION_REDIS_URL", "redis://127.0.0.1:6379/12"))
Session(app)


def as_json(value):
    return Response(json.dumps(value, default=str), mimetype="application/json")


@app.route("/get/<field>")
def get_field(field):
    return as_json(session.get(field))


@app.route("/repr/<field>")
def repr_field(field):
    """The Python value exactly (a datetime stays a datetime, bytes stay bytes)."""
    return repr(session.get(field))


@app.route("/set/<field>", methods=["POST"])
def set_field(field):
    session[field] = json.loads(request.get_data(as_text=True))
    return "ok"


@app.route("/setdt/<field>", methods=["POST"])
def set_datetime(field):
    """Stores an aware UTC datetime (msgspec: a timestamp ext) from Unix seconds in the body
    (a fraction gives microseconds, which msgspec keeps)."""
    session[field] = datetime.datetime.fromtimestamp(float(request.get_data(as_text=True)), datetime.timezone.utc)
    return "ok"


@app.route("/clear", methods=["POST"])
def clear():
    session.clear()
    return "cleared"


@app.route("/fields")
def fields():
    return as_json({k: v for k, v in session.items() if k != "_permanent"})


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready http://127.0.0.1:%d" % server.server_port, flush=True)
    server.serve_forever()
