"""Mangled specs never give a traceback: `sandbox check` and `sandbox serve` either serve them
(and then no request gets a 500) or refuse them with exit 2, the file and a line."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sandbox import create_app, load_settings
from sandbox.cli import main
from tests.spec_helpers import serve_briefly

PET = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "tag": {"type": "string", "enum": ["a", "b"]},
    },
}
OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "servers": [{"url": "/v1"}],
    "paths": {
        "/pets": {
            "get": {
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Pet"},
                                }
                            }
                        },
                    }
                },
            },
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    }
                },
                "responses": {
                    "201": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                        },
                    }
                },
            },
        },
        "/pets/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "security": [{"key": []}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {"X-A": {"schema": {"type": "integer"}}},
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                        },
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
    },
    "components": {
        "schemas": {"Pet": PET},
        "responses": {
            "NotFound": {
                "description": "nf",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
    },
}
SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Pets", "version": "1"},
    "basePath": "/v1",
    "paths": {
        "/pets": {
            "get": {
                "parameters": [{"name": "limit", "in": "query", "type": "integer"}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                    }
                },
            },
            "post": {
                "parameters": [
                    {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Pet"}}
                ],
                "responses": {
                    "201": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}
                },
            },
        },
        "/pets/{id}": {
            "get": {
                "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
                "security": [{"key": []}],
                "responses": {
                    "200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}
                },
            }
        },
    },
    "definitions": {"Pet": PET},
    "securityDefinitions": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
}
ODD: list[Any] = [None, 7, "text", True, [1, "a"], {"a": 1}, {"$ref": "#/nowhere"}, 1.5, []]
BASES = {"3.0": OPENAPI, "3.1": {**OPENAPI, "openapi": "3.1.0"}, "2.0": SWAGGER}

YAML_ODDITIES = {
    "tabs": "openapi: 3.0.3\ninfo:\n\ttitle: t\n",
    "duplicate-keys": "openapi: 3.0.3\nopenapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
    "paths: {/a: {get: {responses: {200: {description: x}}}}}\n",
    "self-anchor": "openapi: 3.0.3\ninfo: &i {title: t, version: '1', x-self: *i}\npaths: {}\n",
    "recursive-list": "a: &x [1, *x]\n",
    "merge-keys": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nx-base: &b {description: ok}\n"
    "paths: {/a: {get: {responses: {200: {<<: *b}}}}}\n",
    "unhashable-key": "openapi: 3.0.3\n? [a, b]\n: c\n",
    "two-documents": "openapi: 3.0.3\n---\nopenapi: 3.1.0\n",
    "only-a-scalar": "just text\n",
    "empty": "",
    "null": "~\n",
    "deep": "openapi: 3.0.3\nx-deep: " + "[" * 3000 + "]" * 3000 + "\n",
    "bom": "\ufeffopenapi: 3.0.3\ninfo: {title: t, version: '1'}\n"
    "paths: {/a: {get: {responses: {'200': {description: x}}}}}\n",
    "binary-and-dates": "openapi: 3.0.3\ninfo: {title: !!binary aGk=, version: 2020-01-01}\n"
    "paths: {/a: {get: {responses: {2020-01-01: {description: x}, "
    "true: {description: y}, 404: {description: z}}}}}\n",
    "nan-and-inf": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {responses:"
    " {'200': {description: x, content: {application/json: {schema: "
    "{type: number, maximum: .inf, example: .nan}}}}}}}}\n",
    "broken-ref": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {responses:"
    " {'200': {$ref: '#/components/responses/Nope'}}}}}\n",
    "ref-to-file": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"
    "paths: {/a: {$ref: 'b.yaml'}}\n",
    "ref-not-a-string": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {/a: {get: "
    "{responses: {'200': {$ref: 7}}}}}\n",
}


def _places(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _places(value, (*at, index))


def _mangled(base: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every place removed, and every place given a value of another type (in turn)."""
    for number, place in enumerate(list(_places(base))[1:]):
        for how in ("removed", "swapped"):
            document = copy.deepcopy(base)
            parent = document
            for token in place[:-1]:
                parent = parent[token]
            if how == "removed":
                del parent[place[-1]]
            else:
                parent[place[-1]] = ODD[number % len(ODD)]
            yield f"{'/'.join(map(str, place))} {how}", document


CASES = [
    (f"{version}: {name}", yaml.safe_dump(document, sort_keys=False))
    for version, base in BASES.items()
    for name, document in _mangled(base)
] + [(f"yaml: {name}", text) for name, text in YAML_ODDITIES.items()]


def _check(path: Path) -> int:
    result = CliRunner().invoke(main, ["check", "--spec-cache", "off", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"sandbox check raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert "error: cannot serve this spec" in result.output
        assert f"{path}" in result.output, result.output
    return result.exit_code


@pytest.mark.parametrize(("name", "text"), CASES, ids=[name for name, _ in CASES])
def test_a_mangled_spec_is_served_or_refused_never_a_traceback(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(text, encoding="utf-8")
    if _check(path) == 2:
        return
    settings = load_settings(path, environ={}, overrides={"state": ":memory:", "spec_cache": "off"})
    client = create_app(path, settings).test_client()
    headers = {"X-Key": settings.default_api_key}
    spec = client.application.extensions["sandbox"].spec
    for operation in spec.operations:
        url = spec.base_path + operation.path.replace("{id}", "1")
        response = client.open(url, method=operation.method, json={"id": 1}, headers=headers)
        assert response.status_code < 500, (operation.key, response.data[:300])


def test_undecodable_and_missing_files_are_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("openapi: 3.0.3\ninfo: {title: caf\xe9}\n".encode("latin-1"))
    assert _check(latin) == 2
    assert _check(tmp_path / "missing.yaml") == 2
    trailing = tmp_path / "trailing.json"
    trailing.write_text(json.dumps(OPENAPI)[:-1] + ",}")
    assert _check(trailing) == 2


SERVED = ["3.0: paths//pets/get/responses/200/description removed", "yaml: binary-and-dates"]
REFUSED = ["3.0: paths//pets/get/responses swapped", "yaml: recursive-list", "yaml: deep"]


@pytest.mark.parametrize("name", SERVED + REFUSED)
def test_sandbox_serve_starts_or_exits_2_without_a_traceback(tmp_path: Path, name: str) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(dict(CASES)[name], encoding="utf-8")
    code, err = serve_briefly(path)
    if code is None:  # still serving: what a served spec does
        assert name in SERVED, err
        assert "OpenAPI sandbox" in err and "Traceback" not in err, err
        return
    assert name in REFUSED, err
    assert code == 2 and "Traceback" not in err, err
    assert f"{path}" in err
