"""What the admin API uses of a running sandbox: the extension point between the two.

The admin blueprints take an object with these parts (``sandbox.app.sandbox.Sandbox`` is
one) instead of importing the app, so the admin layer sits below it. A part the admin API
changes (keys, scenarios, chaos, subscriptions, the journal) is the very object the request
pipeline reads, so a change shows on the next request of every worker.
"""

from __future__ import annotations

from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from sandbox.access.keys import KeyRing
from sandbox.access.oauth import OAuthServer
from sandbox.access.ratelimit import RateLimiter
from sandbox.config.settings import Settings
from sandbox.http.routing import Router
from sandbox.observe.journal import Journal
from sandbox.observe.metrics import Metrics
from sandbox.scenarios.board import ScenarioBoard
from sandbox.spec.model import Spec
from sandbox.webhooks.hub import WebhookHub


class AdminServices(Protocol):
    spec: Spec
    settings: Settings
    keys: KeyRing
    oauth: OAuthServer
    limiter: RateLimiter
    board: ScenarioBoard
    journal: Journal
    metrics: Metrics
    webhooks: WebhookHub
    router: Router
    admin_token: str | None  # None: the admin API is open (loopback)

    def reset(self) -> None:
        """Back to the seed state; credentials and subscriptions stay."""

    def describe(self) -> dict[str, Any]:
        """The spec, its operations and the settings in force, secrets left out."""

    def health(self) -> Response: ...

    def sample_record(self, event_type: str) -> Any:
        """Realistic data for a manual event of that type."""

    def handle(self, request: Request) -> Response:
        """Run a request through the API pipeline (a spec path the docs page would hide)."""
