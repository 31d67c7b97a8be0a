"""flask-session-plus's API: Session(app) / init_app, SESSION_CONFIG's keys, the session as the
dict it is in Flask, and Flask's tagged value types."""
import copy
import datetime
import json
import subprocess
import sys
import uuid

import pytest
from flask import Flask, session
from markupsafe import Markup

from session_plus_flask import ConfigurationError, Session, SessionUsageError
from conftest import LONG_SECRET, SECRET, is_removal, make_app, set_cookies

THREE = [
    {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
    {"cookie_name": "data", "session_type": "secure_cookie", "session_fields": "auto"},
]


def test_session_app_and_init_app_install_the_interface():
    app = make_app(copy.deepcopy(THREE))
    assert type(app.session_interface).__name__ == "SessionPlusInterface"
    app2 = Flask(__name__)
    app2.config.update(SECRET_KEY=SECRET, SESSION_CONFIG=copy.deepcopy(THREE))
    extension = Session()
    extension.init_app(app2)
    assert type(app2.session_interface).__name__ == "SessionPlusInterface"


def test_configuration_is_not_mutated_and_a_second_session_app_changes_nothing():
    """§1e bug 11: the original popped session_type and rewrote 'auto' in place."""
    config = [
        {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
        {"cookie_name": "s", "session_type": "memory", "session_fields": "auto"},
    ]
    before = copy.deepcopy(config)
    app = make_app(config)
    Session(app)
    assert app.config["SESSION_CONFIG"] == before

    @app.route("/")
    def index():
        session["user"] = "alice"
        return "ok"

    cookies = set_cookies(app.test_client().get("/"))
    # `s` is still a server session: its cookie holds an id, not the data
    assert "alice" not in cookies["s"][0] and len(cookies["s"][0]) == 43


@pytest.mark.parametrize(
    "config, message",
    [
        ([{"session_type": "secure_cookie"}], "must define a cookie name"),
        ([{"cookie_name": "a", "cookie_samsite": "Lax"}], "cookie_samsite"),
        ([{"cookie_name": "a", "session_fields": "auto"}, {"cookie_name": "b", "session_fields": "auto"}], "auto"),
        ([{"cookie_name": "a"}, {"cookie_name": "a"}], "a"),
        ([{"cookie_name": "a", "session_type": "nosql"}], "session_type"),
        ([{"cookie_name": "a", "session_fields": 3}], "session_fields"),
        ([{"cookie_name": "a", "session_type": "redis"}], "url"),
        ([{"cookie_name": "a", "session_lifetime": "forever"}], "session_lifetime"),
    ],
)
def test_a_bad_configuration_is_refused_at_start_up_naming_the_key(config, message):
    with pytest.raises(ConfigurationError, match=message):
        make_app(config)


def test_default_configuration_is_one_cookie_with_every_field():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    Session(app)

    @app.route("/")
    def index():
        session["a"] = 1
        return "ok"

    cookies = set_cookies(app.test_client().get("/"))
    assert list(cookies) == ["session"]


def app_with_routes(sessions=None):
    app = make_app(copy.deepcopy(sessions or THREE))
    values = {}

    @app.route("/set/<key>")
    def set_(key):
        session[key] = values[key]
        return "ok"

    @app.route("/dict")
    def as_dict():
        return repr(sorted(dict(session).items()))

    @app.route("/same/<key>")
    def same(key):
        value = session[key]
        assert type(value) is type(values[key]), (type(value), type(values[key]))
        assert value == values[key]
        return "same"

    return app, values


VALUES = {
    "tuple": (1, "a", (2, 3)),
    "bytes": b"\x00\xfb\xff hello",
    "datetime": datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc),
    "markup": Markup("<b>hi</b> & bye"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "bigint": 2**70,
    "nested": {"list": [1, {"b": b"x"}], "unicode": "héllo ✓ 𝄞", "none": None, "float": 1e-05},
}


@pytest.mark.parametrize("key", sorted(VALUES))
def test_flask_tagged_types_round_trip(key):
    app, values = app_with_routes()
    values.update(VALUES)
    client = app.test_client()
    client.get(f"/set/{key}")
    assert client.get(f"/same/{key}").text == "same"


def test_values_are_written_as_flasks_tagged_json():
    from flask.json.provider import _default
    from flask.sessions import session_json_serializer

    from session_plus_flask.session import dumps

    def reference(value):
        return json.dumps(session_json_serializer.tag(value), separators=(",", ":"), default=_default, allow_nan=False)

    for value in ["héllo", 5, 2.5, True, None, 2**70, Markup("<b>"), (1, 2), {"a": [1, b"x"]}, *VALUES.values()]:
        assert dumps(value) == reference(value), value


# An app's own tag, registered before or after the extension is imported; run in a fresh
# interpreter, so the registration leaves this one's serializer as Flask made it.
INT_TAG_SCRIPT = """
from flask.json.tag import JSONTag
from flask.sessions import session_json_serializer

class TagInt(JSONTag):
    key = " int"
    def check(self, value):
        return type(value) is int
    def to_json(self, value):
        return str(value)
    def to_python(self, value):
        return int(value)

if {import_first}:
    from session_plus_flask.session import dumps, loads
session_json_serializer.register(TagInt, index=0)
from session_plus_flask.session import dumps, loads
print(dumps(5), loads(dumps(5)))
session_json_serializer.order.remove(session_json_serializer.tags.pop(" int"))
print(dumps(5))
"""


@pytest.mark.parametrize("import_first", [True, False], ids=["registered-after-import", "registered-before-import"])
def test_a_tag_the_app_registers_applies_to_plain_values_too(import_first):
    script = INT_TAG_SCRIPT.format(import_first=import_first)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    tagged, untagged = result.stdout.splitlines()
    assert tagged == '{" int":"5"} 5'
    assert untagged == "5"


def test_a_value_flask_cannot_store_fails_at_assignment():
    app = make_app(copy.deepcopy(THREE))

    @app.route("/")
    def index():
        with pytest.raises(TypeError):
            session["s"] = {1, 2}
        with pytest.raises(ValueError):
            session["n"] = float("nan")
        return "ok"

    assert app.test_client().get("/").status_code == 200


def test_the_session_behaves_as_a_dict():
    app = make_app(copy.deepcopy(THREE))
    seen = {}

    @app.route("/write")
    def write():
        assert not session.modified
        assert session.get("missing") is None and session.get("missing", 7) == 7
        assert "csrf_token" not in session
        with pytest.raises(KeyError):
            session["missing"]
        assert not session.modified
        session["csrf_token"] = "t0k3n"
        assert session.modified
        session.update({"a": 1}, b=2)
        session.update([("c", 3)])
        assert session.setdefault("a", 100) == 1
        assert session.setdefault("d", [4]) == [4]
        assert session.pop("c") == 3
        assert session.pop("c", "gone") == "gone"
        with pytest.raises(KeyError):
            session.pop("c")
        del session["b"]
        with pytest.raises(KeyError):
            del session["b"]
        seen["write"] = dict(session)
        return "ok"

    @app.route("/read")
    def read():
        seen["keys"] = sorted(session.keys())
        seen["len"] = len(session)
        seen["items"] = sorted(session.items())
        seen["in"] = "a" in session and "b" not in session
        return "ok"

    client = app.test_client()
    client.get("/write")
    assert seen["write"] == {"csrf_token": "t0k3n", "a": 1, "d": [4]}
    client.get("/read")
    assert seen["keys"] == ["a", "csrf_token", "d"]
    assert seen["len"] == 3
    assert seen["items"] == [("a", 1), ("csrf_token", "t0k3n"), ("d", [4])]
    assert seen["in"]


def test_clear_and_popitem():
    app = make_app(copy.deepcopy(THREE))

    @app.route("/fill")
    def fill():
        session["csrf_token"] = "x"
        session["theme"] = "dark"
        return "ok"

    @app.route("/popitem")
    def popitem():
        key, value = session.popitem()
        return f"{key}={value}"

    @app.route("/clear")
    def clear():
        session.clear()
        assert dict(session) == {}
        return "ok"

    client = app.test_client()
    client.get("/fill")
    assert client.get("/popitem").text in ("csrf_token=x", "theme=dark")
    client.get("/fill")
    response = client.get("/clear")
    cookies = set_cookies(response)
    assert is_removal(cookies["csrf"][1]) and is_removal(cookies["data"][1])


def test_a_nested_change_is_saved_with_or_without_modified():
    """§1e bug 3: `session.modified = True` after a nested change was ignored."""
    sessions = [{"cookie_name": "s", "session_type": "memory", "session_fields": "auto"}]
    app = make_app(sessions)

    @app.route("/start")
    def start():
        session["cart"] = ["a"]
        session["prefs"] = {"theme": "light"}
        return "ok"

    @app.route("/append")
    def append():
        session["cart"].append("b")
        session.modified = True
        return "ok"

    @app.route("/nested")
    def nested():
        session["prefs"]["theme"] = "dark"  # no `modified`: kept all the same
        return "ok"

    @app.route("/read")
    def read():
        return f"{session['cart']} {session['prefs']}"

    client = app.test_client()
    client.get("/start")
    client.get("/append")
    client.get("/nested")
    assert client.get("/read").text == "['a', 'b'] {'theme': 'dark'}"


def test_set_permanent_by_name_and_flask_permanent():
    sessions = [
        {"cookie_name": "csrf", "session_fields": ["csrf_token"]},
        {"cookie_name": "s", "session_type": "memory", "session_fields": "auto", "session_permanent_lifetime": 3600},
    ]
    app = make_app(sessions)

    @app.route("/login")
    def login():
        session["user"] = "alice"
        session["csrf_token"] = "x"
        session.set_permanent("s")
        assert session.is_permanent("s") and not session.is_permanent("csrf")
        assert not session.permanent
        return "ok"

    @app.route("/all")
    def all_():
        session.permanent = True
        assert session.permanent and session.is_permanent("csrf")
        return "ok"

    @app.route("/remove")
    def remove():
        session.set_permanent("s", remove=True)
        return str(session.is_permanent("s"))

    @app.route("/unknown")
    def unknown():
        with pytest.raises(SessionUsageError, match="nope"):
            session.set_permanent("nope")
        return "ok"

    client = app.test_client()
    cookies = set_cookies(client.get("/login"))
    assert "Max-Age=3600" in cookies["s"][1] or "Expires=" in cookies["s"][1]
    assert "Expires" not in cookies["csrf"][1] and "Max-Age" not in cookies["csrf"][1]
    cookies = set_cookies(client.get("/all"))
    assert "Expires=" in cookies["csrf"][1] or "Max-Age=" in cookies["csrf"][1]
    response = client.get("/remove")
    assert response.text == "False"
    assert "Expires" not in set_cookies(response)["s"][1]
    assert client.get("/unknown").status_code == 200


def test_a_field_no_session_owns_is_an_error_not_a_silent_drop():
    sessions = [{"cookie_name": "csrf", "session_fields": ["csrf_token"]}]
    app = make_app(sessions)

    @app.route("/")
    def index():
        with pytest.raises(SessionUsageError, match="theme"):
            session["theme"] = "dark"
        return "ok"

    assert app.test_client().get("/").status_code == 200


def test_lifetimes_as_timedelta_or_seconds_and_cookie_attributes():
    sessions = [
        {
            "cookie_name": "s",
            "session_type": "memory",
            "session_lifetime": datetime.timedelta(hours=2),
            "session_permanent_lifetime": 7200,
            "cookie_secure": True,
            "cookie_httponly": False,
            "cookie_samesite": "Strict",
            "cookie_domain": "example.test",
            "cookie_path": "/app",
            "cookie_max_age": datetime.timedelta(minutes=5),
        }
    ]
    app = make_app(sessions)

    @app.route("/app/")
    def index():
        session["a"] = 1
        return "ok"

    attributes = set_cookies(app.test_client().get("/app/", base_url="https://example.test"))["s"][1]
    assert "Secure" in attributes and "HttpOnly" not in attributes
    assert "SameSite=Strict" in attributes and "Path=/app" in attributes
    assert "Domain=example.test" in attributes and "Max-Age=300" in attributes


@pytest.mark.parametrize("format", ["native", "flask-session-plus"])
def test_secret_key_fallbacks_are_the_key_ring(format):
    old = make_app([{"cookie_name": "s", "format": format}], secret=LONG_SECRET + " old")

    @old.route("/set")
    def set_():
        session["a"] = 1
        return "ok"

    value = set_cookies(old.test_client().get("/set"))["s"][0]
    new = make_app(
        [{"cookie_name": "s", "format": format}], secret=LONG_SECRET + " new", SECRET_KEY_FALLBACKS=[LONG_SECRET + " old"]
    )

    @new.route("/get")
    def get():
        return str(session.get("a"))

    client = new.test_client()
    client.set_cookie("s", value)
    response = client.get("/get")
    assert response.text == "1"
    assert set_cookies(response)["s"][0] != value  # re-issued under the new key
    stranger = make_app([{"cookie_name": "s", "format": format}], secret=LONG_SECRET + " new")
    stranger.route("/get")(get)
    client = stranger.test_client()
    client.set_cookie("s", value)
    assert client.get("/get").text == "None"


@pytest.mark.filterwarnings("ignore:The .* cookie is too large")  # sent on purpose
def test_tampered_cookie_is_an_empty_session_not_an_error():
    app, values = app_with_routes()
    values["theme"] = "dark"
    client = app.test_client()
    value = set_cookies(client.get("/set/theme"))["data"][0]
    for bad in (value[:-1] + ("A" if value[-1] != "A" else "B"), "garbage", "." * 5000, value + "x"):
        client.set_cookie("data", bad)
        response = client.get("/dict")
        assert response.status_code == 200 and response.text == "[]"


def test_a_secret_key_that_looks_like_an_environment_reference_is_used_as_it_is():
    app = make_app([{"cookie_name": "s", "cookie_samesite": "strict"}], secret="env:NOT_A_VARIABLE")

    @app.route("/")
    def index():
        session["a"] = 1
        return "ok"

    response = app.test_client().get("/")
    assert response.status_code == 200
    assert "SameSite=Strict" in set_cookies(response)["s"][1]


def test_use_signer_signs_the_id_as_the_original_does():
    import hashlib
    import hmac

    from itsdangerous import Signer

    sessions = [{"cookie_name": "s", "session_type": "memory", "use_signer": True, "format": "flask-session-plus"}]
    with pytest.raises(ConfigurationError, match="format"):
        make_app(sessions)  # flask-session-plus had no memory store: its format does not apply
    sessions = [{"cookie_name": "s", "session_type": "redis", "url": "redis://127.0.0.1:6379/0", "use_signer": True}]
    app = make_app(sessions)

    @app.route("/")
    def index():
        session["a"] = 1
        return "ok"

    value = set_cookies(app.test_client().get("/"))["s"][0]
    sid, _, signature = value.partition(".")
    uuid.UUID(sid)
    signer = Signer(SECRET, salt="flask-session", key_derivation="hmac", digest_method=hashlib.sha1)
    assert signer.unsign(value).decode() == sid and hmac.compare_digest(signer.sign(sid).decode(), value)
    assert signature


def test_flask_test_clients_session_transaction():
    """Apps' own test suites set session values with `client.session_transaction()`."""
    app = make_app(copy.deepcopy(THREE))

    @app.route("/")
    def index():
        return f"{session.get('csrf_token')} {session.get('theme')}"

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["csrf_token"] = "abc"
        sess["theme"] = "dark"
    assert client.get("/").text == "abc dark"
    with client.session_transaction() as sess:
        assert sess["theme"] == "dark"
