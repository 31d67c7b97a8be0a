"""The session layer alone, in process: what open_session, the route's session calls and
save_session cost per request, without WSGI, routing or a server. For flask_run.sh.

Usage: VARIANT=<as flask_bench_app.py> python flask_layer.py [ITERATIONS]
Prints one line per route: `layer VARIANT ROUTE WALL_US CPU_US`, each the median of 5 runs of the
mean: the wall time, which includes waiting for Redis (one round trip per load or write, about
70 us on the 2-core benchmark machine, whatever the layer), and the process's CPU time, which
does not (Redis is another process), but counts the system calls of each round trip.

`python flask_layer.py --round-trip [ITERATIONS]` prints `round-trip redis-py-GET WALL_US CPU_US`:
one bare `GET` with redis-py (Flask-Session's client), for scale: a layer's `/read` makes one
round trip, its `/hit` two. Its CPU time is the kernel's wakeups, which every client pays, and
redis-py's own Python, which only redis-py's users do.
"""
import os
import statistics
import sys
import time

import redis
from flask import request
from werkzeug.test import EnvironBuilder

ROUND_TRIP = sys.argv[1:2] == ["--round-trip"]
ITERATIONS = int(sys.argv[-1]) if len(sys.argv) > 1 and sys.argv[-1].isdigit() else 2000

OPS = {
    "/read": lambda s: s.get("counter"),
    "/hit": lambda s: s.__setitem__("counter", s.get("counter") + 1),
    "/csrf": lambda s: s.get("csrf_token"),
}


def cookie_header(app):
    response = app.test_client().post("/setup")
    pairs = [value.split(";", 1)[0] for value in response.headers.getlist("Set-Cookie")]
    return "; ".join(pairs)


def timed(run):
    """The median over 5 runs of `run`'s mean wall and CPU µs per iteration."""
    wall, cpu = [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(ITERATIONS):
            run()
        wall.append((time.perf_counter() - started) / ITERATIONS * 1e6)
        cpu.append((time.process_time() - started_cpu) / ITERATIONS * 1e6)
    return statistics.median(wall), statistics.median(cpu)


def round_trip():
    client = redis.Redis.from_url(os.environ.get("SESSION_REDIS_URL", "redis://127.0.0.1:6379/14"))
    client.set("flask-layer-round-trip", "1")
    wall, cpu = timed(lambda: client.get("flask-layer-round-trip"))
    client.delete("flask-layer-round-trip")
    print(f"round-trip redis-py-GET {wall:.1f} {cpu:.1f}", flush=True)


def main():
    from flask_bench_app import VARIANT, app  # reads VARIANT from the environment

    cookie = cookie_header(app)
    interface = app.session_interface
    for route, op in OPS.items():
        environ = EnvironBuilder(path=route, headers={"Cookie": cookie}).get_environ()
        with app.test_request_context(environ_base=environ, path=route, headers={"Cookie": cookie}):

            def one_request():
                session = interface.open_session(app, request)
                op(session)
                interface.save_session(app, session, app.response_class("x"))

            wall, cpu = timed(one_request)
        print(f"layer {VARIANT} {route} {wall:.1f} {cpu:.1f}", flush=True)


if __name__ == "__main__":
    round_trip() if ROUND_TRIP else main()
