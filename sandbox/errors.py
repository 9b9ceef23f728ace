"""Errors the user must act on: each says what is wrong, where, and what to do."""

from __future__ import annotations

from pathlib import Path


class SandboxError(Exception):
    """Base class for every error the sandbox raises on purpose."""


class SpecError(SandboxError):
    """The OpenAPI document cannot be served as it is.

    Carries the file and the location (JSON pointer and, when known, the line) so the
    message points the user straight at the problem.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str,
        pointer: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = Path(file)
        self.pointer = pointer
        self.line = line
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.message}"
        if self.pointer:
            text += f"\n  at {self.pointer}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(SandboxError):
    """A setting has a value the sandbox cannot use."""
