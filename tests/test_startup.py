"""What a start pays for: the rules that keep ``sandbox`` quick to start (issue 20).

``bench/startup_bench.py`` prints the figures; these tests hold the rules that make them,
none of them on a timing.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox import create_app, load_settings, load_spec
from sandbox.serving import Served, build_before_fork
from sandbox.spec import yamlread

ROOT = Path(__file__).resolve().parent.parent
# what the command line itself, or `serve` before it builds the app, has no use for
APP_LIBRARIES = {
    "openapi_core", "openapi_spec_validator", "pydantic_settings", "jsonschema", "flask",
    "faker", "jwt", "cryptography", "granian", "limits",
}  # fmt: skip


def loaded_by(statement: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after ``statement``."""
    code = f"{statement}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {name.split(".")[0] for name in json.loads(done.stdout)}


def test_the_command_group_loads_no_app_library() -> None:
    # `sandbox --help`, `--version` and every command start with this import
    assert not loaded_by("import sandbox.cli") & APP_LIBRARIES


def test_serve_and_check_load_no_app_library_before_they_need_it() -> None:
    # the serve and check commands, and loading a spec as they do (cli.common)
    statement = "import sandbox.cli.serve, sandbox.cli.common"
    assert not loaded_by(statement) & APP_LIBRARIES


def test_the_package_names_are_still_there() -> None:
    code = "from sandbox import Spec, SpecError, create_app, load_spec, load_settings"
    assert "flask" in loaded_by(code)  # create_app brings the app when it is asked for


def test_the_signing_key_is_made_when_first_used_and_shared(tmp_path: Path) -> None:
    """Making an RSA key took 0.1-0.3 s of each start on a fresh state; it is made on the
    first token or JWKS request, and every app on the same state then uses that key."""
    spec = ROOT / "openapi.yaml"
    state = tmp_path / "state.sqlite"
    settings = load_settings(spec, environ={}, overrides={"state": str(state)})
    first = create_app(spec, settings).test_client()
    second = create_app(spec, settings).test_client()  # another worker, say

    def stored() -> int:
        with sqlite3.connect(state) as db:
            return int(db.execute("SELECT count(*) FROM signing_keys").fetchone()[0])

    assert stored() == 0
    published = first.get("/.well-known/jwks.json").json["keys"]
    assert stored() == 1
    assert second.get("/.well-known/jwks.json").json["keys"] == published


def test_a_spec_is_read_with_the_collector_held_off_and_left_as_found(tmp_path: Path) -> None:
    """Reading openai's spec with the collector on cost libyaml's composition 5x its time;
    the collector is off while a spec is read and as it was afterwards."""
    seen: list[bool] = []
    real = yamlread.load_yaml

    def spying(text: str) -> Any:
        seen.append(gc.isenabled())
        return real(text)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sandbox.spec.documents.load_yaml", spying)
        assert gc.isenabled()
        load_spec(ROOT / "openapi.yaml")
        assert seen == [False] and gc.isenabled()
        gc.disable()
        try:
            load_spec(ROOT / "openapi.yaml")
        finally:
            still_off = not gc.isenabled()
            gc.enable()
    assert still_off  # a caller that had it off (serve, until the fork) keeps it off


def test_the_app_is_frozen_before_the_fork_and_workers_collect() -> None:
    """Objects the collector never walks again are never written by it, so the forked
    workers keep sharing the parent's pages for them."""
    made: list[object] = []

    def build() -> Served:
        assert not gc.isenabled()  # no collection walks what is being built
        made.append([{"a": [1]} for _ in range(1000)])
        return Served(lambda environ, start: [b""], lambda: made.append("worker ran"))

    frozen_before = gc.get_freeze_count()
    try:
        served = build_before_fork(build)
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen_before + 1000
        gc.disable()  # a worker forked from a parent whose collector was off
        served.in_each_worker()
        assert gc.isenabled() and made[-1] == "worker ran"
    finally:
        gc.unfreeze()
        gc.enable()


# what validating a spec and its requests would bring in, and a server has no use for
VALIDATOR_LIBRARIES = {"openapi_core", "openapi_spec_validator", "jsonschema_path", "requests"}


def test_a_fresh_spec_is_validated_without_its_validator_in_the_server() -> None:
    """The spec is validated (openapi-spec-validator) in a child process, so a server built
    from a spec no cache holds never keeps the 14-15 MB that library brings, nor hands
    them to every worker it forks; invalid specs still fail (tests/test_spec.py)."""
    loaded = loaded_by(
        "from sandbox import create_app, load_settings; "
        "s = load_settings('openapi.yaml', environ={}, "
        "                  overrides={'state': ':memory:', 'spec_cache': 'off'}); "
        "create_app('openapi.yaml', s)"
    )
    assert "flask" in loaded
    assert not loaded & VALIDATOR_LIBRARIES


BROKEN = """openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /pets:
    get:
      parameters:
        - {name: limit, in: nowhere, schema: {type: integer}}
      responses: {"200": {description: ok}}
"""


READS_HERE = """
import json, sys, threading
from pathlib import Path
import sandbox.spec.model as model
from sandbox.errors import SpecError
if sys.argv[2] == "threaded":  # an app built inside a busy process: another thread runs
    threading.Thread(target=threading.Event().wait, daemon=True).start()
reads = []
read = model.read_document
model.read_document = lambda path, notes: reads.append(str(path)) or read(path, notes)
cache = Path(sys.argv[1])
spec = model.load_spec(Path("openapi.yaml"), cache_dir=cache / "cache")
errors = []
for where in (None, cache / "cache"):
    try:
        model.load_spec(cache / "broken.yaml", cache_dir=where)
    except SpecError as exc:
        errors.append([str(exc), str(exc.file), exc.pointer, exc.line])
print(json.dumps({"operations": len(spec.operations), "reads": reads, "errors": errors}))
"""


def _read_with_a_cache(folder: Path, threads: str) -> dict:
    (folder / "broken.yaml").write_text(BROKEN)
    done = subprocess.run(
        [sys.executable, "-c", READS_HERE, str(folder), threads],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_a_fresh_spec_is_read_in_a_child_and_served_from_the_cache(tmp_path: Path) -> None:
    """Reading YAML leaves the heap fragmented (about 9 MB on openapi.yaml) and a server
    hands its heap to every worker: with a cache, a forked child reads and checks the spec
    into it and this process reads the cache, so a first start holds what a restart does.
    Its verdict on a broken spec is the one reading it here gives. (A fresh interpreter:
    the forking is for a process with one thread, as the CLI is before it serves.)"""
    said = _read_with_a_cache(tmp_path, "alone")
    assert said["operations"] and "openapi.yaml" not in " ".join(said["reads"])
    here, apart = said["errors"]
    assert here == apart


def test_a_process_with_other_threads_reads_the_spec_itself(tmp_path: Path) -> None:
    """A lock another thread holds when the process forks stays held in the child, and the
    parent would wait for that child forever: with other threads running, no fork."""
    said = _read_with_a_cache(tmp_path, "threaded")
    assert said["operations"] and any(r.endswith("openapi.yaml") for r in said["reads"])
    here, apart = said["errors"]
    assert here == apart


def test_threads_default_to_what_each_server_waits_on() -> None:
    """granian's threads wait only on the writers' lock (2 served more creates than 4, the
    same reads); gunicorn's also read clients and sleep waits (4). A setting is kept."""
    from sandbox.config.settings import Settings
    from sandbox.serving import worker_threads

    assert load_settings(environ={}).threads == 2
    assert load_settings(environ={}, overrides={"server": "gunicorn"}).threads == 4
    assert load_settings(environ={"SANDBOX_THREADS": "6"}).threads == 6
    assert load_settings(environ={}, overrides={"server": "gunicorn", "threads": 3}).threads == 3
    assert worker_threads(Settings()) == 2  # made without load_settings
    assert worker_threads(Settings(server="gunicorn")) == 4
