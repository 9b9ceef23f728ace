"""Problems in a valid spec that no server can satisfy, found so users hear of them from us.

A discriminator without a mapping names each ``oneOf`` branch by its schema name; when that
branch's own schema only allows other values for the property (Spotify's
``discriminator: {propertyName: type}`` over ``TrackObject`` whose ``type`` is ``enum:
[track]``), every response breaks either the schema or the discriminator. The sandbox keeps to
the schema, and ``sandbox check`` reports the conflict with the fix (add a mapping).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.spec.documents import escape_pointer_token
from sandbox.spec.model import Spec
from sandbox.spec.schemas import merged

_COMPONENTS = "#/components/schemas/"


@dataclass(frozen=True)
class DiscriminatorConflict:
    pointer: str
    property: str
    branch: str
    allowed: tuple[Any, ...]

    def __str__(self) -> str:
        return (
            f"{self.pointer}: discriminator '{self.property}' names branch {self.branch} by its "
            f"schema name, which {self.branch}.{self.property} does not allow (only "
            f"{sorted(self.allowed, key=str)}); add a mapping"
        )


def discriminator_conflicts(spec: Spec) -> list[DiscriminatorConflict]:
    """Each branch whose implicit discriminator value its own schema forbids."""
    found: list[DiscriminatorConflict] = []
    for pointer, schema in _schemas_with_discriminator(spec.document, ""):
        discriminator = schema["discriminator"]
        name = discriminator["propertyName"]
        mapped = set((discriminator.get("mapping") or {}).values())
        for branch in (schema.get("oneOf") or []) + (schema.get("anyOf") or []):
            ref = branch.get("$ref") if isinstance(branch, dict) else None
            if not isinstance(ref, str) or not ref.startswith(_COMPONENTS) or ref in mapped:
                continue
            implicit = ref[len(_COMPONENTS) :]
            allowed = _allowed_values(spec, ref, name)
            if allowed is not None and implicit not in allowed:
                found.append(DiscriminatorConflict(pointer, name, implicit, tuple(allowed)))
    return found


def _allowed_values(spec: Spec, ref: str, name: str) -> list[Any] | None:
    try:
        shape = merged(spec.deref, spec.resolve(ref)) or {}
    except (KeyError, ValueError):
        return None
    prop = spec.deref((shape.get("properties") or {}).get(name))
    if not isinstance(prop, dict):
        return None
    if "const" in prop:
        return [prop["const"]]
    enum = prop.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _schemas_with_discriminator(node: Any, pointer: str) -> Iterator[tuple[str, dict]]:
    stack = [(node, pointer)]
    while stack:
        current, here = stack.pop()
        if isinstance(current, dict):
            disc = current.get("discriminator")
            if isinstance(disc, dict) and isinstance(disc.get("propertyName"), str):
                yield here, current
            for key, value in current.items():
                if key not in ("example", "examples") and isinstance(value, dict | list):
                    stack.append((value, f"{here}/{escape_pointer_token(str(key))}"))
        elif isinstance(current, list):
            stack.extend(
                (value, f"{here}/{index}")
                for index, value in enumerate(current)
                if isinstance(value, dict | list)
            )
