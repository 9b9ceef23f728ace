"""``envelope_conformance``: success bodies carry the spec's envelope.

A spec whose 2xx bodies mostly share a wrapper (``{status: "success", data, meta}``) makes
that wrapper a promise for every success, including the operations whose own schema is
loose about it. Operations whose schema answers outside it by design (health, tokens) are
left alone.
"""

from __future__ import annotations

from contracts.checks._base import Seen, contract_check


@contract_check
def envelope_conformance(seen: Seen) -> bool | None:
    """Success bodies carry the spec's envelope, whatever the operation's own schema says."""
    if not seen.ordinary or not 200 <= seen.status < 300 or not seen.response.content:
        return None
    facts = seen.run.facts
    envelope = facts.envelope
    body = seen.body()
    if envelope is None or body is None:
        return None
    declared = seen.operation.response_for(seen.status)
    schema = facts.json_schema(declared[1]) if declared else None
    if schema is not None and "data" not in (facts.full(schema).get("required") or []):
        return None  # this operation answers outside the envelope by design
    if not isinstance(body, dict):
        seen.fail("Success body outside the envelope",
                  f"Expected an object with {', '.join(envelope.required)}; got a "
                  f"{type(body).__name__}.")  # fmt: skip
    missing = [name for name in envelope.required if name not in body]
    if missing:
        seen.fail("Success body outside the envelope",
                  f"The spec wraps successes in {{{', '.join(envelope.required)}}}; this body "
                  f"lacks {', '.join(missing)}.")  # fmt: skip
    if envelope.status_value is not None and body.get("status") != envelope.status_value:
        seen.fail("Envelope status is wrong",
                  f"Expected status {envelope.status_value!r} on a {seen.status}; got "
                  f"{body.get('status')!r}.")  # fmt: skip
    return True
