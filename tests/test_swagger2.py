"""Swagger 2.0 documents are converted to OpenAPI 3.0 on load, and served like any other."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sandbox import SpecError, load_spec
from sandbox.app.wsgi import create_app
from sandbox.config.settings import load_settings
from sandbox.spec.model import validate_document
from tests.conftest import corpus_path

SWAGGER = textwrap.dedent(
    """\
    swagger: "2.0"
    info: {title: Shop, version: "1"}
    host: shop.example.com
    basePath: /v2
    schemes: [https, http]
    consumes: [application/json]
    produces: [application/json]
    securityDefinitions:
      key: {type: apiKey, in: header, name: X-Key}
      login: {type: basic}
      robots:
        type: oauth2
        flow: application
        tokenUrl: "https://shop.example.com/oauth/token"
        scopes: {read: Read}
      people:
        type: oauth2
        flow: accessCode
        authorizationUrl: "https://shop.example.com/oauth/authorize"
        tokenUrl: "https://shop.example.com/oauth/token"
        scopes: {}
    security: [{key: []}]
    parameters:
      limit: {name: limit, in: query, type: integer, minimum: 1, maximum: 50, default: 10}
      newPet: {name: pet, in: body, required: true, schema: {$ref: "#/definitions/NewPet"}}
    responses:
      NotFound: {description: gone, schema: {$ref: "#/definitions/Error"}}
    paths:
      /pets:
        get:
          operationId: listPets
          parameters:
            - $ref: "#/parameters/limit"
            - {name: tags, in: query, type: array, items: {type: string}, collectionFormat: multi}
            - {name: ids, in: query, type: array, items: {type: integer}}
          responses:
            "200":
              description: pets
              schema: {type: array, items: {$ref: "#/definitions/Pet"}}
              headers:
                X-Total: {type: integer, description: how many}
              examples:
                application/json: [{id: 1, name: Rex, kind: dog}]
        post:
          operationId: addPet
          parameters: [{$ref: "#/parameters/newPet"}]
          responses:
            "201": {description: made, schema: {$ref: "#/definitions/Pet"}}
      /pets/{id}:
        parameters:
          - {name: id, in: path, required: true, type: integer}
        get:
          operationId: getPet
          responses:
            "200": {description: one, schema: {$ref: "#/definitions/Pet"}}
            "404": {$ref: "#/responses/NotFound"}
      /pets/{id}/photo:
        parameters:
          - {name: id, in: path, required: true, type: integer}
        post:
          operationId: uploadPhoto
          consumes: [multipart/form-data]
          parameters:
            - {name: caption, in: formData, type: string, required: true}
            - {name: file, in: formData, type: file}
          responses:
            "204": {description: stored}
      /login:
        post:
          operationId: login
          security: [{login: []}]
          consumes: [application/x-www-form-urlencoded]
          parameters:
            - {name: user, in: formData, type: string, required: true}
          responses:
            "200": {description: ok}
    definitions:
      NewPet:
        type: object
        required: [name]
        properties:
          name: {type: string}
          nickname: {type: string, x-nullable: true}
      Pet:
        type: object
        discriminator: kind
        required: [id, name, kind]
        properties:
          id: {type: integer}
          name: {type: string}
          kind: {type: string}
      Error:
        type: object
        properties: {message: {type: string}}
    """
)


@pytest.fixture
def converted(tmp_path: Path) -> dict:
    path = tmp_path / "swagger.yaml"
    path.write_text(SWAGGER)
    return load_spec(path).document


def test_servers_schemas_and_references_move_to_openapi_3_homes(converted: dict) -> None:
    assert converted["openapi"] == "3.0.3"
    assert converted["servers"] == [
        {"url": "https://shop.example.com/v2"},
        {"url": "http://shop.example.com/v2"},
    ]
    schemas = converted["components"]["schemas"]
    assert schemas["NewPet"]["properties"]["nickname"] == {"type": "string", "nullable": True}
    assert schemas["Pet"]["discriminator"] == {"propertyName": "kind"}
    get_pet = converted["paths"]["/pets/{id}"]["get"]
    assert get_pet["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}
    not_found = converted["components"]["responses"]["NotFound"]
    assert not_found["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_parameters_get_schemas_and_styles(converted: dict) -> None:
    listing = converted["paths"]["/pets"]["get"]
    limit, tags, ids = listing["parameters"]
    assert limit == {"$ref": "#/components/parameters/limit"}
    assert converted["components"]["parameters"]["limit"]["schema"] == {
        "type": "integer", "minimum": 1, "maximum": 50, "default": 10
    }  # fmt: skip
    assert (tags["style"], tags["explode"]) == ("form", True)
    assert (ids["style"], ids["explode"]) == ("form", False)
    assert converted["paths"]["/pets/{id}"]["parameters"][0]["schema"] == {"type": "integer"}


def test_body_and_form_parameters_become_request_bodies(converted: dict) -> None:
    add = converted["paths"]["/pets"]["post"]
    assert add["requestBody"]["required"] is True
    assert add["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewPet"
    }
    upload = converted["paths"]["/pets/{id}/photo"]["post"]["requestBody"]["content"]
    form = upload["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert form["required"] == ["caption"]
    login = converted["paths"]["/login"]["post"]["requestBody"]["content"]
    assert list(login) == ["application/x-www-form-urlencoded"]


def test_responses_get_content_headers_and_examples(converted: dict) -> None:
    ok = converted["paths"]["/pets"]["get"]["responses"]["200"]
    media = ok["content"]["application/json"]
    assert media["example"] == [{"id": 1, "name": "Rex", "kind": "dog"}]
    assert ok["headers"]["X-Total"] == {"schema": {"type": "integer"}, "description": "how many"}
    assert "content" not in converted["paths"]["/pets/{id}/photo"]["post"]["responses"]["204"]


def test_security_definitions_become_schemes(converted: dict) -> None:
    schemes = converted["components"]["securitySchemes"]
    assert schemes["key"] == {"type": "apiKey", "name": "X-Key", "in": "header"}
    assert schemes["login"] == {"type": "http", "scheme": "basic"}
    assert schemes["robots"]["flows"] == {
        "clientCredentials": {
            "scopes": {"read": "Read"},
            "tokenUrl": "https://shop.example.com/oauth/token",
        }
    }
    assert set(schemes["people"]["flows"]["authorizationCode"]) == {
        "scopes", "authorizationUrl", "tokenUrl"
    }  # fmt: skip


def test_the_conversion_is_a_valid_openapi_3_document(converted: dict, tmp_path: Path) -> None:
    validate_document(converted, tmp_path / "converted.yaml", {})


CORPUS = corpus_path()  # unpacked from tests/data/corpus.tar.xz; fails if missing
SWAGGER_CORPUS = sorted(
    line.split("\t")[0]
    for line in (CORPUS / "INDEX.tsv").read_text().splitlines()[1:]
    if "\tswagger 2.0\t" in line
)


@pytest.mark.parametrize("relative", SWAGGER_CORPUS)
def test_every_swagger_corpus_spec_converts_to_a_valid_document(relative: str) -> None:
    path = CORPUS / relative
    spec = load_spec(path)
    validate_document(spec.document, path, {})
    assert spec.operations


def test_a_swagger_spec_is_served(tmp_path: Path) -> None:
    path = tmp_path / "swagger.yaml"
    path.write_text(SWAGGER)
    settings = load_settings(path, overrides={"state": ":memory:", "auth": False})
    client = create_app(settings=settings).test_client()
    created = client.post("/v2/pets", json={"name": "Rex"})
    assert created.status_code == 201, created.json
    assert created.json["name"] == "Rex"
    listed = client.get("/v2/pets?limit=5&tags=a&tags=b")
    assert listed.status_code == 200
    assert isinstance(listed.json, list)
    bad = client.post("/v2/pets", json={"nickname": None})
    assert bad.status_code == 400
    assert "name" in bad.get_data(as_text=True)


def test_a_broken_swagger_spec_is_reported_against_the_file(tmp_path: Path) -> None:
    path = tmp_path / "swagger.yaml"
    path.write_text(SWAGGER.replace("in: path, required: true, type: integer}", "in: path}", 1))
    with pytest.raises(SpecError, match=r"invalid Swagger 2\.0 document") as caught:
        load_spec(path)
    assert caught.value.pointer.startswith("/paths/~1pets~1{id}/parameters")
