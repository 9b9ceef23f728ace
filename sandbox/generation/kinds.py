"""Kinds of value and how to make them: a `Kind` says which JSON types a property name's value
can fill and how; `KINDS` holds one per kind, each made by a small producer function.

`Realism` wraps one Faker generator (Faker keeps its rng as state, so the caller keeps one per
thread) and is driven entirely by the `random.Random` plugged into it. names.py says which kind a
property name asks for.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from faker import Factory

Scope = dict[str, Any]
Text = Callable[["Realism", Scope], "str | datetime | date"]
Range = tuple[float, float]

_DAY = 86400
_YEAR = 365 * _DAY
_NON_ALNUM = re.compile(r"[^a-z0-9]")

# Real ISO 4217 codes, weighted towards the ones APIs actually see.
CURRENCIES = (
    "USD",
    "USD",
    "USD",
    "EUR",
    "EUR",
    "GBP",
    "JPY",
    "CAD",
    "AUD",
    "CHF",
    "CNY",
    "SEK",
    "NZD",
    "MXN",
    "SGD",
    "HKD",
    "NOK",
    "KRW",
    "INR",
    "BRL",
    "ZAR",
    "DKK",
    "PLN",
)
_STATUSES = ("active", "active", "pending", "inactive", "completed", "archived")
_ROLES = ("admin", "member", "member", "viewer", "owner", "editor")
_GENDERS = ("female", "male", "non-binary")
_LOCALES = ("en-US", "en-GB", "fr-FR", "de-DE", "es-ES", "it-IT", "ja-JP", "pt-BR", "nl-NL")
_LANGUAGES = ("en", "en", "fr", "de", "es", "it", "ja", "pt", "nl", "zh")
_COLORS = ("red", "green", "blue", "navy", "teal", "purple", "orange", "olive", "maroon", "gray")
_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.{m} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{m} Mobile/15E148 Safari/604.1",
)


@dataclass(frozen=True)
class Kind:
    """What a property name suggests, per JSON type; `None` means the name says nothing."""

    text: Text | None = None
    formats: frozenset[str] = frozenset()  # string formats `text` satisfies
    integer: Range | Callable[[Realism], Range] | None = None
    number: tuple[float, float, int] | None = None  # low, high, decimals
    natural: str = "string"  # JSON type to use when the schema has none


def ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits only, so emails and usernames stay valid."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NON_ALNUM.sub("", folded)


def _fast_random_element(provider: Any) -> None:
    """Give a Faker provider a weighted `random_element` that caches cumulative weights.

    Faker rebuilds the cumulative weights of its big name tables on every call (~40 µs);
    this keeps them per table so `first_name()` costs ~2 µs. Same rng, same kind of draw.
    """
    original = provider.random_element
    cache: dict[int, tuple[Any, tuple[Any, ...], list[float]]] = {}

    def random_element(elements: Any = ("a", "b", "c")) -> Any:
        if isinstance(elements, OrderedDict) and provider.__use_weighting__:
            entry = cache.get(id(elements))
            if entry is None or entry[0] is not elements:
                weights = list(accumulate(elements.values()))
                entry = cache[id(elements)] = (elements, tuple(elements), weights)
            return provider.generator.random.choices(entry[1], cum_weights=entry[2])[0]
        return original(elements)

    provider.random_element = random_element


class Realism:
    """One Faker generator plus the anchor date, driven by whatever rng is plugged in."""

    def __init__(self, locale: str, seed: int | None, anchor: datetime) -> None:
        # Typed Any: Faker attaches its provider methods at run time.
        self.gen: Any = Factory.create(locale)
        for provider in self.gen.providers:
            _fast_random_element(provider)
        if seed is not None:
            self.gen.seed_instance(seed)
        self.anchor = anchor
        stamp = int(anchor.timestamp())
        self.epoch_range: Range = (stamp - _YEAR, stamp)

    @property
    def rng(self) -> Any:
        """The rng currently plugged into Faker (the one `generate` was given)."""
        return self.gen.random

    def past(self, span: int = _YEAR) -> datetime:
        """A moment in the `span` seconds before the anchor."""
        return self.anchor - timedelta(seconds=self.rng.randrange(60, span))

    def future(self, span: int = _YEAR) -> datetime:
        """A moment in the `span` seconds after the anchor."""
        return self.anchor + timedelta(seconds=self.rng.randrange(_DAY, span))

    def persona(self, scope: Scope) -> tuple[str, str]:
        """First and last name shared by one object, so name, email and username agree."""
        person = scope.get("persona")
        if person is None:
            person = scope["persona"] = (self.gen.first_name(), self.gen.last_name())
        return person

    def hex(self, chars: int) -> str:
        """`chars` random lower-case hex digits."""
        return format(self.rng.getrandbits(chars * 4), f"0{chars}x")

    def domain(self) -> str:
        """A plausible company domain such as `hartman-lee.com`."""
        return f"{ascii_word(self.gen.last_name())}.{self.gen.tld()}"


# --- producers: one small function per kind -------------------------------------------------


def _first(r: Realism, s: Scope) -> str:
    return r.persona(s)[0]


def _last(r: Realism, s: Scope) -> str:
    return r.persona(s)[1]


def _full(r: Realism, s: Scope) -> str:
    first, last = r.persona(s)
    return f"{first} {last}"


def _ascii_persona(r: Realism, s: Scope) -> tuple[str, str]:
    """The persona's names as ASCII; non-Latin locales fall back to Faker's romanized names."""
    first, last = (ascii_word(p) for p in r.persona(s))
    if not (first and last):
        first, last = "", ""
        for _ in range(3):
            first, last = ascii_word(r.gen.user_name()), ascii_word(r.gen.user_name())
            if first and last:
                break
    return first or "user", last or "name"


def _local_part(r: Realism, s: Scope) -> str:
    first, last = _ascii_persona(r, s)
    shapes = (
        f"{first}.{last}",
        f"{first}{last}",
        f"{first[0]}{last}",
        f"{first}.{last}{r.rng.randrange(1, 100)}",
        f"{first}_{last[0]}",
    )
    return r.rng.choice(shapes)


def _email(r: Realism, s: Scope) -> str:
    return f"{_local_part(r, s)}@{r.gen.free_email_domain()}"


def _username(r: Realism, s: Scope) -> str:
    first, last = _ascii_persona(r, s)
    shapes = (
        f"{first}{last}",
        f"{first}.{last}",
        f"{first[0]}{last}{r.rng.randrange(10, 99)}",
        f"{first}_{r.rng.randrange(1, 999)}",
    )
    return r.rng.choice(shapes)


def _phone(r: Realism, s: Scope) -> str:
    if r.rng.random() < 0.6:  # E.164, what APIs usually carry
        return f"+1{r.rng.randrange(2, 10)}{r.rng.randrange(10**8, 10**9)}"
    return str(r.gen.phone_number())


def _url(r: Realism, s: Scope) -> str:
    path = r.rng.choice(("", "about", "products", "blog", "docs", "contact"))
    return f"https://www.{r.domain()}/{path}"


def _image_url(r: Realism, s: Scope) -> str:
    size = r.rng.choice((128, 256, 400, 640))
    return f"https://picsum.photos/seed/{r.hex(10)}/{size}/{size}"


def _sentence(r: Realism, s: Scope) -> str:
    return str(r.gen.sentence(nb_words=r.rng.randrange(6, 14)))


def _title(r: Realism, s: Scope) -> str:
    return " ".join(w.capitalize() for w in r.gen.words(r.rng.randrange(2, 5)))


def _word(r: Realism, s: Scope) -> str:
    return str(r.gen.word())


def _slug(r: Realism, s: Scope) -> str:
    return "-".join(r.gen.words(r.rng.randrange(2, 4)))


def _money_text(r: Realism, s: Scope) -> str:
    return f"{r.rng.uniform(1, 500):.2f}"


def _ipv4(r: Realism, s: Scope) -> str:
    first = r.rng.choice((23, 34, 45, 52, 64, 81, 93, 104, 142, 151, 172, 185, 203, 212))
    return f"{first}.{r.rng.randrange(256)}.{r.rng.randrange(256)}.{r.rng.randrange(1, 255)}"


def _ipv6(r: Realism, s: Scope) -> str:
    return "2001:db8:" + ":".join(format(r.rng.getrandbits(16), "x") for _ in range(6))


def _user_agent(r: Realism, s: Scope) -> str:
    shape = r.rng.choice(_BROWSERS)
    return shape.format(v=r.rng.randrange(110, 131), m=r.rng.randrange(0, 6))


def _sku(r: Realism, s: Scope) -> str:
    letters = "".join(r.rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=3))
    return f"{letters}-{r.rng.randrange(10000, 99999)}"


def _version(r: Realism, s: Scope) -> str:
    return f"{r.rng.randrange(0, 5)}.{r.rng.randrange(0, 20)}.{r.rng.randrange(0, 30)}"


def _password(r: Realism, s: Scope) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!@#$%^&*"
    body = "".join(r.rng.choices(alphabet, k=r.rng.randrange(10, 16)))
    return "Aa1!" + body


def _created(r: Realism, s: Scope) -> datetime:
    """Shared per object, so `updated` can follow it whichever comes first."""
    moment = s.get("created")
    if moment is None:
        moment = s["created"] = r.past()
    return moment


def _updated(r: Realism, s: Scope) -> datetime:
    created = _created(r, s)
    room = int((r.anchor - created).total_seconds())
    return created + timedelta(seconds=r.rng.randrange(0, max(room, 1)))


def _pick(options: tuple[str, ...]) -> Text:
    """A producer that picks one of `options`."""
    return lambda r, s: r.rng.choice(options)


def _faker(method: str, **kwargs: Any) -> Text:
    """A producer that calls a Faker method by name."""
    return lambda r, s: str(getattr(r.gen, method)(**kwargs))


def _chars(alphabet: str, size: int) -> Text:
    """A producer of `size` random characters from `alphabet`."""
    return lambda r, s: "".join(r.rng.choices(alphabet, k=size))


_TIMES = frozenset({"date-time", "date", "time"})
_URLS = frozenset({"uri", "url", "iri", "uri-reference", "iri-reference"})
_EMAILS = frozenset({"email", "idn-email"})
_HOSTS = frozenset({"hostname", "idn-hostname"})


def _epoch(r: Realism) -> Range:
    return r.epoch_range


KINDS: dict[str, Kind] = {
    "first_name": Kind(_first),
    "last_name": Kind(_last),
    "full_name": Kind(_full),
    "username": Kind(_username),
    "email": Kind(_email, _EMAILS),
    "phone": Kind(_phone),
    "address": Kind(_faker("street_address")),
    "address2": Kind(_faker("secondary_address")),
    "full_address": Kind(lambda r, s: r.gen.address().replace("\n", ", ")),
    "street": Kind(_faker("street_name")),
    "city": Kind(_faker("city")),
    "state": Kind(_faker("state")),
    "state_code": Kind(_faker("state_abbr")),
    "country": Kind(_faker("country")),
    "country_code": Kind(_faker("country_code")),
    "postcode": Kind(_faker("postcode")),
    "company": Kind(_faker("company")),
    "job_title": Kind(_faker("job")),
    "url": Kind(_url, _URLS),
    "image_url": Kind(_image_url, _URLS),
    "domain": Kind(lambda r, s: r.domain(), _HOSTS),
    "sentence": Kind(_sentence),
    "title": Kind(_title),
    "word": Kind(_word),
    "currency": Kind(_pick(CURRENCIES)),
    "money": Kind(_money_text, integer=(1, 1000), number=(1.0, 500.0, 2), natural="number"),
    "count": Kind(integer=(1, 20), number=(1.0, 20.0, 0), natural="integer"),
    "age": Kind(integer=(18, 80), number=(18.0, 80.0, 0), natural="integer"),
    "year": Kind(integer=(1990, 2026), natural="integer"),
    "rating": Kind(integer=(1, 5), number=(1.0, 5.0, 1), natural="number"),
    "percent": Kind(integer=(0, 100), number=(0.0, 100.0, 2), natural="number"),
    "latitude": Kind(
        lambda r, s: f"{r.rng.uniform(-90, 90):.6f}", number=(-90.0, 90.0, 6), natural="number"
    ),
    "longitude": Kind(
        lambda r, s: f"{r.rng.uniform(-180, 180):.6f}", number=(-180.0, 180.0, 6), natural="number"
    ),
    "page": Kind(integer=(1, 10), natural="integer"),
    "page_size": Kind(integer=(10, 100), natural="integer"),
    "offset": Kind(integer=(0, 100), natural="integer"),
    "pixels": Kind(integer=(100, 2000), natural="integer"),
    "port": Kind(integer=(1024, 65535), natural="integer"),
    "seconds": Kind(integer=(1, 3600), natural="integer"),
    "priority": Kind(integer=(1, 5), natural="integer"),
    "weight": Kind(integer=(1, 100), number=(0.1, 100.0, 2), natural="number"),
    "color": Kind(lambda r, s: f"#{r.hex(6)}"),
    "color_name": Kind(_pick(_COLORS)),
    "ipv4": Kind(_ipv4, frozenset({"ipv4"})),
    "ipv6": Kind(_ipv6, frozenset({"ipv6"})),
    "user_agent": Kind(_user_agent),
    "locale": Kind(_pick(_LOCALES)),
    "language": Kind(_pick(_LANGUAGES)),
    "timezone": Kind(_faker("timezone")),
    "sku": Kind(_sku),
    "slug": Kind(_slug),
    "status": Kind(_pick(_STATUSES)),
    "role": Kind(_pick(_ROLES)),
    "gender": Kind(_pick(_GENDERS)),
    "token": Kind(lambda r, s: r.hex(40)),
    "hash": Kind(lambda r, s: r.hex(64)),
    "version": Kind(_version, integer=(1, 10)),
    "id": Kind(lambda r, s: r.hex(24), integer=(1, 100000)),
    "password": Kind(_password, frozenset({"password"})),
    "mime_type": Kind(_faker("mime_type")),
    "file_name": Kind(_faker("file_name")),
    "file_path": Kind(_faker("file_path")),
    "iban": Kind(_faker("iban")),
    "card_number": Kind(_faker("credit_card_number")),
    "code": Kind(_chars("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 6)),
    "created": Kind(_created, _TIMES, integer=_epoch),
    "updated": Kind(_updated, _TIMES, integer=_epoch),
    "past": Kind(lambda r, s: r.past(), _TIMES, integer=_epoch),
    "future": Kind(lambda r, s: r.future(), _TIMES),
    "date": Kind(lambda r, s: r.past().date(), _TIMES),
    "birth_date": Kind(lambda r, s: r.past(80 * _YEAR).date() - timedelta(days=18 * 365), _TIMES),
    "time": Kind(lambda r, s: r.past().strftime("%H:%M:%S"), frozenset({"time"})),
}
