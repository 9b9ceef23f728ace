"""Serving benchmark: the sandbox against Prism and a bare-Flask ceiling, measured with wrk.

For each target (started here, one at a time, on a free 127.0.0.1 port) and each concurrency,
three requests are loaded with ``wrk --latency``: ``GET /users``, ``GET /users/{id}`` and
``POST /users`` with a valid JSON body, all with the same ``Authorization: Bearer`` header.
The sandbox and the bare-Flask ceiling run once per server (``--servers granian,gunicorn``:
``sandbox@granian``, ``flask@gunicorn``, ...), and the ceiling of every ratio is the bare-Flask
row with the most req/s, whichever server gave it. Prints req/s, p50, p99 and non-2xx counts per
target x endpoint, start-up time and memory per target, then the ratios; writes everything to
``bench/results/serve_bench.json``.

    .venv/bin/python bench/serve_bench.py                      # 10 s runs at concurrency 16
    .venv/bin/python bench/serve_bench.py --quick --targets sandbox,flask --servers granian
    .venv/bin/python bench/serve_bench.py --concurrency 1,16,64 --duration 20

This is a script that prints figures, not a test: nothing here asserts on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PRISM_DIR = BENCH / ".prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
RESULTS = BENCH / "results" / "serve_bench.json"
PYTHON = sys.executable
USER_ID = "usr_8kPq2ZxW4mNc"
POST_BODY = {"name": "Ada Lovelace", "email": "ada@example.com"}
ALL_TARGETS = (
    "sandbox",
    "sandbox-stateless",
    "sandbox-open",
    "sandbox-defaults",
    "prism",
    "prism-static",
    "flask",
    "flask-granian-wsgi",
)
# the servers `sandbox serve --server` offers; the first is its default
SERVERS = ("granian", "gunicorn")
# targets run once per server asked for, named "<target>@<server>"
PER_SERVER = ("sandbox", "sandbox-stateless", "sandbox-open", "flask")
CEILINGS = ("flask", "flask-granian-wsgi")
READY_TIMEOUT = 120.0


# -- what is measured -----------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    key: str
    method: str
    path: str
    expected: int
    body: dict[str, Any] | None = None


ENDPOINTS = (
    Endpoint("GET /users", "GET", "/users", 200),
    Endpoint("GET /users/{id}", "GET", "/users/{id}", 200),
    Endpoint("POST /users", "POST", "/users", 201, POST_BODY),
)


@dataclass
class WrkStats:
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]


@dataclass
class Run:
    endpoint: str
    concurrency: int
    stats: WrkStats | None
    rss_mb_after: float | None
    error: str | None = None
    connections_per_process: list[int] = field(default_factory=list)
    all_rps: list[float] = field(default_factory=list)
    all_splits: list[list[int]] = field(default_factory=list)


@dataclass
class TargetResult:
    name: str
    description: str
    command: list[str]
    base_url: str | None = None
    startup_s: float | None = None
    statuses: dict[str, int | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rss_mb: float | None = None
    pss_mb: float | None = None
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None


@dataclass
class Target:
    name: str
    description: str
    command: Callable[[int], list[str]]
    prefixes: tuple[str, ...]  # URL path prefixes to try, first answering one wins


# -- tools: wrk and Prism -------------------------------------------------------------------
def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing the Debian package (apt-get update; apt-get install wrk)")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"cannot install wrk ({' '.join(cmd)} failed):\n{done.stderr[-2000:]}")
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is still not on PATH after apt-get install")
    return found


def ensure_prism() -> tuple[Path | None, str]:
    """Path of the prism binary (installing it under bench/.prism if needed), or why not."""
    if PRISM_BIN.exists():
        return PRISM_BIN, ""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed, so Prism cannot be installed"
    print(f"installing @stoplight/prism-cli into {PRISM_DIR.relative_to(ROOT)} ...")
    PRISM_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(PRISM_DIR),
        "@stoplight/prism-cli",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not PRISM_BIN.exists():
        return None, f"npm install @stoplight/prism-cli failed:\n{done.stderr[-1500:]}"
    return PRISM_BIN, ""


def compile_bytecode() -> None:
    """What `make run` does before it serves (the Makefile's ``bytecode`` step): our modules'
    bytecode written even where PYTHONDONTWRITEBYTECODE is set, so a start measured here is
    the start a user of `make run` gets, not one that first compiles ~150 modules (0.3 s)."""
    subprocess.run([PYTHON, "-m", "compileall", "-q", "sandbox", "contracts"], cwd=ROOT, check=True)


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def tool_version(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown"


# -- the spec and the sandbox's key ---------------------------------------------------------
def spec_base_path(spec: Path) -> str:
    document = yaml.load(spec.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    servers = document.get("servers") or [{"url": "/"}]
    return urlparse(servers[0].get("url", "/")).path.rstrip("/")


# The sandboxes benched are given this key with --api-key: a default key is derived from
# the instance's own random secret (a new one per start with --state :memory:), so nobody,
# this script included, can compute it from outside.
BENCH_KEY = f"sk_test_bench_{secrets.token_hex(8)}"


def sandbox_api_key(spec: Path) -> tuple[str | None, str]:
    """The key the benched sandboxes accept (``BENCH_KEY``), or None and why the sandbox
    cannot be imported."""
    code = "import sys; from sandbox.config.settings import load_settings as l; l(sys.argv[1])"
    done = subprocess.run(
        [PYTHON, "-c", code, str(spec)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return None, f"cannot import the sandbox: {lines[-1] if lines else done.returncode}"
    return BENCH_KEY, ""


def child_env() -> dict[str, str]:
    """The environment for servers: no SANDBOX_* overrides, the repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def build_targets(
    spec: Path,
    base: str,
    prism: Path | None,
    rate_limits: str,
    workers: int,
    threads: int,
    servers: list[str],
    defaults_rate_limits: str = "1000000/minute",
) -> list[Target]:
    def same_serving(port: int, server: str) -> list[str]:
        """The sandbox and the bare-Flask ceiling must run under identical server settings."""
        return [
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--threads", str(threads), "--server", server,
        ]  # fmt: skip

    def sandbox_cmd(
        server: str, *mode: str, limits: str | None = None
    ) -> Callable[[int], list[str]]:
        def command(port: int) -> list[str]:
            return [
                PYTHON, "-m", "sandbox", "serve", str(spec), *same_serving(port, server), *mode,
                "--seed", "1", "--rate-limits", rate_limits if limits is None else limits,
                "--api-key", BENCH_KEY,
            ]  # fmt: skip

        return command

    def defaults_cmd(port: int) -> list[str]:
        # `make run`: every serving setting at its default, the rate limiter too, with a
        # limit the load cannot reach; only the state is a throwaway file
        return [
            PYTHON, "-m", "sandbox", "serve", str(spec), "--port", str(port),
            "--state", ":memory:", "--seed", "1", "--rate-limits", defaults_rate_limits,
            "--api-key", BENCH_KEY,
        ]  # fmt: skip

    def prism_cmd(dynamic: bool) -> Callable[[int], list[str]]:
        def command(port: int) -> list[str]:
            extra = ["-d", "--seed", "1"] if dynamic else []
            return [
                str(prism), "mock", *extra, "-h", "127.0.0.1", "-p", str(port), "-v", "warn",
                str(spec),
            ]  # fmt: skip

        return command

    def flask_cmd(server: str) -> Callable[[int], list[str]]:
        def command(port: int) -> list[str]:
            return [PYTHON, str(BENCH / "bare_flask.py"), *same_serving(port, server)]

        return command

    shape = f"{workers}x{threads}"
    # Prism 5 ignores the servers' base path and mounts operations at "/": try both.
    prism_prefixes = (base, "") if base else ("",)
    targets: list[Target] = []
    for server in servers:
        targets += [
            Target(
                f"sandbox@{server}",
                f"ours: {server} {shape}, validation on, SQLite state (throwaway file), seed 1",
                # a throwaway state per run, so runs do not see each other's records
                sandbox_cmd(server, "--state", ":memory:"),
                (base,),
            ),
            Target(
                f"sandbox-open@{server}",
                "ours with --no-auth and no rate limits: what auth and limiting cost",
                sandbox_cmd(server, "--state", ":memory:", "--no-auth", limits=""),
                (base,),
            ),
            Target(
                f"sandbox-stateless@{server}",
                "ours with --stateless: every response generated, nothing stored",
                sandbox_cmd(server, "--stateless"),
                (base,),
            ),
        ]
    targets += [
        Target(
            "sandbox-defaults",
            f"ours as `make run` serves it: default server, workers and threads, rate limiter "
            f"on ({defaults_rate_limits})",
            defaults_cmd,
            (base,),
        ),
        Target(
            "prism",
            "Prism mock -d (dynamic, json-schema-faker), seed 1",
            prism_cmd(True),
            prism_prefixes,
        ),
        Target(
            "prism-static",
            "Prism mock (static: the spec's examples)",
            prism_cmd(False),
            prism_prefixes,
        ),
    ]
    for server in servers:
        targets.append(
            Target(
                f"flask@{server}",
                f"bare Flask, constant JSON, {server} {shape} as the sandbox (ceiling)",
                flask_cmd(server),
                (base,),
            )
        )
    targets.append(
        Target(
            "flask-granian-wsgi",
            f"bare Flask on granian's own WSGI interface {shape}, no event loop in front "
            "(what the sandbox's read-ahead layer costs)",
            flask_cmd("granian-wsgi"),
            (base,),
        )
    )
    return targets


def wanted(target: str, asked: list[str]) -> bool:
    """Whether ``target`` (``name`` or ``name@server``) is among the targets asked for."""
    return target.split("@", 1)[0] in asked


# -- processes ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server in its own process group; always stop the whole group."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # gunicorn workers can outlive the arbiter by a moment: make sure the group is gone
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def target_path(endpoint: Endpoint, url: str, headers: dict[str, str]) -> str:
    """An item path with an id the target really has: the sandbox is stateful, so a made-up
    id is a 404 there (Prism, stateless, answers any id)."""
    if "{id}" not in endpoint.path:
        return endpoint.path
    record_id = USER_ID
    try:
        req = urllib.request.Request(url + "/users?limit=1", headers=headers)
        with urllib.request.urlopen(req, timeout=10) as resp:
            record_id = json.load(resp)["data"][0]["id"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        pass
    return endpoint.path.replace("{id}", record_id)


def request(url: str, endpoint: Endpoint, headers: dict[str, str]) -> int | None:
    data = None
    if endpoint.body is not None:
        data = json.dumps(endpoint.body).encode()
        headers = {**headers, "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=data, method=endpoint.method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def wait_ready(
    proc: subprocess.Popen[bytes],
    root: str,
    prefixes: tuple[str, ...],
    headers: dict[str, str],
    started: float,
) -> tuple[str, float]:
    """Poll GET <prefix>/users until one prefix answers 2xx; return it and the seconds taken."""
    probe = ENDPOINTS[0]
    while time.monotonic() - started < READY_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with code {proc.returncode} before answering")
        for prefix in prefixes:
            status = request(f"{root}{prefix}{probe.path}", probe, headers)
            if status is not None and 200 <= status < 300:
                return prefix, time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"no 2xx answer to GET {probe.path} within {READY_TIMEOUT:.0f} s")


def process_tree(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def _proc_kb(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process and its descendants in MiB; RSS counts shared pages per process."""
    pids = process_tree(pid)
    rss = sum(_proc_kb(Path(f"/proc/{p}/status"), "VmRSS") for p in pids)
    pss = sum(_proc_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in pids)
    return rss / 1024, pss / 1024


# -- wrk ------------------------------------------------------------------------------------
def lua_script(endpoint: Endpoint, headers: dict[str, str]) -> str:
    lines = [f'wrk.method = "{endpoint.method}"']
    for name, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if endpoint.body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = {json.dumps(json.dumps(endpoint.body))}")
        if "email" in endpoint.body:
            # a unique email per request: the sandbox is stateful and emails are unique (409)
            template = json.dumps(json.dumps({**endpoint.body, "email": "EMAIL"}))
            lines += [
                "local n = 0",
                "init = function()",
                "  math.randomseed(os.time() + tonumber(tostring({}):sub(10), 16) % 100000)",
                "end",
                "request = function()",
                "  n = n + 1",
                "  local salt = math.random(1, 1000000000)",
                '  local email = string.format("ada.%d.%d@example.com", salt, n)',
                f"  return wrk.format(nil, nil, nil, (string.gsub({template}, 'EMAIL', email)))",
                "end",
            ]
    return "\n".join(lines) + "\n"


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_SI = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


def parse_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> WrkStats:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, output, re.MULTILINE)

    rps = find(r"^Requests/sec:\s+([\d.]+)")
    p50 = find(r"^\s+50%\s+(\S+)")
    p99 = find(r"^\s+99%\s+(\S+)")
    total = find(r"^\s+(\d+) requests in")
    if not (rps and p50 and p99 and total):
        raise ValueError("unexpected wrk output:\n" + output[-2000:])
    non2xx = find(r"^\s+Non-2xx or 3xx responses:\s+(\d+)")
    sock = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    errors = (
        dict(
            zip(
                ("connect", "read", "write", "timeout"),
                (int(g) for g in sock.groups()),
                strict=True,
            )
        )
        if sock
        else {}
    )
    return WrkStats(
        requests_per_sec=float(rps[1]),
        p50_ms=parse_duration_ms(p50[1]),
        p99_ms=parse_duration_ms(p99[1]),
        requests=int(total[1]),
        non_2xx=int(non2xx[1]) if non2xx else 0,
        socket_errors=errors,
    )


def run_wrk(
    wrk: str,
    url: str,
    script: Path,
    concurrency: int,
    seconds: float,
    midway: Callable[[], None] | None = None,
) -> WrkStats:
    """One wrk run; ``midway`` is called half-way through (to look at the live connections)."""
    threads = max(1, min(2, concurrency, os.cpu_count() or 1))
    whole = max(1, round(seconds))
    cmd = [wrk, "--latency", "-t", str(threads), "-c", str(concurrency), "-d", f"{whole}s"]
    cmd += ["--timeout", "10s", "-s", str(script), url]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        if midway is not None:
            time.sleep(whole / 2)
            midway()
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip()[-500:]}")
    return parse_wrk(out)


def _socket_inodes(port: int) -> set[str]:
    """Inodes of ESTABLISHED TCP sockets whose local port is ``port`` (the server side)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def connection_split(root: int, port: int) -> list[int]:
    """Open client connections held by each server process (gunicorn workers, or Prism)."""
    inodes = _socket_inodes(port)
    pids = process_tree(root)
    workers = [p for p in pids if p != root] or [root]
    split = []
    for pid in sorted(workers):
        held = 0
        with suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        held += 1
        split.append(held)
    return split


# -- one target -----------------------------------------------------------------------------
@dataclass
class Plan:
    wrk: str
    headers: dict[str, str]
    concurrency: list[int]
    duration: float
    warmup: float
    workdir: Path
    repeat: int = 1


def check_statuses(url: str, headers: dict[str, str], result: TargetResult) -> None:
    for endpoint in ENDPOINTS:
        status = request(url + target_path(endpoint, url, headers), endpoint, headers)
        result.statuses[endpoint.key] = status
        if status != endpoint.expected:
            result.warnings.append(f"{endpoint.key}: expected {endpoint.expected}, got {status}")


def measure(plan: Plan, url: str, script: Path, concurrency: int, pid: int, port: int) -> Run:
    """Warm up, then ``plan.repeat`` runs; keeps the median run by req/s, and all of them."""
    if plan.warmup > 0:
        run_wrk(plan.wrk, url, script, concurrency, plan.warmup)
    attempts: list[tuple[WrkStats, list[int]]] = []
    for _ in range(plan.repeat):
        split: list[int] = []

        def sample(split: list[int] = split) -> None:
            split.extend(connection_split(pid, port))

        attempts.append((run_wrk(plan.wrk, url, script, concurrency, plan.duration, sample), split))
    ordered = sorted(attempts, key=lambda pair: pair[0].requests_per_sec)
    stats, split = ordered[len(ordered) // 2]
    run = Run("", concurrency, stats, None, connections_per_process=split)
    run.all_rps = [round(a.requests_per_sec, 1) for a, _ in attempts]
    run.all_splits = [s for _, s in attempts]
    return run


def load_endpoints(plan: Plan, url: str, pid: int, port: int, result: TargetResult) -> None:
    # Endpoint by endpoint, each at every concurrency: the POST runs (which add thousands of
    # records to a stateful target) come last, so every GET run sees the same seeded data.
    for index, endpoint in enumerate(ENDPOINTS):
        for concurrency in plan.concurrency:
            script = plan.workdir / f"{result.name}_{index}.lua"
            script.write_text(lua_script(endpoint, plan.headers))
            runs = f" x{plan.repeat}" if plan.repeat > 1 else ""
            print(f"  {result.name}: {endpoint.key} c={concurrency} {plan.duration:g} s{runs}")
            try:
                path = target_path(endpoint, url, plan.headers)
                run = measure(plan, url + path, script, concurrency, pid, port)
            except (RuntimeError, ValueError) as exc:
                run = Run("", concurrency, None, None, error=str(exc))
                print(f"    ! {exc}")
            run.endpoint = endpoint.key
            run.rss_mb_after = round(tree_memory_mb(pid)[0], 1)
            if run.stats:
                split = "/".join(map(str, run.connections_per_process))
                print(f"    {run.stats.requests_per_sec:,.0f} req/s, connections {split}")
            result.runs.append(run)


def bench_target(target: Target, plan: Plan) -> TargetResult:
    port = free_port()
    command = target.command(port)
    result = TargetResult(target.name, target.description, command)
    root = f"http://127.0.0.1:{port}"
    log = plan.workdir / f"{target.name}.log"
    print(f"[{target.name}] starting: {' '.join(command)}")
    started = time.monotonic()
    with running(command, log) as proc:
        try:
            prefix, result.startup_s = wait_ready(
                proc, root, target.prefixes, plan.headers, started
            )
        except RuntimeError as exc:
            tail = log.read_text(errors="replace")[-1500:]
            result.skipped = f"did not start: {exc}\n{tail}"
            print(f"[{target.name}] {result.skipped}")
            return result
        result.base_url = root + prefix
        result.startup_s = round(result.startup_s, 3)
        print(f"[{target.name}] ready in {result.startup_s:.2f} s at {result.base_url}")
        check_statuses(result.base_url, plan.headers, result)
        for warning in result.warnings:
            print(f"[{target.name}] WARNING {warning}")
        load_endpoints(plan, result.base_url, proc.pid, port, result)
        rss, pss = tree_memory_mb(proc.pid)
        result.rss_mb, result.pss_mb = round(rss, 1), round(pss, 1)
    return result


# -- ratios and output ----------------------------------------------------------------------
def _stats(
    results: dict[str, TargetResult], target: str, endpoint: str, concurrency: int
) -> WrkStats | None:
    result = results.get(target)
    if result is None:
        return None
    for run in result.runs:
        if run.endpoint == endpoint and run.concurrency == concurrency:
            return run.stats
    return None


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def rps(stats: WrkStats | None) -> float | None:
    return stats.requests_per_sec if stats else None


def ceiling(
    results: dict[str, TargetResult], endpoint: str, concurrency: int
) -> tuple[str | None, WrkStats | None]:
    """The bare-Flask row with the most req/s for this endpoint and concurrency: the best
    server's, whichever it was in this run."""
    best: tuple[str | None, WrkStats | None] = (None, None)
    for name in results:
        if name.split("@", 1)[0] not in CEILINGS:
            continue
        stats = _stats(results, name, endpoint, concurrency)
        if stats and (best[1] is None or stats.requests_per_sec > best[1].requests_per_sec):
            best = (name, stats)
    return best


def measured_servers(results: dict[str, TargetResult]) -> list[str]:
    """The servers the sandbox was measured on, in the order asked for."""
    return [name.split("@", 1)[1] for name in results if name.startswith("sandbox@")]


def compute_ratios(results: dict[str, TargetResult], concurrency: list[int]) -> list[dict]:
    rows = []
    for c in concurrency:
        for endpoint in ENDPOINTS:
            prism = _stats(results, "prism", endpoint.key, c)
            static = _stats(results, "prism-static", endpoint.key, c)
            best_name, best = ceiling(results, endpoint.key, c)
            for server in measured_servers(results):
                ours = _stats(results, f"sandbox@{server}", endpoint.key, c)
                same = _stats(results, f"flask@{server}", endpoint.key, c)
                stateless = _stats(results, f"sandbox-stateless@{server}", endpoint.key, c)
                open_door = _stats(results, f"sandbox-open@{server}", endpoint.key, c)
                rows.append(
                    {
                        "endpoint": endpoint.key,
                        "concurrency": c,
                        "server": server,
                        "stored_over_stateless_rps": _div(rps(ours), rps(stateless)),
                        "guarded_over_open_rps": _div(rps(ours), rps(open_door)),
                        "ours_over_prism_rps": _div(rps(ours), rps(prism)),
                        "prism_p99_over_ours_p99": _div(
                            prism.p99_ms if prism else None, ours.p99_ms if ours else None
                        ),
                        "ours_over_prism_static_rps": _div(rps(ours), rps(static)),
                        # the ceiling: bare Flask on the best server of this run
                        "ours_over_flask_rps": _div(rps(ours), rps(best)),
                        "ceiling": best_name,
                        "ours_over_same_server_flask_rps": _div(rps(ours), rps(same)),
                    }
                )
    return rows


def _fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def print_report(results: dict[str, TargetResult], ratios: list[dict], skipped: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    figures = Table(title="Throughput and latency (wrk --latency)")
    for column in (
        "target",
        "endpoint",
        "c",
        "req/s",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "sock err",
        "conns/proc",
        "status",
    ):
        figures.add_column(column, justify="left" if column in ("target", "endpoint") else "right")
    for result in results.values():
        if result.skipped:
            figures.add_row(result.name, *["-"] * 8, "[red]did not start[/]")
            continue
        for run in result.runs:
            stats = run.stats
            status = result.statuses.get(run.endpoint)
            expected = next(e.expected for e in ENDPOINTS if e.key == run.endpoint)
            mark = f"{status}" if status == expected else f"[red]WARN {status}≠{expected}[/]"
            if run.error:
                mark = "[red]wrk failed[/]"
            errors = sum(stats.socket_errors.values()) if stats else None
            figures.add_row(
                result.name,
                run.endpoint,
                str(run.concurrency),
                _fmt(stats.requests_per_sec if stats else None, ",.0f"),
                _fmt(stats.p50_ms if stats else None),
                _fmt(stats.p99_ms if stats else None),
                _fmt(stats.non_2xx if stats else None, ",d"),
                _fmt(errors, ",d"),
                "/".join(map(str, run.connections_per_process)) or "-",
                mark,
            )
    console.print(figures)

    servers = Table(title="Per target")
    for column in ("target", "start-up s", "RSS MiB", "PSS MiB", "base URL", "what"):
        servers.add_column(column)
    for result in results.values():
        servers.add_row(
            result.name,
            _fmt(result.startup_s),
            _fmt(result.rss_mb, ".1f"),
            _fmt(result.pss_mb, ".1f"),
            result.base_url or "-",
            result.description,
        )
    for name, why in skipped.items():
        servers.add_row(name, "-", "-", "-", "-", f"[red]skipped: {why.splitlines()[0]}[/]")
    console.print(servers)

    table = Table(title="Ratios (>1 favours the sandbox, except the ceiling columns)")
    for column in (
        "endpoint",
        "c",
        "server",
        "ours/Prism-dyn req/s",
        "Prism-dyn p99 / ours p99",
        "ours/Prism-static req/s",
        "ours/ceiling req/s",
        "ceiling",
        "ours/Flask same server",
        "stored/stateless req/s",
        "auth+limits/open req/s",
    ):
        left = column in ("endpoint", "server", "ceiling")
        table.add_column(column, justify="left" if left else "right")
    for row in ratios:
        table.add_row(
            row["endpoint"],
            str(row["concurrency"]),
            row["server"],
            _fmt(row["ours_over_prism_rps"], suffix="x"),
            _fmt(row["prism_p99_over_ours_p99"], suffix="x"),
            _fmt(row["ours_over_prism_static_rps"], suffix="x"),
            _fmt(row["ours_over_flask_rps"], ".0%"),
            row["ceiling"] or "-",
            _fmt(row["ours_over_same_server_flask_rps"], ".0%"),
            _fmt(row["stored_over_stateless_rps"], ".0%"),
            _fmt(row["guarded_over_open_rps"], ".0%"),
        )
    console.print(table)

    verdicts = target_verdicts(ratios)
    if verdicts:
        goals = Table(title=f"Targets at c={TARGET_CONCURRENCY} (issue: speed), per server")
        for column in ("endpoint", "server", "req/s vs Prism-dyn (8x reads, 4x POST)",
                       "p99 <= 1/5 Prism-dyn's", "reads >= 40% of the ceiling"):  # fmt: skip
            left = column in ("endpoint", "server")
            goals.add_column(column, justify="left" if left else "right")
        for verdict in verdicts:
            goals.add_row(
                verdict["endpoint"], verdict["server"], *(_verdict(verdict[k]) for k in _GOALS)
            )
        console.print(goals)


TARGET_CONCURRENCY = 16
# ratio key -> the least value that meets the target, for reads and for POST (None: no target)
_GOALS: dict[str, tuple[float, float | None]] = {
    "ours_over_prism_rps": (8.0, 4.0),
    "prism_p99_over_ours_p99": (5.0, 5.0),
    "ours_over_flask_rps": (0.4, None),
}


def target_verdicts(ratios: list[dict]) -> list[dict]:
    """Per endpoint and server at the target concurrency: each goal's ratio and whether it
    is met."""
    verdicts = []
    for row in ratios:
        if row["concurrency"] != TARGET_CONCURRENCY:
            continue
        verdict: dict[str, Any] = {"endpoint": row["endpoint"], "server": row["server"]}
        write = row["endpoint"].startswith("POST")
        for key, (read_least, write_least) in _GOALS.items():
            least = write_least if write else read_least
            value = row[key]
            met = None if value is None or least is None else value >= least
            verdict[key] = {"ratio": value, "least": least, "met": met}
        verdicts.append(verdict)
    return verdicts


def _verdict(goal: dict) -> str:
    if goal["met"] is None:
        return "-"
    shown = f"{goal['ratio']:.0%}" if goal["ratio"] < 1 else f"{goal['ratio']:.2f}x"
    return f"[green]met[/] ({shown})" if goal["met"] else f"[red]not met[/] ({shown})"


def write_json(results: dict[str, TargetResult], ratios: list[dict], meta: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": meta,
        "targets": {name: asdict(result) for name, result in results.items()},
        "ratios": ratios,
        "goals": target_verdicts(ratios),
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results written to {RESULTS.relative_to(ROOT)}")


# -- command line ---------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the sandbox against Prism and a bare-Flask ceiling with wrk."
    )
    parser.add_argument(
        "--targets",
        default=",".join(ALL_TARGETS),
        help=f"comma-separated, from {', '.join(ALL_TARGETS)} (default: all)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--concurrency", default="16", help="connections, e.g. 16 or 1,16,64")
    parser.add_argument(
        "--spec",
        type=Path,
        default=Path("openapi.yaml"),
        help="OpenAPI document, relative to the repo root (default openapi.yaml)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of discarded load before each run (default 2)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per endpoint; the median by req/s is reported (default 1)",
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"servers for the {', '.join(PER_SERVER)} targets, from {', '.join(SERVERS)} "
        "(default: both, in this order)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes for the sandbox and Flask (default 2); the conns/proc column "
        "shows how the kernel spread wrk's connections over them",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="threads per worker (default 2, as sandbox serve)"
    )
    parser.add_argument(
        "--sandbox-defaults-rate-limits",
        default="1000000/minute",
        help="sandbox-defaults' --rate-limits: the limiter at work, its limit out of reach",
    )
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-up (smoke test)")
    parser.add_argument(
        "--sandbox-rate-limits",
        default="",
        help="the sandbox's --rate-limits; default '' turns limiting off, since "
        "its default (1000/minute) would turn the load into 429s",
    )
    args = parser.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(args.targets) - set(ALL_TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    args.servers = [t.strip() for t in args.servers.split(",") if t.strip()]
    if not args.servers or set(args.servers) - set(SERVERS):
        parser.error(f"--servers takes names from {', '.join(SERVERS)}")
    try:
        args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    except ValueError:
        parser.error("--concurrency takes integers, e.g. 1,16,64")
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
    args.spec = (ROOT / args.spec).resolve() if not args.spec.is_absolute() else args.spec
    if not args.spec.exists():
        parser.error(f"no spec at {args.spec}")
    return args


def _raise_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)
    wrk = ensure_wrk()
    compile_bytecode()
    skipped: dict[str, str] = {}
    prism: Path | None = None
    if {"prism", "prism-static"} & set(args.targets):
        prism, why = ensure_prism()
        if prism is None:
            print(f"Prism is not available, skipping it: {why}")
            skipped.update({t: why for t in ("prism", "prism-static") if t in args.targets})
    api_key, why = sandbox_api_key(args.spec)
    if api_key is None:
        # Prism and the bare app accept any bearer token
        api_key = "sk_test_benchmark"
        for name in args.targets:
            if name.startswith("sandbox"):
                print(f"skipping {name}: {why}")
                skipped[name] = why
    base = spec_base_path(args.spec)
    targets = [
        t
        for t in build_targets(
            args.spec,
            base,
            prism,
            args.sandbox_rate_limits,
            args.workers,
            args.threads,
            args.servers,
            args.sandbox_defaults_rate_limits,
        )
        if wanted(t.name, args.targets) and not wanted(t.name, list(skipped))
    ]
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(PYTHON).name, *sys.argv]),
        "spec": str(args.spec.relative_to(ROOT) if args.spec.is_relative_to(ROOT) else args.spec),
        "base_path": base,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": tool_version([wrk, "-v"]),
        "prism": tool_version([str(prism), "--version"]) if prism else None,
        "sandbox_rate_limits": args.sandbox_rate_limits or "off",
        "servers": args.servers,
        "workers": args.workers,
        "threads": args.threads,
        "granian": package_version("granian"),
        "gunicorn": package_version("gunicorn"),
        "load_average_at_start": os.getloadavg(),
        "skipped": skipped,
    }
    results: dict[str, TargetResult] = {}
    with tempfile.TemporaryDirectory(prefix="serve_bench_") as tmp:
        plan = Plan(
            wrk,
            {"Authorization": f"Bearer {api_key}"},
            args.concurrency,
            args.duration,
            args.warmup,
            Path(tmp),
            max(1, args.repeat),
        )
        for target in targets:
            results[target.name] = bench_target(target, plan)
    ratios = compute_ratios(results, args.concurrency)
    meta["load_average_at_end"] = os.getloadavg()
    print_report(results, ratios, skipped)
    print(
        "load average (1, 5, 15 min) at start {:.2f} {:.2f} {:.2f}, at end {:.2f} {:.2f} {:.2f}"
        .format(*meta["load_average_at_start"], *meta["load_average_at_end"])
    )  # fmt: skip
    write_json(results, ratios, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
