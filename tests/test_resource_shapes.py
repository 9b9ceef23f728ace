"""Resource inference on specs shaped unlike openapi.yaml: nested collections, sort, overrides,
client-chosen ids and bodyless creates."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import create_app, load_settings
from sandbox.resources.naming import id_field_for

BLOG = """
openapi: 3.0.3
info: {title: Blog, version: "1"}
paths:
  /authors:
    get:
      operationId: listAuthors
      parameters:
        - {name: sort, in: query, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer, default: 100}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Author"}}
    post:
      operationId: createAuthor
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}
  /authors/{authorId}:
    get:
      operationId: getAuthor
      parameters: [{name: authorId, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}
        "404": {description: missing}
  /authors/{authorId}/posts:
    parameters: [{name: authorId, in: path, required: true, schema: {type: string}}]
    get:
      operationId: listPosts
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Post"}}
        "404": {description: no such author}
    post:
      operationId: createPost
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Post"}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Post"}}}
        "404": {description: no such author}
  /authors/{authorId}/posts/{postId}:
    parameters:
      - {name: authorId, in: path, required: true, schema: {type: string}}
      - {name: postId, in: path, required: true, schema: {type: string}}
    get:
      operationId: getPost
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Post"}}}
        "404": {description: missing}
  /tickets:
    x-sandbox-resource: {name: support-tickets, id_prefix: tkt_}
    post:
      operationId: createTicket
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Ticket"}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Ticket"}}}
  /tickets/{id}:
    get:
      operationId: getTicket
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Ticket"}}}
        "404": {description: missing}
  /quotes:
    x-sandbox-resource: false
    post:
      operationId: createQuote
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Ticket"}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Ticket"}}}
  /quotes/{id}:
    get:
      operationId: getQuote
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Ticket"}}}
        "404": {description: missing}
components:
  schemas:
    Author:
      type: object
      required: [id, name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        age: {type: integer, minimum: 0, maximum: 120}
        bio: {type: string}
        role: {type: string, enum: [writer, editor], default: writer}
    Post:
      type: object
      required: [id, title]
      properties:
        id: {type: string, readOnly: true}
        authorId: {type: string, readOnly: true}
        title: {type: string}
    Ticket:
      type: object
      required: [id, subject]
      properties:
        id: {type: string, readOnly: true}
        subject: {type: string}
"""


@pytest.fixture
def blog(tmp_path: Path):
    spec = tmp_path / "blog.yaml"
    spec.write_text(BLOG)
    settings = load_settings(spec, environ={}, overrides={"state": ":memory:", "seed": 4})
    return create_app(spec, settings).test_client()


def test_nested_records_belong_to_their_parent(blog) -> None:
    ada = blog.post("/authors", json={"name": "Ada"}).get_json()
    bob = blog.post("/authors", json={"name": "Bob"}).get_json()
    post = blog.post(f"/authors/{ada['id']}/posts", json={"title": "Engines"})
    assert post.status_code == 201, post.data
    made = post.get_json()
    assert made["authorId"] == ada["id"]
    assert blog.get(f"/authors/{ada['id']}/posts/{made['id']}").get_json() == made
    assert [p["id"] for p in blog.get(f"/authors/{ada['id']}/posts").get_json()] == [made["id"]]
    assert blog.get(f"/authors/{bob['id']}/posts").get_json() == []
    assert blog.get(f"/authors/{bob['id']}/posts/{made['id']}").status_code == 404
    assert blog.get("/authors/nobody/posts").status_code == 404
    assert blog.post("/authors/nobody/posts", json={"title": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [("age", "age", False), ("-age", "age", True), ("name:desc", "name", True),
     ("name asc", "name", False)],
)  # fmt: skip
def test_sort_orders_the_list(blog, sort: str, key: str, reverse: bool) -> None:
    for name, age in (("Cy", 50), ("Al", 20), ("Bo", 35)):
        blog.post("/authors", json={"name": name, "age": age})
    listed = blog.get("/authors", query_string={"sort": sort}).get_json()
    values = [a[key] for a in listed if key in a]
    assert len(values) >= 3
    assert values == sorted(values, reverse=reverse)


def test_unknown_sort_fields_are_ignored_not_an_error(blog) -> None:
    assert blog.get("/authors?sort=-password").status_code == 200


def test_a_create_invents_no_optional_fields(blog) -> None:
    made = blog.post("/authors", json={"name": "Ada"}).get_json()
    assert set(made) == {"id", "name", "role"}  # id from the server, role from its default
    assert made["role"] == "writer"


def test_override_names_the_resource_and_its_id_prefix(blog) -> None:
    made = blog.post("/tickets", json={"subject": "Printer on fire"}).get_json()
    assert made["id"].startswith("tkt_")
    assert blog.get(f"/tickets/{made['id']}").get_json() == made


def test_override_false_keeps_a_path_stateless(blog) -> None:
    made = blog.post("/quotes", json={"subject": "Stateless"}).get_json()
    again = blog.get(f"/quotes/{made['id']}")
    assert again.status_code == 200  # generated, not looked up
    assert again.get_json()["subject"] != "Stateless"


def test_a_client_chosen_id_is_kept_and_a_reused_one_is_409(tmp_path: Path, corpus: Path) -> None:
    """The petstore creates pets with the id in the body and answers 201 with no body."""
    spec = corpus / "oai" / "v3.0" / "petstore.yaml"
    settings = load_settings(spec, environ={}, overrides={"state": str(tmp_path / "s.sqlite")})
    client = create_app(spec, settings).test_client()
    headers = {"Authorization": f"Bearer {settings.default_api_key}"}
    created = client.post("/v1/pets", json={"id": 4242, "name": "Rex"}, headers=headers)
    assert created.status_code == 201 and created.data == b""
    assert client.get("/v1/pets/4242", headers=headers).get_json() == {"id": 4242, "name": "Rex"}
    again = client.post("/v1/pets", json={"id": 4242, "name": "Max"}, headers=headers)
    assert again.status_code == 409
    assert client.get("/v1/pets/4242", headers=headers).get_json()["name"] == "Rex"


def test_a_read_only_id_in_the_body_is_not_the_clients_to_choose(tmp_path: Path) -> None:
    """3.0 forbids writing readOnly properties (400); 3.1 leaves it to the server, which
    keeps its own id."""
    for version, expected in (("3.0.3", 400), ("3.1.0", 201)):
        spec = tmp_path / f"blog-{version}.yaml"
        spec.write_text(BLOG.replace("openapi: 3.0.3", f"openapi: {version}"))
        settings = load_settings(spec, environ={}, overrides={"state": ":memory:"})
        client = create_app(spec, settings).test_client()
        made = client.post("/authors", json={"id": "mine", "name": "Ada"})
        assert made.status_code == expected, (version, made.data)
        if expected == 400:
            assert "read-only" in made.get_json()["error"]["message"]
        else:
            assert made.get_json()["id"] != "mine"


WRAPPED = """
openapi: 3.0.3
info: {title: Wrapped, version: "1"}
paths:
  /domains/{domain}/records:
    parameters: [{name: domain, in: path, required: true, schema: {type: string}}]
    post:
      operationId: createRecord
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Record"}}}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema:
                properties: {domain_record: {$ref: "#/components/schemas/Record"}}
  /domains/{domain}/records/{record_id}:
    parameters:
      - {name: domain, in: path, required: true, schema: {type: string}}
      - {name: record_id, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getRecord
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                properties: {domain_record: {$ref: "#/components/schemas/Record"}}
        "404": {description: missing}
    delete:
      operationId: deleteRecord
      responses:
        "204": {description: gone}
        "404": {description: missing}
  /alerts:
    post:
      operationId: createAlert
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Policy"}}}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {properties: {policy: {$ref: "#/components/schemas/Policy"}}}
  /alerts/{alert_uuid}:
    parameters:  # the path says more of the id than the item does
      - {name: alert_uuid, in: path, required: true, schema: {type: string, format: uuid}}
    get:
      operationId: getAlert
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {properties: {policy: {$ref: "#/components/schemas/Policy"}}}
        "404": {description: missing}
    delete:
      operationId: deleteAlert
      responses:
        "204": {description: gone}
        "404": {description: missing}
  /tags:
    post:
      operationId: createTag
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Tag"}}}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {properties: {tag: {$ref: "#/components/schemas/Tag"}}}
  /tags/{tag_id}:
    parameters: [{name: tag_id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getTag
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {properties: {tag: {$ref: "#/components/schemas/Tag"}}}
        "404": {description: missing}
    delete:
      operationId: deleteTag
      responses:
        "204": {description: gone}
        "404": {description: missing}
  /grants/{client_id}:
    parameters: [{name: client_id, in: path, required: true, schema: {type: string}}]
    put:
      operationId: putGrant
      requestBody:
        content: {application/json: {schema: {properties: {note: {type: string}}}}}
      responses:
        "200":
          description: found
          content: {application/json: {schema: {$ref: "#/components/schemas/Grant"}}}
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Grant"}}}
  /envs/{name}:
    parameters: [{name: name, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getEnv
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Secret"}}}
        "404": {description: missing}
    put:
      operationId: putEnv
      requestBody:
        content:
          application/json:
            schema: {properties: {visibility: {type: string, enum: [all, selected]}}}
      responses:
        "200":
          description: made or replaced
          content: {application/json: {schema: {$ref: "#/components/schemas/Secret"}}}
  /secrets/{name}:
    parameters: [{name: name, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getSecret
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Secret"}}}
        "404": {description: missing}
    put:
      operationId: putSecret
      requestBody:
        content:
          application/json:
            schema: {properties: {visibility: {type: string, enum: [all, selected]}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {type: object}}}
        "204": {description: updated}
components:
  schemas:
    Grant:
      type: object
      properties: {id: {type: integer}, note: {type: string}}
    Tag:
      type: object
      properties:
        name: {type: string, pattern: "^[a-z]+$"}
        resources: {type: array, readOnly: true, items: {type: string}}
    Secret:
      type: object
      properties:
        name: {type: string}
        visibility: {type: string, enum: [all, selected]}
    Record:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        type: {type: string, enum: [A, MX]}
        data: {type: string}
    Policy:
      type: object
      properties:
        uuid: {type: string, readOnly: true}
        description: {type: string}
"""


@pytest.mark.parametrize(
    ("collection", "body", "slot", "key"),
    [
        ("/domains/a.io/records", {"type": "A", "data": "1.2.3.4"}, "domain_record", "id"),
        ("/alerts", {"description": "CPU high"}, "policy", "uuid"),
        ("/tags", {"name": "awesome"}, "tag", "name"),  # no id at all: named by its name
    ],
)
def test_an_item_wrapped_under_a_name_of_its_own_is_a_resource(
    tmp_path: Path, collection: str, body: dict, slot: str, key: str
) -> None:
    """An answer may hold its item under a qualified name (DigitalOcean's ``domain_record``
    of a record, ``kubernetes_cluster``) or as its only member (``{"policy": {...}}`` for an
    alert): the item is stored, read back, and gone once deleted. Its id is made to fit the
    item path's parameter where that says more (``{alert_uuid}``: format uuid)."""
    client = wrapped(tmp_path)
    made = client.post(collection, json=body)
    assert made.status_code == 201, made.data
    item = f"{collection}/{made.get_json()[slot][key]}"
    read = client.get(item)
    assert read.status_code == 200 and read.get_json()[slot] == made.get_json()[slot]
    assert client.delete(item).status_code == 204
    assert client.get(item).status_code == 404


def test_a_put_that_can_create_stores_what_it_names(tmp_path: Path) -> None:
    """A PUT that declares 201, or no 404, creates the item its path names where there is
    none (RFC 9110: PUT creates or replaces), and ``201 {}`` holds no item, like a bodiless
    answer (GitHub's ``PUT`` of a secret): what was put is read back, the first time and
    after."""
    client = wrapped(tmp_path)
    for visibility in ("selected", "all"):
        for item in ("/secrets/TOKEN", "/envs/staging"):  # 201 declared; no 404 declared
            assert client.put(item, json={"visibility": visibility}).status_code < 300
            assert client.get(item).get_json()["visibility"] == visibility
    # a path value that cannot be the item's id names something else (GitHub's client_id)
    grant = client.put("/grants/abcde12345", json={"note": "ci"}).get_json()
    assert isinstance(grant["id"], int), grant


def wrapped(tmp_path: Path):
    spec = tmp_path / "wrapped.yaml"
    spec.write_text(WRAPPED)
    settings = load_settings(spec, environ={}, overrides={"state": ":memory:", "seed": 4})
    return create_app(spec, settings).test_client()


PARTS = """
openapi: 3.0.3
info: {title: Parts, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}
  /things/{thing}:
    parameters: [{name: thing, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getThing
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}
        "404": {description: missing}
  /things/{id}/parts:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: listParts
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Part"}}
components:
  schemas:
    Thing:
      type: object
      properties: {id: {type: string}, name: {type: string}}
    Part:
      type: object
      properties: {id: {type: string}, size: {type: integer}}
"""


def test_a_parent_named_by_the_childs_own_id_field_is_not_its_id(tmp_path: Path) -> None:
    """``/transfers/{id}/reversals`` (beside ``/transfers/{transfer}``) names the transfer
    ``{id}``: the reversals seeded under one transfer keep ids of their own (Stripe's
    seeding gave them the transfer's, twice, and every request touching transfers answered
    500)."""
    spec = tmp_path / "parts.yaml"
    spec.write_text(PARTS)
    settings = load_settings(spec, environ={}, overrides={"state": ":memory:", "seed": 4})
    client = create_app(spec, settings).test_client()
    things = client.get("/things").get_json()
    parts = client.get(f"/things/{things[0]['id']}/parts")
    assert parts.status_code == 200, parts.data
    ids = [part["id"] for part in parts.get_json()]
    assert len(ids) == len(set(ids)) == 2 and things[0]["id"] not in ids


@pytest.mark.parametrize(
    ("param", "singular", "properties", "expected"),
    [
        ("file_sha", "blob", ["sha", "content", "url"], "sha"),  # GitHub's git blobs and trees
        ("tree_sha", "tree", ["sha", "url", "tree"], "sha"),
        ("tag_id", "tag", ["name", "resources"], "name"),  # no id at all: its name
        ("playlist_id", "playlist", ["id", "name"], "id"),  # an id wins over a name
    ],
)
def test_the_field_a_path_parameter_names(
    param: str, singular: str, properties: list[str], expected: str
) -> None:
    assert id_field_for(param, singular, {key: {} for key in properties}) == expected
