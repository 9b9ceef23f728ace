"""Matching request paths to operations, precomputed once.

A trie over path segments: literal segments are tried before templated ones, as OpenAPI
requires (``/users/bulk`` wins over ``/users/{id}``), and a segment may mix text and
variables (``/files/{name}.{ext}``). Paths that differ only in their variables' names
(``/services/{Sid}`` and ``/services/{ServiceSid}/senders``) share trie nodes, so values are
captured by position and named by the operation that matched.

A path key may hold a query string (OpenAI's ``/responses?beta=true`` beside ``/responses``):
its pairs select that operation when the request carries them all, the most pairs first, and
the plain path's operation answers the rest. Checking them costs nothing on nodes without such
keys: the request's query is read only where a selector exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import unquote

from sandbox.spec.model import Operation

_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    templated: list[tuple[re.Pattern[str], _Node]] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per method, in order
    # per method: the operations whose path key holds a query, most pairs first
    selected: dict[str, list[Operation]] = field(default_factory=dict)

    @property
    def routable(self) -> bool:
        return bool(self.operations or self.selected)


@dataclass(frozen=True)
class Match:
    operation: Operation
    path_params: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    allowed: tuple[str, ...]
    path_params: dict[str, str]


@dataclass(frozen=True)
class NotFound:
    reason: str


RouteResult = Union[Match, MethodNotAllowed, NotFound]  # noqa: UP007 - runtime alias


def _compile_segment(segment: str) -> re.Pattern[str]:
    pattern = ""
    position = 0
    for found in _VARIABLE.finditer(segment):
        pattern += re.escape(segment[position : found.start()])
        pattern += "(.+?)" if position or found.end() < len(segment) else "(.+)"
        position = found.end()
    pattern += re.escape(segment[position:])
    return re.compile(f"^{pattern}$", re.DOTALL)


class Router:
    def __init__(self, operations: list[Operation], base_path: str = "") -> None:
        self.base_path = base_path.rstrip("/")
        self._root = _Node()
        for operation in operations:
            self._add(operation)

    def _add(self, operation: Operation) -> None:
        node = self._root
        for segment in _segments(operation.route_path):
            if "{" in segment:
                regex = _compile_segment(segment)
                for existing, child in node.templated:
                    if existing.pattern == regex.pattern:
                        node = child
                        break
                else:
                    child = _Node()
                    node.templated.append((regex, child))
                    # more literal text first: "{id}.json" before "{id}"
                    node.templated.sort(key=lambda item: -len(_VARIABLE.sub("", item[0].pattern)))
                    node = child
            else:
                node = node.literal.setdefault(segment, _Node())
        if operation.query_selector:
            chosen = node.selected.setdefault(operation.method, [])
            chosen.append(operation)
            chosen.sort(key=lambda op: -len(op.query_selector))
        else:
            node.operations[operation.method] = operation
            node.names[operation.method] = _names(operation)

    def match(self, method: str, path: str, query: Mapping[str, str] | None = None) -> RouteResult:
        """The operation for ``method`` on ``path``; ``query`` (the request's arguments) is
        read only where a path key holds a query that selects an operation."""
        if self.base_path:
            if path != self.base_path and not path.startswith(self.base_path + "/"):
                return NotFound(f"the API is served under {self.base_path}/")
            path = path[len(self.base_path) :]
        found = self._walk(self._root, _segments(path), 0, ())
        if found is None:
            return NotFound("no path in the spec matches")
        node, values = found
        verb = method.upper()
        if verb == "HEAD" and verb not in node.operations and verb not in node.selected:
            verb = "GET"
        if node.selected.get(verb):
            chosen = _selected(node.selected[verb], query or {})
            if chosen is not None:
                return Match(chosen, dict(zip(_names(chosen), values, strict=True)))
        operation = node.operations.get(verb)
        if operation is not None:
            return Match(operation, dict(zip(node.names[verb], values, strict=True)))
        if verb in node.selected:
            needs = " or ".join(
                "?" + "&".join(f"{k}={v}" for k, v in op.query_selector)
                for op in node.selected[verb]
            )
            return NotFound(
                f"{method.upper()} on this path is declared only with the query {needs}"
            )
        allowed = sorted(set(node.operations) | set(node.selected))
        some = next(iter(node.operations.values()), None) or next(iter(node.selected.values()))[0]
        return MethodNotAllowed(tuple(allowed), dict(zip(_names(some), values, strict=True)))

    def _walk(
        self, node: _Node, segments: list[str], index: int, values: tuple[str, ...]
    ) -> tuple[_Node, tuple[str, ...]] | None:
        if index == len(segments):
            return (node, values) if node.routable else None
        segment = segments[index]
        child = node.literal.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, values)
            if found is not None:
                return found
        for regex, templated_child in node.templated:
            matched = regex.match(segment)
            if matched is None:
                continue
            captured = values + tuple(unquote(value) for value in matched.groups())
            found = self._walk(templated_child, segments, index + 1, captured)
            if found is not None:
                return found
        return None


def _names(operation: Operation) -> tuple[str, ...]:
    return tuple(_VARIABLE.findall(operation.route_path))


def _selected(operations: list[Operation], query: Mapping[str, str]) -> Operation | None:
    for operation in operations:
        if all(query.get(name) == value for name, value in operation.query_selector):
            return operation
    return None


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []
