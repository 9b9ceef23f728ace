"""Answers as a vendor's API gives them (issue 18): errors in the spec's own error schema, with
enum fields chosen by meaning; the request's path id echoed by meaning; ids with the prefix the
spec shows; deletes that say so; query filters reflected; key patterns. Each rule is shown on
a small spec written here, so the rule, not one vendor, is what is tested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from sandbox import create_app, load_settings


def _client(tmp_path: Path, document: dict[str, Any], **overrides: Any) -> FlaskClient:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                                **document}))  # fmt: skip
    settings = load_settings(
        spec, environ={}, overrides={"state": ":memory:", "seed": 3, "spec_cache": "off",
                                     **overrides},
    )  # fmt: skip
    return create_app(spec, settings).test_client()


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# --- key patterns ---------------------------------------------------------------------------

SECURED = {
    "paths": {"/things": {"get": {"responses": {"200": _json({"type": "object"})}}}},
    "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
    "security": [{"key": []}],
}


def test_a_key_pattern_accepts_the_family_of_keys_it_names(tmp_path: Path) -> None:
    client = _client(tmp_path, SECURED, api_keys=["sk_test_*", "AC0123:secret"])
    bearer = {"Authorization": "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc"}
    assert client.get("/things", headers=bearer).status_code == 200
    assert client.get("/things", headers={"Authorization": "Bearer sk_live_x"}).status_code == 401
    literal = {"Authorization": "Bearer AC0123:secret"}
    assert client.get("/things", headers=literal).status_code == 200
