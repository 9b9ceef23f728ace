"""Answers as a vendor's API gives them (issue 18): errors in the spec's own error schema, with
enum fields chosen by meaning; the request's path id echoed by meaning; ids with the prefix the
spec shows; deletes that say so; query filters reflected; key patterns. Each rule is shown on
a small spec written here, so the rule, not one vendor, is what is tested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox import create_app, load_settings
from sandbox.errors import ConfigError


def _client(tmp_path: Path, document: dict[str, Any], **overrides: Any) -> FlaskClient:
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, **document})
    )
    settings = load_settings(
        spec,
        environ={},
        overrides={"state": ":memory:", "seed": 3, "spec_cache": "off", **overrides},
    )
    return create_app(spec, settings).test_client()


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# --- key patterns ---------------------------------------------------------------------------

SECURED = {
    "paths": {"/things": {"get": {"responses": {"200": _json({"type": "object"})}}}},
    "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
    "security": [{"key": []}],
}


def test_a_key_pattern_accepts_the_family_of_keys_it_names(tmp_path: Path) -> None:
    client = _client(tmp_path, SECURED, api_keys=["sk_test_*", "AC0123:secret"])
    bearer = {"Authorization": "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc"}
    assert client.get("/things", headers=bearer).status_code == 200
    assert client.get("/things", headers={"Authorization": "Bearer sk_live_x"}).status_code == 401
    literal = {"Authorization": "Bearer AC0123:secret"}
    assert client.get("/things", headers=literal).status_code == 200


# --- errors in the spec's own shape (item 7) and enum members by meaning (item 10) ----------

SPOTIFY_LIKE_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}
STRIPE_LIKE_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "api_error",
                        "card_error",
                        "idempotency_error",
                        "invalid_request_error",
                        "authentication_error",
                    ],
                },
                "message": {"type": "string"},
            },
        }
    },
}


def _errors_spec(error_schema: dict[str, Any], security: bool = False) -> dict[str, Any]:
    failed = {
        "description": "failed",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    limit = {"name": "limit", "in": "query", "schema": {"type": "integer"}}
    document: dict[str, Any] = {
        "paths": {
            "/things": {
                "get": {"parameters": [limit], "responses": {"200": _json({"type": "object"})}},
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}}
                    },
                    "responses": {"201": _json({"type": "object"}), "400": failed},
                },
            },
            "/others": {"get": {"responses": {"200": _json({"type": "object"}), "4XX": failed}}},
        },
        "components": {"schemas": {"Error": error_schema}},
    }
    if security:
        document["components"]["securitySchemes"] = {"key": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"key": []}]
    return document


def test_undeclared_errors_answer_in_the_specs_own_error_shape(tmp_path: Path) -> None:
    client = _client(tmp_path, _errors_spec(SPOTIFY_LIKE_ERROR))
    bad = client.get("/things?limit=many")  # the operation declares no 400
    assert bad.status_code == 400
    assert set(bad.get_json()) == {"error"}
    assert bad.get_json()["error"]["status"] == 400 and bad.get_json()["error"]["message"]
    wrong_type = client.post("/things", data="x", content_type="text/plain")
    assert wrong_type.status_code == 415 and wrong_type.get_json()["error"]["status"] == 415
    not_allowed = client.delete("/things")
    assert not_allowed.status_code == 405 and not_allowed.get_json()["error"]["status"] == 405


def test_our_envelope_only_where_the_spec_declares_no_error_schema(tmp_path: Path) -> None:
    document = {
        "paths": {
            "/things": {
                "get": {
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {"200": _json({"type": "object"})},
                }
            }
        }
    }
    bad = _client(tmp_path, document).get("/things?limit=many")
    assert bad.status_code == 400 and bad.get_json()["status"] == "error"


def test_an_error_enum_field_is_the_member_that_fits_the_status_and_cause(tmp_path: Path) -> None:
    client = _client(tmp_path, _errors_spec(STRIPE_LIKE_ERROR, security=True), api_keys=["k"])
    signed = {"Authorization": "Bearer k"}
    for _ in range(3):  # not a lucky draw: every 400 says the same
        bad = client.get("/things?limit=many", headers=signed)
        assert bad.status_code == 400
        assert bad.get_json()["error"]["type"] == "invalid_request_error"
    refused = client.get("/things?limit=1", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["type"] == "authentication_error"


OPENAI_LIKE_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message", "param", "code"],
            "properties": {
                "code": {"type": "string", "nullable": True},
                "message": {"type": "string"},
                "param": {"type": "string", "nullable": True},
                "type": {"type": "string"},
            },
        }
    },
}


def test_an_errors_param_names_the_parameter_at_fault_and_its_type_the_kind(
    tmp_path: Path,
) -> None:
    """OpenAI's error is ``{type, message, param, code}``, all required (code and param
    nullable): ``param`` names the parameter the request got wrong (null when none is),
    ``type`` the kind of error; both were filled with generated words ("param": "program
    movie generation")."""
    client = _client(tmp_path, _errors_spec(OPENAI_LIKE_ERROR))
    bad = client.get("/things?limit=many").get_json()["error"]
    assert (bad["param"], bad["type"], bad["code"]) == (
        "limit",
        "validation_error",
        "VALIDATION_ERROR",
    )
    missing = client.get("/nowhere").get_json()["error"]
    assert (missing["param"], missing["type"]) == (None, "not_found")


# --- stateless answers tied to the request (items 11 and 3) ---------------------------------

ECHO_SPEC = {
    "paths": {
        "/customers/{customer}": {
            "parameters": [
                {"name": "customer", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {"responses": {"200": _json({"$ref": "#/components/schemas/Customer"})}},
            "delete": {"responses": {"200": _json({"$ref": "#/components/schemas/Deleted"})}},
        },
        "/Accounts/{Sid}.json": {
            "get": {
                "parameters": [
                    {"name": "Sid", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "sid": {"type": "string"},
                                "friendly_name": {"type": "string"},
                            },
                        }
                    )
                },
            }
        },
        "/playlists/{playlist_id}/tracks": {
            "get": {
                "parameters": [
                    {
                        "name": "playlist_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"id": {"type": "string"}, "total": {"type": "integer"}},
                        }
                    )
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Customer": {
                "allOf": [
                    {"type": "object", "properties": {"id": {"type": "string"}}},
                    {"type": "object", "properties": {"name": {"type": "string"}}},
                ]
            },
            "Deleted": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean"}},
            },
        }
    },
}


def test_the_items_own_path_id_fills_its_identifier_field(tmp_path: Path) -> None:
    client = _client(tmp_path, ECHO_SPEC, stateful=False)
    for number in range(5):  # every draw, not a lucky one
        assert client.get(f"/customers/cus_{number}").get_json()["id"] == f"cus_{number}"
        assert client.get(f"/Accounts/AC{number}.json").get_json()["sid"] == f"AC{number}"
    # a sub-collection's path id is its parent's, not this object's identifier
    tracks = client.get("/playlists/pl_1/tracks").get_json()
    assert tracks.get("id") != "pl_1"


def test_a_delete_answers_deleted_true_for_that_id(tmp_path: Path) -> None:
    client = _client(tmp_path, ECHO_SPEC, stateful=False)
    for number in range(5):
        gone = client.delete(f"/customers/cus_{number}").get_json()
        assert gone == {"id": f"cus_{number}", "deleted": True}


GONE_ONLY = {
    "type": "object",
    "required": ["id", "deleted"],
    "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean", "enum": [True]}},
}
ONE_OF_TWO = {
    "paths": {
        "/customers/{customer}": {
            "parameters": [
                {"name": "customer", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "responses": {
                    "200": _json(
                        {
                            "anyOf": [
                                {"$ref": "#/components/schemas/Customer"},
                                {"$ref": "#/components/schemas/Gone"},
                            ]
                        }
                    )
                }
            },
            "delete": {
                "responses": {
                    "200": _json(
                        {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Customer"},
                                {"$ref": "#/components/schemas/Gone"},
                            ]
                        }
                    )
                }
            },
        }
    },
    "components": {
        "schemas": {
            "Customer": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
            "Gone": GONE_ONLY,
        }
    },
}


def test_the_path_id_is_echoed_through_an_answer_that_is_one_of_several(tmp_path: Path) -> None:
    """An answer that is one of several objects (``anyOf``/``oneOf``) is made from one branch
    and the path's id echoed into it: reading an id answers the live object, never the one
    that can only be deleted; a DELETE answers the deleted one (Stripe's customer |
    deleted_customer in stripe-mock's stateless use)."""
    client = _client(tmp_path, ONE_OF_TWO, stateful=False)
    for number in range(8):  # every draw, not a lucky one
        got = client.get(f"/customers/cus_{number}").get_json()
        assert got["id"] == f"cus_{number}" and "name" in got and "deleted" not in got, got
        gone = client.delete(f"/customers/cus_{number}").get_json()
        assert gone == {"id": f"cus_{number}", "deleted": True}, gone


def _faker_for(schemas: dict[str, Any]) -> Any:
    from sandbox.generation.faker import DataFaker

    document = {"components": {"schemas": schemas}}

    def resolve(ref: str) -> Any:
        node: Any = document
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node

    return DataFaker(resolve, seed=1, openapi_version="3.0.3")


def test_a_generated_object_keeps_the_fields_clients_read(tmp_path: Path) -> None:
    """Where a schema marks nothing required (as vendors' specs often do), a generated
    object still has what its clients read (its id, name or title, timestamps, links, its
    ``object`` kind, metadata), while other optional fields are still sometimes left out:
    a Spotify playlist or a Twilio account without a name is not what the API answers."""
    import random

    read = ["id", "sid", "name", "title", "created_at", "date_updated", "html_url", "href",
            "object", "metadata", "owner_id"]  # fmt: skip
    others = ["nickname", "color", "score", "notes", "flag", "rank"]
    properties: dict[str, Any] = {name: {"type": "string"} for name in read + others}
    properties["created_at"] = {"type": "string", "format": "date-time"}
    properties["metadata"] = {"type": "object", "additionalProperties": {"type": "string"}}
    schema = {"type": "object", "properties": properties}
    faker = _faker_for({})
    dropped = set()
    for seed in range(30):
        made = faker.generate(schema, rng=random.Random(seed), fresh=True)
        assert set(read) <= set(made), sorted(set(read) - set(made))
        dropped |= set(others) - set(made)
    assert dropped, "optional fields that clients do not rely on are still sometimes left out"


def test_fresh_ids_carry_the_prefix_the_spec_shows(tmp_path: Path) -> None:
    import random

    shown = {"type": "string", "example": "cus_NffrFeUfNV2Hib"}
    said = {"type": "string", "description": "Unique identifier, prefixed with `ch_`."}
    faker = _faker_for({})
    for seed in range(20):
        rng = random.Random(seed)
        assert faker.generate(shown, rng=rng, name="id", fresh=True).startswith("cus_")
        assert faker.generate(said, rng=rng, name="id", fresh=True).startswith("ch_")
        plain = faker.generate({"type": "string"}, rng=rng, name="id", fresh=True)
        assert "_" not in plain


def _made_at(path: str, id_schema: dict[str, Any]) -> dict[str, Any]:
    """A create at ``path`` and its item path, of objects whose ``id`` has ``id_schema``."""
    item = {"type": "object", "properties": {"id": id_schema, "email": {"type": "string"}}}
    listed = {"type": "object", "properties": {"data": {"type": "array", "items": item}}}
    param = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        path: {
            "get": {"responses": {"200": _json(listed)}},
            "post": {
                "requestBody": {"content": {"application/json": {"schema": item}}},
                "responses": {"200": _json(item)},
            },
        },
        path + "/{key}": {"get": {"parameters": [param], "responses": {"200": _json(item)}}},
    }


PREFIXES = {
    "paths": {
        **_made_at("/customers", {"type": "string"}),
        **_made_at("/charges", {"type": "string", "example": "ch_3MmlLrLkdIwHu7ix0snN0B15"}),
    }
}


def test_new_ids_take_the_prefix_the_spec_shows_or_the_setting_names(tmp_path: Path) -> None:
    """A resource's new ids start with the prefix its id's examples show (``ch_``), or,
    where the spec shows none (Stripe's has no example ids), the one ``id_prefixes`` names
    for it (resource name as ``sandbox check`` lists it); stored or ``--stateless``, made
    on create or listed. A name that is no resource is a configuration error."""
    prefixes = {"id_prefixes": {"customers": "cus_"}}
    stored = _client(tmp_path, PREFIXES, **prefixes)
    stateless = _client(tmp_path, PREFIXES, stateful=False, **prefixes)
    for client in (stored, stateless):
        for _ in range(3):
            made = client.post("/customers", json={"email": "a@example.com"}).get_json()
            assert made["id"].startswith("cus_"), made
            shown = client.post("/charges", json={"email": "a@example.com"}).get_json()
            assert shown["id"].startswith("ch_"), shown
        listed = client.get("/customers").get_json()["data"]
        assert listed and all(c["id"].startswith("cus_") for c in listed), listed
    assert stateless.get("/customers/cus_9").get_json()["id"] == "cus_9"  # a path id is kept
    unprefixed = _client(tmp_path, PREFIXES).post("/customers", json={}).get_json()
    assert "_" not in unprefixed["id"], unprefixed
    with pytest.raises(ConfigError, match=r"'customer'.*sandbox check"):
        _client(tmp_path, PREFIXES, id_prefixes={"customer": "cus_"})


def test_no_link_at_the_specs_own_server_leaves_the_sandbox(tmp_path: Path) -> None:
    """A URL at one of the spec's ``servers`` in an answer (an example's ``href`` or
    ``next``, as Spotify's spec shows them) is at the sandbox's own origin, the server's
    path kept: an SDK following it stays here (spotipy followed ``next`` to
    api.spotify.com), in generated and stored answers alike; URLs elsewhere are left alone."""
    shown = {
        "href": "https://api.example.com/v1/things?offset=0&limit=20",
        "next": "https://api.example.com/v1/things?offset=1&limit=1",
        "image": "https://cdn.example.org/a.png",
    }
    page = {"type": "object", "properties": {k: {"type": "string"} for k in shown}}
    page["example"] = shown
    document = {
        "servers": [{"url": "https://api.example.com/v1"}, {"url": "/relative"}],
        "paths": {"/things": {"get": {"responses": {"200": _json(page)}}}},
    }
    for stateful in (True, False):
        got = _client(tmp_path, document, stateful=stateful).get("/v1/things").get_json()
        assert got["href"] == "http://localhost/v1/things?offset=0&limit=20", got
        assert got["next"] == "http://localhost/v1/things?offset=1&limit=1", got
        assert got["image"] == shown["image"]


def _takes(body: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", **body}
    return {
        "requestBody": {"content": {"application/json": {"schema": schema}}},
        "responses": {"201": _json({"type": "object"})},
    }


def test_a_bare_array_is_read_as_the_bodys_one_list(tmp_path: Path) -> None:
    """A JSON array sent where the body is an object whose only array property is all it
    may require is read as that property, and the answer says so (spotipy sends Spotify's
    ``{"uris": [...], "position": 0}`` as the bare list, which the real API takes). A body
    with two lists, or requiring something else, is still refused as sent."""
    uris = {"type": "array", "items": {"type": "string"}}
    document = {
        "paths": {
            "/one": {
                "post": _takes({"properties": {"uris": uris, "position": {"type": "integer"}}})
            },
            "/two": {"post": _takes({"properties": {"uris": uris, "ids": uris}})},
            "/needs": {
                "post": _takes({"required": ["name"], "properties": {"uris": uris, "name": uris}})
            },
        }
    }
    client = _client(tmp_path, document, stateful=False)
    sent = ["spotify:track:1", "spotify:track:2"]
    taken = client.post("/one", json=sent)
    assert taken.status_code == 201, taken.get_json()
    assert taken.headers["X-Sandbox-Body-Read-As"] == '{"uris": [...]}'
    assert client.post("/one", json={"uris": sent}).headers.get("X-Sandbox-Body-Read-As") is None
    for path in ("/two", "/needs"):
        assert client.post(path, json=sent).status_code == 400


def test_a_lists_query_filter_is_reflected_in_its_items(tmp_path: Path) -> None:
    status_enum = {"type": "string", "enum": ["active", "inactive"]}
    item = {"type": "object", "properties": {"id": {"type": "string"}, "status": status_enum}}
    items = {"type": "array", "items": item, "minItems": 3}
    status = {"name": "status", "in": "query", "schema": {"type": "string"}}
    wrapped = _json({"type": "object", "properties": {"data": items}})
    document = {
        "paths": {
            "/things": {"get": {"parameters": [status], "responses": {"200": wrapped}}},
            "/bare": {"get": {"parameters": [status], "responses": {"200": _json(items)}}},
        }
    }
    client = _client(tmp_path, document, stateful=False)
    for wanted in ("active", "inactive"):
        listed = client.get(f"/things?status={wanted}").get_json()["data"]
        assert {thing["status"] for thing in listed} == {wanted}
        bare = client.get(f"/bare?status={wanted}").get_json()
        assert {thing["status"] for thing in bare} == {wanted}
    bogus = client.get("/things?status=bogus").get_json()["data"]  # never an invalid value
    assert {thing["status"] for thing in bogus} <= {"active", "inactive"}


ITEM_KINDS = {
    "paths": {
        "/threads/{thread_id}/items/{item_id}": {
            "parameters": [
                {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                for n in ("thread_id", "item_id")
            ],
            "get": {"responses": {"200": _json({"$ref": "#/components/schemas/Item"})}},
        }
    },
    "components": {
        "schemas": {
            "Item": {
                "oneOf": [{"$ref": f"#/components/schemas/{kind}"} for kind in ("Note", "Call")],
                "discriminator": {"propertyName": "type"},
            },
            "Note": {
                "type": "object",
                "required": ["type", "id", "text"],
                "properties": {
                    "type": {"enum": ["Note"]},
                    "id": {"type": "string"},
                    "text": {"type": "string"},
                },
            },
            "Call": {
                "allOf": [
                    {
                        "type": "object",
                        "required": ["type", "call_id"],
                        "properties": {"type": {"enum": ["Call"]}, "call_id": {"type": "string"}},
                    },
                    {"required": ["id"], "properties": {"id": {"type": "string"}}},
                ]
            },
        }
    },
}


def test_the_path_id_is_echoed_into_whichever_branch_of_a_union_is_answered(
    tmp_path: Path,
) -> None:
    """An answer that is one of several kinds of object, none of them a deleted one (a
    conversation's item: a message, a tool call...), is made from one branch and the item
    path's id echoed into it: ``GET /threads/t/items/msg_1`` answers ``id: msg_1`` whichever
    kind it is, as the real API would."""
    client = _client(tmp_path, ITEM_KINDS, stateful=False)
    kinds = set()
    for number in range(12):
        got = client.get(f"/threads/t_1/items/msg_{number}").get_json()
        assert got["id"] == f"msg_{number}", got
        kinds.add(got["type"])
    assert kinds == {"Note", "Call"}, "each kind is still answered"


PAGED_CATALOG = {
    "paths": {
        "/albums/{id}/tracks": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["items", "limit", "offset", "total"],
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "properties": {"name": {"type": "string"}},
                                    },
                                },
                                "limit": {"type": "integer", "example": 20},
                                "offset": {"type": "integer", "example": 0},
                                "total": {"type": "integer"},
                            },
                        }
                    )
                },
            }
        }
    }
}


def test_a_generated_page_keeps_to_the_limit_and_offset_asked_for(tmp_path: Path) -> None:
    """An album's tracks, a catalog answered without stored records, still answer the page
    asked for: no more items than ``limit``, and its ``limit`` and ``offset`` fields are the
    ones sent (Spotify's ``GET /albums/{id}/tracks?limit=1`` answered 3 items, limit 20)."""
    client = _client(tmp_path, PAGED_CATALOG, stateful=False)
    for number in range(8):
        page = client.get(f"/albums/a{number}/tracks?limit=1&offset=5").get_json()
        assert len(page["items"]) == 1 and (page["limit"], page["offset"]) == (1, 5), page
    wide = [len(client.get(f"/albums/b{n}/tracks?limit=50").get_json()["items"]) for n in range(8)]
    assert max(wide) > 1, "a wider page is still generated as the schema has it"


SENT_BACK = {
    "paths": {
        "/runs": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "model": {"type": "string"},
                                    "temperature": {"type": "number", "nullable": True},
                                    "input": {"type": "string"},
                                },
                            }
                        },
                        "application/x-www-form-urlencoded": {
                            "schema": {"properties": {"Model": {"type": "string"}}}
                        },
                    }
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["id", "model", "temperature", "input"],
                            "properties": {
                                "id": {"type": "string"},
                                "model": {"type": "string"},
                                "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                                "input": {"type": "array", "items": {"type": "string"}},
                            },
                        }
                    )
                },
            }
        }
    }
}


def test_a_generated_answer_to_a_write_shows_the_values_sent(tmp_path: Path) -> None:
    """A POST answered without stored records (OpenAI's ``POST /responses?beta=true``)
    shows what was sent in the fields of the same names, as the real API does; a value the
    answer's schema cannot hold there (a string where it has a list) stays generated."""
    client = _client(tmp_path, SENT_BACK, stateful=False)
    for number in range(6):
        sent = {"model": f"m-{number}", "temperature": number / 4, "input": "hi"}
        got = client.post("/runs", json=sent).get_json()
        assert (got["model"], got["temperature"]) == (sent["model"], sent["temperature"]), got
        assert isinstance(got["input"], list), got
    form = client.post("/runs", data={"Model": "m-form"}).get_json()
    assert form["model"] == "m-form", form  # a form's field, by meaning
