"""Answers keep to what the operation declares: a status from its ranges when it declares no
exact code (and a header that says so), and string examples of non-JSON types verbatim."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.spec_helpers import app_for

SPEC = """\
openapi: 3.0.3
info: {title: Ranges, version: "1"}
paths:
  /client-errors:
    get:
      responses:
        4XX:
          description: a client error
          content:
            application/json:
              schema:
                {type: object, required: [code], properties: {code: {type: string, enum: [E1]}}}
  /server-errors:
    get:
      responses:
        5XX: {description: a server error, content: {application/json: {schema: {type: object}}}}
        4XX: {description: a client error}
  /default-only:
    get:
      responses:
        default:
          {description: any, content: {application/json: {schema: {type: integer, enum: [7]}}}}
  /exact:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: integer}}}}
        4XX: {description: no}
  /report:
    get:
      responses:
        "200":
          description: ok
          content:
            application/xml:
              schema: {type: object}
              example: '<report id="1"><title>Q&amp;A</title></report>'
              examples:
                short: {value: '<report id="2"/>'}
            text/csv:
              schema: {type: string}
              example: "id,name\\n1,Ada\\n"
            text/plain:
              schema: {type: string}
              examples:
                hello: {value: "Hello, <world> & you"}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    return app_for(tmp_path_factory, SPEC)[0]


@pytest.mark.parametrize(
    ("path", "status", "source"),
    [
        ("/client-errors", 400, "4XX"),
        ("/server-errors", 400, "4XX"),
        ("/default-only", 200, "default"),
        ("/exact", 200, None),
    ],
)
def test_an_operation_without_an_exact_code_answers_one_from_its_ranges(
    client: FlaskClient, path: str, status: int, source: str | None
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers.get("X-Sandbox-Status-From") == source


def test_the_range_answer_is_shaped_by_the_range_schema(client: FlaskClient) -> None:
    assert client.get("/client-errors").get_json() == {"code": "E1"}
    assert client.get("/default-only").get_json() == 7


def test_prefer_code_from_a_range_says_so(client: FlaskClient) -> None:
    response = client.get("/exact", headers={"Prefer": "code=404"})
    assert response.status_code == 404
    assert response.headers["X-Sandbox-Status-From"] == "4XX"


@pytest.mark.parametrize(
    ("accept", "prefer", "body"),
    [
        ("application/xml", "dynamic=false", '<report id="1"><title>Q&amp;A</title></report>'),
        ("application/xml", "example=short", '<report id="2"/>'),
        ("text/csv", "dynamic=false", "id,name\n1,Ada\n"),
        ("text/plain", "example=hello", "Hello, <world> & you"),
    ],
)
def test_a_string_example_of_a_non_json_type_is_the_body_verbatim(
    client: FlaskClient, accept: str, prefer: str, body: str
) -> None:
    response = client.get("/report", headers={"Accept": accept, "Prefer": prefer})
    assert response.status_code == 200
    assert response.mimetype == accept
    assert response.get_data(as_text=True) == body
