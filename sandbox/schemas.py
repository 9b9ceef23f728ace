"""Compiled JSON Schema checks against the spec, cached per schema node.

Used wherever the sandbox must be sure what it sends conforms: error bodies, echoed
values, strict-mode responses. Validators are built once per schema and resolve ``$ref``
against the whole (bundled) document.
"""

from __future__ import annotations

from typing import Any

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, OAS31Validator


class SchemaChecks:
    def __init__(self, document: dict[str, Any], version: str, *, mode: str = "response") -> None:
        if version == "3.0":
            cls: Any = OAS30ReadValidator if mode == "response" else OAS30WriteValidator
        else:
            cls = OAS31Validator
        # The root validator's resolver is based on the whole document, so "#/components/..."
        # in any subschema resolves; evolve() keeps that resolver.
        self._root = cls(document, format_checker=cls.FORMAT_CHECKER)
        self._cache: dict[int, tuple[Any, Any]] = {}

    def validator(self, schema: Any) -> Any:
        cached = self._cache.get(id(schema))
        if cached is None or cached[0] is not schema:
            cached = (schema, self._root.evolve(schema=schema))
            self._cache[id(schema)] = cached
        return cached[1]

    def is_valid(self, schema: Any, value: Any) -> bool:
        return bool(self.validator(schema).is_valid(value))

    def errors(self, schema: Any, value: Any) -> list[Any]:
        return list(self.validator(schema).iter_errors(value))
