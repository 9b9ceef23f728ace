"""Rewrites of a bundled document, made once before any validator is built, so that what
the OpenAPI specification says is what the validators do.

* **Implicit discriminator mappings.** Without a ``mapping``, a discriminator value names a
  component schema (OpenAPI 3.0.3 §4.7.25.3). openapi-schema-validator resolves every value
  that way, so a spec whose values are not component names (OpenAI's ``role: user`` for
  ``ChatCompletionRequestUserMessage``) fails every request with "reference
  '#/components/schemas/user' could not be resolved". Here each ``oneOf``/``anyOf`` branch
  that declares the discriminator property with ``enum``/``const`` values gets those values
  mapped to it explicitly; an explicit entry, and a value that is a component name, are left
  as the spec wrote them; a mapping value given as a bare schema name (``Dog``) becomes the
  reference it stands for.
* **readOnly/writeOnly do not apply to parameters.** They say whether a property may be sent
  in a request or a response body; a parameter schema that reuses a component with
  ``readOnly: true`` (DigitalOcean's ``ssh_key_identifier: anyOf [ssh_key_id, ...]``) made
  openapi-core refuse every value. Such a parameter gets an inlined copy of its schema
  without those keywords; the component stays as it is for the bodies that use it.

Example values and ``x-`` extensions are data: nothing under them is rewritten. The rewrites
are made on a copy that only the request validators read (``prepared_copy``): a generator
that follows a discriminator's mapping, Schemathesis reading the served document, and
``sandbox check``'s notes all see the document as written. The walk takes 0.02-0.03 s on
OpenAI's, Stripe's and GitHub's specs.

The copy is made only where a rewrite is (:class:`_CopyOnWrite`): the containers on the way
from the root to each rewritten node are copied, everything else is the document's own
objects, which nothing changes (``Spec`` is immutable after load). A whole copy (a pickle
round trip) cost more than the walk: 0.05 s and 11 MB per process on DigitalOcean's or
OpenAI's spec, on every start, warm ones too.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.spec.documents import escape_pointer_token, follow_pointer, is_data_key, split_pointer

_COMPONENT = "#/components/schemas/"
IMPLIED = "x-sandbox-implied"  # the mapping entries added here, on the discriminator
_ACCESS = ("readOnly", "writeOnly")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")

# a linked path: (parent path, key); turned into a JSON pointer only where one is needed
Path = tuple[Any, Any] | None


class _CopyOnWrite:
    """A document that shares the original's objects until a node is to be changed: then
    that node and every container on the way to it are copied (once) and the copies put in
    their parents' places. The original is never written to."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.root = dict(document)
        self._own = {id(self.root)}  # the copies made here (each kept alive by the tree)

    def writable(self, tokens: list[Any]) -> Any:
        """The container at ``tokens`` (keys, list indices), a copy this document owns."""
        node = self.root
        for token in tokens:
            child = node[token]
            if id(child) not in self._own:
                child = copy.copy(child)
                node[token] = child
                self._own.add(id(child))
            node = child
        return node


def prepared_copy(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the rewrites made, for the request validators only: the served
    document, data generation and ``sandbox check`` keep what the author wrote. Copied only
    where rewritten (see the module docstring)."""
    prepared = _CopyOnWrite(document)
    schemas = (document.get("components") or {}).get("schemas") or {}
    stack: list[tuple[Any, Path]] = [(document, None)]
    while stack:  # the discriminators, read from the document as written
        node, path = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("discriminator"), dict):
                mapped = _map_discriminator(document, schemas, node, path)
                if mapped is not None:
                    prepared.writable(_tokens(path))["discriminator"] = mapped
            for key, value in node.items():
                if isinstance(value, dict | list) and not is_data_key(key, value, _keys(path)):
                    stack.append((value, (path, key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append((value, (path, index)))
    # the parameters, read through what is prepared so far (mappings included)
    for places, parameter in _parameters(prepared.root):
        _free_parameter(prepared, places, parameter)
    return prepared.root


def _keys(path: Path) -> tuple[Any, Any]:
    """The keys of a node's parent and grandparent, for ``is_data_key``."""
    if path is None:
        return None, None
    return path[1], path[0][1] if path[0] is not None else None


def _tokens(path: Path) -> list[Any]:
    tokens: list[Any] = []
    while path is not None:
        path, key = path
        tokens.append(key)
    return tokens[::-1]


def _pointer(path: Path) -> str:
    tokens = [escape_pointer_token(str(key)) for key in _tokens(path)]
    return "/" + "/".join(tokens) if tokens else ""


def _map_discriminator(
    document: dict[str, Any], schemas: dict[str, Any], node: dict[str, Any], path: Path
) -> dict[str, Any] | None:
    """The node's discriminator with the implied mapping entries; None: nothing to add."""
    discriminator = node["discriminator"]
    name = discriminator.get("propertyName")
    branches = node.get("oneOf") or node.get("anyOf")
    if not isinstance(name, str) or not isinstance(branches, list):
        return None
    given = discriminator.get("mapping")
    mapping: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    for value, target in list(mapping.items()):
        bare = isinstance(target, str) and "/" not in target and "#" not in target
        if bare and target in schemas:  # a bare schema name
            mapping[value] = _COMPONENT + target
    keyword = "oneOf" if node.get("oneOf") else "anyOf"
    for index, branch in enumerate(branches):
        if not isinstance(branch, dict):
            continue
        ref = branch.get("$ref")
        target = ref if isinstance(ref, str) else f"#{_pointer(path)}/{keyword}/{index}"
        for value in _values(document, branch, name, set()):
            if value in mapping or value in schemas:  # a component's name means that component
                continue
            mapping[value] = target
    if mapping == given or not mapping:
        return None
    # what the spec's author wrote is still what other tools read: notes.py reports it
    written = given if isinstance(given, dict) else {}
    implied = sorted(k for k in mapping if written.get(k) != mapping[k])
    return {**discriminator, "mapping": mapping, IMPLIED: implied}


def _values(document: dict[str, Any], schema: Any, name: str, seen: set[str]) -> list[str]:
    """The string values a schema allows for the discriminator property ``name``."""
    schema = _deref(document, schema, seen)
    if not isinstance(schema, dict):
        return []
    found: list[str] = []
    prop = _deref(document, (schema.get("properties") or {}).get(name), seen)
    if isinstance(prop, dict):
        if isinstance(prop.get("const"), str):
            found.append(prop["const"])
        found += [v for v in prop.get("enum") or [] if isinstance(v, str)]
    # a branch that is itself a union (``Item: oneOf [...]``) takes every value of its members
    for part in [*(schema.get("allOf") or []), *(schema.get("oneOf") or []),
                 *(schema.get("anyOf") or [])]:  # fmt: skip
        found += [v for v in _values(document, part, name, seen) if v not in found]
    return found


def _deref(document: dict[str, Any], node: Any, seen: set[str]) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#"):
            return None
        seen.add(ref)
        try:
            node = follow_pointer(document, ref[1:])
        except (KeyError, ValueError):
            return None
    return node


def _parameters(document: dict[str, Any]) -> list[tuple[list[list[Any]], dict[str, Any]]]:
    """Every parameter object, each with the places (token lists) it is found at."""
    found: list[tuple[list[Any], Any]] = [
        (["components", "parameters", name], parameter)
        for name, parameter in ((document.get("components") or {}).get("parameters") or {}).items()
    ]
    for route, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        found += _listed(["paths", route], item)
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                found += _listed(["paths", route, method], operation)
    # a reference leads to the parameter itself: one the bundler placed under
    # x-sandbox-bundled (a split spec's parameters.yml#/name) is found nowhere else
    targets: dict[int, tuple[list[list[Any]], dict[str, Any]]] = {}
    for place, entry in found:
        place, parameter = _dereffed(document, place, entry)
        if isinstance(parameter, dict):
            targets.setdefault(id(parameter), ([], parameter))[0].append(place)
    return list(targets.values())


def _listed(at: list[Any], holder: dict[str, Any]) -> list[tuple[list[Any], Any]]:
    listed = holder.get("parameters")
    if not isinstance(listed, list):
        return []
    return [([*at, "parameters", index], entry) for index, entry in enumerate(listed)]


def _dereffed(document: dict[str, Any], place: list[Any], node: Any) -> tuple[list[Any], Any]:
    """``_deref`` that also says where it ended (the last reference's pointer as tokens)."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#"):
            return place, None
        seen.add(ref)
        try:
            node = follow_pointer(document, ref[1:])
            place = _indexed(document, split_pointer(ref[1:]))
        except (KeyError, ValueError):
            return place, None
    return place, node


def _indexed(document: Any, tokens: list[str]) -> list[Any]:
    """A pointer's tokens with list positions as numbers (``follow_pointer`` checked them)."""
    found: list[Any] = []
    node = document
    for token in tokens:
        key: Any = int(token) if isinstance(node, list) else token
        found.append(key)
        node = node[key]
    return found


def _free_parameter(
    prepared: _CopyOnWrite, places: list[list[Any]], parameter: dict[str, Any]
) -> None:
    """Drop readOnly/writeOnly from a parameter's schema (and its media types' schemas), at
    every place the parameter is found."""
    document = prepared.root
    content = parameter.get("content")
    holders: list[tuple[list[Any], Any]] = [([], parameter)]
    if isinstance(content, dict):
        holders += [(["content", media], holder) for media, holder in content.items()]
    for within, holder in holders:
        if isinstance(holder, dict) and _has_access(document, holder.get("schema"), set()):
            schema = _without_access(document, holder["schema"], frozenset())
            for place in places:
                prepared.writable([*place, *within])["schema"] = schema


def _has_access(document: dict[str, Any], node: Any, seen: set[str], at: Any = None) -> bool:
    """Whether readOnly/writeOnly is set anywhere in a schema (``at``: the key it sits under)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return False
            seen.add(ref)
            return _has_access(document, _deref(document, node, set()), seen)
        if at != "properties" and any(node.get(key) is True for key in _ACCESS):
            return True
        return any(
            _has_access(document, value, seen, key)
            for key, value in node.items()
            if not is_data_key(key, value, (at, None))
        )
    if isinstance(node, list):
        return any(_has_access(document, value, seen) for value in node)
    return False


def _without_access(
    document: dict[str, Any], node: Any, inlined: frozenset[str], at: Any = None
) -> Any:
    """A copy with references inlined (a cycle keeps its reference) and no readOnly/writeOnly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = _deref(document, node, set())
            if ref in inlined or target is None:
                return copy.deepcopy(node)
            return _without_access(document, target, inlined | {ref})
        return {
            key: copy.deepcopy(value)
            if is_data_key(key, value, (at, None))
            else _without_access(document, value, inlined, key)
            for key, value in node.items()
            if at == "properties" or key not in _ACCESS
        }
    if isinstance(node, list):
        return [_without_access(document, value, inlined) for value in node]
    return node
