"""Items added to a list by reference, and removed by naming them.

Some lists under an item hold references to other things: Spotify adds tracks to a
playlist with ``POST /playlists/{id}/items {"uris": ["spotify:track:4iV5…"]}``, lists
``PlaylistTrackObject``s (``{added_at, added_by, track: {uri, …}}``) and removes them with
``DELETE … {"items": [{"uri": "spotify:track:4iV5…"}]}``. The rules, by meaning:

* A sent reference goes into the item's field named by the list it came in, made singular
  (``uris`` -> ``uri``): in the item itself, or in the objects it holds. Where several
  objects have that field (the track's ``uri``, the adder's ``uri``), those whose kind
  (a ``type``/``object``/``kind`` field of one value) the reference names are chosen
  (``spotify:track:…`` names ``track``, not ``user``), each made anew of that kind.
* A sent object (``{"uri": …}``) names the stored items whose fields, at any depth, hold
  each of its values; a sent text names those holding it in the singular field.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

from sandbox.generation.names import singular
from sandbox.spec.model import Spec
from sandbox.spec.schemas import merged

_KIND_FIELDS = ("type", "object", "kind")
_DEPTH = 3  # how deep a stored item is searched for a removal's values
_ATTEMPTS = 8  # draws of a property's oneOf for an object of the kind a reference names


def field_for(list_name: str) -> str:
    """The field a reference sent in ``list_name`` fills: ``uris`` -> ``uri``."""
    return singular(list_name) or list_name


class References:
    """Placing a reference in a made item, and finding the items a removal names."""

    def __init__(
        self, spec: Spec, generate: Callable[[Any, random.Random], Any],
        is_valid: Callable[[Any, Any], bool],
    ) -> None:  # fmt: skip
        self.spec = spec
        self.generate = generate  # (schema, rng) -> a value of it
        self.is_valid = is_valid  # (schema, value) -> whether it validates

    def place(
        self, schema: Any, item: dict[str, Any], name: str, value: Any, rng: random.Random
    ) -> None:
        """Put ``value`` in ``item`` (made from ``schema``) at the field ``name`` means."""
        shape = merged(self.spec.deref, schema) or {}
        properties = shape.get("properties") or {}
        if name in properties:
            item[name] = value
            return
        holders = list(self._holders(properties, name))
        if not holders:
            item[name] = value
            return
        words = set(re.split(r"[^a-z0-9]+", str(value).lower()))
        named = [(prop, branch) for prop, branch in holders if _kinds(self.spec, branch) & words]
        made: dict[int, Any] = {}  # one object per kind: ``item`` and ``track`` agree
        for prop, branch in named or holders[:1]:
            if id(branch) not in made:
                made[id(branch)] = self._one_of_kind(properties[prop], branch, name, value, rng)
            item[prop] = copy.deepcopy(made[id(branch)])

    def _one_of_kind(
        self, schema: Any, branch: Any, name: str, value: Any, rng: random.Random
    ) -> dict[str, Any]:
        """An object valid for the property's ``schema``, of the ``branch``'s kind, holding
        ``value`` at ``name``: made from the whole schema (its ``oneOf`` keeps the kinds
        apart) until one of that kind comes, else from the branch."""
        kinds = _kinds(self.spec, branch)
        for _ in range(_ATTEMPTS):
            generated = self.generate(schema, rng)
            if isinstance(generated, dict) and (
                not kinds or {str(generated.get(k)).lower() for k in _KIND_FIELDS} & kinds
            ):
                candidate = {**generated, name: value}
                if self.is_valid(schema, candidate):
                    return candidate
        generated = self.generate(branch, rng)
        return {**(generated if isinstance(generated, dict) else {}), name: value}

    def _holders(self, properties: dict[str, Any], name: str) -> Iterator[tuple[str, Any]]:
        """(property, object schema) for each property of the item whose object (or one of
        its ``oneOf``/``anyOf`` branches) has the field ``name``."""
        for prop, schema in properties.items():
            shape = merged(self.spec.deref, schema) or {}
            for branch in shape.get("oneOf") or shape.get("anyOf") or [schema]:
                inner = merged(self.spec.deref, branch) or {}
                if name in (inner.get("properties") or {}):
                    yield prop, branch


def _kinds(spec: Spec, schema: Any) -> set[str]:
    """The one-value kinds an object schema declares (``type: {enum: [track]}``)."""
    properties = (merged(spec.deref, schema) or {}).get("properties") or {}
    found: set[str] = set()
    for name in _KIND_FIELDS:
        prop = spec.deref(properties.get(name))
        enum = prop.get("enum") if isinstance(prop, dict) else None
        if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
            found.add(enum[0].lower())
    return found


def names(stored: dict[str, Any], sent: Any, field: str) -> bool:
    """Whether a removal's ``sent`` element names the ``stored`` item."""
    wanted = sent if isinstance(sent, dict) else {field: sent}
    if not wanted:
        return False
    return all(value in _values_at(stored, key, 0) for key, value in wanted.items())


def _values_at(node: Any, key: str, depth: int) -> list[Any]:
    """Every value of ``key`` in ``node`` and the objects it holds, a few levels down."""
    if not isinstance(node, dict) or depth > _DEPTH:
        return []
    found = [node[key]] if key in node else []
    for value in node.values():
        if isinstance(value, dict):
            found += _values_at(value, key, depth + 1)
    return found
