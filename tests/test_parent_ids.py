"""A record's id is its own within its parent: two items with one id under two parents
(a label ``bug`` in project ``a`` and another in project ``b``, their ids chosen by the client
or named by the path, as GitHub's labels and any API whose ids are unique only within their
parent) are two records. Each is created, read, changed, listed and deleted under its own
parent, whichever backend keeps them; a resource with no parent keeps its ids unique as before.

The rule for an item read by its id alone: where the resource's own item path names no
parent (GitHub's review comments, read at ``/pulls/comments/{comment_id}`` though made under
``/pulls/{pull_number}/comments``), its ids stay unique across the resource, as before; a
top-level item path beside a nested one (``GET /labels/{label_id}``) is a resource of its
own, as the inference makes it: it never reads the records made under a project, so it never
has to pick between two of them with one id.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.spec_helpers import served_text

SPEC = """
openapi: 3.0.3
info: {title: scoped ids, version: "1"}
paths:
  /projects:
    post:
      operationId: create_project
      requestBody: {$ref: "#/components/requestBodies/Project"}
      responses: {"201": {$ref: "#/components/responses/Project"}}
  /projects/{project_id}:
    parameters: [$ref: "#/components/parameters/project"]
    get:
      operationId: get_project
      responses: {"200": {$ref: "#/components/responses/Project"}, "404": {description: no}}
  /projects/{project_id}/labels:
    parameters: [$ref: "#/components/parameters/project"]
    get:
      operationId: list_labels
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Label"}}
    post:
      operationId: create_label
      requestBody: {$ref: "#/components/requestBodies/Label"}
      responses:
        "201": {$ref: "#/components/responses/Label"}
        "404": {description: no such project}
        "409": {description: taken}
  /projects/{project_id}/labels/{label_id}:
    parameters: [$ref: "#/components/parameters/project", $ref: "#/components/parameters/label"]
    get:
      operationId: get_label
      responses: {"200": {$ref: "#/components/responses/Label"}, "404": {description: no}}
    put:
      operationId: put_label
      requestBody: {$ref: "#/components/requestBodies/Label"}
      responses:
        "200": {$ref: "#/components/responses/Label"}
        "201": {$ref: "#/components/responses/Label"}
    patch:
      operationId: update_label
      requestBody: {$ref: "#/components/requestBodies/Label"}
      responses: {"200": {$ref: "#/components/responses/Label"}, "404": {description: no}}
    delete:
      operationId: delete_label
      responses: {"204": {description: gone}, "404": {description: no}}
  /labels/{label_id}:
    parameters: [$ref: "#/components/parameters/label"]
    get:
      operationId: get_any_label
      responses: {"200": {$ref: "#/components/responses/Label"}, "404": {description: no}}
components:
  parameters:
    project: {name: project_id, in: path, required: true, schema: {type: string}}
    label: {name: label_id, in: path, required: true, schema: {type: string}}
  requestBodies:
    Project: {content: {application/json: {schema: {$ref: "#/components/schemas/Project"}}}}
    Label: {content: {application/json: {schema: {$ref: "#/components/schemas/Label"}}}}
  responses:
    Project:
      description: a project
      content: {application/json: {schema: {$ref: "#/components/schemas/Project"}}}
    Label:
      description: a label
      content: {application/json: {schema: {$ref: "#/components/schemas/Label"}}}
  schemas:
    Project:
      type: object
      properties:
        id: {type: string}
        name: {type: string}
    Label:
      type: object
      properties:
        id: {type: string}
        project_id: {type: string, readOnly: true}
        color: {type: string}
"""


def _served(request: pytest.FixtureRequest, folder: Path, text: str) -> FlaskClient:
    """``text`` served on the state file, or on a real Redis."""
    if request.param == "sqlite":
        return served_text(folder, text, seed=3)[0]
    return served_text(folder, text, seed=3, redis=request.getfixturevalue("redis_url"))[0]


@pytest.fixture(params=["sqlite", "redis"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> FlaskClient:
    return _served(request, tmp_path, SPEC)


@pytest.fixture
def two_projects(client: FlaskClient) -> FlaskClient:
    for project in ("a", "b"):
        assert client.post("/projects", json={"id": project, "name": project}).status_code == 201
    return client


def test_one_id_under_two_parents_is_two_records(two_projects: FlaskClient) -> None:
    client = two_projects
    red = client.post("/projects/a/labels", json={"id": "bug", "color": "red"})
    assert red.status_code == 201, red.get_json()
    blue = client.post("/projects/b/labels", json={"id": "bug", "color": "blue"})
    assert blue.status_code == 201, blue.get_json()
    assert blue.get_json() == {"id": "bug", "project_id": "b", "color": "blue"}
    assert client.get("/projects/a/labels/bug").get_json()["color"] == "red"
    assert client.get("/projects/b/labels/bug").get_json()["color"] == "blue"
    # the id is still taken within its own parent
    again = client.post("/projects/a/labels", json={"id": "bug", "color": "green"})
    assert again.status_code == 409, again.get_json()
    assert client.get("/projects/a/labels/bug").get_json()["color"] == "red"


def test_each_parent_lists_changes_and_deletes_its_own(two_projects: FlaskClient) -> None:
    client = two_projects
    for project, color in (("a", "red"), ("b", "blue")):
        made = client.post(f"/projects/{project}/labels", json={"id": "bug", "color": color})
        assert made.status_code == 201, made.get_json()
    client.post("/projects/b/labels", json={"id": "wontfix", "color": "grey"})
    listed = {p: client.get(f"/projects/{p}/labels").get_json() for p in ("a", "b")}
    assert [(x["id"], x["color"]) for x in listed["a"]] == [("bug", "red")]
    assert [(x["id"], x["color"]) for x in listed["b"]] == [("bug", "blue"), ("wontfix", "grey")]

    changed = client.patch("/projects/b/labels/bug", json={"color": "navy"})
    assert changed.status_code == 200 and changed.get_json()["color"] == "navy"
    assert client.get("/projects/a/labels/bug").get_json()["color"] == "red"
    assert client.get("/projects/b/labels/bug").get_json()["color"] == "navy"

    assert client.delete("/projects/a/labels/bug").status_code == 204
    assert client.get("/projects/a/labels/bug").status_code == 404
    assert client.delete("/projects/a/labels/bug").status_code == 404
    assert client.get("/projects/b/labels/bug").get_json()["color"] == "navy"
    assert [x["id"] for x in client.get("/projects/a/labels").get_json()] == []
    assert [x["id"] for x in client.get("/projects/b/labels").get_json()] == ["bug", "wontfix"]
    # and made again under the parent it was deleted from, beside the other
    assert client.post("/projects/a/labels", json={"id": "bug"}).status_code == 201
    assert client.get("/projects/b/labels/bug").get_json()["color"] == "navy"


def test_a_put_names_an_item_within_its_parent(two_projects: FlaskClient) -> None:
    """The id taken from the path: a PUT makes the item where its parent has none."""
    client = two_projects
    first = client.put("/projects/a/labels/dup", json={"color": "red"})
    assert first.get_json() == {"id": "dup", "project_id": "a", "color": "red"}
    second = client.put("/projects/b/labels/dup", json={"color": "blue"})
    assert second.get_json() == {"id": "dup", "project_id": "b", "color": "blue"}
    replaced = client.put("/projects/b/labels/dup", json={"color": "cyan"})
    assert replaced.status_code == 200, replaced.get_json()
    assert client.get("/projects/a/labels/dup").get_json()["color"] == "red"
    assert client.get("/projects/b/labels/dup").get_json()["color"] == "cyan"


def test_an_item_is_not_read_under_another_parent(two_projects: FlaskClient) -> None:
    client = two_projects
    client.post("/projects/a/labels", json={"id": "bug", "color": "red"})
    assert client.get("/projects/b/labels/bug").status_code == 404
    assert client.patch("/projects/b/labels/bug", json={"color": "x"}).status_code == 404
    assert client.delete("/projects/b/labels/bug").status_code == 404
    assert client.get("/projects/a/labels/bug").get_json()["color"] == "red"


def test_a_top_level_item_path_keeps_records_of_its_own(two_projects: FlaskClient) -> None:
    """``GET /labels/{label_id}`` is the ``labels`` resource, not the projects' labels: it
    answers none of the labels made under a project (which of two ``bug``s would it be?)."""
    client = two_projects
    client.post("/projects/a/labels", json={"id": "bug", "color": "red"})
    client.post("/projects/b/labels", json={"id": "bug", "color": "blue"})
    assert client.get("/labels/bug").status_code == 404
    assert client.get("/projects/a/labels/bug").get_json()["color"] == "red"


def test_a_resource_with_no_parent_keeps_its_ids_unique(client: FlaskClient) -> None:
    assert client.post("/projects", json={"id": "a", "name": "one"}).status_code == 201
    assert client.post("/projects", json={"id": "a", "name": "two"}).status_code == 409
    assert client.get("/projects/a").get_json()["name"] == "one"


DEEP = """
openapi: 3.0.3
info: {title: numbered per parent, version: "1"}
paths:
  /orgs:
    get:
      operationId: list_orgs
      responses: {"200": {$ref: "#/components/responses/Things"}}
    post:
      operationId: create_org
      requestBody: {$ref: "#/components/requestBodies/Thing"}
      responses: {"201": {$ref: "#/components/responses/Thing"}}
  /orgs/{org}:
    parameters: [$ref: "#/components/parameters/org"]
    get:
      operationId: get_org
      responses: {"200": {$ref: "#/components/responses/Thing"}, "404": {description: no}}
  /orgs/{org}/teams:
    parameters: [$ref: "#/components/parameters/org"]
    get:
      operationId: list_teams
      responses: {"200": {$ref: "#/components/responses/Things"}}
    post:
      operationId: create_team
      requestBody: {$ref: "#/components/requestBodies/Thing"}
      responses: {"201": {$ref: "#/components/responses/Thing"}, "404": {description: no}}
  /orgs/{org}/teams/{team}:
    parameters: [$ref: "#/components/parameters/org", $ref: "#/components/parameters/team"]
    get:
      operationId: get_team
      responses: {"200": {$ref: "#/components/responses/Thing"}, "404": {description: no}}
  /orgs/{org}/teams/{team}/discussions:
    parameters: [$ref: "#/components/parameters/org", $ref: "#/components/parameters/team"]
    get:
      operationId: list_discussions
      responses: {"200": {$ref: "#/components/responses/Things"}}
    post:
      operationId: create_discussion
      requestBody: {$ref: "#/components/requestBodies/Thing"}
      responses: {"201": {$ref: "#/components/responses/Thing"}, "404": {description: no}}
  /orgs/{org}/teams/{team}/discussions/{number}:
    parameters:
      - $ref: "#/components/parameters/org"
      - $ref: "#/components/parameters/team"
      - {name: number, in: path, required: true, schema: {type: string}}
    get:
      operationId: get_discussion
      responses: {"200": {$ref: "#/components/responses/Thing"}, "404": {description: no}}
    delete:
      operationId: delete_discussion
      responses: {"204": {description: gone}, "404": {description: no}}
components:
  parameters:
    org: {name: org, in: path, required: true, schema: {type: string}}
    team: {name: team, in: path, required: true, schema: {type: string}}
  requestBodies:
    Thing: {content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
  responses:
    Thing:
      description: one
      content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}
    Things:
      description: some
      content:
        application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}}
  schemas:
    Thing:
      type: object
      properties:
        id: {type: string}
        title: {type: string}
"""


@pytest.fixture(params=["sqlite", "redis"])
def deep(request: pytest.FixtureRequest, tmp_path: Path) -> FlaskClient:
    return _served(request, tmp_path, DEEP)


def test_a_parent_is_named_within_its_own_parent_too(deep: FlaskClient) -> None:
    """Team ``core`` in two orgs is two teams, and discussion ``1`` of each is its own
    (GitHub numbers a team's discussions from 1): a record's parent is the whole line of
    ids its path names above it, not the nearest alone."""
    client = deep
    for org in ("a", "b"):
        assert client.post("/orgs", json={"id": org}).status_code == 201
        made = client.post(f"/orgs/{org}/teams", json={"id": "core", "title": org})
        assert made.status_code == 201, made.get_json()
        made = client.post(f"/orgs/{org}/teams/core/discussions", json={"id": "1", "title": org})
        assert made.status_code == 201, made.get_json()
    assert client.get("/orgs/a/teams/core").get_json()["title"] == "a"
    assert client.get("/orgs/b/teams/core").get_json()["title"] == "b"
    for org in ("a", "b"):
        assert client.get(f"/orgs/{org}/teams/core/discussions/1").get_json()["title"] == org
        listed = client.get(f"/orgs/{org}/teams/core/discussions").get_json()
        assert [(d["id"], d["title"]) for d in listed] == [("1", org)]
    assert client.delete("/orgs/a/teams/core/discussions/1").status_code == 204
    assert client.get("/orgs/a/teams/core/discussions/1").status_code == 404
    assert client.get("/orgs/b/teams/core/discussions/1").get_json()["title"] == "b"
    # a team is looked for under the org the path names
    assert client.post("/orgs/a/teams", json={"id": "only-a"}).status_code == 201
    assert client.post("/orgs/b/teams/only-a/discussions", json={}).status_code == 404


def test_seeded_items_are_listed_under_their_whole_line_of_parents(deep: FlaskClient) -> None:
    client = deep
    org = client.get("/orgs").get_json()[0]["id"]
    team = client.get(f"/orgs/{org}/teams").get_json()[0]["id"]
    listed = client.get(f"/orgs/{org}/teams/{team}/discussions").get_json()
    assert listed, "the seeded team's seeded discussions"
    first = listed[0]["id"]
    assert client.get(f"/orgs/{org}/teams/{team}/discussions/{first}").status_code == 200


def _as_the_release_before_wrote_it(path: Path) -> None:
    """The state file turned into what the release before wrote for the same requests:
    records unique by id alone, each under its parent's id alone, no parent in uniques."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE old (
            seq INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL, resource TEXT NOT NULL, id TEXT NOT NULL,
            parent TEXT NOT NULL DEFAULT '', body TEXT NOT NULL,
            UNIQUE (tenant, resource, id)
        );
        INSERT INTO old SELECT seq, tenant, resource, id,
            replace(parent, rtrim(parent, replace(parent, char(31), '')), ''), body
            FROM records;
        DROP TABLE records;
        ALTER TABLE old RENAME TO records;
        CREATE INDEX records_by_parent ON records (tenant, resource, parent, seq);
        ALTER TABLE uniques DROP COLUMN parent;
    """)  # the replace(): the text after the last \x1f, the parent's own id
    db.commit()
    db.close()


def test_a_state_file_of_the_release_before_keeps_its_deep_records(tmp_path: Path) -> None:
    """Teams and their discussions made by the release before are read, listed and deleted
    where they were made; then team ``core`` of another org may have its own discussion 1."""
    path = tmp_path / "state.sqlite"
    before = served_text(tmp_path, DEEP, seed=3, state=str(path))[0]
    assert before.post("/orgs", json={"id": "a"}).status_code == 201
    assert before.post("/orgs/a/teams", json={"id": "core"}).status_code == 201
    for number in ("1", "2"):
        made = before.post("/orgs/a/teams/core/discussions", json={"id": number, "title": "a"})
        assert made.status_code == 201, made.get_json()
    del before
    _as_the_release_before_wrote_it(path)

    client = served_text(tmp_path, DEEP, seed=3, state=str(path))[0]
    assert client.get("/orgs/a/teams/core/discussions/1").get_json()["title"] == "a"
    listed = client.get("/orgs/a/teams/core/discussions").get_json()
    assert [d["id"] for d in listed] == ["1", "2"]
    assert client.delete("/orgs/a/teams/core/discussions/2").status_code == 204
    assert client.post("/orgs", json={"id": "b"}).status_code == 201
    assert client.post("/orgs/b/teams", json={"id": "core"}).status_code == 201
    made = client.post("/orgs/b/teams/core/discussions", json={"id": "1", "title": "b"})
    assert made.status_code == 201, made.get_json()
    assert client.get("/orgs/a/teams/core/discussions/1").get_json()["title"] == "a"
    assert [d["id"] for d in client.get("/orgs/a/teams/core/discussions").get_json()] == ["1"]
