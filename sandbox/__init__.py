"""Serve any OpenAPI 3.x document as a realistic, stateful sandbox.

The names below are imported when first used, not with the package: every ``sandbox``
command imports this package first, and importing the app with it cost each of them,
``sandbox --help`` included, about half a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sandbox import _light_settings

_light_settings.install()  # before anything imports openapi-schema-validator: why, there

if TYPE_CHECKING:
    from sandbox.app import create_app
    from sandbox.config.settings import Settings, load_settings
    from sandbox.errors import ConfigError, SandboxError, SpecError
    from sandbox.spec.model import Spec, load_spec

_WHERE = {
    "ConfigError": "sandbox.errors",
    "SandboxError": "sandbox.errors",
    "SpecError": "sandbox.errors",
    "Settings": "sandbox.config.settings",
    "load_settings": "sandbox.config.settings",
    "Spec": "sandbox.spec.model",
    "load_spec": "sandbox.spec.model",
    "create_app": "sandbox.app",
}

__all__ = [
    "ConfigError",
    "SandboxError",
    "Settings",
    "Spec",
    "SpecError",
    "create_app",
    "load_settings",
    "load_spec",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups do not come here
    return value
