"""Accept negotiation as RFC 9110 §12.5.1 says: parameters, wildcards, q-values, suffixes."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.spec_helpers import app_for

SPEC = """\
openapi: 3.0.3
info: {title: Negotiation, version: "1"}
paths:
  /json:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: object, properties: {id: {type: integer}}}}
  /vendor:
    get:
      responses:
        "200":
          description: ok
          content:
            application/vnd.example+json: {schema: {type: object}}
  /both:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: object}}
            application/xml: {schema: {type: object}}
            text/plain: {schema: {type: string}}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    return app_for(tmp_path_factory, SPEC)[0]


@pytest.mark.parametrize(
    ("path", "accept", "status", "media"),
    [
        # parameters do not make a type unacceptable
        ("/json", "application/json; charset=utf-8", 200, "application/json"),
        ("/json", "application/json;charset=UTF-8;q=0.9", 200, "application/json"),
        ("/vendor", "application/vnd.example+json; version=1", 200, "application/vnd.example+json"),
        # wildcards
        ("/json", "*/*", 200, "application/json"),
        ("/json", "application/*", 200, "application/json"),
        ("/both", "text/*", 200, "text/plain"),
        ("/json", "text/*", 406, None),
        # q-values: the best wins, q=0 refuses
        ("/both", "application/json;q=0.2, application/xml;q=0.8", 200, "application/xml"),
        ("/both", "application/xml, */*;q=0.1", 200, "application/xml"),
        ("/json", "application/json;q=0", 406, None),
        ("/both", "application/json;q=0, */*", 200, "application/xml"),
        ("/both", "*/*;q=0", 406, None),
        # structured suffixes: application/json covers +json types
        ("/vendor", "application/json", 200, "application/vnd.example+json"),
        ("/vendor", "application/xml", 406, None),
        # exact over suffix: the declared JSON answers when both are declared
        ("/both", "application/json, application/xml;q=0.5", 200, "application/json"),
    ],
)
def test_accept(client: FlaskClient, path: str, accept: str, status: int, media: str) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == status, response.data
    if media is not None:
        assert response.mimetype == media
