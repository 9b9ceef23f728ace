"""Request validation: openapi-core's verdicts, without openapi-core on a request's path.

openapi-core re-reads the spec and rebuilds validators on every call (about 1 ms for two
query parameters), and importing it costs every process 12-13 MB and 80-100 ms (with
openapi-spec-validator, jsonschema-path and requests). So each operation gets checks compiled
on its first request, against validators built as openapi-core builds them (the same class
and format checker: sandbox.spec.validators): a compiled check that accepts makes the
request valid, and a refused request is worded here from the same validators' errors.
openapi-core itself is imported only for what it does that these do not: reading a body
that is neither JSON nor a form handled here (XML, text, a form without bracketed keys, a
media type matched through a wildcard).
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError
from werkzeug.datastructures import Headers, ImmutableMultiDict, MultiDict
from werkzeug.wrappers import Request

from sandbox.errors import JSONError
from sandbox.http import nested_params
from sandbox.http.parameters import MISSING, Reading, read
from sandbox.http.uploads import Upload, stand_ins, uploads_of
from sandbox.jsonio import loads
from sandbox.spec.model import Operation, Spec, is_json_media
from sandbox.spec.prepare import prepared_copy
from sandbox.spec.schemas import AcceptCompiler
from sandbox.spec.validators import Place, SpecValidators

_INTEGER = re.compile(r"^-?\d+$")
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(f"{_TOKEN}/{_TOKEN}")  # RFC 9110 §8.3.1
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_SIMPLE_TYPES = {"string", "integer", "number", "boolean"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request, in the shape the error body reports it."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)
    status: int = 400
    body: Any = None
    uploads: tuple[Upload, ...] = ()  # a multipart body's files (each a string in ``body``)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RequestData:
    """What the pipeline knows about an incoming request, independent of Flask."""

    method: str
    path_params: dict[str, str]
    query: MultiDict
    headers: Headers
    cookies: dict[str, str]
    body: bytes
    mimetype: str
    content_type: str


_NO_COOKIES: Any = ImmutableMultiDict()


def request_data(request: Request, path_params: dict[str, str]) -> RequestData:
    """What validation reads of a werkzeug request (the body read once, and kept). Cookies
    are parsed only when the request has a Cookie header: werkzeug looks for one among all
    the headers first, a few µs on every request that has none."""
    return RequestData(
        method=request.method,
        path_params=path_params,
        query=request.args,
        headers=request.headers,
        cookies=request.cookies if "HTTP_COOKIE" in request.environ else _NO_COOKIES,
        body=request.get_data(cache=True),
        mimetype=request.mimetype,
        content_type=request.content_type or "",
    )


class _OpenAPICore:
    """openapi-core's request validator for the spec (sandbox.http.core_reader), imported
    and built on first use, once per process: see the module's docstring."""

    def __init__(self, spec: Spec, document: dict[str, Any], base_uri: str) -> None:
        self._spec, self._document, self._base_uri = spec, document, base_uri
        self._lock = threading.Lock()
        self._built: Any = None

    def __call__(self) -> Any:
        with self._lock:
            if self._built is None:
                from sandbox.http.core_reader import core_validator

                self._built = core_validator(self._spec.openapi, self._document, self._base_uri)
            return self._built


@dataclass
class _Declared:
    """One parameter, compiled: how to read it, whether it must be there, how to check it."""

    reading: Reading
    required: bool
    empty_refused: bool  # ``allowEmptyValue: false`` written out (Swagger 2.0's default)
    schema_place: Place | None  # None: nothing to check its value against
    is_valid: Callable[[Any], bool]


class OperationValidator:
    """Validation compiled for one operation, built on its first request."""

    def __init__(
        self, spec: Spec, operation: Operation, validators: SpecValidators, core: _OpenAPICore
    ) -> None:
        self.spec = spec
        self.operation = operation
        self.validators = validators
        self.core = core
        self.path_item_place: Place = ("paths", operation.path)
        self.operation_place: Place = (*self.path_item_place, operation.method.lower())
        self.parameters = self._compile_parameters()
        self.body = operation.request_body
        self.body_required = bool(self.body and self.body.get("required"))
        self.media_types: dict[str, dict] = dict((self.body or {}).get("content") or {})
        self._body_validators: dict[str, Callable[[Any], bool]] = {}
        self.nested = nested_params.NestedParameters(operation.parameters, spec.deref)

    def _schema_check(self, schema_place: Place) -> Callable[[Any], bool]:
        """The validator openapi-core would use for the schema, behind a compiled accept check
        (sandbox.spec.schemas): the compiled check says yes fast, jsonschema has the last word."""
        validator = self.validators.validator(schema_place)
        slow: Callable[[Any], bool] = validator.is_valid
        compiler = AcceptCompiler.for_class(
            type(validator), validator.format_checker, self.spec.resolve
        )
        fast = compiler.compile(validator.schema) if compiler is not None else None
        if fast is None:
            return slow
        return lambda value: fast(value) or slow(value)

    def _compile_parameters(self) -> list[_Declared]:
        by_key = _parameter_places(self.validators, self.path_item_place, self.operation_place)
        query = frozenset(p.name for p in self.operation.parameters if p.location == "query")
        compiled = []
        for parameter in self.operation.parameters:
            if parameter.location not in ("query", "path", "header", "cookie"):
                continue
            reading = Reading.of(parameter, self.spec.deref, query)
            origin = by_key.get((parameter.name, parameter.location))
            schema_place: Place | None = None
            if origin is not None and reading.media_type is not None:
                schema_place = (*origin, "content", reading.media_type, "schema")
            elif origin is not None:
                schema_place = (*origin, "schema")
            if schema_place is not None and self.validators.get(schema_place) is None:
                schema_place = None
            compiled.append(
                _Declared(
                    reading=reading,
                    required=parameter.required,
                    empty_refused=parameter.raw.get("allowEmptyValue") is False,
                    schema_place=schema_place,
                    is_valid=(
                        self._schema_check(schema_place) if schema_place else lambda _value: True
                    ),
                )
            )
        return compiled

    def _read(self, declared: _Declared, data: RequestData) -> Any:
        """The parameter's value (MISSING when absent); ValueError when unreadable."""
        return read(declared.reading, data.query, data.path_params, data.headers, data.cookies,
                    self.spec.deref)  # fmt: skip

    def validate(self, data: RequestData) -> ValidationResult:
        if self._fast_parameters_accept(data):
            accepted, body = self._fast_body(data)
            if accepted:
                return ValidationResult(body=body)
        return self._core_verdict(data)

    # -- fast path --------------------------------------------------------------------
    def _fast_parameters_accept(self, data: RequestData) -> bool:
        if self.nested.query and any("[" in key for key in data.query):
            return False  # bracketed keys: sandbox.http.nested_params reads them
        no_query = not data.query
        for declared in self.parameters:
            if no_query and declared.reading.location == "query":
                # nothing to read, whatever the style: absent (reading each one cost a
                # list request with six optional query parameters ~45 us)
                if declared.required:
                    return False
                continue
            try:
                value = self._read(declared, data)
            except ValueError:
                return False
            if value is MISSING:
                if declared.required:
                    return False
                continue
            if _empty(declared, data) and declared.empty_refused:
                return False
            if not declared.is_valid(value):
                return False
        return True

    def _fast_body(self, data: RequestData) -> tuple[bool, Any]:
        if self.body is None:
            return True, None
        if not data.body:
            empty_form = data.mimetype in _FORM_TYPES  # an empty form, not an absent body
            return not self.body_required and not empty_form, None
        media = data.mimetype
        if media not in self.media_types or not is_json_media(media):
            return False, None
        try:
            parsed = loads(data.body)
        except JSONError:
            return False, None
        return self._body_check(media)(parsed), parsed

    def _body_check(self, media: str) -> Callable[[Any], bool]:
        if media not in self._body_validators:
            if "schema" in self.media_types[media]:
                # a place follows $ref on its own, so a shared requestBody needs nothing more
                place = (*self.operation_place, "requestBody", "content", media, "schema")
                self._body_validators[media] = self._schema_check(place)
            else:
                self._body_validators[media] = lambda _value: True
        return self._body_validators[media]

    # -- authoritative path -------------------------------------------------------------
    def _core_verdict(self, data: RequestData) -> ValidationResult:
        result = ValidationResult()
        owned = self.nested.owned(data.query.keys())  # read by sandbox.http.nested_params
        for declared in self.parameters:
            if declared.reading.location == "query" and declared.reading.name in owned:
                continue
            result.problems.extend(self._parameter_problems(declared, data))
        if owned:
            result.problems.extend(self._nested_query_problems(data, owned))
        if self.body is not None:
            self._core_body(data, result)
        return result

    def _parameter_problems(self, declared: _Declared, data: RequestData) -> list[Problem]:
        """What is wrong with one parameter, in words: missing, empty, unreadable, or each
        way its value breaks the schema (the validator openapi-core would use)."""
        name, location = declared.reading.name, declared.reading.location
        try:
            value = self._read(declared, data)
        except ValueError as exc:
            return [Problem(name, f"{location} parameter cannot be read: {exc}")]
        if value is MISSING:
            if declared.required:
                return [Problem(name, f"required {location} parameter is missing")]
            return []
        empty = _empty(declared, data)
        if empty and (declared.empty_refused or not declared.is_valid(value)):
            return [Problem(name, f"{location} parameter must not be empty")]
        if declared.schema_place is None or declared.is_valid(value):
            return []
        validator = self.validators.validator(declared.schema_place)
        return [
            Problem(_join(name, list(e.absolute_path)), f"{location} parameter {_describe(e)}")
            for e in _leaf_errors(validator.iter_errors(value))
        ]

    def _core_body(self, data: RequestData, result: ValidationResult) -> None:
        if data.body and not _MEDIA_TYPE.fullmatch(data.mimetype or ""):
            shown = data.content_type or "no Content-Type"
            result.problems.append(
                Problem("Content-Type", f"{shown!r} is not a media type (type/subtype)")
            )
            return
        if data.body and is_json_media(data.mimetype):
            try:
                loads(data.body)
            except JSONError as exc:
                position = f" at line {exc.lineno} column {exc.colno}" if exc.pos else ""
                result.problems.append(Problem("body", f"malformed JSON{position}: {exc.msg}"))
                return
        if data.body and data.mimetype == "application/x-www-form-urlencoded":
            try:
                data.body.decode(_mime_options(data.content_type).get("charset", "utf-8"))
            except (UnicodeDecodeError, LookupError):
                result.problems.append(Problem("body", "form data must be UTF-8 text"))
                return
        if data.body and self._raw_string(data.mimetype):
            result.body = data.body  # an image, a CSV, base64 text: the body is the string
            return
        if nested_params.is_form(data.mimetype) and self._nested_form(data, result):
            return
        if data.body and data.mimetype == "multipart/form-data" and self._multipart(data, result):
            return
        if not data.body:
            if self.body_required:
                result.problems.append(Problem("body", "a request body is required"))
            else:
                # an empty body sent as a form is an empty form: its required fields are missing
                result.problems.extend(self._unsent_required(data))
            return
        content_type = _well_formed(data.content_type)
        declared = self._declared_media(content_type)
        if declared is None:
            accepted = ", ".join(sorted(self.media_types))
            got = data.mimetype or "no Content-Type"
            result.problems.append(
                Problem("Content-Type", f"{got} is not accepted here; send one of: {accepted}")
            )
            result.status = 415
        elif declared == data.mimetype and is_json_media(declared):
            self._json_body(data, declared, result)
        else:
            self._core_read(data, content_type, result)

    def _declared_media(self, content_type: str) -> str | None:
        """The declared media type a body of ``content_type`` is read as, found the way
        openapi-core finds it (``MediaTypeFinder``): the header as sent, then its type and
        subtype, then the first declared range (``image/*``) that matches."""
        mime = content_type.split(";")[0].lower().rstrip()
        for candidate in (content_type, mime):
            if candidate in self.media_types:
                return candidate
        if mime:
            return next((key for key in self.media_types if fnmatch.fnmatch(mime, key)), None)
        return None

    def _json_body(self, data: RequestData, media: str, result: ValidationResult) -> None:
        """A JSON body (well-formed: checked before) against its media type's schema. Read
        as JSON under any JSON media type: openapi-core reads only ``application/json``
        and ``application/vnd.api+json`` as JSON and hands any other (``merge-patch+json``)
        over as bytes, which no object schema accepts."""
        value = loads(data.body)
        place = (*self.operation_place, "requestBody", "content", media, "schema")
        problems = []
        if self.validators.get(place) is not None:
            problems = [_schema_problem(e) for e in self._schema_errors(place, value)]
        result.problems.extend(problems)
        if not problems:
            result.body = value

    def _core_read(self, data: RequestData, content_type: str, result: ValidationResult) -> None:
        """A body only openapi-core reads here (XML, text, a plain form, a media type
        matched through a range): its deserializers, casts and schema check."""
        from sandbox.http.core_reader import read_body

        read, body = read_body(self.core(), data.body, content_type, self.operation_place)
        if not read:
            result.problems.extend(_body_problems(body))
        else:
            result.problems.extend(self._unsent_required(data))
            result.body = body

    def _multipart(self, data: RequestData, result: ValidationResult) -> bool:
        """Check a multipart body part by part. openapi-core hands every part over as bytes,
        which no string, number or boolean schema accepts; here text parts are read as the
        schema types them and each file stands for a string, its name (its facts go to
        ``result.uploads``). False: not handled."""
        media = self.media_types.get(data.mimetype)
        schema = self.spec.deref((media or {}).get("schema"))
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            return False
        form, files = _form_parts(data)
        uploads = uploads_of(files)
        value: dict[str, Any] = {}
        for name in {*form.keys(), *files.keys()}:
            prop = self.spec.deref(schema["properties"].get(name)) or {}
            many = "array" in nested_params.kinds(prop, self.spec.deref)
            item = self.spec.deref(prop.get("items")) or {} if many else prop
            kinds = nested_params.kinds(item, self.spec.deref)  # through allOf and $ref
            parts = [_form_value(text, kinds) for text in form.getlist(name)]
            parts += [upload.stand_in for upload in uploads if upload.part == name]
            value[name] = parts if many else parts[0]
        schema_place = (*self.operation_place, "requestBody", "content", data.mimetype, "schema")
        validator = self.validators.validator(schema_place)
        result.problems.extend(
            _schema_problem(e) for e in _leaf_errors(validator.iter_errors(value))
        )
        if not result.problems:
            result.body, result.uploads = value, uploads
        return True

    # -- bracketed keys and deepObject, read by sandbox.http.nested_params ---------------
    def _nested_query_problems(self, data: RequestData, owned: set[str]) -> list[Problem]:
        values = self.nested.query_values(data.query.items(multi=True), owned)
        places = _parameter_places(self.validators, self.path_item_place, self.operation_place)
        problems: list[Problem] = []
        for name in sorted(owned):
            if name not in values:
                if self.nested.query[name].required:
                    problems.append(Problem(name, "required query parameter is missing"))
                continue
            errors = self._schema_errors((*places[(name, "query")], "schema"), values[name])
            problems += [
                Problem(_join(name, list(e.absolute_path)), f"query parameter {_describe(e)}")
                for e in errors
            ]
        return problems

    def _nested_form(self, data: RequestData, result: ValidationResult) -> bool:
        """A form body with bracketed keys or a deepObject encoding, read as the JSON its
        schema describes (each file stands for its name, its facts in ``result.uploads``).
        An empty body sent as a form is an empty form, read here too: what it holds is
        the empty values a form cannot spell (``{"features": []}``). False: not such a body."""
        media = self.media_types.get(data.mimetype)
        form, files = _form_parts(data)
        keys = [*form.keys(), *files.keys()]
        if media is None or (data.body and not nested_params.owns_form(media, keys)):
            return False
        uploads = uploads_of(files)
        pairs = [*form.items(multi=True), *stand_ins(uploads)]
        value = nested_params.nest(pairs, media.get("schema"), self.spec.deref)
        schema_place = (*self.operation_place, "requestBody", "content", data.mimetype, "schema")
        result.problems.extend(_schema_problem(e) for e in self._schema_errors(schema_place, value))
        if not result.problems:
            result.body, result.uploads = value, uploads
        return True

    def _schema_errors(self, schema_place: Place, value: Any) -> list[SchemaError]:
        return _leaf_errors(self.validators.validator(schema_place).iter_errors(value))

    def _raw_string(self, mimetype: str | None) -> bool:
        """A declared media type that is neither JSON nor a form, with a string schema:
        openapi-core hands such bodies over as bytes, which no string schema accepts. A
        wildcard counts (GitHub's release asset is ``*/*: {type: string}``, the raw file):
        whatever is sent under it, JSON too, is that string."""
        if not mimetype:
            return False
        kind = mimetype.partition("/")[0]
        declared = next((m for m in (mimetype, f"{kind}/*", "*/*") if m in self.media_types), None)
        if declared is None or declared in _FORM_TYPES or mimetype in _FORM_TYPES:
            return False
        if declared == mimetype and is_json_media(mimetype):
            return False
        schema = self.spec.deref(self.media_types[declared].get("schema")) or {}
        return isinstance(schema, dict) and schema.get("type") == "string"

    def _unsent_required(self, data: RequestData) -> list[Problem]:
        """openapi-core fills form defaults before it checks ``required``; JSON Schema says a
        default does not make a missing property present, so check what was really sent."""
        if data.mimetype not in _FORM_TYPES or data.mimetype not in self.media_types:
            return []
        schema = self.spec.deref(self.media_types[data.mimetype].get("schema")) or {}
        required = [name for name in schema.get("required") or [] if isinstance(name, str)]
        if not required:
            return []
        sent = _form_keys(data)
        return [Problem(name, "is required") for name in required if name not in sent]


_FAIL = object()
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _form_parts(data: RequestData) -> tuple[Any, Any]:
    from io import BytesIO

    from werkzeug.formparser import FormDataParser

    parser = FormDataParser()
    _, form, files = parser.parse(
        BytesIO(data.body), data.mimetype, len(data.body), _mime_options(data.content_type)
    )
    return form, files


def _form_keys(data: RequestData) -> set[str]:
    form, files = _form_parts(data)
    return set(form.keys()) | set(files.keys())


def _form_value(text: str, kinds: set[str]) -> Any:
    """A form field's text as its schema's ``kinds`` type it (a form carries only strings).
    Where an object or array is one of them, a part that reads as one is one, before any
    string (OpenAI's ``chunking_strategy``: ``"auto"`` or a JSON object)."""
    if "null" in kinds and text == "null":
        return None
    if kinds & {"object", "array"} and text.lstrip()[:1] in ("{", "["):
        with suppress(ValueError):  # JSONError too
            return loads(text)  # a JSON part (encoding contentType application/json)
    if "string" in kinds or not kinds:
        return text
    try:
        if "integer" in kinds and text.lstrip("-").isdigit():
            return int(text)
        if "number" in kinds:
            return float(text)
        if "boolean" in kinds and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kinds & {"object", "array"}:
            return loads(text)  # a JSON part (encoding contentType application/json)
    except ValueError:  # JSONError too
        pass
    return text


def _well_formed(content_type: str) -> str:
    """The header as werkzeug reads it, written again: openapi-core's own parser fails
    with a ValueError on stray separators (``application/json;;;``)."""
    from werkzeug.http import dump_options_header, parse_options_header

    return dump_options_header(*parse_options_header(content_type))


def _mime_options(content_type: str) -> dict[str, str]:
    from werkzeug.http import parse_options_header

    return parse_options_header(content_type)[1]


def _parameter_places(
    validators: SpecValidators, path_item: Place, operation: Place
) -> dict[tuple[str, str], Place]:
    """Each parameter's place by (name, in); operation-level overrides path-level."""
    found: dict[tuple[str, str], Place] = {}
    for holder in (path_item, operation):
        listed = validators.get((*holder, "parameters"))
        for index in range(len(listed) if isinstance(listed, list) else 0):
            place = (*holder, "parameters", index)
            param = validators.get(place)
            if isinstance(param, dict):
                found[(str(param.get("name")), str(param.get("in")))] = place
    return found


def _empty(declared: _Declared, data: RequestData) -> bool:
    """A query parameter sent with nothing after its ``=`` (``?id=``)."""
    reading = declared.reading
    return reading.location == "query" and data.query.get(reading.name) == ""


# -- turning openapi-core's exceptions into problems ----------------------------------------


def _body_problems(cause: BaseException | None) -> list[Problem]:
    from openapi_core.casting.schemas.exceptions import CastError
    from openapi_core.deserializing.exceptions import DeserializeError
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

    if isinstance(cause, InvalidSchemaValue):
        errors = [e for e in cause.schema_errors if isinstance(e, SchemaError)]
        return [_schema_problem(e) for e in _leaf_errors(errors)]
    if isinstance(cause, CastError):
        return [Problem("body", f"must be {_article(cause.type)}")]
    if isinstance(cause, DeserializeError):
        return [Problem("body", f"the request body cannot be read: {_text(cause)}")]
    return [Problem("body", _text(cause) if cause else "invalid request body")]


def _text(error: BaseException) -> str:
    """str() of an exception that may itself fail on undecodable input."""
    try:
        return str(error)
    except Exception:
        return type(error).__name__


def _leaf_errors(errors: Iterable[SchemaError]) -> list[SchemaError]:
    """Prefer the most specific error of a oneOf/anyOf failure, the way a reader would."""
    return [_most_telling(error) for error in errors]


def _most_telling(error: SchemaError) -> SchemaError:
    """For a oneOf/anyOf, the branch the value was meant for: the one whose ``const``
    properties it matches (a discriminator, in effect), then the one with fewest errors;
    within it, the deepest error."""
    if not (error.context and error.validator in ("oneOf", "anyOf")):
        return error
    branches: dict[Any, list[SchemaError]] = {}
    for inner in error.context or ():
        branches.setdefault(next(iter(inner.relative_schema_path), 0), []).append(inner)
    meant = min(
        branches.values(),
        key=lambda found: (sum(e.validator == "const" for e in found), len(found)),
    )
    best = min(meant, key=lambda e: (len(e.context or ()), -len(e.absolute_path)))
    return _most_telling(best)


def _schema_problem(error: SchemaError) -> Problem:
    path = list(error.absolute_path)
    if (error.validator == "required" and isinstance(error.instance, dict)
            and isinstance(error.validator_value, list)):  # fmt: skip
        missing = [name for name in error.validator_value if name not in error.instance]
        # jsonschema reports each missing property as its own error, named in the message
        named = [name for name in missing if error.message.startswith(f"{name!r} ")]
        if named or missing:
            return Problem(_join("", [*path, (named or missing)[0]]), "is required")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set((schema.get("properties") or {}).keys())
        extra = [name for name in error.instance if name not in allowed]
        if extra:
            return Problem(_join("", [*path, extra[0]]), "is not a known field")
    return Problem(_join("", path) or "body", _describe(error))


def _describe(error: SchemaError) -> str:
    value, instance = error.validator_value, error.instance
    messages = {
        "type": lambda: f"must be {_article(value)}",
        "format": lambda: f"must be a valid {value}",
        "enum": lambda: "must be one of: " + ", ".join(map(str, _listed(value))),
        "const": lambda: f"must be {value!r}",
        "minimum": lambda: f"must be at least {value}",
        "maximum": lambda: f"must be at most {value}",
        "exclusiveMinimum": lambda: f"must be greater than {value}",
        "exclusiveMaximum": lambda: f"must be less than {value}",
        "minLength": lambda: (
            "must not be empty"
            if value == 1
            else f"must be at least {_count(value, 'character')} long"
        ),
        "maxLength": lambda: f"must be at most {_count(value, 'character')} long",
        "pattern": lambda: f"must match the pattern {value}",
        "minItems": lambda: f"must have at least {_count(value, 'item')}",
        "maxItems": lambda: f"must have at most {_count(value, 'item')}",
        "uniqueItems": lambda: "must not contain duplicates",
        "multipleOf": lambda: f"must be a multiple of {value}",
    }
    describe = messages.get(str(error.validator))
    text = describe() if describe else error.message
    if error.validator in ("type", "format", "minimum", "maximum", "enum", "pattern"):
        text += f" (got {instance!r})" if len(repr(instance)) <= 60 else ""
    return text


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _count(number: Any, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _article(kind: Any) -> str:
    if isinstance(kind, list):
        return " or ".join(_article(k) for k in kind)
    kind = str(kind)
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _join(root: str, path: list[Any]) -> str:
    text = root
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else str(part)
    return text


class RequestValidator:
    """Validators for every operation of a spec, each compiled on first use."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        base_uri = spec.path.resolve().as_uri()
        document = prepared_copy(spec.document)  # sandbox.spec.prepare: as the spec means it
        self.validators = SpecValidators(document, base_uri, spec.openapi)
        self.core = _OpenAPICore(spec, document, base_uri)
        self._compiled: dict[str, OperationValidator] = {}

    def for_operation(self, operation: Operation) -> OperationValidator:
        compiled = self._compiled.get(operation.operation_id)
        if compiled is None:
            compiled = OperationValidator(self.spec, operation, self.validators, self.core)
            self._compiled[operation.operation_id] = compiled
        return compiled

    def validate(self, operation: Operation, data: RequestData) -> ValidationResult:
        return self.for_operation(operation).validate(data)


def client_error_status(operation: Operation) -> int:
    """400, unless the operation declares 422 and not 400 (some APIs validate that way)."""
    if "400" not in operation.responses and "422" in operation.responses:
        return 422
    return 400


def summary(problems: list[Problem]) -> str:
    """One line for an error message: the first problem, and how many more there are."""
    first = problems[0]
    text = f"Invalid request: {first.field} {first.message}"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problems)"
    return text
