"""Start-up benchmark: import time, cold and warm start per corpus spec, and memory, ours
against Prism, best of a few runs each.

corpus_bench.py takes one start per spec and looks at much more (first call, Schemathesis);
this one only asks what a start costs and how much memory a default server holds, repeated
so that a machine shared with other work shows less in the figures:

* import: ``python -c "import sandbox.cli"`` (what every ``sandbox`` command pays before it
  does anything), wall time, best of ``--repeat``; beside it ``python -c pass``, and which
  of the heavy packages a ``serve`` of a cached spec does not need the import still loads;
* cold start per spec: ``sandbox serve SPEC`` (corpus_bench's command: ``--state :memory:``,
  ``--log-format off``, the default server and workers) from spawn to the first 200 of
  ``GET /__sandbox/health``, with an empty ``--spec-cache``, best of ``--repeat``;
* warm start: the same with the cache a cold start filled (a restart), best of ``--repeat``;
* CPU to ready: for each of those starts, the CPU seconds the whole process tree had used
  when the first 200 came (user + system, /proc/<pid>/stat, the workers included): what a
  start costs whatever else loads the machine, which wall time on a shared machine is not;
* Prism: ``prism mock SPEC`` from spawn to its first HTTP answer, best of ``--repeat``
  (Prism keeps no cache, so its every start is a cold one);
* memory: ``sandbox serve openapi.yaml`` as a new user runs it (granian, 2 workers, a state
  file, JSON logs) and ``prism mock -d`` on the same spec, each after 200 requests spread
  over fresh connections, the whole process tree: RSS (pages shared by forked workers
  counted once per process) and PSS (shared pages divided among the processes sharing them,
  from /proc/<pid>/smaps_rollup: the fairer sum for forked workers), and both per process
  (the server process that forked the workers, then each worker) with what it shares.

    .venv/bin/python bench/startup_bench.py                       # every spec, 3 runs each
    .venv/bin/python bench/startup_bench.py --specs stripe,github,DigitalOcean --repeat 5
    .venv/bin/python bench/startup_bench.py --no-prism --specs openapi.yaml

Our modules are byte-compiled first, as ``make run`` does (see ``compile_bytecode``): with
PYTHONDONTWRITEBYTECODE set, as in this workplace's shells and most Docker images, every start
would otherwise compile them again.

Prints figures and writes them to bench/results/startup_bench.json; nothing asserts on a
timing. Ratios are ours/Prism from this one run (< 1 favours the sandbox).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_bench import (  # sibling scripts, not a package
    OPENER,
    Entry,
    chosen_entries,
    sandbox,
    wait_answer,
)
from serve_bench import (
    BENCH,
    PYTHON,
    ROOT,
    child_env,
    compile_bytecode,
    ensure_prism,
    free_port,
    running,
    tool_version,
    tree_memory_mb,
)

RESULTS = BENCH / "results" / "startup_bench.json"
# what `import sandbox.cli` should not load for a serve of a cached spec (issue 20)
HEAVY = ("openapi_core", "openapi_spec_validator", "jsonschema", "flask", "pydantic_settings",
         "pydantic", "cryptography", "jwt", "faker", "granian", "werkzeug")  # fmt: skip
MEMORY_REQUESTS = 200


@dataclass
class ImportTime:
    import_s: float
    python_s: float
    loaded_heavy: list[str]
    modules: int


@dataclass
class Start:
    spec: str
    bytes: int
    cold_s: list[float] = field(default_factory=list)
    warm_s: list[float] = field(default_factory=list)
    prism_s: list[float] = field(default_factory=list)
    cold_cpu_s: list[float] = field(default_factory=list)
    warm_cpu_s: list[float] = field(default_factory=list)
    prism_cpu_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def cold(self) -> float | None:
        return min(self.cold_s) if self.cold_s else None

    @property
    def warm(self) -> float | None:
        return min(self.warm_s) if self.warm_s else None

    @property
    def prism(self) -> float | None:
        return min(self.prism_s) if self.prism_s else None

    def cpu(self) -> str:
        """Best CPU seconds to ready: cold / warm / Prism."""
        runs = (self.cold_cpu_s, self.warm_cpu_s, self.prism_cpu_s)
        return " / ".join(_f(min(values)) if values else "-" for values in runs)


@dataclass
class ProcessMemory:
    role: str  # "server" (the process that forked the workers) or "worker"
    pid: int
    threads: int
    rss_mb: float
    pss_mb: float
    shared_mb: float  # resident pages this process shares with another


@dataclass
class Memory:
    target: str
    command: list[str]
    processes: int | None = None
    rss_mb: float | None = None
    pss_mb: float | None = None
    error: str | None = None
    per_process: list[ProcessMemory] = field(default_factory=list)


# -- import ---------------------------------------------------------------------------------
def best_wall(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=child_env(), check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return min(times)


def import_time(repeat: int) -> ImportTime:
    probe = (
        "import sys, json, sandbox.cli; "
        f"heavy = {list(HEAVY)!r}; "
        "print(json.dumps([[h for h in heavy if h in sys.modules], len(sys.modules)]))"
    )
    done = subprocess.run(
        [PYTHON, "-c", probe], cwd=ROOT, env=child_env(), check=True, capture_output=True
    )
    loaded, modules = json.loads(done.stdout)
    return ImportTime(
        import_s=best_wall([PYTHON, "-c", "import sandbox.cli"], repeat),
        python_s=best_wall([PYTHON, "-c", "pass"], repeat),
        loaded_heavy=loaded,
        modules=modules,
    )


# -- start-up -------------------------------------------------------------------------------
_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants so far, with what its
    reaped children used."""
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / _TICKS


def our_start(spec: Path, cache: Path, logs: Path) -> tuple[float, float]:
    """(seconds to the first 200 of the health endpoint, CPU seconds the tree used by then)."""
    with sandbox(spec, cache, logs) as server:
        try:
            wall = wait_answer(server.proc, server.root + "/__sandbox/health", server.started)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{server.stderr_tail()}") from None
        return wall, tree_cpu_s(server.proc.pid)


def prism_start(prism: Path, spec: Path, log: Path) -> tuple[float, float]:
    port = free_port()
    command = [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    started = time.monotonic()
    with running(command, log) as proc:
        wall = wait_answer(proc, f"http://127.0.0.1:{port}/", started, any_status=True)
        return wall, tree_cpu_s(proc.pid)


def measure_start(entry: Entry, prism: Path | None, repeat: int, workdir: Path) -> Start:
    result = Start(entry.name, entry.path.stat().st_size)
    workdir.mkdir(parents=True)
    try:
        for run in range(repeat):
            cache = workdir / f"cache-{run}"  # empty: a cold start
            wall, cpu = our_start(entry.path, cache, workdir / f"cold{run}")
            result.cold_s.append(round(wall, 3))
            result.cold_cpu_s.append(round(cpu, 2))
        for run in range(repeat):
            wall, cpu = our_start(entry.path, workdir / "cache-0", workdir / f"warm{run}")
            result.warm_s.append(round(wall, 3))
            result.warm_cpu_s.append(round(cpu, 2))
    except RuntimeError as exc:
        result.errors.append(f"sandbox: {exc}")
    if prism is not None:
        try:
            for run in range(repeat):
                wall, cpu = prism_start(prism, entry.path, workdir / f"prism{run}.log")
                result.prism_s.append(round(wall, 3))
                result.prism_cpu_s.append(round(cpu, 2))
        except RuntimeError as exc:
            result.errors.append(f"prism: {exc}")
    return result


# -- memory ---------------------------------------------------------------------------------
def load(url: str, count: int) -> None:
    """``count`` requests, each on a new connection, so every worker gets its share."""
    for _ in range(count):
        try:
            with OPENER.open(url, timeout=30) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            exc.close()


def memory_ours(spec: Path, workdir: Path) -> Memory:
    workdir.mkdir(parents=True, exist_ok=True)
    extra = ("--state", str(workdir / "state.sqlite"), "--log-format", "json")
    result = Memory("sandbox serve (defaults: granian, 2 workers)", [])
    with sandbox(spec, workdir / "cache", workdir / "ours", extra) as server:
        result.command = [str(a) for a in server.proc.args]  # type: ignore[union-attr]
        try:
            wait_answer(server.proc, server.root + "/__sandbox/health", server.started)
            load(server.root + "/__sandbox/health", MEMORY_REQUESTS // 2)
            load(server.root + "/v1/users", MEMORY_REQUESTS // 2)  # may be 401: same work
            time.sleep(0.5)
            result.rss_mb, result.pss_mb = (round(v, 1) for v in tree_memory_mb(server.proc.pid))
            result.processes = len(_tree(server.proc.pid))
            result.per_process = per_process(server.proc.pid)
        except RuntimeError as exc:
            result.error = f"{exc}\n{server.stderr_tail()}"
    return result


def memory_prism(prism: Path, spec: Path, workdir: Path) -> Memory:
    port = free_port()
    command = [str(prism), "mock", "-d", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    result = Memory("prism mock -d", command)
    started = time.monotonic()
    with running(command, workdir / "prism-memory.log") as proc:
        try:
            root = f"http://127.0.0.1:{port}"
            wait_answer(proc, root + "/", started, any_status=True)
            load(root + "/users", MEMORY_REQUESTS)
            time.sleep(0.5)
            result.rss_mb, result.pss_mb = (round(v, 1) for v in tree_memory_mb(proc.pid))
            result.processes = len(_tree(proc.pid))
            result.per_process = per_process(proc.pid)
        except RuntimeError as exc:
            result.error = str(exc)
    return result


def per_process(root: int) -> list[ProcessMemory]:
    """RSS, PSS and shared pages of each process of the tree (smaps_rollup), root first."""
    found = []
    for pid in _tree(root):
        rollup = Path(f"/proc/{pid}/smaps_rollup")
        shared = _kb(rollup, "Shared_Clean") + _kb(rollup, "Shared_Dirty")
        found.append(ProcessMemory(
            "server" if pid == root else "worker", pid, _kb(Path(f"/proc/{pid}/status"), "Threads"),
            round(_kb(rollup, "Rss") / 1024, 1), round(_kb(rollup, "Pss") / 1024, 1),
            round(shared / 1024, 1),
        ))  # fmt: skip
    return found


def _kb(path: Path, key: str) -> int:
    from serve_bench import _proc_kb

    return _proc_kb(path, key)


def _tree(pid: int) -> list[int]:
    from serve_bench import process_tree

    return process_tree(pid)


# -- output ---------------------------------------------------------------------------------
def _f(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else f"{value:{spec}}"


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return None if ours is None or not theirs else ours / theirs


def report(imp: ImportTime, starts: list[Start], memory: list[Memory]) -> None:
    print(
        f"\nimport sandbox.cli: {imp.import_s:.3f} s wall (python -c pass: {imp.python_s:.3f} s;"
        f" {imp.modules} modules); heavy packages loaded: {', '.join(imp.loaded_heavy) or 'none'}"
    )
    if starts:
        print(
            "\n| spec | KB | cold s | warm s | Prism s | cold/Prism | warm/Prism "
            "| CPU s cold / warm / Prism |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for s in starts:
            print(
                f"| {s.spec} | {s.bytes / 1024:.0f} | {_f(s.cold)} | {_f(s.warm)} | "
                f"{_f(s.prism)} | {_f(_ratio(s.cold, s.prism))} | {_f(_ratio(s.warm, s.prism))} "
                f"| {s.cpu()} |"
            )
        worst = max(
            (s for s in starts if _ratio(s.cold, s.prism) is not None),
            key=lambda s: _ratio(s.cold, s.prism) or 0.0,
            default=None,
        )
        if worst is not None:
            print(f"worst cold/Prism: {worst.spec} {_f(_ratio(worst.cold, worst.prism))}")
        small = [s for s in starts if s.bytes < 1024 * 1024 and s.warm is not None]
        if small:
            slowest = max(small, key=lambda s: s.warm or 0.0)
            print(f"slowest warm start under 1 MB: {slowest.spec} {_f(slowest.warm)} s")
    for m in memory:
        if m.error:
            print(f"\nmemory, {m.target}: failed: {m.error}")
        else:
            print(
                f"\nmemory, {m.target}: {m.processes} processes, RSS {_f(m.rss_mb, '.0f')} MB, "
                f"PSS {_f(m.pss_mb, '.0f')} MB"
            )
            for p in m.per_process:
                print(
                    f"  {p.role} {p.pid}: {p.threads} threads, RSS {p.rss_mb:.0f} MB "
                    f"(shared {p.shared_mb:.0f}), PSS {p.pss_mb:.0f} MB"
                )
    if len(memory) == 2 and all(m.rss_mb for m in memory):
        ours, theirs = memory
        print(
            f"ours/Prism: RSS {_f(_ratio(ours.rss_mb, theirs.rss_mb))}, "
            f"PSS {_f(_ratio(ours.pss_mb, theirs.pss_mb))}"
        )
    problems = [(s.spec, e) for s in starts for e in s.errors]
    for spec, error in problems:
        print(f"- {spec}: " + error.replace("\n", "\n    "))


# -- command line ---------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", default="", help="only specs whose path contains one of these")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each start (best kept)")
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    parser.add_argument("--no-starts", action="store_true", help="skip the per-spec starts")
    parser.add_argument("--corpus", type=Path, help="corpus directory (default: the archive)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the figures")
    args = parser.parse_args(argv)
    args.specs = [s.strip() for s in args.specs.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    entries = chosen_entries(args.corpus, args.specs, "startup_bench")
    compile_bytecode()
    prism: Path | None = None
    if not args.no_prism:
        prism, why = ensure_prism()
        if prism is None:
            print(f"Prism is not available, leaving it out: {why}")
    imp = import_time(max(args.repeat, 5))
    print(f"import sandbox.cli: {imp.import_s:.3f} s; loaded: {', '.join(imp.loaded_heavy)}")
    starts: list[Start] = []
    memory: list[Memory] = []
    with tempfile.TemporaryDirectory(prefix="startup_bench_") as tmp:
        if not args.no_starts:
            for index, entry in enumerate(entries, 1):
                result = measure_start(entry, prism, args.repeat, Path(tmp) / str(index))
                starts.append(result)
                print(
                    f"[{index}/{len(entries)}] {entry.name}: cold {_f(result.cold)} s, warm "
                    f"{_f(result.warm)} s, Prism {_f(result.prism)} s"
                    + (f"; {len(result.errors)} problem(s)" if result.errors else ""),
                    flush=True,
                )
        if not args.no_memory:
            spec = ROOT / "openapi.yaml"
            memory.append(memory_ours(spec, Path(tmp) / "memory"))
            if prism is not None:
                memory.append(memory_prism(prism, spec, Path(tmp)))
    report(imp, starts, memory)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(PYTHON).name, *sys.argv]),
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "prism": tool_version([str(prism), "--version"]) if prism else None,
        "bytecode": "compiled first, as make run does (compileall)",
    }
    payload = {
        "meta": meta,
        "import": asdict(imp),
        "starts": [{**asdict(s), "best": [s.cold, s.warm, s.prism]} for s in starts],
        "memory": [asdict(m) for m in memory],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
