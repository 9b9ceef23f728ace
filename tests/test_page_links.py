"""Page links by meaning (issue 18, item 4): an RFC 8288 ``Link`` header where the operation
declares one (GitHub's paging), and a body's ``first``/``prev``/``next``/``last`` links
(DigitalOcean's ``links.pages``), all computed from what is stored and pointing into the
sandbox itself, never at the host a spec's example names.

The specs are small and written here to state the rules; the real cases are GitHub's
``github_api.json`` (165 list operations declare ``Link``, whose example points at
api.github.com) and DigitalOcean's ``links.pages`` (an ``anyOf`` of forward links, backward
links or anything, beside a ``meta`` given as an ``allOf`` that hid the list until now).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.spec_helpers import served_text

SPEC = """
openapi: 3.0.3
info: {title: pages, version: "1"}
paths:
  /repos/{owner}/issues:
    parameters: [{name: owner, in: path, required: true, schema: {type: string}}]
    get:
      operationId: issues/list
      parameters:
        - {name: per_page, in: query, schema: {type: integer, default: 30}}
        - {name: page, in: query, schema: {type: integer, default: 1}}
      responses:
        "200":
          description: ok
          headers:
            Link:
              example: '<https://api.github.com/resource?page=2>; rel="next"'
              schema: {type: string}
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Issue"}}
    post:
      operationId: issues/create
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [title], properties: {title: {type: string}}}
      responses:
        "201":
          description: created
          content: {application/json: {schema: {$ref: "#/components/schemas/Issue"}}}
  /repos/{owner}/issues/{issue_number}:
    parameters:
      - {name: owner, in: path, required: true, schema: {type: string}}
      - {name: issue_number, in: path, required: true, schema: {type: integer}}
    get:
      operationId: issues/get
      responses:
        "200":
          description: ok
          headers: {Link: {schema: {type: string}}}
          content: {application/json: {schema: {$ref: "#/components/schemas/Issue"}}}
  /v2/droplets:
    get:
      operationId: droplets_list
      parameters:
        - {name: per_page, in: query, schema: {type: integer, default: 20}}
        - {name: page, in: query, schema: {type: integer, default: 1}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [droplets]
                properties:
                  droplets: {type: array, items: {$ref: "#/components/schemas/Droplet"}}
                  links:
                    type: object
                    properties:
                      pages:  # DigitalOcean's: forward links, backward links, or anything
                        anyOf:
                          - $ref: "#/components/schemas/Forward"
                          - $ref: "#/components/schemas/Backward"
                          - {}
                  meta:  # an allOf whose second part names no type: still one object
                    allOf:
                      - {type: object, properties: {total: {type: integer}}}
                      - required: [total]
    post:
      operationId: droplets_create
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses:
        "202":
          description: accepted
          content:
            application/json:
              schema:
                type: object
                properties: {droplet: {$ref: "#/components/schemas/Droplet"}}
  /v2/droplets/{droplet_id}:
    get:
      operationId: droplets_get
      parameters: [{name: droplet_id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties: {droplet: {$ref: "#/components/schemas/Droplet"}}
  /followers:  # generated, not stored: the spec's examples make the first page only
    x-sandbox-resource: false
    get:
      operationId: followers_list
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 1}}
        - {name: per_page, in: query, schema: {type: integer, maximum: 100}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: array
                minItems: 2
                maxItems: 2
                items: {$ref: "#/components/schemas/Follower"}
components:
  schemas:
    Follower:
      type: object
      required: [id, login]
      properties:
        id: {type: integer, example: 1}
        login: {type: string, example: octocat}
    Issue:
      type: object
      required: [id, number, title]
      properties:
        id: {type: integer}
        number: {type: integer, readOnly: true}
        title: {type: string}
    Forward:
      allOf:
        - {type: object, properties: {last: {type: string, example: "https://a.example/x?page=9"}}}
        - {type: object, properties: {next: {type: string, example: "https://a.example/x?page=3"}}}
    Backward:
      type: object
      properties:
        first: {type: string, example: "https://api.example.com/v2/x?page=1"}
        prev: {type: string, example: "https://api.example.com/v2/x?page=1"}
    Droplet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
"""

_LINK = re.compile(r'<([^>]+)>; rel="([a-z]+)"')


def _links(header: str | None) -> dict[str, str]:
    """An RFC 8288 header as {relation: url}, each part checked for its form."""
    if header is None:
        return {}
    parts = header.split(", ")
    assert all(_LINK.fullmatch(part) for part in parts), header
    return {rel: url for url, rel in (_LINK.fullmatch(p).groups() for p in parts)}  # type: ignore[union-attr]


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return served_text(tmp_path, SPEC, seed_records=0)[0]


def _local(url: str) -> str:
    assert url.startswith("http://localhost/"), url  # the request's own host, never the example's
    return url.removeprefix("http://localhost")


def test_a_declared_link_header_pages_over_what_is_stored(client: FlaskClient) -> None:
    for n in range(5):
        client.post("/repos/o/issues", json={"title": f"t{n}"})
    first = client.get("/repos/o/issues?per_page=2")
    links = _links(first.headers.get("Link"))
    assert set(links) == {"next", "last"}
    assert _local(links["next"]) == "/repos/o/issues?per_page=2&page=2"
    assert _local(links["last"]) == "/repos/o/issues?per_page=2&page=3"
    middle = _links(client.get("/repos/o/issues?per_page=2&page=2").headers.get("Link"))
    assert set(middle) == {"next", "last", "prev", "first"}
    assert _local(middle["prev"]) == "/repos/o/issues?per_page=2&page=1"
    last = _links(client.get("/repos/o/issues?per_page=2&page=3").headers.get("Link"))
    assert set(last) == {"prev", "first"}  # the last page has no next and names no last


def test_a_pager_that_follows_the_link_header_sees_every_record_once(client: FlaskClient) -> None:
    made = [client.post("/repos/o/issues", json={"title": "t"}).get_json()["id"] for _ in range(7)]
    seen: list[int] = []
    url: str | None = "/repos/o/issues?per_page=3"
    while url is not None:
        answer = client.get(url)
        seen += [issue["id"] for issue in answer.get_json()]
        following = _links(answer.headers.get("Link")).get("next")
        url = _local(following) if following else None
        assert len(seen) <= 7, "the pager does not end"
    assert sorted(seen) == sorted(made)


def test_walking_generated_pages_shows_each_item_once(tmp_path: Path) -> None:
    """A list the sandbox generates rather than stores (issue 19): the spec's examples make
    the first page only, else every page showed the example's item again (GitHub's
    ``GET /users/{username}/followers``: the user whose example ``id`` is 1)."""
    client = served_text(tmp_path, SPEC, seed=1)[0]  # seeded: a page is the same page
    seen: list[int] = []
    for page in (1, 2, 3):
        items = client.get("/followers", query_string={"page": page, "per_page": 2}).get_json()
        seen += [item["id"] for item in items]
    assert len(seen) == len(set(seen)) == 6
    again = client.get("/followers", query_string={"page": 2, "per_page": 2}).get_json()
    assert [item["id"] for item in again] == seen[2:4]


def test_a_single_page_and_a_non_list_send_no_link_header(client: FlaskClient) -> None:
    made = client.post("/repos/o/issues", json={"title": "only"}).get_json()
    assert "Link" not in client.get("/repos/o/issues").headers  # no example leaks out either
    assert "Link" not in client.get(f"/repos/o/issues/{made['number']}").headers


def test_each_request_s_links_name_its_own_host(client: FlaskClient) -> None:
    """The request's scheme and host are remembered per pair (a werkzeug look-up costs about
    12 µs): a second host, or a second scheme, gets its own links, never the first one's."""
    for n in range(3):
        client.post("/repos/o/issues", json={"title": f"t{n}"})
    for base, host in [("http://a.test", "a.test"), ("http://b.test:8080", "b.test:8080"),
                       ("https://a.test", "a.test"), ("http://a.test", "a.test")]:  # fmt: skip
        answer = client.get("/repos/o/issues?per_page=2", base_url=base, headers={"Host": host})
        assert _links(answer.headers.get("Link"))["next"].startswith(base + "/repos/o/issues")


@pytest.mark.parametrize("seed", [0, 6, 7, 11])  # 6, 7, 11: the generator drops `pages`
def test_a_bodys_page_links_name_every_page_that_exists(tmp_path: Path, seed: int) -> None:
    client = served_text(tmp_path, SPEC, seed_records=0, seed=seed)[0]
    for n in range(5):
        client.post("/v2/droplets", json={"name": f"d{n}"})
    first = client.get("/v2/droplets?per_page=2").get_json()
    assert first["meta"]["total"] == 5
    pages = first["links"]["pages"]
    assert set(pages) == {"next", "last"}  # none to go back to: not made-up links elsewhere
    assert _local(pages["next"]) == "/v2/droplets?per_page=2&page=2"
    assert _local(pages["last"]) == "/v2/droplets?per_page=2&page=3"
    middle = client.get("/v2/droplets?per_page=2&page=2").get_json()["links"]["pages"]
    assert {rel: _local(url) for rel, url in middle.items()} == {
        "first": "/v2/droplets?per_page=2&page=1",
        "prev": "/v2/droplets?per_page=2&page=1",
        "next": "/v2/droplets?per_page=2&page=3",
        "last": "/v2/droplets?per_page=2&page=3",
    }
    seen, url = [], "/v2/droplets?per_page=2"
    while url:
        page = client.get(url).get_json()
        seen += [d["name"] for d in page["droplets"]]
        following = page.get("links", {}).get("pages", {}).get("next")
        url = _local(following) if following else ""
    assert sorted(seen) == [f"d{n}" for n in range(5)]


def test_githubs_issue_list_pages_by_its_link_header(corpus: Path, tmp_path: Path) -> None:
    """The real case: GitHub's spec declares ``Link`` on 165 list operations, with an example
    at api.github.com; the pager must stay in the sandbox and see each issue once."""
    from sandbox import create_app, load_settings

    spec = corpus / "real" / "github_api.json"
    overrides = {"state": ":memory:", "seed_records": 0, "auth": "off",
                 "spec_cache": str(tmp_path)}  # fmt: skip
    client = create_app(spec, load_settings(spec, environ={}, overrides=overrides)).test_client()
    made = [
        client.post("/repos/octo/hello/issues", json={"title": f"t{n}"}).get_json()["id"]
        for n in range(5)
    ]
    seen: list[int] = []
    url: str | None = "/repos/octo/hello/issues?per_page=2"
    while url is not None and len(seen) <= 5:
        answer = client.get(url)
        assert answer.status_code == 200
        seen += [issue["id"] for issue in answer.get_json()]
        following = _links(answer.headers.get("Link")).get("next")
        url = _local(following) if following else None
    assert sorted(seen) == sorted(made)


def test_digitaloceans_tags_page_by_their_links_pages(corpus: Path, tmp_path: Path) -> None:
    """The real case: DigitalOcean's tags were not a resource at all (their list's ``meta``
    allOf read as a second array; a tag is named by its ``name``, it has no id)."""
    from sandbox import create_app, load_settings

    spec = corpus / "real" / "digitalocean" / "specification" / "DigitalOcean-public.v2.yaml"
    overrides = {"state": ":memory:", "seed_records": 0, "auth": "off",
                 "spec_cache": str(tmp_path)}  # fmt: skip
    client = create_app(spec, load_settings(spec, environ={}, overrides=overrides)).test_client()
    for n in range(5):
        assert client.post("/v2/tags", json={"name": f"tag{n}"}).status_code == 201
    assert client.get("/v2/tags/tag3").get_json()["tag"]["name"] == "tag3"
    seen: list[str] = []
    url = "/v2/tags?per_page=2"
    while url and len(seen) <= 5:
        page = client.get(url).get_json()
        assert page["meta"]["total"] == 5
        seen += [tag["name"] for tag in page["tags"]]
        following = page["links"].get("pages", {}).get("next")
        url = _local(following) if following else ""
    assert seen == [f"tag{n}" for n in range(5)]
