"""What one request costs the sandbox itself, in-process: CPU microseconds and SQL statements.

No HTTP server, no sockets, no wrk: the WSGI app is called directly with a ready-made
environ, many times, and ``time.process_time`` (CPU of this process, every thread: the
journal's flushing thread too) is divided by the number of requests. On a machine shared
with other work this is steadier than any req/s figure, and it is what the sandbox can
change: the serving layer in front is measured by ``serve_bench.py``.

For each of ``GET /users`` (a cached list page), ``GET /users/{id}`` and ``POST /users``
it prints CPU µs per request, SQL statements per request (every connection of the state
file and the rate-limit file, counted by SQLite's trace hook in a second pass of up to 500
requests, so the hook's own cost stays out of the CPU figure; the journal's batched writes
included) and write transactions per request.

    .venv/bin/python bench/request_cost.py                     # as serve_bench's sandbox target
    .venv/bin/python bench/request_cost.py --rate-limits 1000000/minute --iterations 5000
    .venv/bin/python bench/request_cost.py --only "POST /users" --profile   # cProfile, top 30
    .venv/bin/python bench/request_cost.py --against /tmp/old-checkout --rounds 5

``--against DIR`` compares this checkout with another (``git worktree add`` or ``git
archive`` of the commit before a change): each round measures both, one after the other in
fresh processes, the order swapped every round, and the medians are printed side by side,
so a machine busy with other work weighs on both alike.

Settings follow ``serve_bench.py``'s ``sandbox`` target: seed 1, a throwaway state file,
two workers' worth of settings (so rate-limit counters, when on, live in SQLite as they do
under ``sandbox serve``), JSON request log lines written to /dev/null. Nothing here asserts
on a timing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# --root: measure the sandbox of another checkout (``--against`` runs this script so)
if "--root" in sys.argv[:-1]:
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
sys.path.insert(0, str(ROOT))

from sandbox import create_app, load_settings  # noqa: E402
from sandbox.observe.log import configure_logging  # noqa: E402
from sandbox.state.sqlite import file as sqlite_file  # noqa: E402

POST_BODY = {"name": "Ada Lovelace", "email": "ada@example.com"}


class Statements:
    """Every SQL statement the state files' connections run while counting is on, by kind.
    Off while CPU is measured: the trace hook then returns at once (a call per statement,
    a fraction of a microsecond, where counting costs a few)."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.texts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.on = False

    def trace(self, statement: str) -> None:
        if not self.on:
            return
        words = statement.lstrip().split(None, 1)
        kind = words[0].upper() if words else "?"
        with self._lock:
            self.kinds[kind] += 1
            self.texts[statement] += 1

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.kinds)


def count_statements(statements: Statements) -> None:
    """Every connection the state files open from now on is known to ``statements``."""
    connect = sqlite_file.SQLiteFile._connect

    def traced(self: sqlite_file.SQLiteFile) -> sqlite3.Connection:
        connection = connect(self)
        connection.set_trace_callback(statements.trace)
        return connection

    sqlite_file.SQLiteFile._connect = traced  # type: ignore[method-assign]


def environ_for(
    method: str, path: str, key: str, body: dict[str, Any] | None = None
) -> Callable[[], dict]:
    """A fresh environ per call; a body gets a new email each time (emails are unique, as
    serve_bench's wrk script makes them)."""
    base = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Bearer {key}",
        "HTTP_ACCEPT": "application/json", "HTTP_USER_AGENT": "request_cost",
    }  # fmt: skip
    sent = [0]

    def make() -> dict:
        environ = dict(base)
        data = b""
        if body is not None:
            sent[0] += 1
            data = json.dumps({**body, "email": f"ada.{sent[0]}@example.com"}).encode()
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(data))
        environ["wsgi.input"] = io.BytesIO(data)
        return environ

    return make


def call(app: Any, make: Callable[[], dict]) -> tuple[int, bytes]:
    status: list[str] = []

    def start_response(line: str, headers: list, exc_info: Any = None) -> None:
        status.append(line)

    chunks = app(make(), start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return int(status[0].split()[0]), body


@contextmanager
def quiet_logs() -> Iterator[None]:
    """JSON request lines as `sandbox serve` writes them, into /dev/null."""
    configure_logging("json")
    handler = logging.getLogger("sandbox").handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    with open(os.devnull, "w") as sink:
        handler.setStream(sink)
        yield


def measure(
    app: Any, sandbox: Any, name: str, make: Callable[[], dict], expected: int, n: int,
    statements: Statements,
) -> dict[str, Any]:  # fmt: skip
    for _ in range(max(20, n // 20)):  # warm caches, seed the tenant
        got, body = call(app, make)
        if got != expected:
            raise SystemExit(f"{name}: {got}, expected {expected}: {body[:300]!r}")
    sandbox.journal.flush()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        call(app, make)
    sandbox.journal.flush()  # the journal's batched writes belong to these requests
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    counted = min(n, 500)  # statements: a second, shorter pass with the trace hook on
    statements.on = True
    before = statements.snapshot()
    for _ in range(counted):
        call(app, make)
    sandbox.journal.flush()
    statements.on = False
    after = statements.snapshot()
    after.subtract(before)
    return {
        "endpoint": name,
        "cpu_us": cpu / n * 1e6,
        "wall_us": wall / n * 1e6,
        "statements": sum(after.values()) / counted,
        "transactions": after["BEGIN"] / counted,
        "by_kind": {k: round(v / counted, 2) for k, v in sorted(after.items()) if v},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=str(ROOT / "openapi.yaml"))
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rate-limits", default="", help="the sandbox's --rate-limits ('' off)")
    parser.add_argument("--workers", type=int, default=2, help="as `serve --workers` (counters)")
    parser.add_argument("--only", default="", help="measure this endpoint only, e.g. 'GET /users'")
    parser.add_argument("--profile", action="store_true", help="cProfile it too (top 30)")
    parser.add_argument("--profile-sort", default="tottime", help="e.g. cumulative")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--against", default="", help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=5, help="with --against: rounds")
    parser.add_argument("--root", default="", help=argparse.SUPPRESS)  # read above
    args = parser.parse_args()
    if args.against:
        compare(args)
        return

    statements = Statements()
    count_statements(statements)
    settings = load_settings(
        args.spec, environ={},
        overrides={"state": ":memory:", "seed": 1, "rate_limits": args.rate_limits,
                   "workers": args.workers},
    )  # fmt: skip
    app = create_app(args.spec, settings)
    sandbox = app.extensions["sandbox"]
    key = settings.default_api_key
    base = sandbox.spec.base_path.rstrip("/")
    listed = environ_for("GET", f"{base}/users", key)
    user_id = json.loads(call(app, listed)[1])["data"][0]["id"]  # as serve_bench picks it
    endpoints = [
        ("GET /users", listed, 200),
        ("GET /users/{id}", environ_for("GET", f"{base}/users/{user_id}", key), 200),
        ("POST /users", environ_for("POST", f"{base}/users", key, POST_BODY), 201),
    ]
    results = []
    with quiet_logs():
        for name, make, expected in endpoints:
            if args.only and name != args.only:
                continue
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            results.append(measure(app, sandbox, name, make, expected, args.iterations, statements))
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats(args.profile_sort).print_stats(30)
    print(f"{'endpoint':<18} {'CPU µs':>8} {'wall µs':>8} {'SQL/req':>8} {'writes/req':>10}  kinds")
    for r in results:
        print(
            f"{r['endpoint']:<18} {r['cpu_us']:>8.0f} {r['wall_us']:>8.0f} "
            f"{r['statements']:>8.2f} {r['transactions']:>10.2f}  {r['by_kind']}"
        )
    if args.json:
        print("JSON " + json.dumps(results) if args.root else json.dumps(results, indent=2))


def compare(args: argparse.Namespace) -> None:
    """Both checkouts, round after round, in fresh processes; the medians side by side."""
    other = Path(args.against).resolve()
    if not (other / "sandbox").is_dir():
        raise SystemExit(f"--against {other}: no sandbox/ there")
    passed = [
        "--spec", args.spec, "--iterations", str(args.iterations),
        "--rate-limits", args.rate_limits, "--workers", str(args.workers), "--json",
    ]  # fmt: skip
    if args.only:
        passed += ["--only", args.only]
    sides = {"this": ROOT, "against": other}
    figures: dict[str, dict[str, list[float]]] = {"this": {}, "against": {}}
    for round_ in range(args.rounds):
        order = ["this", "against"] if round_ % 2 == 0 else ["against", "this"]
        for side in order:
            done = subprocess.run(
                [sys.executable, __file__, "--root", str(sides[side]), *passed],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            line = next((x for x in done.stdout.splitlines() if x.startswith("JSON ")), None)
            if done.returncode != 0 or line is None:
                raise SystemExit(f"{side} ({sides[side]}) failed:\n{done.stderr[-2000:]}")
            for row in json.loads(line[5:]):
                figures[side].setdefault(row["endpoint"], []).append(row["cpu_us"])
        print(f"round {round_ + 1}: " + "  ".join(
            f"{name} {figures['this'][name][-1]:.0f}/{figures['against'][name][-1]:.0f}"
            for name in figures["this"]
        ))  # fmt: skip
    print(f"CPU µs per request, median of {args.rounds} rounds: this {ROOT}, against {other}")
    print(f"{'endpoint':<18} {'this':>8} {'against':>8} {'change':>8}")
    for name, this in figures["this"].items():
        mine, theirs = statistics.median(this), statistics.median(figures["against"][name])
        print(f"{name:<18} {mine:>8.0f} {theirs:>8.0f} {(mine - theirs) / theirs:>+8.1%}")


if __name__ == "__main__":
    main()
