"""Values the sandbox takes from a request keep the types the schema gives them: a list's
query filters are read as the item field's type, and no value a client can send makes that
reading fail (Stripe's `test_clock` with 5,000 digits was a 500: Python reads at most 4,300;
with 20 too: SQLite compares at most 64 bits); ids made or taken from a path are numbers
where the id schema says so (GitHub's PATCHes answered "1" for an integer). Found by
`contracts run` on the corpus specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec_helpers import served_text

SPEC = """
openapi: 3.0.3
info: {title: Counters, version: "1"}
paths:
  /counters:
    get:
      operationId: listCounters
      parameters:
        - {name: level, in: query, schema: {type: string, maxLength: 6000}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Counter"}}
    post:
      operationId: createCounter
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Counter"}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Counter"}
  /counters/{id}:
    get:
      operationId: getCounter
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Counter"}
components:
  schemas:
    Counter:
      type: object
      properties:
        id: {type: string, readOnly: true}
        level: {type: integer}
"""


@pytest.fixture
def client(tmp_path: Path):
    return served_text(tmp_path, SPEC, "counters.yaml")[0]


def test_an_integer_filter_is_read_as_an_integer(client) -> None:
    made = client.post("/counters", json={"level": 7}).get_json()
    found = client.get("/counters?level=7").get_json()
    assert made["id"] in [item["id"] for item in found]
    assert all(item["level"] == 7 for item in found)


@pytest.mark.parametrize("digits", [20, 4300, 4301, 5000])
def test_a_filter_too_long_for_an_integer_is_no_server_error(client, digits: int) -> None:
    answer = client.get("/counters?level=" + "9" * digits)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.get_json() == []


NUMBERED = """
openapi: 3.0.3
info: {title: Numbered, version: "1"}
paths:
  /gadgets:
    post:
      operationId: createGadget
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Gadget"}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Gadget"}}}
  /gadgets/{gadget_id}:
    get:
      operationId: getGadget
      parameters: [{name: gadget_id, in: path, required: true, schema: {type: number}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Gadget"}}}
  /orgs/{org_id}:
    get:
      operationId: getOrg
      parameters: [{name: org_id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Org"}}}
  /orgs/{org_id}/teams:
    get:
      operationId: listTeams
      parameters: [{name: org_id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Team"}}
components:
  schemas:
    Gadget:
      type: object
      properties:
        id: {type: number, readOnly: true}
        label: {type: string}
    Org:
      type: object
      properties:
        id: {type: integer}
        name: {type: string}
    Team:
      type: object
      properties:
        id: {type: integer}
        org_id: {type: integer}
"""


def test_ids_keep_the_type_their_schema_gives(tmp_path: Path) -> None:
    """A number id is made a number, and a parent taken to exist from its path keeps its
    id as the schema's integer, not the path's text (GitHub's PATCHes answered "1")."""
    client, _ = served_text(tmp_path, NUMBERED, "numbered.yaml")
    made = client.post("/gadgets", json={"label": "x"}).get_json()
    assert isinstance(made["id"], int | float), made
    assert client.get("/orgs/42/teams").status_code == 200  # the org is taken to exist
    org = client.get("/orgs/42").get_json()
    assert org["id"] == 42, org


def test_a_decimal_format_string_is_decimal_text() -> None:
    """``format: decimal`` is a number written as text (Stripe's ``unit_amount_decimal``,
    which its SDK reads with ``Decimal``): generated as digits, never words, in every draw,
    and within the schema's length bounds."""
    import random
    from decimal import Decimal

    from sandbox.generation.faker import DataFaker

    faker = DataFaker(lambda ref: {}, seed=1, openapi_version="3.0.3")
    schemas = [
        {"type": "string", "format": "decimal"},
        {"type": "string", "format": "decimal", "nullable": True, "maxLength": 3},
    ]
    for seed in range(40):
        for name in ("unit_amount_decimal", "quantity", None):
            for schema in schemas:
                value = faker.generate(schema, rng=random.Random(seed), name=name, fresh=True)
                if value is None:
                    continue
                assert Decimal(value).is_finite(), (name, value)
                assert len(value) <= schema.get("maxLength", 99), value
