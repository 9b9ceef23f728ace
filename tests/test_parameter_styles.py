"""Every style and explode combination OpenAPI defines, for query, path, header and cookie
parameters, with primitives, arrays and objects: read from the request as the spec says (an
operation answers 200 for the request of each row, and a 400 naming the parameter for a
request whose value does not fit the schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox import create_app, load_settings

SCHEMAS = {
    "primitive": {"type": "integer", "maximum": 10},
    "array": {"type": "array", "items": {"type": "integer", "maximum": 10}},
    "object": {
        "type": "object",
        "properties": {
            "offset": {"type": "integer", "maximum": 10},
            "limit": {"type": "integer", "maximum": 10},
        },
    },
}

# (location, style, explode, shape, how a valid value is sent, how an invalid one is sent)
# the value is 5 / [3, 4] / {offset: 1, limit: 2}; invalid ones put 99 where 10 is the most
ROWS: list[tuple[str, str, bool, str, str, str]] = [
    ("query", "form", True, "primitive", "?p=5", "?p=99"),
    ("query", "form", True, "array", "?p=3&p=4", "?p=3&p=99"),
    ("query", "form", True, "object", "?offset=1&limit=2", "?offset=1&limit=99"),
    ("query", "form", False, "primitive", "?p=5", "?p=99"),
    ("query", "form", False, "array", "?p=3,4", "?p=3,99"),
    ("query", "form", False, "object", "?p=offset,1,limit,2", "?p=offset,1,limit,99"),
    ("query", "spaceDelimited", False, "array", "?p=3%204", "?p=3%2099"),
    ("query", "spaceDelimited", True, "array", "?p=3&p=4", "?p=3&p=99"),
    (
        "query",
        "spaceDelimited",
        False,
        "object",
        "?p=offset%201%20limit%202",
        "?p=offset%201%20limit%2099",
    ),
    ("query", "pipeDelimited", False, "array", "?p=3|4", "?p=3|99"),
    ("query", "pipeDelimited", True, "array", "?p=3&p=4", "?p=99&p=4"),
    ("query", "pipeDelimited", False, "object", "?p=offset|1|limit|2", "?p=offset|99|limit|2"),
    ("query", "deepObject", True, "object", "?p[offset]=1&p[limit]=2", "?p[offset]=1&p[limit]=99"),
    ("path", "simple", False, "primitive", "/5", "/99"),
    ("path", "simple", True, "primitive", "/5", "/99"),
    ("path", "simple", False, "array", "/3,4", "/3,99"),
    ("path", "simple", True, "array", "/3,4", "/99,4"),
    ("path", "simple", False, "object", "/offset,1,limit,2", "/offset,1,limit,99"),
    ("path", "simple", True, "object", "/offset=1,limit=2", "/offset=1,limit=99"),
    ("path", "label", False, "primitive", "/.5", "/.99"),
    ("path", "label", True, "primitive", "/.5", "/.99"),
    ("path", "label", False, "array", "/.3,4", "/.3,99"),
    ("path", "label", True, "array", "/.3.4", "/.3.99"),
    ("path", "label", False, "object", "/.offset,1,limit,2", "/.offset,1,limit,99"),
    ("path", "label", True, "object", "/.offset=1.limit=2", "/.offset=99.limit=2"),
    ("path", "matrix", False, "primitive", "/;p=5", "/;p=99"),
    ("path", "matrix", True, "primitive", "/;p=5", "/;p=99"),
    ("path", "matrix", False, "array", "/;p=3,4", "/;p=3,99"),
    ("path", "matrix", True, "array", "/;p=3;p=4", "/;p=3;p=99"),
    ("path", "matrix", False, "object", "/;p=offset,1,limit,2", "/;p=offset,1,limit,99"),
    ("path", "matrix", True, "object", "/;offset=1;limit=2", "/;offset=1;limit=99"),
    ("header", "simple", False, "primitive", "5", "99"),
    ("header", "simple", True, "primitive", "5", "99"),
    ("header", "simple", False, "array", "3,4", "3,99"),
    ("header", "simple", True, "array", "3,4", "99,4"),
    ("header", "simple", False, "object", "offset,1,limit,2", "offset,1,limit,99"),
    ("header", "simple", True, "object", "offset=1,limit=2", "offset=1,limit=99"),
    ("cookie", "form", True, "primitive", "5", "99"),
    ("cookie", "form", False, "primitive", "5", "99"),
    ("cookie", "form", False, "array", "3,4", "3,99"),
    ("cookie", "form", False, "object", "offset,1,limit,2", "offset,1,limit,99"),
]


def _row_id(row: tuple[str, str, bool, str, str, str]) -> str:
    return f"{row[0]}-{row[1]}-{'explode' if row[2] else 'flat'}-{row[3]}"


def _spec() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for row in ROWS:
        location, style, explode, shape = row[:4]
        name = _row_id(row)
        path = f"/{name}/{{p}}" if location == "path" else f"/{name}"
        parameter = {
            "name": "p",
            "in": location,
            "required": True,
            "style": style,
            "explode": explode,
            "schema": SCHEMAS[shape],
        }
        paths[path] = {
            "get": {"parameters": [parameter], "responses": {"200": {"description": "ok"}}}
        }
    return {"openapi": "3.0.3", "info": {"title": "Styles", "version": "1"}, "paths": paths}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    path = Path(tmp_path_factory.mktemp("styles")) / "api.json"
    path.write_text(json.dumps(_spec()))
    settings = load_settings(path, environ={}, overrides={"state": ":memory:"})
    return create_app(path, settings).test_client()


def _send(client: FlaskClient, row: tuple[str, str, bool, str, str, str], value: str) -> Any:
    location, name = row[0], _row_id(row)
    if location in ("query", "path"):
        return client.get(f"/{name}{value}")
    if location == "header":
        return client.get(f"/{name}", headers={"p": value})
    client.set_cookie("p", value)
    try:
        return client.get(f"/{name}")
    finally:
        client.delete_cookie("p")


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(row) for row in ROWS])
def test_each_style_reads_a_valid_value_and_refuses_an_invalid_one(
    client: FlaskClient, row: tuple[str, str, bool, str, str, str]
) -> None:
    valid = _send(client, row, row[4])
    assert valid.status_code == 200, valid.data
    invalid = _send(client, row, row[5])
    assert invalid.status_code == 400, invalid.data
    details = invalid.get_json()["error"]["details"]
    fields = [detail["field"] for detail in details]
    assert any(
        field == "p" or field.startswith("p.") or field.startswith("p[") for field in fields
    ), details
    assert "at most 10" in details[0]["message"], details


def test_an_exploded_form_object_in_the_query_is_the_issue_example(client: FlaskClient) -> None:
    row = ROWS[2]
    missing = client.get(f"/{_row_id(row)}?unrelated=1")
    assert missing.status_code == 400
    assert missing.get_json()["error"]["details"] == [
        {"field": "p", "message": "required query parameter is missing"}
    ]
    assert client.get(f"/{_row_id(row)}?offset=1&limit=123").status_code == 400  # 123 > 10
    assert client.get(f"/{_row_id(row)}?offset=1&limit=3").status_code == 200
