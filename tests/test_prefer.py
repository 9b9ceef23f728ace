"""Prism-compatible response selection: Prefer code=, example=, dynamic=, and combinations."""

from __future__ import annotations

import pytest

from sandbox import load_spec
from tests.conftest import DEFAULT_SPEC, signed_in_client


@pytest.fixture
def client(tmp_path):
    return signed_in_client(tmp_path)


def test_code_picks_a_declared_error_and_its_schema(client) -> None:
    response = client.get("/v1/users/usr_whatever", headers={"Prefer": "code=404"})
    assert response.status_code == 404
    assert response.json["status"] == "error" and response.json["error"]["code"]
    assert response.headers["Preference-Applied"] == "code=404"
    assert response.headers["X-RateLimit-Remaining"]  # still a rate-limited call


def test_code_does_not_touch_the_store(client) -> None:
    before = client.get("/v1/users").json["meta"]["total"]
    made = client.post(
        "/v1/users", json={"name": "Ann Lee", "email": "ann@example.com"},
        headers={"Prefer": "code=201"},
    )  # fmt: skip
    assert made.status_code == 201 and made.json["data"]["id"].startswith("usr_")
    assert client.get("/v1/users").json["meta"]["total"] == before


def test_example_by_name_and_with_a_code(client) -> None:
    named = client.get("/v1/users", headers={"Prefer": "example=default"})
    assert named.status_code == 200
    assert named.json["data"][0]["name"] == "Jane Cooper"  # the spec's example, verbatim
    conflict = client.post(
        "/v1/users", json={"name": "Ann Lee", "email": "ann@example.com"},
        headers={"Prefer": "code=409, example=default"},
    )  # fmt: skip
    assert conflict.status_code == 409
    assert conflict.json["error"] == {
        "code": "CONFLICT",
        "message": "A user with this email already exists",
        "details": [{"field": "email", "message": "Already in use"}],
    }
    assert conflict.headers["Preference-Applied"] == "code=409, example=default"


def test_dynamic_false_is_static_and_dynamic_true_varies(client) -> None:
    static = [client.get("/v1/items", headers={"Prefer": "dynamic=false"}).json for _ in range(2)]
    assert static[0] == static[1]
    spec = load_spec(DEFAULT_SPEC)
    ok = spec.deref(spec.by_id["listItems"].responses["200"])
    example = next(iter(ok["content"]["application/json"]["examples"].values()))["value"]
    assert static[0] == example
    dynamic = [client.get("/v1/items", headers={"Prefer": "dynamic=true"}).json for _ in range(3)]
    assert len({str(d) for d in dynamic}) > 1


@pytest.mark.parametrize(
    ("prefer", "message"),
    [
        ("code=418", "declares no such response"),
        ("example=nope", "its examples: default"),
        ("code=abc", "not an HTTP status"),
        ("dynamic=maybe", "true or false"),
    ],
)
def test_unsatisfiable_preferences_say_why(client, prefer, message) -> None:
    response = client.get("/v1/users", headers={"Prefer": prefer})
    assert response.status_code == 400
    assert message in response.json["error"]["message"]


def test_other_preferences_and_invalid_requests_are_not_affected(client) -> None:
    assert client.get("/v1/users", headers={"Prefer": "return=minimal"}).status_code == 200
    # validation still comes first, as in Prism
    bad = client.get("/v1/users?limit=0", headers={"Prefer": "code=200"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("prefer", "status", "distinct"),
    [
        ("code=404, dynamic=false", 404, 1),  # the declared example, every time
        ("code=404; dynamic=false", 404, 1),  # Prism also reads ';'
        ("code=404, dynamic=true", 404, None),  # generated from the 404 schema, fresh each time
        ("example=default, dynamic=true", 200, 1),  # a named example is verbatim
        ("code=200, example=default", 200, 1),
        ("code=200, example=default, dynamic=false", 200, 1),
    ],
)
def test_preferences_combine(client, prefer, status, distinct) -> None:
    answers = [client.get("/v1/users/usr_x", headers={"Prefer": prefer}) for _ in range(6)]
    assert {a.status_code for a in answers} == {status}
    bodies = {a.get_data() for a in answers}
    assert len(bodies) == distinct if distinct else len(bodies) > 1
    assert answers[0].headers["Preference-Applied"] == prefer.replace(";", ",")
    assert answers[0].json["status"] == ("success" if status == 200 else "error")
