"""flask-session-plus 0.6.2 on Flask 1.1.4 (the "legacy" venv) with a MongoDB session, for
tests/it/flask_live_mongo.rs.

One session, as flask-session-plus configures it: `session`, a `mongodb` session (document
`{id: "session" + uuid4, val, _expiration, _permanent}`) holding `user_id`, `user_data` and `cart`,
in the database and collection of $SESSION_MONGODB_URL (`mongodb://host:port/db`) and
$SESSION_MONGODB_COLLECTION, its id cookie signed when $SESSION_USE_SIGNER is `1`. PyMongo 4
with the fixes of fsp_mongo_patch.py.

Usage: python fsp_mongo_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import os

import pymongo
from flask import Flask, request, session

from flask_session_plus import Session

import fsp_mongo_patch  # noqa: F401  (PyMongo 4's names for the PyMongo 3 calls)
from app_routes import add_routes, serve

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
add_routes(app, aware_datetimes=False)


@app.route("/setpy/<field>", methods=["POST"])
def set_python(field):
    """Stores a Python literal (tuples, big ints, bytes) from the body."""
    import ast
    session[field] = ast.literal_eval(request.get_data(as_text=True))
    return "ok"


@app.route("/permanent/<name>/<on>", methods=["POST"])
def permanent(name, on):
    session.set_permanent(name, remove=on != "true")
    session[FIELDS[0]] = session.get(FIELDS[0])  # flask-session-plus saves only modified sessions
    return "ok"


if __name__ == "__main__":
    serve(app)
