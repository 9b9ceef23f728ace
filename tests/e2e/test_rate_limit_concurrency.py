"""Four worker processes, four client processes of eight threads each, one key, limit N:
exactly N requests succeed, and every response's headers tell the truth."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import requests

from tests.e2e.server import start

LIMIT = 50
PER_CLIENT = 30  # 4 x 30 = 120 requests against a limit of 50


def _one(url: str, key: str) -> tuple[int, Mapping[str, str]]:
    response = requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    # HTTP header names are case-insensitive (granian sends them in lower case)
    return response.status_code, response.headers


def _client(url: str, key: str) -> list[tuple[int, Mapping[str, str]]]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: _one(url, key), range(PER_CLIENT)))


def test_exactly_the_limit_gets_through(tmp_path: Path) -> None:
    process, origin, log = start(
        tmp_path, "--workers", "4", "--threads", "8",
        "--state", str(tmp_path / "state.sqlite"), "--rate-limits", f"{LIMIT}/hour",
    )  # fmt: skip
    try:
        key = re.search(r"sk_test_[0-9a-f]+", log.read_text()).group(0)
        url = origin + "/v1/users?limit=1"
        with ProcessPoolExecutor(4) as pool:
            results = [r for batch in pool.map(_client, [url] * 4, [key] * 4) for r in batch]
    finally:
        process.terminate()
        process.wait(timeout=15)
    statuses = [status for status, _ in results]
    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == 4 * PER_CLIENT - LIMIT
    remaining = sorted(int(h["X-RateLimit-Remaining"]) for s, h in results if s == 200)
    assert remaining == list(range(LIMIT))  # each slot handed out once, across processes
    now = time.time()
    for status, headers in results:
        assert headers["X-RateLimit-Limit"] == str(LIMIT)
        assert now - 5 <= int(headers["X-RateLimit-Reset"]) <= now + 3600
        if status == 429:
            assert headers["X-RateLimit-Remaining"] == "0"
            assert 1 <= int(headers["Retry-After"]) <= 3600
    assert (tmp_path / "ratelimits.sqlite").exists()  # the workers shared their counters
    assert "Traceback" not in log.read_text()
