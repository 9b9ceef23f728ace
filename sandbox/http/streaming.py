"""Server-Sent Events for operations that declare ``text/event-stream`` (issue 18 item 6).

When a client asks for a stream, by ``"stream": true`` in its JSON body (OpenAI's protocol:
its SDK still sends ``Accept: application/json``) or by an ``Accept`` that prefers
``text/event-stream``, and the success response declares that media type, the answer is a
stream of several events, each generated from the event schema:

* the schema the spec gives ``text/event-stream``;
* else, when the stream is declared without a schema, a component named after the JSON
  response's schema the way vendors name their chunks: ``XResponse`` ->
  ``XStreamResponse``, ``XChunk``, ``XStreamEvent``, ``XEvent``;
* else the JSON response's own schema.

An event whose schema has ``event`` and ``data`` properties is written as those SSE fields
(``event: thread.run.created`` / ``data: {...}``); any other is one ``data:`` line of JSON.
The stream ends as the spec says the vendor's does: with ``data: [DONE]`` when the
operation, its request's ``stream`` field or the stream's declaration mentions ``[DONE]``.

The stream is finite and generated whole, so it is sent as one body with
``Content-Type: text/event-stream``. The granian bridge (``sandbox.serving.bridge``) sends
responses whole too, which is fine here: SSE clients (OpenAI's ``SSEDecoder``, browsers'
``EventSource``) read the events from a complete body exactly as from a trickle.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from sandbox.jsonio import dumps, loads
from sandbox.spec.model import Operation, Spec, is_json_media

EVENT_STREAM = "text/event-stream"
EVENTS = 3  # events per stream: enough for a client to show it streams
_DONE = "[DONE]"
_CHUNK_NAMES = (
    lambda n: n.replace("Response", "StreamResponse"),
    lambda n: n.removesuffix("Response") + "Chunk",
    lambda n: n + "Chunk",
    lambda n: n.removesuffix("Response") + "StreamEvent",
    lambda n: n.removesuffix("Response") + "Event",
)


class Streams:
    """Which operations stream, what their events are, and how their streams end; worked
    out once per response declaration."""

    def __init__(self, spec: Spec, generate: Callable[[dict[str, Any], random.Random], Any]):
        self.spec = spec
        self.generate = generate
        self._plans: dict[int, tuple[Any, Any, bool]] = {}  # id(declaration) -> plan

    def wanted(self, request: Any, declared: list[str], negotiated: str | None) -> bool:
        """Whether to answer this request with a stream (the media type is declared)."""
        if EVENT_STREAM not in declared:
            return False
        if negotiated == EVENT_STREAM:
            return True
        if not is_json_media(request.mimetype or ""):
            return False
        try:
            body = loads(request.get_data(cache=True) or b"null")
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("stream") is True

    def body(
        self,
        operation: Operation,
        declaration: dict[str, Any],
        rng: random.Random,
        *decided: Any,
    ) -> tuple[bytes, list[Any]]:
        """The stream's bytes and the events' values, generated from the event schema. A
        value the resource store decided on (a stored chat completion) lends the events the
        fields they share with it (its ``id``, ``created``, ``model``), unless the event
        schema fixes their values (``object: chat.completion.chunk``)."""
        schema, done = self._plan(operation, declaration)
        if not schema:
            values = list(decided) or [{}]
        else:
            values = [self.generate(schema, rng) for _ in range(EVENTS)]
            for record in decided:
                for value in values:
                    self._carry(record, value, schema)
        frames = [_frame(value) for value in values]
        if done:
            frames.append(f"data: {_DONE}\n\n")
        return "".join(frames).encode(), values

    def _carry(self, record: Any, event: Any, schema: dict[str, Any]) -> None:
        if not (isinstance(event, dict) and isinstance(record, dict)):
            return
        properties = schema.get("properties") or {}
        for name, held in record.items():
            prop = self.spec.deref(properties.get(name))
            fixed = isinstance(prop, dict) and ("enum" in prop or "const" in prop)
            if name in event and not fixed and type(event[name]) is type(held):
                event[name] = held

    def _plan(self, operation: Operation, declaration: dict[str, Any]) -> tuple[Any, bool]:
        cached = self._plans.get(id(declaration))
        if cached is None or cached[0] is not declaration:
            content = declaration.get("content") or {}
            stream = content.get(EVENT_STREAM) or {}
            schema = self.spec.deref(stream.get("schema")) or self._chunk_schema(content)
            done = _DONE in _text(operation.raw) or _DONE in _text(stream)
            done = done or _DONE in _text(self._stream_field(operation))
            cached = self._plans[id(declaration)] = (declaration, schema, done)
        return cached[1], cached[2]

    def _chunk_schema(self, content: dict[str, Any]) -> Any:
        """A stream declared without a schema: the JSON answer's chunk component, by name."""
        for media, declared in content.items():
            if not is_json_media(media) or not isinstance(declared, dict):
                continue
            ref = (declared.get("schema") or {}).get("$ref")
            if not isinstance(ref, str):
                return self.spec.deref(declared.get("schema"))
            schemas = (self.spec.document.get("components") or {}).get("schemas") or {}
            name = ref.rsplit("/", 1)[-1]
            for rename in _CHUNK_NAMES:
                if rename(name) != name and rename(name) in schemas:
                    return schemas[rename(name)]
            return self.spec.deref(declared["schema"])
        return None

    def _stream_field(self, operation: Operation) -> Any:
        """The request body's ``stream`` property, whose description may say how it ends."""
        for media in ((operation.request_body or {}).get("content") or {}).values():
            schema = self.spec.deref((media or {}).get("schema"))
            if isinstance(schema, dict):
                return self.spec.deref((schema.get("properties") or {}).get("stream"))
        return None


def _frame(value: Any) -> str:
    """One SSE event: ``event:``/``data:`` fields when the value carries them, else JSON."""
    if isinstance(value, dict) and set(value) == {"event", "data"}:
        data = value["data"]
        text = data if isinstance(data, str) else dumps(data).decode()
        lines = "".join(f"data: {line}\n" for line in text.split("\n"))
        return f"event: {value['event']}\n{lines}\n"
    return f"data: {dumps(value).decode()}\n\n"


def _text(node: Any) -> str:
    """A node's text, to look for what the spec says in prose and examples."""
    if node is None:
        return ""
    try:
        return json.dumps(node, default=str)
    except (TypeError, ValueError):
        return str(node)


def described_streams(document: dict[str, Any]) -> dict[str, Any]:
    """The document with each ``text/event-stream`` schema describing the events the sandbox
    sends, as OpenAPI 3.2 and tools that read streams (Schemathesis) understand a stream.

    Before 3.2 a stream's ``schema`` has no agreed meaning: vendors (OpenAI, DigitalOcean)
    give the JSON of each event's ``data``, which is what the sandbox generates, while 3.2's
    ``itemSchema`` and Schemathesis read it as the SSE event itself (its ``event``, ``data``,
    ``id`` and ``retry`` fields), so a chunk's required ``id`` is looked for among the event's
    fields. Each such schema becomes that event: ``data`` is a string whose JSON is valid
    against the vendor's schema (``contentMediaType``/``contentSchema``), or ``[DONE]``; an
    event schema with ``event`` and ``data`` properties gives them to the event's fields, as
    the sandbox writes it. Documents of 3.2 and later, whose streams say what they mean, and
    media types with an ``itemSchema`` are left as they are; ``document`` is not modified.
    """
    if str(document.get("openapi", "")).startswith(("3.0", "3.1")):
        return _described(document, document)
    return document


def _described(node: Any, document: dict[str, Any]) -> Any:
    """``node`` with its streams described; the very same object where none is below it."""
    if isinstance(node, list):
        items = [_described(item, document) for item in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if not isinstance(node, dict):
        return node
    copy = {key: _described(value, document) for key, value in node.items()}
    stream = copy.get(EVENT_STREAM)
    if isinstance(stream, dict) and "schema" in stream and "itemSchema" not in stream:
        copy[EVENT_STREAM] = {**stream, "schema": _event(stream["schema"], document)}
    return copy if any(copy[key] is not node[key] for key in node) else node


def _event(schema: Any, document: dict[str, Any]) -> dict[str, Any]:
    """The SSE event the sandbox writes for an event of ``schema`` (see ``_frame``)."""
    resolved = _local(schema, document)
    properties = resolved.get("properties") if isinstance(resolved, dict) else None
    event, payload = {"type": "string"}, schema
    if isinstance(properties, dict) and {"event", "data"} <= set(properties):
        event, payload = properties["event"], properties["data"]
    data = {"type": "string", "contentMediaType": "application/json", "contentSchema": payload}
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": event,
            "data": {"anyOf": [{"type": "string", "enum": [_DONE]}, data]},
            "id": {"type": "string"},
            "retry": {"type": "integer", "minimum": 0},
        },
    }


def _local(node: Any, document: dict[str, Any]) -> Any:
    """``node`` with its local ``$ref`` followed (the served document is bundled)."""
    for _ in range(32):  # a chain of references, never a cycle
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not (isinstance(ref, str) and ref.startswith("#/")):
            return node
        node = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
    return node
