"""Items whose key is not one top-level field.

Most items are named by one field of their own (``/users/{id}``: the user's ``id``). Some are
named otherwise, and the store's id for them is made of the path's values:

* by a field of an object they hold: GitHub's org membership, ``/orgs/{org}/memberships/
  {username}``, is the ``login`` of its ``user``;
* by several path parameters: ``/repos/{owner}/{repo}`` is the repository whose
  ``owner.login`` and ``name`` they give (the store's id is both, joined by ``/``);
* by the path alone, where the item shows no key at all (a team membership is
  ``{url, role, state}``): the record is found by the id its path gave it.

A ``KeyPart`` says which path parameter names which field (``()``: none shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JOIN = "/"  # a path segment holds no raw "/": the joined id splits back unambiguously


@dataclass(frozen=True)
class KeyPart:
    param: str  # the path parameter that names it
    field: tuple[str, ...]  # where the item holds it: ("name",), ("user", "login"); () none


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
