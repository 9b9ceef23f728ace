"""Webhook destinations: no address form, name or DNS answer gets a delivery to the metadata
service or (when private ranges are off) inside the network, at either door."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from sandbox import create_app, load_settings
from sandbox.webhooks.safety import (
    DestinationPolicy,
    DestinationRefused,
    DestinationUnresolved,
    literal_address,
)
from tests.conftest import DEFAULT_SPEC
from tests.webhook_receiver import start_receiver

# the metadata service (and other never-allowed addresses), written every way a URL can
ALWAYS_REFUSED = [
    "http://169.254.169.254/latest/",
    "http://[::ffff:169.254.169.254]/latest/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
    "http://[::a9fe:a9fe]/",  # IPv4-compatible
    "http://[2002:a9fe:a9fe::1]/",  # 6to4
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64
    "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",  # Teredo, client 169.254.169.254
    "http://2852039166/",  # decimal
    "http://0xa9fea9fe/",  # hex
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://0251.0376.0251.0376/",  # octal
    "http://169.254.43518/",  # two parts
    "http://169.254.169.254./",  # trailing dot
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
    "http://100.100.100.200/",  # Alibaba metadata
    "http://0.0.0.0/",
    "http://[::ffff:0.0.0.0]/",
    "http://[::]/",
    "http://0/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "javascript:alert(1)",
    "data:text/plain,hello",
    "ftp://127.0.0.1/",
    "http:///no-host",
    "http://127.0.0.1:99999/",
]

# loopback and private ranges: fine for a developer's receiver, refused when turned off
PRIVATE = [
    "http://127.0.0.1:9000/hooks",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://10.1.2.3/",
    "http://192.168.0.10/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://[fc00::1]/",
    "http://localhost/",  # a name, resolved
    "http://LOCALHOST./",
]


def fixed(answers: dict[str, list[str]]):
    """A resolver with fixed answers (names the test makes up), refusing every other name."""

    def resolve(host: str, _port: int) -> list[str]:
        if host not in answers:
            raise OSError(-2, "Name or service not known")
        return answers[host]

    return resolve


@pytest.mark.parametrize("url", ALWAYS_REFUSED)
def test_never_to_metadata_reserved_or_non_http_destinations(url: str) -> None:
    with pytest.raises(DestinationRefused) as refused:
        DestinationPolicy(allow_private=True).check(url)
    assert not isinstance(refused.value, DestinationUnresolved), refused.value


@pytest.mark.parametrize("url", PRIVATE)
def test_private_destinations_follow_the_setting(url: str) -> None:
    DestinationPolicy(allow_private=True).check(url)
    with pytest.raises(DestinationRefused, match="webhook_allow_private"):
        DestinationPolicy(allow_private=False).check(url)


@pytest.mark.parametrize(
    ("written", "meant"),
    [("2852039166", "169.254.169.254"), ("0xa9fea9fe", "169.254.169.254"),
     ("0251.0376.0251.0376", "169.254.169.254"), ("169.254.43518", "169.254.169.254"),
     ("127.1", "127.0.0.1"), ("0x7f.0.1", "127.0.0.1"), ("10.0x10.1", "10.16.0.1"),
     ("1.2.3.4", "1.2.3.4"), ("::1", "::1")],
)  # fmt: skip
def test_numeric_hosts_mean_what_inet_aton_reads(written: str, meant: str) -> None:
    assert str(literal_address(written)) == meant


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x1g.1", "08.1.1.1", "1..2", ""]
)
def test_names_are_not_numbers(host: str) -> None:
    assert literal_address(host) is None


def test_every_address_a_name_resolves_to_is_checked() -> None:
    resolver = fixed({"mixed.test": ["93.184.216.34", "169.254.169.254"],
                      "inside.test": ["93.184.216.34", "10.0.0.7"],
                      "public.test": ["93.184.216.34", "2606:2800:220:1::1"]})  # fmt: skip
    policy = DestinationPolicy(allow_private=False, resolver=resolver)
    with pytest.raises(DestinationRefused, match="metadata"):
        policy.check("https://mixed.test/hook")
    with pytest.raises(DestinationRefused, match="private"):
        policy.check("https://inside.test/hook")
    checked = policy.check("https://public.test:8443/hook?x=1")
    assert [str(a) for a in checked.addresses] == ["93.184.216.34", "2606:2800:220:1::1"]
    assert (checked.host_header, checked.target) == ("public.test:8443", "/hook?x=1")


def test_a_name_that_does_not_resolve_yet_may_subscribe_but_not_be_sent_to() -> None:
    policy = DestinationPolicy(resolver=fixed({}))
    policy.admit("https://your-app.com/webhooks")  # the integration guide's placeholder
    with pytest.raises(DestinationUnresolved):
        policy.check("https://your-app.com/webhooks")


def test_with_dns_off_names_are_stored_but_never_looked_up_or_sent_to() -> None:
    def no_lookups(host: str, port: int) -> list[str]:
        raise AssertionError(f"looked up {host}")

    policy = DestinationPolicy(look_up_names=False, resolver=no_lookups)
    policy.admit("https://made-up.example/hooks")  # a subscription may name a host
    with pytest.raises(DestinationRefused, match="webhook_dns is off"):
        policy.check("https://made-up.example/hooks")  # but it gets no delivery
    assert str(policy.check("http://127.0.0.1:9000/h").addresses[0]) == "127.0.0.1"
    with pytest.raises(DestinationRefused, match="metadata"):
        policy.admit("http://[::ffff:a9fe:a9fe]/")  # literal addresses are still judged


def test_allowed_hosts_compare_normalised_names() -> None:
    policy = DestinationPolicy(
        allowed_hosts=frozenset({"Hooks.Example."}), resolver=fixed({"hooks.example": ["8.8.8.8"]})
    )
    policy.check("https://HOOKS.example./in")
    with pytest.raises(DestinationRefused, match="webhook_allowed_hosts"):
        policy.check("https://8.8.8.8/in")


def test_private_receivers_are_refused_by_default_beyond_loopback() -> None:
    assert load_settings(DEFAULT_SPEC, environ={}).private_webhooks is True
    shared = load_settings(DEFAULT_SPEC, environ={}, overrides={"host": "0.0.0.0"})
    assert shared.private_webhooks is False
    allowed = {"host": "0.0.0.0", "webhook_allow_private": "true"}
    assert load_settings(DEFAULT_SPEC, environ={}, overrides=allowed).private_webhooks is True


# -- both doors, through the app -------------------------------------------------------------
@pytest.fixture
def sandbox(tmp_path: Path):
    settings = load_settings(
        DEFAULT_SPEC, environ={},
        overrides={"state": str(tmp_path / "state.sqlite"), "webhook_backoff": 0.05,
                   "webhook_timeout": 1.0},
    )  # fmt: skip
    app = create_app(DEFAULT_SPEC, settings)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {settings.default_api_key}"
    box = app.extensions["sandbox"]
    yield client, box
    box.webhooks.worker.stop()


def use_resolver(box, resolver) -> None:
    policy = dataclasses.replace(box.webhooks.policy, resolver=resolver)
    box.webhooks.policy = box.webhooks.worker.policy = policy


@pytest.mark.parametrize("url", ALWAYS_REFUSED)
def test_both_doors_refuse_at_subscribe_time(sandbox, url: str) -> None:
    client, _ = sandbox
    admin = client.post("/__sandbox/webhooks", json={"url": url, "events": ["*"]})
    assert admin.status_code in (400, 422), admin.json  # not an http(s) URL / refused on meaning
    if url.lower().startswith(("http://", "https://")) and "///" not in url:
        assert admin.json["error"]["code"] == "destination_refused", admin.json
    api = client.post("/v1/webhooks", json={"url": url, "events": ["user.created"]})
    assert api.status_code == 400, api.json
    error = api.json["error"]  # the spec's own error shape
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["field"] == "url"
    assert url not in client.get("/v1/webhooks").get_data(as_text=True)
    assert url not in client.get("/__sandbox/webhooks").get_data(as_text=True)


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


HOOK = {"$ref": "#/components/schemas/Hook"}
HOOKS_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Hooks", "version": "1"},
    "paths": {
        "/hooks": {"post": {
            "requestBody": {"required": True, **_json(HOOK)},
            "responses": {"201": {"description": "made", **_json(HOOK)}},
        }},
        "/hooks/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "get": {"responses": {"200": {"description": "one", **_json(HOOK)}}},
            "patch": {
                "requestBody": {"required": True, **_json(HOOK)},
                "responses": {
                    "200": {"description": "changed", **_json(HOOK)},
                    "422": {"description": "refused", **_json(
                        {"type": "object", "properties": {"detail": {"type": "string"}}})},
                },
            },
        },
    },
    "components": {"schemas": {"Hook": {"type": "object", "properties": {
        "id": {"type": "string", "readOnly": True}, "url": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string"}},
    }}}},
}  # fmt: skip


def test_the_spec_door_checks_updates_too_in_the_specs_error_shape(tmp_path: Path) -> None:
    spec = tmp_path / "hooks.json"
    spec.write_text(json.dumps(HOOKS_SPEC))
    settings = load_settings(spec, environ={}, overrides={"state": str(tmp_path / "s.sqlite")})
    client = create_app(spec, settings).test_client()
    made = client.post("/hooks", json={"url": "http://127.0.0.1:9/h", "events": ["*"]})
    assert made.status_code == 201, made.json
    hook = made.json["id"]
    changed = client.patch(f"/hooks/{hook}", json={"url": "http://[::ffff:a9fe:a9fe]/"})
    assert changed.status_code == 422, changed.json  # the status this operation declares
    assert "metadata" in changed.json["detail"]
    assert client.get(f"/hooks/{hook}").json["url"] == "http://127.0.0.1:9/h"


def test_a_name_that_turns_bad_after_subscribing_is_refused_at_delivery(sandbox) -> None:
    client, box = sandbox
    answers = {"hooks.test": ["127.0.0.1"]}
    use_resolver(box, fixed(answers))
    made = client.post("/v1/webhooks", json={"url": "http://hooks.test:9/in", "events": ["*"]})
    assert made.status_code == 201, made.json
    answers["hooks.test"] = ["127.0.0.1", "169.254.169.254"]  # the name now points inside
    assert client.post("/__sandbox/events", json={"type": "user.created"}).status_code == 202
    log = settle(box)
    assert log["status"] == "failed" and len(log["attempt_log"]) == 1  # never retried
    assert log["attempt_log"][0]["error"].startswith("refused by policy")
    assert log["attempt_log"][0]["status"] is None  # nothing was sent


def test_the_connection_goes_to_the_checked_address_not_a_fresh_lookup(sandbox) -> None:
    """DNS rebinding: the name is resolved once, for the check, and the connection is made
    to that address. The name exists only in this test's resolver, so a client that looked
    it up again (as urllib3's PoolManager does) could not connect at all."""
    client, box = sandbox
    receiver = start_receiver()
    try:
        lookups: list[str] = []

        def resolver(host: str, port: int) -> list[str]:
            lookups.append(host)
            return ["127.0.0.1"] if len(lookups) == 1 else ["169.254.169.254"]

        use_resolver(box, resolver)
        url = f"http://rebind.test:{receiver.server.server_port}/hooks"
        assert client.post("/__sandbox/webhooks", json={"url": url}).status_code == 201
        lookups.clear()  # the subscribe-time check looked once; delivery looks again, once
        client.post("/__sandbox/events", json={"type": "user.created"})
        (got,) = receiver.wait_for(1)
        assert got.headers["Host"] == f"rebind.test:{receiver.server.server_port}"
        assert lookups == ["rebind.test"]
        assert settle(box)["status"] == "delivered"
    finally:
        receiver.close()


def settle(box, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = box.webhooks.outbox.find(limit=10)
        if found and all(d.status != "pending" for d in found):
            return found[0].as_dict()
        time.sleep(0.05)
    raise AssertionError("no delivery settled")
