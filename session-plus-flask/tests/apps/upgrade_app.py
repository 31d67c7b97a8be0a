"""One Flask app, run either on flask-session-plus 0.6.2 (the "legacy" venv: Flask 1.1.4) or on
this extension (Flask 3), for tests/test_upgrade.py: the same SESSION_CONFIG, the same routes,
only the import line differs. Also on Flask-Session 0.8 (the "modern" venv) and on this extension
configured as docs/migrating.md says for Flask-Session's users.

Usage: python upgrade_app.py PORT original|original-unpatched|extension|flask-session|extension-for-flask-session;
prints `ready http://127.0.0.1:PORT`.
Environment: REDIS_URL, KEY_PREFIX (the Redis session's key_prefix); STORE=firestore puts the
server session in Firestore instead (the emulator of $FIRESTORE_EMULATOR_HOST, collection
KEY_PREFIX), where flask-session-plus 0.6.2 writes without any patch.
"""
import json
import logging
import os
import sys

if os.environ.get("STORE") == "firestore":
    from google.cloud import firestore  # the "firestore" venv has no redis client
else:
    import redis
from flask import Flask, request, session
from werkzeug.serving import make_server

HERE = os.path.dirname(os.path.abspath(__file__))
WHICH = sys.argv[2]
if WHICH == "flask-session":
    from flask_session import Session
elif WHICH == "original-unpatched":
    from flask_session_plus import Session
elif WHICH == "original":
    # The one patch the project's live tests apply: released flask-session-plus never writes
    # Redis (spec §1e bug 1); session-plus/tests/python/fsp_redis_patch.py says why.
    sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "session-plus", "tests", "python"))
    import fsp_redis_patch  # noqa: F401
    from flask_session_plus import Session
else:
    from session_plus_flask import Session

app = Flask(__name__)
app.config["SECRET_KEY"] = "dev-secret-key"
CLIENT = None if os.environ.get("STORE") == "firestore" else redis.Redis.from_url(os.environ["REDIS_URL"])
PREFIX = os.environ["KEY_PREFIX"]
if WHICH == "flask-session":
    app.config.update(SESSION_TYPE="redis", SESSION_REDIS=CLIENT, SESSION_KEY_PREFIX=PREFIX + ":")
elif WHICH == "extension-for-flask-session":
    # docs/migrating.md: Flask-Session's one session, its records as they are.
    app.config["SESSION_CONFIG"] = [
        {
            "cookie_name": "session",
            "session_type": "redis",
            "client": CLIENT,
            "key_prefix": PREFIX,
            "format": "flask-session",
        }
    ]
else:
    if os.environ.get("STORE") == "firestore":
        server = {"session_type": "firestore", "client": firestore.Client(project="sp-upgrade"), "collection": PREFIX}
    else:
        server = {"session_type": "redis", "client": CLIENT, "key_prefix": PREFIX}
    app.config["SESSION_CONFIG"] = [
        {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
        {"cookie_name": "session", "session_fields": ["user_id", "user_data"], **server},
        {"cookie_name": "data", "session_type": "secure_cookie", "session_fields": "auto"},
    ]
Session(app)


@app.route("/login", methods=["POST"])
def login():
    session["user_id"] = 42
    # Keys in sorted order: both sides write sorted JSON, so dicts come back sorted.
    session["user_data"] = {"avatar": b"\x89PNG", "name": "alice", "roles": ("admin", "dev")}
    session["csrf_token"] = "t0k3n"
    session["theme"] = "dark"
    return "ok"


@app.route("/set/<field>", methods=["POST"])
def set_field(field):
    session[field] = json.loads(request.get_data(as_text=True))
    return "ok"


def canonical(value):
    """Dicts with sorted keys (a Firestore map comes back in any order), all else as it is."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    return value


@app.route("/fields")
def fields():
    # repr keeps tuples and bytes apart from lists and str, the same on both Flask versions.
    keys = ("user_id", "user_data", "csrf_token", "theme", "note")
    return json.dumps({key: repr(canonical(session.get(key))) for key in keys})


@app.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return "bye"


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready http://127.0.0.1:%d" % server.server_port, flush=True)
    server.serve_forever()
