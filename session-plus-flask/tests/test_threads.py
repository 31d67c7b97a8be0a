"""Threads: a threaded WSGI server with concurrent requests on one session loses no
different-field update, and the GIL is released while a store is waited for."""
import concurrent.futures
import threading
import time

import pytest
import redis
import requests
from flask import session

from conftest import sql_table, MONGODB_URL, POSTGRES_URL, REDIS_URL, make_app, unique

CONCURRENT = 100  # requests, each setting its own field, 16 at a time


def server_session(kind):
    prefix = unique("thr")
    if kind == "redis-native":
        return {"session_type": "redis", "url": REDIS_URL, "key_prefix": prefix, "format": "native"}
    if kind == "redis-flask-session-plus":
        return {"session_type": "redis", "url": REDIS_URL, "key_prefix": prefix}
    if kind == "postgres":
        return {"session_type": "postgres", "url": POSTGRES_URL, "table": sql_table("postgres")}
    if kind == "mongodb-flask-session-plus":
        return {"session_type": "mongodb", "url": MONGODB_URL, "table": prefix, "key_prefix": prefix}
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["redis-native", "redis-flask-session-plus", "postgres", "mongodb-flask-session-plus"])
def test_concurrent_requests_on_one_session_lose_no_field(serve, kind):
    sessions = [
        {"cookie_name": "csrf", "session_fields": ["csrf_token"]},
        {"cookie_name": "session", "session_fields": "auto", **server_session(kind)},
    ]
    app = make_app(sessions)

    @app.route("/start")
    def start():
        session["user_id"] = 7
        return "ok"

    @app.route("/set/<int:n>")
    def set_(n):
        session[f"f{n}"] = n
        return "ok"

    @app.route("/count")
    def count():
        return str(sorted(int(key[1:]) for key in session if key.startswith("f")))

    server = serve(app)
    response = requests.get(f"{server.url}/start", timeout=10)
    cookie = response.cookies["session"]
    jar = {"session": cookie}

    def one(n):
        reply = requests.get(f"{server.url}/set/{n}", cookies=jar, timeout=30)
        return reply.status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(one, range(CONCURRENT)))
    assert statuses == [200] * CONCURRENT
    reply = requests.get(f"{server.url}/count", cookies=jar, timeout=10)
    assert reply.text == str(list(range(CONCURRENT)))


def test_the_gil_is_released_during_store_io(private_redis):
    """The store is paused for 0.6 s (`CLIENT PAUSE`) while a request waits for it: a pure-Python
    thread keeps running meanwhile, which it could not if the GIL were held."""
    sessions = [{"cookie_name": "session", "session_type": "redis", "url": private_redis.url, "format": "native"}]
    app = make_app(sessions)

    @app.route("/login")
    def login():
        session["user_id"] = 7
        return "ok"

    @app.route("/read")
    def read():
        return str(session.get("user_id"))

    client = app.test_client()
    client.get("/login")
    control = redis.Redis.from_url(private_redis.url)

    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        time.sleep(0.05)
        control.execute_command("CLIENT", "PAUSE", "600", "ALL")
        before = ticks
        started = time.monotonic()
        response = client.get("/read")
        elapsed = time.monotonic() - started
        during = ticks - before
    finally:
        stop.set()
        thread.join()
    assert response.text == "7"
    assert elapsed >= 0.5, f"the store was not paused ({elapsed:.3f}s)"
    # Held, the GIL would allow a few switch intervals at most: some thousand ticks.
    assert during > 200_000, f"only {during} ticks in {elapsed:.3f}s: the GIL was held"
