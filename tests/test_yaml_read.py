"""The spec reader's YAML: built fast from libyaml's nodes, read exactly as PyYAML reads it.

``sandbox.spec.yamlread`` builds values from libyaml's node tree without PyYAML's constructor
(half the time on DigitalOcean's 1,509 files). The rule it must keep: every document reads to
the same values, shares the same anchors, and reports the same typed keys (count, line and
pointer) as PyYAML's constructor did, and errors carry the line PyYAML's own parser reports.
The oracle below is the reader as it was, on PyYAML's constructor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.errors import SpecError
from sandbox.spec.documents import read_document
from sandbox.spec.yamlread import TypedKeys, load_yaml
from tests.corpus import corpus_dir


class _Oracle(yaml.CSafeLoader):
    """PyYAML's constructor with the reader's rules: keys as written, dates and binary as
    text, typed keys counted with the pointer of the first."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.typed_keys = TypedKeys()
        self._path: list[str] = []

    def construct_document(self, node: yaml.Node) -> Any:
        return self.construct_object(node, deep=True)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            key = str(key_node.value)
            if key_node.tag != "tag:yaml.org,2002:str":
                self.typed_keys.count += 1
                if self.typed_keys.first is None:
                    tokens = [*self._path, key]
                    pointer = "/" + "/".join(
                        t.replace("~", "~0").replace("/", "~1") for t in tokens
                    )
                    self.typed_keys.first = (key_node.start_mark.line + 1, key, pointer)
            self._path.append(key)
            mapping[key] = self.construct_object(value_node, deep=True)
            self._path.pop()
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> list[Any]:
        items = []
        for index, child in enumerate(node.value):
            self._path.append(str(index))
            items.append(self.construct_object(child, deep=True))
            self._path.pop()
        return items

    def _as_text(self, node: yaml.Node) -> str:
        return str(self.construct_scalar(node))


_Oracle.add_constructor("tag:yaml.org,2002:timestamp", _Oracle._as_text)
_Oracle.add_constructor("tag:yaml.org,2002:binary", _Oracle._as_text)


def oracle(text: str) -> tuple[Any, TypedKeys]:
    reader = _Oracle(text)
    try:
        return reader.get_single_data(), reader.typed_keys
    finally:
        reader.dispose()


def same_shape(a: Any, b: Any, pairs: dict[int, int]) -> None:
    """Equal values, with the same objects shared: where the oracle shares one dict (an
    anchor), the reader shares one too."""
    assert type(a) is type(b)
    if isinstance(a, dict | list):
        assert pairs.setdefault(id(a), id(b)) == id(b), "an anchor's value is not shared alike"
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            same_shape(a[key], b[key], pairs)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same_shape(x, y, pairs)
    elif isinstance(a, float) and a != a:  # NaN
        assert b != b
    else:
        assert a == b


DOCUMENTS = {
    "typed keys": "paths:\n  /a:\n    get:\n      responses:\n        200: {description: x}\n"
    "        default: {description: y}\n  /b:\n    on: 1\n    2024-01-31: d\n",
    "typed key above a typed key": "responses:\n  200:\n    properties:\n"
    "      on: {type: boolean}\n",
    "typed key in a list": "a:\n  - b: 1\n  - {3: x, c: [ {yes: 1} ]}\n",
    "scalars": "a: [~, null, true, False, 0x1F, 0o17, 1_000, 1.5e3, .inf, -.inf, .nan, '1', "
    '"2", 2020-01-01, 2001-12-14t21:59:43.10-05:00, !!binary aGk=, !!str 3, !!int "7"]\n',
    "anchors": "base: &b {type: object, properties: {a: {type: string}}}\n"
    "x: *b\ny: [*b, *b]\nlist: &l [1, 2]\nz: *l\n",
    "merge keys": "base: &b {a: 1, 200: x}\nc:\n  <<: *b\n  d: 2\ne: {<<: [*b, {f: 3}], a: 9}\n",
    "merge at the anchor": "x: {<<: &m {404: gone}, y: 1}\n",
    "exotic tags": "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}]\n"
    "d: !!omap [{x: 2020-01-01}, {y: !!binary aGk=}]\n",
    "empty": "",
    "scalar document": "just text\n",
    "quoted look-alikes": "a: 'true'\nb: \"12\"\n'3': c\n",
    "deepish": "a: " + "{b: " * 100 + "1" + "}" * 100 + "\n",
}


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=list(DOCUMENTS))
def test_documents_read_as_pyyaml_reads_them(text: str) -> None:
    data, typed = load_yaml(text)
    expected, expected_typed = oracle(text)
    same_shape(expected, data, {})
    assert (typed.count, typed.first) == (expected_typed.count, expected_typed.first)


REFUSED = {
    "self-containing mapping": "info: &i {title: t, x-self: *i}\n",
    "self-containing list": "a: &x [1, *x]\n",
    "a list as a key": "? [a, b]\n: c\n",
    "an unknown tag": "a: !thing x\n",
    "python objects": "a: !!python/object:os.system x\n",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=list(REFUSED))
def test_what_pyyaml_refuses_is_refused_at_the_same_place(text: str) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as refused:
        load_yaml(text)
    with pytest.raises(yaml.MarkedYAMLError) as expected:
        oracle(text)
    assert refused.value.problem_mark is not None and expected.value.problem_mark is not None
    assert refused.value.problem_mark.line == expected.value.problem_mark.line


SYNTAX_ERRORS = {
    "tab": "a:\n\tb: 1\n",
    "unclosed flow": "a: {b: 1\nc: 2\n",
    "bad indent": "a:\n  b: 1\n c: 2\n",
    "unclosed quote": "a: 'x\nb: 2\n",
    "undefined alias": "a: 1\nb: *nope\n",
    "value in a plain scalar": "a: 1\nb: c: d\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "key after a list": "- a\nb: 1\n",
}


@pytest.mark.parametrize("text", SYNTAX_ERRORS.values(), ids=list(SYNTAX_ERRORS))
def test_libyaml_reports_the_line_pyyaml_parser_reports(tmp_path: Path, text: str) -> None:
    """libyaml words some problems differently, but the line (what the user acts on) is the
    line PyYAML's pure-Python parser gives, so no second, slow read is needed for it."""
    with pytest.raises(yaml.MarkedYAMLError) as pure:
        yaml.load(text, Loader=yaml.SafeLoader)
    mark = pure.value.problem_mark or pure.value.context_mark
    assert mark is not None
    path = tmp_path / "api.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as refused:
        read_document(path)
    assert refused.value.line == mark.line + 1
    assert refused.value.message.startswith("invalid YAML: ")


def corpus_yaml() -> list[Path]:
    return sorted(p for p in corpus_dir().rglob("*") if p.suffix in (".yaml", ".yml"))


def test_every_corpus_yaml_file_reads_as_pyyaml_reads_it() -> None:
    files = corpus_yaml()
    assert len(files) > 1500  # DigitalOcean's split spec is most of them
    for path in files:
        text = path.read_text(encoding="utf-8")
        data, typed = load_yaml(text)
        expected, expected_typed = oracle(text)
        same_shape(expected, data, {})
        assert (typed.count, typed.first) == (expected_typed.count, expected_typed.first), path
