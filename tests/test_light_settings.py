"""The stand-in for openapi-schema-validator's settings (sandbox/_light_settings.py).

It keeps pydantic out of every sandbox process (11-12 MB and ~80 ms each); these tests hold
it to the original: the same settings, read from the environment the same way, and a serve
path that really does not import pydantic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = "OPENAPI_SCHEMA_VALIDATOR_COMPILED_VALIDATOR_CACHE_MAX_SIZE"


def _python(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("OPENAPI_SCHEMA")}
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


READ = """
import json, sys
{setup}
from openapi_schema_validator._caches import get_settings
try:
    print(json.dumps(get_settings().compiled_validator_cache_max_size))
except ValueError:
    print(json.dumps("refused"))
"""


def test_the_original_settings_are_the_ones_the_stand_in_has() -> None:
    """Fails when a release of openapi-schema-validator changes its settings: then bring
    the stand-in up to date (or drop it, if the release no longer needs pydantic)."""
    said = json.loads(
        _python(
            "import json\n"
            "import openapi_schema_validator.settings as s\n"
            "model = s.OpenAPISchemaValidatorSettings\n"
            "fields = {n: f.default for n, f in model.model_fields.items()}\n"
            "names = sorted(n for n in vars(s) if not n.startswith('_') and callable(vars(s)[n])\n"
            "               and getattr(vars(s)[n], '__module__', '') == s.__name__)\n"
            "print(json.dumps({'fields': fields, 'prefix': model.model_config['env_prefix'],\n"
            "                  'case': model.model_config.get('case_sensitive'), 'names': names}))"
        )
    )
    from sandbox import _light_settings as light

    assert said["fields"] == {"compiled_validator_cache_max_size": light.DEFAULT_CACHE_SIZE}
    assert said["prefix"] == light.PREFIX
    assert not said["case"]
    assert set(said["names"]) <= set(vars(light._module))


@pytest.mark.parametrize(
    "value", ["5", "0", " 7 ", "7.0", "+3", "1_000", "-0", "-1", "x", "7.5", "", "1e2"]
)
def test_a_value_in_the_environment_reads_as_the_original_reads_it(value: str) -> None:
    original = _python(READ.format(setup=""), **{VARIABLE: value})
    stand_in = _python(READ.format(setup="import sandbox"), **{VARIABLE: value})
    assert stand_in == original


def test_the_variable_is_read_in_any_case_as_pydantic_settings_reads_it() -> None:
    code = READ.format(setup="import sandbox")
    assert _python(code, **{VARIABLE.lower(): "9"}) == "9"
    assert _python(code) == "128"


def test_a_served_app_loads_no_pydantic() -> None:
    """What ``sandbox serve openapi.yaml`` builds before it forks its workers."""
    loaded = _python(
        "import sys\n"
        "from sandbox import create_app, load_settings\n"
        "import sandbox.serving.granian_server, sandbox.cli.serve\n"
        "s = load_settings('openapi.yaml', environ={}, overrides={'state': ':memory:'})\n"
        "app = create_app('openapi.yaml', s)\n"
        "assert app.test_client().get('/v1/users').status_code == 401\n"
        "print(sorted({n.partition('.')[0] for n in sys.modules} & {'pydantic', 'pydantic_core',"
        " 'pydantic_settings'}))"
    )
    assert loaded == "[]"


def test_the_package_imported_first_keeps_its_own_settings() -> None:
    said = _python(
        "import openapi_schema_validator, sys\n"
        "import sandbox\n"
        "from sandbox import _light_settings\n"
        "print(_light_settings.install(), type(sys.modules['openapi_schema_validator.settings']"
        ".get_settings()).__name__)"
    )
    assert said == "False OpenAPISchemaValidatorSettings"
