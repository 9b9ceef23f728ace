"""``error_shape``: an error answer is the error the spec declares.

The body is judged by the schema declared for that status on the operation. Where the
operation declares nothing for it, a schema is used only when the spec itself shows it is
common (every other declaration of that status, or of ``default``, uses it), and the
message says so; otherwise there is no promise to hold the server to. A code or a message
must be non-empty only where that schema has such a field: FastAPI's ``{"detail": [...]}``
has no code to ask for.
"""

from __future__ import annotations

from typing import Any

from contracts.checks._base import Seen, contract_check


@contract_check
def error_shape(seen: Seen) -> bool | None:
    """Every 4xx/5xx with a declared (or spec-wide) error schema carries it, with its code and
    message fields filled."""
    if seen.status < 400:
        return None
    facts = seen.run.facts
    if seen.ordinary:
        declared = facts.error_schema_for(seen.operation, seen.status)
    else:  # a probe is not the operation: only a spec-wide convention applies to it
        declared = facts.common_error_schema(seen.status)
    if declared is None:
        return None
    body = seen.body()
    if body is None:
        content_type = seen.header("content-type") or "no content type"
        seen.fail("Error body is not the declared JSON",
                  f"A {seen.status} must carry the JSON error the spec declares "
                  f"({declared.source}); got {content_type} {seen.response.content[:80]!r}.",
                  declared.pointer)  # fmt: skip
    problems = facts.checks.errors(declared.schema, body)
    if problems:
        where = "/".join(map(str, problems[0].absolute_path)) or "the body"
        seen.fail("Error body breaks the error schema",
                  f"{problems[0].message} (at {where}); the schema is {declared.source}.",
                  declared.pointer)  # fmt: skip
    for path, kind in facts.error_fields(declared.schema):
        value = _at(body, path)
        if isinstance(value, str) and not value.strip():
            seen.fail(f"Error {kind} is empty",
                      f"Clients branch on the code and show the message; {'.'.join(path)} is "
                      f"{value!r} (the schema is {declared.source}).",
                      declared.pointer)  # fmt: skip
    return True


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body
