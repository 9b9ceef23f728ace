"""Stateful resources: what a client creates it can read, list, change and delete."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sandbox import create_app, load_settings
from tests.conftest import DEFAULT_SPEC

NEW = {
    "users": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "data": {"name": "Sample Dataset", "values": [1, 2, 3, 4, 5]},
    "orders": {"userId": "123", "orderItems": [{"productId": "456", "quantity": 2}]},
}
CHANGE = {
    "users": {"name": "Ada King"},
    "data": {"values": [9, 8]},
    "orders": {"status": "shipped"},
}


def make_app(state: str = ":memory:", **overrides):
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": state, **overrides})
    app = create_app(DEFAULT_SPEC, settings)
    return app, {"Authorization": f"Bearer {settings.default_api_key}"}


@pytest.fixture
def stateful():
    app, headers = make_app(seed=11)
    return app.test_client(), headers


@pytest.mark.parametrize("resource", sorted(NEW))
def test_crud_round_trip(stateful, resource: str) -> None:
    client, auth = stateful
    created = client.post(f"/v1/{resource}", json=NEW[resource], headers=auth)
    assert created.status_code == 201, created.data
    item = created.get_json()["data"]
    for field, value in NEW[resource].items():
        assert item[field] == value
    assert created.headers["Location"].endswith(f"/v1/{resource}/{item['id']}")
    url = f"/v1/{resource}/{item['id']}"
    assert client.get(url, headers=auth).get_json()["data"] == item

    patched = client.patch(url, json=CHANGE[resource], headers=auth)
    assert patched.status_code == 200, patched.data
    after = client.get(url, headers=auth).get_json()["data"]
    for field, value in CHANGE[resource].items():
        assert after[field] == value
    assert after["id"] == item["id"]

    replaced = client.put(url, json=NEW[resource], headers=auth)
    assert replaced.status_code == 200, replaced.data
    for field, value in NEW[resource].items():
        assert client.get(url, headers=auth).get_json()["data"][field] == value

    assert client.delete(url, headers=auth).status_code == 204
    assert client.get(url, headers=auth).status_code == 404
    assert client.delete(url, headers=auth).status_code == 404


def test_created_items_appear_in_the_list(stateful) -> None:
    client, auth = stateful
    before = client.get("/v1/data?limit=1", headers=auth).get_json()["meta"]["total"]
    made = client.post("/v1/data", json=NEW["data"], headers=auth).get_json()["data"]
    body = client.get(f"/v1/data?limit=1&page={before + 1}", headers=auth).get_json()
    assert body["meta"]["total"] == before + 1
    assert body["data"] == [made]


def test_seed_data_is_there_and_pages_walk_without_duplicates(stateful) -> None:
    client, auth = stateful
    first = client.get("/v1/items?limit=7", headers=auth).get_json()
    assert first["meta"] == {**first["meta"], "page": 1, "limit": 7, "total": 25, "totalPages": 4}
    seen = []
    for page in range(1, 5):
        body = client.get(f"/v1/items?limit=7&page={page}", headers=auth).get_json()
        assert len(body["data"]) <= 7
        seen += [item["id"] for item in body["data"]]
    assert len(seen) == len(set(seen)) == 25


def test_the_seed_guides_pagination_loop_terminates(stateful) -> None:
    """guide 003: GET /items?page=N until data is empty."""
    client, auth = stateful
    page, items = 1, []
    while page < 100:
        data = client.get("/v1/items", query_string={"page": page}, headers=auth).get_json()
        if not data["data"]:
            break
        items.extend(data["data"])
        page += 1
    assert page < 100
    assert len(items) == len({i["id"] for i in items}) == 25


def test_filters_match_fields(stateful) -> None:
    client, auth = stateful
    client.post("/v1/users", json={**NEW["users"], "status": "suspended"}, headers=auth)
    body = client.get("/v1/users?status=suspended&limit=100", headers=auth).get_json()
    assert body["data"] and all(u["status"] == "suspended" for u in body["data"])
    by_email = client.get("/v1/users?email=ada@example.com", headers=auth).get_json()
    assert [u["email"] for u in by_email["data"]] == ["ada@example.com"]


def test_unique_email_is_409(stateful) -> None:
    client, auth = stateful
    assert client.post("/v1/users", json=NEW["users"], headers=auth).status_code == 201
    again = client.post("/v1/users", json={**NEW["users"], "name": "Other"}, headers=auth)
    assert again.status_code == 409
    assert again.get_json()["error"]["details"][0]["field"] == "email"


def test_bulk_creates_all_or_nothing(stateful) -> None:
    client, auth = stateful
    users = [{"name": f"U {i}", "email": f"u{i}@example.com"} for i in range(3)]
    made = client.post("/v1/users/bulk", json={"users": users}, headers=auth)
    assert made.status_code == 201
    assert [u["email"] for u in made.get_json()["data"]] == [u["email"] for u in users]
    clash = client.post("/v1/users/bulk", json={"users": [{"name": "X", "email": "new@example.com"},
                                                          users[0]]}, headers=auth)  # fmt: skip
    assert clash.status_code == 409
    assert client.get("/v1/users?email=new@example.com", headers=auth).get_json()["data"] == []


def test_tenants_do_not_see_each_other(tmp_path: Path) -> None:
    app, first = make_app(api_keys=["sk_test_alpha", "sk_test_beta"])
    client = app.test_client()
    second = {"Authorization": "Bearer sk_test_beta"}
    first = {"Authorization": "Bearer sk_test_alpha"}
    item = client.post("/v1/data", json=NEW["data"], headers=first).get_json()["data"]
    assert client.get(f"/v1/data/{item['id']}", headers=second).status_code == 404
    assert client.delete(f"/v1/data/{item['id']}", headers=second).status_code == 404
    assert (
        client.patch(f"/v1/data/{item['id']}", json={"name": "x"}, headers=second).status_code
        == 404
    )
    assert client.get(f"/v1/data/{item['id']}", headers=first).status_code == 200


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    app, auth = make_app(state)
    item = app.test_client().post("/v1/data", json=NEW["data"], headers=auth).get_json()["data"]
    again, auth = make_app(state)
    assert (
        again.test_client().get(f"/v1/data/{item['id']}", headers=auth).get_json()["data"] == item
    )


def test_concurrent_creates_lose_nothing(tmp_path: Path) -> None:
    app, auth = make_app(str(tmp_path / "state.sqlite"))
    client = app.test_client()
    before = client.get("/v1/data?limit=1", headers=auth).get_json()["meta"]["total"]
    failures: list[int] = []

    def create(n: int) -> None:
        local = app.test_client()
        for i in range(10):
            response = local.post(
                "/v1/data", json={"name": f"t{n}-{i}", "values": [i]}, headers=auth
            )
            if response.status_code != 201:
                failures.append(response.status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert client.get("/v1/data?limit=1", headers=auth).get_json()["meta"]["total"] == before + 80


def test_reset_restores_the_seed_state(stateful) -> None:
    client, auth = stateful
    first_page = client.get("/v1/items", headers=auth).get_json()["data"]
    client.post("/v1/data", json=NEW["data"], headers=auth)
    assert client.post("/__sandbox/reset").status_code == 200
    assert client.get("/v1/data?limit=1", headers=auth).get_json()["meta"]["total"] == 25
    assert client.get("/v1/items", headers=auth).get_json()["data"] == first_page


# 3.0: a required readOnly field is required in responses only
ACCOUNTS = """
openapi: 3.0.3
info: {title: Accounts, version: "1"}
paths:
  /accounts:
    post:
      operationId: createAccount
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Account"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Account"}
  /accounts/{id}:
    get:
      operationId: getAccount
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Account"}
        "404": {description: missing}
components:
  schemas:
    Account:
      type: object
      required: [id, login]
      properties:
        id: {type: string, readOnly: true}
        login: {type: string}
        password: {type: string, writeOnly: true, minLength: 8}
"""


def test_writeonly_fields_are_stored_but_never_returned(tmp_path: Path) -> None:
    spec = tmp_path / "accounts.yaml"
    spec.write_text(ACCOUNTS)
    app = create_app(spec, load_settings(spec, environ={}, overrides={"state": ":memory:"}))
    client = app.test_client()
    made = client.post("/accounts", json={"login": "ada", "password": "correct horse"})
    assert made.status_code == 201, made.data
    assert "password" not in made.get_json()
    fetched = client.get(f"/accounts/{made.get_json()['id']}").get_json()
    assert fetched == made.get_json()
    assert "password" not in fetched
    assert client.get("/accounts/nope").status_code == 404


def test_repeating_a_seeded_create_gives_new_ids(stateful) -> None:
    client, auth = stateful
    users = [{"name": f"R {i}", "email": f"r{i}@example.com"} for i in range(4)]
    first = client.post("/v1/data", json=NEW["data"], headers=auth).get_json()["data"]["id"]
    second = client.post("/v1/data", json=NEW["data"], headers=auth).get_json()["data"]["id"]
    assert first != second
    made = client.post("/v1/users/bulk", json={"users": users}, headers=auth)
    assert made.status_code == 201
    for user in users:
        user["email"] = "x" + user["email"]
    again = client.post("/v1/users/bulk", json={"users": users}, headers=auth)
    assert again.status_code == 201, again.data
    ids = {u["id"] for u in made.get_json()["data"]} | {u["id"] for u in again.get_json()["data"]}
    assert len(ids) == 8


PAGINATED = """
openapi: 3.0.3
info: {title: Styles, version: "1"}
paths:
  /charges:
    get:
      operationId: listCharges
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 10}}
        - {name: starting_after, in: query, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [data, has_more]
                properties:
                  object: {type: string, enum: [list]}
                  data: {type: array, items: {$ref: "#/components/schemas/Thing"}}
                  has_more: {type: boolean}
  /charges/{id}:
    get:
      operationId: getCharge
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}
        "404": {description: missing}
  /events:
    get:
      operationId: listEvents
      parameters:
        - {name: offset, in: query, schema: {type: integer}}
        - {name: limit, in: query, schema: {type: integer}}
        - {name: cursor, in: query, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [items]
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/Thing"}}
                  next_cursor: {type: string, nullable: true}
components:
  schemas:
    Thing:
      type: object
      required: [id]
      properties: {id: {type: string}, amount: {type: integer}}
"""


def walk(client, first: str, next_url) -> list[str]:
    seen, url = [], first
    for _ in range(50):
        body = client.get(url).get_json()
        seen += [item["id"] for item in (body["data"] if "data" in body else body["items"])]
        url = next_url(body)
        if url is None:
            return seen
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("records", [0, 1, 7, 25])
def test_cursor_and_offset_styles_walk_every_record_once(tmp_path: Path, records: int) -> None:
    spec = tmp_path / "styles.yaml"
    spec.write_text(PAGINATED)
    settings = load_settings(
        spec, environ={}, overrides={"state": ":memory:", "seed_records": records}
    )
    client = create_app(spec, settings).test_client()

    stripe = walk(
        client,
        "/charges?limit=3",
        lambda b: (
            f"/charges?limit=3&starting_after={b['data'][-1]['id']}" if b["has_more"] else None
        ),
    )
    assert len(stripe) == len(set(stripe)) == records

    cursors = walk(
        client,
        "/events?limit=4",
        lambda b: f"/events?limit=4&cursor={b['next_cursor']}" if b.get("next_cursor") else None,
    )
    assert len(cursors) == len(set(cursors)) == records
    by_offset = []
    for offset in range(0, records + 4, 4):
        by_offset += [
            i["id"] for i in client.get(f"/events?limit=4&offset={offset}").get_json()["items"]
        ]
    assert by_offset == cursors


def test_users_sort_as_the_spec_declares(stateful) -> None:
    client, auth = stateful
    body = client.get("/v1/users?sort=-created_at&limit=100", headers=auth).get_json()
    stamps = [u["created_at"] for u in body["data"]]
    assert len(stamps) == 25 and stamps == sorted(stamps, reverse=True)
    by_name = client.get("/v1/users?sort=name,-email&limit=100", headers=auth).get_json()["data"]
    assert [u["name"] for u in by_name] == sorted(u["name"] for u in by_name)
    bad = client.get("/v1/users?sort=password", headers=auth)
    assert bad.status_code == 400
    assert bad.get_json()["error"]["details"][0]["field"] == "sort"


def test_stateless_mode_stores_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    app, auth = make_app(str(state), stateful=False)
    client = app.test_client()
    made = client.post("/v1/users", json=NEW["users"], headers=auth)
    assert made.status_code == 201
    fetched = client.get(f"/v1/users/{made.get_json()['data']['id']}", headers=auth)
    assert fetched.status_code == 200  # generated for any id, as a pure mock answers
    assert fetched.get_json()["data"]["email"] != NEW["users"]["email"]
    assert app.extensions["sandbox"].store is None
