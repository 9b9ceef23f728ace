"""YAML read into the JSON data model an OpenAPI document lives in.

Hand-written specs say ``200:`` for a status code, ``on:`` for a property name and
``version: 2024-01-31``; YAML types those as an integer, a boolean and a date, which no JSON
document holds and which the spec validator crashes on. Every mapping key is read as the
text written (OpenAPI keys are strings), dates and binary scalars as their text, and the keys
YAML would have typed otherwise are counted, so the user hears of them once per file.
Anchors may be shared but may not contain themselves (such a document has no JSON form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

try:  # the C parser is an order of magnitude faster on big specs
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"


@dataclass
class TypedKeys:
    """Mapping keys YAML would have read as something other than a string."""

    count: int = 0
    first: tuple[int, str, str] | None = None  # (line, text, JSON pointer) of the first one

    def message(self) -> str | None:
        """One line for the user, or None when every key was a string."""
        if self.first is None:
            return None
        _, text, _ = self.first
        others = self.count - 1
        more = f" (and {others} more key{'s' if others > 1 else ''} like it)" if others else ""
        return (
            f"the key {text} is a number, boolean or date in YAML, not a string; read as "
            f"'{text}'{more}"
        )


class _Reader(_Base):
    """SafeLoader that builds only JSON values and refuses self-containing anchors."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.typed_keys = TypedKeys()
        self._path: list[str] = []  # where construction is, for the first typed key's pointer

    def construct_document(self, node: yaml.Node) -> Any:
        # deep: a collection is built before its parent, so an anchor inside itself is an
        # error ("recursive node") rather than a cycle for every later walk to loop on
        return self.construct_object(node, deep=True)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            self._path.append(key)
            mapping[key] = self.construct_object(value_node, deep=True)
            self._path.pop()
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> list[Any]:
        if not isinstance(node, yaml.SequenceNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a sequence, found {node.id}", node.start_mark
            )
        items = []
        for index, child in enumerate(node.value):
            self._path.append(str(index))
            items.append(self.construct_object(child, deep=True))
            self._path.pop()
        return items

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be a plain value, found {type(node).__name__}",
                node.start_mark,
            )  # fmt: skip
        if node.tag != _STR:
            self.typed_keys.count += 1
            if self.typed_keys.first is None:
                tokens = [*self._path, str(node.value)]
                pointer = "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens)
                self.typed_keys.first = (node.start_mark.line + 1, str(node.value), pointer)
        return str(node.value)

    def _as_text(self, node: yaml.Node) -> str:
        return str(self.construct_scalar(node))


_Reader.add_constructor("tag:yaml.org,2002:timestamp", _Reader._as_text)
_Reader.add_constructor("tag:yaml.org,2002:binary", _Reader._as_text)


def load_yaml(text: str) -> tuple[Any, TypedKeys]:
    """The document and the keys YAML typed; YAML errors propagate (``yaml.YAMLError``)."""
    reader = _Reader(text)
    try:
        return reader.get_single_data(), reader.typed_keys
    finally:
        reader.dispose()
