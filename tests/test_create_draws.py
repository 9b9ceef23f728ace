"""What a create generates beyond what the client sent: where the client and the request
schema's defaults set every field the server keeps, nothing is left to make, and the
generator's call is skipped; only where that call would have drawn nothing and made ``{}``
(so the answer, and the rest of the request's draws, are the same either way)."""

from __future__ import annotations

import random
from pathlib import Path

from sandbox import create_app, load_settings
from tests.conftest import DEFAULT_SPEC

NULLABLE_SPEC = """
openapi: 3.0.3
info: {title: notes, version: "1"}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Note'}
      responses:
        '201':
          description: made
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Note'}
  /notes/{id}:
    get:
      operationId: getNote
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: one
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Note'}
components:
  schemas:
    Note:
      type: object
      nullable: true
      required: [text]
      properties:
        id: {type: string, readOnly: true}
        text: {type: string}
"""


def engine_of(spec: Path | str) -> object:
    settings = load_settings(spec, environ={}, overrides={"state": ":memory:", "seed": 1})
    return create_app(spec, settings).extensions["sandbox"].engine


def test_a_create_the_client_and_defaults_cover_generates_nothing_more() -> None:
    engine = engine_of(DEFAULT_SPEC)
    binding = engine.binding("createUser")
    records = engine.records
    body = records._with_defaults(binding, {"name": "Ada", "email": "ada@example.com"})
    assert records._create_schema(binding.resource, body) is None  # nothing left to make
    cut = records._create_schemas[next(iter(records._create_schemas))]
    schema = binding.resource.item_schema
    assert cut[0] is schema
    # the premise, for any generator: the cut makes {} and draws nothing
    skip = {"name", "email", "role", "status", "id", "created_at", "updated_at"}
    remains = {k: v for k, v in schema.items() if k not in ("properties", "required")}
    remains["properties"] = {}
    remains["required"] = [n for n in schema["required"] if n not in skip]
    for seed in range(50):
        rng = random.Random(seed)
        state = rng.getstate()
        made = records.faker.generate(remains, rng=rng, mode="response", fresh=True)
        assert made == {} and rng.getstate() == state


def test_a_cut_that_would_draw_is_still_generated(tmp_path: Path) -> None:
    spec = tmp_path / "notes.yaml"
    spec.write_text(NULLABLE_SPEC)
    engine = engine_of(spec)
    binding = engine.binding("createNote")
    cut = engine.records._create_schema(binding.resource, {"text": "hi"})
    assert cut is not None and cut["properties"] == {}  # nullable: object or null is drawn
    made = engine.records.requested(binding, {"text": "hi"}, random.Random(3), "")
    assert made.body["text"] == "hi" and isinstance(made.body["id"], str)


def test_a_record_is_checked_without_its_stamps_only_where_that_agrees() -> None:
    """A created record's timestamps hold this second's stamp, already found valid: the rest
    is checked against the schema without them. Whatever that says, checking the whole
    record says the same, for valid records and for each way one can be invalid."""
    engine = engine_of(DEFAULT_SPEC)
    binding = engine.binding("createUser")
    records, resource = engine.records, binding.resource
    schema = resource.item_schema
    made = records.requested(binding, {"name": "Ada", "email": "ada@example.com"},
                             random.Random(1), "")  # fmt: skip
    good = made.body
    variants = [
        good,
        {**good, "name": "x" * 101},
        {**good, "role": "owner"},
        {**good, "phone": "555"},
        {**good, "id": "nope"},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "email"},
        {**good, "created_at": "yesterday"},
        {**good, "updated_at": 5},
    ]
    for obj in variants:
        whole = records.checks.is_valid(schema, obj)
        if records._fits_but_stamps(resource, schema, obj):
            assert whole, obj
        kept = records._valid(resource, dict(obj), random.Random(2))
        assert kept == obj if whole else kept != obj  # kept whole, or fixed
    assert records._fits_but_stamps(resource, schema, good)  # the case it is for
    assert not records._fits_but_stamps(resource, schema, variants[1])
