"""Plain Flask 3.1 with its default SecureCookieSessionInterface (the "modern" venv), for
tests/flask_live.rs: cookie `session`, itsdangerous SHA-1, salt `cookie-session`, tagged JSON.

Usage: python flask_cookie_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import ast
import datetime
import json
import uuid
import logging
import sys

from flask import Flask, Response, request, session
from markupsafe import Markup
from werkzeug.serving import make_server

app = Flask(__name__)
app.secret_key = "dev-secret-key"


def as_json(value):
    return Response(json.dumps(value, default=str), mimetype="application/json")


@app.route("/get/<field>")
def get_field(field):
    return as_json(session.get(field))


@app.route("/repr/<field>")
def repr_field(field):
    """The Python value exactly (a datetime stays a datetime, a tuple a tuple)."""
    return repr(session.get(field))


@app.route("/set/<field>", methods=["POST"])
def set_field(field):
    session[field] = json.loads(request.get_data(as_text=True))
    return "ok"


@app.route("/setdt/<field>", methods=["POST"])
def set_datetime(field):
    """Stores an aware UTC datetime from Unix seconds in the body."""
    session[field] = datetime.datetime.fromtimestamp(int(request.get_data(as_text=True)), datetime.timezone.utc)
    return "ok"


@app.route("/setpy/<field>", methods=["POST"])
def set_python(field):
    """Stores a Python literal from the body (ints of any size, tuples, bytes, nested), plus
    Markup and UUID through the names `Markup` and `UUID`."""
    body = request.get_data(as_text=True)
    tree = ast.parse(body, mode="eval")
    allowed = (ast.Expression, ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.UnaryOp, ast.USub,
               ast.Call, ast.Name, ast.Load)
    if not all(isinstance(node, allowed) for node in ast.walk(tree)):
        return Response("not a literal", status=400)
    session[field] = eval(compile(tree, "<body>", "eval"), {"__builtins__": {}},
                          {"Markup": Markup, "UUID": uuid.UUID})
    return "ok"


@app.route("/clear", methods=["POST"])
def clear():
    session.clear()
    return "cleared"


@app.route("/fields")
def fields():
    return as_json(dict(session))


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready http://127.0.0.1:%d" % server.server_port, flush=True)
    server.serve_forever()
