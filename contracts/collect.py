"""Schemathesis's events, and our checks' findings, gathered into a Report.

Each failure is listed under the request that was sent (a TRACE probe under ``TRACE
/users``, not under ``POST /users``); the stateful phase's scenario ("Stateful tests") is
not an operation and is counted apart. Reproductions are built from the requests as sent,
credentials as the run's variables.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from schemathesis.engine import events
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.wrappers import Request

from contracts.checks._base import EXCERPT, request_label
from contracts.context import ContractFailure, Finding, RunContext
from contracts.errors import UsageError
from contracts.facts import pointer_of
from contracts.report import FailureRecord, OperationResult, Report
from contracts.reproduce import curl
from contracts.spec_gaps import (
    Discriminators,
    LinkForms,
    conflict_as_declared,
    empty_body,
    undeclared_status,
)
from sandbox.http.nested_params import nest
from sandbox.http.parameters import MISSING, Reading, read
from sandbox.jsonio import loads
from sandbox.spec.model import Operation, Spec, is_json_media
from sandbox.spec.schemas import SchemaChecks, merged, schema_types

Progress = Callable[[str, str, int], None]  # (phase, operation label, failures so far)
STATEFUL_LABEL = "Stateful tests"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_PART_NAME = re.compile(rb'Content-Disposition:\s*form-data;\s*name="([^"]*)"', re.IGNORECASE)


class Collector:
    def __init__(self, report: Report, spec: Spec, run: RunContext,
                 progress: Progress | None) -> None:  # fmt: skip
        self.report = report
        self.spec = spec
        self.run = run
        self.progress = progress
        self.discriminators = Discriminators(spec)
        self.link_forms = LinkForms(spec)

    def consume(self, event: Any) -> None:
        if isinstance(event, events.ScenarioFinished):
            self._scenario(event)
        elif isinstance(event, events.NonFatalError):
            self.report.errors.append(f"{event.label}: {event.info.format()}".strip())
        elif isinstance(event, events.FatalError):
            raise UsageError(f"the run stopped: {event.exception}")

    def finish(self) -> None:
        self._findings()

    def _scenario(self, event: Any) -> None:
        recorder = event.recorder
        phase = event.phase.value
        self.report.requests[phase] = self.report.requests.get(phase, 0) + len(
            recorder.interactions
        )
        for node in recorder.cases.values():
            case = node.value
            if case.method.upper() != case.operation.method.upper():
                label = request_label(case)
                self.report.probes[label] = self.report.probes.get(label, 0) + 1
        if recorder.label == STATEFUL_LABEL:
            self.report.stateful_cases += len(recorder.cases)
            result = OperationResult()
        else:
            result = self.report.operations.setdefault(recorder.label, OperationResult())
            result.cases += len(recorder.cases)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    result.statuses[interaction.response.status_code] += 1
        for case_id, nodes in recorder.checks.items():
            for node in nodes:
                result.checks[node.name] += 1
                if node.failure_info is not None:
                    found = self._theirs(recorder, case_id, node)
                    if found is not None:
                        result.failed[node.name] += 1
                        self.report.add_failure(found)
        self._findings()
        if self.progress is not None:
            self.progress(phase, recorder.label, len(self.report.failures))

    def _findings(self) -> None:
        for found in self.run.drain():
            result = self.report.operations.get(found.label)
            if result is not None:
                result.failed[found.check] += 1
            self.report.add_failure(_ours(found))

    def _theirs(self, recorder: Any, case_id: str, node: Any) -> FailureRecord | None:
        """The failure as we report it, said to be the spec's own where it is; None where
        Schemathesis's premise was false (a "valid" form that lacks a required field)."""
        failure = node.failure_info.failure
        sent_id = failure.case_id or case_id
        case_node = recorder.cases.get(sent_id)
        label = request_label(case_node.value) if case_node is not None else (
            failure.operation or recorder.label)  # fmt: skip
        interaction = recorder.interactions.get(sent_id)
        response = interaction.response if interaction is not None else None
        status = response.status_code if response is not None else None
        excerpt = response.content[:EXCERPT].decode("utf-8", "replace") if response else ""
        command = node.failure_info.code_sample
        message = failure.message or ""
        case = case_node.value if case_node is not None else None
        operation = self._operation(case)
        sent = interaction.request.body if interaction is not None else None
        missing = self._missing_fields(case, sent) if case is not None else []
        if node.name == "positive_data_acceptance" and case is not None:
            if missing or conflict_as_declared(operation, status, excerpt):
                return None
            message += self._spec_refuses(case) or empty_body(operation, case, sent)
            if interaction is not None:
                message += self._undefined_style(case, interaction.request)
        if node.name == "negative_data_rejection" and case is not None and interaction:
            message += self._wire_is_valid(case, interaction.request) or (
                self._parameter_reads_valid(case, interaction.request, message)
            )
        if node.name == "status_code_conformance" and case is not None and operation:
            refused = self._spec_refuses(case) or (
                f"it lacks {', '.join(missing)}, which the schema requires" if missing else ""
            )
            message += undeclared_status(operation, case, status or 0, refused)
        if failure.title == "Unknown discriminator value" and operation is not None:
            message += self.discriminators.gap(operation, status, message)
        if node.name == "response_schema_conformance" and operation is not None:
            message += self.link_forms.gap(operation, message)
        if interaction is not None:
            request = interaction.request
            headers = [(k, v) for k, values in request.headers.items() for v in values]
            command = curl(self.run.secrets, request.method, request.uri, headers, request.body)
        return FailureRecord(
            operation=label, check=node.name, title=failure.title,
            message=message, code=getattr(failure, "code", ""),
            curl=command, status=status, response_excerpt=self.run.secrets.mask(excerpt),
            spec_location=self._pointer(failure.operation or label, status),
        )  # fmt: skip

    def _operation(self, case: Any) -> Operation | None:
        """The declared operation a request is (None for a probe of another method)."""
        if case is None or case.method.upper() != case.operation.method.upper():
            return None
        return self.run.facts.operation(case.operation.method, case.operation.path)

    def _missing_fields(self, case: Any, sent: Any) -> list[str]:
        """The fields a form or multipart body's schema requires that it was sent without
        (Schemathesis's example of OpenAI's ``POST /images/edits`` had no ``image``)."""
        operation = self._operation(case)
        media_type = (case.media_type or "").partition(";")[0].strip().lower()
        if operation is None or media_type not in (FORM, MULTIPART):
            return []
        media = ((operation.request_body or {}).get("content") or {}).get(media_type) or {}
        required = (merged(self.spec.deref, media.get("schema")) or {}).get("required") or []
        raw = sent if isinstance(sent, bytes) else (sent or "").encode()
        if media_type == FORM:
            names = {key for key, _ in parse_qsl(raw.decode("utf-8", "replace"))}
        else:
            names = {name.decode("utf-8", "replace") for name in _PART_NAME.findall(raw)}
        names = {name.partition("[")[0] for name in names}
        return [name for name in required if isinstance(name, str) and name not in names]

    def _spec_refuses(self, case: Any) -> str:
        """Why the spec's own JSON Schema refuses a body Schemathesis generated as valid
        ("" when it accepts it): then the refusal is the spec's word, not the server's fault
        (OpenAI's 3.1 document writes ``nullable: true``, which 3.1 does not have, so its
        ``type: object`` refuses the null Schemathesis sends)."""
        facts = self.run.facts
        operation = facts.operation(case.operation.method, case.operation.path)
        media_type = (case.media_type or "application/json").partition(";")[0].strip().lower()
        body, files = case.body, set()
        if operation is None:
            return ""
        if media_type == MULTIPART and isinstance(body, dict):  # its text parts, judged
            content = (operation.request_body or {}).get("content") or {}
            schema = (content.get(MULTIPART) or {}).get("schema")
            files = {name for name, value in body.items() if _is_file(value)}
            body = {name: value for name, value in body.items() if name not in files}
        elif is_json_media(media_type):
            schema = facts.request_schema(operation)
        else:
            return ""
        if schema is None or not isinstance(body, dict | list | str | int | float | bool | None):
            return ""  # no body, or one Schemathesis has not made JSON
        errors = [
            error for error in facts.request_checks.errors(self.spec.deref(schema), body)
            if not any(f"'{name}'" in error.message for name in files)  # a file left out
        ]  # fmt: skip
        if not errors:
            return ""
        first = min(errors, key=lambda error: len(error.absolute_path))
        where = "/".join(str(part) for part in first.absolute_path)
        return (
            f"\nThe spec's own: by its JSON Schema (OpenAPI {self.spec.openapi}) this body is "
            f"invalid ({first.message} at body/{where}; schema {pointer_of(operation)}"
            f"/requestBody), so refusing it keeps to the spec."
        )

    def _undefined_style(self, case: Any, request: Any) -> str:
        """The spec's own where it asks for a serialization OpenAPI does not define and the
        request used it: ``style: deepObject`` is for objects (OpenAPI 3.0.3, Style Values),
        and on an array (Stripe's ``lines``) every tool spells it its own way."""
        operation = self.run.facts.operation(case.operation.method, case.operation.path)
        if operation is None:
            return ""
        declared: list[tuple[str, Any, Any, str]]
        declared = [(p.name, p.raw.get("style"), p.schema, f"parameter {p.name!r}")
                    for p in operation.parameters if p.location == "query"]  # fmt: skip
        media = ((operation.request_body or {}).get("content") or {}).get(FORM) or {}
        properties = (self.spec.deref(media.get("schema")) or {}).get("properties") or {}
        for name, encoding in (media.get("encoding") or {}).items():
            style = encoding.get("style") if isinstance(encoding, dict) else None
            declared.append((name, style, properties.get(name), f"form field {name!r}"))
        body = request.body.decode("utf-8", "replace") if request.body else ""
        sent = {key.partition("[")[0] for key, _ in parse_qsl(urlsplit(request.uri).query)}
        sent |= {key.partition("[")[0] for key, _ in parse_qsl(body)}
        for name, style, schema, what in declared:
            kinds = schema_types(self.spec.deref(schema))
            if style == "deepObject" and name in sent and kinds and "object" not in kinds:
                return (
                    f"\nThe spec's own: its {what} is style deepObject, which OpenAPI "
                    f"defines for objects only, on {'/'.join(sorted(kinds))} "
                    f"({pointer_of(operation)}): no serialization of it is the standard one, "
                    f"and the one sent is not one the schema can read."
                )
        return ""

    def _wire_is_valid(self, case: Any, request: Any) -> str:
        """Why a form body Schemathesis made invalid cannot be refused ("" when it can): as
        sent it reads back as a valid one. ``expand=AAA`` is the string "AAA" Schemathesis
        meant and the one-item array ``["AAA"]`` the schema asks for, byte for byte; in a
        multipart body every part is text, so the integer 5 sent as a string's part is the
        string "5" (OpenAI's ``language`` of ``POST /audio/voice_consents``)."""
        operation = self.run.facts.operation(case.operation.method, case.operation.path)
        media_type = (case.media_type or "").partition(";")[0].strip().lower()
        if operation is None or media_type not in (FORM, MULTIPART):
            return ""
        media = ((operation.request_body or {}).get("content") or {}).get(media_type) or {}
        schema = self.spec.deref(media.get("schema"))
        sent = request.body
        raw = sent if isinstance(sent, bytes) else (sent or "").encode()
        if schema is None:
            return ""
        files: set[str] = set()
        if media_type == FORM:
            pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        else:
            pairs, files = _parts(raw, _header(request, "content-type"))
        value = _read_as_valid(nest(pairs, schema, self.spec.deref), pairs, schema,
                               self.run.facts.request_checks)  # fmt: skip
        errors = self.run.facts.request_checks.errors(schema, value)
        if any(not (error.absolute_path and error.absolute_path[0] in files) for error in errors):
            return ""  # a file stands for no value of its own: its errors are not judged
        what = "form" if media_type == FORM else "multipart body"
        shown = {k: v for k, v in value.items() if k not in files} if files else value
        return (
            f"\nNot the server's to refuse: as sent, this {what} is also a valid body "
            f"({json.dumps(shown)[:200]}), by the schema at {pointer_of(operation)}/requestBody;"
            f" a {what} cannot tell the two apart."
        )

    def _parameter_reads_valid(self, case: Any, request: Any, message: str) -> str:
        """Why a parameter Schemathesis made invalid cannot be refused ("" when it can): read
        the way its ``style`` says, as the server must, it is a valid value. An exploded
        ``form`` object of free-form string fields takes any ``name=value`` pair as a field:
        ``metadata=0`` (meant as the integer 0) is the object ``{"metadata": "0"}``."""
        named = _INVALID_PARAMETER.search(message)
        operation = self.run.facts.operation(case.operation.method, case.operation.path)
        if named is None or operation is None:
            return ""
        name, location = named.groups()
        declared = [p for p in operation.parameters if p.location == location]
        parameter = next((p for p in declared if p.name == name), None)
        if parameter is None or location not in ("query", "header"):
            return ""
        query = MultiDict(parse_qsl(urlsplit(request.uri).query, keep_blank_values=True))
        headers = Headers([(k, v) for k, values in request.headers.items() for v in values])
        others = frozenset(p.name for p in declared)
        reading = Reading.of(parameter, self.spec.deref, others)
        try:
            value = read(reading, query, {}, headers, {}, self.spec.deref)
        except ValueError:
            return ""  # not readable at all: the server can refuse it
        if value is MISSING or not self.run.facts.request_checks.is_valid(reading.schema, value):
            return ""
        return (
            f"\nNot the server's to refuse: as sent, {location} parameter `{name}` reads as "
            f"{json.dumps(value)[:200]} (style {reading.style}, explode "
            f"{str(reading.explode).lower()}), which its schema at {pointer_of(operation)} "
            f"accepts; the request cannot tell the two apart."
        )

    def _pointer(self, label: str, status: int | None) -> str:
        method, _, path = label.partition(" ")
        operation = next(
            (op for op in self.spec.operations if op.method == method.upper() and op.path == path),
            None,
        )
        if operation is None:
            return ""
        pointer = pointer_of(operation)
        if status is not None:
            found = operation.response_for(status)
            pointer += f"/responses/{found[0]}" if found else "/responses"
        return pointer


_INVALID_PARAMETER = re.compile(r"parameter `([^`]+)` in (query|header|cookie|path)")


def _read_as_valid(value: dict[str, Any], pairs: list[tuple[str, Any]], schema: Any,
                   checks: SchemaChecks) -> dict[str, Any]:  # fmt: skip
    """``value`` with each field the schema refuses read another way its one text allows,
    where that way is valid: ``null`` as null, a JSON text as what it encodes (OpenAI's
    ``chunking_strategy``, ``"auto"`` or an object or null, sent as the part ``null``)."""
    texts: dict[str, list[Any]] = {}
    for name, text in pairs:
        texts.setdefault(name, []).append(text)
    refused = {str(e.absolute_path[0]) for e in checks.errors(schema, value) if e.absolute_path}
    for name in refused:
        sent = texts.get(name, [])
        if len(sent) != 1 or not isinstance(sent[0], str):
            continue
        for reading in _readings(sent[0]):
            trial = {**value, name: reading}
            if not any(e.absolute_path and e.absolute_path[0] == name
                       for e in checks.errors(schema, trial)):  # fmt: skip
                value = trial
                break
    return value


def _readings(text: str) -> list[Any]:
    """The values one text part may stand for, besides itself."""
    found: list[Any] = [None] if text == "null" else []
    with suppress(ValueError):
        found.append(loads(text))
    return found


def _header(request: Any, name: str) -> str:
    """A header of a recorded request (its values are lists), "" when not sent."""
    for key, values in request.headers.items():
        if key.lower() == name:
            return str(values[0]) if isinstance(values, list) and values else str(values)
    return ""


def _parts(raw: bytes, content_type: str) -> tuple[list[tuple[str, Any]], set[str]]:
    """A multipart body's text parts as (name, text) pairs, as a server reads them, and
    the names of its file parts (each given as "", a stand-in)."""
    form = Request.from_values(input_stream=io.BytesIO(raw), content_length=len(raw),
                               content_type=content_type, method="POST")  # fmt: skip
    pairs: list[tuple[str, Any]] = list(form.form.items(multi=True))
    files = set(form.files.keys())
    pairs += [(name, "") for name in files]
    return pairs, files


def _is_file(value: Any) -> bool:
    """A multipart part Schemathesis sends as a file (bytes, or a list of them)."""
    if isinstance(value, list):
        return any(isinstance(item, bytes | bytearray) for item in value)
    return isinstance(value, bytes | bytearray)


def _ours(found: Finding) -> FailureRecord:
    failure: ContractFailure = found.failure
    return FailureRecord(
        operation=found.label, check=found.check, title=failure.title or "",
        message=failure.message, code=failure.code, curl=found.curl, status=found.status,
        response_excerpt=found.excerpt, spec_location=failure.pointer,
    )  # fmt: skip
