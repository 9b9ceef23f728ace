"""The jsonschema validator for a schema at a place in the spec, as openapi-core builds it.

Request validation checks parameters and bodies against the spec's schemas with the very
validator class and format checker openapi-core would use, so that its fast path and
openapi-core never disagree. Building them here, from openapi-schema-validator and
referencing, keeps openapi-core (and the openapi-spec-validator, pydantic-settings and
requests it imports: 12-13 MB and 80-100 ms a process, issue 20) off the path of a request
that is valid or refused for a reason these checks can word.

A place is the list of keys from the document's root (``("paths", "/users", "get",
"parameters", 0, "schema")``), followed as ``jsonschema_path.SchemaPath`` follows one: a
``$ref`` met on the way (at the root, at each step, at the end) is resolved, so a place
may pass through ``#/components/parameters/...`` while naming the operation's own list.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from jsonschema.validators import validator_for
from openapi_schema_validator import (
    OAS31_BASE_DIALECT_ID,
    OAS32_BASE_DIALECT_ID,
    OAS30ReadValidator,
    OAS30WriteValidator,
    OAS31Validator,
    OAS32Validator,
)
from referencing import Registry
from referencing._core import Resolved, Resolver
from referencing.jsonschema import DRAFT202012

from sandbox.spec.discriminators import guarded

Place = tuple[Hashable, ...]


class SpecValidators:
    """Request-side schema validators for one (prepared, bundled) document, each built once.

    openapi-core's choice, per version (``openapi_core.validation.schemas``):

    * 3.0: ``OAS30WriteValidator`` (a request may not carry readOnly properties) with its
      own format checker;
    * 3.1: the class of the schema's ``$schema`` dialect, else the document's
      ``jsonSchemaDialect``, else OpenAPI 3.1's; the 3.0 read format checker whatever the
      class (openapi-core keeps ``byte``/``binary`` that way);
    * 3.2: the same with OpenAPI 3.2's dialect and ``OAS32Validator``'s format checker.
    """

    def __init__(self, document: dict[str, Any], base_uri: str, openapi: str) -> None:
        resource = DRAFT202012.create_resource(document)
        registry: Registry[Any] = Registry().with_resource(base_uri, resource)
        self._root: Resolved[Any] = _follow(document, registry.resolver(base_uri=base_uri))
        self._default_cls: Any
        self._default_dialect: str | None  # None: no dialects (3.0)
        if openapi.startswith("3.0"):
            self._default_cls, self._default_dialect = OAS30WriteValidator, None
            self._format_checker = OAS30WriteValidator.FORMAT_CHECKER
        elif openapi.startswith("3.2"):
            self._default_cls, self._default_dialect = OAS32Validator, OAS32_BASE_DIALECT_ID
            self._format_checker = OAS32Validator.FORMAT_CHECKER
        else:
            self._default_cls, self._default_dialect = OAS31Validator, OAS31_BASE_DIALECT_ID
            self._format_checker = OAS30ReadValidator.FORMAT_CHECKER
        declared = document.get("jsonSchemaDialect")
        if self._default_dialect is not None and isinstance(declared, str):
            self._default_dialect = declared
        self._validators: dict[Place, Any] = {}

    def resolved(self, place: Sequence[Hashable]) -> Resolved[Any]:
        """The node at ``place`` with every ``$ref`` on the way followed, and the resolver
        its own references resolve with; KeyError (or IndexError) when there is none."""
        found = self._root
        for key in place:
            node = found.contents
            if isinstance(node, list) and not isinstance(key, int):
                raise KeyError(key)
            found = _follow(node[key], found.resolver)
        return found

    def get(self, place: Sequence[Hashable]) -> Any:
        """The node at ``place``, or None."""
        try:
            return self.resolved(place).contents
        except (KeyError, IndexError, TypeError):
            return None

    def validator(self, place: Sequence[Hashable]) -> Any:
        """The validator for the schema at ``place``, built on first use."""
        key = tuple(place)
        validator = self._validators.get(key)
        if validator is None:
            found = self.resolved(key)
            cls = guarded(self._class_for(found.contents))
            validator = cls(
                found.contents, _resolver=found.resolver, format_checker=self._format_checker
            )
            self._validators[key] = validator
        return validator

    def _class_for(self, schema: Any) -> Any:
        if self._default_dialect is None:
            return self._default_cls
        dialect = schema.get("$schema") if isinstance(schema, dict) else None
        if not isinstance(dialect, str):
            dialect = self._default_dialect
        cls = validator_for({"$schema": dialect}, default=None)  # type: ignore[arg-type]
        if cls is None:
            raise ValueError(f"Unknown JSON Schema dialect: {dialect!r}")
        return cls


def _follow(node: Any, resolver: Resolver[Any]) -> Resolved[Any]:
    """``node`` with its ``$ref`` (and the target's, and so on) resolved."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        found = resolver.lookup(node["$ref"])
        node, resolver = found.contents, found.resolver
    return Resolved(node, resolver)  # type: ignore[call-arg]
