"""openapi-core, for the request bodies sandbox.http.validation does not read itself.

Imported on the first such body, not before: openapi-core and what it imports
(openapi-spec-validator, jsonschema-path, requests) cost a process 12-13 MB and 80-100 ms,
and a request that is valid, or refused for a reason validation words itself, never needs
them (see sandbox.http.validation).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from jsonschema_path import SchemaPath
from openapi_core import V30RequestValidator, V31RequestValidator, V32RequestValidator
from openapi_core.validation.request.exceptions import RequestBodyValidationError
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator


class _MemoValidatorsFactory(SchemaValidatorsFactory):
    """openapi-core's factory, memoized per schema location: building one deep-copies a
    format checker, which dominated the validation cost."""

    def __init__(self, base: SchemaValidatorsFactory) -> None:
        self.__dict__.update(base.__dict__)
        self._base = base
        self._memo: dict[tuple[Any, ...], SchemaValidator] = {}

    def get_validator_cls(self, spec: SchemaPath, schema: SchemaPath) -> type:
        return self._base.get_validator_cls(spec, schema)

    def create(
        self,
        spec: SchemaPath,
        schema: SchemaPath,
        format_validators: dict[str, Callable[[Any], bool]] | None = None,
        extra_format_validators: dict[str, Callable[[Any], bool]] | None = None,
        forbid_unspecified_additional_properties: bool = False,
        enforce_properties_required: bool = False,
    ) -> SchemaValidator:
        options = (
            format_validators,
            extra_format_validators,
            forbid_unspecified_additional_properties,
            enforce_properties_required,
        )
        key = (tuple(schema.parts), repr(options))
        validator = self._memo.get(key)
        if validator is None:
            validator = self._memo[key] = self._base.create(spec, schema, *options)
        return validator


def core_validator(openapi: str, document: dict[str, Any], base_uri: str) -> Any:
    """openapi-core's request validator for the (prepared) document of an OpenAPI version."""
    cls: Any  # the validator class for the spec's version
    if openapi.startswith("3.0"):
        cls = V30RequestValidator
    elif openapi.startswith("3.2"):
        cls = V32RequestValidator
    else:
        cls = V31RequestValidator
    factory = _MemoValidatorsFactory(cls.schema_validators_factory)
    return cls(SchemaPath.from_dict(document, base_uri=base_uri), schema_validators_factory=factory)


def read_body(
    core: Any, body: bytes, content_type: str, operation: Sequence[Hashable]
) -> tuple[bool, Any]:
    """(True, the body as openapi-core reads it), or (False, why it refused it: the
    exception behind its RequestBodyValidationError, None if none)."""
    path = core.spec
    for key in operation:
        path = path / key
    try:
        return True, core._get_body(body, content_type, path)
    except RequestBodyValidationError as exc:
        return False, exc.__cause__
