"""JSON encoding: orjson for speed, the standard library for what orjson refuses to write.

Reading is strict, because what is read may come from anyone: RFC 8259 text only (no
``NaN``, no lone surrogates, no number that overflows a double), nested at most
``MAX_DEPTH`` levels. The depth cap is what keeps hostile bodies from crashing the
recursive code behind parsing (schema validation, merging, the canonical form idempotency
keys compare): jsonschema spends several Python frames per level, so a few hundred levels
exhaust the interpreter's recursion limit. No real API nests that deep. The check costs
two byte counts per body, and a walk of the value only when those counts could exceed it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from sandbox.errors import JSONError

MAX_DEPTH = 100


def dumps(value: Any) -> bytes:
    """Serialize any JSON value, including integers beyond 64 bits (``?page=10**30``)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; JSONError (a ValueError) for anything malformed, hostile or too deep."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        deep = exc.msg.startswith("depth limit")  # orjson's own cap, 1024
        reason = f"nested deeper than {MAX_DEPTH} levels" if deep else exc.msg
        raise JSONError(reason, exc.doc, exc.pos) from None
    raw = data.encode() if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise JSONError(f"nested deeper than {MAX_DEPTH} levels", "", 0)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels, without recursion."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        children = (
            current.values() if isinstance(current, dict)
            else current if isinstance(current, list) else ()
        )  # fmt: skip
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False
