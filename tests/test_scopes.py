"""The path values above a collection that names no parent record scope its records.

``/repos/{owner}/{repo}/labels``: a repository is named by two parameters, so it is no parent
record (``Resource.nests``), yet each repository has its own labels, and clients (GitHub's
SDKs) create the same label name in several. The values of ``{owner}`` and ``{repo}`` begin
the label's parent line (``sandbox.resources.records.scope_line``): label ``bug`` made under
``a/x`` is not the one made under ``b/y``, each list shows its own, and a read, change or
delete under another repository is a 404.

Seeds are made once per tenant with no scope, so every repository's list starts with them:
they are in view under every scope (readable, changeable and deletable there, for all at
once), and what a client creates under a scope is in view under that scope only. A create
of an id a seed already has is a conflict in every scope. A state file a release before
scopes wrote keeps its records the same way: unscoped, in view everywhere. A resource whose
path parameters all name parent records (``/projects/{project_id}/labels``) is unchanged:
``tests/test_parent_ids.py``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.spec_helpers import served_text

SPEC = """
openapi: 3.0.3
info: {title: scoped by path values, version: "1"}
paths:
  /repos/{owner}/{repo}/labels:
    parameters: [$ref: "#/components/parameters/owner", $ref: "#/components/parameters/repo"]
    get:
      operationId: list_labels
      parameters:
        - {name: per_page, in: query, schema: {type: integer}}
        - {name: page, in: query, schema: {type: integer}}
        - {name: color, in: query, schema: {type: string}}
      responses: {"200": {$ref: "#/components/responses/Labels"}}
    post:
      operationId: create_label
      requestBody: {$ref: "#/components/requestBodies/Label"}
      responses:
        "201": {$ref: "#/components/responses/Label"}
        "422": {description: taken}
  /repos/{owner}/{repo}/labels/{name}:
    parameters:
      - $ref: "#/components/parameters/owner"
      - $ref: "#/components/parameters/repo"
      - {name: name, in: path, required: true, schema: {type: string}}
    get:
      operationId: get_label
      responses: {"200": {$ref: "#/components/responses/Label"}, "404": {description: no}}
    patch:
      operationId: update_label
      requestBody: {$ref: "#/components/requestBodies/Label"}
      responses: {"200": {$ref: "#/components/responses/Label"}, "404": {description: no}}
    delete:
      operationId: delete_label
      responses: {"204": {description: gone}, "404": {description: no}}
  /repos/{owner}/{repo}/issues:
    parameters: [$ref: "#/components/parameters/owner", $ref: "#/components/parameters/repo"]
    get:
      operationId: list_issues
      responses: {"200": {$ref: "#/components/responses/Issues"}}
    post:
      operationId: create_issue
      requestBody: {$ref: "#/components/requestBodies/Issue"}
      responses: {"201": {$ref: "#/components/responses/Issue"}}
  /repos/{owner}/{repo}/issues/{number}:
    parameters:
      - $ref: "#/components/parameters/owner"
      - $ref: "#/components/parameters/repo"
      - $ref: "#/components/parameters/number"
    get:
      operationId: get_issue
      responses: {"200": {$ref: "#/components/responses/Issue"}, "404": {description: no}}
  /repos/{owner}/{repo}/issues/{number}/comments:
    parameters:
      - $ref: "#/components/parameters/owner"
      - $ref: "#/components/parameters/repo"
      - $ref: "#/components/parameters/number"
    get:
      operationId: list_comments
      responses: {"200": {$ref: "#/components/responses/Issues"}}
    post:
      operationId: create_comment
      requestBody: {$ref: "#/components/requestBodies/Issue"}
      responses: {"201": {$ref: "#/components/responses/Issue"}, "404": {description: no}}
  /repos/{owner}/{repo}/issues/{number}/comments/{comment_id}:
    parameters:
      - $ref: "#/components/parameters/owner"
      - $ref: "#/components/parameters/repo"
      - $ref: "#/components/parameters/number"
      - {name: comment_id, in: path, required: true, schema: {type: integer}}
    get:
      operationId: get_comment
      responses: {"200": {$ref: "#/components/responses/Issue"}, "404": {description: no}}
components:
  parameters:
    owner: {name: owner, in: path, required: true, schema: {type: string}}
    repo: {name: repo, in: path, required: true, schema: {type: string}}
    number: {name: number, in: path, required: true, schema: {type: integer}}
  requestBodies:
    Label: {content: {application/json: {schema: {$ref: "#/components/schemas/Label"}}}}
    Issue: {content: {application/json: {schema: {$ref: "#/components/schemas/Issue"}}}}
  responses:
    Label:
      description: a label
      content: {application/json: {schema: {$ref: "#/components/schemas/Label"}}}
    Labels:
      description: labels
      content:
        application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Label"}}}
    Issue:
      description: an issue
      content: {application/json: {schema: {$ref: "#/components/schemas/Issue"}}}
    Issues:
      description: issues
      content:
        application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Issue"}}}
  schemas:
    Label:
      type: object
      properties:
        name: {type: string}
        color: {type: string}
    Issue:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
"""


def _served(request: pytest.FixtureRequest, folder: Path, **overrides: object) -> FlaskClient:
    """The spec on the state file, or on a real Redis."""
    if request.param == "redis":
        overrides["redis"] = request.getfixturevalue("redis_url")
    return served_text(folder, SPEC, seed=3, **overrides)[0]


@pytest.fixture(params=["sqlite", "redis"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> FlaskClient:
    return _served(request, tmp_path)


@pytest.fixture(params=["sqlite", "redis"])
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> FlaskClient:
    """No seed records: a list shows what clients made alone."""
    return _served(request, tmp_path, seed_records=0)


def _names(client: FlaskClient, url: str) -> list[str]:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_json()
    return [label["name"] for label in answer.get_json()]


def test_one_name_in_two_repositories_is_two_labels(bare: FlaskClient) -> None:
    client = bare
    for repo, color in (("a/x", "red"), ("b/y", "blue")):
        made = client.post(f"/repos/{repo}/labels", json={"name": "bug", "color": color})
        assert made.status_code == 201, made.get_json()
    assert client.get("/repos/a/x/labels/bug").get_json()["color"] == "red"
    assert client.get("/repos/b/y/labels/bug").get_json()["color"] == "blue"
    # the same owner, another repository; and still taken within its own (422, as declared)
    assert client.post("/repos/a/z/labels", json={"name": "bug"}).status_code == 201
    assert client.post("/repos/a/x/labels", json={"name": "bug"}).status_code == 422
    client.post("/repos/b/y/labels", json={"name": "wontfix"})
    assert _names(client, "/repos/a/x/labels") == ["bug"]
    assert _names(client, "/repos/b/y/labels") == ["bug", "wontfix"]
    assert _names(client, "/repos/c/w/labels") == []


def test_each_repository_changes_and_deletes_its_own(bare: FlaskClient) -> None:
    client = bare
    for repo in ("a/x", "b/y"):
        client.post(f"/repos/{repo}/labels", json={"name": "bug", "color": repo})
    client.post("/repos/a/x/labels", json={"name": "only-a"})
    assert client.get("/repos/b/y/labels/only-a").status_code == 404
    assert client.patch("/repos/b/y/labels/only-a", json={"color": "x"}).status_code == 404
    assert client.delete("/repos/b/y/labels/only-a").status_code == 404

    changed = client.patch("/repos/b/y/labels/bug", json={"color": "navy"})
    assert changed.status_code == 200, changed.get_json()
    assert client.get("/repos/a/x/labels/bug").get_json()["color"] == "a/x"
    assert client.delete("/repos/a/x/labels/bug").status_code == 204
    assert client.get("/repos/a/x/labels/bug").status_code == 404
    assert client.get("/repos/b/y/labels/bug").get_json()["color"] == "navy"
    assert _names(client, "/repos/a/x/labels") == ["only-a"]


def test_a_scoped_list_pages_through_its_own(bare: FlaskClient) -> None:
    client = bare
    for n in range(5):
        for repo in ("a/x", "b/y"):
            made = client.post(f"/repos/{repo}/labels", json={"name": f"{repo}-{n}"})
            assert made.status_code == 201, made.get_json()
    pages = [_names(client, f"/repos/a/x/labels?per_page=2&page={p}") for p in (1, 2, 3)]
    assert pages == [["a/x-0", "a/x-1"], ["a/x-2", "a/x-3"], ["a/x-4"]]


def test_seeds_are_in_view_in_every_repository(client: FlaskClient) -> None:
    """Every repository's list starts with the tenant's seeds; what a client makes in one
    repository is listed after them there, and not in another."""
    seeded = _names(client, "/repos/a/x/labels?per_page=100")
    assert seeded and _names(client, "/repos/b/y/labels?per_page=100") == seeded
    assert client.get(f"/repos/b/y/labels/{seeded[0]}").status_code == 200
    assert client.post("/repos/a/x/labels", json={"name": "bug"}).status_code == 201
    assert _names(client, "/repos/a/x/labels?per_page=100") == [*seeded, "bug"]
    assert _names(client, "/repos/b/y/labels?per_page=100") == seeded
    # a seed's name is taken in every repository, as it is listed in every one
    assert client.post("/repos/b/y/labels", json={"name": seeded[0]}).status_code == 422
    # a seed changed or deleted under one repository is changed or gone in all
    patched = client.patch(f"/repos/a/x/labels/{seeded[1]}", json={"color": "teal"})
    assert patched.status_code == 200, patched.get_json()
    assert client.get(f"/repos/b/y/labels/{seeded[1]}").get_json()["color"] == "teal"
    assert client.delete(f"/repos/b/y/labels/{seeded[2]}").status_code == 204
    assert client.get(f"/repos/a/x/labels/{seeded[2]}").status_code == 404


def test_a_filtered_list_keeps_to_its_scope_and_the_seeds(client: FlaskClient) -> None:
    """A filter reads every record in view (the store's other way to a page): the scope's
    own and the seeds, in the order they were made."""
    seed = _names(client, "/repos/a/x/labels")[0]
    client.post("/repos/a/x/labels", json={"name": "mine", "color": "teal"})
    client.post("/repos/b/y/labels", json={"name": "theirs", "color": "teal"})
    client.patch(f"/repos/a/x/labels/{seed}", json={"color": "teal"})
    assert _names(client, "/repos/a/x/labels?color=teal") == [seed, "mine"]
    assert _names(client, "/repos/b/y/labels?color=teal") == [seed, "theirs"]
    assert _names(client, "/repos/c/w/labels?color=teal") == [seed]


def test_a_nested_resource_is_scoped_through_its_parent(client: FlaskClient) -> None:
    """An issue's comments: their parent line is the repository's values, then the issue's
    number, so an issue made in one repository, and its comments, are not in another; a
    seeded issue's seeded comments are in view in every repository, as the issue is."""
    made = client.post("/repos/a/x/issues", json={"title": "a/x"})
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["id"]
    assert client.get(f"/repos/a/x/issues/{number}").get_json()["title"] == "a/x"
    assert client.get(f"/repos/b/y/issues/{number}").status_code == 404
    made = client.post(f"/repos/a/x/issues/{number}/comments", json={"title": "first"})
    assert made.status_code == 201, made.get_json()
    assert client.post(f"/repos/b/y/issues/{number}/comments", json={}).status_code == 404
    listed = client.get(f"/repos/a/x/issues/{number}/comments").get_json()
    assert [c["title"] for c in listed] == ["first"]

    seeded_issue = client.get("/repos/c/w/issues").get_json()[0]["id"]
    seeded = client.get(f"/repos/c/w/issues/{seeded_issue}/comments").get_json()
    assert seeded, "the seeded issue's seeded comments"
    assert client.get(f"/repos/d/v/issues/{seeded_issue}/comments").get_json() == seeded
    made = client.post(f"/repos/c/w/issues/{seeded_issue}/comments", json={"title": "mine"})
    assert made.status_code == 201, made.get_json()
    mine = made.get_json()["id"]
    assert client.get(f"/repos/c/w/issues/{seeded_issue}/comments/{mine}").status_code == 200
    assert client.get(f"/repos/d/v/issues/{seeded_issue}/comments/{mine}").status_code == 404
    assert client.get(f"/repos/d/v/issues/{seeded_issue}/comments").get_json() == seeded


def _as_a_release_before_scopes_wrote_it(path: Path) -> None:
    """The state file as the release before scopes wrote the same requests: every record of
    a collection under path values that name no parent kept with no scope."""
    db = sqlite3.connect(path)
    db.execute(
        "UPDATE records SET parent = substr(parent, instr(parent, char(30)) + 1) "
        "WHERE instr(parent, char(30)) > 0"
    )
    db.commit()
    db.close()


def test_a_state_file_from_before_scopes_is_in_view_everywhere(tmp_path: Path) -> None:
    """Labels made by a release before scopes (stored with no scope: which repository they
    were made in is not kept) are read, listed, changed and deleted under any repository, as
    the seeds are; a label made now is its repository's own."""
    path = tmp_path / "state.sqlite"
    before = served_text(tmp_path, SPEC, seed=3, seed_records=0, state=str(path))[0]
    assert before.post("/repos/a/x/labels", json={"name": "old", "color": "red"}).status_code == 201
    del before
    _as_a_release_before_scopes_wrote_it(path)

    client = served_text(tmp_path, SPEC, seed=3, seed_records=0, state=str(path))[0]
    assert client.get("/repos/b/y/labels/old").get_json()["color"] == "red"
    assert client.post("/repos/a/x/labels", json={"name": "new"}).status_code == 201
    assert _names(client, "/repos/a/x/labels") == ["old", "new"]
    assert _names(client, "/repos/b/y/labels") == ["old"]
    assert client.patch("/repos/b/y/labels/old", json={"color": "teal"}).status_code == 200
    assert client.delete("/repos/a/x/labels/old").status_code == 204
    assert _names(client, "/repos/b/y/labels") == []


def test_githubs_labels_are_each_repositorys_own(corpus: Path, tmp_path: Path) -> None:
    """The real case: GitHub's ``/repos/{owner}/{repo}/labels`` (a label is named by its
    name within its repository), as an SDK that makes ``bug`` in every repository uses it."""
    from sandbox import create_app, load_settings

    spec = corpus / "real" / "github_api.json"
    overrides = {"state": ":memory:", "seed_records": 0, "auth": "off",
                 "spec_cache": str(tmp_path)}  # fmt: skip
    client = create_app(spec, load_settings(spec, environ={}, overrides=overrides)).test_client()
    for repo, color in (("octo/hello", "d73a4a"), ("octo/world", "0075ca")):
        made = client.post(f"/repos/{repo}/labels", json={"name": "bug", "color": color})
        assert made.status_code == 201, made.get_json()
    assert client.get("/repos/octo/hello/labels/bug").get_json()["color"] == "d73a4a"
    assert client.get("/repos/octo/world/labels/bug").get_json()["color"] == "0075ca"
    assert client.post("/repos/octo/hello/labels", json={"name": "bug"}).status_code == 422
    assert client.post("/repos/octo/hello/labels", json={"name": "docs"}).status_code == 201
    assert _names(client, "/repos/octo/hello/labels") == ["bug", "docs"]
    assert _names(client, "/repos/octo/world/labels") == ["bug"]
    assert client.delete("/repos/octo/world/labels/docs").status_code == 404
    assert client.delete("/repos/octo/world/labels/bug").status_code == 204
    assert client.get("/repos/octo/hello/labels/bug").status_code == 200
