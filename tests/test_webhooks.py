"""Webhooks end to end: real deliveries to a real receiver on 127.0.0.1, verified the way
receivers verify them, with retries, failures and the delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import jsonschema
import pytest
import stripe
from standardwebhooks.webhooks import Webhook

from sandbox import create_app, load_settings, load_spec
from sandbox.webhooks import verify
from tests.conftest import DEFAULT_SPEC
from tests.webhook_receiver import start_receiver

FAST = {"webhook_backoff": 0.05, "webhook_timeout": 0.5}


@pytest.fixture
def receiver():
    started = start_receiver()
    yield started
    started.close()


@pytest.fixture
def sandbox(tmp_path: Path):
    apps = []

    def make(**overrides):
        settings = load_settings(
            DEFAULT_SPEC,
            environ={},
            overrides={"state": str(tmp_path / "state.sqlite"), **FAST, **overrides},
        )
        app = create_app(DEFAULT_SPEC, settings)
        apps.append(app)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {settings.default_api_key}"
        return client, app.extensions["sandbox"]

    yield make
    for app in apps:
        app.extensions["sandbox"].webhooks.worker.stop()


def seed_guide_accepts(payload: bytes, signature: str, secret: str) -> bool:
    """The integration guide's verifyWebhookSignature: hex HMAC-SHA256, timing-safe."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(bytes.fromhex(signature), bytes.fromhex(expected))


def settled(sandbox_obj, count: int, timeout: float = 10.0) -> list[dict]:
    """The delivery log once ``count`` deliveries have stopped being pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sandbox_obj.webhooks.outbox.find(limit=1000)
        if len(found) >= count and all(d.status != "pending" for d in found):
            return [d.as_dict() for d in found]
        time.sleep(0.05)
    raise AssertionError([d.as_dict(with_body=False) for d in found])


def test_the_specs_own_endpoint_subscribes_and_every_change_is_delivered(sandbox, receiver) -> None:
    client, _ = sandbox()
    made = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["user.*"]})
    assert made.status_code == 201, made.data
    secret = made.json["data"]["secret"]
    assert secret.startswith("whsec_")  # generated, shown once
    assert "secret" not in client.get(f"/v1/webhooks/{made.json['data']['id']}").json["data"]
    assert all("secret" not in w for w in client.get("/v1/webhooks").json["data"])

    user = client.post("/v1/users", json={"name": "Ann Lee", "email": "ann@example.com"})
    user_id = user.json["data"]["id"]
    client.patch(f"/v1/users/{user_id}", json={"name": "Ann Smith"})
    client.delete(f"/v1/users/{user_id}")
    client.post("/v1/data", json={"name": "cpu", "values": [1, 2]})  # not subscribed

    deliveries = receiver.wait_for(3)
    time.sleep(0.2)
    assert len(receiver.received) == 3
    schemas = _event_schemas()
    types = []
    for delivery in deliveries:
        assert seed_guide_accepts(delivery.body, delivery.headers["X-Signature"], secret)
        event = verify(delivery.body, delivery.headers, secret)
        jsonschema.validate(event, schemas[event["type"]])
        assert event["data"]["id"] == user_id
        assert delivery.headers["X-Webhook-Id"] == event["id"]
        types.append(event["type"])
    assert sorted(types) == ["user.created", "user.deleted", "user.updated"]
    deleted = next(json.loads(d.body) for d in deliveries if b"user.deleted" in d.body)
    assert deleted["data"]["name"] == "Ann Smith"  # the last state


def _event_schemas() -> dict[str, dict]:
    spec = load_spec(DEFAULT_SPEC)
    document = spec.document
    found = {}
    for hook in document["webhooks"].values():
        schema = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
        name = hook["post"]["requestBody"]["content"]["application/json"]["examples"]["default"][
            "value"
        ]["type"]
        found[name] = {**schema, "components": document["components"]}
    return found


@pytest.mark.parametrize("scheme", ["hmac-sha256-hex", "standard-webhooks", "stripe"])
def test_each_scheme_verifies_with_the_receivers_own_library(sandbox, receiver, scheme) -> None:
    client, _ = sandbox()
    made = client.post(
        "/__sandbox/webhooks", json={"url": receiver.url, "events": ["*"], "scheme": scheme}
    )
    assert made.status_code == 201, made.data
    secret = made.json["secret"]
    client.post("/__sandbox/events", json={"type": "order.created"})
    (delivery,) = receiver.wait_for(1)
    body, headers = delivery.body, delivery.headers
    if scheme == "hmac-sha256-hex":
        assert seed_guide_accepts(body, headers["X-Signature"], secret)
    elif scheme == "standard-webhooks":
        lowered = {k.lower(): v for k, v in headers.items()}
        assert Webhook(secret).verify(body, lowered)["type"] == "order.created"
    else:
        assert stripe.WebhookSignature.verify_header(
            body.decode(), headers["Stripe-Signature"], secret, tolerance=300
        )
    assert verify(body, headers, secret)["data"]["id"].startswith("ord_")


def test_down_twice_then_up_is_delivered_on_the_third_attempt(sandbox, receiver) -> None:
    receiver.answer = lambda n: (503, {}, 0.0) if n <= 2 else (200, {}, 0.0)
    client, box = sandbox()
    client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["user.created"]})
    client.post("/__sandbox/events", json={"type": "user.created"})
    (log,) = settled(box, 1)
    assert log["status"] == "delivered"
    assert [a["status"] for a in log["attempt_log"]] == [503, 503, 200]
    assert [a["error"] for a in log["attempt_log"]] == ["HTTP 503", "HTTP 503", ""]
    assert all(a["request_headers"]["X-Signature"] for a in log["attempt_log"])
    starts = [a["started_at"] for a in log["attempt_log"]]
    assert starts == sorted(starts) and starts[2] - starts[0] >= 0.05 * 1.5  # backed off


def test_an_unreachable_receiver_fails_after_the_configured_attempts(sandbox, receiver) -> None:
    dead_url = receiver.url
    receiver.close()  # nothing listens there any more: connection refused
    client, box = sandbox(webhook_attempts=4)
    client.post("/__sandbox/webhooks", json={"url": dead_url, "events": ["*"]})
    client.post("/__sandbox/events", json={"type": "user.created"})
    (log,) = settled(box, 1)
    assert log["status"] == "failed"
    assert len(log["attempt_log"]) == 4
    assert all("Connection" in a["error"] or "refused" in a["error"] for a in log["attempt_log"])
    # nothing was lost: it can be sent again once the receiver is back
    back = start_receiver(int(dead_url.split(":")[2].split("/")[0]))
    try:
        again = client.post(f"/__sandbox/webhooks/deliveries/{log['id']}/redeliver")
        assert again.status_code == 202
        back.wait_for(1)
        (log,) = settled(box, 1)
        assert log["status"] == "delivered"
        assert len(log["attempt_log"]) == 5
    finally:
        back.close()


def test_timeouts_and_redirects_are_failed_attempts(sandbox, receiver) -> None:
    receiver.answer = lambda n: (
        (200, {}, 1.5) if n == 1 else (302, {"Location": "http://127.0.0.1:1/x"}, 0.0)
    )
    client, box = sandbox(webhook_attempts=2)
    client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["*"]})
    client.post("/__sandbox/events", json={"type": "user.created"})
    (log,) = settled(box, 1)
    first, second = log["attempt_log"]
    assert first["error"].startswith("timeout") and first["status"] is None
    assert second["status"] == 302 and second["error"] == "HTTP 302"  # not followed
    assert log["status"] == "failed"


def test_link_local_and_metadata_addresses_are_refused(sandbox) -> None:
    client, box = sandbox()
    refused = client.post(
        "/__sandbox/webhooks",
        json={"url": "http://169.254.169.254/latest/meta-data", "events": ["*"]},
    )
    assert refused.status_code == 422  # well formed, refused on meaning
    assert "link-local" in refused.json["error"]["message"]
    # the spec's own endpoint refuses it too, in the spec's error shape
    api = client.post("/v1/webhooks", json={"url": "http://169.254.169.254/x", "events": ["*"]})
    assert api.status_code == 400
    assert api.json["error"]["details"] == [
        {"field": "url", "message": api.json["error"]["details"][0]["message"]}
    ]
    assert "link-local" in api.json["error"]["details"][0]["message"]
    # and a subscription that slipped past (a name that resolves inside later) is never sent
    box.webhooks.subscriptions.create("http://169.254.169.254/x", ["*"], "whsec_x", None)
    client.post("/__sandbox/events", json={"type": "user.created"})
    (log,) = settled(box, 1)
    assert log["status"] == "failed"
    assert len(log["attempt_log"]) == 1
    assert log["attempt_log"][0]["error"].startswith("refused by policy")


def test_private_addresses_can_be_forbidden(sandbox, receiver) -> None:
    client, _ = sandbox(webhook_allow_private=False)
    refused = client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["*"]})
    assert refused.status_code == 422
    assert "webhook_allow_private" in refused.json["error"]["message"]


def test_filters_and_tenants(sandbox, receiver) -> None:
    client, box = sandbox()
    other = box.keys.create("default").key
    everything = client.post("/v1/webhooks", json={"url": receiver.url + "/all", "events": ["*"]})
    assert everything.status_code == 201
    client.post("/v1/webhooks", json={"url": receiver.url + "/orders", "events": ["order.*"]})
    client.post("/v1/users", json={"name": "Bo Li", "email": "bo@example.com"})
    # another tenant's change reaches only that tenant's subscribers (it has none)
    client.post(
        "/v1/users",
        json={"name": "Cy Wu", "email": "cy@example.com"},
        headers={"Authorization": f"Bearer {other}"},
    )
    (only,) = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1
    assert only.path == "/hooks/all"
    assert json.loads(only.body)["data"]["name"] == "Bo Li"


def test_rotation_signs_with_both_secrets_during_the_grace_period(sandbox, receiver) -> None:
    client, _ = sandbox()
    made = client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["*"]}).json
    rotated = client.post(f"/__sandbox/webhooks/{made['id']}/rotate").json
    assert rotated["secret"] != made["secret"]
    client.post("/__sandbox/events", json={"type": "user.created", "data": {"id": "usr_1"}})
    (delivery,) = receiver.wait_for(1)
    assert verify(delivery.body, delivery.headers, made["secret"])["data"] == {"id": "usr_1"}
    assert verify(delivery.body, delivery.headers, rotated["secret"])
    assert seed_guide_accepts(delivery.body, delivery.headers["X-Signature"], rotated["secret"])


def test_manual_events_and_the_delivery_log_filters(sandbox, receiver) -> None:
    client, box = sandbox()
    client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["user.*"]})
    generated = client.post("/__sandbox/events", json={"type": "user.created"}).json
    assert generated["event"]["data"]["email"]  # a realistic user
    assert len(generated["deliveries"]) == 1
    given = client.post(
        "/__sandbox/events", json={"type": "user.deleted", "data": {"id": "usr_x"}}
    ).json
    nobody = client.post("/__sandbox/events", json={"type": "order.created"}).json
    assert nobody["deliveries"] == []
    settled(box, 2)
    listed = client.get("/__sandbox/webhooks/deliveries?event_type=user.deleted").json
    assert [d["event_id"] for d in listed["deliveries"]] == [given["event"]["id"]]
    assert client.get("/__sandbox/webhooks/deliveries?status=failed").json["deliveries"] == []
    one = client.get(f"/__sandbox/webhooks/deliveries/{generated['deliveries'][0]}").json
    assert one["status"] == "delivered" and one["attempt_log"][0]["status"] == 200
    curl = client.post(
        "/__sandbox/events",
        data='{"type": "user.updated", "data": {"id": "usr_c"}}',
        content_type="application/json",
    )
    assert curl.status_code == 202 and curl.json["event"]["type"] == "user.updated"
    bad = client.post("/__sandbox/events", json={"data": {}})
    assert bad.status_code == 400
    too_big = client.post(
        "/__sandbox/events", json={"type": "user.created", "data": {"blob": "x" * 300_000}}
    )
    assert too_big.status_code == 413


def test_openapi_callbacks_are_fired_to_the_url_the_request_names(
    tmp_path, receiver, corpus
) -> None:
    spec = corpus / "oai" / "v3.0" / "callback-example.yaml"
    settings = load_settings(
        spec, environ={}, overrides={"state": str(tmp_path / "s.sqlite"), **FAST}
    )
    app = create_app(spec, settings)
    try:
        client = app.test_client()
        made = client.post("/streams", query_string={"callbackUrl": receiver.url})
        assert made.status_code == 201, made.data
        (call,) = receiver.wait_for(1)
        assert call.path == "/hooks/data"  # '{$request.query.callbackUrl}/data'
        body = verify(call.body, call.headers, settings.signing_secret_for_callbacks)
        jsonschema.validate(
            body,
            {"type": "object", "properties": {"timestamp": {"type": "string"},
                                              "userData": {"type": "string"}}},
        )  # fmt: skip
        # a request that names no usable URL calls nobody
        client.post("/streams", query_string={"callbackUrl": "not a url"})
        time.sleep(0.3)
        assert len(receiver.received) == 1
    finally:
        app.extensions["sandbox"].webhooks.worker.stop()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{$request.body#/hooks/0/url}", "http://a.example/x"),
        ("{$request.header.Progress-Url}", "http://b.example/p"),
        ("{$request.path.id}/done", "42/done"),
        ("http://c.example/{$response.body#/id}?m={$method}", "http://c.example/r1?m=POST"),
        ("$request.query.cb", "http://d.example"),
        ("{$request.body#/missing}", None),
        ("{$response.header.Location}", None),
    ],
)
def test_runtime_expressions(template, expected) -> None:
    from werkzeug.datastructures import Headers, MultiDict

    from sandbox.webhooks.callbacks import CallbackContext, evaluate_template

    context = CallbackContext(
        url="http://sandbox/x", method="POST", path_params={"id": "42"},
        query=MultiDict({"cb": "http://d.example"}),
        headers=Headers({"progress-url": "http://b.example/p"}),
        request_body={"hooks": [{"url": "http://a.example/x"}]}, response_body={"id": "r1"},
        status=201,
    )  # fmt: skip
    assert evaluate_template(template, context) == expected


@pytest.mark.parametrize("ordered", [True, False])
def test_ordered_delivery_holds_later_events_behind_a_retry(sandbox, receiver, ordered) -> None:
    receiver.answer = lambda n: (500, {}, 0.0) if n <= 2 else (200, {}, 0.0)
    client, box = sandbox(webhook_ordered=ordered, webhook_backoff=0.2)
    client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["*"]})
    for number in range(3):
        client.post("/__sandbox/events", json={"type": "user.created", "data": {"n": number}})
    settled(box, 3)
    arrivals = [json.loads(r.body)["data"]["n"] for r in receiver.received]  # failures too
    assert len(arrivals) == 5  # three events, two failed attempts
    if ordered:  # event 0 is tried until it succeeds, and nothing overtakes it
        assert arrivals == [0, 0, 0, 1, 2]
    else:  # all three go out at once; the two that failed are retried later
        assert sorted(arrivals[:3]) == [0, 1, 2]


HIDDEN_FIELDS_SPEC = """
openapi: 3.0.3
info: {title: notes, version: "1"}
paths:
  /boards/{board_id}/notes:
    parameters: [{name: board_id, in: path, required: true, schema: {type: string}}]
    post:
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
      responses: {"201": {$ref: "#/components/responses/Note"}}
    get:
      responses:
        "200":
          description: the board's notes
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
  /notes/{note_id}:
    parameters: [{name: note_id, in: path, required: true, schema: {type: string}}]
    get:
      responses: {"200": {$ref: "#/components/responses/Note"}}
components:
  responses:
    Note:
      description: a note
      content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
  schemas:
    Note:
      type: object
      required: [text]
      properties:
        id: {type: string, readOnly: true}
        text: {type: string}
        password: {type: string, writeOnly: true}
"""


def test_an_event_carries_the_record_as_clients_see_it(tmp_path: Path, receiver) -> None:
    """An event's data is the record as a client sees it: nothing the sandbox keeps for its
    own use (the board a note was made on, which the board's list filters by and no answer
    shows) and no writeOnly field."""
    spec = tmp_path / "notes.yaml"
    spec.write_text(HIDDEN_FIELDS_SPEC)
    settings = load_settings(spec, environ={}, overrides={"state": ":memory:", **FAST})
    app = create_app(spec, settings)
    box = app.extensions["sandbox"]
    try:
        client = app.test_client()
        client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["*"]})
        made = client.post("/boards/b1/notes", json={"text": "hi", "password": "hunter2"})
        assert made.status_code == 201, made.data
        assert set(made.json) == {"id", "text"}
        (delivery,) = receiver.wait_for(1)
        event = json.loads(delivery.body)
        assert event["data"] == made.json
        assert b"hunter2" not in delivery.body
    finally:
        box.webhooks.worker.stop()


def test_a_create_whose_id_was_taken_announces_the_id_it_was_given(sandbox, receiver) -> None:
    """A seeded sandbox draws the same id for the same create twice; the second one's id is
    drawn again, and its event (its copy made before the write, then made anew) carries
    the id the answer shows, not the first draw."""
    client, _ = sandbox(seed=7)
    made = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["*"]})
    assert made.status_code == 201
    sent = {"name": "cpu", "values": [1, 2]}
    ids = [client.post("/v1/data", json=sent).json["data"]["id"] for _ in range(2)]
    assert ids[0] != ids[1]
    deliveries = receiver.wait_for(2)
    assert sorted(json.loads(d.body)["data"]["id"] for d in deliveries) == sorted(ids)
