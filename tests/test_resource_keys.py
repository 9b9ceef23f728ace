"""Items not named by one top-level field of their own (issue 19), each rule on a small spec
written here, served by the sandbox:

* an item with no collection path, named by a field of an object it holds (a membership's
  ``{username}`` is its ``user``'s ``login``): PUT makes or replaces it, GET reads it back,
  DELETE removes it;
* the same with no key shown at all (``{role, state}``): named by its path alone;
* an item two path parameters name (``/repos/{owner}/{repo}``: ``owner.login`` and ``name``),
  created at a list elsewhere (``POST /user/repos``), keeps what a PATCH sends;
* a bare text parameter (``{org}``) does not name a numeric ``id``: an account's ``login``.

The real case is GitHub's spec (``PUT /orgs/{org}/memberships/{username}``,
``PATCH /repos/{owner}/{repo}``: "sent values not kept" before these rules).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sandbox.resources.inference import infer_resources
from sandbox.spec.model import load_spec
from tests.spec_helpers import served_text

SPEC = """
openapi: 3.0.3
info: {title: keys, version: "1"}
paths:
  /orgs/{org}:
    parameters: [{name: org, in: path, required: true, schema: {type: string}}]
    get:
      operationId: get_org
      responses:
        "200": {$ref: "#/components/responses/Org"}
        "404": {description: missing}
  /orgs/{org}/memberships/{username}:
    parameters:
      - {name: org, in: path, required: true, schema: {type: string}}
      - {name: username, in: path, required: true, schema: {type: string}}
    get:
      operationId: get_membership
      responses:
        "200": {$ref: "#/components/responses/Membership"}
        "404": {description: missing}
    put:
      operationId: set_membership
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {role: {type: string, enum: [admin, member]}}}
      responses:
        "200": {$ref: "#/components/responses/Membership"}
    delete:
      operationId: remove_membership
      responses:
        "204": {description: gone}
        "404": {description: missing}
  /teams/{team}/memberships/{username}:
    parameters:
      - {name: team, in: path, required: true, schema: {type: string}}
      - {name: username, in: path, required: true, schema: {type: string}}
    get:
      operationId: get_team_membership
      responses:
        "200": {$ref: "#/components/responses/TeamMembership"}
        "404": {description: missing}
    put:
      operationId: set_team_membership
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {role: {type: string, enum: [member, maintainer]}}}
      responses:
        "200": {$ref: "#/components/responses/TeamMembership"}
  /user/repos:
    get:
      operationId: list_my_repos
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Repo"}}}
    post:
      operationId: create_repo
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties: {name: {type: string}, description: {type: string}}
      responses:
        "201": {$ref: "#/components/responses/Repo"}
  /orgs/{org}/repos:
    parameters: [{name: org, in: path, required: true, schema: {type: string}}]
    get:
      operationId: list_org_repos
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Repo"}}}
    post:
      operationId: create_org_repo
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties: {name: {type: string}, description: {type: string}}
      responses:
        "201": {$ref: "#/components/responses/Repo"}
  /repos/{owner}/{repo}:
    parameters:
      - {name: owner, in: path, required: true, schema: {type: string}}
      - {name: repo, in: path, required: true, schema: {type: string}}
    get:
      operationId: get_repo
      responses:
        "200": {$ref: "#/components/responses/Repo"}
        "404": {description: missing}
    patch:
      operationId: update_repo
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {description: {type: string}, name: {type: string}}}
      responses:
        "200": {$ref: "#/components/responses/Repo"}
        "404": {description: missing}
  /repos/{owner}/{repo}/labels:
    parameters:
      - {name: owner, in: path, required: true, schema: {type: string}}
      - {name: repo, in: path, required: true, schema: {type: string}}
    post:
      operationId: create_label
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Label"}}}}
      responses:
        "201": {$ref: "#/components/responses/Label"}
        "422": {description: invalid, content: {application/json: {schema: {type: object}}}}
    get:
      operationId: list_labels
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Label"}}}
  /repos/{owner}/{repo}/labels/{name}:
    parameters: [{$ref: "#/components/parameters/owner"}, {$ref: "#/components/parameters/repo"},
                 {name: name, in: path, required: true, schema: {type: string}}]
    get:
      operationId: get_label
      responses: {"200": {$ref: "#/components/responses/Label"}}
  /repos/{owner}/{repo}/pulls/{pull_number}:
    parameters: [{$ref: "#/components/parameters/owner"}, {$ref: "#/components/parameters/repo"},
                 {name: pull_number, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: get_pull
      responses: {"200": {$ref: "#/components/responses/Label"}}
  /repos/{owner}/{repo}/pulls/{pull_number}/comments:
    parameters: [{$ref: "#/components/parameters/owner"}, {$ref: "#/components/parameters/repo"},
                 {name: pull_number, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: list_pull_comments
      responses: {"200": {$ref: "#/components/responses/Comments"}}
    post:
      operationId: add_pull_comment
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/ReviewComment"}}}
      responses: {"201": {$ref: "#/components/responses/ReviewComment"}}
  /repos/{owner}/{repo}/pulls/comments:
    parameters: [{$ref: "#/components/parameters/owner"}, {$ref: "#/components/parameters/repo"}]
    get:
      operationId: list_repo_pull_comments
      responses: {"200": {$ref: "#/components/responses/Comments"}}
  /repos/{owner}/{repo}/pulls/comments/{comment_id}:
    parameters: [{$ref: "#/components/parameters/owner"}, {$ref: "#/components/parameters/repo"},
                 {name: comment_id, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: get_pull_comment
      responses:
        "200": {$ref: "#/components/responses/ReviewComment"}
        "404": {description: missing}
  /orgs/{org}/comments:
    parameters: [{name: org, in: path, required: true, schema: {type: string}}]
    get:
      operationId: list_org_comments
      responses: {"200": {$ref: "#/components/responses/Comments"}}
  /repos/{owner}/{repo}/comments/{comment_id}:
    parameters: [{$ref: "#/components/parameters/owner"}, {$ref: "#/components/parameters/repo"},
                 {name: comment_id, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: get_commit_comment
      responses: {"200": {$ref: "#/components/responses/Label"}}
  /squads:
    post:
      operationId: create_squad
      requestBody:
        content: {application/json: {schema: {type: object, properties: {name: {type: string}}}}}
      responses: {"201": {$ref: "#/components/responses/Squad"}}
    get:
      operationId: list_squads
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Squad"}}}
  /squads/{squad_slug}:
    get:
      operationId: get_squad
      parameters: [{name: squad_slug, in: path, required: true, schema: {type: string}}]
      responses: {"200": {$ref: "#/components/responses/Squad"}}
  /user/following:
    get:
      operationId: list_followed
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/User"}}}
  /user/following/{username}:
    parameters: [{name: username, in: path, required: true, schema: {type: string}}]
    get:
      operationId: is_followed
      responses: {"204": {description: "yes"}, "404": {description: "no"}}
    put:
      operationId: follow
      responses: {"204": {description: done}, "404": {description: no such user}}
    delete:
      operationId: unfollow
      responses: {"204": {description: done}, "404": {description: not followed}}
components:
  parameters:
    owner: {name: owner, in: path, required: true, schema: {type: string}}
    repo: {name: repo, in: path, required: true, schema: {type: string}}
  responses:
    Comments:
      description: ok
      content:
        application/json:
          schema: {type: array, items: {$ref: "#/components/schemas/ReviewComment"}}
    ReviewComment:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/ReviewComment"}}}
    Squad:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/Squad"}}}
    Label:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/Label"}}}
    Org:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/Org"}}}
    Membership:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/Membership"}}}
    TeamMembership:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/TeamMembership"}}}
    Repo:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/Repo"}}}
  schemas:
    User:
      type: object
      required: [login, id]
      properties:
        login: {type: string}
        id: {type: integer}
        name: {type: string, nullable: true}
    Org:
      type: object
      required: [login, id]
      properties:
        login: {type: string}
        id: {type: integer}
        name: {type: string}
    Membership:
      type: object
      required: [role, state, user]
      properties:
        role: {type: string, enum: [admin, member]}
        state: {type: string, enum: [active, pending]}
        user: {$ref: "#/components/schemas/User"}
    TeamMembership:
      type: object
      required: [role, state]
      properties:
        role: {type: string, enum: [member, maintainer]}
        state: {type: string, enum: [active, pending]}
    Repo:
      type: object
      required: [id, name, owner]
      properties:
        id: {type: integer}
        name: {type: string}
        description: {type: string, nullable: true}
        owner: {$ref: "#/components/schemas/User"}
    Label:
      type: object
      properties:
        id: {type: integer}
        name: {type: string}
    Squad:
      type: object
      required: [id, slug, name]
      properties:
        id: {type: integer}
        slug: {type: string, readOnly: true}
        name: {type: string}
    ReviewComment:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        body: {type: string}
"""


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return served_text(tmp_path, SPEC, name="served.yaml", seed=3)[0]


def test_a_key_held_in_an_object_is_found_by_meaning(spec_path: Path) -> None:
    resources, bindings = infer_resources(load_spec(spec_path))
    memberships = resources["/orgs/{org}/memberships"]
    assert [(p.param, p.field) for p in memberships.key_parts] == [("username", ("user", "login"))]
    assert {b.action for b in bindings.values() if b.resource is memberships} == {
        "read", "replace", "delete",
    }  # fmt: skip
    repos = resources["/repos"]
    assert [(p.param, p.field) for p in repos.key_parts] == [
        ("owner", ("owner", "login")), ("repo", ("name",)),
    ]  # fmt: skip
    assert bindings["create_repo"].resource is repos and bindings["list_my_repos"].resource is repos
    # a bare text parameter names an account's login, not its numeric id
    assert resources["/orgs"].id_field == "login"
    # an item two parameters name is no parent: its sub-lists keep their own records
    assert bindings["list_labels"].resource.parent is None


def test_put_makes_a_membership_get_reads_it_back_delete_removes_it(client) -> None:
    path = "/orgs/acme/memberships/ada"
    assert client.get(path).status_code == 404
    made = client.put(path, json={"role": "member"})
    assert made.status_code == 200, made.get_json()
    assert made.get_json()["role"] == "member"
    assert made.get_json()["user"]["login"] == "ada"
    read = client.get(path).get_json()
    assert (read["role"], read["user"]["login"]) == ("member", "ada")
    assert client.put(path, json={"role": "admin"}).status_code == 200
    assert client.get(path).get_json()["role"] == "admin"
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404


def test_an_item_showing_no_key_is_named_by_its_path(client) -> None:
    path = "/teams/core/memberships/ada"
    assert client.put(path, json={"role": "maintainer"}).status_code == 200
    assert client.get(path).get_json()["role"] == "maintainer"
    assert client.get("/teams/core/memberships/bob").status_code == 404


def test_an_item_two_parameters_name_keeps_what_a_patch_sends(client) -> None:
    made = client.post("/user/repos", json={"name": "hello", "description": "first"})
    assert made.status_code == 201, made.get_json()
    owner = made.get_json()["owner"]["login"]
    path = f"/repos/{owner}/hello"
    assert client.get(path).get_json()["description"] == "first"
    changed = client.patch(path, json={"description": "second"})
    assert changed.status_code == 200 and changed.get_json()["description"] == "second"
    assert client.get(path).get_json()["description"] == "second"
    assert client.get(f"/repos/{owner}x/hello").status_code == 404
    # renamed: found by its new name, no longer by the old
    assert client.patch(path, json={"name": "renamed"}).status_code == 200
    assert client.get(f"/repos/{owner}/renamed").get_json()["description"] == "second"
    assert client.get(path).status_code == 404


def test_a_list_under_an_item_of_the_very_item_schema_makes_those_items(client, spec_path) -> None:
    """``/pulls/{pull_number}/comments`` lists and creates what ``/pulls/comments/{comment_id}``
    reads: the same schema, among several resources named ``comments``, made nowhere else.
    A list alone under another item (``/orgs/{org}/comments``) is not those items."""
    _resources, bindings = infer_resources(load_spec(spec_path))
    comments = bindings["get_pull_comment"].resource
    assert bindings["add_pull_comment"].resource is comments
    assert bindings["list_pull_comments"].resource is comments
    assert bindings["get_commit_comment"].resource is not comments
    assert (
        "list_org_comments" not in bindings
        or bindings["list_org_comments"].resource is not comments
    )
    made = client.post("/repos/o/r/pulls/7/comments", json={"body": "looks good"})
    assert made.status_code == 201, made.get_json()
    read = client.get(f"/repos/o/r/pulls/comments/{made.get_json()['id']}")
    assert read.status_code == 200 and read.get_json()["body"] == "looks good"


def test_a_list_under_a_parent_its_items_do_not_name_shows_those_made_there(client) -> None:
    """``/pulls/{pull_number}/comments`` lists the comments made under that pull request
    only, though every comment is read at ``/pulls/comments/{comment_id}``; a comment keeps
    what it was made under through a change, and never shows it."""
    one = client.post("/repos/o/r/pulls/7/comments", json={"body": "on seven"}).get_json()
    two = client.post("/repos/o/r/pulls/8/comments", json={"body": "on eight"}).get_json()
    assert not any(key.startswith("__") for key in one), one
    listed = client.get("/repos/o/r/pulls/7/comments").get_json()
    assert [c["id"] for c in listed] == [one["id"]], listed
    assert [c["id"] for c in client.get("/repos/o/r/pulls/8/comments").get_json()] == [two["id"]]
    read = client.get(f"/repos/o/r/pulls/comments/{one['id']}").get_json()
    assert read["body"] == "on seven" and not any(key.startswith("__") for key in read)


def test_a_create_under_a_parent_fills_the_field_that_names_it(client) -> None:
    """``POST /orgs/{org}/repos`` makes a repository that org owns: read back at
    ``/repos/{org}/{name}``, and listed under that org only."""
    made = client.post("/orgs/acme/repos", json={"name": "rocket"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["owner"]["login"] == "acme"
    assert client.get("/repos/acme/rocket").status_code == 200
    assert client.post("/orgs/other/repos", json={"name": "sled"}).status_code == 201
    listed = client.get("/orgs/acme/repos").get_json()
    assert [(r["owner"]["login"], r["name"]) for r in listed] == [("acme", "rocket")]


def test_a_duplicate_is_answered_with_the_status_the_operation_declares_for_it(client) -> None:
    """No 409 declared, a 422 is: "already exists" is answered 422 (GitHub's labels)."""
    assert client.post("/repos/o/r/labels", json={"name": "bug"}).status_code == 201
    again = client.post("/repos/o/r/labels", json={"name": "bug"})
    assert again.status_code == 422


def test_a_yes_or_no_get_answers_from_what_put_and_delete_did(client, spec_path) -> None:
    """``GET /user/following/{username}`` says 204 or 404, no body: from the state, where
    the PUT (which answers no body either) put it and the DELETE removed it. The key is
    found in the list's items, the item path showing none."""
    resources, bindings = infer_resources(load_spec(spec_path))
    assert bindings["is_followed"].action == "check"
    assert resources["/user/following"].id_field == "login"
    assert client.get("/user/following/ada").status_code == 404
    assert client.put("/user/following/ada").status_code == 204
    assert client.get("/user/following/ada").status_code == 204
    assert client.delete("/user/following/ada").status_code == 204
    assert client.get("/user/following/ada").status_code == 404


def test_a_taken_key_is_drawn_again_only_in_the_part_the_server_made(client) -> None:
    """The same create twice (a seeded sandbox makes the same owner for the same body): the
    name is the client's, the owner the server's, drawn again as a generated id is."""
    first = client.post("/user/repos", json={"name": "twin"})
    second = client.post("/user/repos", json={"name": "twin"})
    assert (first.status_code, second.status_code) == (201, 201)
    owners = [made.get_json()["owner"]["login"] for made in (first, second)]
    assert owners[0] != owners[1]
    for owner in owners:
        assert client.get(f"/repos/{owner}/twin").status_code == 200


def test_the_identifiers_beside_a_redrawn_key_are_drawn_again(client) -> None:
    """A squad keyed by its ``slug`` made thrice from one body (one seeded draw): the slug
    is drawn again, and so is its numeric ``id``, else two items show one id."""
    made = [client.post("/squads", json={"name": "Justice"}).get_json() for _ in range(3)]
    assert len({squad["slug"] for squad in made}) == 3
    assert len({squad["id"] for squad in made}) == 3
