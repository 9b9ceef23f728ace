"""The dashboard at ``/__sandbox/`` (placeholder until built)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

if TYPE_CHECKING:
    from sandbox.app import Sandbox


def dashboard_blueprint(sandbox: Sandbox) -> Blueprint:
    return Blueprint("sandbox_dashboard", __name__)
