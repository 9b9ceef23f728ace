"""Tests for sandbox.generation: every generated value validates, output is deterministic and
realistic.

The property test walks every schema location of every spec (components, parameters, bodies,
responses, headers, callbacks, webhooks) and validates thousands of values with the OpenAPI
validators, format checking on, and with readOnly/writeOnly presence checked per mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest
import yaml
from faker.providers.currency import Provider as CurrencyProvider
from jsonschema import _keywords
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30Validator,
    OAS30WriteValidator,
    OAS31Validator,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from sandbox.errors import UnsatisfiableSchema
from sandbox.generation.faker import DataFaker, stable_rng
from sandbox.generation.names import NAMES
from tests.conftest import corpus_path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = corpus_path() / "oai"  # unpacked from tests/data/corpus.tar.xz; fails if missing
SPECS = [
    *sorted(CORPUS.glob("v3.0/*.yaml")),
    *sorted(CORPUS.glob("v3.1/*.yaml")),
    ROOT / "openapi.yaml",  # must exist: a missing project spec fails rather than skips
    FIXTURES / "nasty-3.0.yaml",
    FIXTURES / "nasty-3.1.yaml",
]
DRAWS = 80  # per schema location and mode; thousands in total
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_URI = "urn:sandbox:spec"


# --- spec helpers ------------------------------------------------------------------------------


@cache
def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def version_of(doc: Mapping[str, Any]) -> str:
    return "3.0" if str(doc.get("openapi", "")).startswith("3.0") else "3.1"


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def get_pointer(doc: Any, pointer: str) -> Any:
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    return doc


def resolver(doc: Mapping[str, Any]) -> Callable[[str], Any]:
    """`resolve(ref)` for a bundled spec (every $ref local)."""

    def resolve(ref: str) -> Any:
        return get_pointer(doc, ref[1:])

    return resolve


class Locations:
    """Every place a spec holds a schema, as (JSON pointer, realistic name or None)."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.found: dict[str, str | None] = {}
        self.visited: set[str] = set()

    def walk(self) -> dict[str, str | None]:
        for path, item in (self.doc.get("paths") or {}).items():
            self.path_item(item, f"/paths/{escape(path)}")
        for name, item in (self.doc.get("webhooks") or {}).items():
            self.path_item(item, f"/webhooks/{escape(name)}")
        components = self.doc.get("components") or {}
        sections: dict[str, Callable[[Any, str], None]] = {
            "parameters": self.parameter,
            "headers": self.header,
            "requestBodies": self.content,
            "responses": self.response,
            "callbacks": self.callback,
            "pathItems": self.path_item,
        }
        for name in components.get("schemas") or {}:
            self.found.setdefault(f"/components/schemas/{escape(name)}", None)
        for section, visit in sections.items():
            for name, obj in (components.get(section) or {}).items():
                visit(obj, f"/components/{section}/{escape(name)}")
        return self.found

    def follow(self, obj: Any, ptr: str) -> tuple[Any, str | None]:
        while isinstance(obj, Mapping) and "$ref" in obj:
            ptr = obj["$ref"][1:]
            obj = get_pointer(self.doc, ptr)
        if ptr in self.visited:
            return obj, None
        self.visited.add(ptr)
        return obj, ptr

    def path_item(self, item: Any, ptr: str) -> None:
        item, at = self.follow(item, ptr)
        if at is None:
            return
        for i, param in enumerate(item.get("parameters") or ()):
            self.parameter(param, f"{at}/parameters/{i}")
        for method in METHODS:
            if method in item:
                self.operation(item[method], f"{at}/{method}")

    def operation(self, op: Mapping[str, Any], ptr: str) -> None:
        for i, param in enumerate(op.get("parameters") or ()):
            self.parameter(param, f"{ptr}/parameters/{i}")
        if "requestBody" in op:
            self.content(op["requestBody"], f"{ptr}/requestBody")
        for status, response in (op.get("responses") or {}).items():
            self.response(response, f"{ptr}/responses/{escape(str(status))}")
        for name, callback in (op.get("callbacks") or {}).items():
            self.callback(callback, f"{ptr}/callbacks/{escape(name)}")

    def callback(self, callback: Any, ptr: str) -> None:
        callback, at = self.follow(callback, ptr)
        for expression, item in (callback or {}).items() if at else ():
            self.path_item(item, f"{at}/{escape(expression)}")

    def parameter(self, param: Any, ptr: str) -> None:
        param, at = self.follow(param, ptr)
        if at is not None and "schema" in param:
            self.found.setdefault(f"{at}/schema", param.get("name"))
        if at is not None:
            self.media(param, at)

    def header(self, header: Any, ptr: str) -> None:
        header, at = self.follow(header, ptr)
        if at is not None and "schema" in header:
            self.found.setdefault(f"{at}/schema", None)

    def response(self, response: Any, ptr: str) -> None:
        response, at = self.follow(response, ptr)
        if at is None:
            return
        self.media(response, at)
        for name, header in (response.get("headers") or {}).items():
            self.header(header, f"{at}/headers/{escape(name)}")

    def content(self, body: Any, ptr: str) -> None:
        body, at = self.follow(body, ptr)
        if at is not None:
            self.media(body, at)

    def media(self, obj: Mapping[str, Any], ptr: str) -> None:
        for media_type, media in (obj.get("content") or {}).items():
            if "schema" in media:
                self.found.setdefault(f"{ptr}/content/{escape(media_type)}/schema", None)


# --- validators --------------------------------------------------------------------------------


def flagged(doc: Mapping[str, Any], schema: Any, flag: str, depth: int = 0) -> bool:
    """Whether a property schema is readOnly/writeOnly, through $ref and allOf."""
    if not isinstance(schema, Mapping) or depth > 20:
        return False
    if schema.get(flag) is True:
        return True
    if isinstance(schema.get("$ref"), str) and flagged(
        doc, get_pointer(doc, schema["$ref"][1:]), flag, depth + 1
    ):
        return True
    return any(flagged(doc, member, flag, depth + 1) for member in schema.get("allOf") or ())


def mode_properties(doc: Mapping[str, Any], flag: str) -> Callable[..., Iterator[ValidationError]]:
    """3.1 `properties` that also rejects optional readOnly (request) / writeOnly (response)."""

    def properties(
        validator: Any, props: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        yield from _keywords.properties(validator, props, instance, schema)
        if not validator.is_type(instance, "object"):
            return
        required = set(schema.get("required") or ())
        for name, sub in props.items():
            if name in instance and name not in required and flagged(doc, sub, flag):
                yield ValidationError(f"{name!r} is {flag} and must be absent")

    return properties


@cache
def validator_classes(path: Path) -> dict[str, Any]:
    """The validator class per mode: OAS 3.0 read/write validators, or 3.1 with mode checks."""
    doc = load(path)
    if version_of(doc) == "3.0":
        return {"response": OAS30ReadValidator, "request": OAS30WriteValidator}
    return {
        "response": extend(OAS31Validator, {"properties": mode_properties(doc, "writeOnly")}),
        "request": extend(OAS31Validator, {"properties": mode_properties(doc, "readOnly")}),
    }


@cache
def registry(path: Path) -> Registry:
    doc = load(path)
    spec = DRAFT4 if version_of(doc) == "3.0" else DRAFT202012
    return Registry().with_resource(SPEC_URI, Resource(contents=doc, specification=spec))


def validator_for(path: Path, pointer: str, mode: str) -> Any:
    doc = load(path)
    cls = validator_classes(path)[mode]
    checker = (OAS30Validator if version_of(doc) == "3.0" else OAS31Validator).FORMAT_CHECKER
    fragment = "/".join(quote(token, safe="~") for token in pointer.split("/"))
    return cls({"$ref": f"{SPEC_URI}#{fragment}"}, registry=registry(path), format_checker=checker)


@pytest.mark.parametrize("cls", [OAS30Validator, OAS31Validator])
@pytest.mark.parametrize(
    ("fmt", "bad"),
    [
        ("email", "not-an-email"),
        ("uri", "not a uri"),
        ("date-time", "2024-13-45T99:00:00Z"),
        ("date", "2024-02-30"),
        ("uuid", "1234"),
        ("ipv4", "300.1.1.1"),
        ("hostname", "-bad-.x"),
        ("uri-reference", "http://exa mple.com"),
        ("int32", 1 << 40),
        ("json-pointer", "nope"),
    ],
)
def test_format_checker_really_checks(cls: Any, fmt: str, bad: Any) -> None:
    """Guard against a vacuous pass: the checker must reject obvious garbage per format."""
    assert fmt in cls.FORMAT_CHECKER.checkers, f"{fmt} unchecked: jsonschema[format] extras missing"
    kind = "integer" if isinstance(bad, int) else "string"
    assert not cls({"type": kind, "format": fmt}, format_checker=cls.FORMAT_CHECKER).is_valid(bad)


def test_mode_validators_really_check() -> None:
    """The 3.0 and 3.1 mode validators reject a writeOnly property in a response."""
    path = FIXTURES / "nasty-3.1.yaml"
    user = {
        "id": "usr_abcdefghijkl",
        "email": "a@b.co",
        "first_name": "A",
        "created_at": "2024-01-01T00:00:00Z",
        "password": "0123456789abc",
        "secret_answer": "x",
    }
    validator = validator_for(path, "/components/schemas/User", "response")
    assert not validator.is_valid(user)
    assert validator.is_valid({k: v for k, v in user.items() if k != "secret_answer"})
    path30 = FIXTURES / "nasty-3.0.yaml"
    order_validator = validator_for(path30, "/components/schemas/Order", "request")
    assert not order_validator.is_valid({"id": "ord_abcdefghij"})


# --- 1. every value validates --------------------------------------------------------------------


def test_corpus_is_present() -> None:
    assert list(CORPUS.glob("v3.0/*.yaml")) and list(CORPUS.glob("v3.1/*.yaml"))


def test_walker_reaches_every_kind_of_location() -> None:
    found = Locations(load(FIXTURES / "nasty-3.1.yaml")).walk()
    expected = (
        "/components/schemas/User",
        "/parameters/0/schema",
        "/headers/",
        "/callbacks/onUserEvent/",
        "/webhooks/userDeleted/",
        "/requestBody/content/",
        "/components/responses/UserCreated/headers/Location/schema",
    )
    for fragment in expected:
        assert any(fragment in pointer for pointer in found), fragment


@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_schema_location_validates(path: Path) -> None:
    doc = load(path)  # raises when the project's openapi.yaml is missing: no silent skip
    locations = Locations(doc).walk()  # may be empty: some corpus specs only carry examples
    faker = DataFaker(resolver(doc), openapi_version=version_of(doc))
    dynamic = DataFaker(resolver(doc), openapi_version=version_of(doc))
    dynamic.example_rate = 0.0  # half the draws ignore spec examples: test the generator itself
    failures: list[str] = []
    total = 0
    for pointer, name in locations.items():
        schema = get_pointer(doc, pointer)
        for mode in ("response", "request"):
            validator = validator_for(path, pointer, mode)
            for draw in range(DRAWS):
                rng = stable_rng(path.name, pointer, mode, draw)
                maker = dynamic if draw % 2 else faker
                value = maker.generate(schema, rng=rng, name=name, mode=mode)
                total += 1
                if not validator.is_valid(value):
                    error = next(iter(validator.iter_errors(value)))
                    failures.append(
                        f"{pointer} [{mode}] {json.dumps(value)[:300]}\n"
                        f"    -> {error.message[:200]}"
                    )
    assert not failures, f"{len(failures)}/{total} invalid:\n" + "\n".join(failures[:15])


# --- 2. determinism ------------------------------------------------------------------------------

DET_SPEC = FIXTURES / "nasty-3.1.yaml"
DET_POINTERS = (
    "/components/schemas/User",
    "/components/schemas/Pet",
    "/components/schemas/Tricky",
    "/components/schemas/Numbers",
)


def draw_for_determinism() -> str:
    doc = load(DET_SPEC)
    faker = DataFaker(resolver(doc), openapi_version="3.1")
    values = [
        faker.generate(get_pointer(doc, p), rng=stable_rng("GET", "/users", 42, p))
        for p in DET_POINTERS
    ]
    return json.dumps(values, sort_keys=True)


def test_same_seed_same_output_across_instances() -> None:
    assert draw_for_determinism() == draw_for_determinism()


def test_different_seeds_differ() -> None:
    doc = load(DET_SPEC)
    faker = DataFaker(resolver(doc))
    user = get_pointer(doc, "/components/schemas/User")
    values = {json.dumps(faker.generate(user, rng=stable_rng(i))) for i in range(20)}
    assert len(values) == 20


def test_same_seed_same_output_in_fresh_process() -> None:
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
        "import test_fake; print(test_fake.draw_for_determinism())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == draw_for_determinism()


def test_threads_get_the_same_values() -> None:
    doc = load(DET_SPEC)
    faker = DataFaker(resolver(doc))
    user = get_pointer(doc, "/components/schemas/User")
    expected = [faker.generate(user, rng=stable_rng(i)) for i in range(40)]
    results: dict[int, list[Any]] = {}

    def work(slot: int) -> None:
        results[slot] = [faker.generate(user, rng=stable_rng(i)) for i in range(40)]

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(values == expected for values in results.values())


def test_every_realism_kind_is_deterministic() -> None:
    """Each name-driven producer draws only from the rng it is given (no global random)."""
    names = sorted(NAMES)
    schemas = [{"type": "string"}, {"type": "integer"}, {"type": "number"}, {}]

    def draw() -> list[Any]:
        faker = DataFaker(resolver({}))
        return [
            faker.generate(schema, rng=stable_rng(name, i), name=name)
            for i, schema in enumerate(schemas)
            for name in names
        ]

    assert draw() == draw()


def test_stable_rng_is_hash_seed_independent() -> None:
    assert stable_rng("GET", "/users", 42).random() == stable_rng("GET", "/users", 42).random()
    assert stable_rng("GET", "/users", 42).random() != stable_rng("GET", "/users", 43).random()


# --- 3. realism ----------------------------------------------------------------------------------

REAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "email",
        "first_name",
        "created_at",
        "updated_at",
        "price",
        "currency",
        "avatar_url",
        "lastName",
        "FirstName",
        "id",
        "user_id",
        "latitude",
        "quantity",
    ],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "first_name": {"type": "string"},
        "FirstName": {"type": "string"},
        "lastName": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "price": {"type": "number", "minimum": 0},
        "currency": {"type": "string"},
        "avatar_url": {"type": "string"},
        "id": {"type": "string"},
        "user_id": {"type": "string", "pattern": "^usr_[A-Za-z0-9]{12}$"},
        "latitude": {"type": "number"},
        "quantity": {"type": "integer"},
    },
}
ISO_CURRENCIES = {code for code, _ in CurrencyProvider.currencies}


def test_realistic_values_by_property_name() -> None:
    faker = DataFaker(resolver({}))
    now = datetime.now(UTC)
    for seed in range(50):
        user = faker.generate(REAL_SCHEMA, rng=stable_rng("realism", seed))
        local, _, domain = user["email"].partition("@")
        assert local and "." in domain, user["email"]
        created = datetime.fromisoformat(user["created_at"].replace("Z", "+00:00"))
        updated = datetime.fromisoformat(user["updated_at"].replace("Z", "+00:00"))
        assert user["created_at"].endswith("Z")
        assert now - timedelta(days=730) < created <= now and created <= updated <= now
        assert user["currency"] in ISO_CURRENCIES
        assert user["price"] > 0 and round(user["price"], 2) == user["price"]
        avatar = urlparse(user["avatar_url"])
        assert avatar.scheme == "https" and "." in avatar.netloc
        for key in ("first_name", "FirstName", "lastName"):
            assert user[key][:1].isupper() and " " not in user[key], user[key]
        assert len(user["id"]) == 24 and int(user["id"], 16) >= 0
        assert user["user_id"].startswith("usr_") and len(user["user_id"]) == 16
        assert -90 <= user["latitude"] <= 90
        assert 1 <= user["quantity"] <= 100


def test_name_realism_yields_to_constraints() -> None:
    faker = DataFaker(resolver({}))
    schema = {"type": "string", "maxLength": 3}
    email = {"type": "string", "format": "email", "maxLength": 8}
    for seed in range(100):
        assert len(faker.generate(schema, rng=stable_rng(seed), name="name")) <= 3
        value = faker.generate(email, rng=stable_rng(seed), name="email")
        assert "@" in value and len(value) <= 8


def test_examples_and_hints_win() -> None:
    doc = load(FIXTURES / "nasty-3.1.yaml")
    faker = DataFaker(resolver(doc))
    tricky = get_pointer(doc, "/components/schemas/Tricky/properties")
    for seed in range(30):
        rng = stable_rng("precedence", seed)
        assert faker.generate(tricky["exampled"], rng=rng) in ("alpha", "beta")
        assert 5 <= faker.generate(tricky["hintedInt"], rng=rng) <= 9
        assert faker.generate(tricky["badHint"], rng=rng) <= 3
        assert faker.generate(tricky["badExample"], rng=rng) >= 10
    example_user = get_pointer(doc, "/components/schemas/ExampleUser")
    assert faker.generate(example_user, rng=stable_rng(1)) == {"id": 1, "name": "Ada Lovelace"}
    assert faker.generate(example_user, rng=stable_rng(1), mode="request") == {
        "name": "Ada Lovelace",
        "secret": "s3cret",
    }


def test_subtype_reference_gets_its_discriminator_value() -> None:
    doc = load(FIXTURES / "nasty-3.1.yaml")
    faker = DataFaker(resolver(doc))
    cat_ref = {"$ref": "#/components/schemas/Cat"}
    assert faker.generate(cat_ref, rng=stable_rng(3))["petType"] == "Cat"


def test_updated_never_precedes_created_in_any_order() -> None:
    faker = DataFaker(resolver({}))
    stamp = {"type": "string", "format": "date-time"}
    schema = {
        "type": "object",
        "required": ["updatedAt", "createdAt"],
        "properties": {"updatedAt": stamp, "createdAt": stamp},
    }
    for seed in range(50):
        value = faker.generate(schema, rng=stable_rng("order", seed))
        assert value["createdAt"] <= value["updatedAt"]


def test_discriminator_values_map_to_the_branch() -> None:
    doc = load(FIXTURES / "nasty-3.1.yaml")
    faker = DataFaker(resolver(doc))
    pet = get_pointer(doc, "/components/schemas/Pet")
    seen = {faker.generate(pet, rng=stable_rng("pet", i))["petType"] for i in range(60)}
    assert seen == {"cat", "dog", "Lizard"}


# --- 4. recursion and speed ----------------------------------------------------------------------


def nesting(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("nasty-3.1.yaml", "TreeNode"),
        ("nasty-3.1.yaml", "LinkedList"),
        ("nasty-3.0.yaml", "Category"),
        ("nasty-3.0.yaml", "Comment"),
    ],
)
def test_recursive_schema_terminates(spec: str, name: str) -> None:
    doc = load(FIXTURES / spec)
    schema = get_pointer(doc, f"/components/schemas/{name}")
    for depth in (1, 3, 5):
        faker = DataFaker(resolver(doc), max_depth=depth, openapi_version=version_of(doc))
        for seed in range(20):
            value = faker.generate(schema, rng=stable_rng(name, seed))
            assert nesting(value) <= 2 * depth + 6


def test_unbounded_recursion_is_reported() -> None:
    doc = {
        "components": {
            "schemas": {
                "Loop": {
                    "type": "object",
                    "required": ["next"],
                    "properties": {"next": {"$ref": "#/components/schemas/Loop"}},
                }
            }
        }
    }
    faker = DataFaker(resolver(doc))
    with pytest.raises(UnsatisfiableSchema):
        faker.generate(doc["components"]["schemas"]["Loop"], rng=stable_rng(1))


def test_typical_user_object_is_fast() -> None:
    doc = load(FIXTURES / "nasty-3.1.yaml")
    faker = DataFaker(resolver(doc))
    schema = {key: value for key, value in REAL_SCHEMA.items()}
    rngs = [stable_rng("speed", i) for i in range(1000)]
    faker.generate(schema, rng=rngs[0])
    start = time.perf_counter()
    for rng in rngs:
        faker.generate(schema, rng=rng)
    per_object = (time.perf_counter() - start) / len(rngs)
    assert per_object < 0.002, f"{per_object * 1e6:.0f} µs per object"


def test_a_fixed_pattern_draws_what_randint_and_choices_draw() -> None:
    """``^req_[A-Za-z0-9]{16}$`` and its kind are made without ``randint`` and ``choices``:
    the same text, and the generator left in the same state, as those calls give."""
    import random

    from sandbox.generation.patterns import _fixed_string, cached_pattern

    def reference(parts: list, length: int, rng: random.Random) -> str:
        rng.randint(length, length)
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            elif part[2]:
                rng.randint(part[1], part[1])
                out.append("".join(rng.choices(part[0], k=part[1])))
            else:
                out.append(rng.choice(part[0]))
        return "".join(out)

    for source in ("^usr_[A-Za-z0-9]{12}$", "^req_[A-Za-z0-9]{16}$", "^AC[0-9a-f]{32}$",
                   "^x[ab]y[0-9]{3}$"):  # fmt: skip
        pattern = cached_pattern(source)
        assert pattern is not None and pattern.fixed is not None
        for seed in range(500):
            ours, theirs = random.Random(seed), random.Random(seed)
            made = _fixed_string(pattern.fixed, pattern.root.lo, ours)
            assert made == reference(pattern.fixed, pattern.root.lo, theirs)
            assert ours.getstate() == theirs.getstate()


FRESH_SCHEMAS: list[tuple[dict[str, Any], str | None]] = [
    ({"type": "string", "pattern": "^usr_[A-Za-z0-9]{12}$", "readOnly": True}, "id"),
    ({"type": "string", "pattern": "^req_[A-Za-z0-9]{16}$"}, "requestId"),
    ({"type": "string", "pattern": "^CA[0-9a-f]{32}$", "nullable": True}, "sid"),
    ({"type": "string", "pattern": "^[a-z]+-[0-9]{2,5}$", "maxLength": 6}, "id"),
    ({"type": "string", "pattern": "^.+@.+$"}, "email"),  # a realistic guess can match
    ({"type": "string", "pattern": "^[0-9]{3}$", "format": "digits"}, "code"),
    ({"type": "string", "format": "uuid"}, "id"),
    ({"type": "string", "enum": ["a", "b"]}, "id"),
    ({"type": "string", "const": "success"}, "status"),
    ({"type": "integer", "enum": [1, "x", 3]}, "count"),  # "x" is not one of its values
    ({"type": "string", "enum": ["zz"], "pattern": "^a"}, "id"),  # none valid: generated
    ({"type": "object", "properties": {"requestId": {"type": "string"}}}, "meta"),
    ({"type": ["string", "null"], "pattern": "^x[0-9]$"}, "id"),
    ({"type": "string", "pattern": "^x[0-9]$", "x-faker": "name"}, "id"),
    ({"type": "string", "pattern": "^ab$", "minLength": 5}, None),  # unsatisfiable lengths
]


@pytest.mark.parametrize(("schema", "name"), FRESH_SCHEMAS)
def test_a_fresh_maker_makes_what_generate_makes(schema: dict[str, Any], name: str | None) -> None:
    """``fresh_maker`` skips generate's way to a pattern where nothing else decides: the
    same value from the same draws, and the same where it cannot skip."""
    import random

    faker = DataFaker(resolver({}))
    make = faker.fresh_maker(schema, name)
    for seed in range(200):
        ours, theirs = random.Random(seed), random.Random(seed)
        assert make(ours) == faker.generate(schema, rng=theirs, name=name, fresh=True)
        assert ours.getstate() == theirs.getstate()


def test_an_answers_rng_is_stable_rng_of_the_request() -> None:
    """The text a request's rng is seeded from is kept per operation, path and query, and
    its body's digest added: the same generator ``stable_rng`` gives for all the parts."""
    import hashlib

    from sandbox import create_app, load_settings
    from sandbox.generation.faker import stable_text
    from tests.conftest import DEFAULT_SPEC

    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": ":memory:", "seed": 9})
    app = create_app(DEFAULT_SPEC, settings)
    answers = app.extensions["sandbox"].answers
    operation = app.extensions["sandbox"].spec.operations[0]
    for body, query, params in (
        (b"", "", {}),
        (b'{"a": 1}', "page=2&sort=name&page=3", {"id": "usr_1"}),
        (b'{"a": 1}', "page=2&sort=name&page=3", {"id": "usr_1"}),  # kept
        (b"x", "", {"id": "é'\\"}),
    ):
        with app.test_request_context(f"/v1/users?{query}", method="POST", data=body):
            from flask import request

            ours = answers.rng(operation, request, params)
            parts = [9, operation.operation_id, sorted(params.items()),
                     sorted(request.args.items(multi=True))]  # fmt: skip
            if body:
                parts.append(hashlib.blake2b(body, digest_size=16).hexdigest())
            assert ours.getstate() == stable_rng(*parts).getstate()
            assert stable_text(*parts[:2]) + "\x1f" + stable_text(*parts[2:]) == stable_text(*parts)
