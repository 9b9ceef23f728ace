"""Resources as real vendors' specs describe them (issue 18): ids not named ``id``, item paths
with a suffix, collections and items at unrelated paths, answers wrapped in ``oneOf``, POST
updates, delete answers, uploads, 404s the operation forgot to declare and paging links.

Each spec here is small and synthetic, written to state one rule; the vendors' own specs and
SDKs are exercised by tests/e2e/test_vendor_sdks.py.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from sandbox import create_app, load_settings
from sandbox.resources.inference import infer_resources
from sandbox.spec.links import link_form_conflicts
from sandbox.spec.model import load_spec
from tests.spec_helpers import served_text

VENDOR = """
openapi: 3.0.3
info: {title: vendor, version: "1"}
paths:
  /Accounts/{AccountSid}/Messages.json:
    get:
      operationId: ListMessage
      parameters:
        - {name: AccountSid, in: path, required: true, schema: {type: string}}
        - {name: PageSize, in: query, schema: {type: integer, minimum: 1}}
        - {name: Page, in: query, schema: {type: integer, minimum: 0}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  messages: {type: array, items: {$ref: "#/components/schemas/Message"}}
                  page: {type: integer}
                  page_size: {type: integer}
                  next_page_uri: {type: string, nullable: true}
                  uri: {type: string}
    post:
      operationId: CreateMessage
      parameters: [{name: AccountSid, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                To: {type: string}
                Body: {type: string}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Message"}}}
  /Accounts/{AccountSid}/Messages/{Sid}.json:
    parameters:
      - {name: AccountSid, in: path, required: true, schema: {type: string}}
      - {name: Sid, in: path, required: true, schema: {type: string}}
    get:
      operationId: FetchMessage
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Message"}}}
    post:
      operationId: UpdateMessage
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {Body: {type: string}}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Message"}}}
    delete:
      operationId: DeleteMessage
      responses:
        "204": {description: deleted}
  /me/lists:
    get:
      operationId: get-my-lists
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: 20}}
        - {name: offset, in: query, schema: {type: integer, default: 0}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [items, next, total]
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/List"}}
                  next: {type: string, nullable: true}
                  offset: {type: integer}
                  total: {type: integer}
    post:
      operationId: create-list
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/List"}}}
  /lists/{list_id}:
    parameters: [{name: list_id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: get-list
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/List"}}}
    post:
      operationId: PostListsList
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {name: {type: string}, color: {type: string}}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/List"}}}
    delete:
      operationId: DeleteList
      responses:
        "200":
          description: deleted
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  deleted: {type: boolean}
                  object: {type: string, enum: [list.deleted]}
  /servers:
    post:
      operationId: createServer
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
      responses:
        "202":
          description: accepted
          content:
            application/json:
              schema:
                oneOf:
                  - type: object
                    properties: {server: {$ref: "#/components/schemas/Server"}}
                  - type: object
                    properties:
                      servers: {type: array, items: {$ref: "#/components/schemas/Server"}}
  /servers/{server_id}:
    get:
      operationId: getServer
      parameters: [{name: server_id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties: {server: {$ref: "#/components/schemas/Server"}}
  /tags:
    get:
      operationId: listTags
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Tag"}}
    post:
      operationId: createTag
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Tag"}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Tag"}}}
  /tags/{name}:
    get:
      operationId: getTag
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Tag"}}}
components:
  schemas:
    Message:
      type: object
      properties:
        sid: {type: string}
        to: {type: string}
        body: {type: string}
        date_created: {type: string}
    List:
      type: object
      properties:
        id: {type: string}
        name: {type: string}
        color: {type: string}
        public: {type: boolean}
    Server:
      type: object
      properties:
        id: {type: integer}
        name: {type: string}
    Tag:
      type: object
      properties:
        name: {type: string}
        count: {type: integer}
"""


@pytest.fixture
def vendor_spec(tmp_path: Path) -> Path:
    path = tmp_path / "vendor.yaml"
    path.write_text(VENDOR)
    return path


@pytest.fixture
def bound(vendor_spec: Path):
    _resources, bindings = infer_resources(load_spec(vendor_spec))
    return {key: (b.resource, b.action) for key, b in bindings.items()}


def app_client(spec: Path, **overrides):
    settings = load_settings(
        spec, environ={}, overrides={"state": ":memory:", "seed": 3, **overrides}
    )
    return create_app(spec, settings).test_client()


# --- item 1: resources recognised ----------------------------------------------------------


def test_an_item_path_with_a_suffix_and_an_id_named_by_the_parameter(bound) -> None:
    resource, action = bound["FetchMessage"]
    assert action == "read"
    assert resource.id_field == "sid"  # {Sid} names `sid`: case does not count
    assert resource.collection_path == "/Accounts/{AccountSid}/Messages.json"
    assert bound["CreateMessage"] == (resource, "create")
    assert bound["ListMessage"] == (resource, "list")


def test_the_id_field_is_what_the_parameter_names_by_meaning(bound) -> None:
    assert bound["get-list"][0].id_field == "id"  # {list_id} of a list is its id
    assert bound["getTag"][0].id_field == "name"  # {name} of a tag is its name


def test_a_collection_at_another_path_is_bound_by_name_and_schema(bound) -> None:
    resource, _ = bound["get-list"]
    assert bound["create-list"] == (resource, "create")
    assert bound["get-my-lists"] == (resource, "list")


def test_a_one_or_many_answer_binds_through_its_branch(bound) -> None:
    resource, action = bound["createServer"]
    assert (resource.name, action) == ("servers", "create")


# --- item 2: POST on an item path --------------------------------------------------------


def test_a_post_on_an_item_is_an_update_when_it_says_so_or_sends_a_partial(bound) -> None:
    assert bound["UpdateMessage"][1] == "update"  # its operationId says so
    assert bound["PostListsList"][1] == "update"  # its body is a partial of the item


def test_sandbox_check_lists_the_resources_and_why(vendor_spec: Path) -> None:
    from click.testing import CliRunner

    from sandbox.cli import main

    done = CliRunner().invoke(main, ["check", str(vendor_spec), "--spec-cache", "off"])
    assert done.exit_code == 0, done.output
    assert "resources: 4 found, 15 operations bound, 0 not bound" in done.output
    assert "Messages: /Accounts/{AccountSid}/Messages/{Sid}.json, id field 'sid'" in done.output
    assert "POST /me/lists  [POST /me/lists answers with the resource's item schema]" in done.output


# --- items 2, 3, 7: what is stored and answered ---------------------------------------------

MESSAGES = "/Accounts/AC01/Messages"


def test_a_form_create_under_an_unstored_parent_keeps_what_was_sent(vendor_spec: Path) -> None:
    client = app_client(vendor_spec)
    made = client.post(f"{MESSAGES}.json", data={"To": "+15550001", "Body": "hi"})
    assert made.status_code == 201, made.data
    message = made.get_json()
    assert (message["to"], message["body"]) == ("+15550001", "hi")  # To is `to`, by meaning
    fetched = client.get(f"{MESSAGES}/{message['sid']}.json").get_json()
    assert fetched == message  # {Sid} fills and finds `sid`


def test_a_post_update_changes_the_stored_item(vendor_spec: Path) -> None:
    client = app_client(vendor_spec)
    sid = client.post(f"{MESSAGES}.json", data={"To": "+1", "Body": "hi"}).get_json()["sid"]
    updated = client.post(f"{MESSAGES}/{sid}.json", data={"Body": ""})
    assert updated.status_code == 200, updated.data
    assert updated.get_json()["sid"] == sid
    assert client.get(f"{MESSAGES}/{sid}.json").get_json()["body"] == ""


def test_a_delete_answers_the_deleted_id_and_deleted_true(vendor_spec: Path) -> None:
    client = app_client(vendor_spec)
    made = client.post("/me/lists", json={"name": "Mix"}).get_json()
    assert client.get(f"/lists/{made['id']}").get_json() == made  # created elsewhere, read here
    gone = client.delete(f"/lists/{made['id']}")
    assert gone.status_code == 200, gone.data
    answer = gone.get_json()
    assert (answer["id"], answer["deleted"], answer["object"]) == (made["id"], True, "list.deleted")


def test_an_unknown_id_is_a_404_even_where_none_is_declared(vendor_spec: Path) -> None:
    client = app_client(vendor_spec)
    made = client.post("/me/lists", json={"name": "Mix"}).get_json()
    client.delete(f"/lists/{made['id']}")
    assert client.get(f"/lists/{made['id']}").status_code == 404  # get-list declares only 200
    strict = app_client(vendor_spec, declared_statuses_only=True)
    assert strict.get("/lists/nothing-here").status_code == 200  # the spec's word: generated


# --- item 4: paging by meaning, links into the sandbox itself ---------------------------------


def walk(client, url: str, items: str, next_field: str) -> list[str]:
    """Follow a list's next links to the end, as an SDK's auto-pager does."""
    seen: list[str] = []
    for _ in range(50):
        page = client.get(url).get_json()
        seen += [item.get("sid") or item.get("id") for item in page[items]]
        url = page.get(next_field)
        if not url:
            return seen
    raise AssertionError("the pager did not end")


def test_zero_based_pages_with_a_relative_next_page_uri_walk_every_record_once(
    vendor_spec: Path,
) -> None:
    client = app_client(vendor_spec, seed_records=0)
    made = [
        client.post(f"{MESSAGES}.json", data={"To": "+1", "Body": str(n)}).get_json()["sid"]
        for n in range(5)
    ]
    first = client.get(f"{MESSAGES}.json?PageSize=2").get_json()
    assert (first["page"], first["page_size"]) == (0, 2)
    assert first["next_page_uri"] == f"{MESSAGES}.json?PageSize=2&Page=1"  # on our own path
    assert sorted(
        walk(client, f"{MESSAGES}.json?PageSize=2", "messages", "next_page_uri")
    ) == sorted(made)


def test_offset_pages_with_an_absolute_next_link_walk_every_record_once(vendor_spec: Path) -> None:
    client = app_client(vendor_spec, seed_records=0)
    made = [client.post("/me/lists", json={"name": f"L{n}"}).get_json()["id"] for n in range(5)]
    first = client.get("/me/lists?limit=2").get_json()
    assert first["next"] == "http://localhost/me/lists?limit=2&offset=2"  # the request's host
    assert first["total"] == 5
    assert sorted(walk(client, "/me/lists?limit=2", "items", "next")) == sorted(made)
    last = client.get("/me/lists?limit=2&offset=4").get_json()
    assert last["next"] is None


def _listed(kind: str, examples: str = "") -> str:
    """A paged list at ``/{kind}.json`` and its items, answering with ``examples``."""
    return f"""
  /{kind}.json:
    get:
      operationId: List{kind}
      parameters:
        - {{name: PageSize, in: query, schema: {{type: integer, minimum: 1}}}}
        - {{name: Page, in: query, schema: {{type: integer, minimum: 0}}}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/NotePage"}}{examples}
    post:
      operationId: Create{kind}
      requestBody:
        content: {{application/json: {{schema: {{$ref: "#/components/schemas/Note"}}}}}}
      responses:
        "201":
          description: made
          content: {{application/json: {{schema: {{$ref: "#/components/schemas/Note"}}}}}}
  /{kind}/{{sid}}.json:
    get:
      operationId: Fetch{kind}
      parameters: [{{name: sid, in: path, required: true, schema: {{type: string}}}}]
      responses:
        "200":
          description: ok
          content: {{application/json: {{schema: {{$ref: "#/components/schemas/Note"}}}}}}"""


SHOWN_AS_PATHS = """
              examples:
                one:
                  value: {notes: [], page: 0, next_page_uri: null, uri: /notes.json?Page=0}"""

NOTE_SCHEMAS = """
  schemas:
    Note:
      type: object
      properties:
        sid: {type: string, readOnly: true}
        body: {type: string}
    NotePage:
      type: object
      properties:
        notes: {type: array, items: {$ref: "#/components/schemas/Note"}}
        page: {type: integer}
        next_page_uri: {type: string, format: uri, nullable: true}
        uri: {type: string, format: uri}
"""

LINKS_AS_SHOWN = f"""
openapi: 3.0.3
info: {{title: links, version: "1"}}
paths:{_listed("notes", SHOWN_AS_PATHS)}{_listed("cards")}
components:{NOTE_SCHEMAS}"""


def test_links_take_the_form_the_specs_examples_show(tmp_path: Path) -> None:
    """A list's links take the form the spec's own examples give them, even where
    ``format: uri`` says absolute: Twilio's examples show ``uri`` as a path, its API sends
    paths, and its SDK prefixes them with its domain (an absolute ``next_page_uri`` was
    requested as ``/http://...``). Where the examples show none, ``format: uri`` is kept:
    absolute, on the sandbox's own host. Either way the pages walk every record once."""
    client, _ = served_text(tmp_path, LINKS_AS_SHOWN, seed_records=0)
    for kind, prefix in (("notes", ""), ("cards", "http://localhost")):
        made = [client.post(f"/{kind}.json", json={"body": str(n)}).get_json()["sid"]
                for n in range(5)]  # fmt: skip
        first = client.get(f"/{kind}.json?PageSize=2").get_json()
        assert first["next_page_uri"] == f"{prefix}/{kind}.json?PageSize=2&Page=1", first
        assert first["uri"] == f"{prefix}/{kind}.json", first
        assert sorted(walk(client, f"/{kind}.json?PageSize=2", "notes", "next_page_uri")) == sorted(
            made
        )
    # the contradiction in the spec is said where the spec is checked
    noted = [str(note) for note in link_form_conflicts(load_spec(tmp_path / "api.yaml"))]
    assert noted == [
        "GET /notes.json: the examples show next_page_uri, uri as paths where the schema says "
        "format: uri; the sandbox answers paths, as the examples (and the API's clients) have them"
    ]


ACCOUNTS = f"""
openapi: 3.0.3
info: {{title: accounts, version: "1"}}
security: [{{basic: []}}]
paths:{_listed("Accounts")}
    post:
      operationId: UpdateAccounts
      parameters: [{{name: sid, in: path, required: true, schema: {{type: string}}}}]
      requestBody:
        content: {{application/json: {{schema: {{$ref: "#/components/schemas/Note"}}}}}}
      responses:
        "200":
          description: ok
          content: {{application/json: {{schema: {{$ref: "#/components/schemas/Note"}}}}}}
components:
  securitySchemes:
    basic: {{type: http, scheme: basic}}{NOTE_SCHEMAS}"""


def test_the_record_the_credentials_name_exists(tmp_path: Path) -> None:
    """The caller's own record exists: with HTTP Basic's user name an id and the password
    the key (Twilio's account SID and auth token), reading or updating the item with that
    id finds it, made with that id and kept, as a parent named by a path is. Any other
    unknown id is still a 404 (the SDK's ``accounts(sid).fetch()`` was a 404)."""
    client, _ = served_text(tmp_path, ACCOUNTS, seed_records=0, api_keys=["tok3n"])
    own = {"Authorization": "Basic " + base64.b64encode(b"AC01:tok3n").decode()}
    got = client.get("/Accounts/AC01.json", headers=own)
    assert got.status_code == 200 and got.get_json()["sid"] == "AC01", got.get_json()
    changed = client.post("/Accounts/AC01.json", json={"body": "mine"}, headers=own)
    assert changed.get_json() == {**got.get_json(), "body": "mine"}
    assert client.get("/Accounts/AC01.json", headers=own).get_json()["body"] == "mine"
    assert client.get("/Accounts/AC02.json", headers=own).status_code == 404
    other = {"Authorization": "Basic " + base64.b64encode(b"AC02:tok3n").decode()}
    assert client.get("/Accounts/AC02.json", headers=other).status_code == 200


PRICES = """
openapi: 3.0.3
info: {title: prices, version: "1"}
paths:
  /prices:
    post:
      operationId: PostPrices
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                recurring:
                  type: object
                  properties: {interval: {type: string, enum: [day, month, year]}}
      responses:
        "200":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Price"}}}
  /prices/{price}:
    get:
      operationId: GetPricesPrice
      parameters: [{name: price, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Price"}}}
components:
  schemas:
    Price:
      type: object
      required: [id]
      properties:
        id: {type: string}
        recurring:
          anyOf: [{$ref: "#/components/schemas/Recurring"}]
          nullable: true
    Recurring:
      type: object
      required: [interval, interval_count, usage_type]
      properties:
        interval: {type: string, enum: [day, month, year]}
        interval_count: {type: integer}
        usage_type: {type: string, enum: [licensed, metered]}
"""


def test_a_sent_object_missing_what_the_item_requires_is_completed(tmp_path: Path) -> None:
    """An object a client sends that lacks fields the stored item requires of it (Stripe's
    ``recurring[interval]=month``: the API fills ``interval_count`` and ``usage_type``) is
    completed, through an ``anyOf``, and keeps what was sent; it was dropped, so the
    created price had no ``recurring`` at all."""
    client, _ = served_text(tmp_path, PRICES, seed_records=0)
    for _ in range(5):
        made = client.post("/prices", json={"recurring": {"interval": "month"}}).get_json()
        assert made["recurring"]["interval"] == "month", made
        assert {"interval_count", "usage_type"} <= set(made["recurring"]), made
        assert client.get(f"/prices/{made['id']}").get_json() == made


MIXES = """
openapi: 3.0.3
info: {title: mixes, version: "1"}
paths:
  /mixes:
    post:
      operationId: create-mix
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Mix"}}}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Mix"}}}
  /mixes/{mix_id}:
    get:
      operationId: get-mix
      parameters: [{$ref: "#/components/parameters/Mix"}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Mix"}}}
  /mixes/{mix_id}/entries:
    parameters: [{$ref: "#/components/parameters/Mix"}]
    get:
      operationId: get-entries
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: offset, in: query, schema: {type: integer}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  href: {type: string}
                  next: {type: string, nullable: true}
                  previous: {type: string, nullable: true}
                  total: {type: integer}
                  items: {type: array, items: {$ref: "#/components/schemas/Entry"}}
    post:
      operationId: add-entries
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                uris: {type: array, items: {type: string}}
                position: {type: integer}
      responses:
        "201": {$ref: "#/components/responses/Snapshot"}
    delete:
      operationId: remove-entries
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                items: {type: array, items: {type: object, properties: {uri: {type: string}}}}
      responses:
        "200": {$ref: "#/components/responses/Snapshot"}
  /mixes/{mix_id}/reviews:
    parameters: [{$ref: "#/components/parameters/Mix"}]
    get:
      operationId: get-reviews
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Song"}}
    post:
      operationId: review-songs
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [ids, state]
              properties: {ids: {type: array, items: {type: integer}}, state: {type: string}}
      responses:
        "200": {$ref: "#/components/responses/Snapshot"}
  /albums/{id}:
    get:
      operationId: get-album
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Song"}}}
  /albums/{id}/songs:
    get:
      operationId: get-album-songs
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties: {items: {type: array, items: {$ref: "#/components/schemas/Song"}}}
components:
  parameters:
    Mix: {name: mix_id, in: path, required: true, schema: {type: string}}
  responses:
    Snapshot:
      description: ok
      content:
        application/json:
          schema: {type: object, properties: {snapshot_id: {type: string}}}
  schemas:
    Mix:
      type: object
      properties: {id: {type: string, readOnly: true}, name: {type: string}}
    User:
      type: object
      properties: {type: {type: string, enum: [user]}, uri: {type: string}}
    Song:
      type: object
      properties:
        type: {type: string, enum: [song]}
        uri: {type: string}
        name: {type: string}
    Clip:
      type: object
      properties: {type: {type: string, enum: [clip]}, uri: {type: string}}
    Entry:
      type: object
      properties:
        added_at: {type: string, format: date-time}
        added_by: {$ref: "#/components/schemas/User"}
        track:
          oneOf: [{$ref: "#/components/schemas/Song"}, {$ref: "#/components/schemas/Clip"}]
          discriminator: {propertyName: type}
"""


def test_a_list_under_an_item_that_is_added_to_stores_what_is_added(tmp_path: Path) -> None:
    """A list under an item with no item path of its own is stored where the same path
    adds to it: the POST's references (``{"uris": [...]}``, or the bare list) become items
    in the order sent, each in the field the list names (``uri``) of the object whose kind
    the reference names (``shop:clip:2`` is a ``clip``, not the adding ``user``); the list
    pages over them with its links and total; a DELETE naming ``{"uri": ...}`` removes
    them (Spotify's playlist items answered random tracks and pointed ``next`` at
    api.spotify.com). A list under an item that nothing adds to, or whose POST requires
    more than the list (GitHub's reviews of pending deployments), stays generated."""
    client, _ = served_text(tmp_path, MIXES, seed_records=0)
    _resources, bindings = infer_resources(load_spec(tmp_path / "api.yaml"))
    assert {k: bindings[k].action for k in ("get-entries", "add-entries", "remove-entries")} == {
        "get-entries": "list", "add-entries": "add", "remove-entries": "remove"}  # fmt: skip
    assert "get-album-songs" not in bindings
    assert "review-songs" not in bindings  # a body that requires more than the list
    mix = client.post("/mixes", json={"name": "m"}).get_json()["id"]
    sent = ["shop:song:1", "shop:clip:2", "shop:song:3"]
    added = client.post(f"/mixes/{mix}/entries", json=sent)
    assert added.status_code == 201 and "snapshot_id" in added.get_json()
    url, seen, pages = f"/mixes/{mix}/entries?limit=1", [], []
    while url:
        page = client.get(url).get_json()
        pages.append(page)
        seen += [entry["track"] for entry in page["items"]]
        url = page["next"]
    assert [track["uri"] for track in seen] == sent
    assert [track["type"] for track in seen] == ["song", "clip", "song"]
    assert {page["total"] for page in pages} == {3}
    assert pages[0]["previous"] is None
    assert pages[1]["previous"] == f"http://localhost/mixes/{mix}/entries?limit=1&offset=0"
    client.delete(f"/mixes/{mix}/entries", json={"items": [{"uri": "shop:song:1"}]})
    left = client.get(f"/mixes/{mix}/entries").get_json()["items"]
    assert [entry["track"]["uri"] for entry in left] == sent[1:]


# --- item 3: an upload's file fills the object ----------------------------------------------

UPLOADS = """
openapi: 3.0.3
info: {title: uploads, version: "1"}
paths:
  /documents:
    post:
      operationId: createDocument
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [upload]
              properties:
                upload: {type: string, format: binary}
                label: {type: string}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Document"}}}
  /documents/{document_id}:
    get:
      operationId: getDocument
      parameters: [{name: document_id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Document"}}}
  /attachments:
    post:
      operationId: createAttachment
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                content: {type: string, format: binary}
                note: {type: string, format: binary}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Attachment"}}}
  /attachments/{attachment_id}:
    get:
      operationId: getAttachment
      parameters: [{name: attachment_id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Attachment"}}}
components:
  schemas:
    Document:
      type: object
      properties:
        id: {type: string, readOnly: true}
        File_Name: {type: string}
        sizeBytes: {type: integer, readOnly: true}
        mime_type: {type: string}
        label: {type: string}
        upload: {type: string, format: binary}
    Attachment:
      type: object
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        length: {type: integer}
        note: {type: string, description: the note's file name, as the API keeps it}
"""

PDF = b"%PDF-1.4 a small report"


def uploads_client(tmp_path: Path):
    return served_text(tmp_path, UPLOADS, "uploads.yaml", seed=3)[0]


def test_an_uploaded_file_fills_the_fields_about_it_and_is_not_a_field(tmp_path: Path) -> None:
    client = uploads_client(tmp_path)
    sent = {"upload": (io.BytesIO(PDF), "report.pdf", "application/pdf"), "label": "Q3"}
    made = client.post("/documents", data=sent, content_type="multipart/form-data")
    assert made.status_code == 201, made.data
    document = made.get_json()
    assert "upload" not in document  # the part is the file, not a field of the document
    assert document["File_Name"] == "report.pdf"  # file name, size, type: by meaning
    assert document["sizeBytes"] == len(PDF)
    assert document["mime_type"] == "application/pdf"
    assert document["label"] == "Q3"
    assert client.get(f"/documents/{document['id']}").get_json() == document


def test_an_uploads_name_fills_name_and_a_declared_text_field_keeps_the_part(
    tmp_path: Path,
) -> None:
    client = uploads_client(tmp_path)
    sent = {"content": (io.BytesIO(b"12345"), "a.txt"), "note": (io.BytesIO(b"x"), "n.md")}
    made = client.post("/attachments", data=sent, content_type="multipart/form-data")
    assert made.status_code == 201, made.data
    attachment = made.get_json()
    assert "content" not in attachment  # undeclared in the item: dropped
    assert attachment["note"] == "n.md"  # declared as text: kept, as the file's name
    assert (attachment["name"], attachment["length"]) == ("a.txt", 5)  # the first file's facts
    assert client.get(f"/attachments/{attachment['id']}").get_json() == attachment


CATALOG = """
openapi: 3.0.3
info: {title: catalog, version: "1"}
components:
  schemas:
    Model:
      type: object
      required: [id, owned_by]
      properties: {id: {type: string}, owned_by: {type: string}}
paths:
  /models:
    get:
      responses: {"200": {description: some, content: {application/json: {schema: {
        type: object, properties: {data: {type: array, items: {$ref: "#/components/schemas/Model"}}}
      }}}}}
  /models/{model}:
    parameters: [{name: model, in: path, required: true, schema: {type: string}}]
    get:
      responses: {"200": {description: a model, content: {application/json: {schema: {
        $ref: "#/components/schemas/Model"}}}}}
    delete:
      responses: {"200": {description: deleted, content: {application/json: {schema: {
        type: object, properties: {id: {type: string}, deleted: {type: boolean}}}}}}}
"""


def test_what_was_deleted_from_a_catalog_is_gone(tmp_path: Path) -> None:
    """A catalog the client cannot add to answers any id (any model exists), but one the
    client deleted, whether the sandbox had made it or not, is gone: read or deleted again
    it is a 404, as the real API answers, even where the spec declares none; keeping to
    declared statuses, it stays a generated answer."""
    client, _ = served_text(tmp_path, CATALOG)
    assert client.get("/models/ft:one").get_json()["id"] == "ft:one"
    gone = client.delete("/models/ft:one")
    assert gone.status_code == 200 and gone.get_json() == {"id": "ft:one", "deleted": True}
    assert client.get("/models/ft:one").status_code == 404
    assert client.delete("/models/ft:one").status_code == 404
    assert client.get("/models/ft:two").status_code == 200  # the others are still there
    listed = client.get("/models").get_json()["data"][0]["id"]  # one the sandbox made
    assert client.delete(f"/models/{listed}").status_code == 200
    assert client.get(f"/models/{listed}").status_code == 404
    (tmp_path / "strict").mkdir()
    strict, _ = served_text(tmp_path / "strict", CATALOG, declared_statuses_only=True)
    strict.delete("/models/ft:one")
    assert strict.get("/models/ft:one").status_code == 200  # the spec's word: generated


CONFERENCES = """
openapi: 3.0.3
info: {title: conferences, version: "1"}
components:
  schemas:
    Conference:
      type: object
      required: [sid, status]
      properties:
        sid: {type: string, pattern: "^CF[0-9a-f]{32}$"}
        status: {type: string, enum: [init, completed]}
    Participant:
      type: object
      properties: {sid: {type: string}, conference_sid: {type: string}}
paths:
  /Conferences/{Sid}.json:
    parameters: [{name: Sid, in: path, required: true, schema: {type: string}}]
    get:
      responses:
        "200":
          description: one
          content: {application/json: {schema: {$ref: "#/components/schemas/Conference"}}}
  /Conferences/{ConferenceSid}/Participants.json:
    parameters: [{name: ConferenceSid, in: path, required: true, schema: {type: string}}]
    get:
      responses:
        "200":
          description: some
          content:
            application/json:
              schema:
                type: object
                properties:
                  participants: {type: array, items: {$ref: "#/components/schemas/Participant"}}
    post:
      requestBody: {content: {application/x-www-form-urlencoded: {schema: {type: object}}}}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Participant"}}}
  /Conferences/{ConferenceSid}/Participants/{Sid}.json:
    parameters:
      - {name: ConferenceSid, in: path, required: true, schema: {type: string}}
      - {name: Sid, in: path, required: true, schema: {type: string}}
    get:
      responses:
        "200":
          description: one
          content: {application/json: {schema: {$ref: "#/components/schemas/Participant"}}}
"""


def test_a_parent_named_by_an_id_its_schema_refuses_is_not_kept(tmp_path: Path) -> None:
    """A parent the path names is taken to exist where no 404 is declared, and kept; but
    not under an id its own schema refuses (Twilio's conference ``0``, whose sid is
    ``^CF[0-9a-f]{32}$``): reading it back would answer a sid that breaks the schema."""
    client, _ = served_text(tmp_path, CONFERENCES)
    assert client.post("/Conferences/0/Participants.json", data={"CallSid": "CA1"}).status_code
    read = client.get("/Conferences/0.json")
    assert read.status_code != 200 or read.get_json()["sid"].startswith("CF"), read.get_json()
    sid = "CF" + "0" * 32
    client.post(f"/Conferences/{sid}/Participants.json", data={"CallSid": "CA1"})
    assert client.get(f"/Conferences/{sid}.json").get_json()["sid"] == sid  # a valid one is


ATTACHED = """
openapi: 3.0.3
info: {title: stores, version: "1"}
components:
  schemas:
    StoreFile:
      type: object
      required: [id, status]
      properties: {id: {type: string}, status: {type: string, enum: [ready]}}
paths:
  /stores/{store_id}/files:
    parameters: [{name: store_id, in: path, required: true, schema: {type: string}}]
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [file_id], properties: {file_id: {type: string}}}
      responses:
        "200":
          description: attached
          content: {application/json: {schema: {$ref: "#/components/schemas/StoreFile"}}}
        "400": {description: refused}
  /stores/{store_id}/files/{file_id}:
    parameters:
      - {name: store_id, in: path, required: true, schema: {type: string}}
      - {name: file_id, in: path, required: true, schema: {type: string}}
    get:
      responses:
        "200":
          description: one
          content: {application/json: {schema: {$ref: "#/components/schemas/StoreFile"}}}
        "404": {description: no such file}
"""


def test_a_create_that_names_its_item_by_the_path_parameter_makes_it_under_that_id(
    tmp_path: Path,
) -> None:
    """OpenAI's ``POST /vector_stores/{id}/files`` sends ``{"file_id": "file-1"}`` and
    ``GET /vector_stores/{id}/files/{file_id}`` reads it: the item is made under the id sent
    by the path parameter's name; where none usable was sent (``""``), the field of that name
    is the id made, never another value."""
    client, _ = served_text(tmp_path, ATTACHED)
    made = client.post("/stores/s1/files", json={"file_id": "file-1"}).get_json()
    assert made["id"] == "file-1", made
    assert client.get("/stores/s1/files/file-1").get_json()["id"] == "file-1"
    (tmp_path / "seeded").mkdir()  # a seeded sandbox draws the same id for the same request
    seeded, _ = served_text(tmp_path / "seeded", ATTACHED, seed=3)
    for _ in range(2):  # the second one's id is drawn again: its file_id with it
        blank = seeded.post("/stores/s1/files", json={"file_id": ""}).get_json()
        read = seeded.get(f"/stores/s1/files/{blank['id']}").get_json()
        assert read.get("file_id", read["id"]) == read["id"] == blank["id"], read


GROUP_USERS = """
openapi: 3.0.3
info: {title: groups, version: "1"}
paths:
  /groups/{group_id}/users/{user_id}:
    parameters:
      - {name: group_id, in: path, required: true, schema: {type: string}}
      - {name: user_id, in: path, required: true, schema: {type: string}}
    get:
      operationId: get_group_user
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties: {id: {type: string}, name: {type: string}}
    delete:
      operationId: remove_group_user
      responses:
        "200":
          description: removed
          content:
            application/json:
              schema: {type: object, properties: {deleted: {type: boolean}}}
  /groups/{group_id}:
    get:
      operationId: get_group
      parameters: [{name: group_id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {id: {type: string}}}
"""


def test_an_id_deleted_from_a_catalog_is_gone_under_each_parent_it_was_deleted_from(
    tmp_path: Path,
) -> None:
    """Any user of a group is answered (nothing adds one, no 404 is declared) until it is
    removed; the same user removed from a second group is gone from that one too (the
    store keeps one record per id of a resource: the deleted ids were kept by id alone,
    so the second removal was not kept, and the user was read back 200; OpenAI's
    ``/organization/groups/{group_id}/users/{user_id}``)."""
    client, _ = served_text(tmp_path, GROUP_USERS, seed_records=0)
    assert client.get("/groups/g1/users/u1").status_code == 200
    for group in ("g1", "g2"):
        assert client.delete(f"/groups/{group}/users/u1").status_code == 200
        assert client.get(f"/groups/{group}/users/u1").status_code == 404, group
    assert client.get("/groups/g3/users/u1").status_code == 200
