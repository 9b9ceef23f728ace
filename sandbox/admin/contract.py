"""The admin API held to its own OpenAPI document, as the served API is held to the user's.

The document (``admin/openapi.yaml``) is rendered for this sandbox: its plans and the
scenario presets with the parameters each takes become enums, so the document served at
``/__sandbox/openapi.yaml`` promises exactly what the handlers accept. Every admin request
is then routed by it (a method it does not declare is a 405 with ``Allow``, OPTIONS too:
the admin API does no CORS) and validated by it, with the same validator the API uses,
before any handler runs. Handlers keep only what no schema can say (a key that does not
exist, an operation the spec lacks).
"""

from __future__ import annotations

import copy
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from werkzeug.wrappers import Request, Response

from sandbox.admin.api import problem
from sandbox.http.routing import Match, MethodNotAllowed, Router
from sandbox.http.validation import RequestValidator, request_data
from sandbox.scenarios.presets import PRESETS, param_schema
from sandbox.spec.model import Spec

PREFIX = "/__sandbox"


def packaged_document() -> dict[str, Any]:
    text = resources.files("sandbox.admin").joinpath("openapi.yaml").read_text("utf-8")
    # libyaml's loader: PyYAML's pure-Python one took 0.15-0.4 s of every start on this file
    loaded: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


def render(plans: list[str]) -> dict[str, Any]:
    """The packaged document with this sandbox's plans and the scenario presets filled in."""
    document = copy.deepcopy(packaged_document())
    paths = document["paths"]
    key_body = paths["/keys"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    key_body["properties"]["plan"]["enum"] = sorted(plans)
    scenario = paths["/scenarios/active"]["post"]["requestBody"]["content"]["application/json"]
    scenario["schema"]["oneOf"] = [_scenario_branch(name) for name in PRESETS]
    return document


def _scenario_branch(name: str) -> dict[str, Any]:
    takes = {param: param_schema(name, param) for param in PRESETS[name].params}
    return {
        "title": name,
        "properties": {
            "scenario": {"const": name},
            "params": {"type": "object", "properties": takes, "additionalProperties": False},
        },
    }


class AdminContract:
    def __init__(self, plans: list[str]) -> None:
        self.document = render(plans)
        self.spec = Spec(Path("admin/openapi.yaml"), self.document)
        self.router = Router(self.spec.operations, self.spec.base_path)
        self.validator = RequestValidator(self.spec)

    @cached_property
    def text(self) -> str:
        """The rendered document as YAML, for ``GET /__sandbox/openapi.yaml``."""
        return yaml.safe_dump(self.document, sort_keys=False, allow_unicode=True, width=100)

    def check(self, request: Request) -> Response | None:
        """None when the request may reach its handler; else the 405 or 400 that says why.
        Paths the document does not describe (the dashboard's static files) pass through."""
        path = request.path
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return None
        route = self.router.match(request.method, path, request.args)
        if isinstance(route, MethodNotAllowed):
            allowed = ", ".join(route.allowed)
            message = f"{request.method} is not allowed here; allowed: {allowed}."
            refused = problem(405, "method_not_allowed", message)
            refused.headers["Allow"] = allowed
            return refused
        if not isinstance(route, Match):
            return None
        result = self.validator.validate(route.operation, request_data(request, route.path_params))
        if result.ok:
            return None
        code = str(route.operation.raw.get("x-sandbox-error-code") or "invalid_request")
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
        return problem(
            result.status if result.status == 415 else 400, code,
            f"{first.field} {first.message}{more}; see GET /__sandbox/openapi.yaml.",
            [problem.as_dict() for problem in result.problems],
        )  # fmt: skip
