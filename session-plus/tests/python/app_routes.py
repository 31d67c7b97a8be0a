"""The routes every test app serves, and its server loop, so each app only configures its
sessions (and adds the routes of its own):

- `GET /get/<field>`: the field as JSON (`default=str`); `GET /repr/<field>`: its Python repr,
  exactly (a datetime stays a datetime, a tuple a tuple); `GET /fields`: every field as JSON;
- `POST /set/<field>`: the JSON body; `POST /setdt/<field>`: a UTC datetime from Unix seconds in
  the body, aware or naive (what Werkzeug 1.x gives back) as the app says;
- `POST /clear`: `session.clear()`.

`serve(app)` listens on 127.0.0.1 at the port of argv[1] (0 = any) and prints
`ready http://127.0.0.1:PORT`.
"""
import datetime
import json
import logging
import sys

from flask import Response, request, session
from werkzeug.serving import make_server


def as_json(value):
    return Response(json.dumps(value, default=str), mimetype="application/json")


def add_routes(app, aware_datetimes, hidden=()):
    """The shared routes; `hidden` fields are left out of `/fields` (Flask-Session's `_permanent`)."""

    @app.route("/get/<field>")
    def get_field(field):
        return as_json(session.get(field))

    @app.route("/repr/<field>")
    def repr_field(field):
        return repr(session.get(field))

    @app.route("/set/<field>", methods=["POST"])
    def set_field(field):
        session[field] = json.loads(request.get_data(as_text=True))
        return "ok"

    @app.route("/setdt/<field>", methods=["POST"])
    def set_datetime(field):
        seconds = float(request.get_data(as_text=True))
        if aware_datetimes:
            session[field] = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        else:
            session[field] = datetime.datetime.utcfromtimestamp(seconds)
        return "ok"

    @app.route("/clear", methods=["POST"])
    def clear():
        session.clear()
        return "cleared"

    @app.route("/fields")
    def fields():
        return as_json({k: v for k, v in session.items() if k not in hidden})


def serve(app):
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready http://127.0.0.1:%d" % server.server_port, flush=True)
    server.serve_forever()
