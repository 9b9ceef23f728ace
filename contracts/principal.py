"""Don't saw off the branch you sit on: the account the run acts as is kept out of its own
destructive and privilege-changing calls.

A fuzzer that sets ``is_active`` or ``is_superuser`` to false on the very account it runs
as, or deletes it, turns every later answer into "inactive user" noise. The principal is
recognised from the spec's self operation (``GET /me``, ``/users/me``, ``/whoami``, ...):
its id, username and email. Then, unless ``--allow-self-changes``:

- the writes of the self record itself (``PUT``/``PATCH``/``DELETE /users/me``) and of its
  credentials and privileges (``/users/me/password``) are not run;
- a write whose path names the principal (``DELETE /users/{id}`` with its id, which
  Schemathesis may have learnt from an earlier answer) is sent to another id of the same
  form instead, and counted.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.checks._shapes import record_of
from contracts.facts import label_of
from sandbox.spec import Operation

if TYPE_CHECKING:
    from contracts.facts import ContractFacts
    from contracts.target import Target

SELF_SEGMENTS = {"me", "self", "current", "whoami", "current_user", "current-user", "myself"}
ACCOUNT_WORDS = re.compile(
    r"^(password|passwords|email|username|role|roles|permissions?|privileges?|scopes?|"
    r"tokens?|keys?|active|activate|deactivate|disable|enable|status|superuser|admin)$",
    re.I,
)
IDENTIFYING = ("id", "uuid", "user_id", "userid", "username", "login", "email", "sub")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Principal:
    """The account the run acts as."""

    values: set[str]  # its id, username, email, as the API writes them
    found_at: str  # "GET /users/me"
    spared: int = 0  # requests aimed at it that were sent elsewhere
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def aims_at(self, value: Any) -> bool:
        return str(value) in self.values

    def redirect(self, parameters: dict[str, Any]) -> bool:
        """Replace principal values among a write's path parameters; True if any was."""
        changed = False
        for name, value in list(parameters.items()):
            if self.aims_at(value):
                parameters[name] = another_like(value)
                changed = True
        if changed:
            with self._lock:
                self.spared += 1
        return changed


def self_operations(facts: ContractFacts) -> list[Operation]:
    """``GET`` operations without path parameters that name the caller: ``/me``, ``/whoami``."""
    return [
        operation for operation in facts.spec.operations
        if operation.method == "GET" and "{" not in operation.path
        and operation.path.rstrip("/").rpartition("/")[2].lower() in SELF_SEGMENTS
    ]  # fmt: skip


def protected(facts: ContractFacts) -> list[Operation]:
    """Writes that change or remove the principal itself: the self record, its credentials
    and its privileges."""
    found = []
    for operation in facts.spec.operations:
        if operation.method not in WRITES:
            continue
        segments = [s.lower() for s in operation.path.strip("/").split("/")]
        for index, segment in enumerate(segments):
            if segment not in SELF_SEGMENTS:
                continue
            rest = segments[index + 1 :]
            if (not rest and operation.method != "POST") or (rest and ACCOUNT_WORDS.match(rest[0])):
                found.append(operation)
                break
    return found


def discover(facts: ContractFacts, target: Target) -> Principal | None:
    """Ask the spec's self operation who we are; None when there is none or it refuses."""
    for operation in self_operations(facts):
        try:
            answer = target.request("GET", operation.path)
        except Exception:  # a target that fails here fails the run's own requests too
            continue
        record = record_of(answer.json()) if answer.status == 200 else None
        if not isinstance(record, dict):
            continue
        values = {
            str(record[name]) for name in IDENTIFYING
            if isinstance(record.get(name), str | int) and not isinstance(record[name], bool)
            and str(record[name]).strip()
        }  # fmt: skip
        if values:
            return Principal(values, label_of(operation))
    return None


def another_like(value: Any) -> Any:
    """A value of the same form that is not ``value``: another UUID, another number."""
    text = str(value)
    try:
        uuid.UUID(text)
        return str(uuid.uuid4())
    except ValueError:
        pass
    if isinstance(value, int) and not isinstance(value, bool):
        return value + 1_000_003
    if text.isdigit():
        return str(int(text) + 1_000_003)
    return f"{text}-not-self"
