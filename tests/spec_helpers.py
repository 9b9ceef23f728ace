"""Helpers for the tests of hand-written specs: an app for a spec's text, and `sandbox serve`
run for a few seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sandbox import Settings, create_app, load_settings


def app_for(tmp_path_factory: pytest.TempPathFactory, text: str) -> tuple[FlaskClient, Settings]:
    """A test client (and its settings) for a spec given as YAML text, state in memory."""
    return served_text(Path(tmp_path_factory.mktemp("spec")), text)


def served_text(
    folder: Path, text: str, name: str = "api.yaml", **overrides: object
) -> tuple[FlaskClient, Settings]:
    """The spec ``text`` written to ``folder/name`` and served by a test client, with a
    throwaway state and no SANDBOX_* setting from the environment; ``overrides`` add to it."""
    path = folder / name
    path.write_text(text)
    settings = load_settings(path, environ={}, overrides={"state": ":memory:", **overrides})
    return create_app(path, settings).test_client(), settings


def serve_briefly(path: Path, *flags: str, seconds: float = 8) -> tuple[int | None, str]:
    """Run `sandbox serve` for a few seconds: (its exit code, or None when it was still
    serving and was stopped; its stderr)."""
    command = [sys.executable, "-m", "sandbox", "serve", str(path), "--port", "0",
               "--state", ":memory:", "--spec-cache", "off", "--server", "gunicorn",
               "--workers", "1", *flags]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            _, err = process.communicate(timeout=seconds)
            return process.returncode, err
        except subprocess.TimeoutExpired:
            process.terminate()
            return None, process.communicate(timeout=20)[1]
