"""Items made and listed under a parent their own paths do not name.

GitHub reads a pull request's review comments at ``/repos/{owner}/{repo}/pulls/comments/
{comment_id}``, and creates and lists them at ``/repos/{owner}/{repo}/pulls/{pull_number}/
comments``; it creates a repository at ``POST /orgs/{org}/repos`` and reads it at
``/repos/{owner}/{repo}``. The resource is the one whose items live at the item path, so its
records have no parent; but a list under ``{pull_number}`` holds that pull request's comments
only, and a repository made under ``{org}`` is owned by that org.

So a create under such a parameter keeps its value in the record: in the item's fields that
name it (a field of the same name; else a key field of the item's that the create's body does
not give, ``{org}``: the repository's ``owner.login``, as ``sandbox.resources.keys`` finds
keys), and always in a field of its own that is never shown, which a list under the same
parameter filters by. A list under a parameter no create of the resource records shows
every item, as before (a catalog's albums under ``/artists/{id}/albums``: none was made
there, so none could be told apart).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.resources.keys import put_at
from sandbox.resources.naming import body_properties
from sandbox.spec.words import norm

if TYPE_CHECKING:
    from sandbox.resources.inference import Binding
    from sandbox.spec.model import Spec

_PARAM = re.compile(r"\{([^{}]+)\}")
_PREFIX = "__sandbox_under_"


def under_key(param: str) -> str:
    """The record's own field that keeps the value of ``param`` (a store filter reads only
    letters, digits, ``_`` and ``-`` in a field's name)."""
    return _PREFIX + re.sub(r"[^A-Za-z0-9_-]", "_", param)


def settle_under(spec: Spec, bindings: dict[str, Binding]) -> None:
    """Each list and create binding's ``under`` (and a create's ``fills``), and each
    resource's ``recorded``: once, when the bindings are settled."""
    for binding in bindings.values():
        if binding.action not in ("list", "create"):
            continue
        resource = binding.resource
        own = set(_PARAM.findall(resource.collection_path))
        binding.under = tuple(p for p in _PARAM.findall(binding.operation.path) if p not in own)
        if binding.action != "create" or not binding.under:
            continue
        binding.fills = _fills(spec, binding)
        resource.recorded = resource.recorded | {under_key(p) for p in binding.under}


def _fills(spec: Spec, binding: Binding) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The item's fields that name each of the create's ``under`` parameters."""
    resource = binding.resource
    properties = (resource.item_schema or {}).get("properties") or {}
    by_norm = {norm(name): name for name in properties}
    sent = {norm(name) for name in body_properties(spec, binding.operation) or {}}
    named = set(_PARAM.findall(binding.operation.path))
    # key parts neither the path nor the body gives: {owner} of /repos/{owner}/{repo}
    open_parts = [
        part.field
        for part in resource.key_parts
        if part.field and part.param not in named and norm(part.field[0]) not in sent
    ]
    found: list[tuple[str, tuple[str, ...]]] = []
    rest = []
    for param in binding.under:
        same = by_norm.get(norm(param))
        if same is not None:
            found.append((param, (same,)))
        else:
            rest.append(param)
    if rest and len(rest) == len(open_parts):
        found.extend(zip(rest, open_parts, strict=True))
    return tuple(found)


def mark(binding: Binding, path_params: dict[str, str], obj: dict[str, Any]) -> None:
    """Write a create's ``under`` values into the fields of the item that name them."""
    for param, field in binding.fills:
        if param in path_params:
            put_at(obj, field, path_params[param])


def record(binding: Binding, path_params: dict[str, str], obj: dict[str, Any]) -> None:
    """Keep a create's ``under`` values in the record's own fields (after its fit to the
    schema, which would drop them)."""
    for param in binding.under:
        if param in path_params:
            obj[under_key(param)] = path_params[param]


def filters(binding: Binding, path_params: dict[str, str]) -> dict[str, str]:
    """What a list under a parameter that creates record keeps to: the items made there."""
    recorded = binding.resource.recorded
    return {
        under_key(param): path_params[param]
        for param in binding.under
        if under_key(param) in recorded and param in path_params
    }


def carried(recorded: frozenset[str], before: dict[str, Any], after: dict[str, Any]) -> None:
    """Keep the recorded values through a change (the refit drops fields it does not know)."""
    for key in recorded:
        if key in before:
            after[key] = before[key]
