"""Validator classes whose discriminator keywords survive any instance.

openapi-schema-validator looks a discriminator's value up in the mapping as it is: a body
whose ``kind`` is a list or an object (``{"kind": ["cat"]}``) raised ``TypeError:
unhashable type`` from inside ``oneOf``, so a hostile request got a 500 and the contract
runner crashed judging one. Here the value must be text (a branch's name) before the
library's handling runs; anything else is one plain validation error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend

_KEYWORDS = ("oneOf", "anyOf", "allOf")


def _named_by_text(keyword: Callable[..., Any]) -> Callable[..., Iterator[ValidationError]]:
    def check(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        discriminator = schema.get("discriminator") if isinstance(schema, dict) else None
        if isinstance(discriminator, dict) and isinstance(instance, dict):
            name = discriminator.get("propertyName")
            found = instance.get(name) if isinstance(name, str) else None
            if isinstance(name, str) and found is not None and not isinstance(found, str):
                yield ValidationError(
                    f"must be a string naming a branch (the discriminator's property), "
                    f"not {_kind(found)}",
                    path=deque([name]),
                )
                return
        yield from keyword(validator, value, instance, schema) or ()

    return check


def _reads_discriminators(keyword: Any) -> bool:
    """openapi-schema-validator's keywords (and ours around them) read a discriminator; a
    plain JSON Schema dialect's do not, and are left as they are."""
    module = getattr(keyword, "__module__", "") or ""
    return module.startswith(("openapi_schema_validator", "sandbox."))


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a boolean" if isinstance(value, bool) else "a number"


@lru_cache(maxsize=64)  # per class: a spec's own lenient class is made once per document
def guarded(cls: Any) -> Any:
    """``cls`` with its discriminator-reading keywords checking the value's type first."""
    wrapped = {
        k: _named_by_text(cls.VALIDATORS[k])
        for k in _KEYWORDS
        if _reads_discriminators(cls.VALIDATORS.get(k))
    }
    if not wrapped:
        return cls
    made = extend(cls, wrapped)
    made.guarded_from = cls  # what it is otherwise: the accept compiler knows classes by name
    return made


def unguarded(cls: Any) -> Any:
    """The class ``guarded`` was made from (``cls`` itself when it was not)."""
    return getattr(cls, "guarded_from", cls)
