"""A full disk: clear 503s that say what to do, nothing half-written, and recovery after.

The state file lives on a real, deliberately small tmpfs (the tests run as root, as CI does),
which a filler file then fills up.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox import create_app, load_settings
from tests.conftest import DEFAULT_SPEC


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, name: str = "filler") -> Path:
    filler = disk / name
    with filler.open("wb", buffering=0) as out:  # unbuffered: close() has nothing left to write
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError:
                pass
    return filler


def test_a_full_disk_gives_503_and_recovery_loses_nothing(small_disk: Path) -> None:
    settings = load_settings(
        DEFAULT_SPEC, environ={}, overrides={"state": str(small_disk / "state.sqlite")}
    )
    app = create_app(DEFAULT_SPEC, settings)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {settings.default_api_key}"
    # a long secret makes each queued event need far more pages than the user it reports,
    # so the disk can fill between the two writes unless they are one transaction
    hook = {"url": "http://127.0.0.1:9/hooks", "events": ["*"], "secret": "s" * 60_000}
    assert client.post("/__sandbox/webhooks", json=hook).status_code == 201
    kept = client.post("/v1/users", json={"name": "Kept Safe", "email": "kept@example.com"})
    assert kept.status_code == 201
    total = client.get("/v1/users").json["meta"]["total"]
    sandbox = app.extensions["sandbox"]
    sandbox.webhooks.worker.stop()  # its attempt log would eat the space measured out below
    time.sleep(0.3)

    def empty_wal() -> None:  # so that every write needs new blocks on the disk
        with sqlite3.connect(settings.state) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # 1. nothing left: every write anywhere is a clear 503
    empty_wal()
    filler = fill(small_disk)
    for path, body in (
        ("/v1/users", {"name": "No Room", "email": "none@example.com"}),
        ("/__sandbox/keys", {"plan": "free"}),
        ("/__sandbox/webhooks", hook),
        ("/__sandbox/events", {"type": "user.created"}),
    ):
        full = client.post(path, json=body)
        assert full.status_code == 503, (path, full.data)
        assert full.json["error"]["code"] == "STORAGE_UNAVAILABLE"
        assert "Free disk space" in full.json["error"]["message"]
        assert full.headers["Retry-After"] == "5"

    # 2. room for a user (a few pages) but not for the user and its 60 KB event together
    filler.unlink()
    empty_wal()
    filler = fill(small_disk)
    os.truncate(filler, filler.stat().st_size - 32_768)
    refused = client.post("/v1/users", json={"name": "Half Way", "email": "half@example.com"})
    assert refused.status_code == 503, refused.data

    # 3. space again: what was stored is intact, and a change and its event were kept or
    # dropped together
    filler.unlink()
    after = client.get("/v1/users?limit=100").json
    emails = {user["email"] for user in after["data"]}
    assert after["meta"]["total"] == total
    assert "kept@example.com" in emails
    assert not {"none@example.com", "half@example.com"} & emails
    logged = client.get("/__sandbox/webhooks/deliveries?event_type=user.created&limit=1000")
    announced = [json.loads(d["body"])["data"]["email"] for d in logged.json["deliveries"]]
    assert announced == ["kept@example.com"]
    again = client.post("/v1/users", json={"name": "Back Again", "email": "back@example.com"})
    assert again.status_code == 201
    assert client.get(f"/v1/users/{again.json['data']['id']}").status_code == 200


def test_change_counters_made_on_a_full_disk_are_a_clear_error(small_disk: Path) -> None:
    """The change counters (sandbox/state/sqlite/versions.py) are a file mapped into memory:
    made sparse, the first write into their page on a full disk is a SIGBUS that kills the
    worker. Their blocks are taken when the file is made, so a full disk is a StorageError
    (a 503 to a request) instead."""
    script = f"""
from pathlib import Path
from sandbox.errors import StorageError
from sandbox.state.sqlite.versions import Versions
from tests.test_full_disk import fill
fill(Path({str(small_disk)!r}))
try:
    Versions(Path({str(small_disk / "state.sqlite.versions")!r})).bump(0)
except StorageError as error:
    print("refused:", error)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.startswith("refused: cannot map the change counters"), done.stdout
