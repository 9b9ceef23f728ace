"""A seeded sandbox answers a read (a list page, a record) it has answered before, on the same
records, with the answer it made then (the same bytes, the same generated headers) without
making it again; any write of the resource's records, and any other query or origin, makes a
new one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.spec_helpers import served_text

SPEC = """
openapi: 3.0.3
info: {title: Things, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 2}}
        - {name: page, in: query, schema: {type: integer, default: 1}}
      responses:
        "200":
          description: a page
          headers:
            X-Trace: {schema: {type: string, format: uuid}}
          content:
            application/json:
              schema:
                type: object
                required: [data, meta, request_ref]
                properties:
                  data: {type: array, items: {$ref: "#/components/schemas/Thing"}}
                  meta:
                    type: object
                    properties:
                      total: {type: integer}
                      next: {type: string, format: uri}
                  request_ref: {type: string, format: uuid}
    post:
      operationId: createThing
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
  /things/{thingId}:
    get:
      operationId: getThing
      parameters:
        - {name: thingId, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: one
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
components:
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
"""


def client_for(tmp_path: Path, **overrides: Any) -> tuple[FlaskClient, list[int]]:
    """A client, and the number of times the store was asked for a page (a list)."""
    client, _ = served_text(tmp_path, SPEC, auth=False, rate_limits="", **overrides)
    assert client.application is not None
    store = client.application.extensions["sandbox"].engine.store
    asked = [0]
    query = store.query

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked[0] += 1
        return query(*args, **kwargs)

    store.query = counted
    return client, asked


def test_the_same_request_gets_the_page_made_before(tmp_path: Path) -> None:
    client, asked = client_for(tmp_path, seed=1)
    first = client.get("/things?limit=2")
    again = client.get("/things?limit=2")
    assert first.status_code == again.status_code == 200
    assert again.data == first.data
    assert again.headers["X-Trace"] == first.headers["X-Trace"]  # drawn after the page
    assert asked[0] == 1


def test_a_write_of_the_records_makes_a_new_page(tmp_path: Path) -> None:
    client, asked = client_for(tmp_path, seed=1)
    before = client.get("/things?limit=100").get_json()
    made = client.post("/things", json={"name": "new one"})
    assert made.status_code == 201
    after = client.get("/things?limit=100").get_json()
    assert len(after["data"]) == len(before["data"]) + 1
    assert after["meta"]["total"] == before["meta"]["total"] + 1
    assert asked[0] == 2


def test_another_query_or_origin_is_another_page(tmp_path: Path) -> None:
    client, asked = client_for(tmp_path, seed=1)
    one = client.get("/things?limit=1").get_json()
    two = client.get("/things?limit=2").get_json()
    assert (len(one["data"]), len(two["data"])) == (1, 2)
    other_host = client.get("/things?limit=1", base_url="http://elsewhere.test")
    assert other_host.status_code == 200
    assert asked[0] == 3


def test_an_unseeded_sandbox_makes_every_page_anew(tmp_path: Path) -> None:
    client, asked = client_for(tmp_path, seed=None)
    first = client.get("/things?limit=2").get_json()
    again = client.get("/things?limit=2").get_json()
    assert first["request_ref"] != again["request_ref"]  # drawn for each answer
    assert asked[0] == 2


def test_a_record_read_again_is_the_answer_made_before_until_a_write(tmp_path: Path) -> None:
    client, _ = client_for(tmp_path, seed=1)
    assert client.application is not None
    engine = client.application.extensions["sandbox"].engine
    presented = [0]
    one = engine.presenter.one

    def counted(*args: Any, **kwargs: Any) -> Any:
        presented[0] += 1
        return one(*args, **kwargs)

    engine.presenter.one = counted
    thing = client.get("/things?limit=1").get_json()["data"][0]["id"]
    first, again = client.get(f"/things/{thing}"), client.get(f"/things/{thing}")
    assert again.data == first.data and first.get_json()["id"] == thing
    assert presented[0] == 1
    assert client.get("/things/no-such-thing").status_code == 404
    assert client.post("/things", json={"name": "another"}).status_code == 201
    assert client.get(f"/things/{thing}").data == first.data
    assert presented[0] == 1 + 1 + 1  # the create's answer, and the read made anew


def test_a_sandbox_on_redis_asks_the_store_every_time(tmp_path: Path, redis_url: str) -> None:
    """Whether the records changed is a round trip of its own on Redis (the counters are
    in Redis, not a memory map): no cheaper than asking for the page."""
    client, asked = client_for(tmp_path, seed=1, redis=redis_url)
    first = client.get("/things?limit=2")
    again = client.get("/things?limit=2")
    assert again.data == first.data
    assert asked[0] == 2
