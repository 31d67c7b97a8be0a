"""The session layer alone, in process: what open_session, the route's session calls and
save_session cost per request, without WSGI, routing or a server. For flask_run.sh.

Usage: VARIANT=<as flask_bench_app.py> python flask_layer.py [ITERATIONS]
Prints one line per route: `layer VARIANT ROUTE WALL_US CPU_US`, each the median of 5 runs of the
mean: the wall time, which includes waiting for Redis (one round trip per load or write, about
70 us on the 2-core benchmark machine, whatever the layer), and the process's CPU time, which
does not (Redis is another process).
"""
import statistics
import sys
import time

from flask import request
from werkzeug.test import EnvironBuilder

from flask_bench_app import VARIANT, app

ITERATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000

OPS = {
    "/read": lambda s: s.get("counter"),
    "/hit": lambda s: s.__setitem__("counter", s.get("counter") + 1),
    "/csrf": lambda s: s.get("csrf_token"),
}


def cookie_header():
    response = app.test_client().post("/setup")
    pairs = [value.split(";", 1)[0] for value in response.headers.getlist("Set-Cookie")]
    return "; ".join(pairs)


def main():
    cookie = cookie_header()
    interface = app.session_interface
    for route, op in OPS.items():
        environ = EnvironBuilder(path=route, headers={"Cookie": cookie}).get_environ()
        with app.test_request_context(environ_base=environ, path=route, headers={"Cookie": cookie}):
            wall, cpu = [], []
            for _ in range(5):
                started, started_cpu = time.perf_counter(), time.process_time()
                for _ in range(ITERATIONS):
                    session = interface.open_session(app, request)
                    op(session)
                    interface.save_session(app, session, app.response_class("x"))
                wall.append((time.perf_counter() - started) / ITERATIONS * 1e6)
                cpu.append((time.process_time() - started_cpu) / ITERATIONS * 1e6)
        print(f"layer {VARIANT} {route} {statistics.median(wall):.1f} {statistics.median(cpu):.1f}", flush=True)


if __name__ == "__main__":
    main()
