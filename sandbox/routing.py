"""Matching request paths to operations, precomputed once.

A trie over path segments: literal segments are tried before templated ones, as OpenAPI
requires (``/users/bulk`` wins over ``/users/{id}``), and a segment may mix text and
variables (``/files/{name}.{ext}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import unquote

from sandbox.spec import Operation

_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    templated: list[tuple[re.Pattern[str], tuple[str, ...], _Node]] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)


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


def _compile_segment(segment: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    names: list[str] = []
    pattern = ""
    position = 0
    for found in _VARIABLE.finditer(segment):
        pattern += re.escape(segment[position : found.start()])
        names.append(found.group(1))
        pattern += "(.+?)" if position or found.end() < len(segment) else "(.+)"
        position = found.end()
    pattern += re.escape(segment[position:])
    return re.compile(f"^{pattern}$", re.DOTALL), tuple(names)


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
                regex, names = _compile_segment(segment)
                for existing, _names, child in node.templated:
                    if existing.pattern == regex.pattern:
                        node = child
                        break
                else:
                    child = _Node()
                    node.templated.append((regex, names, child))
                    # more literal text first: "{id}.json" before "{id}"
                    node.templated.sort(key=lambda item: -len(_VARIABLE.sub("", item[0].pattern)))
                    node = child
            else:
                node = node.literal.setdefault(segment, _Node())
        node.operations[operation.method] = operation

    def match(self, method: str, path: str) -> RouteResult:
        if self.base_path:
            if path != self.base_path and not path.startswith(self.base_path + "/"):
                return NotFound(f"the API is served under {self.base_path}/")
            path = path[len(self.base_path) :]
        found = self._walk(self._root, _segments(path), 0, {})
        if found is None:
            return NotFound("no path in the spec matches")
        node, params = found
        operation = node.operations.get(method.upper())
        if operation is None and method.upper() == "HEAD":
            operation = node.operations.get("GET")
        if operation is None:
            return MethodNotAllowed(tuple(sorted(node.operations)), params)
        return Match(operation, params)

    def _walk(
        self, node: _Node, segments: list[str], index: int, params: dict[str, str]
    ) -> tuple[_Node, dict[str, str]] | None:
        if index == len(segments):
            return (node, params) if node.operations else None
        segment = segments[index]
        child = node.literal.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, params)
            if found is not None:
                return found
        for regex, names, templated_child in node.templated:
            matched = regex.match(segment)
            if matched is None:
                continue
            values = dict(params)
            for name, value in zip(names, matched.groups(), strict=True):
                values[name] = unquote(value)
            found = self._walk(templated_child, segments, index + 1, values)
            if found is not None:
                return found
        return None


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []
