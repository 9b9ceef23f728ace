"""``identity_and_persistence``: a server remembers what it was told.

``GET /things/{id}`` returns that id; a create reflects what was sent, in its answer and in
a later GET; after PUT/PATCH a GET shows the new values; after DELETE a GET no longer
serves it (404, 410, or a refusal such as Kinto's 403 for what is not there).

Only what was actually sent is judged: the request must be the operation itself (not an
``OPTIONS`` probe sent under ``PUT /users/{id}``), answered 2xx, with a body the
operation's schema accepts (a server that took ``{"is_superuser": 0}`` and kept nothing of
it has broken another promise, which negative-data checks report). Path values are
compared decoded: ``/tracks/%C2%9D`` asks for ``"\\x9d"``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from contracts.checks._base import Seen, contract_check
from contracts.checks._shapes import filled, record_of
from sandbox.resources.keys import KeyPart, value_at
from sandbox.resources.naming import ACCOUNT_NAMES
from sandbox.spec.model import Operation, is_json_media
from sandbox.spec.words import norm


@contract_check
def identity_and_persistence(seen: Seen) -> bool | None:
    """GET returns the thing asked for; what was created, replaced or updated reads back as
    sent; what was deleted is gone."""
    if not seen.ordinary or not 200 <= seen.status < 300:
        return None
    facts = seen.run.facts
    operation = seen.operation
    item = facts.is_item_path(operation.path)
    if operation.method in ("POST", "PUT", "PATCH") and not _acceptable_body(seen):
        return None
    if operation.method == "GET" and item:
        _same_identity(seen)
    elif operation.method == "POST" and not item:
        _created(seen)
    elif operation.method in ("PUT", "PATCH") and item:
        _changed(seen)
    elif operation.method == "DELETE" and item:
        _deleted(seen)
    return True


def _acceptable_body(seen: Seen) -> bool:
    """A JSON body the operation's schema accepts (a form or multipart body reaches the
    server as text fields, so its values cannot be compared as sent)."""
    media_type = seen.case.media_type
    if media_type is not None and not is_json_media(media_type):
        return False
    body = seen.case.body
    if body is None or not isinstance(body, dict | list | str | int | float | bool):
        return body is None
    return seen.run.facts.accepts_request(seen.operation, body)


ID_NAME = re.compile(r"^(?i:id|uuid|sid)$|[_-](?i:id|uuid)$|[a-z0-9](Id|ID|Uuid)$")


def id_param(operation: Operation) -> str | None:
    tail = operation.path.rstrip("/").rpartition("/")[2]
    return tail[1:-1] if tail.startswith("{") else None


def same_id(asked: Any, kept: Any) -> bool:
    """Equal as text, either side percent-decoded: ``%C2%9D`` and ``"\\x9d"`` are one id."""
    left, right = str(asked), str(kept)
    return left == right or unquote(left) == unquote(right) or unquote(left) == right


def _same_identity(seen: Seen) -> None:
    """Judged by the field each of the path's last parameters names (``user_id``; a
    membership's ``user.login`` for ``{username}``; a repository's ``owner.login`` and
    ``name``), and by ``id`` where the parameter is an id no such field shows
    (``/users/{username}`` answers GitHub's numeric ``id``, a membership at
    ``/members/{user_id}`` its own)."""
    record = record_of(seen.body())
    params = seen.case.path_parameters or {}
    if not isinstance(record, dict):
        return
    confirmed: set[str] = set()
    for part in seen.run.facts.item_key(seen.operation):
        asked, kept = params.get(part.param), value_at(record, part.field)
        if asked is None or not _scalar(kept):
            continue
        if same_id(asked, kept) or (_names_account(part) and same_id(*_folded(asked, kept))):
            confirmed.add(part.param)
        elif _plainly_named(part):  # a guess (a license's ``name`` for ``{license}``) is
            _another(seen, part.param, asked, ".".join(part.field), kept)  # no promise
    name = id_param(seen.operation)
    asked = params.get(name) if name else None
    if asked is None or name is None or name in confirmed:
        return
    fields = [name, "id"] if ID_NAME.search(name) else [name]
    for field_name in dict.fromkeys(fields):
        kept = record.get(field_name)
        if _scalar(kept) and not same_id(asked, kept):
            _another(seen, name, asked, field_name, kept)


def _another(seen: Seen, name: str, asked: Any, field_name: str, kept: Any) -> None:
    seen.fail("GET returned another resource",
              f"Asked for {name}={asked!r}; got {field_name}={kept!r}.",
              seen.pointer(200))  # fmt: skip


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _plainly_named(part: KeyPart) -> bool:
    """The parameter names its field outright: the same name (``{user_id}``: ``user_id``),
    ``id`` for an id, an account's name for an account (``{username}``: ``user.login``), or
    a field of the object it is named after (``{owner}``: ``owner.login``)."""
    key, last = norm(part.param), norm(part.field[-1]) if part.field else ""
    return bool(last) and (
        key == last
        or (last == "id" and ID_NAME.search(part.param) is not None)
        or _names_account(part)
        or (len(part.field) > 1 and key == norm(part.field[0]))
    )


def _names_account(part: KeyPart) -> bool:
    return (
        bool(part.field)
        and norm(part.field[-1]) in ACCOUNT_NAMES
        and (norm(part.param) in ACCOUNT_NAMES or len(part.field) > 1)
    )


def _folded(asked: Any, kept: Any) -> tuple[str, str]:
    """An account's name in any case: GitHub answers ``/users/OCTOCAT`` as ``octocat``."""
    return unquote(str(asked)).casefold(), unquote(str(kept)).casefold()


def _sent(seen: Seen) -> dict[str, Any]:
    """The fields sent, out of their envelope when the answer has one (``{"data": {...}}``
    both ways, as Kinto writes them)."""
    body = record_of(seen.case.body)
    if not isinstance(body, dict):
        return {}
    hidden = seen.run.facts.writes_only(seen.operation)
    return {k: v for k, v in body.items() if k not in hidden}


def _created(seen: Seen) -> None:
    facts = seen.run.facts
    reader = facts.item_read(seen.operation.path)
    sent = _sent(seen)
    record = record_of(seen.body())
    if reader is None or not isinstance(record, dict):
        return
    reader_param = id_param(reader)
    if reader_param is not None and reader_param in sent and sent[reader_param] in ("", None):
        # the thing's own id, by the name its path reads it by: "" or null names nothing a
        # path can read back, so the server had to choose one (OpenAI's {"file_id": ""},
        # {"user_id": null} where the 3.1 schema lets it be null)
        sent = {k: v for k, v in sent.items() if k != reader_param}
    _reflects(seen, sent, record, "The created resource", answer=(seen.operation, seen.status),
              also=(reader, 200))  # fmt: skip
    identifier = _new_id(record, seen.header("location"), reader_param)
    if identifier is None or reader_param is None:
        return
    params = {**(seen.case.path_parameters or {}), reader_param: identifier}
    path = filled(reader.path, params)
    answer = seen.run.target.request("GET", path)
    if answer.status != 200:
        seen.fail("Created resource cannot be read back",
                  f"GET {path} after the create answered {answer.status}.")  # fmt: skip
    _reflects(seen, sent, record_of(answer.json()), f"GET {path} after the create",
              answer=(reader, 200))  # fmt: skip


def _changed(seen: Seen) -> None:
    sent = _sent(seen)
    if not sent:
        return
    path = seen.case.formatted_path
    answer = seen.run.target.request("GET", path)
    if answer.status != 200:
        return  # not readable with GET (or gone since): nothing to compare
    reader = seen.run.facts.operation("GET", seen.operation.path)
    _reflects(seen, sent, record_of(answer.json()), f"GET {path} after the "
              f"{seen.operation.method}", seen.pointer(),
              answer=(reader, 200) if reader is not None else None)  # fmt: skip


def _deleted(seen: Seen) -> None:
    if seen.status == 202 or seen.run.facts.operation("GET", seen.operation.path) is None:
        return  # 202: the deletion is accepted, to happen later
    path = seen.case.formatted_path
    answer = seen.run.target.request("GET", path)
    if 200 <= answer.status < 300:  # 404, 410, or a 403 that hides what is not there: gone
        reader = seen.run.facts.operation("GET", seen.operation.path)
        gap = (
            ""
            if reader is None or any(reader.response_for(code) for code in (404, 410))
            else " (the spec declares no 404 or 410 for that GET: a server cannot say it is gone)"
        )
        seen.fail("Deleted resource still there",
                  f"GET {path} after the DELETE answered {answer.status}{gap}.",
                  seen.pointer())  # fmt: skip


def _new_id(record: dict[str, Any], location: str | None, param: str | None) -> str | None:
    """The created thing's key as its reader's parameter names it: the field so named, or
    named by its last word (``team_slug``: ``slug``, ``milestone_number``: ``number``), then
    the ``Location`` header, then ``id``."""
    words = re.split(r"[_-]|(?<=[a-z0-9])(?=[A-Z])", param or "")
    for name in dict.fromkeys([param, words[-1].lower() if len(words) > 1 else None]):
        value = record.get(name) if name else None
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    if location:
        return unquote(location.rstrip("/").rpartition("/")[2]) or None
    if isinstance(record.get("id"), str | int):
        return str(record["id"])
    return None


def _reflects(seen: Seen, sent: dict[str, Any], record: Any, what: str,
              pointer: str | None = None, *, answer: tuple[Operation, int] | None = None,
              also: tuple[Operation, int] | None = None) -> None:  # fmt: skip
    """Each sent field the record shows, compared; not one whose sent value the answer's
    schema cannot hold (``answer``: the operation and status that answered; ``also``: the
    item's reader, for a create whose answer declares less than it shows)."""
    if not isinstance(record, dict):
        return
    facts = seen.run.facts
    answers = [each for each in (answer, also) if each is not None]
    for name, value in sent.items():
        if not all(facts.carries(*each, name, value) for each in answers):
            continue
        if name in record and not same_value(value, record[name]):
            seen.fail("Sent values not kept",
                      f"{what} has {name}={record[name]!r}; the request sent {value!r}.",
                      pointer)  # fmt: skip


def same_value(sent: Any, kept: Any) -> bool:
    """Equal as JSON, allowing what servers rightly normalise: email case, a datetime's
    spelling, and fields an object keeps beside the ones sent."""
    if isinstance(sent, dict) and isinstance(kept, dict):
        return all(k in kept and same_value(v, kept[k]) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(kept, list):
        return len(sent) == len(kept) and all(map(same_value, sent, kept))
    if isinstance(sent, str) and isinstance(kept, str):
        if sent == kept or ("@" in sent and sent.lower() == kept.lower()):
            return True
        return _instant(sent) is not None and _instant(sent) == _instant(kept)
    if isinstance(sent, bool) or isinstance(kept, bool):
        return sent is kept
    if isinstance(sent, int | float) and isinstance(kept, int | float):
        return math.isclose(sent, kept, rel_tol=1e-9, abs_tol=1e-9)
    return bool(sent == kept)


def _instant(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
