"""The pipeline reads its four request headers (X-Request-Id, X-Sandbox-Scenario,
Idempotency-Key, Prefer) from the environ keys werkzeug's own headers view reads."""

from __future__ import annotations

from werkzeug.datastructures import EnvironHeaders

from sandbox.app.pipeline import _environ_key
from sandbox.scenarios.presets import SCENARIO_HEADER


def test_each_header_is_read_where_werkzeug_reads_it() -> None:
    for name in ("X-Request-Id", SCENARIO_HEADER, "Idempotency-Key", "Prefer"):
        assert EnvironHeaders({_environ_key(name): "v"}).get(name) == "v"
    assert _environ_key("X-Request-Id") == "HTTP_X_REQUEST_ID"
    assert _environ_key("Prefer") == "HTTP_PREFER"


def test_an_echoed_request_id_and_a_scenario_header_still_work(client, auth) -> None:
    answered = client.get("/v1/users", headers={**auth, "X-Request-Id": "trace-1"})
    assert answered.status_code == 200 and answered.headers["X-Request-Id"] == "trace-1"
    failed = client.get("/v1/users", headers={**auth, SCENARIO_HEADER: "server-error"})
    assert failed.status_code == 500, failed.data
