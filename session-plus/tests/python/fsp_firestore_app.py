"""flask-session-plus 0.6.2's Firestore backend, unpatched (the "firestore" venv), for
tests/it/flask_firestore_live.rs.

One `firestore` session, `session` (document `session<uuid4>` in $FIRESTORE_COLLECTION of project
$FIRESTORE_PROJECT, on the emulator at $FIRESTORE_EMULATOR_HOST), holding `user_id`, `user_data`,
`cart` and `seen_at`, through a real `google.cloud.firestore.Client`.

Usage: python fsp_firestore_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import datetime
import json
import logging
import os
import sys

from flask import Flask, Response, request, session
from google.cloud import firestore
from werkzeug.serving import make_server

from flask_session_plus import Session

FIELDS = ["user_id", "user_data", "cart", "seen_at", "pair", "blob"]

app = Flask(__name__)
app.secret_key = "dev-secret-key"
app.config["SESSION_CONFIG"] = [
    {
        "cookie_name": "session",
        "session_type": "firestore",
        "client": firestore.Client(project=os.environ["FIRESTORE_PROJECT"]),
        "collection": os.environ["FIRESTORE_COLLECTION"],
        "session_fields": FIELDS,
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
    """The Python value exactly (a datetime stays a datetime, bytes stay bytes)."""
    return repr(session.get(field))


@app.route("/set/<field>", methods=["POST"])
def set_field(field):
    session[field] = json.loads(request.get_data(as_text=True))
    return "ok"


@app.route("/setdt/<field>", methods=["POST"])
def set_datetime(field):
    """Stores an aware UTC datetime from Unix seconds in the body."""
    when = int(request.get_data(as_text=True))
    session[field] = datetime.datetime.fromtimestamp(when, tz=datetime.timezone.utc)
    return "ok"


@app.route("/setpy/<field>", methods=["POST"])
def set_python(field):
    """Stores a tuple (`pair`) or bytes (`blob`), which JSON cannot carry."""
    session[field] = (1, "two") if field == "pair" else b"\x00\xffbytes"
    return "ok"


@app.route("/permanent", methods=["POST"])
def permanent():
    session.set_permanent("session")
    session["user_id"] = session.get("user_id")  # flask-session-plus saves only a modified session
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
