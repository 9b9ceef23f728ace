"""A list's query filters are read as the item field's type, and no value a client can send
makes that reading fail: Stripe's `test_clock` with 5,000 digits was a 500 (Python reads at
most 4,300), and with 20 a 500 too (SQLite compares at most 64 bits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import create_app, load_settings

SPEC = """
openapi: 3.0.3
info: {title: Counters, version: "1"}
paths:
  /counters:
    get:
      operationId: listCounters
      parameters:
        - {name: level, in: query, schema: {type: string, maxLength: 6000}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Counter"}}
    post:
      operationId: createCounter
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Counter"}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Counter"}
  /counters/{id}:
    get:
      operationId: getCounter
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Counter"}
components:
  schemas:
    Counter:
      type: object
      properties:
        id: {type: string, readOnly: true}
        level: {type: integer}
"""


@pytest.fixture
def client(tmp_path: Path):
    spec = tmp_path / "counters.yaml"
    spec.write_text(SPEC)
    settings = load_settings(spec, environ={}, overrides={"state": str(tmp_path / "s")})
    return create_app(spec, settings).test_client()


def test_an_integer_filter_is_read_as_an_integer(client) -> None:
    made = client.post("/counters", json={"level": 7}).get_json()
    found = client.get("/counters?level=7").get_json()
    assert made["id"] in [item["id"] for item in found]
    assert all(item["level"] == 7 for item in found)


@pytest.mark.parametrize("digits", [20, 4300, 4301, 5000])
def test_a_filter_too_long_for_an_integer_is_no_server_error(client, digits: int) -> None:
    answer = client.get("/counters?level=" + "9" * digits)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.get_json() == []
