"""Scenarios switched on from outside, chaos and flaky counts, in the state file.

Every request reads the board; it changes when someone switches a scenario or chaos, or a
counted scenario is used. Each process keeps a copy of the board (``versions``) and reads
the tables again only after a change."""

from __future__ import annotations

import json
import time

from sandbox.state.protocols import ScenarioSnapshot, StoredScenario
from sandbox.state.sqlite.file import SQLiteFile
from sandbox.state.sqlite.versions import Copy, Versions

SCHEMA = """
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


class SQLiteScenarios:
    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)
        self._slot = Versions.slot("scenarios")
        self._board = Copy(lambda: file.versions.read(self._slot), self._read)

    def add(self, scenario: StoredScenario) -> None:
        with self.file.write() as db:
            db.execute(
                "INSERT INTO active_scenarios VALUES (?, ?, ?, ?, ?, ?, ?)",
                (scenario.id, scenario.name, json.dumps(scenario.params), scenario.key,
                 scenario.operation, scenario.remaining, scenario.created_at),
            )  # fmt: skip
            self.file.changed(self._slot)

    def snapshot(self) -> ScenarioSnapshot:
        held = self._board.get()
        return ScenarioSnapshot(list(held.active), held.chaos)

    def _read(self) -> ScenarioSnapshot:
        with self.file.guard():
            db = self.file.db
            rows = db.execute(
                "SELECT id, scenario, params, key, operation, remaining, created_at "
                "FROM active_scenarios WHERE remaining IS NULL OR remaining > 0 "
                "ORDER BY created_at"
            ).fetchall()
            chaos = db.execute("SELECT value FROM chaos_setting").fetchone()
        active = [
            StoredScenario(id_, name, json.loads(params), key, operation, remaining, created)
            for id_, name, params, key, operation, remaining, created in rows
        ]
        return ScenarioSnapshot(active, chaos[0] if chaos else None)

    def use(self, scenario_id: str) -> bool:
        with self.file.write() as db:
            used = db.execute(
                "UPDATE active_scenarios SET remaining = remaining - 1 "
                "WHERE id = ? AND remaining > 0",
                (scenario_id,),
            ).rowcount
            db.execute("DELETE FROM active_scenarios WHERE remaining <= 0")
            self.file.changed(self._slot)
        return bool(used)

    def remove(self, scenario_id: str | None) -> int:
        with self.file.write() as db:
            self.file.changed(self._slot)
            if scenario_id is None:
                return db.execute("DELETE FROM active_scenarios").rowcount
            return db.execute("DELETE FROM active_scenarios WHERE id = ?", (scenario_id,)).rowcount

    def set_chaos(self, value: str | None) -> None:
        with self.file.write() as db:
            self.file.changed(self._slot)
            if value is None:
                db.execute("DELETE FROM chaos_setting")
                return
            db.execute(
                "INSERT INTO chaos_setting (id, value) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET value = excluded.value",
                (value,),
            )

    def flaky_attempt(self, identity: str, fails: int) -> bool:
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

    def clear(self) -> None:
        with self.file.write() as db:
            self.file.changed(self._slot)
            db.execute("DELETE FROM active_scenarios")
            db.execute("DELETE FROM flaky_counts")
            db.execute("DELETE FROM chaos_setting")
