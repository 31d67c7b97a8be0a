"""Shared fixtures: real servers (their URLs from scripts/services.sh's environment, the same
defaults), apps built from a SESSION_CONFIG, and a helper to read Set-Cookie headers.

A server that is not running fails the tests that need it: nothing here is skipped or mocked.
"""
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
from flask import Flask

from session_plus_flask import Session

SECRET = "dev-secret-key"
LONG_SECRET = "a test key for native sessions, at least 32 bytes long"

REDIS_URL = os.environ.get("SESSION_PLUS_REDIS_URL", "redis://127.0.0.1:6379/0")
MEMCACHED_URL = os.environ.get("SESSION_PLUS_MEMCACHED_URL", "memcache://127.0.0.1:11211?timeout=2")
POSTGRES_URL = os.environ.get("SESSION_PLUS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("SESSION_PLUS_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
MONGODB_URL = os.environ.get(
    "SESSION_PLUS_MONGODB_URL", "mongodb://127.0.0.1:27018/session_plus_test?directConnection=true"
)
FIRESTORE_HOST = os.environ.setdefault("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8085")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def unique(prefix="t"):
    """A name no other test (or earlier run) uses: key prefixes, tables, collections."""
    return f"{prefix}{secrets.token_hex(4)}"


SQL_TABLES = []  # (kind, table) created by the tests, dropped when the run ends


def sql_table(kind):
    table = unique("spflask_")
    SQL_TABLES.append((kind, table))
    return table


def pytest_sessionfinish(session, exitstatus):
    """Drops the SQL tables the run created (Redis keys expire; the other servers' data is in
    memory or in collections of their own)."""
    for kind, table in SQL_TABLES:
        if kind == "postgres":
            command = ["psql", "-q", POSTGRES_URL.replace("postgres://", "postgresql://", 1), "-c"]
        else:
            parsed = urllib.parse.urlparse(MYSQL_URL)
            command = ["mariadb", f"-u{parsed.username or 'root'}", f"-h{parsed.hostname}",
                       f"-P{parsed.port or 3306}", parsed.path.lstrip("/"), "-e"]
        subprocess.run([*command, f"DROP TABLE IF EXISTS {table}"], capture_output=True, check=False)


def make_app(sessions, secret=SECRET, **config):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret
    app.config["SESSION_CONFIG"] = sessions
    app.config.update(config)
    Session(app)
    return app


def set_cookies(response):
    """{name: (value, attributes)} of a response's Set-Cookie headers."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        pair, _, attributes = header.partition(";")
        name, _, value = pair.partition("=")
        cookies[name.strip()] = (value.strip(), attributes)
    return cookies


def is_removal(attributes):
    return "Max-Age=0" in attributes or re.search(r"Expires=Thu, 01 Jan 1970", attributes) is not None


@pytest.fixture(scope="session")
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    return client


@pytest.fixture(scope="session")
def mongo_db():
    import pymongo

    parsed = urllib.parse.urlparse(MONGODB_URL)
    client = pymongo.MongoClient(MONGODB_URL, tz_aware=True)
    return client[parsed.path.lstrip("/")]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


class Server:
    """A WSGI app on a threaded server (Werkzeug's, as `flask run` uses) on a free port."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def serve():
    servers = []

    def start(app):
        server = Server(app)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


class Process:
    """A child process, ended when the test ends (by its own pid)."""

    def __init__(self, args, **kwargs):
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kwargs)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def processes():
    started = []

    def start(args, **kwargs):
        process = Process(args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def private_redis(processes):
    """A redis-server of this test's own on a free port, to stop and start again (an outage)."""

    class PrivateRedis:
        def __init__(self):
            self.port = free_port()
            self.url = f"redis://127.0.0.1:{self.port}/0"
            self.process = None
            self.start()

        def start(self):
            self.process = processes(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
            wait_for_port(self.port)

        def stop(self):
            self.process.stop()

    return PrivateRedis()


PYTHON = sys.executable
