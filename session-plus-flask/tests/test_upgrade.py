"""The upgrade, live: flask-session-plus 0.6.2 (its own venv, Flask 1.1.4) and this extension
(Flask 3) run the same app side by side on one Redis, and one browser (one cookie jar) goes
from one to the other. Nobody is logged out: the extension reads the original's cookies and
records and continues the same sessions, and the original reads what the extension writes."""
import json
import os
import subprocess
import sys

import pytest
import requests

from conftest import REDIS_URL, ROOT, unique

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "upgrade_app.py")
LEGACY_PYTHON = os.environ.get(
    "SESSION_PLUS_LEGACY_PYTHON", os.path.join(ROOT, "target", "python", "legacy", "bin", "python")
)
MODERN_PYTHON = os.environ.get(
    "SESSION_PLUS_MODERN_PYTHON", os.path.join(ROOT, "target", "python", "modern", "bin", "python")
)


FIRESTORE_PYTHON = os.environ.get(
    "SESSION_PLUS_FIRESTORE_PYTHON", os.path.join(ROOT, "target", "python", "firestore", "bin", "python")
)


def start(processes, python, which, prefix, **extra):
    if not os.path.exists(python):
        pytest.fail(f"{python} is missing: run session-plus/tests/python/setup_venvs.sh (scripts/test.sh does)")
    env = dict(os.environ, REDIS_URL=REDIS_URL, KEY_PREFIX=prefix, PYTHONDONTWRITEBYTECODE="1", **extra)
    process = processes([python, APP, "0", which], stdout=subprocess.PIPE, env=env, text=True)
    line = process.proc.stdout.readline()
    assert line.startswith("ready "), f"{which} app did not start: {line!r}"
    return line.split()[1]


@pytest.fixture
def apps(processes):
    prefix = unique("upg")
    original = start(processes, LEGACY_PYTHON, "original", prefix)
    extension = start(processes, sys.executable, "extension", prefix)
    return original, extension, prefix


def fields(browser, url):
    reply = browser.get(f"{url}/fields", timeout=10)
    assert reply.status_code == 200, reply.text
    return json.loads(reply.text)


LOGGED_IN = {
    "user_id": "42",
    "user_data": "{'avatar': b'\\x89PNG', 'name': 'alice', 'roles': ('admin', 'dev')}",
    "csrf_token": "'t0k3n'",
    "theme": "'dark'",
    "note": "None",
}


def test_logged_in_on_the_original_still_logged_in_on_the_extension(apps, redis_client):
    original, extension, prefix = apps
    browser = requests.Session()
    assert browser.post(f"{original}/login", timeout=10).text == "ok"
    sid = browser.cookies["session"]
    assert redis_client.exists(f"{prefix}{sid}")
    assert fields(browser, original) == LOGGED_IN

    # The upgrade: the same browser, now on the extension.
    assert fields(browser, extension) == LOGGED_IN
    assert browser.post(f"{extension}/set/note", data='"from rust"', timeout=10).text == "ok"
    assert browser.post(f"{extension}/set/user_id", data="43", timeout=10).text == "ok"
    assert browser.cookies["session"] == sid  # the same session continues, not a new one
    expected = dict(LOGGED_IN, note="'from rust'", user_id="43")
    assert fields(browser, extension) == expected
    # ... and a rollback to the original reads what the extension wrote.
    assert fields(browser, original) == expected

    # A logout on the extension ends the session for the original too.
    browser.post(f"{extension}/logout", timeout=10)
    assert not redis_client.exists(f"{prefix}{sid}")
    assert set(fields(browser, original).values()) == {"None"}


def test_logged_in_on_the_extension_read_by_the_original(apps):
    original, extension, _ = apps
    browser = requests.Session()
    assert browser.post(f"{extension}/login", timeout=10).text == "ok"
    assert fields(browser, original) == LOGGED_IN
    assert browser.post(f"{original}/set/note", data='"from python"', timeout=10).text == "ok"
    assert fields(browser, extension)["note"] == "'from python'"


def test_from_flask_session_nobody_is_logged_out(processes, redis_client):
    """docs/migrating.md for Flask-Session 0.8's users: its records (MessagePack, `session:<sid>`)
    read and written as they are."""
    prefix = unique("fs")
    flask_session = start(processes, MODERN_PYTHON, "flask-session", prefix)
    extension = start(processes, sys.executable, "extension-for-flask-session", prefix)
    browser = requests.Session()
    assert browser.post(f"{flask_session}/login", timeout=10).text == "ok"
    sid = browser.cookies["session"]
    assert redis_client.exists(f"{prefix}:{sid}")
    before = fields(browser, extension)
    # MessagePack has no tuple: Flask-Session itself gives the roles back as a list.
    assert before == fields(browser, flask_session)
    assert before["user_id"] == "42" and before["theme"] == "'dark'"
    assert browser.post(f"{extension}/set/note", data='"from rust"', timeout=10).text == "ok"
    assert browser.cookies["session"] == sid
    assert fields(browser, flask_session)["note"] == "'from rust'"
    browser.post(f"{extension}/logout", timeout=10)
    assert not redis_client.exists(f"{prefix}:{sid}")
    assert fields(browser, flask_session)["user_id"] == "None"


def test_firestore_sessions_of_the_unpatched_original_continue(processes):
    """flask-session-plus 0.6.2's Firestore backend writes as released (no patch): its documents
    (native values: a tuple is an array there) are read and continued by the extension."""
    prefix = unique("fsupg")
    original = start(processes, FIRESTORE_PYTHON, "original-unpatched", prefix, STORE="firestore")
    extension = start(processes, sys.executable, "extension", prefix, STORE="firestore")
    browser = requests.Session()
    assert browser.post(f"{original}/login", timeout=10).text == "ok"
    sid = browser.cookies["session"]
    expected = dict(LOGGED_IN, user_data="{'avatar': b'\\x89PNG', 'name': 'alice', 'roles': ['admin', 'dev']}")
    assert fields(browser, original) == expected
    assert fields(browser, extension) == expected
    assert browser.post(f"{extension}/set/user_id", data="43", timeout=10).text == "ok"
    assert browser.cookies["session"] == sid
    assert fields(browser, original)["user_id"] == "43"
    browser.post(f"{extension}/logout", timeout=10)
    assert set(fields(browser, original).values()) == {"None"}
