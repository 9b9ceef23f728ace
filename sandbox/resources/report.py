"""What ``sandbox check`` says about resources: those found, why each operation is bound to
one (which rule), and which operations are not bound (answered as a stateless sandbox would).

A resource is listed when at least one operation is bound to it; an operation bound to none
is counted and the first few are named, so a spec author can see what would stay stateless
and add ``x-sandbox-resource`` where the inference guessed wrong.
"""

from __future__ import annotations

from sandbox.resources.inference import Binding, Resource, infer_resources
from sandbox.spec.model import Spec

SHOWN_UNBOUND = 10


def resource_lines(
    spec: Spec, resources: dict[str, Resource], bindings: dict[str, Binding]
) -> list[str]:
    """Lines for ``sandbox check``: the first is ``resources: N found, ...``."""
    by_resource: dict[int, list[Binding]] = {}
    for binding in bindings.values():
        by_resource.setdefault(id(binding.resource), []).append(binding)
    found = [r for r in resources.values() if id(r) in by_resource]
    unbound = [op for op in spec.operations if op.operation_id not in bindings]
    lines = [
        f"resources: {len(found)} found, {len(bindings)} operations bound, {len(unbound)} not bound"
    ]
    for resource in found:
        where = resource.item_path or resource.collection_path
        lines.append(
            f"  {resource.name}: {where}, id field {resource.id_field!r} ({resource.id_rule})"
        )
        for binding in by_resource[id(resource)]:
            operation = binding.operation
            rule = binding.rule or "path"
            lines.append(f"    {binding.action:<11} {operation.method} {operation.path}  [{rule}]")
    if unbound:
        named = ", ".join(f"{op.method} {op.path}" for op in unbound[:SHOWN_UNBOUND])
        more = (
            f" ... and {len(unbound) - SHOWN_UNBOUND} more" if len(unbound) > SHOWN_UNBOUND else ""
        )
        lines.append(f"  not bound (answered statelessly): {named}{more}")
    return lines


def check_lines(spec: Spec) -> list[str]:
    """The resource lines for ``spec``, inferred as ``sandbox serve`` would."""
    resources, bindings = infer_resources(spec)
    return resource_lines(spec, resources, bindings)
