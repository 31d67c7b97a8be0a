"""Plain Flask 3.1 with its default SecureCookieSessionInterface (the "modern" venv), for
tests/flask_live.rs: cookie `session`, itsdangerous SHA-1, salt `cookie-session`, tagged JSON.

Usage: python flask_cookie_app.py PORT  (0 = any free port); prints `ready http://127.0.0.1:PORT`.
"""
import ast
import uuid

from flask import Flask, Response, request, session
from markupsafe import Markup
from app_routes import add_routes, serve

app = Flask(__name__)
app.secret_key = "dev-secret-key"
add_routes(app, aware_datetimes=True)


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


if __name__ == "__main__":
    serve(app)
