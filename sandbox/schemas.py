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


def merged(deref: Any, schema: Any) -> Any:
    """allOf branches folded into one object schema: enough to find properties by name.

    ``deref`` follows a ``$ref`` (the Spec's method); the result is for reading, not for
    validating (validation always uses the original schema).
    """
    schema = deref(schema)
    if not isinstance(schema, dict) or "allOf" not in schema:
        return schema
    result: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(result.get("properties") or {})
    required = list(result.get("required") or [])
    for branch in schema["allOf"]:
        branch = merged(deref, branch)
        if isinstance(branch, dict):
            properties.update(branch.get("properties") or {})
            required += branch.get("required") or []
            if "type" not in result and "type" in branch:
                result["type"] = branch["type"]
    result["properties"], result["required"] = properties, required
    return result


def schema_types(schema: Any) -> set[str]:
    """The JSON types a schema admits, inferring from keywords when ``type`` is absent."""
    if not isinstance(schema, dict):
        return set()
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind)
    if kind:
        return {kind}
    if "properties" in schema:
        return {"object"}
    if "items" in schema:
        return {"array"}
    if "enum" in schema or "const" in schema:
        values = schema.get("enum") or [schema.get("const")]
        return {"string" if isinstance(v, str) else "integer" for v in values}
    return {"string", "integer", "object", "array", "number", "boolean"}
