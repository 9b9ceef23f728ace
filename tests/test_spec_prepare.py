"""Spec preparation (sandbox.spec.prepare) and data in examples (sandbox.spec.documents):
what the OpenAPI specification says is what the validators do (issue 18, items 5 and 3)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import Headers, MultiDict

from sandbox import load_spec
from sandbox.http.validation import RequestData, RequestValidator
from tests.conftest import corpus_path

MESSAGES = """\
openapi: 3.1.0
info: {title: Chat, version: "1"}
paths:
  /chat:
    post:
      operationId: chat
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                message: {$ref: "#/components/schemas/Message"}
                pet: {$ref: "#/components/schemas/Pet"}
                shape:
                  oneOf:
                    - {type: object, properties: {kind: {const: circle}, r: {type: number}},
                       required: [kind, r]}
                    - type: object
                      properties: {kind: {enum: [square, box]}, side: {type: number}}
                      required: [kind, side]
                  discriminator: {propertyName: kind}
      responses:
        "200": {description: ok}
components:
  schemas:
    Message:
      oneOf:
        - $ref: "#/components/schemas/UserMessage"
        - $ref: "#/components/schemas/SystemMessage"
        - {type: object, $ref: "#/components/schemas/ToolMessage"}
      discriminator: {propertyName: role}
    ToolMessage:
      oneOf:
        - {type: object, required: [role], properties: {role: {enum: [tool]}}}
        - {type: object, required: [role, id], properties: {role: {enum: [tool_result]}}}
    UserMessage:
      type: object
      required: [role, content]
      properties:
        role: {type: string, enum: [user]}
        content: {type: string}
    SystemMessage:
      allOf:
        - {type: object, properties: {role: {type: string, enum: [system]}}}
        - {type: object, required: [content], properties: {content: {type: string}}}
    Pet:
      oneOf:
        - $ref: "#/components/schemas/Dog"
        - $ref: "#/components/schemas/Cat"
      discriminator: {propertyName: type, mapping: {hound: Dog}}
    Dog:
      type: object
      required: [type, bark]
      properties: {type: {type: string}, bark: {type: boolean}}
    Cat:
      type: object
      required: [type]
      properties: {type: {type: string, enum: [Cat, kitty]}}
"""


def spec_at(tmp_path: Path, text: str, name: str = "spec.yaml") -> Any:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_spec(path)


def post(body: Any, **path: str) -> RequestData:
    return RequestData(
        method="POST",
        path_params=path,
        query=MultiDict(),
        headers=Headers(),
        cookies={},
        body=json.dumps(body).encode(),
        mimetype="application/json",
        content_type="application/json",
    )


def get(**path: str) -> RequestData:
    return RequestData("GET", path, MultiDict(), Headers(), {}, b"", "", "")


def problems(spec: Any, operation_id: str, data: RequestData) -> list[dict[str, str]]:
    result = RequestValidator(spec).validate(spec.by_id[operation_id], data)
    return [problem.as_dict() for problem in result.problems]


REACHING = [
    {"message": {"role": "user", "content": "hi"}},  # enum value -> its branch
    {"message": {"role": "system", "content": "be brief"}},  # enum found through allOf
    {"message": {"role": "tool_result", "id": 1}},  # a branch that is itself a union
    {"pet": {"type": "hound", "bark": True}},  # a bare schema name in an explicit mapping
    {"pet": {"type": "Cat"}},  # a component's own name: the spec's implicit rule
    {"pet": {"type": "kitty"}},  # the branch's enum, beside the component name
    {"shape": {"kind": "circle", "r": 1}},  # inline branches, by const
    {"shape": {"kind": "box", "side": 2}},  # inline branches, by enum
]
BREAKING = [
    {"message": {"role": "user"}},  # the branch's own rules still apply
    {"shape": {"kind": "circle", "side": 2}},
    {"pet": {"type": "hound"}},
]


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_what_the_sandbox_sends_reaches_its_branch_too(tmp_path: Path, version: str) -> None:
    """The checks of what the sandbox stores and answers (sandbox.spec.schemas) read an
    implicit discriminator value as the requests' validators do: by the branches, where
    it names no component (Spotify's ``track: oneOf [TrackObject, EpisodeObject]`` by
    ``type: track`` was never valid, so a stored track was always regenerated)."""
    from sandbox.spec.schemas import SchemaChecks

    text = MESSAGES.replace("const: circle", "enum: [circle]").replace("3.1.0", version)
    spec = spec_at(tmp_path, text)
    checks = SchemaChecks(spec.document, spec.version)
    media = spec.by_id["chat"].request_body["content"]["application/json"]
    schema = spec.deref(media["schema"])
    assert all(checks.is_valid(schema, body) for body in REACHING)
    assert not any(checks.is_valid(schema, body) for body in BREAKING)


@pytest.mark.parametrize(
    "body",
    [
        {"message": {"role": "user", "content": "hi"}},  # enum value -> its branch
        {"message": {"role": "system", "content": "be brief"}},  # enum found through allOf
        {"message": {"role": "tool_result", "id": 1}},  # a branch that is itself a union
        {"pet": {"type": "hound", "bark": True}},  # a bare schema name in an explicit mapping
        {"pet": {"type": "Cat"}},  # a component's own name: the spec's implicit rule
        {"pet": {"type": "kitty"}},  # the branch's enum, beside the component name
        {"shape": {"kind": "circle", "r": 1}},  # inline branches, by const
        {"shape": {"kind": "box", "side": 2}},  # inline branches, by enum
    ],
)
def test_discriminator_values_reach_their_branch(tmp_path: Path, body: Any) -> None:
    spec = spec_at(tmp_path, MESSAGES)
    assert problems(spec, "chat", post(body)) == []


@pytest.mark.parametrize(
    "body",
    [
        {"message": {"role": "user"}},  # the branch's own rules still apply
        {"shape": {"kind": "circle", "side": 2}},
        {"pet": {"type": "hound"}},
    ],
)
def test_a_mapped_branch_still_validates(tmp_path: Path, body: Any) -> None:
    spec = spec_at(tmp_path, MESSAGES)
    assert problems(spec, "chat", post(body))


PARAMETER = """\
openapi: 3.0.3
info: {title: Keys, version: "1"}
paths:
  /keys/{key}:
    get:
      operationId: getKey
      parameters:
        - name: key
          in: path
          required: true
          schema:
            anyOf:
              - $ref: "#/components/schemas/key_id"
              - $ref: "#/components/schemas/fingerprint"
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties: {id: {$ref: "#/components/schemas/key_id"}}
components:
  schemas:
    key_id: {type: integer, readOnly: true}
    fingerprint: {type: string, readOnly: true, pattern: "^[0-9a-f:]+$"}
"""


@pytest.mark.parametrize("value", ["512189", "3b:16:bf:e4"])
def test_read_only_does_not_apply_to_parameters(tmp_path: Path, value: str) -> None:
    spec = spec_at(tmp_path, PARAMETER)
    assert key_problems(spec, value) == []
    assert key_problems(spec, "NOT-HEX")  # the schema still decides
    # the component keeps readOnly for the bodies that use it
    assert spec.document["components"]["schemas"]["key_id"]["readOnly"] is True


def key_problems(spec: Any, value: str) -> list[dict[str, str]]:
    return problems(spec, "getKey", get(key=value))


EXAMPLES = """\
openapi: 3.0.3
info: {title: Scim, version: "1"}
x-vendor: {$ref: "https://example.com/not/followed.json"}
paths:
  /groups:
    get:
      operationId: listGroups
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Group"}
              examples:
                one: {$ref: "#/components/examples/group"}
components:
  examples:
    group:
      value:
        members: [{value: "1", $ref: "https://example.com/scim/v2/Users/1"}]
  schemas:
    Group:
      type: object
      example: {members: [{$ref: "https://example.com/Users/1"}]}
      properties:
        example: {$ref: "#/components/schemas/Member"}
        value: {$ref: "#/components/schemas/Member"}
        members: {type: array, items: {$ref: "#/components/schemas/Member"}}
    Member: {type: object, properties: {value: {type: string}}}
"""


def test_refs_in_example_values_and_extensions_are_data(tmp_path: Path) -> None:
    spec = spec_at(tmp_path, EXAMPLES)
    assert spec.by_id["listGroups"]
    example = spec.document["components"]["examples"]["group"]["value"]
    assert example["members"][0]["$ref"] == "https://example.com/scim/v2/Users/1"


def test_a_property_named_example_is_still_a_schema(tmp_path: Path) -> None:
    broken = EXAMPLES.replace(
        'example: {$ref: "#/components/schemas/Member"}',
        'example: {$ref: "#/components/schemas/Missing"}',
    )
    with pytest.raises(Exception, match="Missing"):
        spec_at(tmp_path, broken)


def test_openai_chat_messages_pass_validation() -> None:
    spec = load_spec(corpus_path() / "real" / "openai.yaml", lenient=True)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}
    assert problems(spec, "createChatCompletion", post(body)) == []


def test_sandbox_check_still_reports_what_the_spec_wrote(tmp_path: Path) -> None:
    from sandbox.spec.notes import discriminator_conflicts

    spec = spec_at(tmp_path, MESSAGES)  # UserMessage's role allows only "user", not its name
    branches = {conflict.branch for conflict in discriminator_conflicts(spec)}
    assert {"UserMessage", "SystemMessage"} <= branches


SPLIT_ROOT = """\
openapi: 3.0.3
info: {title: Split, version: "1"}
paths:
  /keys/{key}:
    get:
      operationId: getKey
      parameters:
        - $ref: "parameters.yaml#/key"
      responses:
        "200": {description: ok}
  /records:
    post:
      operationId: createRecord
      requestBody:
        required: true
        content:
          application/json:
            schema:
              anyOf:
                - $ref: "models/records.yaml#/a"
                - $ref: "models/records.yaml#/mx"
              discriminator:
                propertyName: type
                mapping:
                  A: "models/records.yaml#/a"
                  MX: "models/records.yaml#/mx"
      responses:
        "201": {description: made}
"""
SPLIT_FILES = {
    "parameters.yaml": """\
key:
  name: key
  in: path
  required: true
  schema:
    anyOf:
      - $ref: "models/keys.yaml#/key_id"
      - $ref: "models/keys.yaml#/fingerprint"
""",
    "models/keys.yaml": """\
key_id: {type: integer, readOnly: true}
fingerprint: {type: string, readOnly: true, pattern: "^[0-9a-f:]+$"}
""",
    "models/records.yaml": """\
a:
  type: object
  required: [type, data]
  properties: {type: {type: string}, data: {type: string, format: ipv4}}
mx:
  type: object
  required: [type, data, priority]
  properties: {type: {type: string}, data: {type: string}, priority: {type: integer}}
""",
}


def split_spec(tmp_path: Path) -> Any:
    for name, text in SPLIT_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return spec_at(tmp_path, SPLIT_ROOT)


@pytest.mark.parametrize("value", ["512189", "3b:16:bf:e4"])
def test_read_only_does_not_apply_to_a_parameter_kept_in_another_file(
    tmp_path: Path, value: str
) -> None:
    """The rule above, for a parameter the bundler placed beside the document (a reference,
    not an inline parameter): DigitalOcean's ``parameters.yml#/ssh_key_identifier``."""
    spec = split_spec(tmp_path)
    assert key_problems(spec, value) == []
    assert key_problems(spec, "NOT-HEX")


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"type": "A", "data": "162.10.66.0"}, True),
        ({"type": "MX", "data": "mail.example.com", "priority": 10}, True),
        ({"type": "MX", "data": "mail.example.com"}, False),  # the mapped branch decides
        ({"type": "A", "data": "not an address"}, False),
    ],
)
def test_a_discriminator_mapping_into_another_file_is_bundled(
    tmp_path: Path, body: Any, valid: bool
) -> None:
    """A mapping value is a reference (OpenAPI 3.0.3 §4.7.25): bundled like a ``$ref``, so
    it names the copy the branches use, not a file the validator cannot read (DigitalOcean's
    ``models/domain_record_types.yml#/domain_record_a``: every record create was refused)."""
    spec = split_spec(tmp_path)
    schema = spec.by_id["createRecord"].request_body["content"]["application/json"]["schema"]
    assert schema["discriminator"]["mapping"]["A"] == schema["anyOf"][0]["$ref"]
    assert (problems(spec, "createRecord", post(body)) == []) is valid


def test_digitalocean_split_spec_requests_pass_validation(corpus: Path) -> None:
    spec = load_spec(corpus / "real/digitalocean/specification/DigitalOcean-public.v2.yaml")
    record = {"type": "A", "name": "www", "data": "162.10.66.0", "ttl": 1800}
    assert problems(spec, "domains_create_record", post(record, domain_name="a.io")) == []
    action = {"type": "enable_backups", "backup_policy": {"plan": "daily", "hour": 20}}
    assert problems(spec, "dropletActions_post", post(action, droplet_id="3")) == []
    for key in ("512189", "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"):
        assert problems(spec, "sshKeys_get", get(ssh_key_identifier=key)) == []


@pytest.mark.parametrize("text", [MESSAGES, PARAMETER])
def test_the_prepared_copy_is_copied_only_where_it_is_rewritten(tmp_path: Path, text: str) -> None:
    """The validators' copy shares every node it does not rewrite with the document as
    written (a whole copy cost 0.05 s and 11 MB per process on a large spec), and the
    document itself is left exactly as written."""
    import pickle

    from sandbox.spec.prepare import IMPLIED, prepared_copy

    document = spec_at(tmp_path, text).document
    before = pickle.dumps(document)
    prepared = prepared_copy(document)
    assert pickle.dumps(document) == before
    assert prepared is not document and prepared != document  # something was rewritten

    def walk(mine: Any, theirs: Any, path: str) -> list[str]:
        """The paths of nodes the copy owns; below a shared node there are none."""
        if mine is theirs:
            return []
        owned = [path]
        if isinstance(mine, dict) and isinstance(theirs, dict):
            for key in mine.keys() & theirs.keys():
                owned += walk(mine[key], theirs[key], f"{path}/{key}")
        elif isinstance(mine, list) and isinstance(theirs, list):
            for index, (a, b) in enumerate(zip(mine, theirs, strict=False)):
                owned += walk(a, b, f"{path}/{index}")
        return owned

    owned = walk(prepared, document, "")
    # copies are the rewritten nodes (and what is new in them) and the containers on the way
    # to them, nothing else
    rewritten = [p for p in owned if p.endswith(("/discriminator", "/schema"))]
    assert rewritten
    for path in owned:
        assert any(r.startswith(path) or path.startswith(r) for r in rewritten), path
    assert prepared["info"] is document["info"]
    if text is MESSAGES:
        assert IMPLIED in str(prepared) and IMPLIED not in str(document)
