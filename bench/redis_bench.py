"""Scale-out benchmark: one sandbox process on Redis against two sharing that Redis.

Measures, with wrk, the three requests of ``serve_bench.py`` (``GET /users``, ``GET
/users/{id}``, ``POST /users``, same key, same bodies) against:

  one  ``sandbox serve --redis URL --workers 1 --threads N`` on one port, loaded by one wrk
       with all the connections;
  two  two such processes on two ports sharing the Redis, loaded at the same moment by two wrk
       instances with half the connections each (what a load balancer would do); their
       req/s are summed, and the worse of their two p99s is reported.

Both configurations run side by side (three processes) and, endpoint by endpoint, their
runs alternate (one, two, two, one, ...), so whatever else loads the machine falls on both
alike. Prints req/s, p99 and the ratio two/one per endpoint (of the median runs, and run pair
by run pair), and writes ``bench/results/redis_bench.json``. It starts its own redis-server
(``--save '' --appendonly no``) unless given ``--redis URL``. Each configuration uses its own
key prefix, so records one POSTs never lengthen the other's lists.

    .venv/bin/python bench/redis_bench.py                   # 10 s runs, 16 connections
    .venv/bin/python bench/redis_bench.py --quick           # 3 s runs
    .venv/bin/python bench/redis_bench.py --redis redis://127.0.0.1:6379/0 --repeat 3

wrk, redis-server and the sandboxes share this machine's cores: read the figures with that
in mind. A script that prints figures, not a test: nothing here asserts on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from serve_bench import (  # noqa: E402  (a sibling script, imported by path)
    BENCH_KEY,
    ENDPOINTS,
    PYTHON,
    ROOT,
    Endpoint,
    WrkStats,
    ensure_wrk,
    free_port,
    lua_script,
    process_tree,
    request,
    run_wrk,
    running,
    sandbox_api_key,
    spec_base_path,
    target_path,
    tool_version,
    tree_memory_mb,
    wait_ready,
)

RESULTS = BENCH / "results" / "redis_bench.json"
TARGET_RATIO = 1.6  # the goal for two processes over one


@dataclass
class Figures:
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    per_process_rps: list[float] = field(default_factory=list)
    # CPU used during the run, in cores (seconds of CPU per second): where the machine went
    sandbox_cores: float | None = None
    wrk_cores: float | None = None
    redis_cores: float | None = None


@dataclass
class Row:
    endpoint: str
    one: Figures | None = None
    two: Figures | None = None
    all_one_rps: list[float] = field(default_factory=list)
    all_two_rps: list[float] = field(default_factory=list)
    pair_ratios: list[float] = field(default_factory=list)  # two/one, run by run

    @property
    def ratio(self) -> float | None:
        if not self.one or not self.two or not self.one.requests_per_sec:
            return None
        return round(self.two.requests_per_sec / self.one.requests_per_sec, 3)


# -- Redis ----------------------------------------------------------------------------------
@contextmanager
def own_redis(workdir: Path) -> Any:
    """A redis-server on a free port of 127.0.0.1 for the length of the run."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        sys.exit("redis-server is not installed: run `make redis-server` (Debian's package)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(workdir)]  # fmt: skip
    with running(command, workdir / "redis.log") as proc:
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while not ping(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("redis-server did not start:\n" + (workdir / "redis.log").read_text())
            time.sleep(0.05)
        yield url, tool_version([binary, "--version"]), proc.pid


def ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def with_prefix(url: str, prefix: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "prefix"] + [("prefix", prefix)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def forget(url: str, prefix: str) -> None:
    """Delete the keys a run left under its prefix (in a Redis the user gave us)."""
    import redis

    parts = urlsplit(url)
    rest = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "prefix"])
    client = redis.Redis.from_url(urlunsplit(parts._replace(query=rest)))
    batch = list(client.scan_iter(match=prefix + ":*", count=1000))
    for start in range(0, len(batch), 1000):
        client.unlink(*batch[start : start + 1000])


# -- the sandboxes --------------------------------------------------------------------------
def sandbox_command(spec: Path, port: int, url: str, threads: int) -> list[str]:
    return [
        PYTHON, "-m", "sandbox", "serve", str(spec), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--threads", str(threads), "--seed", "1", "--rate-limits", "",
        "--redis", url, "--api-key", BENCH_KEY,
    ]  # fmt: skip


@contextmanager
def sandboxes(
    count: int, spec: Path, url: str, threads: int, workdir: Path, headers: dict[str, str]
) -> Any:
    """``count`` sandbox processes on their own ports, all on ``url``; their base URLs and
    root pids once every one answers."""
    base = spec_base_path(spec)
    with ExitStack() as stack:
        started = []
        for index in range(count):
            port = free_port()
            command = sandbox_command(spec, port, url, threads)
            log = workdir / f"sandbox-{count}-{index}.log"
            proc = stack.enter_context(running(command, log))
            started.append((proc, f"http://127.0.0.1:{port}", log))
        ready = []
        for proc, root, log in started:
            try:
                prefix, _ = wait_ready(proc, root, (base,), headers, time.monotonic())
            except RuntimeError as exc:
                sys.exit(f"a sandbox did not start: {exc}\n{log.read_text()[-2000:]}")
            ready.append((root + prefix, proc.pid))
        yield ready


# -- load -----------------------------------------------------------------------------------
def load(
    wrk: str, urls: list[str], script: Path, connections: int, seconds: float
) -> list[WrkStats]:
    """One wrk per URL, started together, the connections split evenly between them."""
    share = [connections // len(urls) + (i < connections % len(urls)) for i in range(len(urls))]
    with ThreadPoolExecutor(len(urls)) as pool:
        runs = [
            pool.submit(run_wrk, wrk, url, script, conns, seconds)
            for url, conns in zip(urls, share, strict=True)
        ]
        return [run.result() for run in runs]


def cpu_seconds(roots: list[int]) -> float:
    """CPU time (user + system) of these processes and their children, from /proc."""
    total = 0
    for root in roots:
        for pid in process_tree(root):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def accounted_load(
    wrk: str, urls: list[str], script: Path, connections: int, seconds: float,
    sandboxes: list[int], redis_pid: int | None,
) -> Figures:  # fmt: skip
    """One measured run, with the CPU each party used during it."""
    before = (cpu_seconds(sandboxes), resource.getrusage(resource.RUSAGE_CHILDREN),
              cpu_seconds([redis_pid]) if redis_pid else None)  # fmt: skip
    started = time.monotonic()
    figures = combine(load(wrk, urls, script, connections, seconds))
    elapsed = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the wrk runs just reaped
    figures.sandbox_cores = round((cpu_seconds(sandboxes) - before[0]) / elapsed, 2)
    wrk_cpu = children.ru_utime + children.ru_stime - before[1].ru_utime - before[1].ru_stime
    figures.wrk_cores = round(wrk_cpu / elapsed, 2)
    if redis_pid and before[2] is not None:
        figures.redis_cores = round((cpu_seconds([redis_pid]) - before[2]) / elapsed, 2)
    return figures


def combine(stats: list[WrkStats]) -> Figures:
    return Figures(
        requests_per_sec=round(sum(s.requests_per_sec for s in stats), 1),
        p50_ms=round(statistics.fmean(s.p50_ms for s in stats), 3),
        p99_ms=max(s.p99_ms for s in stats),
        non_2xx=sum(s.non_2xx for s in stats),
        socket_errors=sum(sum(s.socket_errors.values()) for s in stats),
        per_process_rps=[round(s.requests_per_sec, 1) for s in stats],
    )


def prepare(bases: list[str], endpoint: Endpoint, headers: dict[str, str]) -> list[str]:
    """The URLs to load: an item path with an id this configuration's Redis prefix holds."""
    path = target_path(endpoint, bases[0], headers)  # one Redis behind all: one id serves all
    status = request(bases[0] + path, endpoint, headers)
    if status != endpoint.expected:
        print(f"  WARNING {endpoint.key}: expected {endpoint.expected}, got {status}")
    return [base + path for base in bases]


def bench_endpoints(
    configurations: dict[str, list[tuple[str, int]]], args: argparse.Namespace, wrk: str,
    headers: dict[str, str], workdir: Path, rows: dict[str, Row], redis_pid: int | None,
) -> None:  # fmt: skip
    """Endpoint by endpoint, the configurations' runs alternate (one, two, two, one, ...), so
    load from anything else on the machine falls on both alike."""
    for endpoint in ENDPOINTS:
        script = workdir / f"{endpoint.key.split()[0]}-{len(endpoint.path)}.lua"
        script.write_text(lua_script(endpoint, headers))
        urls = {
            label: prepare([base for base, _ in ready], endpoint, headers)
            for label, ready in configurations.items()
        }
        pids = {label: [pid for _, pid in ready] for label, ready in configurations.items()}
        if args.warmup > 0:
            for label in urls:
                load(wrk, urls[label], script, args.concurrency, args.warmup)
        runs: dict[str, list[Figures]] = {label: [] for label in urls}
        order = list(urls)
        for repeat in range(args.repeat):
            for label in order if repeat % 2 == 0 else reversed(order):
                figures = accounted_load(wrk, urls[label], script, args.concurrency,
                                         args.duration, pids[label], redis_pid)  # fmt: skip
                runs[label].append(figures)
        row = rows.setdefault(endpoint.key, Row(endpoint.key))
        row.pair_ratios = [
            round(two.requests_per_sec / one.requests_per_sec, 3)
            for one, two in zip(runs["one"], runs["two"], strict=True)
            if one.requests_per_sec
        ]
        for label, figures in runs.items():
            setattr(row, f"all_{label}_rps", [f.requests_per_sec for f in figures])
            median = sorted(figures, key=lambda f: f.requests_per_sec)[len(figures) // 2]
            setattr(row, label, median)
            split = " + ".join(f"{r:,.0f}" for r in median.per_process_rps)
            print(f"  {endpoint.key} [{label}]: {median.requests_per_sec:,.0f} req/s ({split}), "
                  f"p99 {median.p99_ms:.1f} ms, non-2xx {median.non_2xx}, cores: sandboxes "
                  f"{median.sandbox_cores}, wrk {median.wrk_cores}, redis "
                  f"{median.redis_cores}")  # fmt: skip
        print(f"  {endpoint.key}: two/one per pair of runs {row.pair_ratios}")


# -- report ---------------------------------------------------------------------------------
def _fmt(value: float | None, spec: str = ",.0f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def print_report(rows: dict[str, Row], args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=150)
    table = Table(
        title=f"Redis backend: one process vs two sharing one Redis "
        f"(c={args.concurrency} total, --threads {args.threads}, {args.duration:g} s runs)"
    )
    for column in ("endpoint", "one req/s", "one p99 ms", "two req/s", "(each)", "two p99 ms",
                   "non-2xx", "two/one", "per pair"):  # fmt: skip
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for row in rows.values():
        one, two = row.one, row.two
        ratio = row.ratio
        mark = "" if ratio is None else (" ✓" if ratio >= TARGET_RATIO else " (< 1.6)")
        table.add_row(
            row.endpoint,
            _fmt(one.requests_per_sec if one else None),
            _fmt(one.p99_ms if one else None, ".1f"),
            _fmt(two.requests_per_sec if two else None),
            " + ".join(f"{r:,.0f}" for r in two.per_process_rps) if two else "-",
            _fmt(two.p99_ms if two else None, ".1f"),
            f"{one.non_2xx if one else '-'} / {two.non_2xx if two else '-'}",
            _fmt(ratio, ".2f", "x") + mark,
            " ".join(f"{r:.2f}" for r in row.pair_ratios),
        )
    console.print(table)
    cpu = Table(title="Where the CPU went during the median runs (cores = CPU seconds per second)")
    for column in ("endpoint", "one: sandbox", "wrk", "redis", "req/s per sandbox core",
                   "two: sandboxes", "wrk", "redis", "req/s per sandbox core"):  # fmt: skip
        cpu.add_column(column, justify="left" if column == "endpoint" else "right")
    for row in rows.values():
        cpu.add_row(row.endpoint, *_cores(row.one), *_cores(row.two))
    console.print(cpu)
    console.print(
        f"Target: two/one >= {TARGET_RATIO}x. This machine has {os.cpu_count()} CPUs, shared by "
        "the sandboxes, wrk, redis-server and anything else running on it."
    )


def _cores(figures: Figures | None) -> list[str]:
    if figures is None:
        return ["-"] * 4
    per_core = figures.requests_per_sec / figures.sandbox_cores if figures.sandbox_cores else None
    return [_fmt(figures.sandbox_cores, ".2f"), _fmt(figures.wrk_cores, ".2f"),
            _fmt(figures.redis_cores, ".2f"), _fmt(per_core)]  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", help="use this Redis instead of starting a redis-server")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each run")
    parser.add_argument("--concurrency", type=int, default=16, help="connections in all")
    parser.add_argument("--threads", type=int, default=4, help="threads per sandbox process")
    parser.add_argument("--repeat", type=int, default=1, help="runs per endpoint (median)")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-up")
    parser.add_argument("--spec", type=Path, default=Path("openapi.yaml"))
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
    args.repeat = max(1, args.repeat)
    args.spec = args.spec if args.spec.is_absolute() else (ROOT / args.spec).resolve()
    if not args.spec.exists():
        parser.error(f"no spec at {args.spec}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = ensure_wrk()
    api_key, why = sandbox_api_key(args.spec)
    if api_key is None:
        sys.exit(why)
    headers = {"Authorization": f"Bearer {api_key}"}
    rows: dict[str, Row] = {}
    run_id = secrets.token_hex(4)
    with tempfile.TemporaryDirectory(prefix="redis_bench_") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        redis_pid: int | None = None  # the CPU of a Redis we did not start is not ours to see
        if args.redis:
            url, redis_version = args.redis, "given"
            if not ping(url):
                sys.exit(f"cannot reach Redis at {url}")
        else:
            url, redis_version, redis_pid = stack.enter_context(own_redis(workdir))
        prefixes = {"one": f"bench-one-{run_id}", "two": f"bench-two-{run_id}"}
        meta_runs: dict[str, Any] = {}
        try:
            with (
                sandboxes(1, args.spec, with_prefix(url, prefixes["one"]), args.threads, workdir,
                          headers) as one,
                sandboxes(2, args.spec, with_prefix(url, prefixes["two"]), args.threads, workdir,
                          headers) as two,
            ):  # fmt: skip
                configurations = {"one": one, "two": two}
                print(f"one: {[b for b, _ in one]}; two: {[b for b, _ in two]}; "
                      f"--workers 1 --threads {args.threads} each, Redis {url}")  # fmt: skip
                bench_endpoints(configurations, args, wrk, headers, workdir, rows, redis_pid)
                for label, ready in configurations.items():
                    meta_runs[label] = {
                        "bases": [base for base, _ in ready],
                        "rss_mb": [round(tree_memory_mb(pid)[0], 1) for _, pid in ready],
                    }
        finally:
            if args.redis:
                for prefix in prefixes.values():
                    forget(url, prefix)
    print_report(rows, args)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(PYTHON).name, *sys.argv]),
        "spec": str(args.spec),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": tool_version([wrk, "-v"]),
        "redis": redis_version,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "concurrency": args.concurrency,
        "threads_per_process": args.threads,
        "repeat": args.repeat,
        "processes": meta_runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": meta,
        "rows": [{**asdict(row), "two_over_one": row.ratio} for row in rows.values()],
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
