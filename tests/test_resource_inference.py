"""Resources recognised where a vendor's spec words them differently from our conventions
(issue 18, item 1), each rule on a small spec written here. The real case is DigitalOcean's
spec: ``sandbox check`` found 101 resources and bound 257 of 659 operations before these
rules, 120 and 348 after (tags, SSH keys and every list whose ``meta`` is an ``allOf``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.resources.inference import infer_resources
from sandbox.spec.model import load_spec

SPEC = """
openapi: 3.0.3
info: {title: inference, version: "1"}
paths:
  /v2/tags:
    get:
      operationId: tags_list
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                allOf:
                  - type: object
                    properties:
                      tags: {type: array, items: {$ref: "#/components/schemas/Tag"}}
                  - type: object
                    properties:
                      meta:
                        allOf:
                          - {type: object, properties: {total: {type: integer}}}
                          - required: [total]
    post:
      operationId: tags_create
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Tag"}}}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {type: object, properties: {tag: {$ref: "#/components/schemas/Tag"}}}
  /v2/tags/{tag_id}:
    get:
      operationId: tags_get
      parameters: [{name: tag_id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {tag: {$ref: "#/components/schemas/Tag"}}}
  /v2/account/keys:
    post:
      operationId: sshKeys_create
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Key"}}}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {type: object, properties: {ssh_key: {$ref: "#/components/schemas/Key"}}}
  /v2/account/keys/{ssh_key_identifier}:
    get:
      operationId: sshKeys_get
      parameters: [{name: ssh_key_identifier, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {ssh_key: {$ref: "#/components/schemas/Key"}}}
  /me:
    get:
      operationId: get-current-users-profile
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  display_name: {type: string}
                  images: {type: array, items: {type: object, properties: {url: {type: string}}}}
                  followers: {allOf: [{type: object, properties: {total: {type: integer}}}]}
components:
  schemas:
    Tag:
      type: object
      properties:
        name: {type: string}
        resources: {type: object, properties: {count: {type: integer}}}
    Key:
      type: object
      required: [name, public_key]
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
        public_key: {type: string}
"""


@pytest.fixture
def bound(tmp_path: Path) -> dict[str, tuple[str, str, str, list[str]]]:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    _resources, bindings = infer_resources(load_spec(path))
    return {
        key: (b.resource.name, b.action, b.resource.id_field, b.slot) for key, b in bindings.items()
    }


def test_a_list_beside_an_allof_meta_is_still_a_list(bound) -> None:
    # meta's second part names no type; read alone it admits arrays, and two arrays hid the list
    assert bound["tags_list"] == ("tags", "list", "name", ["tags"])


def test_an_item_with_no_id_of_any_kind_is_named_by_its_name(bound) -> None:
    assert bound["tags_get"] == ("tags", "read", "name", ["tag"])
    assert bound["tags_create"] == ("tags", "create", "name", ["tag"])


def test_an_envelope_named_for_the_item_by_a_longer_name_is_its_slot(bound) -> None:
    # /v2/account/keys makes the singular "key"; the answer puts it in `ssh_key`
    assert bound["sshKeys_create"] == ("keys", "create", "id", ["ssh_key"])
    assert bound["sshKeys_get"] == ("keys", "read", "id", ["ssh_key"])


def test_an_object_with_an_id_of_its_own_is_not_a_page_of_its_only_list(bound) -> None:
    # Spotify's user profile has one list (images) once its allOf fields are read as objects
    assert "get-current-users-profile" not in bound


NAMES = """
openapi: 3.0.3
info: {title: names, version: "1"}
paths:
  /user/installations/{installation_id}/repositories:
    get:
      operationId: installation_repos
      parameters: [{name: installation_id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Repo"}}}
  /user/installations/{installation_id}/repositories/{repository_id}:
    delete:
      operationId: installation_repo_remove
      parameters:
        - {name: installation_id, in: path, required: true, schema: {type: integer}}
        - {name: repository_id, in: path, required: true, schema: {type: integer}}
      responses: {"204": {description: gone}}
  /repositories:
    get:
      operationId: public_repos
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Mini"}}}
components:
  schemas:
    Repo: {type: object, properties: {id: {type: integer}, full: {type: boolean}}}
    Mini: {type: object, properties: {name: {type: string}, url: {type: string}}}
"""


def test_two_resources_never_share_a_name(tmp_path: Path) -> None:
    """GitHub's ``/repositories`` came after ``/user/installations/{id}/repositories`` had the
    name ``repositories`` (its path's plain words are that name too): one store for two
    schemas, and the one list showed the other's records (a response schema violation)."""
    path = tmp_path / "names.yaml"
    path.write_text(NAMES)
    _resources, bindings = infer_resources(load_spec(path))
    ours, theirs = bindings["installation_repos"].resource, bindings["public_repos"].resource
    assert ours is not theirs and ours.name != theirs.name


RUNS = """
openapi: 3.0.3
info: {title: runs, version: "1"}
paths:
  /threads/{thread_id}:
    get:
      operationId: getThread
      parameters: [{name: thread_id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {$ref: "#/components/responses/Thread"}}
  /threads/{thread_id}/runs:
    post:
      operationId: createRun
      parameters: [{name: thread_id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {$ref: "#/components/responses/Run"}}
  /threads/{thread_id}/runs/{run_id}:
    get:
      operationId: getRun
      parameters:
        - {name: thread_id, in: path, required: true, schema: {type: string}}
        - {name: run_id, in: path, required: true, schema: {type: string}}
      responses: {"200": {$ref: "#/components/responses/Run"}}
  /jobs/{job_id}/runs/{run_id}:
    get:
      operationId: getJobRun
      parameters:
        - {name: job_id, in: path, required: true, schema: {type: string}}
        - {name: run_id, in: path, required: true, schema: {type: string}}
      responses: {"200": {$ref: "#/components/responses/Thread"}}
  /threads/runs:
    post:
      operationId: createThreadAndRun
      responses: {"200": {$ref: "#/components/responses/Run"}}
components:
  responses:
    Thread:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/Thread"}}}
    Run:
      description: ok
      content: {application/json: {schema: {$ref: "#/components/schemas/Run"}}}
  schemas:
    Thread: {type: object, properties: {id: {type: string}}}
    Run: {type: object, properties: {id: {type: string}, thread_id: {type: string}}}
"""


def test_a_nested_item_is_made_only_where_its_path_names_the_parent(tmp_path: Path) -> None:
    """OpenAI's ``POST /threads/runs`` answers a run, the very schema of
    ``/threads/{thread_id}/runs/{run_id}``; but its path names no thread, so it does not
    make that resource's items (it would hang them under a thread with no id)."""
    path = tmp_path / "runs.yaml"
    path.write_text(RUNS)
    _resources, bindings = infer_resources(load_spec(path))
    assert bindings["createRun"].resource is bindings["getRun"].resource
    assert "createThreadAndRun" not in bindings
