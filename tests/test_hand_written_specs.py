"""A hundred-odd small specs written the way people post them (unquoted status codes, no
info, Swagger 2.0 and OpenAPI 3.0/3.1, XML and vendor media types, every parameter style,
range-only responses, other auth schemes): each is served with no traceback and answers its
request as written here; `--strict` refuses exactly the invalid ones, with exit 2.

The specs are generated from the tables below (families of small variations), so each row
says what is special about its spec, the request, and the answer a mock server should give.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sandbox import create_app, load_settings
from sandbox.cli import main
from tests.spec_helpers import serve_briefly
from tests.test_parameter_styles import ROWS as STYLE_ROWS
from tests.test_parameter_styles import SCHEMAS as STYLE_SCHEMAS

THING = "{type: object, required: [id], properties: {id: {type: integer}, name: {type: string}}}"


@dataclass
class Case:
    name: str
    text: str  # the spec, YAML as a person writes it
    request: tuple[str, str]  # method, path
    status: int
    invalid: bool  # breaks the OpenAPI schema: --strict refuses it
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # sent as JSON, or a dict of form fields with form=True
    form: bool = False
    expect: Callable[[Any], bool] = lambda _response: True


def head(version: str, info: str = "info: {title: T, version: '1'}") -> str:
    first = "swagger: '2.0'" if version == "2.0" else f"openapi: {version}"
    return f"{first}\n{info}\n"


def _json_id(response: Any) -> bool:
    return isinstance(response.get_json().get("id"), int)


# -- A: status codes YAML reads as numbers -------------------------------------------------
def unquoted_codes() -> list[Case]:
    cases = []
    for version in ("3.0.3", "3.1.0", "2.0"):
        for code in (200, 201, 202, 204):
            method = "post" if code == 201 else "get"
            if version == "2.0":
                answer = (
                    f"{code}: {{description: ok, schema: {THING}}}"
                    if code != 204
                    else f"{code}: {{description: none}}"
                )
            else:
                answer = (
                    (
                        f"{code}: {{description: ok, content: {{application/json: "
                        f"{{schema: {THING}}}}}}}"
                    )
                    if code != 204
                    else f"{code}: {{description: none}}"
                )
            text = (
                head(version) + f"paths:\n  /things:\n    {method}:\n      responses:\n"
                f"        {answer}\n        404: {{description: missing}}\n"
            )
            cases.append(
                Case(
                    f"unquoted {code} {version}",
                    text,
                    (method.upper(), "/things"),
                    code,
                    True,
                    expect=_json_id if code != 204 else lambda r: True,
                )
            )
    return cases


# -- B: cosmetic problems: served with warnings ----------------------------------------------
RESPONSE = "'200': {description: ok, content: {application/json: {schema: " + THING + "}}}"
COSMETIC: list[tuple[str, str, str, bool]] = [  # name, info line, response line, invalid (3.0)
    ("no info", "x-note: none", RESPONSE, True),
    ("no version", "info: {title: T}", RESPONSE, True),
    ("version a number", "info: {title: T, version: 1.0}", RESPONSE, True),
    ("version a date", "info: {title: T, version: 2024-05-01}", RESPONSE, False),
    ("no title", "info: {version: '2'}", RESPONSE, True),
    (
        "no description",
        "info: {title: T, version: '1'}",
        "'200': {content: {application/json: {schema: " + THING + "}}}",
        True,
    ),
    (
        "stray key under content",
        "info: {title: T, version: '1'}",
        "'200': {content: {description: ok, application/json: {schema: " + THING + "}}}",
        True,
    ),
    (
        "unknown operation key",
        "info: {title: T, version: '1'}\nx-k: 1",
        RESPONSE + ", summery: typo",
        True,
    ),
    (
        "extension keys",
        "info: {title: T, version: '1', x-logo: {url: x}}",
        "'200': {description: ok, x-internal: true, content: {application/json: {schema: "
        + THING
        + "}}}",
        False,
    ),
    (
        "contact email malformed",
        "info: {title: T, version: '1', contact: {email: nope}}",
        RESPONSE,
        True,
    ),
]


def cosmetic() -> list[Case]:
    cases = []
    for version in ("3.0.3", "3.1.0"):
        for name, info, response, invalid in COSMETIC:
            text = (
                head(version, info) + f"paths:\n  /things:\n    get:\n      responses:\n"
                f"        {response}\n"
            )
            if name == "unknown operation key":
                text = text.replace(", summery: typo", "") + "      summery: typo\n"
            if name == "contact email malformed" and version != "3.0.3":
                invalid = False  # 3.1's schema does not assert formats
            cases.append(
                Case(f"{name} {version}", text, ("GET", "/things"), 200, invalid, expect=_json_id)
            )
    return cases


# -- C: media types other than application/json -----------------------------------------------
MEDIA: list[tuple[str, str, str]] = [  # media type, schema, example (a string: the body)
    ("application/xml", "{type: object}", '<thing id="1"><name>Ada &amp; co</name></thing>'),
    ("text/xml", "{type: string}", "<ok/>"),
    ("text/plain", "{type: string}", "pong & <more>"),
    ("text/csv", "{type: string}", "id,name\n1,Ada\n"),
    ("text/html", "{type: string}", "<p>Hi</p>"),
    ("application/vnd.api+json", THING, '{"id": 1}'),
    ("application/hal+json", THING, '{"id": 2}'),
    ("application/problem+json", "{type: object}", '{"title": "x"}'),
]


def media_types() -> list[Case]:
    cases = []
    for version in ("3.0.3", "3.1.0"):
        for media, schema, example in MEDIA:
            json_like = media.endswith("json")
            value = json.loads(example) if json_like else example
            text = (
                head(version) + "paths:\n  /things:\n    get:\n      responses:\n"
                "        '200':\n          description: ok\n          content:\n"
                f"            {media}:\n              schema: {schema}\n"
                f"              example: {json.dumps(value)}\n"
            )
            expected: Callable[[Any], bool] = (
                (lambda r, v=value: r.get_json() == v)
                if json_like
                else (
                    lambda r, e=example, m=media: r.get_data(as_text=True) == e and r.mimetype == m
                )
            )
            cases.append(
                Case(
                    f"{media} {version}",
                    text,
                    ("GET", "/things"),
                    200,
                    False,
                    headers={"Accept": f"{media}; charset=utf-8", "Prefer": "dynamic=false"},
                    expect=expected,
                )
            )
    return cases


# -- D: every parameter style ------------------------------------------------------------------
def styles() -> list[Case]:
    cases = []
    for location, style, explode, shape, valid, _ in STYLE_ROWS:
        schema = json.dumps(STYLE_SCHEMAS[shape])
        path = "/things/{p}" if location == "path" else "/things"
        text = (
            head("3.0.3") + f"paths:\n  {path}:\n    get:\n      parameters:\n"
            f"        - {{name: p, in: {location}, required: true, style: {style}, "
            f"explode: {str(explode).lower()}, schema: {schema}}}\n"
            "      responses:\n        '204': {description: ok}\n"
        )
        headers: dict[str, str] = {}
        url = "/things"
        if location in ("query", "path"):
            url += valid
        elif location == "header":
            headers["p"] = valid
        else:
            headers["Cookie"] = f"p={valid}"
        cases.append(
            Case(
                f"{location} {style} explode={explode} {shape}",
                text,
                ("GET", url),
                204,
                False,
                headers=headers,
            )
        )
    return cases


# -- E: responses declared only as ranges or default ------------------------------------------
RANGES: list[tuple[tuple[str, ...], int, str]] = [  # declared, status answered, from
    (("4XX",), 400, "4XX"),
    (("5XX",), 500, "5XX"),
    (("5XX", "4XX"), 400, "4XX"),
    (("default",), 200, "default"),
    (("2XX",), 200, "2XX"),
    (("3XX",), 300, "3XX"),
]


def ranges() -> list[Case]:
    cases = []
    for version in ("3.0.3", "3.1.0"):
        for declared, status, source in RANGES:
            lines = "".join(
                f"        {code}: {{description: d, content: {{application/json: "
                f"{{schema: {THING}}}}}}}\n"
                for code in declared
            )
            text = head(version) + "paths:\n  /things:\n    get:\n      responses:\n" + lines
            cases.append(
                Case(
                    f"only {'+'.join(declared)} {version}",
                    text,
                    ("GET", "/things"),
                    status,
                    False,
                    expect=lambda r, s=source: (
                        r.headers["X-Sandbox-Status-From"] == s and _json_id(r)
                    ),
                )
            )
    return cases


def array_query(collection_format: str) -> str:
    return (
        "get:\n      parameters: [{name: n, in: query, type: array, items: {type: integer}, "
        f"collectionFormat: {collection_format}}}]"
    )


# -- F: Swagger 2.0 as people write it ---------------------------------------------------------
SWAGGER_OPS: list[tuple[str, str, tuple[str, str], int, dict[str, Any]]] = [
    (
        "query integer",
        "get:\n      parameters: [{name: n, in: query, type: integer, required: true}]",
        ("GET", "/things?n=3"),
        200,
        {},
    ),
    (
        "empty query refused",
        "get:\n      parameters: [{name: n, in: query, type: string, required: true}]",
        ("GET", "/things?n="),
        400,
        {},
    ),
    (
        "multi",
        array_query("multi"),
        ("GET", "/things?n=1&n=2"),
        200,
        {},
    ),
    (
        "pipes",
        array_query("pipes"),
        ("GET", "/things?n=1|2"),
        200,
        {},
    ),
    (
        "ssv",
        array_query("ssv"),
        ("GET", "/things?n=1%202"),
        200,
        {},
    ),
    (
        "body",
        "post:\n      parameters: [{name: b, in: body, required: true, schema: " + THING + "}]",
        ("POST", "/things"),
        200,
        {"body": {"id": 1}},
    ),
    (
        "form",
        "post:\n      consumes: [application/x-www-form-urlencoded]\n"
        "      parameters: [{name: name, in: formData, type: string, required: true}]",
        ("POST", "/things"),
        200,
        {"body": {"name": "Ada"}, "form": True},
    ),
    (
        "empty form refused",
        "post:\n      consumes: [application/x-www-form-urlencoded]\n"
        "      parameters: [{name: name, in: formData, type: string, required: true}]",
        ("POST", "/things"),
        400,
        {"body": {"name": ""}, "form": True},
    ),
    (
        "produces xml",
        "get:\n      produces: [application/xml]",
        ("GET", "/things"),
        200,
        {"expect": lambda r: r.mimetype == "application/xml"},
    ),
    (
        "basic auth",
        "get:\n      security: [{basic: []}]",
        ("GET", "/things"),
        200,
        {"auth": "basic"},
    ),
]


def swagger() -> list[Case]:
    cases = []
    for name, operation, request, status, extra in SWAGGER_OPS:
        text = (
            head("2.0") + "securityDefinitions: {basic: {type: basic}}\n"
            f"paths:\n  /things:\n    {operation}\n      responses:\n"
            f"        200: {{description: ok, schema: {THING}}}\n"
        )
        case = Case(
            f"swagger {name}",
            text,
            request,
            status,
            True,
            body=extra.get("body"),
            form=extra.get("form", False),
        )
        if "expect" in extra:
            case.expect = extra["expect"]
        if extra.get("auth") == "basic":
            case.headers["Authorization"] = "KEY-BASIC"
        cases.append(case)
    return cases


# -- G: authentication schemes ------------------------------------------------------------------
SCHEMES: list[tuple[str, str, str, str]] = [  # name, scheme, header, value template
    ("api key header", "{type: apiKey, in: header, name: X-Api-Key}", "X-Api-Key", "{key}"),
    ("api key cookie", "{type: apiKey, in: cookie, name: session}", "Cookie", "session={key}"),
    ("bearer", "{type: http, scheme: bearer, bearerFormat: JWT}", "Authorization", "Bearer {key}"),
    ("digest", "{type: http, scheme: digest}", "Authorization", "Digest {key}"),
    (
        "digest username",
        "{type: http, scheme: Digest}",
        "Authorization",
        'Digest username="{key}", realm="sandbox", response="0a1b"',
    ),
    ("basic", "{type: http, scheme: basic}", "Authorization", "KEY-BASIC"),
]


def schemes() -> list[Case]:
    cases = []
    for version in ("3.0.3", "3.1.0"):
        for name, scheme, header, value in SCHEMES:
            text = (
                head(version) + f"components: {{securitySchemes: {{s: {scheme}}}}}\n"
                "security: [{s: []}]\npaths:\n  /things:\n    get:\n      responses:\n"
                f"        {RESPONSE}\n"
            )
            cases.append(
                Case(
                    f"{name} {version}",
                    text,
                    ("GET", "/things"),
                    200,
                    False,
                    headers={header: value},
                    expect=_json_id,
                )
            )
    return cases


CASES = unquoted_codes() + cosmetic() + media_types() + styles() + ranges() + swagger() + schemes()


def test_there_are_at_least_a_hundred_specs() -> None:
    assert len(CASES) >= 100
    assert len({case.name for case in CASES}) == len(CASES)


def _write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / "api.yaml"
    path.write_text(case.text)
    return path


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_spec_is_served_and_answers_as_written(tmp_path: Path, case: Case) -> None:
    path = _write(tmp_path, case)
    settings = load_settings(path, environ={}, overrides={"state": ":memory:", "spec_cache": "off"})
    client = create_app(path, settings).test_client()
    headers = {
        name: value.replace("{key}", settings.default_api_key)
        for name, value in case.headers.items()
    }
    if headers.get("Authorization") == "KEY-BASIC":
        pair = f"{settings.default_api_key}:".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    cookie = headers.pop("Cookie", None)
    if cookie is not None:
        client.set_cookie(*cookie.split("=", 1))
    method, url = case.request
    if case.form:
        response = client.open(url, method=method, data=case.body, headers=headers)
    elif case.body is not None:
        response = client.open(url, method=method, json=case.body, headers=headers)
    else:
        response = client.open(url, method=method, headers=headers)
    assert response.status_code == case.status, response.data[:500]
    assert case.expect(response), (response.headers, response.data[:500])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_check_serves_each_and_strict_refuses_the_invalid_ones(tmp_path: Path, case: Case) -> None:
    path = _write(tmp_path, case)
    runner = CliRunner()
    served = runner.invoke(main, ["check", "--spec-cache", "off", str(path)])
    assert served.exit_code == 0 and served.exception is None, served.output
    strict = runner.invoke(main, ["check", "--strict", "--spec-cache", "off", str(path)])
    assert "Traceback" not in strict.output and not isinstance(strict.exception, KeyError)
    assert strict.exit_code == (2 if case.invalid else 0), strict.output
    if case.invalid:
        assert f"{path}" in strict.output and "error: cannot serve this spec" in strict.output


def test_sandbox_serve_prints_warnings_and_strict_exits_2(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "unquoted 200 3.0.3")
    path = _write(tmp_path, case)
    code, err = serve_briefly(path)
    assert code is None, err
    assert "OpenAPI sandbox" in err and "warning:" in err and "the key 200" in err, err
    assert "Traceback" not in err
    code, err = serve_briefly(path, "--strict")
    assert code == 2 and f"{path}:7" in err and "Traceback" not in err, err
