"""``Prefer`` request headers, as Prism reads them, so Prism users switch without changing
their clients: ``Prefer: code=404``, ``Prefer: example=conflict``, ``Prefer: dynamic=false``,
combinable (``Prefer: code=409, example=duplicateEmail``).

A preference asks for a declared response as such: the resource store is not consulted or
changed, exactly as a mock server would answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.errors import ApiError
from sandbox.spec.model import Operation, Spec

NO_EXAMPLE = object()


@dataclass(frozen=True)
class Preference:
    code: int | None = None
    example: str | None = None
    dynamic: bool | None = None

    def applied(self) -> str:
        parts = []
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.example is not None:
            parts.append(f"example={self.example}")
        if self.dynamic is not None:
            parts.append(f"dynamic={str(self.dynamic).lower()}")
        return ", ".join(parts)


def read_preference(header: str | None) -> Preference | None:
    """The Prism directives in a Prefer header; None when there are none (other RFC 7240
    preferences such as ``return=minimal`` are left alone)."""
    if not header:
        return None
    found: dict[str, str] = {}
    for part in header.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() in ("code", "example", "dynamic") and value.strip():
            found[name.strip().lower()] = value.strip().strip('"')
    if not found:
        return None
    code = found.get("code")
    if code is not None and not (code.isascii() and code.isdigit() and 100 <= int(code) <= 599):
        raise ApiError(400, "INVALID_PREFER", f"Prefer: code={code} is not an HTTP status.")
    dynamic = found.get("dynamic")
    if dynamic is not None and dynamic.lower() not in ("true", "false"):
        raise ApiError(400, "INVALID_PREFER", "Prefer: dynamic must be true or false.")
    return Preference(
        code=int(code) if code is not None else None,
        example=found.get("example"),
        dynamic=None if dynamic is None else dynamic.lower() == "true",
    )


def declared_response(spec: Spec, operation: Operation, code: int) -> dict[str, Any]:
    found = operation.response_for(code)
    if found is None:
        declared = ", ".join(sorted(operation.responses))
        raise ApiError(
            400, "PREFER_UNSATISFIABLE",
            f"Prefer: code={code}, but this operation declares no such response; it declares "
            f"{declared}.",
        )  # fmt: skip
    return spec.deref(found[1]) or {}


def chosen_example(spec: Spec, media: dict[str, Any], preference: Preference) -> Any:
    """The example the preference names, or for ``dynamic=false`` the first one the media
    declares; ``NO_EXAMPLE`` when the body should be generated instead."""
    examples = {
        name: spec.deref(example) for name, example in (media.get("examples") or {}).items()
    }
    if preference.example is not None:
        if preference.example not in examples:
            names = ", ".join(examples) or "none"
            raise ApiError(
                400, "PREFER_UNSATISFIABLE",
                f"Prefer: example={preference.example}, but this response has no example of "
                f"that name; its examples: {names}.",
            )  # fmt: skip
        return (examples[preference.example] or {}).get("value")
    if preference.dynamic is False:
        if "example" in media:
            return media["example"]
        for example in examples.values():
            if isinstance(example, dict) and "value" in example:
                return example["value"]
    return NO_EXAMPLE


def is_example(value: Any) -> bool:
    return value is not NO_EXAMPLE
