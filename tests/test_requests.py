"""The request pipeline as a client meets it: statuses, bodies, headers, and no 500s."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import create_app, load_settings
from tests.conftest import DEFAULT_SPEC
from tests.spec_helpers import served_text

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def assert_error(response: Any, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "error"
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body


def test_list_users_is_a_page_of_realistic_users(client, auth) -> None:
    response = client.get("/v1/users", headers=auth)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "success"
    assert isinstance(body["data"], list)
    for user in body["data"]:
        assert user["id"].startswith("usr_")
        assert "@" in user["email"] and "." in user["email"].split("@")[1]
    for header in RATE_HEADERS:
        assert response.headers[header].isdigit()


def test_unknown_item_is_404_in_the_spec_error_shape(client, auth) -> None:
    body = assert_error(client.get("/v1/users/usr_AbCdEfGhIjKl", headers=auth), 404, "NOT_FOUND")
    assert "usr_AbCdEfGhIjKl" in body["error"]["message"]


def test_create_returns_201_with_location(client, auth) -> None:
    response = client.post(
        "/v1/users", json={"name": "Ada Lovelace", "email": "ada@example.com"}, headers=auth
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].startswith("/v1/users/")
    assert response.headers["Location"].endswith(body["data"]["id"])


def test_delete_is_204_without_body_or_content_type(client, auth) -> None:
    created = client.post("/v1/data", json={"name": "x", "values": [1]}, headers=auth).get_json()
    response = client.delete(f"/v1/data/{created['data']['id']}", headers=auth)
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers


def test_same_request_same_body_with_a_seed() -> None:
    bodies = []
    for _ in range(2):
        app = create_app(
            DEFAULT_SPEC,
            load_settings(DEFAULT_SPEC, environ={}, overrides={"seed": 42, "state": ":memory:"}),
        )
        key = app.extensions["sandbox"].settings.default_api_key
        response = app.test_client().get(
            "/v1/users?page=2", headers={"Authorization": f"Bearer {key}"}
        )
        bodies.append(response.get_json())
    assert bodies[0] == bodies[1]


# -- authentication ------------------------------------------------------------------------


def test_missing_credentials_is_401_with_challenge_and_rate_headers(client) -> None:
    response = client.get("/v1/users")
    body = assert_error(response, 401, "authentication_required")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body["error"]["message"]
    for header in RATE_HEADERS:
        assert header in response.headers


def test_unknown_key_is_401_invalid_api_key(client) -> None:
    response = client.get("/v1/users", headers={"Authorization": "Bearer sk_test_nope"})
    assert_error(response, 401, "invalid_api_key")


def test_open_operations_need_no_credentials(client) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "healthy"


# -- routing ---------------------------------------------------------------------------------


def test_unknown_path_is_404_in_the_spec_error_shape(client, auth) -> None:
    body = assert_error(client.get("/v1/nothing-here", headers=auth), 404, "NOT_FOUND")
    assert "/v1/nothing-here" in body["error"]["message"]


def test_outside_base_path_says_where_the_api_is(client) -> None:
    body = assert_error(client.get("/users"), 404)
    assert "/v1/" in body["error"]["message"]


def test_undeclared_method_is_405_with_allow(client, auth) -> None:
    response = client.patch("/v1/items", headers=auth)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "GET"


def test_literal_paths_win_over_templates(client, auth) -> None:
    response = client.post(
        "/v1/users/bulk", json={"users": [{"name": "A B", "email": "a@b.io"}]}, headers=auth
    )
    assert response.status_code == 201
    assert isinstance(response.get_json()["data"], list)


def test_sandbox_health_outside_the_api(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "healthy"


def test_cors_preflight(client) -> None:
    response = client.options(
        "/v1/users",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 204
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# -- validation ------------------------------------------------------------------------------


def test_every_field_problem_is_reported(client, auth) -> None:
    response = client.post(
        "/v1/users",
        json={"name": "", "email": "not-an-email", "role": "god", "surprise": 1},
        headers=auth,
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    fields = {d["field"]: d["message"] for d in body["error"]["details"]}
    assert set(fields) >= {"name", "email", "role", "surprise"}
    assert "email" in fields["email"]
    assert "admin" in fields["role"]


def test_missing_required_field(client, auth) -> None:
    body = assert_error(client.post("/v1/users", json={"name": "Ada"}, headers=auth), 400)
    assert {"field": "email", "message": "is required"} in body["error"]["details"]


def test_nested_field_paths(client, auth) -> None:
    order = {"userId": "usr_1", "orderItems": [{"productId": "p", "quantity": 0}]}
    body = assert_error(client.post("/v1/orders", json=order, headers=auth), 400)
    assert body["error"]["details"][0]["field"] == "orderItems[0].quantity"


def test_query_parameter_bounds_and_types(client, auth) -> None:
    body = assert_error(client.get("/v1/users?limit=500", headers=auth), 400)
    assert body["error"]["details"][0]["field"] == "limit"
    body = assert_error(client.get("/v1/users?page=abc", headers=auth), 400)
    assert "integer" in body["error"]["details"][0]["message"]


def test_malformed_json_is_400_with_position(client, auth) -> None:
    response = client.post(
        "/v1/users", data=b'{"name": "x",', headers={**auth, "Content-Type": "application/json"}
    )
    body = assert_error(response, 400)
    assert body["error"]["details"][0]["field"] == "body"
    assert "malformed JSON at line 1" in body["error"]["details"][0]["message"]


def test_wrong_content_type_is_415(client, auth) -> None:
    response = client.post(
        "/v1/users", data="name=x", headers={**auth, "Content-Type": "text/plain"}
    )
    body = assert_error(response, 415)
    assert "application/json" in body["error"]["message"]


def test_missing_body_is_400(client, auth) -> None:
    body = assert_error(client.post("/v1/users", headers=auth), 400)
    assert body["error"]["details"][0]["field"] == "body"


def test_huge_body_is_413(auth) -> None:
    settings_ = load_settings(
        DEFAULT_SPEC, environ={}, overrides={"max_body_bytes": 1024, "state": ":memory:"}
    )
    app = create_app(DEFAULT_SPEC, settings_)
    key = settings_.default_api_key
    response = app.test_client().post(
        "/v1/users",
        data=json.dumps({"name": "x" * 5000, "email": "a@b.io"}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    body = assert_error(response, 413)
    assert "1024 bytes" in body["error"]["message"]


def test_unacceptable_accept_is_406(client, auth) -> None:
    assert_error(client.get("/v1/users", headers={**auth, "Accept": "application/xml"}), 406)


def test_oauth_token_accepts_form_and_json_bodies(client, default_app) -> None:
    client_id, secret = default_app.extensions["sandbox"].settings.default_oauth_client
    sent = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    form = client.post("/v1/oauth/token", data=sent)
    assert form.status_code == 200, form.data
    as_json = client.post("/v1/oauth/token", json=sent)
    assert as_json.status_code == 200, as_json.data


def test_oauth_errors_use_the_rfc_6749_shape(client) -> None:
    response = client.post("/v1/oauth/token", json={"grant_type": "password"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "unsupported_grant_type"
    assert "grant_type" in body["error_description"]


# -- never a 500 -----------------------------------------------------------------------------

_methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
_paths = st.sampled_from(
    [
        "/v1/users",
        "/v1/users/usr_1",
        "/v1/orders",
        "/v1/users/bulk",
        "/v1/data/x",
        "/v1/items",
        "/v1/webhooks",
        "/v1/oauth/token",
        "/v1/",
        "/v1/users/%00",
        "/v1/users/" + "a" * 300,
        "//v1//users",
    ]
)
_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=8,
    ).map(lambda v: json.dumps(v).encode()),
)
_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
        "application/json; charset=latin-1",
    ]
)
_queries = st.dictionaries(
    st.sampled_from(["page", "limit", "email", "status", "x"]), st.text(max_size=8), max_size=3
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=_methods,
    path=_paths,
    body=_bodies,
    content_type=_types,
    query=_queries,
    authed=st.booleans(),
)
def test_garbage_never_causes_a_server_error(
    client, auth, method, path, body, content_type, query, authed
) -> None:
    headers = {**(auth if authed else {}), "Content-Type": content_type}
    response = client.open(path, method=method, data=body, headers=headers, query_string=query)
    assert response.status_code < 500, response.data[:400]
    if response.status_code >= 400 and method != "HEAD":
        body = response.get_json()
        # the spec's own shape: RFC 6749 on /oauth/*, the envelope everywhere else
        assert body.get("error_description") or body["error"]["message"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer    ", "Basic !!!", "bearer x y", "\x00"])
def test_odd_authorization_headers_are_401_not_500(client, header) -> None:
    assert_error(client.get("/v1/users", headers={"Authorization": header}), 401)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json"],
)
@pytest.mark.parametrize("path", ["/v1/oauth/token", "/v1/users"])
def test_bodies_that_are_not_utf8_get_a_clear_4xx(client, auth, content_type, path) -> None:
    response = client.post(
        path, data=b"\x80abc=\xff", headers={**auth, "Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500
    body = response.get_json()
    text = body.get("error_description") or body["error"]["message"]
    assert "UTF-8" in text or "not accepted" in text


def test_each_missing_field_is_named_once(client, auth) -> None:
    body = assert_error(client.post("/v1/users", json={"bogus": 1}, headers=auth), 400)
    assert body["error"]["details"] == [
        {"field": "name", "message": "is required"},
        {"field": "email", "message": "is required"},
        {"field": "bogus", "message": "is not a known field"},
    ]


PETS = """
openapi: 3.0.3
info: {title: pets, version: "1"}
paths:
  /pets:
    get:
      responses:
        "200":
          description: all
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}}
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [id], properties: {id: {type: string}}}
      responses:
        "201":
          description: made
          headers: {Location: {schema: {type: string}}}
          content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
  /pets/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get:
      responses:
        "200":
          description: one
          content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
components:
  schemas:
    Pet: {type: object, required: [id], properties: {id: {type: string}}}
"""


@pytest.mark.parametrize(("chosen", "location"), [
    ("rex-1", "/pets/rex-1"), ("fido é", "/pets/fido%20%C3%A9"), ("a?b#c", "/pets/a%3Fb%23c"),
    ("100%", "/pets/100%25"), ("x:y@z", "/pets/x:y@z"),
])  # fmt: skip
def test_a_created_location_is_a_uri_whatever_id_the_client_chose(
    tmp_path, chosen: str, location: str
) -> None:
    """A created record's Location reads it back: the id is one path segment, percent-encoded
    ("a?b" was sent as a path and a query). The fast path sends a Location that is already a
    plain URI as it is and leaves any other to werkzeug's IRI-to-URI quoting."""
    client = served_text(tmp_path, PETS, seed_records=0)[0]
    made = client.post("/pets", json={"id": chosen})
    assert made.status_code == 201, made.data[:300]
    assert made.headers["Location"] == location
    assert made.headers["Content-Length"] == str(len(made.data))
    assert client.get(made.headers["Location"]).get_json()["id"] == chosen


def test_the_fast_path_s_query_arguments_answer_as_werkzeug_s() -> None:
    """``QueryArgs.get`` skips werkzeug's raise-and-catch for a missing name; what it
    answers is werkzeug's own, for every kind of look-up."""
    from werkzeug.datastructures import ImmutableMultiDict

    from sandbox.app.fastpath import QueryArgs

    pairs = [("page", "2"), ("tag", "a"), ("tag", "b"), ("limit", "x"), ("empty", "")]
    ours, theirs = QueryArgs(pairs), ImmutableMultiDict(pairs)
    for name in ("page", "tag", "limit", "empty", "missing"):
        for kwargs in ({}, {"default": "d"}, {"type": int}, {"default": 7, "type": int}):
            assert ours.get(name, **kwargs) == theirs.get(name, **kwargs), (name, kwargs)
    assert ours.getlist("tag") == ["a", "b"] and dict(ours) == dict(theirs)


TRANSCRIBE = """
openapi: 3.1.0
info: {title: audio, version: "1"}
paths:
  /transcriptions:
    post:
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary}
                chunking_strategy:
                  anyOf:
                    - {type: string, enum: [auto]}
                    - type: object
                      required: [type]
                      properties: {type: {type: string, enum: [server_vad]}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
"""


def test_a_multipart_part_that_may_be_an_object_is_read_as_json(tmp_path: Path) -> None:
    """OpenAI's ``chunking_strategy`` is ``"auto"`` or an object; a multipart part holding
    an object is JSON (OpenAPI's default content type for it), so ``{"type": "server_vad"}``
    is the object, while ``auto`` stays the string and a wrong object is still refused."""
    client, _ = served_text(tmp_path, TRANSCRIBE)

    def send(strategy: str) -> int:
        form = {"file": (io.BytesIO(b"RIFF"), "a.wav"), "chunking_strategy": strategy}
        return client.post("/transcriptions", data=form).status_code

    assert send('{"type": "server_vad"}') == 200
    assert send("auto") == 200
    assert send('{"type": "loud"}') == 400
