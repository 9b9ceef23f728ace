"""Swagger 2.0's ``allowEmptyValue: false`` (its default) holds: ``id=`` sends no value."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.spec_helpers import app_for

SPEC = """\
swagger: "2.0"
info: {title: Empty, version: "1"}
paths:
  /search:
    get:
      parameters:
        - {name: id, in: query, required: true, type: string}
        - {name: note, in: query, type: string, allowEmptyValue: true}
      responses: {"200": {description: ok}}
  /forms:
    post:
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {name: id, in: formData, required: true, type: string}
        - {name: note, in: formData, type: string, allowEmptyValue: true}
      responses: {"200": {description: ok}}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    return app_for(tmp_path_factory, SPEC)[0]


def test_an_empty_query_value_is_refused_unless_allowed(client: FlaskClient) -> None:
    refused = client.get("/search?id=")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["details"] == [
        {"field": "id", "message": "query parameter must not be empty"}
    ]
    assert client.get("/search?id=7&note=").status_code == 200


def test_an_empty_form_value_is_refused_unless_allowed(client: FlaskClient) -> None:
    refused = client.post("/forms", data={"id": ""})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["details"][0]["field"] == "id"
    assert client.post("/forms", data={"id": "7", "note": ""}).status_code == 200
