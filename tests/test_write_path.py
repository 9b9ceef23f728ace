"""What a create costs the state file: one write transaction, a handful of statements.

A create writes its record, its unique values and its webhook deliveries in one transaction
of the state file, and reads nothing else there per request: who subscribes, the scenario
board and which tenants are seeded are kept per process while nobody changes them. Counted
on the request's own connection (SQLite's trace hook), so the bound catches a statement
added to every create, the way subscription reads once were (15 statements then, 5 now)."""

from __future__ import annotations

from pathlib import Path

from sandbox import create_app, load_settings

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def _client(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = load_settings(
        SPEC, environ={},
        overrides={"state": str(tmp_path / "state.sqlite"), "rate_limits": "", "workers": 2,
                   "journal_size": 0},
    )  # fmt: skip
    app = create_app(SPEC, settings)
    return app.test_client(), app.extensions["sandbox"], settings


def test_a_create_is_one_write_transaction_of_few_statements(tmp_path: Path) -> None:
    client, sandbox, settings = _client(tmp_path)
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    first = client.post("/v1/users", json={"name": "Ada", "email": "ada@example.com"}, headers=auth)
    assert first.status_code == 201  # the tenant is seeded by now
    statements: list[str] = []
    sandbox.backend.file.db.set_trace_callback(statements.append)
    made = client.post("/v1/users", json={"name": "Bo", "email": "bo@example.com"}, headers=auth)
    sandbox.backend.file.db.set_trace_callback(None)
    assert made.status_code == 201
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"], statements
    assert len(statements) <= 6, statements


def test_a_subscription_made_meanwhile_hears_the_next_create(tmp_path: Path) -> None:
    """The copy of "nobody listens" ends with the first subscription, through either door."""
    client, sandbox, settings = _client(tmp_path)
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    body = {"name": "Ada", "email": "ada@example.com"}
    assert client.post("/v1/users", json=body, headers=auth).status_code == 201
    assert sandbox.webhooks.outbox.find() == []
    hook = {"url": "http://127.0.0.1:9/hooks", "events": ["user.created"], "secret": "s3cret"}
    assert client.post("/__sandbox/webhooks", json=hook).status_code == 201
    body = {"name": "Bo", "email": "bo@example.com"}
    assert client.post("/v1/users", json=body, headers=auth).status_code == 201
    assert [d.event_type for d in sandbox.webhooks.outbox.find()] == ["user.created"]
    # the spec's own subscription endpoint: that tenant's records
    own = {"url": "http://127.0.0.1:9/own", "events": ["user.created"]}
    assert client.post("/v1/webhooks", json=own, headers=auth).status_code == 201
    body = {"name": "Cy", "email": "cy@example.com"}
    assert client.post("/v1/users", json=body, headers=auth).status_code == 201
    urls = sorted(d.url for d in sandbox.webhooks.outbox.find(event_type="user.created"))
    assert urls == [
        "http://127.0.0.1:9/hooks",
        "http://127.0.0.1:9/hooks",
        "http://127.0.0.1:9/own",
    ]
