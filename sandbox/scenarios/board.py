"""Scenarios switched on from outside the request: scoped ones, chaos, and flaky counters.

They live in the state file (or in Redis, ``sandbox.state.redis.scenarios``), so every worker
process agrees: a scenario activated for five requests answers exactly five, however the
requests spread over workers and machines.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.scenarios.chaos import Chaos, chaos_from
from sandbox.scenarios.presets import Scenario, scenario
from sandbox.state.sqlite.file import SQLiteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS active_scenarios (
    id TEXT PRIMARY KEY, scenario TEXT NOT NULL, params TEXT NOT NULL,
    key TEXT, operation TEXT, remaining INTEGER, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chaos_setting (
    id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS flaky_counts (
    identity TEXT PRIMARY KEY, failures INTEGER NOT NULL, updated_at REAL NOT NULL
);
"""


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


class ScenarioBoard:
    def __init__(self, location: str | Path, default_chaos: Chaos) -> None:
        self.file = SQLiteFile(location, _SCHEMA)
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
        with self.file.write() as db:
            db.execute(
                "INSERT INTO active_scenarios VALUES (?, ?, ?, ?, ?, ?, ?)",
                (active.id, chosen.name, json.dumps(chosen.params), active.key,
                 active.operation, count, active.created_at),
            )  # fmt: skip
        return active

    def active(self) -> list[ActiveScenario]:
        with self.file.guard():
            rows = self.file.db.execute(
                "SELECT id, scenario, params, key, operation, remaining, created_at "
                "FROM active_scenarios WHERE remaining IS NULL OR remaining > 0 "
                "ORDER BY created_at"
            ).fetchall()
        return [_row(row) for row in rows]

    def clear(self, scenario_id: str | None = None) -> int:
        with self.file.write() as db:
            if scenario_id is None:
                return db.execute("DELETE FROM active_scenarios").rowcount
            return db.execute("DELETE FROM active_scenarios WHERE id = ?", (scenario_id,)).rowcount

    def take(self, key: str | None, operation_id: str, route: str) -> Scenario | None:
        """The most specific active scenario for this request, counting one use of it."""
        candidates = [a for a in self.active() if a.matches(key, operation_id, route)]
        for found in sorted(candidates, key=lambda a: a.specificity, reverse=True):
            if found.remaining is None or self._use(found.id):
                return found.scenario
        return None

    def _use(self, scenario_id: str) -> bool:
        """Count one use of a counted scenario; False when another worker took the last."""
        with self.file.write() as db:
            used = db.execute(
                "UPDATE active_scenarios SET remaining = remaining - 1 "
                "WHERE id = ? AND remaining > 0",
                (scenario_id,),
            ).rowcount
            db.execute("DELETE FROM active_scenarios WHERE remaining <= 0")
        return bool(used)

    def chaos(self) -> Chaos:
        with self.file.guard():
            row = self.file.db.execute("SELECT value FROM chaos_setting").fetchone()
        return self.default_chaos if row is None else chaos_from(json.loads(row[0]))

    def set_chaos(self, chaos: Chaos) -> None:
        value = json.dumps({"error_rate": chaos.error_rate,
                            "latency_ms": [round(v * 1000, 3) for v in chaos.latency],
                            "statuses": list(chaos.statuses)})  # fmt: skip
        with self.file.write() as db:
            db.execute(
                "INSERT INTO chaos_setting (id, value) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET value = excluded.value",
                (value,),
            )

    def flaky_fails(self, identity: str, fails: int) -> bool:
        """Whether this attempt fails: the first ``fails`` attempts do, the next succeeds and
        starts the count again (a new logical request fails again)."""
        with self.file.write() as db:
            row = db.execute(
                "SELECT failures FROM flaky_counts WHERE identity = ?", (identity,)
            ).fetchone()
            failures = row[0] if row else 0
            if failures >= fails:
                db.execute("DELETE FROM flaky_counts WHERE identity = ?", (identity,))
                return False
            db.execute(
                "INSERT INTO flaky_counts VALUES (?, ?, ?) ON CONFLICT (identity) "
                "DO UPDATE SET failures = excluded.failures, updated_at = excluded.updated_at",
                (identity, failures + 1, time.time()),
            )
            return True

    def reset(self) -> None:
        """Scoped scenarios, flaky counts and chaos back to the settings."""
        with self.file.write() as db:
            db.execute("DELETE FROM active_scenarios")
            db.execute("DELETE FROM flaky_counts")
            db.execute("DELETE FROM chaos_setting")


def _row(row: tuple) -> ActiveScenario:
    id_, name, params, key, operation, remaining, created_at = row
    return ActiveScenario(
        id_, scenario(name, json.loads(params)), key, operation, remaining, created_at
    )
