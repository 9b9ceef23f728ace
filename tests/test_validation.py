"""The compiled fast path must never accept what openapi-core rejects."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Headers, MultiDict

from sandbox import load_spec
from sandbox.http.validation import RequestData, RequestValidator
from tests.conftest import DEFAULT_SPEC

SPEC = load_spec(DEFAULT_SPEC)
VALIDATOR = RequestValidator(SPEC)


def request_data(query: dict | None = None, body: bytes = b"", mimetype: str = "") -> RequestData:
    return RequestData(
        method="GET",
        path_params={},
        query=MultiDict(query or {}),
        headers=Headers(),
        cookies={},
        body=body,
        mimetype=mimetype,
        content_type=mimetype,
    )


def verdicts(operation_id: str, data: RequestData) -> tuple[bool, bool]:
    compiled = VALIDATOR.for_operation(SPEC.by_id[operation_id])
    fast = compiled.validate(data).ok
    core = compiled._core_verdict(data).ok
    return fast, core


_query_values = st.one_of(
    st.integers(-5, 200).map(str),
    st.sampled_from(["", "1.5", "1e3", "+3", " 2", "0x10", "true", "active", "invited", "nope"]),
    st.text(max_size=6),
    st.emails(),
)


@settings(max_examples=400, deadline=None)
@given(query=st.dictionaries(st.sampled_from(["page", "limit", "email", "status"]), _query_values))
def test_query_verdicts_agree(query: dict) -> None:
    fast, core = verdicts("listUsers", request_data(query))
    assert fast == core, query


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
_users = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=120), _json_values),
        "email": st.one_of(st.emails(), st.text(max_size=10)),
        "role": st.sampled_from(["admin", "member", "viewer", "owner"]),
        "phone": st.one_of(st.none(), st.text(max_size=20)),
        "extra": _json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(body=st.one_of(_users, _json_values))
def test_body_verdicts_agree(body: object) -> None:
    data = request_data(body=json.dumps(body).encode(), mimetype="application/json")
    fast, core = verdicts("createUser", data)
    assert fast == core, body


@pytest.mark.parametrize(
    ("query", "ok"),
    [({"page": "2", "limit": "20"}, True), ({"limit": "0"}, False), ({"status": "active"}, True)],
)
def test_known_query_verdicts(query: dict, ok: bool) -> None:
    assert verdicts("listUsers", request_data(query)) == (ok, ok)


UPLOAD = """\
openapi: 3.0.3
info: {title: Assets, version: "1"}
paths:
  /assets:
    post:
      operationId: upload
      requestBody:
        content:
          "*/*": {schema: {type: string, description: the raw file}}
          image/*: {schema: {type: string, format: binary}}
      responses:
        "201": {description: made}
"""


@pytest.mark.parametrize(
    ("mimetype", "body"),
    [("application/json", b'""'), ("application/zip", b"PK\x03\x04"), ("image/png", b"\x89PNG")],
)
def test_a_wildcard_media_type_with_a_string_schema_takes_the_body_as_it_is(
    tmp_path, mimetype: str, body: bytes
) -> None:
    """GitHub's release asset is ``*/*: {type: string}``: whatever is sent, JSON too, is the
    raw file (Schemathesis sends ``""`` as application/json; it was refused)."""
    path = tmp_path / "assets.yaml"
    path.write_text(UPLOAD)
    spec = load_spec(path)
    data = request_data(body=body, mimetype=mimetype)
    data.method = "POST"
    result = RequestValidator(spec).validate(spec.by_id["upload"], data)
    assert result.ok, result.problems
    assert result.body == body
