"""Request validation builds its schema validators as openapi-core would (sandbox.spec.validators)
and leaves openapi-core itself off the path of valid and JSON requests (issue 20)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jsonschema_path import SchemaPath
from openapi_core import V30RequestValidator, V31RequestValidator, V32RequestValidator
from werkzeug.datastructures import Headers, MultiDict

from sandbox import load_spec
from sandbox.http.validation import RequestData, RequestValidator
from sandbox.spec.discriminators import guarded
from sandbox.spec.validators import SpecValidators
from tests.conftest import ROOT

PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "id": {"type": "integer", "readOnly": True},
        "born": {"type": "string", "format": "date"},
        "tag": {"$ref": "#/components/schemas/Tag"},
        "photo": {"type": "string", "format": "byte"},
    },
}
VALUES: list[Any] = [
    {"name": "Rex"},
    {"name": "R"},
    {},
    {"name": "Rex", "id": 3},  # readOnly in a request: OAS 3.0's write validator refuses it
    {"name": "Rex", "born": "2020-02-30"},
    {"name": "Rex", "born": "2020-02-03"},
    {"name": "Rex", "tag": "x"},
    {"name": "Rex", "tag": 5},
    {"name": "Rex", "photo": "not base64!"},
    {"name": None},
    [],
    "Rex",
]


def document(openapi: str, **extra: Any) -> dict[str, Any]:
    return {
        "openapi": openapi,
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/pets": {
                "parameters": [{"$ref": "#/components/parameters/Limit"}],
                "post": {
                    "requestBody": {"$ref": "#/components/requestBodies/Pet"},
                    "responses": {"201": {"description": "made"}},
                },
            }
        },
        "components": {
            "schemas": {"Pet": PET, "Tag": {"type": "string", "maxLength": 3}, **extra},
            "parameters": {
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
            "requestBodies": {
                "Pet": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    }
                }
            },
        },
    }


CORE = {"3.0.3": V30RequestValidator, "3.1.0": V31RequestValidator, "3.2.0": V32RequestValidator}
BODY = ("paths", "/pets", "post", "requestBody", "content", "application/json", "schema")
LIMIT = ("paths", "/pets", "parameters", 0, "schema")


@pytest.mark.parametrize(
    ("openapi", "extra"),
    [
        ("3.0.3", {}),
        ("3.1.0", {}),
        ("3.2.0", {}),
        # a document's own dialect, then a schema's own $schema, choose the class in 3.1
        ("3.1.0", {"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema"}),
        ("3.1.0", {"$schema": "http://json-schema.org/draft-07/schema#"}),
    ],
)
def test_the_same_validator_as_openapi_core_builds(openapi: str, extra: dict[str, Any]) -> None:
    doc = document(openapi)
    if "jsonSchemaDialect" in extra:
        doc["jsonSchemaDialect"] = extra["jsonSchemaDialect"]
    if "$schema" in extra:
        doc["components"]["schemas"]["Pet"] = {**PET, "$schema": extra["$schema"]}
    base_uri = "file:///spec.yaml"
    ours = SpecValidators(doc, base_uri, openapi)
    spec_path = SchemaPath.from_dict(doc, base_uri=base_uri)
    factory = CORE[openapi].schema_validators_factory
    for place, values in ((BODY, VALUES), (LIMIT, [0, 1, 5, "5", None])):
        schema = spec_path
        for key in place:
            schema = schema / key
        theirs = factory.create(spec_path, schema).validator
        mine = ours.validator(place)
        assert type(mine) is guarded(type(theirs))  # discriminator values checked first
        assert set(mine.format_checker.checkers) == set(theirs.format_checker.checkers)
        for value in values:
            assert mine.is_valid(value) == theirs.is_valid(value), (place, value)
            assert [e.message for e in mine.iter_errors(value)] == [
                e.message for e in theirs.iter_errors(value)
            ], (place, value)


def test_an_unknown_dialect_is_refused_as_openapi_core_refuses_it() -> None:
    doc = document("3.1.0")
    doc["components"]["schemas"]["Pet"] = {**PET, "$schema": "https://example.com/no-such"}
    with pytest.raises(ValueError, match="Unknown JSON Schema dialect"):
        SpecValidators(doc, "file:///spec.yaml", "3.1.0").validator(BODY)


MERGE_PATCH = textwrap.dedent(
    """
    openapi: 3.0.3
    info: {title: t, version: "1"}
    paths:
      /pets/{id}:
        patch:
          parameters:
            - {name: id, in: path, required: true, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/merge-patch+json:
                schema:
                  type: object
                  properties:
                    name: {type: string}
          responses:
            "200": {description: patched}
    """
)


def test_a_body_under_any_json_media_type_is_checked_as_json(tmp_path: Path) -> None:
    """openapi-core reads only application/json and vnd.api+json as JSON (anything else as
    bytes, which no object schema accepts): what is wrong is the field, not the body's type."""
    path = tmp_path / "patch.yaml"
    path.write_text(MERGE_PATCH)
    spec = load_spec(path)
    operation = next(iter(spec.operations))
    data = RequestData(
        method="PATCH",
        path_params={"id": "p1"},
        query=MultiDict(),
        headers=Headers(),
        cookies={},
        body=json.dumps({"name": 5}).encode(),
        mimetype="application/merge-patch+json",
        content_type="application/merge-patch+json",
    )
    result = RequestValidator(spec).validate(operation, data)
    assert [p.as_dict() for p in result.problems] == [
        {"field": "name", "message": "must be a string (got 5)"}
    ]


PROBE = textwrap.dedent(
    """
    import json, sys
    from sandbox import create_app, load_settings
    settings = load_settings({spec!r}, environ={{}}, overrides={{"state": ":memory:"}})
    client = create_app({spec!r}, settings).test_client()
    key, JSON = {{"Authorization": "Bearer " + settings.default_api_key}}, "application/json"
    statuses = [
        client.get("/v1/users?limit=2", headers=key).status_code,
        client.get("/v1/users?limit=nope", headers=key).status_code,
        client.post("/v1/users", json={{"name": 5}}, headers=key).status_code,
        client.post("/v1/users", data="{{", content_type=JSON, headers=key).status_code,
        client.post("/v1/users", data="x", content_type="text/csv", headers=key).status_code,
    ]
    print(json.dumps([statuses, "openapi_core" in sys.modules]))
    """
)


def test_openapi_core_stays_off_the_path_of_json_requests() -> None:
    """Valid requests, and ones refused for their parameters, a JSON body or its media type,
    are decided without importing openapi-core (12-13 MB and 80-100 ms a process)."""
    probe = PROBE.format(spec=str(ROOT / "openapi.yaml"))
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    statuses, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert statuses == [200, 400, 400, 400, 415]
    assert imported is False


def test_a_guarded_class_keeps_its_compiled_accept_check() -> None:
    """The compiled accept check knows validator classes by name: the discriminator guard
    (sandbox.spec.discriminators) must not turn it off, or every valid request pays for a
    whole jsonschema walk (it did, for a moment)."""
    from openapi_schema_validator import OAS30WriteValidator, OAS31Validator

    from sandbox.spec.schemas import AcceptCompiler

    for cls in (OAS30WriteValidator, OAS31Validator):
        assert guarded(cls) is not cls
        assert AcceptCompiler.for_class(guarded(cls), cls.FORMAT_CHECKER, dict.get) is not None
