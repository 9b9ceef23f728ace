"""Whether a document has the shape serving needs: what is refused, what is only a warning.

The OpenAPI schema (openapi-spec-validator's copy, checked by jsonschema-rs in milliseconds)
says where a document breaks the format. Some breaks do not change what can be served: a
missing ``info.version`` or response ``description``, an unknown key, a malformed contact
e-mail. Those are warnings. Everything else (an operation's ``responses`` that is a string, a
parameter without ``in``, a schema whose ``properties`` is a list) would fail requests later,
so it is refused at start-up with its place. Only a document the fast check finds broken is
checked again by the Python ``jsonschema``, whose errors say which ``oneOf`` branch failed how.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.errors import SpecError
from sandbox.spec.documents import BUNDLE_KEY, escape_pointer_token, pointer_line

if TYPE_CHECKING:  # jsonschema is imported when a fresh document is checked, not on a cached load
    from jsonschema.exceptions import ValidationError

# fields that describe rather than define: missing or malformed, they change nothing served
COSMETIC_FIELDS = frozenset(
    {"openapi", "info", "title", "version", "description", "summary", "termsOfService", "contact",
     "license", "externalDocs", "tags", "deprecated", "x-tagGroups",
     # and the JSON Schema keywords that only annotate or identify (openai's 2019-09 ones)
     "$comment", "$id", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$schema",
     "$vocabulary", "examples", "readOnly", "writeOnly", "contentEncoding", "contentMediaType"}
)  # fmt: skip
# JSON Schema keywords whose failure means "something extra or something too few"
_HARMLESS = frozenset({"format", "minProperties", "minItems", "uniqueItems"})
# keywords that, empty, leave a schema no value or no meaning: `type: []`, `enum: []`
_MUST_HOLD_ONE = frozenset({"type", "enum", "allOf", "anyOf", "oneOf"})
# what a Schema Object is made of: broken, a request could not be checked or answered
_STRUCTURAL_KEYWORDS = frozenset(
    {"type", "properties", "items", "prefixItems", "required", "enum", "allOf", "anyOf",
     "oneOf", "not", "$ref", "additionalProperties", "patternProperties", "if", "then", "else",
     "contains", "propertyNames", "dependentSchemas", "$defs", "discriminator"}
)  # fmt: skip


def check_structure(
    document: dict[str, Any], path: Path, origins: dict[str, tuple[Path, str]]
) -> None:
    """Raise SpecError for the first break serving cannot get past. Harmless ones are left
    to full validation (openapi-spec-validator), which reports them as warnings, or refuses
    them with ``--strict``."""
    version = str(document.get("openapi") or document.get("swagger") or "")
    found: list[tuple[tuple[str, ...], ValidationError, bool]] = [
        ((), error, is_cosmetic(error)) for error in _document_errors(version, document)
    ]
    if version.startswith(("3.1", "3.2")):  # their schema leaves Schema Objects to a dialect
        found += [
            (prefix, error, not _acted_on(error) or _harmless_failure(error))
            for prefix, error in _schema_errors(document)
        ]
    found.sort(key=lambda item: [*map(str, item[0]), *map(str, item[1].absolute_path)])
    harmful = [
        ((*prefix, *map(str, telling.absolute_path)), telling)
        for prefix, error, ok in found
        if not ok
        for telling in [_telling(error)]
    ]
    kind = f"invalid {'Swagger' if version.startswith('2') else 'OpenAPI'} {version} document"
    if harmful:
        tokens, error = harmful[0]
        file, pointer, line = locate(tokens, path, origins)
        more = f" (and {len(harmful) - 1} more problems like it)" if len(harmful) > 1 else ""
        raise SpecError(
            f"{kind} that cannot be served: {_describe(error)}{more}",
            file=file, pointer=pointer, line=line,
            hint="fix this part of the document; --strict also lists what is only a warning",
        )  # fmt: skip


def _document_errors(version: str, document: dict[str, Any]) -> list[ValidationError]:
    meta = _meta_schema(version)
    if meta is None or _fast_valid(version, document):
        return []
    from openapi_spec_validator.schemas.backend.jsonschema import create_validator

    return list(create_validator(meta).iter_errors(document))


def _schema_errors(document: dict[str, Any]) -> list[tuple[tuple[str, ...], ValidationError]]:
    """Each Schema Object checked against JSON Schema 2020-12's own meta-schema."""
    import jsonschema_rs
    from jsonschema import Draft202012Validator

    found = []
    for tokens, schema in _schema_objects(document, ()):
        try:
            if jsonschema_rs.meta.is_valid(schema):
                continue
        except (ValueError, TypeError, jsonschema_rs.ReferencingError):
            pass
        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        found += [(tokens, error) for error in meta.iter_errors(schema)]
    return found


def _schema_objects(node: Any, tokens: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Where a document holds Schema Objects: every ``schema`` of a parameter, header or media
    type, and each of ``components/schemas`` (examples and extensions are data, not looked in)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _schema_objects(item, (*tokens, str(index)))
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("example", "examples") or key.startswith("x-"):
            continue
        if key == "schema" or tokens[-2:] == ("components", "schemas"):
            yield (*tokens, key), value
        else:
            yield from _schema_objects(value, (*tokens, key))


def is_cosmetic(error: ValidationError) -> bool:
    """Whether serving can ignore this break (recursively: a ``oneOf`` is harmless when one of
    its branches fails only harmlessly)."""
    if error.validator in ("oneOf", "anyOf"):
        branches: dict[Any, list[ValidationError]] = {}
        for inner in error.context or ():
            branches.setdefault(next(iter(inner.relative_schema_path), 0), []).append(inner)
        return any(all(is_cosmetic(e) for e in found) for found in branches.values())
    if _under_cosmetic_field(error.absolute_schema_path):
        return True
    if error.validator == "required" and isinstance(error.instance, dict):
        names = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [name for name in names if name not in error.instance]
        return all(name in COSMETIC_FIELDS for name in missing)
    if error.validator == "not":  # OpenAPI's only use: `example` beside `examples`; both read
        return True
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        # an unknown key is ignored; a $ref where none may stand would be followed
        return not (isinstance(error.instance, dict) and "$ref" in error.instance)
    return _harmless_failure(error)


def _harmless_failure(error: ValidationError) -> bool:
    """Too few or repeated items, a malformed format: nothing a request depends on, except
    an empty ``type`` or ``enum`` (no value fits)."""
    where = list(error.absolute_path)
    if error.validator == "minItems" and where and str(where[-1]) in _MUST_HOLD_ONE:
        return False
    return error.validator in _HARMLESS


def _acted_on(error: ValidationError) -> bool:
    """A Schema Object's break in a keyword that validation or generation acts on (``type``,
    ``properties``, ...), rather than one they read past (``exclusiveMinimum: true`` in 3.1,
    ``$recursiveAnchor``): the keyword is the last one the meta-schema's path names."""
    tokens = [str(token) for token in error.absolute_schema_path]
    named = [tokens[i + 1] for i in range(len(tokens) - 1) if tokens[i] == "properties"]
    return bool(named) and named[-1] in _STRUCTURAL_KEYWORDS


def _under_cosmetic_field(schema_path: Iterable[Any]) -> bool:
    """The failing subschema is the one a descriptive field (``properties/description``) has."""
    tokens = [str(token) for token in schema_path]
    return any(
        tokens[index] == "properties" and tokens[index + 1] in COSMETIC_FIELDS
        for index in range(len(tokens) - 1)
    )


def locate(
    tokens: Iterable[Any], path: Path, origins: dict[str, tuple[Path, str]]
) -> tuple[Path, str, int | None]:
    """(file, pointer, line) of a place in the bundled document, in the user's own file."""
    parts = [str(token) for token in tokens]
    file, pointer = path, "/" + "/".join(escape_pointer_token(t) for t in parts)
    if len(parts) >= 2 and parts[0] == BUNDLE_KEY and parts[1] in origins:
        file, base = origins[parts[1]]
        pointer = base + "/" + "/".join(escape_pointer_token(t) for t in parts[2:])
    pointer = pointer.rstrip("/") or "/"
    return file, pointer, pointer_line(file, pointer)


def _telling(error: ValidationError) -> ValidationError:
    """For a ``oneOf`` failure, the error inside the branch the value was meant for: the one
    that got deepest into the value (not "$ref is required" of the Reference branch)."""
    while error.context:
        error = max(error.context, key=lambda inner: len(inner.absolute_path))
    return error


def _describe(error: ValidationError) -> str:
    text = error.message.splitlines()[0]
    return text if len(text) <= 200 else text[:197] + "..."


@functools.cache
def _meta_schema(version: str) -> dict[str, Any] | None:
    """OpenAPI's own schema for ``version``: openapi-spec-validator's copy, read from its
    package data without importing the package, which imports jsonschema-path, requests and
    pydantic-settings with it (validation runs in a child process to keep those out of the
    server: sandbox.spec.model._problem_apart)."""
    found = importlib.util.find_spec("openapi_spec_validator")
    if found is None or not found.submodule_search_locations:
        return None
    schemas = Path(next(iter(found.submodule_search_locations))) / "resources" / "schemas"
    for prefix, folder in (("2.", "v2.0"), ("3.0", "v3.0"), ("3.1", "v3.1"), ("3.2", "v3.2")):
        if version.startswith(prefix):
            file = schemas / folder / "schema.json"
            return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else None
    return None


@functools.cache
def _fast_check(version: str) -> Callable[[Any], bool] | None:
    meta = _meta_schema(version)
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - an optional speed-up of openapi-spec-validator
        return None
    if meta is None:
        return None
    check: Callable[[Any], bool] = jsonschema_rs.validator_for(meta).is_valid
    return check


def _fast_valid(version: str, document: dict[str, Any]) -> bool:
    """jsonschema-rs's verdict; False (check again, slowly) when it cannot give one."""
    check = _fast_check(version)
    try:
        return check is not None and bool(check(document))
    except (ValueError, TypeError):  # values JSON does not have (a NaN key, ...)
        return False
