"""Why a Schemathesis finding is the spec's own: what no server could answer otherwise while
keeping to it, said with the pointer of the promise that is missing or cannot be kept.

A real API answers 404 to an id that names nothing, 400 to a request its schema refuses and
401 to one without credentials, whether or not its spec declares those statuses; OpenAI's
``GET /responses/{response_id}`` declares only 200 and 429. Schemathesis reports each such
answer as an undocumented status, rightly: the spec does not say it. The finding stays (the
spec has the gap), and says where the gap is, so that a reader does not look for a server
bug. A discriminator whose branches cannot carry their own implicit values (no mapping, and
each branch's ``type`` is ``enum: [closed]`` rather than its schema name ``ClosedStatus``)
makes every answer break either the schema or the discriminator: the same, as is a link
field whose examples are paths (``/2010-04-01/Accounts.json``, as Twilio's API and SDK have
them) where its schema says ``format: uri``.
"""

from __future__ import annotations

import re
from typing import Any

from schemathesis.generation import GenerationMode

from contracts.facts import pointer_of
from sandbox.resources.naming import ITEM_SEGMENT
from sandbox.spec.documents import escape_pointer_token
from sandbox.spec.links import LinkFormConflict, link_form_conflicts
from sandbox.spec.model import Operation, Spec
from sandbox.spec.notes import DiscriminatorConflict, discriminator_conflicts

_DISCRIMINATOR = re.compile(r"discriminator property '([^']*)' with value '([^']*)'")
_COMPONENT = re.compile(r"^#/components/schemas/([^/]+)")
_TOP_FIELD = re.compile(r"Schema at /properties/([^/\s:]+)")


def undeclared_status(operation: Operation, case: Any, status: int, refused: str) -> str:
    """Why ``status``, which ``operation`` does not declare, is the spec's gap ("" when it
    may be the server's): ``refused`` says why the spec's own schema refuses the request
    ("" when it does not)."""
    where = f"{pointer_of(operation)}/responses"
    if not operation.responses:
        return (
            f"\nThe spec's own: {pointer_of(operation)} declares no responses at all (OpenAPI "
            f"3.1 lets it leave them out), so whatever a server answers is undocumented."
        )
    if operation.response_for(status) is not None or not 400 <= status < 500:
        return ""
    negative = _negative(case)
    if status == 404 and "{" in operation.path:
        names = ", ".join(re.findall(r"{([^}]+)}", operation.path))
        return (
            f"\nThe spec's own: {where} declares no 404 (nor 4XX or default), yet the path "
            f"names a thing by {names}: for one that does not exist, or no longer does, a "
            f"server has no declared answer."
        )
    if status in (401, 403) and negative and operation.security:
        return (
            f"\nThe spec's own: {pointer_of(operation)} requires credentials (its security), "
            f"but {where} declares no {status} (nor 4XX or default) for a request without "
            f"valid ones, which this was."
        )
    if status in (400, 422) and (negative or refused):
        why = refused.strip().removeprefix("The spec's own: ") if refused else (
            "Schemathesis made it invalid on purpose")  # fmt: skip
        return (
            f"\nThe spec's own: {where} declares no 400 or 422 (nor 4XX or default) for a "
            f"request its schema refuses, which this was ({why.rstrip('.')})."
        )
    if status == 409 and _creates(operation):
        return (
            f"\nThe spec's own: {where} declares no 409 (nor 4XX or default), yet this "
            f"create sends values a server keeps unique (an id or name the client chooses): "
            f"sent a second time, they name a thing that already exists, and the spec has "
            f"no answer for that."
        )
    return ""


_DUPLICATE = re.compile(r"already|duplicate|\btaken\b|conflict|not unique|must be unique", re.I)


def conflict_as_declared(operation: Operation | None, status: int | None, answer: str) -> bool:
    """A create refused as a duplicate with the status the operation declares for that: 422
    where it declares 422 and no 409 (GitHub's labels, refs and repositories answer "already
    exists" so), the way Schemathesis takes a 409 for valid data sent twice. The answer must
    say so: a 422 for anything else is still valid data rejected."""
    return (
        operation is not None
        and status == 422
        and _creates(operation)
        and operation.response_for(409) is None
        and operation.response_for(422) is not None
        and _DUPLICATE.search(answer) is not None
    )


def _creates(operation: Operation) -> bool:
    """A POST to a collection (its path does not end in a parameter, ``{Sid}.json`` too)."""
    tail = operation.path.partition("?")[0].rstrip("/").rpartition("/")[2]
    return operation.method == "POST" and ITEM_SEGMENT.match(tail) is None


def empty_body(operation: Operation | None, case: Any, sent: Any) -> str:
    """Why refusing an empty body is the spec's own ("" when the body was not empty): the
    body is required, and its schema accepts the empty string, which on the wire is no body
    at all (Spotify's ``PUT /playlists/{playlist_id}/images``, a base64 JPEG)."""
    if operation is None or sent or case.body not in ("", b""):
        return ""
    if not (operation.request_body or {}).get("required"):
        return ""
    return (
        f"\nThe spec's own: {pointer_of(operation)}/requestBody is required, yet its schema "
        f"for {case.media_type} accepts the empty string (it has no minLength), which on the "
        f"wire is no body at all."
    )


def _negative(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    return getattr(generation, "mode", None) == GenerationMode.NEGATIVE


class Discriminators:
    """The spec's discriminators that name branches by a value the branch forbids, found
    once (a walk of the whole document: 0.1 s for OpenAI's) on the first finding that
    needs them."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._conflicts: list[DiscriminatorConflict] | None = None

    def gap(self, operation: Operation, status: int | None, message: str) -> str:
        """Why an unknown discriminator value in this answer is the spec's own ("" when
        no conflict of the answer's schemas explains it)."""
        found = _DISCRIMINATOR.search(message)
        if found is None or status is None:
            return ""
        name, value = found.groups()
        if self._conflicts is None:
            self._conflicts = discriminator_conflicts(self.spec)
        reached = self._reached(operation, status)
        for conflict in self._conflicts:
            if conflict.property != name or value not in map(str, conflict.allowed):
                continue
            pointer = "#" + conflict.pointer.removeprefix("#")
            component = _COMPONENT.match(pointer)
            if component is not None and component.group(1) not in reached:
                continue
            if component is None and not pointer.startswith(
                f"#/paths/{escape_pointer_token(operation.path)}/"
            ):
                continue
            return (
                f"\nThe spec's own: {pointer} maps no value to {conflict.branch}, so its "
                f"discriminator '{name}' names that branch by its schema name, while "
                f"{conflict.branch}.{name} allows only {sorted(map(str, conflict.allowed))}: "
                f"an answer keeps to the schema or to the discriminator, never both."
            )
        return ""

    def _reached(self, operation: Operation, status: int) -> set[str]:
        """The component schemas the answer's schema refers to, at any depth."""
        found = operation.response_for(status)
        refs: set[str] = set()
        stack: list[Any] = [found[1] if found else None]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref not in refs:
                    refs.add(ref)
                    stack.append(self.spec.deref(node))
                stack.extend(v for k, v in node.items() if k not in ("example", "examples"))
            elif isinstance(node, list):
                stack.extend(node)
        return {named.group(1) for named in map(_COMPONENT.match, refs) if named is not None}


class LinkForms:
    """The operations whose examples show their links as paths where the schema says
    ``format: uri`` (sandbox.spec.links), found on the first finding that needs them."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._conflicts: dict[str, LinkFormConflict] | None = None

    def gap(self, operation: Operation, message: str) -> str:
        """Why a link field's path, refused by its ``format``, is the spec's own ("" when
        the examples do not show that field as a path)."""
        found = _TOP_FIELD.search(message)
        if found is None:
            return ""
        if self._conflicts is None:
            self._conflicts = {c.operation: c for c in link_form_conflicts(self.spec)}
        conflict = self._conflicts.get(f"{operation.method} {operation.path}")
        if conflict is None or found.group(1) not in conflict.fields:
            return ""
        return (
            f"\nThe spec's own: the examples of {pointer_of(operation)}/responses show "
            f"{', '.join(conflict.fields)} as paths, while the schema says format: uri (an "
            f"absolute URI); a server answers as one or the other, never both."
        )
