"""One request on its way through the pipeline: what each stage learned, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.wrappers import Request

from sandbox.access.auth import Principal
from sandbox.http.routing import Match
from sandbox.http.validation import RequestData
from sandbox.observe.log import Trace
from sandbox.scenarios.presets import Scenario
from sandbox.spec.model import Operation


@dataclass
class Exchange:
    """Filled in stage by stage (route, then principal, then rate headers and scenario), so a
    stage takes the exchange rather than the eight values the ones before it found."""

    request: Request
    route: Match
    data: RequestData
    trace: Trace
    principal: Principal | None = None
    rate_headers: dict[str, str] = field(default_factory=dict)
    scenario: Scenario | None = None

    @property
    def operation(self) -> Operation:
        return self.route.operation

    @property
    def path_params(self) -> dict[str, str]:
        return self.route.path_params

    @property
    def tenant(self) -> str:
        """Whose records: the credential's; requests without one share the public tenant."""
        key = self.principal.key if self.principal is not None else None
        return key or "public"

    @property
    def client(self) -> str:
        """Who is asking, for counters and tenants: the credential, else the address."""
        key = self.principal.key if self.principal is not None else None
        return key or f"ip:{self.request.remote_addr}"
