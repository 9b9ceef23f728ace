"""Don't saw off the branch you sit on: the account the run acts as is kept out of its own
destructive and privilege-changing calls.

A fuzzer that sets ``is_active`` or ``is_superuser`` to false on the very account it runs
as, or deletes it, turns every later answer into "inactive user" noise. The principal is
recognised by the names its credentials carry (a Basic or password-grant user), by what the
spec's self operation (``GET /me``, ``/users/me``, ``/whoami``) or its root (``GET /``
answering ``{"user": {...}}``, as Kinto does) says, and by its own record under a top-level
collection (``GET /accounts/admin``). Then, unless ``--allow-self-changes``:

- the writes of the self record itself (``PUT``/``PATCH``/``DELETE /users/me``), of its
  credentials and privileges (``/users/me/password``), and a delete of the whole collection
  its record is in (``DELETE /accounts``) are not run;
- a write whose path names the principal (``DELETE /users/{id}`` with its id, which
  Schemathesis may have learnt from an earlier answer; ``POST /users/{id}/deactivate``) is
  sent to another id of the same form instead, and counted. Writes under it that are not
  about the account (``POST /users/{id}/playlists``) go as generated.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from contracts.checks._shapes import record_of
from contracts.facts import label_of
from sandbox.spec.model import Operation

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
    collections: list[str] = field(default_factory=list)  # "/accounts": holds its record
    spared: int = 0  # requests aimed at it that were sent elsewhere
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def aims_at(self, value: Any) -> bool:
        return str(value) in self.values

    def redirect(self, method: str, template: str, parameters: dict[str, Any]) -> bool:
        """Replace the principal's values among a write's path parameters where the write
        is about the account itself; True if any was."""
        segments = template.strip("/").split("/")
        changed = False
        for name, value in list(parameters.items()):
            if not self.aims_at(value) or "{" + name + "}" not in segments:
                continue
            rest = segments[segments.index("{" + name + "}") + 1 :]
            about_account = (not rest and method != "POST") or bool(
                rest and ACCOUNT_WORDS.match(rest[0])
            )
            if about_account:
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


def protected(facts: ContractFacts, principal: Principal | None) -> list[Operation]:
    """Writes that change or remove the principal itself: the self record, its credentials
    and its privileges, and a delete of the whole collection its record is in."""
    found = []
    for operation in facts.spec.operations:
        if operation.method not in WRITES:
            continue
        if (
            principal is not None
            and operation.method == "DELETE"
            and (operation.path.rstrip("/") in principal.collections)
        ):
            found.append(operation)
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


NESTED = ("user", "principal", "account", "me", "identity", "owner")
MAX_PROBES = 40  # requests spent looking for the principal's own record


def discover(facts: ContractFacts, target: Target, known: set[str]) -> Principal | None:
    """Who the run acts as: the names its credentials carry (a Basic or password-grant
    user), what the spec's self operation (``GET /me``) or its root (``GET /`` answering
    ``{"user": {...}}``) says, and the record of it under a top-level collection
    (``/accounts/{id}`` with that name). None when nothing names it."""
    values = {value for value in known if value}
    found_at = ["the credentials"] if values else []
    for operation in [*self_operations(facts), *_roots(facts)]:
        record = _get_record(target, operation.path)
        if record is not None and (named := _identifying(record)):
            values |= named
            found_at.append(label_of(operation))
    if not values:
        return None
    collections = []
    probes = 0
    for operation in _item_reads(facts):
        if _get_record(target, _item(operation, f"not-{uuid.uuid4().hex[:12]}")) is not None:
            continue  # it answers any id (an echo): no record of anyone in particular
        for value in sorted(values):
            if probes >= MAX_PROBES:
                break
            probes += 1
            path = _item(operation, value)
            record = _get_record(target, path)
            if record is not None and value in _identifying(record):
                values |= _identifying(record)
                collections.append(operation.path.rpartition("/")[0])
                found_at.append(f"GET {path}")
                break
    return Principal(values, ", ".join(found_at), collections)


def _item(operation: Operation, value: str) -> str:
    return f"{operation.path.rpartition('/')[0]}/{quote(value, safe='')}"


def _roots(facts: ContractFacts) -> list[Operation]:
    return [op for op in facts.spec.operations if op.method == "GET" and op.path in ("/", "")]


def _item_reads(facts: ContractFacts) -> list[Operation]:
    """``GET /things/{id}`` right under the root: where an account's own record would be."""
    return [
        op for op in facts.spec.operations
        if op.method == "GET" and re.fullmatch(r"/[^/{}]+/\{[^/{}]+\}", op.path)
    ]  # fmt: skip


def _get_record(target: Target, path: str) -> dict[str, Any] | None:
    try:
        answer = target.request("GET", path)
    except Exception:  # a target that fails here fails the run's own requests too
        return None
    record = record_of(answer.json()) if answer.status == 200 else None
    if not isinstance(record, dict):
        return None
    for name in NESTED:
        if isinstance(record.get(name), dict) and _identifying(record[name]):
            return dict(record[name])
    return record


def _identifying(record: dict[str, Any]) -> set[str]:
    return {
        str(record[name]) for name in IDENTIFYING
        if isinstance(record.get(name), str | int) and not isinstance(record[name], bool)
        and str(record[name]).strip()
    }  # fmt: skip


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
