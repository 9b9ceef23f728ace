"""Hand-written specs load as meant: YAML-typed keys, cosmetic problems and stray keys are
warnings, what cannot be served is refused with file, line and pointer, never a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox import SpecError, create_app, load_settings, load_spec
from sandbox.cli import main

UNQUOTED = """\
openapi: 3.0.3
info: {title: Unquoted, version: 2024-01-31}
paths:
  /items:
    get:
      responses:
        200:
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  on: {type: boolean}
                  id: {type: integer}
        4xx: {description: client error}
"""

STRAY = """\
openapi: 3.0.3
info: {title: Stray}
paths:
  /items:
    get:
      responses:
        '200':
          content:
            description: ok
            application/json:
              schema: {type: object, properties: {id: {type: integer}}, required: [id]}
"""


def write(tmp_path: Path, text: str, name: str = "api.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--spec-cache", "off", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_keys_yaml_types_are_read_as_written_with_one_warning(tmp_path: Path) -> None:
    path = write(tmp_path, UNQUOTED)
    spec = load_spec(path, lenient=True)
    operation = spec.operations[0]
    assert sorted(operation.responses) == ["200", "4XX"]
    schema = operation.responses["200"]["content"]["application/json"]["schema"]
    assert list(schema["properties"]) == ["on", "id"]  # not True
    assert spec.info["version"] == "2024-01-31"  # not a date
    assert any(
        f"{path}:7: the key 200" in warning and "1 more key like it" in warning
        for warning in spec.warnings
    )
    code, output = check(str(path))
    assert code == 0 and "warning:" in output and "ok: Unquoted" in output


def test_strict_refuses_what_lenient_serves_with_file_line_and_pointer(tmp_path: Path) -> None:
    path = write(tmp_path, UNQUOTED)
    code, output = check("--strict", str(path))
    assert code == 2
    assert f"{path}:7" in output and "at /paths/~1items/get/responses/200" in output
    with pytest.raises(SpecError, match="the key 200"):
        load_spec(path)  # the library's default is strict


def test_numbers_where_strings_are_meant_are_mended(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "openapi: 3.0\ninfo: {title: 7, version: 1.0}\n"
        "paths: {/a: {get: {responses: {'204': {description: none}}}}}\n",
    )
    spec = load_spec(path, lenient=True)
    assert (spec.openapi, spec.title, spec.info["version"]) == ("3.0", "7", "1.0")
    assert check(str(path))[0] == 0
    assert check("--strict", str(path))[0] == 2


def test_cosmetic_problems_are_warnings_by_default(tmp_path: Path) -> None:
    path = write(tmp_path, STRAY)
    code, output = check(str(path))
    assert code == 0
    assert "'description' under content is not a media type" in output
    assert '"version" is a required property' in output
    code, output = check("--strict", str(path))
    assert code == 2 and f"{path}:9" in output


def test_a_stray_key_under_content_is_skipped_not_a_500(tmp_path: Path) -> None:
    path = write(tmp_path, STRAY)
    settings = load_settings(path, environ={}, overrides={"state": ":memory:", "spec_cache": "off"})
    client = create_app(path, settings).test_client()
    for accept in (None, "application/json", "*/*"):
        response = client.get("/items", headers={"Accept": accept} if accept else {})
        assert response.status_code == 200, response.data
        assert response.mimetype == "application/json"
        assert isinstance(response.get_json()["id"], int)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("get:\n", "get:\n      parameters: {limit: 1}\n"), "/paths/~1items/get/parameters"),
        (("schema: {type: object", "schema: {type: 7"), "/schema/type"),
        (("properties: {id: {type: integer}}", "properties: [id]"), "/schema/properties"),
    ],
)
def test_what_cannot_be_served_is_refused_by_default(
    tmp_path: Path, change: tuple[str, str], where: str
) -> None:
    path = write(tmp_path, STRAY.replace(*change))
    code, output = check(str(path))
    assert code == 2, output
    assert "cannot be served" in output and where in output and f"{path}:" in output
