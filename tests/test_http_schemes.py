"""HTTP authentication schemes other than Basic and Bearer (Digest, and any other name in
IANA's registry) challenge in their own name and take the test key through that scheme."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from sandbox import Settings
from tests.spec_helpers import app_for

SPEC = """\
openapi: 3.0.3
info: {title: Schemes, version: "1"}
components:
  securitySchemes:
    digest: {type: http, scheme: digest}
    hoba: {type: http, scheme: HOBA}
paths:
  /digest:
    get:
      security: [{digest: []}]
      responses: {"204": {description: ok}}
  /hoba:
    get:
      security: [{hoba: []}]
      responses: {"204": {description: ok}}
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> tuple[FlaskClient, Settings]:
    return app_for(tmp_path_factory, SPEC)


def test_digest_challenges_as_digest(app: tuple[FlaskClient, Settings]) -> None:
    client, _ = app
    response = client.get("/digest")
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Digest realm="sandbox"')
    assert "nonce=" in challenge and 'qop="auth"' in challenge
    assert "Authorization: Digest <key>" in response.get_json()["error"]["message"]


def test_digest_takes_the_key_through_digest_not_bearer(app: tuple[FlaskClient, Settings]) -> None:
    client, settings = app
    key = settings.default_api_key
    assert client.get("/digest", headers={"Authorization": f"Digest {key}"}).status_code == 204
    digest_style = (
        f'Digest username="{key}", realm="sandbox", nonce="abc", uri="/digest", '
        'response="0123456789abcdef", qop=auth, nc=00000001, cnonce="xyz"'
    )
    assert client.get("/digest", headers={"Authorization": digest_style}).status_code == 204
    assert client.get("/digest", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    wrong = client.get("/digest", headers={"Authorization": "Digest sk_test_nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_api_key"


def test_any_other_registered_scheme_in_its_own_name(app: tuple[FlaskClient, Settings]) -> None:
    client, settings = app
    response = client.get("/hoba")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Hoba realm="sandbox"'
    key = settings.default_api_key
    assert client.get("/hoba", headers={"Authorization": f"HOBA {key}"}).status_code == 204
    assert client.get("/hoba", headers={"Authorization": f"Bearer {key}"}).status_code == 401
