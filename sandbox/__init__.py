"""Serve any OpenAPI 3.x document as a realistic, stateful sandbox."""

from sandbox.app import create_app
from sandbox.config.settings import Settings, load_settings
from sandbox.errors import ConfigError, SandboxError, SpecError
from sandbox.spec.model import Spec, load_spec

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
