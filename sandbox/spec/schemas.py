"""Compiled JSON Schema checks against the spec, cached per schema node.

Used wherever the sandbox must be sure what it sends conforms: error bodies, echoed
values, strict-mode responses. Validators are built once per schema and resolve ``$ref``
against the whole (bundled) document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30Validator,
    OAS30WriteValidator,
    OAS31Validator,
    OAS32Validator,
)
from openapi_schema_validator._regex import has_ecma_regex

from sandbox.spec.discriminators import guarded, unguarded

_COMPONENT = "#/components/schemas/"


def _implicit_by_branches(cls: Any, components: frozenset[str]) -> Any:
    """``cls`` where a discriminated ``oneOf``/``anyOf`` whose value names no component and
    is not in the mapping is matched against its branches instead, and a mapping to a bare
    schema name (``Dog``) means that component (OpenAPI's rules, as sandbox.spec.prepare
    makes them for requests): Spotify's ``track: oneOf
    [TrackObject, EpisodeObject]`` by ``type: track`` otherwise looked for
    ``#/components/schemas/track`` and no track was ever valid, so a stored one was
    regenerated."""
    from jsonschema import _keywords as plain
    from jsonschema import validators

    def keyword(discriminated: Any, fallback: Any) -> Any:
        def check(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
            disc = schema.get("discriminator")
            if isinstance(disc, dict) and isinstance(instance, dict):
                value = instance.get(disc.get("propertyName"))
                mapping = disc.get("mapping")
                mapped: dict[str, Any] = mapping if isinstance(mapping, dict) else {}
                target = mapped.get(value) if isinstance(value, str) else None
                if isinstance(target, str) and target in components:  # a bare schema name
                    return validator.descend(instance, {"$ref": _COMPONENT + target})
                if isinstance(value, str) and target is None and value not in components:
                    return fallback(validator, branches, instance, schema)
            return discriminated(validator, branches, instance, schema)

        return check

    return validators.extend(
        cls,
        {
            "oneOf": keyword(cls.VALIDATORS["oneOf"], plain.oneOf),
            "anyOf": keyword(cls.VALIDATORS["anyOf"], plain.anyOf),
        },
    )


class SchemaChecks:
    def __init__(self, document: dict[str, Any], version: str, *, mode: str = "response") -> None:
        if version == "3.0":
            cls: Any = OAS30ReadValidator if mode == "response" else OAS30WriteValidator
        else:
            cls = OAS31Validator
        # The root validator's resolver is based on the whole document, so "#/components/..."
        # in any subschema resolves; evolve() keeps that resolver.
        components = (document.get("components") or {}).get("schemas") or {}
        lenient = _implicit_by_branches(cls, frozenset(components))
        self._root = guarded(lenient)(document, format_checker=cls.FORMAT_CHECKER)
        self._cache: dict[int, tuple[Any, Any, Callable[[Any], bool] | None]] = {}
        self._document = document
        self._compiler = AcceptCompiler.for_class(cls, cls.FORMAT_CHECKER, self._resolve)

    def _resolve(self, ref: str) -> Any:
        node: Any = self._document
        for token in ref[2:].split("/") if ref != "#" else []:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def _entry(self, schema: Any) -> tuple[Any, Any, Callable[[Any], bool] | None]:
        cached = self._cache.get(id(schema))
        if cached is None or cached[0] is not schema:
            fast = self._compiler.compile(schema) if self._compiler is not None else None
            cached = (schema, self._root.evolve(schema=schema), fast)
            self._cache[id(schema)] = cached
        return cached

    def validator(self, schema: Any) -> Any:
        return self._entry(schema)[1]

    def is_valid(self, schema: Any, value: Any) -> bool:
        _, validator, fast = self._entry(schema)
        if fast is not None and fast(value):
            return True
        return bool(validator.is_valid(value))

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


# -- compiled accept checks ---------------------------------------------------------------------
# jsonschema walks a schema keyword by keyword and makes a validator object per subschema it
# descends into: tens of microseconds for a small object. Most values the sandbox checks are
# valid, so a schema is also compiled into plain closures that can only say "valid" for sure:
# every keyword they cannot judge exactly makes the whole schema uncompiled, and a value they
# do not accept goes to jsonschema, whose verdict is final. The closures are at least as strict
# as jsonschema with the given validator class (same format checker, same regex search, the
# OpenAPI 3.0 nullable / readOnly / writeOnly rules), so "accepted" always means valid.

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "title", "description", "default", "example", "examples", "deprecated",
        "externalDocs", "xml", "$comment", "contentMediaType", "contentEncoding", "$defs",
        "definitions", "discriminator",
    }
)  # fmt: skip
_COMMON = frozenset(
    {
        "type", "enum", "format", "minLength", "maxLength", "pattern", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "properties", "required",
        "additionalProperties", "items", "minItems", "maxItems", "allOf", "anyOf", "$ref",
        "readOnly", "writeOnly",
    }
)  # fmt: skip
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),  # exactly int: bool is not an integer, 1.0 is left to jsonschema
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None), dict, list})


class _Unsupported(Exception):
    pass


class AcceptCompiler:
    """Compiles schemas for one jsonschema validator class (see the comment above)."""

    def __init__(
        self, *, v30: bool, skip_read_only: bool, skip_write_only: bool, fail_read_only: bool,
        fail_write_only: bool, format_checker: Any, resolve: Callable[[str], Any],
    ) -> None:  # fmt: skip
        self.v30 = v30
        self.skip_read_only, self.skip_write_only = skip_read_only, skip_write_only
        self.fail_read_only, self.fail_write_only = fail_read_only, fail_write_only
        self.format_checker = format_checker
        self.resolve = resolve
        self.keywords = _COMMON | _ANNOTATIONS | ({"nullable"} if v30 else {"const", "nullable"})
        self._compiled: dict[int, tuple[Any, Check]] = {}  # whole schemas that compiled
        self._trial: dict[int, tuple[Any, Check]] = {}  # the one being compiled now

    @classmethod
    def for_class(
        cls, validator_cls: Any, format_checker: Any, resolve: Callable[[str], Any]
    ) -> AcceptCompiler | None:
        """The compiler for a known OpenAPI validator class; None for any other class."""
        if has_ecma_regex():  # patterns would be ECMA regexes: not what `re` does
            return None
        modes = {
            OAS30Validator: (True, True, True, False, False),
            OAS30ReadValidator: (True, False, True, False, True),
            OAS30WriteValidator: (True, True, False, True, False),
            OAS31Validator: (False, False, False, False, False),
            OAS32Validator: (False, False, False, False, False),
        }
        mode = modes.get(unguarded(validator_cls))
        if mode is None:
            return None
        v30, skip_ro, skip_wo, fail_ro, fail_wo = mode
        return cls(
            v30=v30, skip_read_only=skip_ro, skip_write_only=skip_wo, fail_read_only=fail_ro,
            fail_write_only=fail_wo, format_checker=format_checker, resolve=resolve,
        )  # fmt: skip

    def compile(self, schema: Any) -> Check | None:
        """An accept check for ``schema``, or None if it uses anything not compiled."""
        self._trial = {}
        try:
            check = self._node(schema)
        except (_Unsupported, KeyError, IndexError, TypeError, ValueError, re.error):
            return None
        finally:
            trial, self._trial = self._trial, {}
        # only now, when every node it reaches is complete, may others reuse its nodes
        self._compiled.update(trial)

        def accepts(value: Any) -> bool:
            try:
                return check(value)
            except Exception:  # e.g. a format function that raises: jsonschema's to decide
                return False

        return accepts

    def _node(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise _Unsupported
        for memo in (self._compiled, self._trial):
            done = memo.get(id(schema))
            if done is not None and done[0] is schema:
                return done[1]
        # a placeholder first, so a schema that refers to itself compiles
        slot: list[Check] = []
        self._trial[id(schema)] = (schema, lambda value: slot[0](value))
        check = self._build(schema)
        slot.append(check)
        self._trial[id(schema)] = (schema, check)
        return check

    def _build(self, schema: dict[str, Any]) -> Check:
        for key in schema:
            if key not in self.keywords and not key.startswith("x-"):
                raise _Unsupported
        if "discriminator" in schema and ("allOf" in schema or "anyOf" in schema):
            raise _Unsupported  # the OpenAPI validators handle these specially
        if (self.fail_read_only and schema.get("readOnly")) or (
            self.fail_write_only and schema.get("writeOnly")
        ):
            return _never  # e.g. a readOnly property sent in a request: always an error
        general: list[Check] = []
        strings: list[Check] = []
        numbers: list[Check] = []
        objects: list[Check] = []
        arrays: list[Check] = []

        types, null_ok = self._types(schema)
        if "enum" in schema:
            general.append(_one_of_values(list(schema["enum"])))
        if "const" in schema:
            general.append(_one_of_values([schema["const"]]))
        if "format" in schema and self.format_checker is not None:
            general.append(self._format(schema["format"]))
        if "minLength" in schema:
            low = _count(schema["minLength"])
            strings.append(lambda value: len(value) >= low)
        if "maxLength" in schema:
            high = _count(schema["maxLength"])
            strings.append(lambda value: len(value) <= high)
        if "pattern" in schema:
            search = re.compile(schema["pattern"]).search
            strings.append(lambda value: search(value) is not None)
        numbers += self._bounds(schema)
        objects += self._object(schema)
        arrays += self._array(schema)
        for member in _members(schema, "allOf"):
            general.append(self._node(member))
        if "anyOf" in schema:
            branches = [self._node(member) for member in _members(schema, "anyOf")]
            general.append(lambda value: any(branch(value) for branch in branches))
        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise _Unsupported
            target = self._node(self.resolve(ref))
            general.append(target)
        return _assemble(types, null_ok, general, strings, numbers, objects, arrays)

    def _types(self, schema: dict[str, Any]) -> tuple[tuple[type, ...] | None, bool]:
        """The Python types the ``type`` keyword admits (None: any) and whether it admits
        null; OpenAPI 3.0 spells that ``nullable: true``."""
        if "type" not in schema:
            return None, True
        kind = schema["type"]
        kinds = kind if isinstance(kind, list) else [kind]
        if self.v30 and not isinstance(kind, str):
            raise _Unsupported
        allowed: list[type] = []
        for name in kinds:
            if name not in _JSON_TYPES or (self.v30 and name == "null"):
                raise _Unsupported
            allowed += _JSON_TYPES[name]
        null_ok = type(None) in allowed or (self.v30 and schema.get("nullable") is True)
        return tuple(t for t in allowed if t is not type(None)), null_ok

    def _format(self, name: Any) -> Check:
        checker = self.format_checker
        if not isinstance(name, str):
            raise _Unsupported
        if name not in checker.checkers:
            return _always  # an unknown format is an annotation
        conforms = checker.conforms
        if self.v30:  # the 3.0 format keyword leaves null alone
            return lambda value: value is None or conforms(value, name)
        return lambda value: conforms(value, name)

    def _bounds(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            # 3.0: exclusive* are flags (jsonschema reads any truthy value as one); 3.1: numbers
            if key not in schema:
                continue
            flag = self.v30 and key.startswith("exclusive")
            if not (type(schema[key]) is bool if flag else _is_number(schema[key])):
                raise _Unsupported
        if "minimum" in schema:
            low = schema["minimum"]
            if self.v30 and schema.get("exclusiveMinimum") is True:
                checks.append(lambda value: value > low)
            else:
                checks.append(lambda value: value >= low)
        if "maximum" in schema:
            high = schema["maximum"]
            if self.v30 and schema.get("exclusiveMaximum") is True:
                checks.append(lambda value: value < high)
            else:
                checks.append(lambda value: value <= high)
        if not self.v30:
            if "exclusiveMinimum" in schema:
                above = schema["exclusiveMinimum"]
                checks.append(lambda value: value > above)
            if "exclusiveMaximum" in schema:
                below = schema["exclusiveMaximum"]
                checks.append(lambda value: value < below)
        return checks

    def _object(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        properties = schema.get("properties", {})
        if not isinstance(properties, dict):
            raise _Unsupported
        compiled = {name: self._node(sub) for name, sub in properties.items()}
        if compiled:
            items = list(compiled.items())

            def properties_ok(value: dict[str, Any]) -> bool:
                for name, check in items:  # noqa: SIM110 - a loop beats all() over a generator
                    if name in value and not check(value[name]):
                        return False
                return True

            checks.append(properties_ok)
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
            raise _Unsupported
        needed = []
        for name in required:
            raw = properties.get(name)
            if isinstance(raw, dict) and raw:  # as the OpenAPI 3.0 validators read it
                if self.skip_read_only and raw.get("readOnly", False):
                    continue
                if self.skip_write_only and raw.get("writeOnly", False):
                    continue
            needed.append(name)
        if needed:
            checks.append(lambda value: all(name in value for name in needed))
        extra = schema.get("additionalProperties", True)
        if extra is not True:
            declared = frozenset(properties)
            if extra is False:
                checks.append(lambda value: all(key in declared for key in value))
            else:
                other = self._node(extra)
                checks.append(
                    lambda value: all(key in declared or other(item) for key, item in value.items())
                )
        return checks

    def _array(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "items" in schema:
            items = schema["items"]
            if isinstance(items, list):
                raise _Unsupported
            if items is False:
                if self.v30:
                    raise _Unsupported
                checks.append(lambda value: not value)
            elif items is not True:
                each = self._node(items)
                checks.append(lambda value: all(each(item) for item in value))
        if "minItems" in schema:
            low = _count(schema["minItems"])
            checks.append(lambda value: len(value) >= low)
        if "maxItems" in schema:
            high = _count(schema["maxItems"])
            checks.append(lambda value: len(value) <= high)
        return checks


def _always(_value: Any) -> bool:
    return True


def _never(_value: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise _Unsupported
    return value


def _members(schema: dict[str, Any], key: str) -> list[Any]:
    members = schema.get(key, [])
    if not isinstance(members, list) or (key in schema and not members):
        raise _Unsupported
    return members


def _one_of_values(allowed: list[Any]) -> Check:
    """enum / const, for scalars: the same type and value (jsonschema also takes 1.0 for 1)."""
    if not all(type(item) in (str, int, float, bool, type(None)) for item in allowed):
        raise _Unsupported
    pairs = {(type(item), item) for item in allowed}
    return lambda value: type(value) not in (dict, list) and (type(value), value) in pairs


def _assemble(
    types: tuple[type, ...] | None, null_ok: bool, general: list[Check], strings: list[Check],
    numbers: list[Check], objects: list[Check], arrays: list[Check],
) -> Check:  # fmt: skip
    by_type: dict[type, list[Check]] = {
        str: strings, int: numbers, float: numbers, dict: objects, list: arrays,
        bool: [], type(None): [],
    }  # fmt: skip
    plan: dict[type, tuple[Check, ...]] = {}
    for kind in _PLAIN:
        # null: by type, or 3.0's nullable, which admits it for the type keyword only (enum,
        # allOf and the rest still apply to it)
        admitted = null_ok if kind is type(None) else types is None or kind in types
        if admitted:
            plan[kind] = (*by_type[kind], *general)

    def check(value: Any) -> bool:
        checks = plan.get(type(value))
        if checks is None:
            return False  # not a type this schema admits, or not a plain JSON value
        for one in checks:  # noqa: SIM110 - a loop beats all() over a generator
            if not one(value):
                return False
        return True

    return check
