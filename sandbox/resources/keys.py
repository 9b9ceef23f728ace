"""Items whose key is not one top-level field.

Most items are named by one field of their own (``/users/{id}``: the user's ``id``). Some are
named otherwise, and the store's id for them is made of the path's values:

* by a field of an object they hold: GitHub's org membership, ``/orgs/{org}/memberships/
  {username}``, is the ``login`` of its ``user``;
* by several path parameters: ``/repos/{owner}/{repo}`` is the repository whose
  ``owner.login`` and ``name`` they give (the store's id is both, joined by ``/``);
* by the path alone, where the item shows no key at all (a team membership is
  ``{url, role, state}``): the record is found by the id its path gave it.

A ``KeyPart`` says which path parameter names which field (``()``: none shown);
``KeyFinder`` finds them in a spec, the rest of the module reads and writes them in records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.resources.naming import ACCOUNT_NAMES, id_field_for
from sandbox.spec.model import Operation, Spec
from sandbox.spec.schemas import merged, schema_types
from sandbox.spec.words import norm

JOIN = "/"  # a path segment holds no raw "/": the joined id splits back unambiguously


@dataclass(frozen=True)
class KeyPart:
    param: str  # the path parameter that names it
    field: tuple[str, ...]  # where the item holds it: ("name",), ("user", "login"); () none


class KeyFinder:
    """Where an item holds what its path parameters name, by meaning."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def find(
        self, operations: dict[str, Operation], params: list[str], singular: str,
        shown_at: list[dict[str, Any]],
    ) -> tuple[KeyPart, ...] | None:  # fmt: skip
        """The parts of the key (``shown_at``: the item's properties as each operation shows
        them): each parameter a field of the item's own first, in any of them; then a field
        of an object the item holds (a membership's ``{username}`` is its ``user``'s
        ``login``); None where some parameter names nothing."""
        alone = len(params) == 1
        for nested in (False, True):
            for properties in shown_at:
                if not properties:
                    continue
                parts = [self._part(p, operations, singular, properties, nested, alone)
                         for p in params]  # fmt: skip
                found = tuple(part for part in parts if part is not None)
                if len(found) == len(params):
                    return found
        return None

    def param_schema(self, operations: dict[str, Operation], name: str) -> dict[str, Any] | None:
        """The schema of the path parameter ``name`` as the item path's operations declare it."""
        return next(
            (self.spec.deref(p.schema) for op in operations.values() for p in op.parameters
             if p.location == "path" and p.name == name
             and isinstance(self.spec.deref(p.schema), dict)),
            None,
        )  # fmt: skip

    def _part(
        self, param: str, operations: dict[str, Operation], singular: str,
        properties: dict[str, Any], nested: bool, alone: bool,
    ) -> KeyPart | None:  # fmt: skip
        """Where the item holds what ``param`` names: a field of its own (``{repo}``: its
        ``name``), or with ``nested``, a field of an object it holds, the one the parameter
        names (``{owner}``: the ``owner``'s ``login``) or begins with (``{username}``: the
        ``user``'s). Inside that object: its account name for an account's parameter, else
        its key as ``id_field_for`` finds it."""
        schema = self.param_schema(operations, param) or {}
        text = schema_types(schema) == {"string"}
        plain = id_field_for(param, singular, properties, text=text)
        if plain is not None:
            inner = self._inner(param, text, plain, properties[plain])
            if inner == "" or (alone and not nested):  # a field of its own (or, for one
                return KeyPart(param, (plain,))  # parameter, the object it names, as ever)
            return KeyPart(param, (plain, inner)) if nested and inner else None
        if not nested:
            return None
        key = norm(param)
        for name, prop in properties.items():
            holder = norm(name)
            if len(holder) >= 3 and key.startswith(holder):
                inner = self._inner(param, text, name, prop)
                if inner:
                    return KeyPart(param, (name, inner))
        return None

    def _inner(self, param: str, text: bool, name: str, schema: Any) -> str | None:
        """The key of the object ``schema`` is ("" where it is no object; None where it is
        one with no key the parameter can name)."""
        shape = merged(self.spec.deref, schema)
        inner = shape.get("properties") if isinstance(shape, dict) else None
        if not isinstance(inner, dict) or not inner:
            return ""
        inner = {k: self.spec.deref(v) for k, v in inner.items()}
        key = norm(param)
        if key in ACCOUNT_NAMES or key.startswith(norm(name)):
            found = id_field_for(param, name, inner, text=text)
            if found is not None and "object" not in schema_types(inner[found]):
                return found
        return None


def value_at(body: Any, field: tuple[str, ...]) -> Any:
    """The value at ``field`` in ``body`` (None where any step is missing)."""
    for name in field:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body if field else None


def put_at(body: dict[str, Any], field: tuple[str, ...], value: Any) -> None:
    """Set ``field`` in ``body`` to ``value``, making the objects on the way where missing
    (a ``null`` user becomes ``{"login": ...}``, which the record's fit then completes)."""
    if not field:
        return
    node = body
    for name in field[:-1]:
        inner = node.get(name)
        if not isinstance(inner, dict):
            inner = node[name] = {}
        node = inner
    old = node.get(field[-1])
    node[field[-1]] = int(value) if isinstance(old, int) and _whole(value) else value


def _whole(text: Any) -> bool:
    return isinstance(text, str) and text.lstrip("-").isascii() and text.lstrip("-").isdigit()


def key_of(parts: tuple[KeyPart, ...], body: Any) -> str:
    """The store's id of ``body``: its key values joined ("" where one is not shown)."""
    values = [value_at(body, part.field) for part in parts]
    if any(v is None or isinstance(v, dict | list) for v in values):
        return ""
    return JOIN.join(str(v) for v in values)


def key_in_path(parts: tuple[KeyPart, ...], params: dict[str, str]) -> str:
    """The store's id a request's path names."""
    return JOIN.join(str(params.get(part.param, "")) for part in parts)


def key_params(parts: tuple[KeyPart, ...], record_id: str) -> dict[str, str]:
    """The path values a store id was joined from (the last part takes any rest)."""
    values = record_id.split(JOIN, len(parts) - 1)
    return {part.param: value for part, value in zip(parts, values, strict=False)}


def put_key(parts: tuple[KeyPart, ...], body: dict[str, Any], params: dict[str, str]) -> None:
    """Write the path's key values into ``body`` where the item holds them."""
    for part in parts:
        if part.param in params:
            put_at(body, part.field, params[part.param])


def kept_key(parts: tuple[KeyPart, ...], before: dict[str, Any], after: dict[str, Any]) -> None:
    """Carry ``before``'s key values into ``after`` (a record refitted to its schema keeps
    what it is found by)."""
    for part in parts:
        value = value_at(before, part.field)
        if value is not None:
            put_at(after, part.field, value)
