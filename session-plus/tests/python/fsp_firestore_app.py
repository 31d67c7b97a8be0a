"""flask-session-plus 0.6.2's Firestore backend, unpatched (the "firestore" venv), for
tests/it/flask_firestore_live.rs.

One `firestore` session, `session` (document `session<uuid4>` in $FIRESTORE_COLLECTION of project
$FIRESTORE_PROJECT, on the emulator at $FIRESTORE_EMULATOR_HOST), holding `user_id`, `user_data`,
`cart` and `seen_at`, through a real `google.cloud.firestore.Client`.

Usage: python fsp_firestore_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import os

from flask import Flask, session
from google.cloud import firestore

from flask_session_plus import Session
from app_routes import add_routes, serve

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
add_routes(app, aware_datetimes=True)


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


if __name__ == "__main__":
    serve(app)
