"""Every session type of the Rust core, on the real servers, through Flask: a login writes, the
next request reads, a logout deletes the record and expires the cookie, and replaying the old
cookie afterwards restores nothing. The original's four server backends are also configured as
its README shows, with a `client` object."""
import os
import tempfile

import pytest
from flask import session

from conftest import (
    sql_table,
    FIRESTORE_HOST,
    LONG_SECRET,
    MEMCACHED_URL,
    MONGODB_URL,
    MYSQL_URL,
    POSTGRES_URL,
    REDIS_URL,
    is_removal,
    make_app,
    set_cookies,
    unique,
)


def memcached_address():
    host_port = MEMCACHED_URL.split("://", 1)[1].split("?", 1)[0]
    host, port = host_port.rsplit(":", 1)
    return host, int(port)


def mongo_parts():
    import urllib.parse

    parsed = urllib.parse.urlparse(MONGODB_URL)
    return parsed.hostname, parsed.port, parsed.path.lstrip("/")


def backend(kind):
    """(session keys, format) of a server session of `kind` with a fresh key space."""
    prefix = unique("fl")
    if kind == "memory":
        return {"session_type": "memory"}
    if kind == "sqlite":
        return {"session_type": "sqlite", "path": os.path.join(tempfile.mkdtemp(), "s.db")}
    if kind == "postgres":
        return {"session_type": "postgres", "url": POSTGRES_URL, "table": sql_table("postgres")}
    if kind == "mysql":
        return {"session_type": "mysql", "url": MYSQL_URL, "table": sql_table("mysql")}
    if kind.startswith("redis"):
        config = {"session_type": "redis", "key_prefix": prefix}
        if kind == "redis-client":
            import redis

            config["client"] = redis.Redis.from_url(REDIS_URL)
        else:
            config["url"] = REDIS_URL
        return config
    if kind.startswith("memcache"):
        config = {"session_type": "memcache", "key_prefix": prefix}
        if kind == "memcache-python-memcached":
            import memcache

            host, port = memcached_address()
            config["client"] = memcache.Client([f"{host}:{port}"])
        elif kind == "memcache-pymemcache":
            from pymemcache.client.base import Client

            config["client"] = Client(memcached_address())
        else:
            config["url"] = MEMCACHED_URL
        return config
    if kind.startswith("mongodb"):
        config = {"session_type": "mongodb", "key_prefix": prefix}
        if kind == "mongodb-client":
            import pymongo

            host, port, database = mongo_parts()
            config.update(client=pymongo.MongoClient(host, port, directConnection=True), db=database, collection=prefix)
        else:
            config.update(url=MONGODB_URL, table=prefix)
        return config
    if kind.startswith("firestore"):
        config = {"session_type": "firestore", "key_prefix": prefix, "collection": prefix}
        if kind == "firestore-client":
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import firestore

            config["client"] = firestore.Client(project="session-plus-flask", credentials=AnonymousCredentials())
        else:
            config["url"] = f"firestore://session-plus-flask?emulator={FIRESTORE_HOST}"
        return config
    raise ValueError(kind)


SERVER_KINDS = [
    "memory",
    "sqlite",
    "postgres",
    "mysql",
    "redis",
    "redis-client",
    "memcache",
    "memcache-python-memcached",
    "memcache-pymemcache",
    "mongodb",
    "mongodb-client",
    "firestore",
    "firestore-client",
]
ORIGINAL = {"redis", "memcache", "mongodb", "firestore"}


def three_sessions(kind, format=None):
    server = {"cookie_name": "session", "session_fields": ["user_id", "user_data"], **backend(kind)}
    if format:
        server["format"] = format
    return [
        {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
        server,
        {"cookie_name": "data", "session_type": "secure_cookie", "session_fields": "auto"},
    ]


def login_app(sessions):
    app = make_app(sessions, secret=LONG_SECRET)

    @app.route("/login")
    def login():
        session["user_id"] = 42
        session["user_data"] = {"name": "alice", "roles": ("admin",)}
        session["csrf_token"] = "t0k3n"
        session["theme"] = "dark"
        return "ok"

    @app.route("/whoami")
    def whoami():
        return repr((session.get("user_id"), session.get("user_data"), session.get("theme")))

    @app.route("/logout")
    def logout():
        session.clear()
        return "bye"

    @app.route("/sid")
    def sid():
        assert session.sid["csrf"] is None and session.get_sid("data") is None
        return session.sid["session"]

    return app


def formats(kind):
    base = kind.split("-")[0]
    return ["native", "flask-session-plus"] if base in ORIGINAL else ["native"]


@pytest.mark.parametrize(
    "kind, format", [(kind, format) for kind in SERVER_KINDS for format in formats(kind)]
)
def test_login_read_logout_replay(kind, format):
    app = login_app(three_sessions(kind, format))
    client = app.test_client()
    response = client.get("/login")
    assert response.status_code == 200, response.text
    cookies = set_cookies(response)
    assert set(cookies) == {"csrf", "session", "data"}
    assert "alice" not in cookies["session"][0]  # an id, the data is on the server
    assert response.headers["Vary"] == "Cookie"
    assert "private" in response.headers["Cache-Control"]
    # flask-session-plus keeps Firestore fields as native values: a tuple comes back a list there.
    roles = "['admin']" if (kind.startswith("firestore") and format != "native") else "('admin',)"
    assert client.get("/whoami").text == f"(42, {{'name': 'alice', 'roles': {roles}}}, 'dark')"

    sid = client.get("/sid").text
    assert sid == cookies["session"][0] or cookies["session"][0].startswith(sid + ".")

    stolen = {name: value for name, (value, _) in cookies.items()}
    response = client.get("/logout")
    removed = set_cookies(response)
    assert all(is_removal(removed[name][1]) for name in ("csrf", "session", "data")), removed
    assert client.get("/whoami").text == "(None, None, None)"

    replay = app.test_client()
    for name, value in stolen.items():
        replay.set_cookie(name, value)
    # The server record is gone: the id is refused. The cookie sessions were not bound, so
    # their copies remain valid until they expire (see the docs' `bind_to`).
    assert replay.get("/whoami").text.startswith("(None, None,")


def test_a_bound_cookie_session_is_revoked_by_logout():
    sessions = three_sessions("redis", "native")
    sessions[2]["format"] = "native"
    sessions[2]["bind_to"] = "session"
    app = login_app(sessions)
    client = app.test_client()
    stolen = {name: value for name, (value, _) in set_cookies(client.get("/login")).items()}
    client.get("/logout")
    replay = app.test_client()
    for name, value in stolen.items():
        replay.set_cookie(name, value)
    assert replay.get("/whoami").text == "(None, None, None)"


def test_a_request_that_reads_only_the_csrf_cookie_never_loads_the_server_session(private_redis):
    """Lazy: the store is contacted only for a field it owns (here: the store is down)."""
    sessions = three_sessions("redis")
    sessions[1]["url"] = private_redis.url
    app = login_app(sessions)

    @app.route("/csrf")
    def csrf():
        return str(session.get("csrf_token"))

    client = app.test_client()
    client.get("/login")
    private_redis.stop()
    response = client.get("/csrf")
    assert response.status_code == 200 and response.text == "t0k3n"


def test_end_user_sessions_logs_out_every_browser_of_that_user():
    sessions = three_sessions("redis", "native")
    app = login_app(sessions)

    @app.route("/tie")
    def tie():
        session.set_user(session["user_id"])
        return "ok"

    phone, laptop, other = app.test_client(), app.test_client(), app.test_client()
    for browser in (phone, laptop):
        browser.get("/login")
        browser.get("/tie")
    other.get("/login")  # another visitor, not tied
    with app.app_context():
        app.session_interface.end_user_sessions(app, 42)
    assert phone.get("/whoami").text.startswith("(None, None,")
    assert laptop.get("/whoami").text.startswith("(None, None,")
    assert other.get("/whoami").text.startswith("(42,")


def test_purge_expired_on_a_store_without_native_expiry():
    sessions = three_sessions("postgres")
    sessions[1]["session_lifetime"] = 1
    app = login_app(sessions)
    app.test_client().get("/login")
    import time

    time.sleep(2.1)
    assert app.session_interface.purge_expired(app) >= 1
