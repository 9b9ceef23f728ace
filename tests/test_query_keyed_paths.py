"""Path keys that hold a query string, served: ``/things?v=2`` beside ``/things``.

OpenAPI's path keys are paths, yet real specs tell operations apart by a query in the key
(OpenAI's six ``/responses...?beta=true`` operations). A request carrying the key's pairs is
that operation's, with its own parameters checked; it acts on the records the plain path's
operation of its method acts on.
"""

from __future__ import annotations

from pathlib import Path

from tests.spec_helpers import served_text

SPEC = """
openapi: 3.0.3
info: {title: query keys, version: "1"}
paths:
  /things:
    post:
      operationId: create_thing
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/NewThing"}}}
      responses:
        "201": {$ref: "#/components/responses/Thing"}
  /things/{thing_id}:
    parameters: [{name: thing_id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: get_thing
      responses:
        "200": {$ref: "#/components/responses/Thing"}
        "404": {description: missing}
  /things?v=2:
    post:
      operationId: create_thing_v2
      parameters:
        - {name: x-feature, in: header, schema: {type: string, enum: [fast]}}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/NewThing"}}}
      responses:
        "201": {$ref: "#/components/responses/Thing"}
  /things/{thing_id}?v=2:
    parameters: [{name: thing_id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: get_thing_v2
      responses:
        "200": {$ref: "#/components/responses/Thing"}
        "404": {description: missing}
components:
  responses:
    Thing:
      description: a thing
      content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}
  schemas:
    NewThing:
      type: object
      required: [name]
      properties: {name: {type: string}}
    Thing:
      type: object
      required: [id, name]
      properties: {id: {type: string}, name: {type: string}}
"""


def test_the_query_keyed_operation_checks_its_own_parameters(tmp_path: Path) -> None:
    client, _ = served_text(tmp_path, SPEC)
    body = {"name": "kettle"}
    plain = client.post("/things", json=body, headers={"x-feature": "slow"})
    assert plain.status_code == 201  # the plain operation declares no such header
    keyed = client.post("/things?v=2", json=body, headers={"x-feature": "slow"})
    assert keyed.status_code == 400, keyed.data
    assert "x-feature" in keyed.get_data(as_text=True)
    assert client.post("/things?v=2", json=body, headers={"x-feature": "fast"}).status_code == 201


def test_the_query_keyed_operations_share_the_plain_paths_records(tmp_path: Path) -> None:
    client, _ = served_text(tmp_path, SPEC)
    made = client.post("/things?v=2", json={"name": "kettle"})
    assert made.status_code == 201
    thing = made.get_json()
    assert thing["name"] == "kettle"
    for target in (f"/things/{thing['id']}", f"/things/{thing['id']}?v=2"):
        read = client.get(target)
        assert read.status_code == 200, target
        assert read.get_json() == thing
    assert client.get("/things/nothing-here?v=2").status_code == 404
