"""Flask 3.1 + Flask-Session 0.8 on Redis (the "modern" venv), for tests/flask_live.rs.

SESSION_TYPE=redis with the defaults: cookie `session` holding the bare 43-character sid, key
`session:<sid>`, msgspec MessagePack values, strict sids, SESSION_PERMANENT=True. Redis from
$SESSION_REDIS_URL (host, port and db from the URL).

Usage: python flask_session_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import os

import redis
from flask import Flask
from flask_session import Session
from app_routes import add_routes, serve

app = Flask(__name__)
app.secret_key = "dev-secret-key"
app.config["SESSION_TYPE"] = "redis"
app.config["SESSION_REDIS"] = redis.Redis.from_url(os.environ.get("SESSION_REDIS_URL", "redis://127.0.0.1:6379/12"))
Session(app)
add_routes(app, aware_datetimes=True, hidden=('_permanent',))


if __name__ == "__main__":
    serve(app)
