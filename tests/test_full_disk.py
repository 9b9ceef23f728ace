"""A full disk: clear 503s that say what to do, nothing half-written, and recovery after.

The state file lives on a real, deliberately small tmpfs (the tests run as root, as CI does),
which a filler file then fills up.
"""

from __future__ import annotations

import subprocess
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


def fill(disk: Path) -> Path:
    filler = disk / "filler"
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
    kept = client.post("/v1/users", json={"name": "Kept Safe", "email": "kept@example.com"})
    assert kept.status_code == 201
    total = client.get("/v1/users").json["meta"]["total"]
    hook = {"url": "http://127.0.0.1:9/hooks", "events": ["*"]}
    assert client.post("/__sandbox/webhooks", json=hook).status_code == 201

    filler = fill(small_disk)
    big = {"name": "N" * 100, "email": "full@example.com"}
    for attempt in range(200):  # the WAL may still hold a page or two: use them up
        refused = client.post("/v1/users", json={**big, "email": f"full{attempt}@example.com"})
        if refused.status_code != 201:
            break
    assert refused.status_code == 503, refused.data
    assert refused.json["error"]["code"] == "STORAGE_UNAVAILABLE"
    assert "Free disk space" in refused.json["error"]["message"]
    assert refused.headers["Retry-After"] == "5"
    admin = client.post("/__sandbox/keys", json={"plan": "free"})
    assert admin.status_code == 503, admin.data
    assert "Free disk space" in admin.json["error"]["message"], admin.json

    for path, body in (("/__sandbox/webhooks", hook), ("/__sandbox/events", {"type": "x.y"})):
        full = client.post(path, json=body)
        assert full.status_code == 503, (path, full.data)
        assert full.json["error"]["code"] == "STORAGE_UNAVAILABLE"

    filler.unlink()
    after = client.get("/v1/users?limit=100").json
    emails = {user["email"] for user in after["data"]}
    assert "kept@example.com" in emails
    assert after["meta"]["total"] >= total
    again = client.post("/v1/users", json={"name": "Back Again", "email": "back@example.com"})
    assert again.status_code == 201
    assert client.get(f"/v1/users/{again.json['data']['id']}").status_code == 200
    app.extensions["sandbox"].webhooks.worker.stop()
