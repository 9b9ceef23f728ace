"""Scenarios switched on from outside the request: scoped ones, chaos, and flaky counters.

They live in the state (the state file, or Redis), so every worker process agrees: a scenario
activated for five requests answers exactly five, however the requests spread over workers
and machines. Every request reads the board once, scenarios and chaos together (``take``).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sandbox.scenarios.chaos import Chaos, chaos_from
from sandbox.scenarios.presets import Scenario, scenario
from sandbox.state.protocols import ScenarioStore, StoredScenario


@dataclass(frozen=True)
class ActiveScenario:
    id: str
    scenario: Scenario
    key: str | None
    operation: str | None  # an operationId, or "METHOD /path/{template}"
    remaining: int | None  # None: until cleared
    created_at: float

    @classmethod
    def new(
        cls, chosen: Scenario, key: str | None, operation: str | None, count: int | None
    ) -> ActiveScenario:
        """A freshly switched-on scenario, whichever store keeps it."""
        return cls("scn_" + secrets.token_hex(6), chosen, key or None, operation or None, count,
                   time.time())  # fmt: skip

    def matches(self, key: str | None, operation_id: str, route: str) -> bool:
        return (self.key is None or self.key == key) and (
            self.operation is None or self.operation in (operation_id, route)
        )

    @property
    def specificity(self) -> tuple[int, float]:
        return (int(self.key is not None) * 2 + int(self.operation is not None), self.created_at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scenario": self.scenario.name,
            "params": self.scenario.params,
            "key": self.key,
            "operation": self.operation,
            "remaining": self.remaining,
            "created_at": round(self.created_at, 3),
        }


@dataclass(frozen=True)
class Pick:
    """What one request takes from the board: a scenario (or None) and chaos, read together."""

    scenario: Scenario | None
    chaos: Chaos


class ScenarioBoard:
    def __init__(self, store: ScenarioStore, default_chaos: Chaos) -> None:
        self.store = store
        self.default_chaos = default_chaos

    def activate(
        self,
        chosen: Scenario,
        *,
        key: str | None = None,
        operation: str | None = None,
        count: int | None = None,
    ) -> ActiveScenario:
        active = ActiveScenario.new(chosen, key, operation, count)
        self.store.add(StoredScenario(
            active.id, chosen.name, dict(chosen.params), active.key, active.operation, count,
            active.created_at,
        ))  # fmt: skip
        return active

    def active(self) -> list[ActiveScenario]:
        return [_active(found) for found in self.store.snapshot().active]

    def clear(self, scenario_id: str | None = None) -> int:
        return self.store.remove(scenario_id)

    def take(self, key: str | None, operation_id: str, route: str) -> Pick:
        """The most specific active scenario for this request, counting one use of it, and
        chaos: one read of the store for both (every request needs both)."""
        snapshot = self.store.snapshot()
        chaos = self._chaos(snapshot.chaos)
        candidates = [
            active for active in map(_active, snapshot.active)
            if active.matches(key, operation_id, route)
        ]  # fmt: skip
        for found in sorted(candidates, key=lambda a: a.specificity, reverse=True):
            if found.remaining is None or self.store.use(found.id):
                return Pick(found.scenario, chaos)
        return Pick(None, chaos)

    def chaos(self) -> Chaos:
        return self._chaos(self.store.snapshot().chaos)

    def quiet(self) -> bool:
        """No scenario switched on and no chaos: a request would take nothing from the
        board. Reads this process's copy (``store.snapshot``), as ``take`` does."""
        snapshot = self.store.snapshot()
        return not snapshot.active and not self._chaos(snapshot.chaos).on

    def _chaos(self, stored: str | None) -> Chaos:
        return self.default_chaos if stored is None else chaos_from(json.loads(stored))

    def set_chaos(self, chaos: Chaos) -> None:
        self.store.set_chaos(json.dumps({
            "error_rate": chaos.error_rate,
            "latency_ms": [round(v * 1000, 3) for v in chaos.latency],
            "statuses": list(chaos.statuses),
        }))  # fmt: skip

    def flaky_fails(self, identity: str, fails: int) -> bool:
        """Whether this attempt fails: the first ``fails`` attempts do, the next succeeds and
        starts the count again (a new logical request fails again)."""
        return self.store.flaky_attempt(identity, fails)

    def reset(self) -> None:
        """Scoped scenarios, flaky counts and chaos back to the settings."""
        self.store.clear()


def _active(stored: StoredScenario) -> ActiveScenario:
    return ActiveScenario(
        stored.id, scenario(stored.name, stored.params), stored.key, stored.operation,
        stored.remaining, stored.created_at,
    )  # fmt: skip
