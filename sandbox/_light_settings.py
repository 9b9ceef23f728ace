"""openapi-schema-validator's one setting, read without pydantic-settings.

openapi-schema-validator (0.8, 0.9) imports ``openapi_schema_validator.settings`` from its
package ``__init__``, and that module builds a pydantic-settings model for a single number:
how many compiled validators its ``validate()`` shortcut keeps. The sandbox never calls that
shortcut, yet importing the package for its validator classes loads pydantic, pydantic-core
and pydantic-settings: 11-12 MB of RSS in every process (the server and each forked worker,
~30 MB of a default ``serve``'s 230) and ~80 ms of every start (``bench/startup_bench.py``).

:func:`install` puts a module with the same three names in its place before the package is
first imported: the same environment variable (``OPENAPI_SCHEMA_VALIDATOR_`` prefix, any case,
as pydantic-settings reads it), the same default and lower bound, a value that is not a
whole number of at least 0 refused as the original refuses it (at the first ``validate()``).
If the package has been imported before, its own module stays. ``tests/test_light_settings.py``
fails when the original's settings change (another field, prefix or default), so that the
stand-in is brought up to date with the release that changed them.
"""

from __future__ import annotations

import os
import re
import sys
import types
from dataclasses import dataclass
from functools import lru_cache

NAME = "openapi_schema_validator.settings"
PREFIX = "OPENAPI_SCHEMA_VALIDATOR_"
DEFAULT_CACHE_SIZE = 128
_WHOLE = re.compile(r"([+-]?\d(?:_?\d)*)(?:\.0*)?")  # as pydantic's lax int reads a string


@dataclass(frozen=True)
class LightSettings:
    compiled_validator_cache_max_size: int = DEFAULT_CACHE_SIZE


def _env(name: str) -> str | None:
    wanted = (PREFIX + name).lower()
    for key, value in os.environ.items():
        if key.lower() == wanted:
            return value
    return None


@lru_cache(maxsize=1)
def get_settings() -> LightSettings:
    text = _env("compiled_validator_cache_max_size")
    if text is None:
        return LightSettings()
    whole = _WHOLE.fullmatch(text.strip())
    size = int(whole[1]) if whole else -1
    if size < 0:
        raise ValueError(
            f"{PREFIX}COMPILED_VALIDATOR_CACHE_MAX_SIZE={text!r}: a whole number of 0 or more"
        )
    return LightSettings(size)


def reset_settings_cache() -> None:
    get_settings.cache_clear()


def install() -> bool:
    """Put the stand-in in place, unless openapi-schema-validator has been imported already
    (then its own settings stay); whether the stand-in is the one in use. Cheap: nothing is
    imported here, so every ``sandbox`` command may call it first."""
    if "openapi_schema_validator" not in sys.modules:
        sys.modules.setdefault(NAME, _module)
    return sys.modules.get(NAME) is _module


_module = types.ModuleType(NAME, __doc__)
_module.get_settings = get_settings  # type: ignore[attr-defined]
_module.reset_settings_cache = reset_settings_cache  # type: ignore[attr-defined]
_module.OpenAPISchemaValidatorSettings = LightSettings  # type: ignore[attr-defined]
