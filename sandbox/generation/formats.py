"""String formats: a realistic value for each `format` a schema may name. Dates and times come
from the realism's anchor day, emails, URLs and hosts from the kinds property names use
(names.py), and `render` puts any kind's value into the schema's format. When a format's natural
values cannot meet tight length bounds, `stretch` builds a valid one of the wanted length, and
`fit` cuts or pads free text."""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sandbox.generation.kinds import Realism, Scope
from sandbox.generation.names import kind_for
from sandbox.generation.patterns import LOWER, WORDCH


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render(value: Any, fmt: str | None) -> str:
    """A kind's value as a string in the schema's format (dates follow `fmt`)."""
    if isinstance(value, datetime):
        if fmt == "date":
            return value.date().isoformat()
        if fmt == "time":
            return value.strftime("%H:%M:%S")
        return _iso(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z" if fmt == "date-time" else value.isoformat()
    return str(value)


def _uuid(r: Realism, s: Scope) -> str:
    return str(uuid.UUID(int=r.rng.getrandbits(128), version=4))


def _byte(r: Realism, s: Scope) -> str:
    return base64.b64encode(r.rng.randbytes(r.rng.randrange(6, 24))).decode()


def _duration(r: Realism, s: Scope) -> str:
    shapes = ("P{d}D", "PT{h}H", "PT{m}M", "P{d}DT{h}H", "PT{h}H{m}M")
    return r.rng.choice(shapes).format(
        d=r.rng.randrange(1, 30), h=r.rng.randrange(1, 24), m=r.rng.randrange(1, 60)
    )


def _decimal(r: Realism, s: Scope) -> str:
    """A decimal number as text (Stripe's ``unit_amount_decimal``): clients parse it with
    ``Decimal``, so words would break them."""
    whole = r.rng.randrange(1, 10_000)
    return str(whole) if r.rng.random() < 0.5 else f"{whole}.{r.rng.randrange(100):02d}"


def _kind_text(name: str) -> Callable[[Realism, Scope], Any]:
    kind = kind_for(name)
    assert kind is not None and kind.text is not None
    return kind.text


FORMATS: dict[str, Callable[[Realism, Scope], Any]] = {
    "date-time": lambda r, s: r.past(),
    "date": lambda r, s: r.past().date(),
    "time": lambda r, s: r.past().strftime("%H:%M:%S"),
    "email": _kind_text("email"),
    "idn-email": _kind_text("email"),
    "uri": _kind_text("url"),
    "url": _kind_text("url"),
    "iri": _kind_text("url"),
    "uri-reference": _kind_text("url"),
    "iri-reference": _kind_text("url"),
    "uri-template": lambda r, s: f"https://api.{r.domain()}/v1/{r.gen.word()}s/{{id}}",
    "hostname": _kind_text("domain"),
    "idn-hostname": _kind_text("domain"),
    "ipv4": _kind_text("ip"),
    "ipv6": _kind_text("ipv6"),
    "uuid": _uuid,
    "byte": _byte,
    "binary": lambda r, s: "".join(r.rng.choices(WORDCH, k=r.rng.randrange(8, 24))),
    "password": _kind_text("password"),
    "duration": _duration,
    "regex": lambda r, s: r.rng.choice(("^[a-z0-9_-]{3,16}$", "^\\d{5}$", "^[A-Z]{2,3}$")),
    "json-pointer": lambda r, s: f"/{r.gen.word()}/{r.rng.randrange(5)}",
    "relative-json-pointer": lambda r, s: f"{r.rng.randrange(3)}/{r.gen.word()}",
    "color": lambda r, s: f"#{r.hex(6)}",
    "decimal": _decimal,
}


def _letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choices(LOWER, k=count))


def stretch(fmt: str, low: int, high: int, rng: random.Random) -> str | None:
    """A valid `fmt` string whose length is forced into [low, high], for tight bounds."""
    maker = _STRETCH.get(fmt)
    if maker is None or low > high:
        return None
    top = min(high, low + 8)
    return maker(rng.randint(low, top), rng) or maker(top, rng)


def _stretch_email(size: int, rng: random.Random) -> str | None:
    return _letters(rng, size - 2) + "@" + _letters(rng, 1) if size >= 3 else None


def _stretch_uri(size: int, rng: random.Random) -> str | None:
    if size >= 14:
        return "https://ex.io/" + _letters(rng, size - 14)
    return "x:" + _letters(rng, size - 2) if size >= 3 else None


def _stretch_host(size: int, rng: random.Random) -> str | None:
    if not 1 <= size <= 253:
        return None
    labels, left = [], size
    while left > 63:
        labels.append(_letters(rng, 60))
        left -= 61
    labels.append(_letters(rng, left))
    return ".".join(labels)


def _stretch_byte(size: int, rng: random.Random) -> str | None:
    return base64.b64encode(rng.randbytes(size // 4 * 3)).decode() if size % 4 == 0 else None


_STRETCH: dict[str, Callable[[int, random.Random], str | None]] = {
    "email": _stretch_email,
    "idn-email": _stretch_email,
    "uri": _stretch_uri,
    "url": _stretch_uri,
    "iri": _stretch_uri,
    "uri-reference": lambda n, rng: _letters(rng, n),
    "iri-reference": lambda n, rng: _letters(rng, n),
    "hostname": _stretch_host,
    "idn-hostname": _stretch_host,
    "byte": _stretch_byte,
    "password": lambda n, rng: _letters(rng, n),
    "binary": lambda n, rng: _letters(rng, n),
    "decimal": lambda n, rng: "".join(rng.choices("123456789", k=n)) if n else None,
}


def fit(text: str, low: int, high: int, rng: random.Random) -> str:
    """Cut or pad free text to [low, high] characters."""
    if len(text) > high:
        text = text[:high].rstrip()
    if len(text) < low:
        text += _letters(rng, low - len(text))
    return text
