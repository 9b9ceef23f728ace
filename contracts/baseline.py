"""Known failures a team has accepted for now: listed in a file, they do not fail the run.

The file is JSON: ``{"accepted": ["GET /users | pagination | Page larger than the limit"]}``,
the fingerprints ``--baseline-update`` writes. A fingerprint names the operation, the check
and the problem, not the data that found it, so it holds across seeds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from contracts.report import Report


class BaselineError(ValueError):
    """The baseline file cannot be read; the message says how to make one."""


@dataclass
class Baseline:
    accepted: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(
                f"no baseline at {path}; write one with --baseline-update"
            ) from None
        except (OSError, ValueError) as exc:
            raise BaselineError(f"cannot read the baseline {path}: {exc}") from None
        listed = data.get("accepted") if isinstance(data, dict) else None
        if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
            raise BaselineError(f'{path} must be {{"accepted": ["<fingerprint>", ...]}}')
        return cls(set(listed))

    def mark(self, report: Report) -> None:
        for failure in report.failures:
            failure.accepted = failure.fingerprint in self.accepted

    @staticmethod
    def write(report: Report, path: Path) -> None:
        fingerprints = sorted({failure.fingerprint for failure in report.failures})
        path.write_text(json.dumps({"accepted": fingerprints}, indent=2) + "\n", encoding="utf-8")
