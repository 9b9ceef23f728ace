"""What the sandbox mends in a hand-written document before serving it, each with a note.

Users bring specs that break the OpenAPI schema in ways that do not change what can be
served: ``openapi: 3.0`` and ``version: 1.0`` written as numbers, a ``description`` put under
``content`` beside the media types. Such a document is served as meant, and every mend is a
note (a warning by default, a refusal with ``--strict``), with the place it was made.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sandbox.errors import SpecError
from sandbox.spec.documents import escape_pointer_token, follow_pointer, pointer_line

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
MEDIA_TYPE = re.compile(rf"\s*{_TOKEN}/{_TOKEN}\s*(;.*)?", re.S)  # RFC 9110 §8.3.1
# fields OpenAPI types as strings that YAML reads as numbers or booleans when unquoted
_STRING_FIELDS = (("openapi",), ("swagger",), ("info", "title"), ("info", "version"))
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")


def mend_scalars(document: dict[str, Any], path: Path) -> list[SpecError]:
    """``openapi: 3.0`` and ``version: 1.0`` (numbers in YAML) as the strings meant."""
    notes = []
    for fields in _STRING_FIELDS:
        holder: Any = document
        for name in fields[:-1]:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if not isinstance(holder, dict):
            continue
        value = holder.get(fields[-1])
        if isinstance(value, bool | int | float):
            text = str(value).lower() if isinstance(value, bool) else str(value)
            holder[fields[-1]] = text
            pointer = "/" + "/".join(fields)
            notes.append(
                SpecError(
                    f"{'.'.join(fields)} is a {type(value).__name__} in YAML; read as '{text}'",
                    file=path, pointer=pointer, line=pointer_line(path, pointer),
                    hint=f"quote it: {fields[-1]}: '{text}'",
                )
            )  # fmt: skip
    return notes


def skip_stray_media(document: dict[str, Any], path: Path) -> list[SpecError]:
    """Remove what is not a media type from every ``content`` map of an OpenAPI 3 document
    (requests, responses, parameters, headers), so no request meets it; one note each."""
    walk = _MediaWalk(document, path)
    for name, item in _mapping(document.get("paths")).items():
        walk.path_item(item, f"/paths/{escape_pointer_token(name)}")
    for name, item in _mapping(document.get("webhooks")).items():
        walk.path_item(item, f"/webhooks/{escape_pointer_token(name)}")
    components = _mapping(document.get("components"))
    for section, visit in (
        ("responses", walk.response), ("requestBodies", walk.holder),
        ("parameters", walk.holder), ("headers", walk.holder),
    ):  # fmt: skip
        for name, node in _mapping(components.get(section)).items():
            visit(node, f"/components/{section}/{escape_pointer_token(name)}")
    return walk.notes


class _MediaWalk:
    def __init__(self, document: dict[str, Any], path: Path) -> None:
        self.document = document
        self.path = path
        self.notes: list[SpecError] = []
        self._seen: set[int] = set()

    def _target(self, node: Any, pointer: str) -> tuple[Any, str]:
        """A node with its local ``$ref`` followed (once: each target is mended once)."""
        for _ in range(32):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not (isinstance(ref, str) and ref.startswith("#")):
                break
            try:
                node, pointer = follow_pointer(self.document, ref[1:]), ref[1:]
            except (KeyError, ValueError):
                return None, pointer
        if not isinstance(node, dict) or id(node) in self._seen:
            return None, pointer
        self._seen.add(id(node))
        return node, pointer

    def path_item(self, item: Any, pointer: str) -> None:
        item, pointer = self._target(item, pointer)
        if item is None:
            return
        for index, parameter in enumerate(_list(item.get("parameters"))):
            self.holder(parameter, f"{pointer}/parameters/{index}")
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                self.operation(operation, f"{pointer}/{method}")

    def operation(self, operation: dict[str, Any], pointer: str) -> None:
        for index, parameter in enumerate(_list(operation.get("parameters"))):
            self.holder(parameter, f"{pointer}/parameters/{index}")
        if "requestBody" in operation:
            self.holder(operation["requestBody"], f"{pointer}/requestBody")
        for code, response in _mapping(operation.get("responses")).items():
            self.response(response, f"{pointer}/responses/{escape_pointer_token(code)}")
        for name, callback in _mapping(operation.get("callbacks")).items():
            for expression, item in _mapping(callback).items():
                where = f"{pointer}/callbacks/{escape_pointer_token(name)}"
                self.path_item(item, f"{where}/{escape_pointer_token(expression)}")

    def response(self, response: Any, pointer: str) -> None:
        response, pointer = self._target(response, pointer)
        if response is None:
            return
        self._content(response, pointer)
        for name, header in _mapping(response.get("headers")).items():
            self.holder(header, f"{pointer}/headers/{escape_pointer_token(name)}")

    def holder(self, node: Any, pointer: str) -> None:
        """A request body, parameter or header: whatever holds a ``content`` map."""
        node, pointer = self._target(node, pointer)
        if node is not None:
            self._content(node, pointer)

    def _content(self, holder: dict[str, Any], pointer: str) -> None:
        content = holder.get("content")
        if not isinstance(content, dict):
            return
        for key in [k for k in content if not MEDIA_TYPE.fullmatch(k)]:
            del content[key]
            where = f"{pointer}/content/{escape_pointer_token(key)}"
            self.notes.append(
                SpecError(
                    f"'{key}' under content is not a media type (type/subtype); skipped",
                    file=self.path, pointer=where, line=pointer_line(self.path, where),
                    hint=f"move it out of content (a response's '{key}' sits beside content)",
                )
            )  # fmt: skip


def _mapping(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def _list(node: Any) -> list[Any]:
    return node if isinstance(node, list) else []
