"""The named failure scenarios a demo switches on with one header or one admin call.

A scenario is a name and a few ``key=value`` parameters: ``X-Sandbox-Scenario: slow;
latency=2s``. Each preset says what it does and which parameters it takes, so the list at
``GET /__sandbox/scenarios`` is the documentation, and a typo is a 400 naming the choices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ScenarioError

SCENARIO_HEADER = "X-Sandbox-Scenario"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    params: dict[str, str] = field(default_factory=dict)  # name -> default, as written
    status: int | None = None  # the error status it answers with, if it is an error

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": dict(self.params),
            "status": self.status,
        }


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("rate_limited", "A real 429: X-RateLimit-* headers with Remaining 0, and "
               "Retry-After (the plan's own wait unless retry_after is given).",
               {"retry_after": ""}, 429),
        Preset("unauthorized", "401 as for a revoked credential, with WWW-Authenticate.",
               status=401),
        Preset("forbidden", "403: the credential lacks the scope this operation needs.",
               status=403),
        Preset("not_found", "404 for the resource the request names.", status=404),
        Preset("validation_error", "400 (or the operation's 422) with a field-level detail.",
               {"field": "body"}, 400),
        Preset("conflict", "409: the resource changed or already exists.", status=409),
        Preset("server_error", "500 from an unexpected failure; status= picks another 5xx.",
               {"status": "500"}, 500),
        Preset("unavailable", "503 with Retry-After: the service is down for maintenance.",
               {"retry_after": "30"}, 503),
        Preset("timeout", "Holds the connection for after= (default 10s), then answers 504 "
               "as a gateway would.", {"after": "10s"}, 504),
        Preset("slow", "The normal answer, after latency= (default 800ms).",
               {"latency": "800ms"}),
        Preset("flaky", "Fails fails= times (default 2) per client and Idempotency-Key (or "
               "method and path without one) with status= (default 503) and Retry-After: 1, "
               "then succeeds: the way to test retry logic.",
               {"fails": "2", "status": "503"}),
        Preset("malformed", "The normal answer with its JSON body cut in half, as a dropped "
               "connection or a broken proxy leaves it."),
        Preset("empty", "An empty collection (lists keep their envelope, totals become 0); "
               "204 No Content for everything else. Nothing is written."),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """One preset with its parameters, ready to apply."""

    name: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def preset(self) -> Preset:
        return PRESETS[self.name]

    def param(self, name: str) -> str:
        return self.params.get(name) or self.preset.params.get(name, "")

    def text(self) -> str:
        return "; ".join([self.name, *(f"{k}={v}" for k, v in sorted(self.params.items()))])


def scenario(name: str, params: dict[str, Any] | None = None) -> Scenario:
    """A checked Scenario; ScenarioError names the presets or parameters that exist."""
    name = name.strip().lower().replace("-", "_")
    preset = PRESETS.get(name)
    if preset is None:
        raise ScenarioError(
            f"no scenario {name!r}; choose one of: {', '.join(PRESETS)} "
            "(GET /__sandbox/scenarios describes them)"
        )
    given = {str(k).strip().lower(): str(v).strip() for k, v in (params or {}).items()}
    unknown = sorted(set(given) - set(preset.params))
    if unknown:
        takes = ", ".join(preset.params) or "no parameters"
        raise ScenarioError(f"scenario {name!r} takes {takes}; not {', '.join(unknown)}")
    found = Scenario(name, given)
    _check_values(found)
    return found


def parse_header(value: str) -> Scenario:
    """``flaky; fails=3; status=502`` (commas work as separators too)."""
    name, *pairs = [part.strip() for part in re.split(r"[;,]", value) if part.strip()] or [""]
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, val = pair.partition("=")
        if not sep:
            raise ScenarioError(f"scenario parameter {pair!r} needs a value: write {pair}=...")
        params[key] = val.strip().strip('"')
    return scenario(name, params)


def seconds(text: str, *, what: str) -> float:
    """``800ms``, ``2s``, ``1.5s``, ``2m``; a bare number is milliseconds."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)?\s*", text)
    if match is None:
        raise ScenarioError(f"{what} must be a duration like 800ms or 2s, not {text!r}")
    number, unit = float(match.group(1)), match.group(2) or "ms"
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


def whole(text: str, *, what: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\s*[0-9]+\s*", text) or not low <= int(text) <= high:
        raise ScenarioError(f"{what} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


# the syntax each parameter takes, for the admin API's document (which the admin API
# enforces): exact where a pattern can say it; durations over 5m are refused on meaning (422)
_DURATION = r"^ *[0-9]+([.][0-9]+)? *(ms|s|m)? *$"
_PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "retry_after": {"type": "string",  # 0 to 86400
                    "pattern": "^ *(86400|86[0-3][0-9]{2}|8[0-5][0-9]{3}|[1-7]?[0-9]{1,4}) *$"},
    "field": {"type": "string"},
    "after": {"type": "string", "pattern": _DURATION},
    "latency": {"type": "string", "pattern": _DURATION},
    "fails": {"type": "string", "pattern": "^ *(1000|[1-9][0-9]{0,2}) *$"},  # 1 to 1000
}  # fmt: skip


def param_schema(preset: str, name: str) -> dict[str, Any]:
    """A JSON Schema for one parameter, for the admin API's document."""
    if name == "status":
        first = "5" if preset == "server_error" else "45"
        return {"type": "string", "pattern": f"^ *[{first}][0-9][0-9] *$"}
    return _PARAM_SCHEMAS.get(name, {"type": "string"})


def _check_values(found: Scenario) -> None:
    for name in found.params:
        value = found.param(name)
        if name in ("latency", "after"):
            if seconds(value, what=name) > 300:
                raise ScenarioError(f"{name} is at most 5m")
        elif name == "retry_after":
            whole(value, what=name, low=0, high=86400)
        elif name == "fails":
            whole(value, what=name, low=1, high=1000)
        elif name == "status":
            status = whole(value, what=name, low=400, high=599)
            if found.name == "server_error" and status < 500:
                raise ScenarioError("server_error's status must be a 5xx")
