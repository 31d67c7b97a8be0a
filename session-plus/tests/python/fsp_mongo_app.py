"""flask-session-plus 0.6.2 on Flask 1.1.4 (the "legacy" venv) with a MongoDB session, for
tests/it/flask_live_mongo.rs.

One session, as flask-session-plus configures it: `session`, a `mongodb` session (document
`{id: "session" + uuid4, val, _expiration, _permanent}`) holding `user_id`, `user_data` and `cart`,
in the database and collection of $SESSION_MONGODB_URL (`mongodb://host:port/db`) and
$SESSION_MONGODB_COLLECTION, its id cookie signed when $SESSION_USE_SIGNER is `1`. PyMongo 4
with the fixes of fsp_mongo_patch.py.

Usage: python fsp_mongo_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import datetime
import json
import logging
import os
import sys

import pymongo
from flask import Flask, Response, request, session
from werkzeug.serving import make_server

from flask_session_plus import Session

import fsp_mongo_patch  # noqa: F401  (PyMongo 4's names for the PyMongo 3 calls)

FIELDS = ["user_id", "user_data", "cart"]

url = os.environ.get("SESSION_MONGODB_URL", "mongodb://127.0.0.1:27018/session_plus_test?directConnection=true")
client = pymongo.MongoClient(url, tz_aware=True)  # the third fix: an aware `_expiration`
app = Flask(__name__)
app.secret_key = "dev-secret-key"
app.config["SESSION_CONFIG"] = [
    {
        "cookie_name": "session",
        "session_type": "mongodb",
        "client": client,
        "db": client.get_default_database().name,
        "collection": os.environ.get("SESSION_MONGODB_COLLECTION", "sessions"),
        "use_signer": os.environ.get("SESSION_USE_SIGNER") == "1",
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
    """The Python value exactly (a datetime stays a datetime, a tuple a tuple)."""
    return repr(session.get(field))


@app.route("/set/<field>", methods=["POST"])
def set_field(field):
    session[field] = json.loads(request.get_data(as_text=True))
    return "ok"


@app.route("/setpy/<field>", methods=["POST"])
def set_python(field):
    """Stores a Python literal (tuples, big ints, bytes) from the body."""
    import ast
    session[field] = ast.literal_eval(request.get_data(as_text=True))
    return "ok"


@app.route("/setdt/<field>", methods=["POST"])
def set_datetime(field):
    """Stores a naive UTC datetime (what Werkzeug 1.x gives back) from Unix seconds in the body."""
    session[field] = datetime.datetime.utcfromtimestamp(int(request.get_data(as_text=True)))
    return "ok"


@app.route("/permanent/<name>/<on>", methods=["POST"])
def permanent(name, on):
    session.set_permanent(name, remove=on != "true")
    session[FIELDS[0]] = session.get(FIELDS[0])  # flask-session-plus saves only modified sessions
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
