"""Reading spec files and joining multi-file specs into one document.

Everything downstream (validation, routing, data generation, Schemathesis) is simpler and
faster when the spec is a single dict whose every ``$ref`` is local, so external references
are bundled once, at load time.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

import yaml

from sandbox.errors import SpecError
from sandbox.spec.yamlread import load_yaml

try:  # the C loader is an order of magnitude faster on big specs
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

BUNDLE_KEY = "x-sandbox-bundled"
# where OpenAPI allows no $ref, yet split specs put one: an operation, or a whole map
_NO_REF_HERE = re.compile(
    r"/paths/[^/]+/(get|put|post|delete|options|head|patch|trace)"
    r"|.*/(properties|content|responses|headers|links|examples|encoding|variables)"
)


# maps whose keys are names the spec's author chose (a property called "example" is a name)
_NAME_MAPS = frozenset(
    ("properties", "patternProperties", "$defs", "definitions", "schemas", "responses",
     "parameters", "examples", "requestBodies", "headers", "securitySchemes", "links",
     "callbacks", "pathItems", "paths", "webhooks", "content", "encoding", "mapping",
     "variables", "dependentSchemas")
)  # fmt: skip


def is_data_key(key: Any, value: Any, above: tuple[Any, Any]) -> bool:
    """Whether ``value``, under ``key``, is data rather than OpenAPI: an ``example``, an
    Example Object's ``value``, a JSON Schema ``examples`` list, an ``x-`` extension (but not
    the bundle's own). A ``$ref`` in data is data (GitHub's SCIM examples hold ``$ref``
    members), so neither bundling nor reference checks follow it. ``above``: the keys of the
    holder's parent and grandparent (``("<name>", "examples")`` for an Example Object)."""
    if not isinstance(key, str) or above[0] in _NAME_MAPS:
        return False
    if key == "example" or (key.startswith("x-") and key != BUNDLE_KEY):
        return True
    if key == "examples":
        return isinstance(value, list)
    return key == "value" and above[1] == "examples"


def _above(pointer: str) -> tuple[str | None, str | None]:
    """The last two tokens of a JSON pointer (unescaped), for ``is_data_key``."""
    tokens = pointer.rsplit("/", 2)[1:]
    names = [t.replace("~1", "/").replace("~0", "~") for t in tokens]
    return (names[-1] if names else None), (names[-2] if len(names) > 1 else None)


def read_document(path: Path, notes: list[SpecError] | None = None) -> Any:
    """Parse a YAML or JSON file, turning syntax errors into a SpecError with a line.

    ``notes`` gets what was read other than as written (keys YAML types as numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            "file not found", file=path, hint="pass the path of an OpenAPI document"
        ) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not an OpenAPI document", file=path) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text ({exc.reason})", file=path) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno) from None
    try:
        document, typed = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise SpecError(f"invalid YAML: {problem}", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=path) from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply to read", file=path) from None
    message = typed.message()
    if message is not None and typed.first is not None and notes is not None:
        line, text, pointer = typed.first
        notes.append(
            SpecError(message, file=path, line=line, pointer=pointer,
                      hint=f"quote such keys ('{text}':) so every YAML reader agrees")
        )  # fmt: skip
    return document


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def split_pointer(fragment: str) -> list[str]:
    """``/paths/~1users/get`` -> ``['paths', '/users', 'get']``."""
    if fragment in ("", "/"):
        return []
    if not fragment.startswith("/"):
        raise ValueError(f"not a JSON pointer: {fragment!r}")
    return [unquote(part).replace("~1", "/").replace("~0", "~") for part in fragment[1:].split("/")]


def follow_pointer(document: Any, fragment: str) -> Any:
    """Return the node at a JSON pointer; KeyError when it is not there."""
    node = document
    for token in split_pointer(fragment):
        if isinstance(node, list):
            if not (token.isascii() and token.isdigit()) or int(token) >= len(node):
                raise KeyError(token)
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KeyError(token)
    return node


def pointer_line(path: Path, fragment: str) -> int | None:
    """The 1-based line where a JSON pointer's node starts, for error messages only."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_Loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    line = None
    try:
        for token in split_pointer(fragment):
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if key.value == token:
                        node = value
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and token.isascii() and token.isdigit():
                node = node.value[int(token)]
            else:
                return line
            line = node.start_mark.line + 1
    except (ValueError, IndexError):
        return line
    return line


class Bundler:
    """Rewrites references into other files as local references.

    A target in another file is copied once under ``#/x-sandbox-bundled/<name>`` (or, for
    schemas, ``#/components/schemas/<name>`` would clash with user names, so the private key
    is used for everything). Cycles across files are handled because a target's name is
    registered before its own references are followed.
    """

    def __init__(
        self, root_path: Path, root: dict[str, Any], notes: list[SpecError] | None = None
    ) -> None:
        self.root_path = root_path.resolve()
        self.root = root
        self.notes = notes  # what reading the other files noted
        self.documents: dict[Path, Any] = {self.root_path: root}
        self.names: dict[tuple[Path, str], str] = {}
        self.bundled: dict[str, Any] = {}
        self.origins: dict[str, tuple[Path, str]] = {}
        self._inlining: set[tuple[Path, str]] = set()

    def bundle(self) -> dict[str, Any]:
        self._walk(self.root, self.root_path, "")
        if self.bundled:
            self.root[BUNDLE_KEY] = self.bundled
        return self.root

    def _document(self, path: Path, referrer: Path, pointer: str) -> Any:
        if path not in self.documents:
            if not path.exists():
                raise SpecError(
                    f"$ref points to a file that does not exist: {path}",
                    file=referrer,
                    pointer=pointer or "/",
                    line=pointer_line(referrer, pointer),
                )
            self.documents[path] = read_document(path, self.notes)
        return self.documents[path]

    def _walk(self, node: Any, file: Path, pointer: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                node["$ref"] = self._rewrite(ref, file, pointer + "/$ref")
            if isinstance(node.get("discriminator"), dict):
                self._rewrite_mapping(node["discriminator"], file, pointer + "/discriminator")
            above = _above(pointer)
            for key, value in node.items():
                if is_data_key(key, value, above):
                    continue
                if key != "$ref" and isinstance(value, dict | list):
                    node[key] = self._visit(
                        value, file, f"{pointer}/{escape_pointer_token(str(key))}"
                    )
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, dict | list):
                    node[index] = self._visit(value, file, f"{pointer}/{index}")

    def _visit(self, node: Any, file: Path, pointer: str) -> Any:
        """Walk a child, first replacing a ``$ref`` that OpenAPI does not allow where it
        stands by its target: a string (DigitalOcean's ``description: {$ref: ...}``), or an
        operation kept in a file of its own (``get: {$ref: resources/list.yml}``)."""
        found = self._inline_target(node, file, pointer)
        if found is None:
            self._walk(node, file, pointer)
            return node
        target, target_file, fragment = found
        if isinstance(target, str | int | float | bool):
            return target
        key = (target_file, fragment)
        if key in self._inlining:  # a cycle: keep the reference this time round
            self._walk(node, file, pointer)
            return node
        self._inlining.add(key)
        try:
            copied = copy.deepcopy(target)
            self._walk(copied, target_file, fragment)  # its refs are relative to its file
        finally:
            self._inlining.discard(key)
        return copied

    def _inline_target(self, node: Any, file: Path, pointer: str) -> tuple[Any, Path, str] | None:
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and len(node) == 1):
            return None
        location, fragment = urldefrag(node["$ref"])
        if location.startswith(("http://", "https://")):
            return None
        target_file = _beside(file, location) if location else file
        document = self._document(target_file, file, pointer)
        try:
            target = follow_pointer(document, fragment)
        except (KeyError, ValueError):
            return None  # _rewrite reports it, with its location
        if isinstance(target, str | int | float | bool):
            return target, target_file, fragment
        if _NO_REF_HERE.fullmatch(pointer) and isinstance(target, dict):
            return target, target_file, fragment
        return None

    def _rewrite(self, ref: str, file: Path, pointer: str) -> str:
        location, fragment = urldefrag(ref)
        if location.startswith(("http://", "https://")):
            raise SpecError(
                f"remote $ref is not supported (the sandbox works offline): {ref}",
                file=file,
                pointer=pointer,
                line=pointer_line(file, pointer),
                hint="download the referenced document next to the spec and use a relative path",
            )
        target_file = _beside(file, location) if location else file
        if target_file == self.root_path:
            self._check_target(self.root, fragment, ref, file, pointer)
            return "#" + fragment
        document = self._document(target_file, file, pointer)
        key = (target_file, fragment)
        name = self.names.get(key)
        if name is None:
            target = self._check_target(document, fragment, ref, file, pointer)
            name = self._fresh_name(target_file, fragment)
            self.names[key] = name
            self.origins[name] = (target_file, fragment)
            copied = copy.deepcopy(target)
            self.bundled[name] = copied
            self._walk(copied, target_file, fragment)
        return f"#/{BUNDLE_KEY}/{name}"

    def _rewrite_mapping(self, discriminator: dict[str, Any], file: Path, pointer: str) -> None:
        """A discriminator's mapping values are references too (OpenAPI 3.0.3 §4.7.25), a
        bare schema name apart: bundled like ``$ref`` so each names the copy its branch
        uses. One that leads nowhere is left as written, for the validator to report."""
        mapping = discriminator.get("mapping")
        if not isinstance(mapping, dict):
            return
        for value, target in mapping.items():
            if not isinstance(target, str) or not ("/" in target or "#" in target):
                continue
            at = f"{pointer}/mapping/{escape_pointer_token(str(value))}"
            try:
                mapping[value] = self._rewrite(target, file, at)
            except SpecError:
                continue

    def _check_target(
        self, document: Any, fragment: str, ref: str, file: Path, pointer: str
    ) -> Any:
        try:
            return follow_pointer(document, fragment)
        except (KeyError, ValueError):
            raise SpecError(
                f"$ref cannot be resolved: {ref}",
                file=file,
                pointer=pointer,
                line=pointer_line(file, pointer),
                hint="check the spelling of the reference and that the target exists",
            ) from None

    def _fresh_name(self, path: Path, fragment: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem)
        tail = re.sub(r"[^A-Za-z0-9_.-]+", "_", fragment.strip("/"))
        base = f"{stem}__{tail}" if tail else stem
        name, counter = base, 1
        while name in self.bundled:
            counter += 1
            name = f"{base}_{counter}"
        return name


@functools.lru_cache(maxsize=65536)
def _beside(file: Path, location: str) -> Path:
    """The file a relative reference in ``file`` names. Normalised as text, not resolved on
    disk: a split spec holds tens of thousands of refs, and realpath on each costs seconds."""
    return Path(os.path.normpath(os.path.join(file.parent, unquote(location))))


def check_local_refs(document: dict[str, Any], path: Path) -> None:
    """Fail early, with a location, on local references that lead nowhere."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                try:
                    follow_pointer(document, ref[1:])
                except (KeyError, ValueError):
                    raise SpecError(
                        f"$ref cannot be resolved: {ref}",
                        file=path,
                        pointer=pointer + "/$ref",
                        line=pointer_line(path, pointer + "/$ref"),
                        hint="check the spelling of the reference and that the target exists",
                    ) from None
            above = _above(pointer)
            for key, value in node.items():
                if isinstance(value, dict | list) and not is_data_key(key, value, above):
                    stack.append((value, f"{pointer}/{escape_pointer_token(str(key))}"))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append((value, f"{pointer}/{index}"))
