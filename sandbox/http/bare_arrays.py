"""A bare JSON array sent where the body is an object of one list.

Spotify's spec declares ``POST /playlists/{id}/items`` with a body ``{"uris": [...],
"position": 0}``; its official SDK (spotipy) sends the bare array ``[...]``, and the real API
takes it. The rule, general rather than Spotify's: where an operation's JSON body is an
object whose only array property is the one thing it may require, a JSON array sent
instead is read as that property (``{"uris": [...]}``), and the answer says so in
``X-Sandbox-Body-Read-As``. Any other body is validated as sent.
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import JSONError
from sandbox.http.validation import RequestData
from sandbox.jsonio import dumps, loads
from sandbox.spec.model import Operation, Spec, is_json_media
from sandbox.spec.schemas import merged, schema_types

READ_AS_HEADER = "X-Sandbox-Body-Read-As"


class BareArrays:
    """Reads a bare array as the one list property an operation's body has."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._fields: dict[str, str | None] = {}  # operationId -> the list property, if any

    def adapt(self, operation: Operation, data: RequestData) -> str | None:
        """Rewrite ``data.body`` from ``[...]`` to ``{name: [...]}`` where the rule holds;
        the property's name, or None when the body is left as sent."""
        if not data.body or not is_json_media(data.mimetype or ""):
            return None
        if data.body.lstrip()[:1] != b"[":
            return None
        name = self._field(operation)
        if name is None:
            return None
        try:
            value = loads(data.body)
        except JSONError:
            return None  # validation says what is wrong with it
        data.body = dumps({name: value})
        return name

    def _field(self, operation: Operation) -> str | None:
        key = operation.operation_id
        if key not in self._fields:
            self._fields[key] = self._list_property(operation)
        return self._fields[key]

    def _list_property(self, operation: Operation) -> str | None:
        """The body schema's only array property, where the body is an object that requires
        nothing else and accepts no array itself."""
        content = (operation.request_body or {}).get("content") or {}
        media = next((m for t, m in content.items() if is_json_media(t)), None)
        schema: Any = merged(self.spec.deref, (media or {}).get("schema"))
        if not isinstance(schema, dict) or schema_types(schema) & {"array"}:
            return None
        if "object" not in schema_types(schema) and not schema.get("properties"):
            return None
        properties = schema.get("properties") or {}
        lists = [
            name
            for name, prop in properties.items()
            if "array" in schema_types(merged(self.spec.deref, prop))
        ]
        required = set(schema.get("required") or [])
        if len(lists) != 1 or not required <= set(lists):
            return None
        return lists[0]
