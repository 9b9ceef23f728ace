"""Chaos mode: a share of requests fail with a 5xx, and every request waits a little.

``--chaos error_rate=0.1,latency=50..300ms`` or ``PUT /__sandbox/chaos``. Each request
draws on its own, so over many requests the error share converges on ``error_rate``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from sandbox.errors import ScenarioError
from sandbox.scenarios.presets import seconds

DEFAULT_STATUSES = (500, 502, 503)


@dataclass(frozen=True)
class Chaos:
    error_rate: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)  # seconds, low..high
    statuses: tuple[int, ...] = DEFAULT_STATUSES

    @property
    def on(self) -> bool:
        return self.error_rate > 0 or self.latency[1] > 0

    def draw(self, rng: random.Random) -> tuple[float, int | None]:
        """(seconds to wait, status to fail with or None)."""
        low, high = self.latency
        delay = rng.uniform(low, high) if high > 0 else 0.0
        failing = self.error_rate > 0 and rng.random() < self.error_rate
        return delay, (rng.choice(self.statuses) if failing else None)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.latency
        return {
            "enabled": self.on,
            "error_rate": self.error_rate,
            "latency_ms": [round(low * 1000), round(high * 1000)],
            "statuses": list(self.statuses),
        }

    def text(self) -> str:
        low, high = (round(value * 1000) for value in self.latency)
        statuses = "|".join(str(status) for status in self.statuses)
        return f"error_rate={self.error_rate},latency={low}..{high}ms,statuses={statuses}"


OFF = Chaos()


def parse_chaos(text: str) -> Chaos:
    """``error_rate=0.1,latency=50..300ms[,statuses=500|503]``; empty or ``off`` is off."""
    text = (text or "").strip()
    if text.lower() in ("", "off", "none", "false"):
        return OFF
    values: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        if not sep:
            raise ScenarioError(f"chaos: {part!r} needs a value, as in error_rate=0.1")
        values[name.strip()] = value.strip()
    return chaos_from(values)


def chaos_from(values: dict[str, Any]) -> Chaos:
    """From the admin API's JSON or the parsed flag; unknown names are refused."""
    known = {"error_rate", "latency", "latency_ms", "statuses"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ScenarioError(
            f"chaos takes error_rate, latency and statuses; not {', '.join(unknown)}"
        )
    try:
        rate = float(values.get("error_rate", 0) or 0)
    except (TypeError, ValueError):
        raise ScenarioError("chaos error_rate must be a number from 0 to 1") from None
    if not 0 <= rate <= 1:
        raise ScenarioError("chaos error_rate must be from 0 to 1 (0.1 fails one in ten)")
    latency = _latency(values.get("latency", values.get("latency_ms", "")))
    statuses = _statuses(values.get("statuses"))
    return Chaos(rate, latency, statuses)


def _latency(value: Any) -> tuple[float, float]:
    if isinstance(value, list | tuple) and len(value) == 2:
        try:
            low, high = (float(v) / 1000 for v in value)
        except (TypeError, ValueError):
            raise ScenarioError("chaos latency_ms must be two numbers: [50, 300]") from None
    elif value in ("", None, 0):
        return (0.0, 0.0)
    else:
        text = str(value)
        match = re.fullmatch(r"\s*([\d.]+)\s*(?:\.\.|-)\s*([\d.]+)\s*(ms|s)?\s*", text)
        if match:
            unit = match.group(3) or "ms"
            low = seconds(match.group(1) + unit, what="chaos latency")
            high = seconds(match.group(2) + unit, what="chaos latency")
        else:
            low = high = seconds(text, what="chaos latency")
    low, high = sorted((low, high))  # 300..50ms is the range between the two
    if low < 0 or high > 60:
        raise ScenarioError("chaos latency must be a duration or a range of at most 60s")
    return (low, high)


def _statuses(value: Any) -> tuple[int, ...]:
    if value in (None, "", []):
        return DEFAULT_STATUSES
    items = value if isinstance(value, list) else re.split(r"[|\s]+", str(value).strip())
    try:
        statuses = tuple(int(item) for item in items)
    except (TypeError, ValueError):
        raise ScenarioError("chaos statuses must be status codes, as in 500|503") from None
    if not statuses or any(not 400 <= status <= 599 for status in statuses):
        raise ScenarioError("chaos statuses must be 4xx or 5xx codes")
    return statuses
