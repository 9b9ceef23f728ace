"""Loading specs: good ones in every form, broken ones with a message that points at the fault."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox import SpecError, load_spec
from tests.conftest import DEFAULT_SPEC, corpus_path

CORPUS = corpus_path()  # unpacked from tests/data/corpus.tar.xz; fails if missing

MINIMAL = """\
openapi: 3.0.3
info: {title: Mini, version: "1"}
servers: [{url: "https://api.example.com/v2"}]
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
components:
  schemas:
    Thing: {type: object, properties: {id: {type: string}}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_default_spec_loads_with_its_operation_table() -> None:
    spec = load_spec(DEFAULT_SPEC)
    assert spec.openapi.startswith("3.1")
    assert spec.base_path == "/v1"
    ids = set(spec.by_id)
    for expected in ("listUsers", "createUser", "getUser", "bulkCreateUsers", "listItems"):
        assert expected in ids
    assert spec.by_id["createUser"].success_statuses == [201]


@pytest.mark.parametrize(
    "path",
    sorted((CORPUS / "oai" / "v3.0").glob("*")) + sorted((CORPUS / "oai" / "v3.1").glob("*")),
    ids=lambda p: p.name,
)
def test_every_oai_example_loads(path: Path) -> None:
    spec = load_spec(path)
    assert spec.version in ("3.0", "3.1")


def test_json_and_yaml_forms_give_the_same_table() -> None:
    yaml_spec = load_spec(CORPUS / "oai" / "v3.0" / "petstore.yaml")
    json_spec = load_spec(CORPUS / "oai" / "v3.0" / "petstore.json")
    assert [op.key for op in yaml_spec.operations] == [op.key for op in json_spec.operations]


def test_refs_to_files_beside_the_spec_are_bundled(tmp_path: Path) -> None:
    write(
        tmp_path,
        "thing.yaml",
        "type: object\nproperties:\n  tag: {$ref: '#/definitions/Tag'}\n"
        "definitions:\n  Tag: {type: string, maxLength: 5}\n",
    )
    root = write(
        tmp_path,
        "api.yaml",
        MINIMAL.replace("'#/components/schemas/Thing'", "x").replace(
            '{$ref: "#/components/schemas/Thing"}', '{$ref: "thing.yaml"}'
        ),
    )
    spec = load_spec(root)
    schema = spec.by_id["getThing"].responses["200"]["content"]["application/json"]["schema"]
    target = spec.deref(schema)
    assert spec.deref(target["properties"]["tag"]) == {"type": "string", "maxLength": 5}


def test_a_ref_to_a_string_in_another_file_is_inlined(tmp_path: Path) -> None:
    """DigitalOcean's spec writes `description: {$ref: description.yml#/introduction}`; only
    the string itself is valid there."""
    write(tmp_path, "texts.yml", "introduction: |\n  Welcome to the API.\n")
    root = write(
        tmp_path,
        "api.yaml",
        MINIMAL.replace("paths:", "tags:\n  - name: intro\n"
                        "    description: {$ref: 'texts.yml#/introduction'}\npaths:", 1),
    )  # fmt: skip
    spec = load_spec(root)
    assert spec.document["tags"][0]["description"] == "Welcome to the API.\n"
    assert "x-sandbox-bundled" not in spec.document


def test_split_specs_with_refs_where_openapi_allows_none_are_inlined(tmp_path: Path) -> None:
    """An operation in a file of its own, and a whole `properties` map by reference, as
    DigitalOcean's spec is written; refs inside resolve relative to their own file."""
    (tmp_path / "ops").mkdir()
    write(tmp_path, "ops/get_thing.yml", textwrap.dedent("""\
        operationId: getThing
        responses:
          "200":
            description: ok
            content:
              application/json:
                schema: {type: object, properties: {$ref: 'props.yml#/thing'}}
        """))  # fmt: skip
    write(tmp_path, "ops/props.yml", "thing:\n  id: {type: string}\n  size: {type: integer}\n")
    root = write(tmp_path, "api.yaml", textwrap.dedent("""\
        openapi: 3.0.3
        info: {title: Split, version: "1"}
        paths:
          /things:
            get: {$ref: 'ops/get_thing.yml'}
        """))  # fmt: skip
    spec = load_spec(root)
    schema = spec.by_id["getThing"].responses["200"]["content"]["application/json"]["schema"]
    assert set(spec.deref(schema)["properties"]) == {"id", "size"}


def test_inlining_stops_at_a_cycle(tmp_path: Path) -> None:
    write(tmp_path, "node.yml", "type: object\nproperties: {$ref: 'props.yml'}\n")
    write(tmp_path, "props.yml", "child: {type: object, properties: {$ref: 'props.yml'}}\n")
    root = write(
        tmp_path,
        "api.yaml",
        MINIMAL.replace('{$ref: "#/components/schemas/Thing"}', '{$ref: "node.yml"}'),
    )
    # a `properties` map that contains itself cannot be inlined: a clear error, not a hang
    with pytest.raises(SpecError, match="/properties/child/properties"):
        load_spec(root)


def test_digitalocean_split_spec_boots() -> None:
    from sandbox import create_app, load_settings

    path = CORPUS / "real" / "digitalocean" / "specification" / "DigitalOcean-public.v2.yaml"
    spec = load_spec(path)
    assert len(spec.operations) == 659
    settings = load_settings(path, environ={}, overrides={"state": ":memory:"})
    client = create_app(spec, settings).test_client()
    answer = client.get(
        "/v2/account", headers={"Authorization": f"Bearer {settings.default_api_key}"}
    )
    assert answer.status_code == 200 and isinstance(answer.json, dict)


def test_multi_file_cycles_terminate(tmp_path: Path) -> None:
    write(tmp_path, "node.yaml", "type: object\nproperties:\n  child: {$ref: 'node.yaml'}\n")
    root = write(
        tmp_path,
        "api.yaml",
        MINIMAL.replace('{$ref: "#/components/schemas/Thing"}', '{$ref: "node.yaml"}'),
    )
    spec = load_spec(root)
    node = spec.deref(
        spec.by_id["getThing"].responses["200"]["content"]["application/json"]["schema"]
    )
    assert spec.deref(node["properties"]["child"]) is node


def test_server_variables_and_missing_servers_give_a_base_path(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'servers: [{url: "https://api.example.com/v2"}]',
        'servers: [{url: "https://{host}/api/{version}", variables: {host: {default: x.io}, '
        "version: {default: v9}}}]",
    )
    assert load_spec(write(tmp_path, "a.yaml", text)).base_path == "/api/v9"
    no_servers = MINIMAL.replace('servers: [{url: "https://api.example.com/v2"}]\n', "")
    assert load_spec(write(tmp_path, "b.yaml", no_servers)).base_path == ""


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", MINIMAL.replace("    get:\n", "    get:\n  - oops: [\n", 1))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert str(path) in message and "invalid YAML" in message
    assert caught.value.line is not None and 6 <= caught.value.line <= 9


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "openapi": "3.1.0",\n  "info": {,}\n}\n')
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.line == 3
    assert "invalid JSON" in str(caught.value)


def test_unresolvable_local_ref_names_the_pointer_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", MINIMAL.replace('schemas/Thing"}', 'schemas/Thingy"}'))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    error = caught.value
    assert "#/components/schemas/Thingy" in str(error)
    assert (
        error.pointer
        == "/paths/~1things~1{id}/get/responses/200/content/application~1json/schema/$ref"
    )
    assert error.line == 14


def test_ref_to_missing_file_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path, "api.yaml", MINIMAL.replace('"#/components/schemas/Thing"', '"gone.yaml"')
    )
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(path)


def test_invalid_document_reports_the_schema_problem_and_location(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", MINIMAL.replace("in: path", "in: body"))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    error = caught.value
    assert "invalid OpenAPI 3.0.3 document" in str(error)
    assert error.pointer and error.pointer.startswith("/paths/~1things~1{id}/get")
    assert error.line is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "top level must be a mapping"),
        ("openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n", "unsupported"),
        ("swagger: '1.2'\ninfo: {title: t, version: '1'}\npaths: {}\n", "unsupported 'swagger'"),
        ("info: {title: t}\n", "missing 'openapi'"),
    ],
)
def test_not_an_openapi_3_document(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(SpecError, match=expected):
        load_spec(write(tmp_path, "x.yaml", text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_cli_exits_2_with_a_clear_message_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", MINIMAL.replace('schemas/Thing"}', 'schemas/Nope"}'))
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{path}:14" in result.stderr
    assert "#/components/schemas/Nope" in result.stderr


def test_operation_ids_are_synthesised_when_missing(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/a/{b}": {
                    "parameters": [
                        {"name": "b", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "get": {"responses": {"200": {"description": "ok"}}},
                }
            },
        }
    )
    spec = load_spec(write(tmp_path, "s.json", text))
    assert spec.operations[0].operation_id == "get_a_b"


def test_lenient_serves_an_invalid_spec_with_its_problems_as_warnings() -> None:
    path = CORPUS / "real" / "openai.yaml"
    with pytest.raises(SpecError, match=r"invalid OpenAPI 3\.1\.0 document"):
        load_spec(path)
    spec = load_spec(path, lenient=True)
    assert len(spec.operations) == 288
    assert len(spec.warnings) == 1 and "non-unique elements" in spec.warnings[0]


def test_lenient_does_not_serve_what_cannot_be_served(tmp_path: Path) -> None:
    root = write(
        tmp_path, "api.yaml",
        MINIMAL.replace('{$ref: "#/components/schemas/Thing"}', '{$ref: "#/nowhere"}'),
    )  # fmt: skip
    with pytest.raises(SpecError, match="cannot be resolved"):
        load_spec(root, lenient=True)
