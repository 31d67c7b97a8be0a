"""Every bug of flask-session-plus 0.6.2 listed in shared/spec/flask-wire.md §1e, fixed, tested
from Python against the real servers. Numbers are the list's."""
import json
import time
import uuid

import pytest
from flask import make_response, session

from conftest import MEMCACHED_URL, REDIS_URL, SECRET, is_removal, make_app, set_cookies, unique


def fsp_sessions(kind="redis", prefix=None, **server):
    """The original's shape: csrf cookie, a server session, an `auto` cookie; its formats (the
    extension's default for its session types)."""
    url = {"redis": REDIS_URL, "memcache": MEMCACHED_URL}[kind]
    return [
        {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
        {
            "cookie_name": "session",
            "session_type": kind,
            "url": url,
            "key_prefix": prefix or unique("bug"),
            "session_fields": ["user_id", "cart"],
            **server,
        },
        {"cookie_name": "data", "session_type": "secure_cookie", "session_fields": "auto"},
    ]


def routes(app):
    @app.route("/login")
    def login():
        session["user_id"] = 42
        session["cart"] = ("sku-1", 2)
        session["csrf_token"] = "t0k3n"
        session["theme"] = "dark"
        return "ok"

    @app.route("/whoami")
    def whoami():
        return json.dumps([session.get("user_id"), session.get("theme"), session.get("csrf_token")])

    @app.route("/theme")
    def theme():
        return str(session.get("theme"))

    @app.route("/logout")
    def logout():
        session.clear()
        return "bye"

    return app


def test_bug_1_redis_records_are_written_in_the_original_format(redis_client):
    prefix = unique("bug1")
    app = routes(make_app(fsp_sessions("redis", prefix)))
    sid = set_cookies(app.test_client().get("/login"))["session"][0]
    uuid.UUID(sid)  # flask-session-plus's sid: a uuid4
    raw = redis_client.get(f"{prefix}{sid}")
    assert raw is not None, "nothing written"
    assert json.loads(raw) == {"_permanent": False, "cart": {" t": ["sku-1", 2]}, "user_id": 42}
    assert 86000 < redis_client.ttl(f"{prefix}{sid}") <= 86400


def test_bug_1_memcached_records_are_written_in_the_original_format():
    from pymemcache.client.base import Client

    host_port = MEMCACHED_URL.split("://", 1)[1].split("?", 1)[0].rsplit(":", 1)
    memcached = Client((host_port[0], int(host_port[1])))
    prefix = unique("bug1m")
    app = routes(make_app(fsp_sessions("memcache", prefix)))
    sid = set_cookies(app.test_client().get("/login"))["session"][0]
    raw = memcached.get(f"{prefix}{sid}")
    assert raw is not None, "nothing written"
    assert json.loads(raw)["user_id"] == 42


@pytest.mark.parametrize("fields", ["auto", [], {"exclude": ["csrf_token"]}])
def test_bug_2_all_field_and_auto_sessions_save_and_clear(fields):
    sessions = [
        {"cookie_name": "csrf", "session_fields": ["csrf_token"]},
        {"cookie_name": "data", "session_fields": fields},
    ]
    app = routes(make_app(sessions))
    client = app.test_client()
    assert set(set_cookies(client.get("/login"))) >= {"data"}
    assert client.get("/theme").text == "dark"
    cookies = set_cookies(client.get("/logout"))
    assert is_removal(cookies["data"][1])
    assert client.get("/theme").text == "None"  # logout works: the theme does not come back


def test_bug_2_logout_deletes_the_server_record(redis_client):
    prefix = unique("bug2")
    app = routes(make_app(fsp_sessions("redis", prefix, session_fields=[])))
    client = app.test_client()
    sid = set_cookies(client.get("/login"))["session"][0]
    assert redis_client.exists(f"{prefix}{sid}")
    client.get("/logout")
    assert not redis_client.exists(f"{prefix}{sid}")


def test_bug_4_vary_cookie_on_a_read():
    app = routes(make_app(fsp_sessions()))
    client = app.test_client()
    client.get("/login")
    response = client.get("/theme")
    assert response.headers["Vary"] == "Cookie"


def test_vary_keeps_the_views_own_and_names_cookie_once():
    app = make_app(fsp_sessions())

    @app.route("/negotiated/<vary>")
    def negotiated(vary):
        response = make_response(session.get("theme", "light"))
        response.headers["Vary"] = vary
        return response

    client = app.test_client()
    assert client.get("/negotiated/Accept-Encoding").headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    assert client.get("/negotiated/cookie").headers.getlist("Vary") == ["cookie"]
    assert client.get("/negotiated/Origin, Cookie").headers.getlist("Vary") == ["Origin, Cookie"]


def test_bug_5_unknown_ids_are_replaced_never_adopted(redis_client):
    prefix = unique("bug5")
    app = routes(make_app(fsp_sessions("redis", prefix)))
    client = app.test_client()
    chosen = str(uuid.uuid4())
    client.set_cookie("session", chosen)
    sid = set_cookies(client.get("/login"))["session"][0]
    assert sid != chosen
    assert not redis_client.exists(f"{prefix}{chosen}")
    assert redis_client.exists(f"{prefix}{sid}")


@pytest.mark.filterwarnings("ignore:The .* cookie is too large")  # sent on purpose
def test_bug_5_malformed_ids_never_reach_the_store(redis_client):
    prefix = unique("bug5m")
    # What an attacker could plant: the original read `sessionadmin` for the cookie `session=admin`.
    redis_client.set(f"{prefix}admin", json.dumps({"_permanent": False, "user_id": 1}), ex=60)
    app = routes(make_app(fsp_sessions("redis", prefix)))
    for bad in ("admin", "../x", "*", "a" * 5000):
        client = app.test_client()
        client.set_cookie("session", bad)
        response = client.get("/whoami")
        assert response.status_code == 200
        assert json.loads(response.text)[0] is None


def test_bug_6_regenerate_gives_new_ids_and_drops_the_old_record(redis_client):
    prefix = unique("bug6")
    app = routes(make_app(fsp_sessions("redis", prefix)))

    @app.route("/regenerate")
    def regenerate():
        session.regenerate()
        return "ok"

    client = app.test_client()
    old = set_cookies(client.get("/login"))["session"][0]
    new = set_cookies(client.get("/regenerate"))["session"][0]
    assert new != old
    assert not redis_client.exists(f"{prefix}{old}") and redis_client.exists(f"{prefix}{new}")
    assert json.loads(client.get("/whoami").text)[0] == 42


@pytest.mark.parametrize("format", ["flask-session-plus", "native"])
def test_bug_7_and_8_expiry_is_enforced_on_the_server(format):
    """Cookie sessions expire under their signature; a server record with its TTL; a replayed
    cookie after its idle lifetime is refused whatever the browser does."""
    secret = SECRET if format != "native" else "a test key for native sessions, at least 32 bytes long"
    sessions = fsp_sessions("redis", session_lifetime=1)
    sessions[2]["session_lifetime"] = 1
    sessions[2]["format"] = format
    sessions[1]["format"] = format
    app = routes(make_app(sessions, secret=secret))
    client = app.test_client()
    cookies = {name: value for name, (value, _) in set_cookies(client.get("/login")).items()}
    assert json.loads(client.get("/whoami").text)[:2] == [42, "dark"]
    time.sleep(2.2)
    replay = app.test_client()
    for name, value in cookies.items():
        replay.set_cookie(name, value)
    assert json.loads(replay.get("/whoami").text)[:2] == [None, None]


def test_bug_9_a_permanent_cookie_session_stays_permanent():
    app = routes(make_app(fsp_sessions()))

    @app.route("/remember")
    def remember():
        session["theme"] = "dark"
        session.set_permanent("data")
        return "ok"

    @app.route("/touch")
    def touch():
        session["theme"] = "light"
        return "ok"

    client = app.test_client()
    assert "Max-Age=2678400" in set_cookies(client.get("/remember"))["data"][1]
    assert "Max-Age=2678400" in set_cookies(client.get("/touch"))["data"][1]


def test_bug_10_server_cookies_carry_samesite_and_removals_keep_the_attributes():
    sessions = fsp_sessions()
    for config in sessions:
        config.update(cookie_secure=True, cookie_samesite="Strict", cookie_path="/")
    app = routes(make_app(sessions))
    client = app.test_client()
    cookies = set_cookies(client.get("/login", base_url="https://localhost"))
    assert "SameSite=Strict" in cookies["session"][1] and "Secure" in cookies["session"][1]
    removed = set_cookies(client.get("/logout", base_url="https://localhost"))
    for name in ("csrf", "session", "data"):
        assert "Secure" in removed[name][1] and "SameSite=Strict" in removed[name][1]
        assert "HttpOnly" in removed[name][1]


def test_bug_13_update_with_keywords_and_pairs():
    app = routes(make_app(fsp_sessions()))

    @app.route("/update")
    def update():
        session.update(theme="blue")
        session.update([("csrf_token", "pair")])
        return "ok"

    client = app.test_client()
    assert client.get("/update").status_code == 200
    assert json.loads(client.get("/whoami").text)[1:] == ["blue", "pair"]


def test_bug_14_a_corrupt_record_is_no_session_not_a_500(redis_client):
    prefix = unique("bug14")
    app = routes(make_app(fsp_sessions("redis", prefix)))
    client = app.test_client()
    sid = set_cookies(client.get("/login"))["session"][0]
    redis_client.set(f"{prefix}{sid}", b"\x80\x04pickle or garbage", ex=60)
    response = client.get("/whoami")
    assert response.status_code == 200
    assert json.loads(response.text)[0] is None


def test_bug_16_a_store_that_is_down_is_a_clear_error_never_a_silent_loss(private_redis):
    sessions = fsp_sessions("redis", url=private_redis.url)
    app = routes(make_app(sessions))
    client = app.test_client()
    sid = set_cookies(client.get("/login"))["session"][0]
    private_redis.stop()
    response = client.get("/whoami")
    assert response.status_code == 503
    assert sid not in response.text and "session" not in set_cookies(response)
    assert response.headers["Cache-Control"] == "no-store"

    fresh = app.test_client()  # a new visitor's write: refused at the save, nothing half-sent
    response = fresh.get("/login")
    assert response.status_code == 500
    assert "session" not in set_cookies(response)
    assert "Internal Server Error" not in response.text or sid not in response.text

    private_redis.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = app.test_client().get("/login")
        if response.status_code == 200:
            break
        time.sleep(0.2)
    assert response.status_code == 200  # the same app recovers


def test_stores_unreachable_when_the_process_starts_answer_503_until_they_are_back(private_redis):
    private_redis.stop()
    app = routes(make_app(fsp_sessions("redis", url=private_redis.url)))

    @app.route("/plain")
    def plain():
        return "no session used"

    client = app.test_client()
    assert client.get("/whoami").status_code == 503
    assert client.get("/plain").text == "no session used"
    private_redis.start()
    assert client.get("/login").status_code == 200
    assert json.loads(client.get("/whoami").text)[0] == 42
