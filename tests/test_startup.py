"""What a start pays for: the rules that keep ``sandbox`` quick to start (issue 20).

``bench/startup_bench.py`` prints the figures; these tests hold the rules that make them,
none of them on a timing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from sandbox import create_app, load_settings

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
