"""Corpus benchmark: start-up time, memory and first call of the sandbox on real-world specs.

serve_bench.py measures throughput on our own spec; this one asks what the sandbox costs on
specs it has never seen: every root spec in the corpus's INDEX.tsv and INDEX-added.tsv
(Stripe's and GitHub's; Swagger 2.0 ones too: the sandbox converts them) plus the repo's
openapi.yaml. The corpus is the repo's tests/data/corpus.tar.xz, unpacked into a temporary
folder, or ``--corpus DIR``.

Per spec, the sandbox is started as
``python -m sandbox serve SPEC --state :memory: --log-format off`` (plus ``--lenient``
for an invalid spec, whose validation then runs in the background) with a fresh
``--spec-cache`` directory, each start in its own process group:

* cold start: spawn to the first 200 of ``GET /__sandbox/health`` (polled every 20 ms), with
  the cache empty, so the spec is parsed, validated and bundled;
* warm start: the same again with the cache the cold start filled, i.e. what a restart costs;
* RSS: VmRSS summed over the warm server's process tree (gunicorn's arbiter and worker), right
  after it answered;
* first call: the first GET without required parameters in the served spec
  (``/docs/openapi.json``; a templated path only if there is no other, filled from examples),
  sent with the banner's test key (HTTP Basic when the spec's only Authorization scheme is
  basic, else Bearer, plus any apiKey header): status and milliseconds, as lazy work lands there.

``--schemathesis`` also runs Schemathesis (2 positive examples per operation, conformance
checks) against a third start; ``--prism`` times Prism's start-up and memory on the large
specs for ours/Prism ratios (Prism is installed by serve_bench.py's ``ensure_prism``).

    .venv/bin/python bench/corpus_bench.py                        # every spec
    .venv/bin/python bench/corpus_bench.py --specs petstore.yaml,uber --schemathesis
    .venv/bin/python bench/corpus_bench.py --specs openai,DigitalOcean --prism
    .venv/bin/python bench/corpus_bench.py --markdown             # the table for the README

This prints figures and writes them to bench/results/corpus_bench.json; nothing asserts on a
timing, and a loaded machine shows in the numbers, so compare runs made back to back.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.client
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # for tests.corpus
from serve_bench import (  # a sibling script, not a package
    BENCH,
    PYTHON,
    READY_TIMEOUT,
    ROOT,
    child_env,
    compile_bytecode,
    ensure_prism,
    free_port,
    running,
    stop_group,
    tool_version,
    tree_memory_mb,
)

from tests.corpus import ARCHIVE, CorpusMissing, corpus_dir

RESULTS = BENCH / "results" / "corpus_bench.json"
ST = Path(PYTHON).with_name("st")
POLL_S = 0.02
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
PRISM_DEFAULT = ("openai.yaml", "DigitalOcean-public", "stripe_spec3", "github_api")
# the specs the corpus lists: INDEX.tsv, then those added later (Stripe's and GitHub's), as
# tests/corpus.py's listed_specs reads them
INDEXES = ("INDEX.tsv", "INDEX-added.tsv")
ST_CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
KEY_RE = re.compile(r"sk_test_[A-Za-z0-9_]+")
ST_SUMMARY_RE = re.compile(r"^\s*(\d+ generated\b.*?)\s*$", re.MULTILINE)
ST_FAILURE_RE = re.compile(r"^\s*❌\s*(ST\d+)\s+(.*?):\s*(\d+)\s*$", re.MULTILINE)
# urllib would send 127.0.0.1 through an http_proxy from the environment
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# -- what is measured -----------------------------------------------------------------------
@dataclass
class Entry:
    name: str  # as in INDEX.tsv, or "openapi.yaml (repo)"
    path: Path
    version: str


@dataclass
class FirstCall:
    method: str
    path: str
    auth: str
    status: int | None = None
    ms: float | None = None
    error: str | None = None


@dataclass
class Schemathesis:
    exit_code: int | None
    summary: str | None
    failures: dict[str, int]
    failure_titles: dict[str, str]
    duration_s: float
    error: str | None = None


@dataclass
class Prism:
    cold_s: float | None = None
    rss_mb: float | None = None
    error: str | None = None
    cold_ratio: float | None = None  # ours / Prism
    warm_ratio: float | None = None
    rss_ratio: float | None = None


@dataclass
class SpecResult:
    spec: str
    path: str
    version: str
    operations: int | None = None
    base_url: str | None = None
    cold_s: float | None = None
    warm_s: float | None = None
    rss_mb: float | None = None
    rss_after_call_mb: float | None = None
    first_call: FirstCall | None = None
    first_call_note: str | None = None  # why there was none
    schemathesis: Schemathesis | None = None
    prism: Prism | None = None
    errors: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)  # the servers' stderr beyond the banner


# -- the specs ------------------------------------------------------------------------------
def corpus_entries(corpus: Path) -> list[Entry]:
    entries = []
    for name in INDEXES:
        if not (corpus / name).exists():
            continue
        with (corpus / name).open(encoding="utf-8") as index:
            header = index.readline().rstrip("\n").split("\t")
            for line in index:
                if not line.strip():
                    continue
                row = dict(zip(header, line.rstrip("\n").split("\t"), strict=False))
                entries.append(Entry(row["file"], corpus / row["file"], row.get("openapi", "?")))
    own = ROOT / "openapi.yaml"
    document = yaml.load(own.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    entries.append(Entry("openapi.yaml (repo)", own, str(document.get("openapi", "?"))))
    return entries


def wanted(name: str, filters: list[str]) -> bool:
    return not filters or any(f in name for f in filters)


# -- processes ------------------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    root: str
    started: float
    out: Path
    err: Path

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def stderr_tail(self, lines: int = 12) -> str:
        return "\n".join(self.err.read_text(errors="replace").strip().splitlines()[-lines:])

    def stderr_notes(self) -> list[str]:
        """Its stderr without the banner (a rich panel): warnings, tracebacks."""
        text = self.err.read_text(errors="replace")
        return [line for line in text.splitlines() if line.strip() and line[0] not in "╭│╰"]


@functools.cache
def needs_lenient(spec: Path) -> bool:
    """Only an invalid spec is served with --lenient (which validates in the background): a
    valid one is timed as a user starts it, validation before the first answer included."""
    from sandbox import SpecError, load_spec

    try:
        load_spec(spec)
    except SpecError:
        return True
    return False


@contextmanager
def sandbox(
    spec: Path,
    cache: Path,
    logs: Path,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start the sandbox in its own process group (serve_bench's ``running`` cannot take
    SANDBOX_* variables, which Schemathesis' start needs); always stop the whole group."""
    port = free_port()
    command = [
        PYTHON, "-m", "sandbox", "serve", str(spec),
        "--host", "127.0.0.1", "--port", str(port),
        "--state", ":memory:", "--spec-cache", str(cache), "--log-format", "off",
        *(["--lenient"] if needs_lenient(spec) else []), *extra,
    ]  # fmt: skip
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**child_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            yield Server(proc, f"http://127.0.0.1:{port}", started, out, err)
        finally:
            stop_group(proc)


def wait_answer(
    proc: subprocess.Popen[bytes], url: str, started: float, any_status: bool = False
) -> float:
    """Seconds from ``started`` to the first 200 of GET url (any HTTP answer if any_status)."""
    while time.monotonic() - started < READY_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"did not start: exited with code {proc.returncode}")
        try:
            with OPENER.open(url, timeout=5) as resp:
                resp.read()
                if resp.status == 200 or any_status:
                    return time.monotonic() - started
        except urllib.error.HTTPError as exc:
            if any_status:
                return time.monotonic() - started
            exc.close()
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(POLL_S)
    raise RuntimeError(f"did not start: no answer within {READY_TIMEOUT:.0f} s")


def start(server: Server) -> tuple[float | None, str | None]:
    """(seconds to healthy, None), or (None, why not with the end of its stderr)."""
    try:
        return wait_answer(server.proc, server.root + "/__sandbox/health", server.started), None
    except RuntimeError as exc:
        return None, f"{exc}\n{server.stderr_tail()}"


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    req = urllib.request.Request(url, headers=headers or {})
    with OPENER.open(req, timeout=60) as resp:
        return json.load(resp)


# -- the served spec: operations, auth, the first call -------------------------------------
def count_operations(doc: dict[str, Any]) -> int:
    paths = doc.get("paths") or {}
    return sum(
        1
        for item in paths.values()
        if isinstance(item, dict)
        for method in HTTP_METHODS
        if isinstance(item.get(method), dict)
    )


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref``s (the served spec is bundled, so every one is local)."""
    for _ in range(20):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node = target
    return node


@dataclass
class Auth:
    kind: str  # "bearer" or "basic", "+api-key" when apiKey headers are sent too
    headers: dict[str, str]


def auth_headers(doc: dict[str, Any], key: str) -> Auth:
    """The banner key as the spec wants it: ``Authorization: Basic base64(key:x)`` if it has
    an http basic scheme (and none a bearer token satisfies: http bearer, OAuth 2, OpenID
    Connect), else ``Authorization: Bearer key``; plus every header apiKey scheme's header,
    since the sandbox takes the key there and nowhere else for those schemes."""
    declared = (doc.get("components") or {}).get("securitySchemes") or {}
    schemes = [s for s in (resolve(doc, s) for s in declared.values()) if isinstance(s, dict)]
    http = {str(s.get("scheme", "")).lower() for s in schemes if s.get("type") == "http"}
    takes_bearer = "bearer" in http or any(
        s.get("type") in ("oauth2", "openIdConnect") for s in schemes
    )
    if "basic" in http and not takes_bearer:
        basic = base64.b64encode(f"{key}:x".encode()).decode()
        auth = Auth("basic", {"Authorization": f"Basic {basic}"})
    else:
        auth = Auth("bearer", {"Authorization": f"Bearer {key}"})
    for scheme in schemes:
        name = str(scheme.get("name", ""))
        header = scheme.get("type") == "apiKey" and scheme.get("in") == "header"
        if header and name and name.lower() not in (h.lower() for h in auth.headers):
            auth.headers[name] = key
            auth.kind = auth.kind.split("+")[0] + "+api-key"
    return auth


def count_gets(doc: dict[str, Any]) -> int:
    paths = doc.get("paths") or {}
    items = [resolve(doc, item) for item in paths.values()]
    return sum(1 for item in items if isinstance(item, dict) and isinstance(item.get("get"), dict))


def first_get(doc: dict[str, Any]) -> str | None:
    """The first GET without required parameters, preferring paths without a template; else
    the first whose only required parameters are in its path, filled from their examples."""
    templated: list[str] = []
    for path, item in (doc.get("paths") or {}).items():
        item = resolve(doc, item)
        if not isinstance(item, dict) or not isinstance(item.get("get"), dict):
            continue
        declared = [*item.get("parameters", []), *item["get"].get("parameters", [])]
        params = [p for p in (resolve(doc, p) for p in declared) if isinstance(p, dict)]
        if any(p.get("required") and p.get("in") != "path" for p in params):
            continue
        if "{" not in path:
            return path
        filled = path
        for param in params:
            if param.get("in") == "path":
                filled = filled.replace("{" + str(param.get("name")) + "}", example(doc, param))
        templated.append(re.sub(r"\{[^}]*\}", "1", filled))
    return templated[0] if templated else None


def example(doc: dict[str, Any], param: dict[str, Any]) -> str:
    schema = resolve(doc, param.get("schema")) or {}
    for value in (
        param.get("example"),
        schema.get("example") if isinstance(schema, dict) else None,
        schema.get("default") if isinstance(schema, dict) else None,
        (schema.get("enum") or [None])[0] if isinstance(schema, dict) else None,
    ):
        if value is not None and not isinstance(value, dict | list):
            return quote(str(value), safe="")
    return "1"


def first_call(base_url: str, path: str, auth: Auth) -> FirstCall:
    call = FirstCall("GET", path, auth.kind)
    req = urllib.request.Request(base_url.rstrip("/") + path, headers=auth.headers)
    began = time.perf_counter()
    try:
        with OPENER.open(req, timeout=60) as resp:
            resp.read()
            call.status = int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        call.status = int(exc.code)
    except (OSError, http.client.HTTPException) as exc:
        call.error = f"{type(exc).__name__}: {exc}"
    call.ms = round((time.perf_counter() - began) * 1000, 1)
    return call


# -- Schemathesis and Prism ----------------------------------------------------------------
def run_schemathesis(
    root: str, base_url: str, auth: Auth, workdir: Path, timeout: float
) -> Schemathesis:
    command = [
        str(ST), "run", f"{root}/docs/openapi.json",
        "--url", base_url,
        *(arg for name, value in auth.headers.items() for arg in ("--header", f"{name}: {value}")),
        "--max-examples", "2", "--seed", "1", "--no-color", "--mode", "positive",
        "--phases", "examples,fuzzing", "--checks", ST_CHECKS,
    ]  # fmt: skip
    began = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=workdir,  # its .schemathesis/ cache lands in the temp dir
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Schemathesis(None, None, {}, {}, round(time.monotonic() - began, 1), "timed out")
    output = done.stdout + done.stderr
    (workdir / "schemathesis.log").write_text(output)
    summary = ST_SUMMARY_RE.findall(output)
    failures = {code: int(count) for code, _title, count in ST_FAILURE_RE.findall(output)}
    titles = {code: title for code, title, _count in ST_FAILURE_RE.findall(output)}
    error = None
    if done.returncode != 0 and not failures:
        error = "\n".join(output.strip().splitlines()[-8:])
    return Schemathesis(
        done.returncode,
        summary[-1] if summary else None,
        failures,
        titles,
        round(time.monotonic() - began, 1),
        error,
    )


def measure_prism(prism: Path, spec: Path, log: Path) -> Prism:
    port = free_port()
    command = [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    result = Prism()
    started = time.monotonic()
    with running(command, log) as proc:
        try:
            result.cold_s = round(
                wait_answer(proc, f"http://127.0.0.1:{port}/", started, any_status=True), 3
            )
            result.rss_mb = round(tree_memory_mb(proc.pid)[0], 1)
        except RuntimeError as exc:
            tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-12:])
            result.error = f"{exc}\n{tail}"
    return result


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return None if ours is None or not theirs else round(ours / theirs, 2)


# -- one spec -------------------------------------------------------------------------------
@dataclass
class Options:
    schemathesis: bool
    st_timeout: float
    prism: Path | None
    prism_specs: list[str]


def note_stderr(result: SpecResult, server: Server, limit: int = 40) -> None:
    for line in server.stderr_notes():
        if "SCHEMATHESIS-PROBE" in line:  # its capability probe sends a NUL byte in a header
            continue
        if line not in result.stderr and len(result.stderr) < limit:
            result.stderr.append(line)


def bench_spec(entry: Entry, options: Options, workdir: Path) -> SpecResult:
    result = SpecResult(entry.name, str(entry.path), entry.version)
    workdir.mkdir(parents=True)
    cache = workdir / "spec-cache"
    cache.mkdir()
    with sandbox(entry.path, cache, workdir / "cold") as server:
        seconds, error = start(server)
    note_stderr(result, server)
    if error:
        result.errors.append(f"cold start {error}")
        return result
    result.cold_s = round(seconds or 0.0, 3)

    auth: Auth | None = None
    with sandbox(entry.path, cache, workdir / "warm") as server:
        seconds, error = start(server)
        if error:
            result.errors.append(f"warm start {error}")
            return result
        result.warm_s = round(seconds or 0.0, 3)
        result.rss_mb = round(tree_memory_mb(server.proc.pid)[0], 1)
        try:
            doc = get_json(server.root + "/docs/openapi.json")
            result.operations = count_operations(doc)
            result.base_url = str(((doc.get("servers") or [{}])[0]).get("url", server.root))
            keys = KEY_RE.findall(server.output())
            if not keys:
                raise ValueError("no sk_test_ key in the banner")
            auth = auth_headers(doc, keys[0])
            path = first_get(doc)
            if path is None:
                result.first_call_note = (
                    "no GET without required parameters" if count_gets(doc) else "no GET"
                )
            else:
                result.first_call = first_call(result.base_url, path, auth)
                result.rss_after_call_mb = round(tree_memory_mb(server.proc.pid)[0], 1)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            result.errors.append(f"served spec: {type(exc).__name__}: {exc}")
    note_stderr(result, server)

    if options.schemathesis and result.base_url and auth:
        flags = ("--rate-limits", "1000000/minute")
        env = {"SANDBOX_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
        with sandbox(entry.path, cache, workdir / "st", flags, env) as server:
            _seconds, error = start(server)
            if error:
                result.errors.append(f"schemathesis start {error}")
            else:
                base = get_json(server.root + "/docs/openapi.json")["servers"][0]["url"]
                result.schemathesis = run_schemathesis(
                    server.root, base, auth, workdir, options.st_timeout
                )
        note_stderr(result, server)

    if options.prism and any(s in entry.name for s in options.prism_specs):
        prism = measure_prism(options.prism, entry.path, workdir / "prism.log")
        prism.cold_ratio = ratio(result.cold_s, prism.cold_s)
        prism.warm_ratio = ratio(result.warm_s, prism.cold_s)
        prism.rss_ratio = ratio(result.rss_mb, prism.rss_mb)
        if prism.error:
            result.errors.append(f"prism {prism.error}")
        result.prism = prism
    return result


# -- output ---------------------------------------------------------------------------------
def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else f"{value:{spec}}"


def first_call_cell(result: SpecResult) -> str:
    call = result.first_call
    if call is None:
        return result.first_call_note or "-"
    if call.status is None:
        return f"error ({call.error})"
    return f"{call.status}, {call.ms:.0f} ms"


def schemathesis_cell(run: Schemathesis | None) -> str:
    if run is None:
        return "-"
    if run.error and not run.failures:
        last = run.error.strip().splitlines()[-1].strip("= ") if run.error.strip() else ""
        return f"exit {run.exit_code}: {last}" if run.exit_code is not None else run.error
    if run.exit_code == 0:
        return "passed"
    total = sum(run.failures.values())
    codes = ", ".join(f"{code}: {count}" for code, count in sorted(run.failures.items()))
    return f"{total} failures: {codes}"


def table_rows(results: list[SpecResult]) -> tuple[list[str], list[list[str]]]:
    with_st = any(r.schemathesis for r in results)
    with_prism = any(r.prism for r in results)
    headers = ["spec", "version", "ops", "cold s", "warm s", "RSS MB", "first call"]
    if with_st:
        headers.append("Schemathesis")
    if with_prism:
        headers += ["Prism cold s", "Prism RSS MB"]
    rows = []
    for r in results:
        if r.cold_s is None or r.warm_s is None:
            row = [r.spec, r.version, "-", _fmt(r.cold_s), "-", "-", "did not start"]
        else:
            row = [
                r.spec,
                r.version,
                _fmt(r.operations, "d"),
                _fmt(r.cold_s),
                _fmt(r.warm_s),
                _fmt(r.rss_mb, ".0f"),
                first_call_cell(r),
            ]
        if with_st:
            row.append(schemathesis_cell(r.schemathesis))
        if with_prism:
            p = r.prism
            cold = ("did not start" if p.error else _fmt(p.cold_s)) if p else "-"
            row += [cold, _fmt(p.rss_mb, ".0f") if p else "-"]
        rows.append(row)
    return headers, rows


def prism_ratio_lines(results: list[SpecResult]) -> list[str]:
    lines = []
    for r in results:
        p = r.prism
        if p is None or p.error:
            continue
        lines.append(
            f"{r.spec}: ours/Prism cold start {_fmt(p.cold_ratio)}x "
            f"(warm {_fmt(p.warm_ratio)}x), RSS {_fmt(p.rss_ratio)}x "
            f"(<1 favours the sandbox)"
        )
    return lines


def print_markdown(headers: list[str], rows: list[list[str]]) -> None:
    numeric = {"ops", "cold s", "warm s", "RSS MB", "Prism cold s", "Prism RSS MB"}
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---:" if h in numeric else "---" for h in headers) + "|")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")


def print_report(results: list[SpecResult], markdown: bool) -> None:
    headers, rows = table_rows(results)
    if markdown:
        print()
        print_markdown(headers, rows)
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        if not console.is_terminal:
            console = Console(width=200)
        table = Table(title="Sandbox on the corpus: start-up, memory, first call")
        for header in headers:
            left = header in ("spec", "version", "first call", "Schemathesis")
            table.add_column(header, justify="left" if left else "right", overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for line in prism_ratio_lines(results):
        print(line)
    problems = [(r.spec, e) for r in results for e in r.errors]
    if problems:
        print("\nProblems:")
        for spec, error in problems:
            print(f"- {spec}: " + error.replace("\n", "\n    "))
    noisy = [r for r in results if r.stderr]
    if noisy:
        print("\nServer stderr beyond the banner (all of it in the JSON):")
        for r in noisy:
            more = f"  (+{len(r.stderr) - 1} lines)" if len(r.stderr) > 1 else ""
            print(f"- {r.spec}: {r.stderr[0][:160]}{more}")


def progress(index: int, total: int, r: SpecResult) -> None:
    parts = [f"cold {_fmt(r.cold_s)} s", f"warm {_fmt(r.warm_s)} s", f"{_fmt(r.rss_mb, '.0f')} MB"]
    if r.first_call:
        parts.append(f"{r.first_call.method} {r.first_call.path} -> {first_call_cell(r)}")
    if r.schemathesis:
        parts.append(
            f"st: {schemathesis_cell(r.schemathesis)} ({r.schemathesis.summary or '-'}, "
            f"{r.schemathesis.duration_s:.0f} s)"
        )
    if r.prism:
        parts.append(f"prism cold {_fmt(r.prism.cold_s)} s, {_fmt(r.prism.rss_mb, '.0f')} MB")
    if r.errors:
        parts.append(f"{len(r.errors)} problem(s)")
    print(f"[{index}/{total}] {r.spec}: " + "; ".join(parts), flush=True)


# -- command line ---------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Start-up time, memory and first call of the sandbox on every corpus spec."
    )
    parser.add_argument(
        "--specs", default="", help="only specs whose path contains one of these (comma-separated)"
    )
    parser.add_argument(
        "--schemathesis", action="store_true", help="also run Schemathesis against each spec"
    )
    parser.add_argument(
        "--st-timeout",
        type=float,
        default=1800.0,
        help="seconds one Schemathesis run may take (default 1800)",
    )
    parser.add_argument(
        "--prism", action="store_true", help="also time Prism's start-up on the large specs"
    )
    parser.add_argument(
        "--prism-specs",
        default=",".join(PRISM_DEFAULT),
        help=f"specs Prism is measured on, by substring (default {','.join(PRISM_DEFAULT)})",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS,
        help=f"where to write the results (default {RESULTS.relative_to(ROOT)})",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument(
        "--corpus",
        type=Path,
        help=f"corpus directory (default: {ARCHIVE.relative_to(ROOT)}, unpacked to a temp folder)",
    )
    args = parser.parse_args(argv)
    args.specs = [s.strip() for s in args.specs.split(",") if s.strip()]
    args.prism_specs = [s.strip() for s in args.prism_specs.split(",") if s.strip()]
    return args


def _raise_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # so the servers' process groups are stopped on the way out


def chosen_entries(corpus: Path | None, filters: list[str], script: str) -> list[Entry]:
    """The specs asked for, from ``corpus`` or the repo's archive; stops the servers a
    SIGTERM interrupts (a script calls this first)."""
    signal.signal(signal.SIGTERM, _raise_exit)
    try:
        folder = corpus or corpus_dir()
    except CorpusMissing as missing:
        sys.exit(f"{script}: {missing}")
    return [e for e in corpus_entries(folder) if wanted(e.name, filters)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    entries = chosen_entries(args.corpus, args.specs, "corpus_bench")
    if not entries:
        print(f"no spec matches {','.join(args.specs)}")
        return 2
    compile_bytecode()
    prism: Path | None = None
    if args.prism:
        prism, why = ensure_prism()
        if prism is None:
            print(f"Prism is not available, skipping it: {why}")
    if args.schemathesis and not ST.exists():
        sys.exit(f"no Schemathesis CLI at {ST}")
    options = Options(args.schemathesis, args.st_timeout, prism, args.prism_specs)
    results: list[SpecResult] = []
    with tempfile.TemporaryDirectory(prefix="corpus_bench_") as tmp:
        for index, entry in enumerate(entries, 1):
            result = bench_spec(entry, options, Path(tmp) / str(index))
            results.append(result)
            progress(index, len(entries), result)
    print_report(results, args.markdown)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(PYTHON).name, *sys.argv]),
        "corpus": str(args.corpus or ARCHIVE.relative_to(ROOT)),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "schemathesis": tool_version([str(ST), "--version"]) if args.schemathesis else None,
        "prism": tool_version([str(prism), "--version"]) if prism else None,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "specs": [asdict(r) for r in results]}
    args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
