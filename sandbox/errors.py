"""Every error the sandbox raises on purpose, in one tree.

Each says what is wrong and, where the user can act, what to do. Catch ``SandboxError`` for
all of them; the branches say who sees them::

    SandboxError
    ├── SpecError                 the document cannot be served (file, line, pointer, hint)
    ├── ConfigError               a setting the sandbox cannot use
    ├── StorageError              the state cannot be read or written (clients get a 503)
    ├── ApiError                  an HTTP answer in the spec's error shape (status, code, ...)
    ├── Refused                   a request the sandbox turns down on meaning
    │   ├── Conflict              a unique field already holds this value (a 409)
    │   ├── ScenarioError         a scenario name or parameter it cannot use
    │   ├── OAuthError            an RFC 6749 error (``invalid_grant``, ...)
    │   ├── GrantRejected         a code or refresh token that cannot be redeemed
    │   ├── TokenRejected         a bearer token it will not accept
    │   ├── DestinationRefused    a webhook URL the SSRF policy refuses
    │   │   ├── DestinationUnresolved   its host does not resolve (now)
    │   │   └── NamesNotLookedUp        webhook_dns is off and it names a host
    │   └── PayloadTooLarge       an event body over webhook_max_payload
    ├── JSONError                 a body that is not JSON the sandbox reads (a ValueError)
    ├── UnsatisfiableSchema       a schema no value can satisfy (a ValueError)
    └── WebhookVerificationError  for receivers: a delivery is forged or stale (public)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
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


class StorageError(SandboxError):
    """The state cannot be read or written (disk full, file not writable, Redis down)."""


@dataclass
class ApiError(SandboxError):
    """An error response the sandbox decided to send, shaped by the spec's error schema."""

    status: int
    code: str
    message: str
    details: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"


class Refused(SandboxError):
    """A well-formed request the sandbox turns down on meaning; the message says why."""


class Conflict(Refused):
    """A unique field already holds this value."""

    def __init__(self, field: str, value: str, existing_id: str) -> None:
        self.field, self.value, self.existing_id = field, value, existing_id
        super().__init__(f"{field}={value!r} is already used by {existing_id}")


class ScenarioError(Refused, ValueError):
    """A scenario name or parameter the sandbox cannot use; the message lists the choices."""


@dataclass
class OAuthError(Refused):
    """An RFC 6749 §5.2 error: ``error`` is the registered code, ``description`` the help."""

    error: str
    description: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.description)


class GrantRejected(Refused):
    """Why a code or refresh token cannot be redeemed (the ``invalid_grant`` description)."""


class TokenRejected(Refused):
    """A bearer token the sandbox will not accept; ``code`` tells the client why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class DestinationRefused(Refused):
    """Why a webhook URL may not be used, in words the subscriber can act on."""


class DestinationUnresolved(DestinationRefused):
    """The host name does not resolve now. Not a verdict: a subscription may name a
    receiver that is not up yet, and a delivery attempt that meets this is retried."""


class NamesNotLookedUp(DestinationRefused):
    """``webhook_dns`` is off: a subscription may name a host, but only URLs whose host is
    written as an address ever get a delivery (CI runs and offline demos: no lookups, no
    traffic to hosts a test made up)."""


class PayloadTooLarge(Refused):
    """An event body over ``webhook_max_payload``."""


class JSONError(SandboxError, json.JSONDecodeError):
    """Not JSON the sandbox reads: ``msg``, ``lineno`` and ``colno`` say where and why."""

    def __init__(self, msg: str, doc: str, pos: int) -> None:
        json.JSONDecodeError.__init__(self, msg, doc, pos)


class UnsatisfiableSchema(SandboxError, ValueError):
    """A schema no value can satisfy (a required self-reference, unbounded nesting)."""


class WebhookVerificationError(SandboxError):
    """The delivery is not authentic or too old; the message says which."""
