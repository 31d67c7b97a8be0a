"""Flask-Login and Flask-WTF on the extension, in one app shaped like flask-session-plus's own
example (its test/flask_app.py): the CSRF token in its own cookie, the logged-in user in a server
store (Redis here), everything else in an `auto` cookie."""
import json
import re

from flask import render_template_string, request, session
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    fresh_login_required,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import StringField

from conftest import REDIS_URL, make_app, set_cookies, unique

USERS = {"1": "alice", "2": "bob"}


class User(UserMixin):
    def __init__(self, id):
        self.id = id
        self.name = USERS[id]


class NameForm(FlaskForm):
    username = StringField("name")


def example_app(redis_prefix):
    app = make_app(
        [
            {"cookie_name": "csrf", "session_type": "secure_cookie", "session_fields": ["csrf_token"]},
            {
                "cookie_name": "session",
                "session_type": "redis",
                "url": REDIS_URL,
                "key_prefix": redis_prefix,
                "session_fields": ["_user_id", "_fresh", "_id", "user_data"],
            },
            {"cookie_name": "data", "session_type": "secure_cookie", "session_fields": "auto"},
        ],
        SESSION_PROTECTION="basic",
    )
    CSRFProtect(app)
    login_manager = LoginManager(app)

    @login_manager.user_loader
    def load_user(user_id):
        return User(user_id) if user_id in USERS else None

    @app.route("/")
    def index():
        session["dog"] = "cat"
        return f"Hi {current_user.name}" if current_user.is_authenticated else "Anon User"

    @app.route("/login/<user_id>", methods=["POST"])
    def login(user_id):
        remember = request.args.get("remember") == "1"
        login_user(User(user_id), remember=remember)
        session["user_data"] = {"name": USERS[user_id]}
        session.regenerate()  # a new id on login (flask-session-plus had no way to)
        if remember:
            session.set_permanent("session")
        return "User logged in!"

    @app.route("/logout", methods=["POST"])
    def logout():
        logout_user()
        session.set_permanent("session", remove=True)
        return "User logged out!"

    @app.route("/protected")
    @login_required
    def protected():
        return f"you have access!: {current_user.name}"

    @app.route("/fresh")
    @fresh_login_required
    def fresh():
        return "fresh"

    @app.route("/form", methods=["GET", "POST"])
    @login_required
    def form():
        frm = NameForm()
        if frm.validate_on_submit():
            return f"valid {frm.username.data}"
        return render_template_string("<form method=post>{{ form.csrf_token }}{{ form.username }}</form>", form=frm)

    @app.route("/session")
    def dump():
        return json.dumps({key: session.get(key) for key in ("_user_id", "_fresh", "_id", "csrf_token", "dog")})

    return app


def csrf_token_of(client):
    page = client.get("/form").text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_the_original_example_with_flask_login_and_flask_wtf(redis_client):
    prefix = unique("login")
    app = example_app(prefix)

    @app.route("/token")
    def token():
        from flask_wtf.csrf import generate_csrf

        return generate_csrf()

    client = app.test_client()
    assert client.get("/protected").status_code == 401
    assert client.get("/").text == "Anon User"

    # Flask-WTF protects every POST: without its token, refused.
    assert client.post("/login/1").status_code == 400
    response = client.get("/token")
    token = response.text
    cookies = set_cookies(response)
    assert set(cookies) == {"csrf"}  # the token lives in its own cookie session, alone
    assert client.post("/login/1", headers={"X-CSRFToken": "forged"}).status_code == 400

    response = client.post("/login/1", headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.text
    sid = set_cookies(response)["session"][0]
    record = json.loads(redis_client.get(f"{prefix}{sid}"))
    assert record["_user_id"] == "1" and record["_fresh"] is True and len(record["_id"]) == 128
    assert "csrf_token" not in record and "dog" not in record

    assert client.get("/").text == "Hi alice"
    assert client.get("/protected").text == "you have access!: alice"
    assert client.get("/fresh").text == "fresh"
    state = json.loads(client.get("/session").text)
    # Flask-WTF keeps the raw token in the session and hands out a signed copy of it.
    assert state["dog"] == "cat" and re.fullmatch("[0-9a-f]{40}", state["csrf_token"])

    # A form: the token in the page is the session's, checked on POST.
    page_token = csrf_token_of(client)
    assert client.post("/form", data={"username": "x"}).status_code == 400
    response = client.post("/form", data={"username": "x", "csrf_token": page_token})
    assert response.text == "valid x"

    # Flask-Login's session protection: another browser identity (`_id`) makes it not fresh.
    other = client.get("/fresh", headers={"User-Agent": "another browser"})
    assert other.status_code == 401
    assert json.loads(client.get("/session").text)["_fresh"] is False

    response = client.post("/logout", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert client.get("/protected").status_code == 401
    # Flask-Login pops its keys; the record keeps no user (`_fresh`/`_id` may stay, as in Flask).
    record = redis_client.get(f"{prefix}{sid}")
    assert record is None or "_user_id" not in json.loads(record)


def test_remember_me_logs_in_a_new_browser_not_fresh(redis_client):
    app = example_app(unique("remember"))

    @app.route("/token")
    def token():
        from flask_wtf.csrf import generate_csrf

        return generate_csrf()

    client = app.test_client()
    token = client.get("/token").text
    response = client.post("/login/2?remember=1", headers={"X-CSRFToken": token})
    cookies = set_cookies(response)
    assert "remember_token" in cookies
    assert "Max-Age=2678400" in cookies["session"][1]  # set_permanent("session")

    browser = app.test_client()  # the browser was closed: only the remember cookie is left
    browser.set_cookie("remember_token", cookies["remember_token"][0])
    assert browser.get("/protected").text == "you have access!: bob"
    assert json.loads(browser.get("/session").text)["_fresh"] is False
    assert browser.get("/fresh").status_code == 401


def test_logout_then_replaying_the_old_cookies_is_anonymous(redis_client):
    app = example_app(unique("replay"))

    @app.route("/token")
    def token():
        from flask_wtf.csrf import generate_csrf

        return generate_csrf()

    client = app.test_client()
    token = client.get("/token").text
    cookies = set_cookies(client.post("/login/1", headers={"X-CSRFToken": token}))
    stolen = cookies["session"][0]
    response = client.post("/logout", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/protected").status_code == 401
