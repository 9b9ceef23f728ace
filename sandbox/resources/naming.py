"""Reading what paths, parameters and operations mean, for resource inference.

Real specs name things their own way: an item template may carry a suffix
(``/Messages/{Sid}.json``), the path parameter that names an item may not be the id field's
name (``{playlist_id}`` names a playlist's ``id``, ``{Sid}`` its ``sid``, Stripe's
``{customer}`` a customer's ``id``), and an update may be a POST (``modifyVectorStore``,
``UpdateMessage``). These helpers answer those questions from names, by meaning rather than
by spelling: case and separators never count.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.spec.model import Operation
from sandbox.spec.schemas import merged
from sandbox.spec.words import norm

# a path segment that names an item: ``{id}``, or ``{Sid}.json`` (a format suffix)
ITEM_SEGMENT = re.compile(r"^\{([^{}]+)\}(\.[A-Za-z0-9]+)?$")
_SUFFIX = re.compile(r"\.(json|xml|yaml|yml|csv|txt)$", re.IGNORECASE)
# what an operation's own words say when it changes an existing item
_UPDATE_WORDS = {"update", "updates", "modify", "modifies", "edit", "edits", "change", "changes",
                 "rename", "renames", "patch"}  # fmt: skip
_ID_ENDINGS = ("id", "sid", "uuid", "key", "name", "slug", "code", "sha", "identifier")


def stem(segment: str) -> str:
    """A collection segment without its format suffix: ``Messages.json`` is ``Messages``."""
    return _SUFFIX.sub("", segment)


def suffix(segment: str) -> str:
    """The format suffix of a segment (``.json`` of ``{Sid}.json``), or ""."""
    found = _SUFFIX.search(segment)
    return found.group(0) if found else ""


# what an account is named by in a path: an account's login is its user name
ACCOUNT_NAMES = ("login", "username", "handle", "screenname")
_NAME_FIELDS = (*ACCOUNT_NAMES[:2], "name", "slug", "key", "handle")


def id_field_for(
    param: str, singular: str, properties: dict[str, Any], *, text: bool = False
) -> str | None:
    """The item property a path parameter names, by meaning, or None when none fits.

    In order: the property of the same name (case and separators aside: ``{Sid}`` is
    ``sid``); for a parameter that names an account (``{username}``), the item's account
    name (``login``); the parameter less the resource's own name (``{playlist_id}`` of a
    playlist is its ``id``, ``{customer}`` of a customer its ``id``); ``id`` itself where the
    item has one; the longest property the parameter ends with (``{BrandVettingSid}``:
    ``sid``); for an item with no id at all, its ``name`` (or login, slug, key, handle).

    ``text``: the parameter is declared a string. A bare noun then (``{repo}``, ``{org}``,
    no ``_id`` of its own) does not name a numeric ``id``: such items are named by their
    login or name, as the numeric id could not be written in that parameter's place.
    """
    by_norm = {norm(name): name for name in properties}
    key = norm(param)
    if key in by_norm:
        return by_norm[key]
    if key in ACCOUNT_NAMES:
        account = next((by_norm[n] for n in ACCOUNT_NAMES if n in by_norm), None)
        if account is not None:
            return account
    numeric = {n for n in by_norm if _numeric(properties[by_norm[n]])}
    bare = text and not key.endswith(_ID_ENDINGS)
    own = norm(singular)
    if own and key.startswith(own):
        rest = key[len(own) :] or "id"
        if rest in by_norm and not (bare and rest in numeric):
            return by_norm[rest]
    ids = "id" in by_norm and not (bare and "id" in numeric)
    if ids and (key.endswith(_ID_ENDINGS) or key.startswith(own) or own in key):
        return by_norm["id"]
    endings = [n for n in by_norm if len(n) >= 2 and key.endswith(n) and n.endswith(_ID_ENDINGS)]
    if endings:
        return by_norm[max(endings, key=len)]
    if ids:
        return by_norm["id"]
    # an item with no id of any kind is named by its name (DigitalOcean's tag: {tag_id}
    # is the tag's ``name``, the only thing that identifies it)
    return next((by_norm[n] for n in _NAME_FIELDS if n in by_norm), None)


def _numeric(schema: Any) -> bool:
    """A schema that says a number and not text."""
    if not isinstance(schema, dict):
        return False
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    return bool(kinds & {"integer", "number"}) and "string" not in kinds


def says_update(operation: Operation) -> bool:
    """The operation's own words (operationId, summary) say it changes the item."""
    text = f"{operation.operation_id} {operation.raw.get('summary') or ''}"
    return not _UPDATE_WORDS.isdisjoint(words(text))


def words(text: str) -> set[str]:
    """The lower-case words of an identifier or a sentence (``modifyVectorStore``,
    ``UpdateMessage``, ``change-playlist-details``)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return {word.lower() for word in re.split(r"[^A-Za-z0-9]+", spaced) if word}


def body_properties(spec: Any, operation: Operation) -> dict[str, Any] | None:
    """The request body's properties in any media type (JSON or a form), allOf merged."""
    content = (operation.request_body or {}).get("content")
    if not isinstance(content, dict):
        return None
    for media in content.values():
        if isinstance(media, dict):
            schema = merged(spec.deref, media.get("schema"))
            if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
                return dict(schema["properties"])
    return None


def is_partial_of(body: dict[str, Any] | None, item: dict[str, Any]) -> bool:
    """A request body most of whose fields are the item's own (by meaning): a partial."""
    if not body:
        return False
    own = {norm(name) for name in item}
    shared = sum(norm(name) in own for name in body)
    return shared * 2 >= len(body)


def answers_no_body(spec: Any, operation: Operation) -> bool:
    """Every success the operation declares is answered with no body (a 204): a GET that
    says yes or no (``GET /user/following/{username}``), a PUT that sets without showing."""
    declared = [operation.response_for(s) for s in operation.success_statuses]
    return bool(declared) and all(
        found is not None and not (spec.deref(found[1]) or {}).get("content") for found in declared
    )
