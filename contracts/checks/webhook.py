"""``webhook_delivery`` (with ``--webhooks``): a create delivers the declared event,
schema-valid, and signed with the secret the receiver registered."""

from __future__ import annotations

from contracts.checks._base import Seen, contract_check
from contracts.checks._shapes import first, record_of


@contract_check
def webhook_delivery(seen: Seen) -> bool | None:
    """A create delivers the declared event: schema-valid, and signed with the secret the
    receiver registered."""
    watch = seen.run.webhooks
    facts = seen.run.facts
    if watch is None or not seen.ordinary or not 200 <= seen.status < 300:
        return None
    if seen.operation.method != "POST" or facts.is_item_path(seen.operation.path):
        return None
    expected = watch.expected_event(seen.operation.path)
    record = record_of(seen.body())
    if expected is None or not isinstance(record, dict) or record.get("id") is None:
        return None
    resource = str(record["id"])
    pointer = f"#/webhooks (event {expected})"
    if expected in watch.missing:
        return None  # said once; waiting again for each create only slows the run
    delivery = watch.wait_for(resource)
    if delivery is None:
        if not watch.still_subscribed():
            return None  # the run itself deleted our subscription; it is back now
        watch.missing.add(expected)
        seen.fail("Webhook not delivered",
                  f"No delivery about {resource} reached {watch.url} within {watch.timeout:g} s "
                  f"of the create; the spec declares {expected}.", pointer)  # fmt: skip
    event = delivery.json()
    kind = first(event, "type", "event") if isinstance(event, dict) else None
    if kind != expected:
        seen.fail("Webhook delivered as another event",
                  f"The create of {resource} was delivered as {kind!r}; the spec declares "
                  f"{expected!r}.", pointer)  # fmt: skip
    if watch.secret:
        from sandbox.errors import WebhookVerificationError
        from sandbox.webhooks.signing import verify

        try:
            verify(delivery.body, delivery.headers, watch.secret)
        except WebhookVerificationError as exc:
            seen.fail("Webhook signature does not verify",
                      f"The {expected} delivery for {resource} does not verify with the "
                      f"registered secret: {exc}", pointer)  # fmt: skip
    schema = watch.schemas.get(expected)
    problems = facts.checks.errors(schema, event) if schema is not None else []
    if problems:
        where = "/".join(map(str, problems[0].absolute_path))
        seen.fail("Webhook body breaks its schema",
                  f"{problems[0].message} (at {where or 'the body'})", pointer)  # fmt: skip
    return True
