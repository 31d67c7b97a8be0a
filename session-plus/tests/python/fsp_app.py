"""flask-session-plus 0.6.2 on Flask 1.1.4 (the "legacy" venv), for tests/flask_live.rs.

Two sessions, as flask-session-plus configures them:
- `fcookie`: a `secure_cookie` (itsdangerous, SHA3-256, salt `cookie-session`) holding
  `csrf_token`, `profile` and `seen_at`;
- `session`: a `redis` session (key `session<uuid4>`, tagged JSON) holding `user_id`,
  `user_data` and `cart`, on the Redis of $SESSION_REDIS_URL (host, port and db from the URL).

Usage: python fsp_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import os

import redis
from flask import Flask, session

from flask_session_plus import Session

import fsp_redis_patch  # noqa: F401  (the one patch: makes released flask-session-plus write Redis)
from app_routes import add_routes, serve

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
add_routes(app, aware_datetimes=False)


if __name__ == "__main__":
    serve(app)
