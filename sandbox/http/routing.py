"""Matching request paths to operations, precomputed once.

A trie over path segments: literal segments are tried before templated ones, as OpenAPI
requires (``/users/bulk`` wins over ``/users/{id}``), and a segment may mix text and
variables (``/files/{name}.{ext}``). Paths that differ only in their variables' names
(``/services/{Sid}`` and ``/services/{ServiceSid}/senders``) share trie nodes, so values are
captured by position and named by the operation that matched.
"""

from __future__ import annotations

import re
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
        for segment in _segments(operation.path):
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
        node.operations[operation.method] = operation
        node.names[operation.method] = tuple(_VARIABLE.findall(operation.path))

    def match(self, method: str, path: str) -> RouteResult:
        if self.base_path:
            if path != self.base_path and not path.startswith(self.base_path + "/"):
                return NotFound(f"the API is served under {self.base_path}/")
            path = path[len(self.base_path) :]
        found = self._walk(self._root, _segments(path), 0, ())
        if found is None:
            return NotFound("no path in the spec matches")
        node, values = found
        operation = node.operations.get(method.upper())
        if operation is None and method.upper() == "HEAD":
            operation = node.operations.get("GET")
        if operation is None:
            names = next(iter(node.names.values()))
            return MethodNotAllowed(
                tuple(sorted(node.operations)), dict(zip(names, values, strict=True))
            )
        return Match(operation, dict(zip(node.names[operation.method], values, strict=True)))

    def _walk(
        self, node: _Node, segments: list[str], index: int, values: tuple[str, ...]
    ) -> tuple[_Node, tuple[str, ...]] | None:
        if index == len(segments):
            return (node, values) if node.operations else None
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


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []
