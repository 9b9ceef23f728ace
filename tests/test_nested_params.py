"""Bracketed keys and deepObject parameters (sandbox.http.nested_params), issue 18 item 9:
read as the JSON the schema describes, checked against the SDK's own encoder."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode  # the encoder Stripe's SDK sends every request with
from stripe._multipart_data_generator import MultipartDataGenerator
from werkzeug.datastructures import Headers, MultiDict

from sandbox import load_spec
from sandbox.http.nested_params import nest, split_key
from sandbox.http.validation import RequestData, RequestValidator


def same(node: Any) -> Any:
    return node


ADDRESS = {"type": "object", "properties": {"line1": {"type": "string"}, "zip": {"type": "string"}}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "amount": {"type": "integer"},
        "ratio": {"type": "number"},
        "live": {"type": "boolean"},
        "name": {"type": "string"},
        "billing": {"type": "object", "properties": {"address": ADDRESS}},
        "types": {"type": "array", "items": {"type": "string"}},
        "expand": {"type": "array", "items": {"type": "string"}},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"price": {"type": "string"}, "quantity": {"type": "integer"}},
            },
        },
        "metadata": {
            "anyOf": [
                {"type": "object", "additionalProperties": {"type": "string"}},
                {"type": "string", "enum": [""]},
            ]
        },
        "created": {
            "anyOf": [
                {"type": "object", "properties": {"gt": {"type": "integer"}}},
                {"type": "integer"},
            ]
        },
        "tiers": {"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"enum": [""]}]},
        "file_link_data": {"type": "object", "properties": {"create": {"type": "boolean"}}},
    },
}


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (
            [("billing[address][line1]", "1 Main St")],
            {"billing": {"address": {"line1": "1 Main St"}}},
        ),
        ([("types[0]", "zengin"), ("types[1]", "sepa")], {"types": ["zengin", "sepa"]}),
        ([("types[1]", "b"), ("types[0]", "a")], {"types": ["a", "b"]}),  # index order
        ([("expand[]", "a"), ("expand[]", "b")], {"expand": ["a", "b"]}),  # append
        ([("expand", "a"), ("expand", "b")], {"expand": ["a", "b"]}),  # repeated, form style
        ([("expand", "a")], {"expand": ["a"]}),  # one value of an array
        (
            [("items[0][price]", "p"), ("items[0][quantity]", "2"), ("items[1][price]", "q")],
            {"items": [{"price": "p", "quantity": 2}, {"price": "q"}]},
        ),
        ([("metadata[key]", "v"), ("metadata[n]", "1")], {"metadata": {"key": "v", "n": "1"}}),
        ([("metadata", "")], {"metadata": ""}),  # Stripe's "unset": the enum [""] branch
        ([("created", "5")], {"created": 5}),  # anyOf object | integer, given an integer
        ([("created[gt]", "5")], {"created": {"gt": 5}}),  # ... given an object
        ([("tiers[0]", "1")], {"tiers": [1]}),
        ([("tiers", "")], {"tiers": ""}),
        (
            [("amount", "12"), ("ratio", "0.5"), ("live", "true")],
            {"amount": 12, "ratio": 0.5, "live": True},
        ),
        ([("amount", "twelve")], {"amount": "twelve"}),  # left for validation to refuse
        ([("name", "007")], {"name": "007"}),  # a string stays a string
        ([("file_link_data[create]", "true")], {"file_link_data": {"create": True}}),
        ([("other[x][0]", "1")], {"other": {"x": ["1"]}}),  # undeclared: shape from the keys
    ],
)
def test_pairs_become_the_value_the_schema_describes(
    pairs: list[tuple[str, str]], expected: dict[str, Any]
) -> None:
    assert nest(pairs, SCHEMA, same) == expected


SHIPPING: dict[str, Any] = {
    "type": "object",
    "required": ["shipping", "features"],
    "properties": {
        "shipping": {"type": "object", "required": ["name", "address"],
                     "properties": {"name": {"type": "string"}, "address": ADDRESS}},
        "features": {"type": "array", "items": {"type": "string"}},
        "lines": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "online": {"type": "object", "properties": {"ip": {"type": "string"}}},
        "party": {"type": "object", "required": ["name"], "properties": {"name": ADDRESS}},
        "data": {"type": "object", "properties": {"create": {"type": "boolean"}}},
    },
}  # fmt: skip


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # a required object or array sent empty was sent as nothing at all
        ([("shipping[name]", "A")], {"shipping": {"name": "A", "address": {}}, "features": []}),
        # an empty text where no string fits is the empty object (Schemathesis's nested keys)
        ([("online", "")], {"online": {}, "features": []}),
        # a multipart part sent as JSON, OpenAPI's default for an object
        ([("data", '{"create": false}')], {"data": {"create": False}, "features": []}),
        # no empty array the schema refuses is made up; text that is not JSON stays text
        ([("lines", "")], {"lines": [""], "features": []}),
        ([("data", "{nope")], {"data": "{nope", "features": []}),
        # an object is spelled by its keys alone: the empty text is one, for validation to judge
        ([("party", ""), ("shipping", "")], {"party": {}, "shipping": {}, "features": []}),
    ],
)
def test_empty_values_a_form_cannot_spell(
    pairs: list[tuple[str, str]], expected: dict[str, Any]
) -> None:
    """A form has no spelling for ``{}`` or ``[]``: encoders write nothing, or ``key=``. What
    a schema-valid body becomes on the wire reads back as that body (contracts run on
    Stripe: 18 schema-valid form requests refused, ``shipping.address is required``)."""
    assert nest(pairs, SHIPPING, same) == expected


@pytest.mark.parametrize("key", ["a[b", "a[b]c", "[a]", "a]"])
def test_keys_not_bracketed_all_the_way_are_plain(key: str) -> None:
    assert split_key(key) is None
    assert nest([(key, "v")], None, same) == {key: "v"}


STRIPE_PARAMS = [
    {"amount": 2000, "currency": "usd", "payment_method_types": ["card", "sepa_debit"]},
    {
        "name": "Ada",
        "metadata": {"plan": "gold", "tier": "2"},
        "billing": {"address": {"zip": "1"}},
    },
    {"items": [{"price": "price_1", "quantity": 2}, {"price": "price_2", "quantity": 1}]},
    {"created": {"gt": 1700000000}, "expand": ["data.customer", "data.invoice"]},
    {"live": False, "tiers": [1, 2, 3], "file_link_data": {"create": True}},
]


@pytest.mark.parametrize("params", STRIPE_PARAMS)
def test_what_stripes_encoder_sends_reads_back_as_sent(params: dict[str, Any]) -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["payment_method_types"] = {"type": "array", "items": {"type": "string"}}
    schema["properties"]["currency"] = {"type": "string"}
    wire = urlencode(list(_api_encode(params)))  # what goes over the wire
    pairs = [tuple(part.split("=", 1)) for part in wire.split("&")]
    from urllib.parse import unquote_plus

    decoded = [(unquote_plus(k), unquote_plus(v)) for k, v in pairs]
    assert nest(decoded, schema, same) == params


SPEC = """\
openapi: 3.0.3
info: {title: Payments, version: "1"}
paths:
  /customers:
    get:
      operationId: listCustomers
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - name: created
          in: query
          style: deepObject
          explode: true
          schema:
            anyOf:
              - {type: object, properties: {gt: {type: integer}, lt: {type: integer}}}
              - {type: integer}
        - name: expand
          in: query
          style: deepObject
          explode: true
          schema: {type: array, items: {type: string, maxLength: 20}}
        - name: tags
          in: query
          schema: {type: array, items: {type: string}}
      responses:
        "200": {description: ok}
    post:
      operationId: createCustomer
      requestBody:
        content:
          application/x-www-form-urlencoded:
            encoding:
              address: {style: deepObject, explode: true}
              metadata: {style: deepObject, explode: true}
            schema:
              type: object
              additionalProperties: false
              properties:
                email: {type: string}
                balance: {type: integer}
                address:
                  anyOf:
                    - {type: object, properties: {line1: {type: string}}}
                    - {type: string, enum: [""]}
                metadata: {type: object, additionalProperties: {type: string}}
                langs: {type: array, items: {type: string}}
      responses:
        "200": {description: ok}
  /files:
    post:
      operationId: createFile
      requestBody:
        required: true
        content:
          multipart/form-data:
            encoding:
              file_link_data: {style: deepObject, explode: true}
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary}
                purpose: {type: string}
                file_link_data:
                  type: object
                  properties: {create: {type: boolean}, expires_at: {type: integer}}
      responses:
        "200": {description: ok}
"""


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, RequestValidator]:
    path = Path(tmp_path_factory.mktemp("nested")) / "spec.yaml"
    path.write_text(textwrap.dedent(SPEC))
    spec = load_spec(path)
    return spec, RequestValidator(spec)


def data(method: str, query: Any = (), body: bytes = b"", mimetype: str = "") -> RequestData:
    return RequestData(
        method=method,
        path_params={},
        query=MultiDict(list(query)),
        headers=Headers(),
        cookies={},
        body=body,
        mimetype=mimetype.split(";")[0],
        content_type=mimetype,
    )


def check(validator: tuple[Any, RequestValidator], operation: str, request: RequestData) -> Any:
    spec, compiled = validator
    return compiled.validate(spec.by_id[operation], request)


@pytest.mark.parametrize(
    "query",
    [
        [],  # absent deepObject parameters are not an error
        [("limit", "3")],
        [("created", "5")],
        [("created[gt]", "5"), ("created[lt]", "9")],
        [("expand[0]", "a"), ("expand[1]", "b")],
        [("expand[]", "a")],
        [("tags[]", "x"), ("tags[]", "y")],  # brackets on a form-style array
    ],
)
def test_deep_object_queries_are_accepted(validator: Any, query: list) -> None:
    result = check(validator, "listCustomers", data("GET", query))
    assert result.ok, result.problems


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ([("created[gt]", "soon")], "created.gt"),
        ([("expand[0]", "x" * 21)], "expand[0]"),
        ([("limit", "x")], "limit"),  # the others are still openapi-core's
    ],
)
def test_deep_object_queries_are_still_checked(validator: Any, query: list, field: str) -> None:
    result = check(validator, "listCustomers", data("GET", query))
    assert [p.field for p in result.problems] == [field]


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"email": "a@b.c"}, {"email": "a@b.c"}),  # a field it did not send is not named
        (
            {"email": "a@b.c", "balance": 5, "metadata": {"plan": "gold"}, "langs": ["en", "fr"]},
            {"email": "a@b.c", "balance": 5, "metadata": {"plan": "gold"}, "langs": ["en", "fr"]},
        ),
        ({"address": {"line1": "1 Main St"}}, {"address": {"line1": "1 Main St"}}),
        ({"address": ""}, {"address": ""}),
    ],
)
def test_form_bodies_are_stored_as_the_json_the_schema_describes(
    validator: Any, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    body = urlencode(list(_api_encode(params))).encode()
    result = check(validator, "createCustomer", data("POST", body=body, mimetype=FORM))
    assert result.ok, result.problems
    assert result.body == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [({"balance": "lots"}, "balance"), ({"metadata": {"a": {"b": "c"}}}, "metadata.a")],
)
def test_form_bodies_are_still_checked(validator: Any, params: dict[str, Any], field: str) -> None:
    body = urlencode(list(_api_encode(params))).encode()
    result = check(validator, "createCustomer", data("POST", body=body, mimetype=FORM))
    assert [p.field for p in result.problems] == [field]


def test_multipart_with_nested_keys_and_a_file(validator: Any, tmp_path: Path) -> None:
    upload = tmp_path / "receipt.pdf"
    upload.write_bytes(b"%PDF-1.4 receipt")
    generator = MultipartDataGenerator()
    with upload.open("rb") as stream:
        generator.add_params(
            {"file": stream, "purpose": "dispute_evidence", "file_link_data": {"create": True}}
        )
    mimetype = f"multipart/form-data; boundary={generator.boundary}"
    result = check(validator, "createFile", data("POST", body=generator.get_post_data(),
                                                 mimetype=mimetype))  # fmt: skip
    assert result.ok, result.problems
    assert result.body == {
        "file": str(upload),
        "purpose": "dispute_evidence",
        "file_link_data": {"create": True},
    }


def test_an_empty_form_is_an_empty_form(validator: Any) -> None:
    """A required form body sent empty (with its Content-Type) holds only what a form cannot
    spell; it is not a missing body. ``file`` is required and has no empty value."""
    result = check(validator, "createFile", data("POST", body=b"", mimetype="multipart/form-data"))
    assert [p.field for p in result.problems] == ["file"]


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("PostCharges", "amount=0&shipping%5Bname%5D="),  # shipping.address: {}
        ("PostAccountSessions", "account="),  # components: {}
        ("PostLinkedAccountsAccountRefresh", ""),  # features: []
        ("PostSetupIntentsIntentConfirm",
         "mandate_data%5Bcustomer_acceptance%5D%5Bonline%5D=&"
         "mandate_data%5Bcustomer_acceptance%5D%5Btype%5D=online"),  # online: {}
    ],
)  # fmt: skip
def test_stripe_forms_schemathesis_sends_are_read_as_generated(
    stripe_validator: Any, operation: str, body: str
) -> None:
    request = data("POST", body=body.encode(), mimetype=FORM)
    request.path_params = {"account": "fca_1", "intent": "seti_1"}
    result = check(stripe_validator, operation, request)
    assert result.ok, result.problems


@pytest.fixture(scope="module")
def stripe_validator(corpus: Path) -> tuple[Any, RequestValidator]:
    spec = load_spec(corpus / "real" / "stripe_spec3.json")
    return spec, RequestValidator(spec)


CALLS = """\
openapi: 3.1.0
info: {title: Calls, version: "1"}
paths:
  /calls:
    post:
      operationId: createCall
      requestBody:
        required: true
        content:
          multipart/form-data:
            encoding: {session: {contentType: application/json}}
            schema:
              type: object
              required: [sdp]
              properties:
                sdp: {type: string}
                session:
                  allOf: [{$ref: "#/components/schemas/Session"}]
      responses:
        "201": {description: made}
components:
  schemas:
    Session:
      type: object
      properties: {model: {type: string}, voice: {type: string}}
"""


def test_a_json_part_whose_schema_is_a_reference_is_read_as_json(tmp_path: Path) -> None:
    """A part's schema may reach its type only through ``allOf: [$ref]`` (OpenAI's
    ``POST /realtime/calls`` session): the part is still JSON to read, not text."""
    path = tmp_path / "calls.yaml"
    path.write_text(CALLS)
    spec = load_spec(path)
    body = (b'--x\r\nContent-Disposition: form-data; name="sdp"\r\n\r\nv=0\r\n'
            b'--x\r\nContent-Disposition: form-data; name="session"\r\n'
            b'Content-Type: application/json\r\n\r\n'
            b'{"model": "gpt-realtime"}\r\n--x--\r\n')  # fmt: skip
    result = check((spec, RequestValidator(spec)), "createCall",
                   data("POST", body=body, mimetype="multipart/form-data; boundary=x"))  # fmt: skip
    assert result.ok, result.problems
    assert result.body == {"sdp": "v=0", "session": {"model": "gpt-realtime"}}
