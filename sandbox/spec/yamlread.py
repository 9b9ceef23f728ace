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


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGING = frozenset(("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"))
_AS_TEXT = frozenset(("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"))
# plain scalar -> its tag: the implicit resolvers are a dozen regular expressions tried on
# every plain scalar, and a spec says "string", "type" and "description" thousands of times;
# only short words are kept (a description is seldom said twice), and not too many of them
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_LIMIT = 20_000
_PLAIN_TAG_WORD = 40


class _Reader(_Base):
    """libyaml parses and composes the node tree; this builds only JSON values from it.

    PyYAML's constructor dispatches each node through several Python calls (tag lookup,
    recursion bookkeeping, a generator per mapping); building strings, lists and dicts
    directly, and resolving each distinct plain scalar once, takes a fifth less CPU
    (DigitalOcean's YAML files: 0.26 s against 0.20 s; openai's spec: 0.27 s against
    0.22 s, the collector off as ``spec.gcpause`` has it; libyaml's own parse is the rest).
    Other tags (``!!set``, ``!!omap``, unknown ones) go through PyYAML's constructor as
    before. A node shared by an anchor is built once and
    shared; a node that contains itself is refused ("recursive node") rather than becoming
    a cycle for every later walk to loop on."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.typed_keys = TypedKeys()
        self._first_typed: yaml.Node | None = None
        self._built: dict[yaml.Node, Any] = {}
        self._building: set[yaml.Node] = set()

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= _PLAIN_TAG_WORD and len(_PLAIN_TAGS) < _PLAIN_TAGS_LIMIT:
                    _PLAIN_TAGS[value] = tag
            return tag
        return str(super().resolve(kind, value, implicit))

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        data = self._build(node)
        if self._first_typed is not None:
            self._note_first_typed(node, self._first_typed)
        return data

    def _build(self, node: yaml.Node) -> Any:
        kind = node.__class__
        if kind is yaml.ScalarNode:
            if node.tag == _STR or node.tag in _AS_TEXT:
                return node.value
            return self.construct_object(node, deep=True)  # null, bool, int, float, or refused
        built = self._built.get(node, _NOTHING)
        if built is not _NOTHING:
            return built
        if node in self._building:
            raise yaml.constructor.ConstructorError(
                None, None, "found unconstructable recursive node", node.start_mark
            )
        self._building.add(node)
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            built = self._mapping(node)
        elif kind is yaml.SequenceNode and node.tag == _SEQ:
            built = [self._build(child) for child in node.value]
        else:
            built = self.construct_object(node, deep=True)
        self._building.discard(node)
        self._built[node] = built
        return built

    def _mapping(self, node: yaml.MappingNode) -> dict[str, Any]:
        if any(key.tag in _MERGING for key, _ in node.value):
            self.flatten_mapping(node)  # "<<" merge keys, as PyYAML merges them
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)  # before its value: typed keys are met in document order
            mapping[key] = self._build(value_node)
        return mapping

    # what PyYAML's constructor calls for the tags left to it (``!!set``, ``!!omap``, ...)
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        return self._mapping(node)

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> list[Any]:
        if not isinstance(node, yaml.SequenceNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a sequence, found {node.id}", node.start_mark
            )
        return [self._build(child) for child in node.value]

    def _key(self, node: yaml.Node) -> str:
        if node.__class__ is not yaml.ScalarNode:
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be a plain value, found {type(node).__name__}",
                node.start_mark,
            )  # fmt: skip
        if node.tag != _STR:
            self.typed_keys.count += 1
            if self._first_typed is None:
                self._first_typed = node
        return str(node.value)

    def _note_first_typed(self, root: yaml.Node, key: yaml.Node) -> None:
        """Where the first typed key is: found after the build (it happens once per file at
        most), so the build need not carry a path for every node."""
        tokens = _path_to(root, key, set()) or [str(key.value)]
        pointer = "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens)
        self.typed_keys.first = (key.start_mark.line + 1, str(key.value), pointer)


# dates and binary as the text written, in what PyYAML's constructor builds too (a !!set's)
_Reader.add_constructor("tag:yaml.org,2002:timestamp", lambda _self, node: str(node.value))
_Reader.add_constructor("tag:yaml.org,2002:binary", lambda _self, node: str(node.value))
_NOTHING = object()


def _path_to(node: yaml.Node, key: yaml.Node, seen: set[int]) -> list[str] | None:
    """The keys and indexes from ``node`` down to the mapping key ``key``, in document order
    (the order the build met it in)."""
    if id(node) in seen:
        return None
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node is key:
                return [str(key.value)]
            below = _path_to(value_node, key, seen)
            if below is not None:
                return [str(key_node.value), *below]
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            below = _path_to(child, key, seen)
            if below is not None:
                return [str(index), *below]
    return None


def load_yaml(text: str) -> tuple[Any, TypedKeys]:
    """The document and the keys YAML typed; YAML errors propagate (``yaml.YAMLError``)."""
    reader = _Reader(text)
    try:
        return reader.get_single_data(), reader.typed_keys
    finally:
        reader.dispose()
