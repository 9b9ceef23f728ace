"""Schema-first, realism-second fake data for OpenAPI 3.0 / 3.1 schemas.

Every value is built to satisfy its schema by construction: `$ref`s and `allOf` are flattened into
one set of constraints, then types, formats, patterns, bounds and object/array rules drive the
generator. Within those constraints `x-faker` hints, spec examples and the property's name choose
realistic values. Keywords that can't be satisfied by construction (`not`, exclusive `oneOf`,
`if`, `dependentSchemas`, ...) are checked with a cached validator and retried.

Output depends only on (schema, name, mode, rng): Faker is driven by the rng we are handed.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from re import _constants as _sc  # type: ignore[attr-defined]
from re import _parser as _sp  # type: ignore[attr-defined]
from typing import Any, Literal
from urllib.parse import unquote

from openapi_schema_validator import OAS30Validator, OAS31Validator

from sandbox.errors import UnsatisfiableSchema
from sandbox.generation.names import Kind, Realism, Scope, kind_for, singular

Mode = Literal["response", "request"]

_INF = 1 << 40
_MISS: Any = object()
_RETRIES = 8
_CACHE_LIMIT = 50_000
_OPTIONAL_P = 0.85
_NULL_P = 0.1
_DEFAULT_P = 0.25
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ALL_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_SCALARS = ("string", "integer", "number", "boolean")
_INT_NATURAL = (1, 1000)
_NUM_NATURAL = (1.0, 1000.0, 2)
_FORMAT_INT_BOUNDS = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}
_OBJECT_KEYS = (
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "dependentRequired",
)
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")
_STRING_KEYS = ("minLength", "maxLength", "pattern")
_NUMBER_KEYS = ("_lo", "_hi", "multipleOf")
_CHECKED = frozenset(
    {
        "not",
        "if",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedItems",
        "contains",
        "$dynamicRef",
        "additionalItems",
    }
)


def stable_rng(*parts: object) -> random.Random:
    """A `random.Random` seeded from a hashlib digest of the parts, stable across restarts.

    `hash()` is salted per process, so it would give different data after a restart.
    """
    text = "\x1f".join(f"{type(part).__name__}:{part!r}" for part in parts)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


# --- regular expressions -----------------------------------------------------------------------
# Patterns are parsed once with Python's own regex parser into a small tree that knows the
# shortest and longest string each part can match, so a target length can be shared out and
# minLength/maxLength are met by construction instead of by luck.

_LIT, _SET, _SEQ, _ALT, _REP, _GRP, _REF, _NIL = range(8)
_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
_LATIN = "àáâäçèéêëìíîïñòóôöùúûüßæøå"
_DIGITS = "0123456789"
_WORDCH = _LOWER + _LOWER.upper() + _DIGITS + "_"
_CATEGORY_CHARS = {
    _sc.CATEGORY_DIGIT: _DIGITS,
    _sc.CATEGORY_WORD: _WORDCH,
    _sc.CATEGORY_SPACE: " ",
    _sc.CATEGORY_NOT_DIGIT: "".join(c for c in _PRINTABLE if c not in _DIGITS),
    _sc.CATEGORY_NOT_WORD: "".join(c for c in _PRINTABLE if c not in _WORDCH),
    _sc.CATEGORY_NOT_SPACE: _PRINTABLE.replace(" ", ""),
}
_STARTS = (_sc.AT_BEGINNING, _sc.AT_BEGINNING_STRING)
_ENDS = (_sc.AT_END, _sc.AT_END_STRING)


class _Rx:
    """One node of a parsed pattern, with the length range it can produce."""

    __slots__ = ("arg", "hi", "kids", "lo", "op")

    def __init__(
        self, op: int, arg: Any = None, kids: Sequence[_Rx] = (), lo: int = 0, hi: int = 0
    ) -> None:
        self.op, self.arg, self.kids, self.lo, self.hi = op, arg, kids, lo, hi


def _charset(items: Sequence[tuple[Any, Any]]) -> str:
    """The characters a `[...]` class allows, limited to printable ones where possible."""
    chars: set[str] = set()
    negate = False
    for op, av in items:
        if op is _sc.NEGATE:
            negate = True
        elif op is _sc.LITERAL:
            chars.add(chr(av))
        elif op is _sc.RANGE:
            chars.update(_range_chars(av[0], av[1]))
        elif op is _sc.CATEGORY:
            chars.update(_CATEGORY_CHARS.get(av, ""))
    if negate:
        allowed = [c for c in _PRINTABLE + _LATIN if c not in chars]
        return "".join(allowed)
    return "".join(sorted(chars))


def _range_chars(low: int, high: int) -> str:
    """Characters of a range, preferring printable ASCII when the range is huge."""
    if high - low <= 256:
        return "".join(chr(c) for c in range(low, high + 1))
    ascii_part = "".join(chr(c) for c in range(max(low, 0x20), min(high, 0x7E) + 1))
    return ascii_part or "".join(chr(c) for c in range(low, low + 64))


class _RxCompiler:
    """Turns `re._parser` output into `_Rx` trees."""

    def __init__(self) -> None:
        self.groups: dict[int, _Rx] = {}

    def seq(self, items: Any) -> _Rx:
        kids: list[_Rx] = []
        for op, av in items:
            node = self.item(op, av)
            if node.op == _NIL:
                continue
            if node.op == _LIT and kids and kids[-1].op == _LIT:
                text = kids[-1].arg + node.arg
                kids[-1] = _Rx(_LIT, text, (), len(text), len(text))
                continue
            kids.append(node)
        if len(kids) == 1:
            return kids[0]
        return _Rx(_SEQ, None, kids, sum(k.lo for k in kids), min(_INF, sum(k.hi for k in kids)))

    def item(self, op: Any, av: Any) -> _Rx:
        if op is _sc.LITERAL:
            return _Rx(_LIT, chr(av), (), 1, 1)
        if op is _sc.NOT_LITERAL:
            return _Rx(_SET, _PRINTABLE.replace(chr(av), ""), (), 1, 1)
        if op is _sc.ANY:
            return _Rx(_SET, _PRINTABLE, (), 1, 1)
        if op is _sc.IN:
            return _Rx(_SET, _charset(av) or "a", (), 1, 1)
        if op is _sc.BRANCH:
            kids = [self.seq(b) for b in av[1]]
            return _Rx(_ALT, None, kids, min(k.lo for k in kids), max(k.hi for k in kids))
        if op is _sc.SUBPATTERN:
            kid = self.seq(av[-1])
            node = _Rx(_GRP, av[0], (kid,), kid.lo, kid.hi)
            if av[0]:
                self.groups[av[0]] = node
            return node
        if op in (_sc.MAX_REPEAT, _sc.MIN_REPEAT, getattr(_sc, "POSSESSIVE_REPEAT", None)):
            low, high, sub = av
            kid = self.seq(sub)
            top = _INF if high is _sc.MAXREPEAT else high
            return _Rx(_REP, (low, top), (kid,), low * kid.lo, min(_INF, top * kid.hi))
        if op is _sc.GROUPREF:
            group = self.groups.get(av)
            return _Rx(_REF, av, (), group.lo if group else 0, group.hi if group else _INF)
        if op is getattr(_sc, "ATOMIC_GROUP", None):
            return self.seq(av)
        if op is _sc.GROUPREF_EXISTS:
            yes = self.seq(av[1])
            no = self.seq(av[2]) if av[2] is not None else _Rx(_NIL)
            return _Rx(_ALT, None, [yes, no], min(yes.lo, no.lo), max(yes.hi, no.hi))
        return _Rx(_NIL)  # anchors, lookarounds: zero width (the final search checks them)


class _Pattern:
    """A compiled pattern: generation tree, anchoring and the real regex for checking."""

    __slots__ = ("end", "regex", "root", "start")

    def __init__(self, source: str) -> None:
        parsed = list(_sp.parse(source))
        self.root = _RxCompiler().seq(parsed)
        self.start = bool(parsed) and parsed[0][0] is _sc.AT and parsed[0][1] in _STARTS
        self.end = bool(parsed) and parsed[-1][0] is _sc.AT and parsed[-1][1] in _ENDS
        self.regex = re.compile(source)


_PATTERNS: dict[str, _Pattern | None] = {}


def _pattern(source: str) -> _Pattern | None:
    """The cached compiled pattern, or None when Python cannot parse it."""
    if source not in _PATTERNS:
        try:
            _PATTERNS[source] = _Pattern(source)
        except (re.error, RecursionError, TypeError, ValueError):
            _PATTERNS[source] = None
    return _PATTERNS[source]


def _split(kids: Sequence[_Rx], target: int, rng: random.Random) -> list[int]:
    """Share `target` characters among `kids`, each within its own length range."""
    shares = [k.lo for k in kids]
    extra = target - sum(shares)
    if extra <= 0:
        return shares
    caps = [max(0, min(k.hi, target) - k.lo) for k in kids]
    room = sum(caps)
    for i, cap in enumerate(caps):
        room -= cap
        take = rng.randint(max(0, extra - room), min(cap, extra))
        shares[i] += take
        extra -= take
        if extra <= 0:
            break
    return shares


def _rx_gen(
    node: _Rx, target: int, rng: random.Random, out: list[str], groups: dict[int, str]
) -> None:
    """Append a string matching `node` of about `target` characters to `out`."""
    op = node.op
    if op == _LIT:
        out.append(node.arg)
    elif op == _SET:
        out.append(rng.choice(node.arg))
    elif op == _SEQ:
        for kid, share in zip(node.kids, _split(node.kids, target, rng), strict=True):
            _rx_gen(kid, share, rng, out, groups)
    elif op == _ALT:
        fits = [k for k in node.kids if k.lo <= target <= k.hi]
        kid = (
            rng.choice(fits)
            if fits
            else min(node.kids, key=lambda k: max(k.lo - target, target - k.hi))
        )
        _rx_gen(kid, min(max(target, kid.lo), kid.hi), rng, out, groups)
    elif op == _REP:
        _rx_repeat(node, target, rng, out, groups)
    elif op == _GRP:
        start = len(out)
        _rx_gen(node.kids[0], target, rng, out, groups)
        if node.arg:
            groups[node.arg] = "".join(out[start:])
    elif op == _REF:
        out.append(groups.get(node.arg, ""))


def _rx_repeat(
    node: _Rx, target: int, rng: random.Random, out: list[str], groups: dict[int, str]
) -> None:
    """Repeat a node a number of times that lands near `target` characters."""
    kid = node.kids[0]
    low, high = node.arg
    count = _repeat_count(low, high, kid.lo, kid.hi, target, rng)
    if kid.op == _SET:
        out.append("".join(rng.choices(kid.arg, k=count)))
    elif kid.op == _LIT:
        out.append(kid.arg * count)
    else:
        for share in _split([kid] * count, target, rng):
            _rx_gen(kid, share, rng, out, groups)


def _repeat_count(
    low: int, high: int, each_lo: int, each_hi: int, target: int, rng: random.Random
) -> int:
    """How many repetitions can produce `target` characters (closest feasible if none)."""
    if each_hi == 0:
        return low
    n_lo = max(low, -(-target // each_hi)) if each_hi < _INF else max(low, 1 if target else 0)
    n_hi = min(high, target // each_lo) if each_lo else min(high, max(n_lo, target))
    if n_lo <= n_hi:
        return rng.randint(n_lo, n_hi)
    return min(max(low, n_hi), high)


def regex_string(
    source: str, min_len: int, max_len: int, rng: random.Random, also: Sequence[str] = ()
) -> str | None:
    """A string that `re.search`es `source` (and every pattern in `also`) within the lengths.

    JSON Schema patterns are unanchored, so an unanchored side may be padded to reach
    minLength. Returns None when a few attempts find nothing (unsatisfiable or unparsable).
    """
    pat = _pattern(source)
    if pat is None:
        return None
    root = pat.root
    low, high = max(min_len, root.lo), min(max_len, root.hi)
    checks = [p for p in (_pattern(a) for a in also) if p is not None]
    for _ in range(12):
        target = (
            rng.randint(low, min(high, low + 16))
            if low <= high
            else (min(max(min_len, root.lo), root.hi))
        )
        out: list[str] = []
        _rx_gen(root, target, rng, out, {})
        text = _pad("".join(out), min_len, pat, rng)
        if (
            min_len <= len(text) <= max_len
            and pat.regex.search(text)
            and all(p.regex.search(text) for p in checks)
        ):
            return text
    return None


def _pad(text: str, min_len: int, pat: _Pattern, rng: random.Random) -> str:
    """Lengthen a match on a side the pattern does not anchor."""
    need = min_len - len(text)
    if need <= 0:
        return text
    filler = "".join(rng.choices(_LOWER, k=need))
    if not pat.end:
        return text + filler
    if not pat.start:
        return filler + text
    return text


# --- numbers -----------------------------------------------------------------------------------


def _is_multiple(value: float, step: float) -> bool:
    """`multipleOf` exactly as jsonschema checks it (float division for float steps)."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(step)).denominator == 1
    return value % step == 0


def _lcm_step(a: float, b: float) -> float:
    """The smallest step both `multipleOf` values divide (exact, via fractions)."""
    fa, fb = Fraction(str(a)), Fraction(str(b))
    lcm = Fraction(math.lcm(fa.numerator, fb.numerator), math.gcd(fa.denominator, fb.denominator))
    return int(lcm) if lcm.denominator == 1 else float(lcm)


def _window(
    low: float | None, high: float | None, nat_lo: float, nat_hi: float
) -> tuple[float, float]:
    """The natural range clipped to the schema's bounds, or a same-size slice of the bounds."""
    span = nat_hi - nat_lo
    if low is not None and high is not None:
        lo, hi = max(low, nat_lo), min(high, nat_hi)
        if lo > hi or hi - lo < 0.5 * min(span, high - low):
            return low, high  # the natural range barely overlaps: use the schema's own
        return lo, hi
    lo = nat_lo if low is None else max(low, nat_lo)
    hi = nat_hi if high is None else min(high, nat_hi)
    if lo <= hi:
        return lo, hi
    if low is not None and low > nat_hi:
        return low, low + span if high is None else min(high, low + span)
    assert high is not None
    return (high - span if low is None else max(low, high - span)), high


def _int_bounds(
    lo: tuple[float, bool] | None, hi: tuple[float, bool] | None
) -> tuple[int | None, int | None]:
    """Inclusive integer bounds from (value, exclusive) pairs."""
    low = high = None
    if lo is not None and math.isfinite(lo[0]):
        low = math.floor(lo[0]) + 1 if lo[1] else math.ceil(lo[0])
    if hi is not None and math.isfinite(hi[0]):
        high = math.ceil(hi[0]) - 1 if hi[1] else math.floor(hi[0])
    return low, high


def _int_step(step: float) -> int:
    """The smallest positive integer that is a multiple of `step` (2.5 -> 5, 0.5 -> 1)."""
    fraction = abs(Fraction(str(step)))
    return fraction.numerator if fraction else 1


def _decimals(step: float) -> int:
    """How many decimals a step like 0.01 has."""
    exponent = Decimal(repr(step)).as_tuple().exponent
    return max(0, -int(exponent))


def _in_bounds(value: float, lo: tuple[float, bool] | None, hi: tuple[float, bool] | None) -> bool:
    if lo is not None and (value < lo[0] or (lo[1] and value == lo[0])):
        return False
    return not (hi is not None and (value > hi[0] or (hi[1] and value == hi[0])))


def _multiple_in(
    a: float, b: float, step: float, rng: random.Random, ok: Callable[[float], bool]
) -> float | None:
    """A multiple of `step` in [a, b] that passes `ok` (float steps need a few tries)."""
    k_lo, k_hi = math.ceil(a / step), math.floor(b / step)
    if k_lo > k_hi:
        return None
    places = _decimals(step) if isinstance(step, float) else 0
    start = rng.randint(k_lo, k_hi)
    for offset in range(60):
        k = start + (offset // 2 + 1) * (-1) ** offset if offset else start
        if not k_lo <= k <= k_hi:
            continue
        for value in _multiple_values(k, step, places):
            if ok(value) and _is_multiple(value, step):
                return value
    return None


def _multiple_values(k: int, step: float, places: int) -> Iterator[float]:
    if isinstance(step, int):
        yield k * step
        return
    yield round(k * step, places)
    yield k * step


# --- formats -----------------------------------------------------------------------------------


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


def _kind_text(name: str) -> Callable[[Realism, Scope], Any]:
    kind = kind_for(name)
    assert kind is not None and kind.text is not None
    return kind.text


_FORMATS: dict[str, Callable[[Realism, Scope], Any]] = {
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
    "binary": lambda r, s: "".join(r.rng.choices(_WORDCH, k=r.rng.randrange(8, 24))),
    "password": _kind_text("password"),
    "duration": _duration,
    "regex": lambda r, s: r.rng.choice(("^[a-z0-9_-]{3,16}$", "^\\d{5}$", "^[A-Z]{2,3}$")),
    "json-pointer": lambda r, s: f"/{r.gen.word()}/{r.rng.randrange(5)}",
    "relative-json-pointer": lambda r, s: f"{r.rng.randrange(3)}/{r.gen.word()}",
    "color": lambda r, s: f"#{r.hex(6)}",
}


def _letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choices(_LOWER, k=count))


def _stretch(fmt: str, low: int, high: int, rng: random.Random) -> str | None:
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
}


def _fit(text: str, low: int, high: int, rng: random.Random) -> str:
    """Cut or pad free text to [low, high] characters."""
    if len(text) > high:
        text = text[:high].rstrip()
    if len(text) < low:
        text += _letters(rng, low - len(text))
    return text


# --- JSON helpers ------------------------------------------------------------------------------


def _clone(value: Any) -> Any:
    """A copy of a JSON value, so callers may mutate what we return."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    """YAML gives datetimes and dates for unquoted timestamps; make them JSON strings."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def _freeze(value: Any) -> Any:
    """A hashable key with JSON equality (1 == 1.0, but True != 1) for uniqueItems."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, Mapping):
        return ("o", frozenset((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_freeze(v) for v in value))
    return ("s", value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


# --- flattening: $ref + allOf -> one set of constraints ---------------------------------------


def _and_types(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    both = a & b
    if ("number" in a and "integer" in b) or ("integer" in a and "number" in b):
        both |= {"integer"}
    return both


def _and_schemas(schemas: Sequence[Any]) -> Any:
    """One schema meaning all of `schemas` (False if any is False)."""
    kept = [s for s in schemas if s is not True and s != {}]
    if any(s is False for s in kept):
        return False
    if not kept:
        return {}
    return kept[0] if len(kept) == 1 else {"allOf": kept}


def _part_types(part: Mapping[str, Any], v30: bool) -> frozenset[str] | None:
    """Types one schema object allows (None = any); 3.0 `nullable` adds null."""
    declared = part.get("type")
    if declared is None:
        return None
    types = frozenset([declared]) if isinstance(declared, str) else frozenset(declared)
    if v30 and part.get("nullable") is True:
        types |= {"null"}
    return types


def _tighten(flat: dict[str, Any], key: str, value: Any, exclusive: bool) -> None:
    """Keep the stricter of two numeric bounds (`_lo` keeps the max, `_hi` the min)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    current = flat.get(key)
    sign = 1 if key == "_lo" else -1
    if current is None or sign * value > sign * current[0] or (value == current[0] and exclusive):
        flat[key] = (value, exclusive)


def _merge_bounds(flat: dict[str, Any], part: Mapping[str, Any]) -> None:
    """Read 3.0 (boolean) and 3.1 (numeric) exclusive bounds alike."""
    for key, low_key, ex_key in (
        ("_lo", "minimum", "exclusiveMinimum"),
        ("_hi", "maximum", "exclusiveMaximum"),
    ):
        bound, exclusive = part.get(low_key), part.get(ex_key)
        if isinstance(exclusive, bool):
            if bound is not None:
                _tighten(flat, key, bound, exclusive)
            continue
        if bound is not None:
            _tighten(flat, key, bound, False)
        if exclusive is not None:
            _tighten(flat, key, exclusive, True)


def _keep_max(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = max(flat.get(key, value), value)


def _keep_min(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = min(flat.get(key, value), value)


def _union(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    seen = flat.setdefault(key, [])
    seen.extend(v for v in value if v not in seen)


def _enum(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    values = [_jsonable(value)] if key == "const" else [_jsonable(v) for v in value or ()]
    if "enum" not in flat:
        flat["enum"] = values
        return
    keys = {_freeze(v) for v in values}
    flat["enum"] = [v for v in flat["enum"] if _freeze(v) in keys]


def _append(target: str) -> Callable[[dict[str, Any], str, Any, Mapping[str, Any]], None]:
    def add(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
        flat.setdefault(target, []).append(value)

    return add


def _needs_check(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat["_check"] = True
    flat.setdefault(key, value)


def _group(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat.setdefault("_groups", []).append((key, list(value), part.get("discriminator")))


def _disc(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    if "oneOf" not in part and "anyOf" not in part:
        flat.setdefault("_disc", value)


def _multiple(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    current = flat.get(key)
    flat[key] = value if current is None or current == value else _lcm_step(current, value)


def _items(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = value if key not in flat else _and_schemas([flat[key], value])


def _flag(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = bool(flat.get(key)) or value is True


def _examples(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    found = flat.setdefault("_examples", [])
    if key == "example":
        found.append(_jsonable(value))
    elif isinstance(value, list):
        found.extend(_jsonable(v) for v in value)


def _cond(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    """`if/then/else` becomes a choice: (if and then) or (else); the check rejects a bad mix."""
    flat["_check"] = True
    then = _and_schemas([value, part.get("then", True)])
    flat.setdefault("_groups", []).append(("if", [then, part.get("else", True)], None))


def _not(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat["_check"] = True
    if isinstance(value, Mapping) and set(value) == {"type"}:
        banned = _part_types(value, False) or frozenset()
        flat["_banned"] = flat.get("_banned", frozenset()) | banned
    flat.setdefault("_not", []).append(value)


def _ignore(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    return None


Merger = Callable[[dict[str, Any], str, Any, Mapping[str, Any]], None]
_MERGE: dict[str, Merger] = {
    **dict.fromkeys(
        (
            "type",
            "nullable",
            "$ref",
            "allOf",
            "title",
            "description",
            "$schema",
            "$id",
            "$comment",
            "deprecated",
            "xml",
            "externalDocs",
            "then",
            "else",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "properties",
            "patternProperties",
            "additionalProperties",
            "unevaluatedProperties",
            "$defs",
            "definitions",
            "$anchor",
        ),
        _ignore,
    ),
    **dict.fromkeys(("minLength", "minItems", "minProperties", "minContains"), _keep_max),
    **dict.fromkeys(("maxLength", "maxItems", "maxProperties", "maxContains"), _keep_min),
    **dict.fromkeys(("oneOf", "anyOf"), _group),
    **dict.fromkeys(_CHECKED, _needs_check),
    **dict.fromkeys(("readOnly", "writeOnly", "uniqueItems"), _flag),
    **dict.fromkeys(("example", "examples"), _examples),
    "required": _union,
    "enum": _enum,
    "const": _enum,
    "pattern": _append("_patterns"),
    "multipleOf": _multiple,
    "items": _items,
    "discriminator": _disc,
    "if": _cond,
    "not": _not,
}


def _pattern_hit(part: Mapping[str, Any], name: str) -> bool:
    return any(re.search(p, name) for p in part.get("patternProperties") or ())


def _merge_objects(flat: dict[str, Any], parts: Sequence[Mapping[str, Any]]) -> None:
    """Union properties; a closed part (additionalProperties false/schema) constrains the rest."""
    props: dict[str, list[Any]] = {}
    patterns: dict[str, list[Any]] = {}
    for part in parts:
        for name, schema in (part.get("properties") or {}).items():
            props.setdefault(name, []).append(schema)
        for pat, schema in (part.get("patternProperties") or {}).items():
            patterns.setdefault(pat, []).append(schema)
    closers = [p for p in parts if p.get("additionalProperties", True) is not True]
    for name, schemas in props.items():
        for closer in closers:
            if name not in (closer.get("properties") or {}) and not _pattern_hit(closer, name):
                schemas.append(closer["additionalProperties"])
    flat["properties"] = {name: _and_schemas(s) for name, s in props.items()}
    flat["patternProperties"] = {pat: _and_schemas(s) for pat, s in patterns.items()}
    extras = [c["additionalProperties"] for c in closers]
    if any(p.get("unevaluatedProperties") is False for p in parts):
        extras.append(False)
    flat["additionalProperties"] = _and_schemas(extras) if extras else True


def merge_parts(parts: Sequence[Mapping[str, Any]], v30: bool) -> dict[str, Any]:
    """Merge schema objects that must all hold (allOf) into one flat constraint dict."""
    flat: dict[str, Any] = {}
    types: frozenset[str] | None = None
    for part in parts:
        part_types = _part_types(part, v30)
        if part_types is not None:
            types = part_types if types is None else _and_types(types, part_types)
        _merge_bounds(flat, part)
        for key, value in part.items():
            merger = _MERGE.get(key)
            if merger is None:
                flat.setdefault(key, value)
            else:
                merger(flat, key, value, part)
    if any(
        k in p
        for p in parts
        for k in (
            "properties",
            "additionalProperties",
            "patternProperties",
            "unevaluatedProperties",
        )
    ):
        _merge_objects(flat, parts)
    banned = flat.get("_banned")
    if banned:
        types = (types if types is not None else _ALL_TYPES) - banned
    flat["_types"] = types
    return flat


# --- compiled nodes ----------------------------------------------------------------------------


class _Prop:
    """One property of an object plan, with the mode flags of its schema."""

    __slots__ = ("name", "required", "ro", "schema", "wo")

    def __init__(self, name: str, schema: Any, required: bool, ro: bool, wo: bool) -> None:
        self.name, self.schema, self.required, self.ro, self.wo = name, schema, required, ro, wo


class _Plan:
    """How to build an object: its properties in order, and how to make extra keys."""

    __slots__ = ("byname", "deps", "extra", "high", "low", "names", "patterns", "props")

    def __init__(self) -> None:
        self.props: list[_Prop] = []
        self.byname: dict[str, _Prop] = {}
        self.extra: Any = True
        self.patterns: dict[str, Any] = {}
        self.names: Any = None
        self.low, self.high = 0, _INF
        self.deps: dict[str, list[str]] = {}


class _Node:
    """A schema compiled for generation: flattened constraints plus lazily built caches."""

    __slots__ = (
        "base_parts",
        "check",
        "contains",
        "contains_schema",
        "cost",
        "default",
        "default_ok",
        "enum",
        "examples",
        "flat",
        "fmt",
        "force",
        "groups",
        "guessable",
        "hi",
        "inferred",
        "int_hi",
        "int_lo",
        "is_object",
        "items",
        "lo",
        "max_items",
        "max_len",
        "merged",
        "min_contains",
        "min_items",
        "min_len",
        "multiple",
        "parts",
        "patterns",
        "plan",
        "prefix",
        "ro",
        "soft",
        "src",
        "types",
        "unique",
        "valid_enum",
        "valid_examples",
        "wo",
        "xfaker",
    )

    def __init__(self, src: Any, parts: list[Mapping[str, Any]], flat: dict[str, Any]) -> None:
        self.src, self.parts, self.flat = src, parts, flat
        get = flat.get
        self.types: frozenset[str] | None = get("_types")
        self.inferred = _infer_types(flat)
        self.enum: list[Any] | None = get("enum")
        self.examples: list[Any] = get("_examples", [])
        self.default = _jsonable(flat["default"]) if "default" in flat else _MISS
        self.xfaker = get("x-faker")
        self.groups: list[tuple[str, list[Any], Any]] = get("_groups", [])
        self.check = bool(get("_check")) or any(
            kind == "oneOf" and not disc for kind, _, disc in self.groups
        )
        self.ro, self.wo = bool(get("readOnly")), bool(get("writeOnly"))
        self.patterns: list[str] = get("_patterns", [])
        self.fmt: str | None = get("format")
        self.min_len, self.max_len = get("minLength", 0), get("maxLength", _INF)
        self.lo, self.hi = get("_lo"), get("_hi")
        self.int_lo, self.int_hi = _int_bounds(self.lo, self.hi)
        if self.fmt in _FORMAT_INT_BOUNDS:
            f_lo, f_hi = _FORMAT_INT_BOUNDS[self.fmt]
            self.int_lo = f_lo if self.int_lo is None else max(self.int_lo, f_lo)
            self.int_hi = f_hi if self.int_hi is None else min(self.int_hi, f_hi)
        self.multiple = get("multipleOf")
        self.items = get("items")
        self.prefix: list[Any] = get("prefixItems", [])
        self.min_items, self.max_items = get("minItems", 0), get("maxItems", _INF)
        self.unique = bool(get("uniqueItems"))
        self.contains = get("contains")
        self.min_contains = get("minContains", 1)
        self.contains_schema = (
            None
            if self.contains is None
            else _and_schemas([self.items if self.items is not None else {}, self.contains])
        )
        self.is_object = any(k in flat for k in _OBJECT_KEYS)
        self.plan: _Plan | None = None
        self.force: dict[str, Any] = {}
        self.guessable: dict[int, bool] = {}  # id(Kind) -> can its values match the patterns
        self.soft: tuple[str, str] | None = None
        self.cost: int | None = None
        self.valid_enum: list[Any] | None = None
        self.valid_examples: dict[str, list[Any]] = {}
        self.default_ok: bool | None = None
        self.merged: dict[tuple[int, ...], _Node] = {}
        self.base_parts: list[Mapping[str, Any]] | None = None
        if self.patterns and self.fmt:
            self.check = True


def _infer_types(flat: Mapping[str, Any]) -> tuple[str, ...]:
    """Types implied by keywords when a schema has no `type`."""
    found = []
    for name, keys in (
        ("object", _OBJECT_KEYS),
        ("array", _ARRAY_KEYS),
        ("string", _STRING_KEYS),
        ("number", _NUMBER_KEYS),
    ):
        if any(k in flat for k in keys):
            found.append(name)
    if not found and flat.get("format") in _FORMAT_INT_BOUNDS:
        found.append("integer")
    elif not found and flat.get("format") in ("float", "double"):
        found.append("number")
    elif not found and flat.get("format"):
        found.append("string")
    return tuple(found)


class _Ctx:
    """Per-value state: rng, mode, depth, property name, the object's realism scope, and
    `fresh` (skip spec examples/defaults below here, so list items differ)."""

    __slots__ = ("depth", "fresh", "mode", "name", "real", "rng", "scope")

    def __init__(
        self,
        rng: random.Random,
        mode: Mode,
        real: Realism,
        depth: int,
        name: str | None,
        scope: Scope,
        fresh: bool = False,
    ) -> None:
        self.rng, self.mode, self.real, self.depth = rng, mode, real, depth
        self.name, self.scope, self.fresh = name, scope, fresh

    def child(self, name: str | None, scope: Scope, fresh: bool = False) -> _Ctx:
        return _Ctx(
            self.rng, self.mode, self.real, self.depth + 1, name, scope, fresh or self.fresh
        )


# --- the generator -----------------------------------------------------------------------------


class DataFaker:
    """Schema-first, realism-second value generator.

    Caches compiled schemas and validators by object identity, so pass the same (pre-bundled)
    spec objects each time. Thread-safe: each thread gets its own Faker generator.
    """

    def __init__(
        self,
        resolve: Callable[[str], Any],
        *,
        seed: int | None = None,
        locale: str = "en_US",
        max_depth: int = 4,
        openapi_version: str = "3.1",
    ) -> None:
        self._resolve = resolve
        self.seed = seed
        self.locale = locale
        self.max_depth = max_depth
        # Chance a valid spec example is used where one exists (1.0: examples win, per the
        # precedence). Lower it (e.g. 0 for a "dynamic" mode) for more varied data.
        self.example_rate = 1.0
        self.v30 = str(openapi_version).startswith("3.0")
        # Dates are relative to today (UTC midnight), so data is stable for a day across restarts.
        self.anchor = datetime.now(UTC).replace(
            hour=0, minute=0, second=0, microsecond=0, tzinfo=None
        )
        self._local = threading.local()
        self._nodes: dict[int, tuple[Any, _Node]] = {}
        self._validators: dict[int, tuple[Any, Any]] = {}
        self._by_type: dict[str, Callable[[_Node, _Ctx], Any]] = {
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
            "boolean": lambda node, ctx: ctx.rng.random() < 0.5,
            "null": lambda node, ctx: None,
            "array": self._array,
            "object": self._object,
        }

    # public -------------------------------------------------------------------------------

    def generate(
        self,
        schema: Mapping[str, Any] | bool,
        *,
        rng: random.Random,
        name: str | None = None,
        mode: Mode = "response",
        fresh: bool = False,
    ) -> Any:
        """A value valid for `schema`, realistic for `name`, for a response or a request body.

        ``fresh`` skips the spec's examples and defaults: for records that must differ, such
        as stored resources and their ids."""
        real = self._realism()
        real.gen.random = rng
        ctx = _Ctx(rng, mode, real, 0, name, {}, fresh)
        return self._gen(schema, ctx)

    def is_valid(self, schema: Any, value: Any) -> bool:
        """Whether `value` validates against `schema` (cached OpenAPI validator, formats on)."""
        return bool(self._validator(schema).is_valid(value))

    # plumbing -----------------------------------------------------------------------------

    def _realism(self) -> Realism:
        real = getattr(self._local, "real", None)
        if real is None:
            real = self._local.real = Realism(self.locale, self.seed, self.anchor)
        return real

    def _node(self, schema: Any) -> _Node:
        entry = self._nodes.get(id(schema))
        if entry is not None and entry[0] is schema:
            return entry[1]
        if len(self._nodes) > _CACHE_LIMIT:
            self._nodes.clear()
        node = self._build(schema)
        self._nodes[id(schema)] = (schema, node)
        return node

    def _build(self, schema: Any) -> _Node:
        parts = self._parts(schema, frozenset())
        node = _Node(schema, parts, merge_parts(parts, self.v30))
        if schema is False or any("_false" in p for p in parts):
            node.types = frozenset()
        disc = node.flat.get("_disc")
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        if disc and isinstance(ref, str):
            key = _disc_key(ref, disc)
            if key is not None:
                node.soft = (disc["propertyName"], key)
        return node

    def _parts(self, schema: Any, seen: frozenset[int]) -> list[Mapping[str, Any]]:
        """The schema objects that must all hold: itself, its `$ref` target and `allOf`."""
        if schema is True or schema is None:
            return []
        if schema is False:
            return [{"_false": True}]
        if id(schema) in seen:
            return []
        seen = seen | {id(schema)}
        ref = schema.get("$ref")
        if "$ref" not in schema and "allOf" not in schema:
            return [schema]
        parts: list[Mapping[str, Any]] = [
            {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
        ]
        if isinstance(ref, str):
            parts += self._parts(self._resolve(ref), seen)
        for member in schema.get("allOf") or ():
            parts += self._parts(member, seen)
        return parts

    def _validator(self, schema: Any) -> Any:
        entry = self._validators.get(id(schema))
        if entry is None or entry[0] is not schema:
            cls = OAS30Validator if self.v30 else OAS31Validator
            entry = (schema, cls(self._ref_root(schema), format_checker=cls.FORMAT_CHECKER))
            self._validators[id(schema)] = entry
        return entry[1]

    def _valid(self, schema: Any, value: Any) -> bool:
        return bool(self._validator(schema).is_valid(value))

    def _try_resolve(self, ref: str) -> Any:
        try:
            return self._resolve(ref)
        except (KeyError, LookupError, ValueError, TypeError):
            return None

    def _ref_root(self, schema: Any) -> dict[str, Any]:
        """A root document holding `schema` and every `$ref` target it reaches, at its pointer."""
        root: dict[str, Any] = {"allOf": [schema]}
        for ref in sorted(self._reachable_refs(schema), key=len):
            _place(root, ref, self._resolve(ref))
        root.pop("\x00ours", None)
        return root

    def _reachable_refs(self, schema: Any) -> set[str]:
        refs: set[str] = set()
        stack = [schema]
        while stack:
            item = stack.pop()
            if isinstance(item, Mapping):
                for key, value in item.items():
                    if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
                        if value not in refs and (target := self._try_resolve(value)) is not None:
                            refs.add(value)
                            stack.append(target)
                    elif key == "mapping" and isinstance(value, Mapping):
                        for target_ref in value.values():
                            if (
                                isinstance(target_ref, str)
                                and target_ref.startswith("#/")
                                and target_ref not in refs
                                and (target := self._try_resolve(target_ref)) is not None
                            ):
                                refs.add(target_ref)
                                stack.append(target)
                    else:
                        stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)
        return refs

    # generation ---------------------------------------------------------------------------

    def _gen(self, schema: Any, ctx: _Ctx) -> Any:
        if ctx.depth > self.max_depth + 40:
            raise UnsatisfiableSchema("schema requires unbounded nesting")
        return self._checked(self._node(schema), ctx)

    def _checked(self, node: _Node, ctx: _Ctx) -> Any:
        """Generate; when the node has keywords we only satisfy best-effort, verify and retry."""
        value = self._value(node, ctx)
        if not node.check:
            return value
        for _ in range(_RETRIES):
            if self._valid(node.src, value):
                return value
            value = self._value(node, ctx)
        return value

    def _value(self, node: _Node, ctx: _Ctx) -> Any:
        """Precedence: x-faker > example > default (sometimes) > enum/const > composition > type."""
        if node.xfaker is not None:
            value = self._xfaker(node, ctx)
            if value is not _MISS:
                return value
        if (
            node.examples
            and not ctx.fresh
            and (self.example_rate >= 1 or ctx.rng.random() < self.example_rate)
        ):
            valid = self._valid_examples(node, ctx.mode)
            if valid:
                return _clone(ctx.rng.choice(valid))
        if (
            node.default is not _MISS
            and not ctx.fresh
            and ctx.rng.random() < _DEFAULT_P
            and (self._default_ok(node))
        ):
            return _clone(node.default)
        if node.enum is not None:
            valid = self._valid_enum(node)
            if valid:
                return _clone(ctx.rng.choice(valid))
        if node.groups:
            return self._branch(node, ctx)
        return self._by_type[self._pick_type(node, ctx)](node, ctx)

    def _pick_type(self, node: _Node, ctx: _Ctx) -> str:
        types: Sequence[str]
        if node.types is None:
            kind = kind_for(ctx.name)
            types = node.inferred or ((kind.natural if kind else "string"),)
        else:
            types = sorted(node.types)
        if len(types) == 1:
            return types[0]
        if not types:
            return "null"
        bound = ctx.depth >= self.max_depth
        if "null" in types and (bound or ctx.rng.random() < _NULL_P):
            return "null"
        rest = [t for t in types if t != "null"]
        if bound:
            rest = [t for t in rest if t in _SCALARS] or rest
        return ctx.rng.choice(rest)

    # precedence helpers ---------------------------------------------------------------------

    def _xfaker(self, node: _Node, ctx: _Ctx) -> Any:
        """Call the Faker provider an `x-faker` hint names; use it only if it validates."""
        hint = node.xfaker
        method, args, kwargs = _parse_hint(hint)
        provider = getattr(ctx.real.gen, method, None)
        if provider is None:
            return _MISS
        try:
            value = _coerce(provider(*args, **kwargs), node)
        except Exception:
            return _MISS
        return value if self._valid(node.src, value) else _MISS

    def _valid_examples(self, node: _Node, mode: Mode) -> list[Any]:
        found = node.valid_examples.get(mode)
        if found is None:
            stripped = (self._strip(ex, node, mode) for ex in node.examples)
            found = node.valid_examples[mode] = [ex for ex in stripped if self._valid(node.src, ex)]
        return found

    def _default_ok(self, node: _Node) -> bool:
        if node.default_ok is None:
            node.default_ok = self._valid(node.src, node.default)
        return node.default_ok

    def _valid_enum(self, node: _Node) -> list[Any]:
        if node.valid_enum is None:
            node.valid_enum = [v for v in node.enum or () if self._valid(node.src, v)]
        return node.valid_enum

    def _strip(self, value: Any, node: _Node, mode: Mode) -> Any:
        """Drop properties an example may not carry in this mode (readOnly in requests...)."""
        if isinstance(value, dict) and node.is_object:
            plan = self._plan(node)
            out = {}
            for key, item in value.items():
                prop = plan.byname.get(key)
                if prop is not None and self._blocked(prop, mode):
                    continue
                if prop is not None and isinstance(prop.schema, Mapping):
                    item = self._strip(item, self._node(prop.schema), mode)
                out[key] = item
            return out
        if isinstance(value, list) and isinstance(node.items, Mapping):
            child = self._node(node.items)
            return [self._strip(v, child, mode) for v in value]
        return value

    # composition ----------------------------------------------------------------------------

    def _branch(self, node: _Node, ctx: _Ctx) -> Any:
        """Pick one branch per oneOf/anyOf, merge it into the rest and generate from that.

        A oneOf whose branches overlap (two string branches, say) accepts no value that fits
        both, so a value matching several is made again from each other branch in turn."""
        picks = tuple(self._choose(branches, disc, ctx) for _, branches, disc in node.groups)
        value, exclusive = self._from_picks(node, picks, ctx)
        if exclusive:
            return value
        for index, (kind, branches, disc) in enumerate(node.groups):
            if kind != "oneOf" or disc:
                continue
            others = [i for i in range(len(branches)) if i != picks[index]]
            ctx.rng.shuffle(others)
            for other in others:
                trial = (*picks[:index], other, *picks[index + 1 :])
                value, exclusive = self._from_picks(node, trial, ctx)
                if exclusive:
                    return value
        return value

    def _from_picks(self, node: _Node, picks: tuple[int, ...], ctx: _Ctx) -> tuple[Any, bool]:
        merged = node.merged.get(picks)
        if merged is None:
            merged = node.merged[picks] = self._merge_branches(node, picks)
        value = self._checked(merged, ctx)
        exclusive = True
        for (kind, branches, disc), pick in zip(node.groups, picks, strict=True):
            if kind == "oneOf" and not disc:
                self._exclude_others(value, branches, pick, merged)
                exclusive = exclusive and self._matches_one(value, branches)
        return value, exclusive

    def _matches_one(self, value: Any, branches: list[Any]) -> bool:
        return sum(1 for branch in branches if self._valid(branch, value)) <= 1

    def _choose(self, branches: list[Any], disc: Any, ctx: _Ctx) -> int:
        indices = list(range(len(branches)))
        if disc:
            keyed = [i for i in indices if _disc_key(_ref_of(branches[i]), disc) is not None]
            indices = keyed or indices
        if ctx.depth >= self.max_depth:
            return min(indices, key=lambda i: self._cost(branches[i], ()))
        return ctx.rng.choice(indices)

    def _merge_branches(self, node: _Node, picks: tuple[int, ...]) -> _Node:
        if node.base_parts is None:
            drop = (
                "oneOf",
                "anyOf",
                "if",
                "example",
                "examples",
                "default",
                "x-faker",
                "enum",
                "const",
            )
            node.base_parts = [{k: v for k, v in p.items() if k not in drop} for p in node.parts]
        parts = list(node.base_parts)
        force: dict[str, Any] = {}
        for (_, branches, disc), pick in zip(node.groups, picks, strict=True):
            branch = branches[pick]
            parts += self._parts(branch, frozenset())
            key = _disc_key(_ref_of(branch), disc) if disc else None
            if key is not None:
                force[disc["propertyName"]] = key
        merged = _Node(node.src, parts, merge_parts(parts, self.v30))
        if force:  # a spec may constrain the property to other values than the schema's name
            plan = self._plan(merged)
            force = {
                name: key
                for name, key in force.items()
                if (prop := plan.byname.get(name)) is None or self._valid(prop.schema, key)
            }
        merged.force = force
        merged.check = merged.check and not node.check
        return merged

    def _exclude_others(self, value: Any, branches: list[Any], pick: int, merged: _Node) -> None:
        """Make an object fail the oneOf branches it was not built from (open objects overlap).

        Adds a property another branch declares, with a value of a type it forbids, where the
        chosen branch allows extra properties. Only runs when the value matches several.
        """
        if not isinstance(value, dict):
            return
        for i, branch in enumerate(branches):
            if i == pick or not self._valid(branch, value):
                continue
            self._poison(value, self._node(branch), merged)

    def _poison(self, value: dict[str, Any], other: _Node, merged: _Node) -> None:
        plan, mine = self._plan(other), self._plan(merged)
        if mine.extra is False:
            return
        for prop in plan.props:
            if prop.name in value or prop.name in mine.byname or prop.schema is False:
                continue
            if any(re.search(p, prop.name) for p in mine.patterns):
                continue
            allowed = self._node(prop.schema).types
            bad_values: tuple[Any, ...] = ("", 0, True, [], {})
            for bad in bad_values:
                if (
                    allowed is not None
                    and _json_type(bad) not in allowed
                    and (mine.extra is True or self._valid(mine.extra, bad))
                ):
                    value[prop.name] = bad
                    return

    def _cost(self, schema: Any, stack: tuple[int, ...]) -> int:
        """How much nesting the smallest valid value needs (cycles count as huge)."""
        node = self._node(schema)
        if node.cost is not None:
            return node.cost
        if id(node) in stack or len(stack) > 30:
            return 1000
        stack = (*stack, id(node))
        cost = self._cost_of(node, stack)
        node.cost = cost
        return cost

    def _cost_of(self, node: _Node, stack: tuple[int, ...]) -> int:
        types = node.types if node.types is not None else (node.inferred or ("string",))
        if node.enum or node.examples or any(t in types for t in (*_SCALARS, "null")):
            return 0
        cost = sum(
            min((self._cost(b, stack) for b in branches), default=0)
            for _, branches, _ in node.groups
        )
        if "object" in types:
            plan = self._plan(node)
            cost += sum(1 + self._cost(p.schema, stack) for p in plan.props if p.required)
        if "array" in types and node.min_items:
            cost += 1 + self._cost(node.items if node.items is not None else {}, stack)
        return cost

    # strings --------------------------------------------------------------------------------

    def _string(self, node: _Node, ctx: _Ctx) -> str:
        kind = kind_for(ctx.name)
        low, high = node.min_len, node.max_len
        if node.patterns:
            return self._pattern_string(node, kind, ctx)
        if node.fmt:
            text = self._format_string(node, kind, ctx)
            if text is not None:
                return text
        if kind is not None and kind.text is not None:
            return _fit(render(kind.text(ctx.real, ctx.scope), None), low, high, ctx.rng)
        return _fit(self._words(ctx), low, high, ctx.rng)

    def _pattern_string(self, node: _Node, kind: Kind | None, ctx: _Ctx) -> str:
        """Realistic value if it happens to match, else one built from the pattern."""
        low, high = node.min_len, node.max_len
        text = kind.text if kind is not None else None
        if text is not None and not self._guessable(node, kind, ctx):  # type: ignore[arg-type]
            text = None
        for _ in range(3 if text is not None else 0):
            guess = render(text(ctx.real, ctx.scope), node.fmt)  # type: ignore[misc]
            if _fits(node, guess):
                return guess
        made = regex_string(node.patterns[0], low, high, ctx.rng, node.patterns[1:])
        return made if made is not None else _fit(self._words(ctx), low, high, ctx.rng)

    def _guessable(self, node: _Node, kind: Kind, ctx: _Ctx) -> bool:
        """Whether the name's realistic values can meet the node's patterns at all (``id``
        values never match ``^req_[A-Za-z0-9]{16}$``). Found once per node and kind from 32
        values drawn with a private rng, so the answer does not depend on the requests seen;
        when none fits, the pattern builds the value at once instead of after three misses."""
        known = node.guessable.get(id(kind))
        if known is None:
            real = ctx.real
            plugged = real.gen.random
            real.gen.random = random.Random(0x5EED)
            try:
                known = any(
                    _fits(node, render(kind.text(real, {}), node.fmt))  # type: ignore[misc]
                    for _ in range(32)
                )
            except Exception:
                known = True  # let the guesses themselves find out, as before
            finally:
                real.gen.random = plugged
            node.guessable[id(kind)] = known
        return known

    def _format_string(self, node: _Node, kind: Kind | None, ctx: _Ctx) -> str | None:
        fmt = node.fmt
        assert fmt is not None
        maker: Callable[[Realism, Scope], Any] | None
        if kind is not None and kind.text is not None and fmt in kind.formats:
            maker = kind.text
        else:
            maker = _FORMATS.get(fmt)
            if maker is None:
                hinted = kind_for(fmt)
                maker = hinted.text if hinted is not None and hinted.text else None
            if maker is None:
                return None
        low, high = node.min_len, node.max_len
        text = ""
        for _ in range(4):
            text = render(maker(ctx.real, ctx.scope), fmt)
            if low <= len(text) <= high:
                return text
        return _stretch(fmt, low, high, ctx.rng) or text

    def _words(self, ctx: _Ctx) -> str:
        return " ".join(ctx.real.gen.words(ctx.rng.randint(1, 3)))

    # numbers --------------------------------------------------------------------------------

    def _integer(self, node: _Node, ctx: _Ctx) -> int:
        kind = kind_for(ctx.name)
        natural = kind.integer if kind is not None and kind.integer is not None else _INT_NATURAL
        if callable(natural):
            natural = natural(ctx.real)
        low, high = node.int_lo, node.int_hi
        a, b = _window(low, high, natural[0], natural[1])
        a, b = math.ceil(a), math.floor(b)
        step = node.multiple
        if step is None:
            return ctx.rng.randint(a, b) if a <= b else a
        base = _int_step(step)

        def ok(v: float) -> bool:
            return _is_multiple(v, step)

        value = _multiple_in(a, b, base, ctx.rng, ok)
        if value is None and (low is not None or high is not None):
            wide_lo = low if low is not None else a - 1000 * base
            wide_hi = high if high is not None else b + 1000 * base
            value = _multiple_in(wide_lo, wide_hi, base, ctx.rng, ok)
        return int(value) if value is not None else 0

    def _number(self, node: _Node, ctx: _Ctx) -> float | int:
        kind = kind_for(ctx.name)
        nat_lo, nat_hi, places = kind.number if kind is not None and kind.number else _NUM_NATURAL
        lo, hi = node.lo, node.hi
        a, b = _window(lo[0] if lo else None, hi[0] if hi else None, nat_lo, nat_hi)
        as_float = node.fmt in ("float", "double") or places > 0

        def ok(v: float) -> bool:
            return _in_bounds(v, lo, hi)

        if node.multiple is not None:
            value = _multiple_in(a, b, node.multiple, ctx.rng, ok)
            if value is None:
                value = _multiple_in(
                    lo[0] if lo else a - 1e6, hi[0] if hi else b + 1e6, node.multiple, ctx.rng, ok
                )
            value = value if value is not None else a
        else:
            value = _float_in(a, b, places, ctx.rng, ok)
            if value is None and (lo or hi):
                value = _float_in(
                    lo[0] if lo else b - 1000, hi[0] if hi else a + 1000, places, ctx.rng, ok
                )
            value = value if value is not None else a
        return float(value) if as_float or isinstance(value, float) else int(value)

    # arrays ---------------------------------------------------------------------------------

    def _array(self, node: _Node, ctx: _Ctx) -> list[Any]:
        count = self._array_size(node, ctx)
        items = node.items if node.items is not None else {}
        prefix = node.prefix
        if items is False:
            count = min(count, len(prefix))
        item_name = singular(ctx.name)
        out: list[Any] = []
        seen: set[Any] = set()
        attempts = 0
        while len(out) < count and attempts < count * 8 + 8:
            attempts += 1
            schema = prefix[len(out)] if len(out) < len(prefix) else items
            # The first item may be the spec's example; the rest (and retries) are generated.
            fresh = attempts > 1
            value = self._gen(schema, ctx.child(item_name, {}, fresh))
            if node.unique:
                key = _freeze(value)
                if key in seen:
                    continue
                seen.add(key)
            out.append(value)
        if node.contains is not None:
            self._add_contained(node, ctx, out, items, item_name)
        return out

    def _array_size(self, node: _Node, ctx: _Ctx) -> int:
        low, high = node.min_items, node.max_items
        if node.contains is not None:
            low = max(0, low - node.min_contains)
        if ctx.depth >= self.max_depth:
            return low
        start = max(low, 1 if high >= 1 else 0)
        size = ctx.rng.randint(start, max(start, min(high, start + 2)))
        if node.unique and node.items is not None:
            enum = self._node(node.items).enum
            if enum is not None:
                size = max(low, min(size, len(enum)))
        return size

    def _add_contained(
        self, node: _Node, ctx: _Ctx, out: list[Any], items: Any, name: str | None
    ) -> None:
        """Insert `minContains` items that match `contains` (and `items`)."""
        schema = node.contains_schema
        for _ in range(max(node.min_contains, 0)):
            if len(out) >= node.max_items:
                break
            out.insert(
                ctx.rng.randint(len(node.prefix), max(len(node.prefix), len(out))),
                self._gen(schema, ctx.child(name, {}, True)),
            )

    # objects --------------------------------------------------------------------------------

    def _plan(self, node: _Node) -> _Plan:
        if node.plan is None:
            node.plan = self._make_plan(node.flat)
        return node.plan

    def _make_plan(self, flat: Mapping[str, Any]) -> _Plan:
        plan = _Plan()
        props = flat.get("properties") or {}
        required = list(flat.get("required") or ())
        plan.patterns = dict(flat.get("patternProperties") or {})
        plan.extra = flat.get("additionalProperties", True)
        plan.names = flat.get("propertyNames")
        plan.low, plan.high = flat.get("minProperties", 0), flat.get("maxProperties", _INF)
        plan.deps = dict(flat.get("dependentRequired") or {})
        for name in [*props, *(r for r in required if r not in props)]:
            schema = props[name] if name in props else self._extra_schema(plan, name)
            hits = [s for p, s in plan.patterns.items() if re.search(p, name)]
            if hits:
                schema = _and_schemas([schema, *hits])
            child = self._node(schema) if schema is not False else None
            prop = _Prop(
                name, schema, name in required, bool(child and child.ro), bool(child and child.wo)
            )
            plan.props.append(prop)
            plan.byname[name] = prop
        return plan

    def _extra_schema(self, plan: _Plan, name: str) -> Any:
        """The schema an undeclared key must satisfy (pattern matches, else additional)."""
        hits = [s for p, s in plan.patterns.items() if re.search(p, name)]
        if hits:
            return _and_schemas(hits)
        return {} if plan.extra is True else plan.extra

    def _blocked(self, prop: _Prop, mode: Mode) -> bool:
        """readOnly stays out of requests, writeOnly out of responses.

        3.0 says a required readOnly/writeOnly property is required only where it may appear;
        3.1 (plain JSON Schema) keeps `required` absolute, so required ones stay.
        """
        flag = prop.wo if mode == "response" else prop.ro
        return flag and (self.v30 or not prop.required)

    def _object(self, node: _Node, ctx: _Ctx) -> dict[str, Any]:
        plan = self._plan(node)
        chosen = self._choose_props(node, plan, ctx)
        extras = self._extra_keys(plan, ctx, chosen)
        scope: Scope = {}
        out: dict[str, Any] = {}
        for prop in chosen:
            if prop.name in node.force:
                out[prop.name] = node.force[prop.name]
            else:
                out[prop.name] = self._gen(prop.schema, ctx.child(prop.name, scope))
        for key, schema in extras:
            out[key] = self._gen(schema, ctx.child(key, scope))
        for key, value in node.force.items():
            out.setdefault(key, value)
        if node.soft is not None:
            self._apply_soft(node, plan, out)
        return out

    def _choose_props(self, node: _Node, plan: _Plan, ctx: _Ctx) -> list[_Prop]:
        bound = ctx.depth >= self.max_depth
        rng, mode = ctx.rng, ctx.mode
        chosen: list[_Prop] = []
        optional: list[_Prop] = []
        for prop in plan.props:
            if prop.name in node.force:
                chosen.append(prop)
            elif prop.schema is False or self._blocked(prop, mode):
                continue
            elif prop.required or (not bound and rng.random() < _OPTIONAL_P):
                chosen.append(prop)
            else:
                optional.append(prop)
        if plan.deps:
            chosen = self._with_dependencies(plan, chosen, optional)
        while len(chosen) > plan.high:
            drop = [p for p in chosen if not p.required and p.name not in node.force]
            if not drop:
                break
            chosen.remove(rng.choice(drop))
        while len(chosen) < plan.low and optional:
            chosen.append(optional.pop(0))
        order = {p.name: i for i, p in enumerate(plan.props)}
        chosen.sort(key=lambda p: order[p.name])
        return chosen

    def _with_dependencies(
        self, plan: _Plan, chosen: list[_Prop], optional: list[_Prop]
    ) -> list[_Prop]:
        """Add what `dependentRequired` asks for, transitively."""
        names = {p.name for p in chosen}
        queue = list(names)
        while queue:
            for dep in plan.deps.get(queue.pop(), ()):
                if dep not in names and dep in plan.byname:
                    names.add(dep)
                    queue.append(dep)
        moved = [p for p in optional if p.name in names]
        for prop in moved:
            optional.remove(prop)
        return chosen + moved

    def _extra_keys(self, plan: _Plan, ctx: _Ctx, chosen: list[_Prop]) -> list[tuple[str, Any]]:
        """Keys beyond the declared ones: maps (additionalProperties schema) and minProperties."""
        room = plan.high - len(chosen)
        need = max(0, plan.low - len(chosen))
        maplike = not plan.props and (
            (isinstance(plan.extra, Mapping) and plan.extra != {}) or bool(plan.patterns)
        )
        want = need
        if maplike and ctx.depth < self.max_depth:
            want = max(need, ctx.rng.randint(1, 3))
        want = min(want, room)
        if want <= 0 or (plan.extra is False and not plan.patterns):
            return []
        taken = set(plan.byname)
        out: list[tuple[str, Any]] = []
        for _ in range(want * 6):
            if len(out) >= want:
                break
            key = self._extra_name(plan, ctx)
            schema = self._extra_schema(plan, key) if key is not None else False
            if key is None or key in taken or schema is False:
                continue
            taken.add(key)
            out.append((key, schema))
        return out

    def _extra_name(self, plan: _Plan, ctx: _Ctx) -> str | None:
        if plan.names is not None and plan.names is not True:
            name = self._gen(plan.names, ctx.child(None, {}))
            return name if isinstance(name, str) else None
        if plan.patterns and (plan.extra is False or ctx.rng.random() < 0.7):
            source = ctx.rng.choice(sorted(plan.patterns))
            name = regex_string(source, 1, 40, ctx.rng)
            longer = f"{name}{ctx.real.gen.word()}"
            pat = _pattern(source)
            if name is not None and pat is not None and len(name) < 4 and pat.regex.search(longer):
                return longer
            return name
        return str(ctx.real.gen.word())

    def _apply_soft(self, node: _Node, plan: _Plan, out: dict[str, Any]) -> None:
        """Subtype objects get their discriminator set to their own mapping key when allowed."""
        assert node.soft is not None
        prop_name, key = node.soft
        prop = plan.byname.get(prop_name)
        if prop_name in out and prop is not None and self._valid(prop.schema, key):
            out[prop_name] = key


# --- small helpers used by DataFaker -------------------------------------------------------------


def _fits(node: _Node, text: str) -> bool:
    """Whether a string meets the node's length bounds and every pattern."""
    if not node.min_len <= len(text) <= node.max_len:
        return False
    for source in node.patterns:
        compiled = _pattern(source)
        if compiled is None or not compiled.regex.search(text):
            return False
    return True


def _float_in(
    a: float, b: float, places: int, rng: random.Random, ok: Callable[[float], bool]
) -> float | None:
    """A float in [a, b] rounded to `places` decimals when that stays within the bounds."""
    for _ in range(10):
        value = round(rng.uniform(a, b), places)
        if ok(value):
            return value
    for _ in range(10):
        value = rng.uniform(a, b)
        if ok(value):
            return value
    middle = (a + b) / 2
    return middle if ok(middle) else None


def _ref_of(schema: Any) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    return ref if isinstance(ref, str) else None


def _disc_key(ref: str | None, disc: Mapping[str, Any]) -> str | None:
    """The discriminator value that makes a validator pick `ref` (mapping key or schema name)."""
    if ref is None:
        return None
    mapping = disc.get("mapping") or {}
    for key, target in mapping.items():
        if target == ref:
            return str(key)
    prefix = "#/components/schemas/"
    if ref.startswith(prefix):
        name = ref[len(prefix) :]
        if "/" not in name and name not in mapping:
            return name
    return None


def _place(root: dict[str, Any], ref: str, target: Any) -> None:
    """Put `target` into `root` at the JSON pointer of `ref`, creating only our own dicts."""
    tokens = [unquote(t).replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/")]
    current: Any = root
    ours = True  # never add keys inside the spec's own objects
    for token in tokens[:-1]:
        if isinstance(current, list):
            current, ours = current[int(token)], False
        elif token in current:
            current, ours = current[token], ours and token != "allOf" and _is_ours(current[token])
        elif ours:
            current[token] = current = {"\x00ours": True}
        else:
            return
    if ours and isinstance(current, dict) and tokens[-1] not in current:
        current[tokens[-1]] = target


def _is_ours(value: Any) -> bool:
    return isinstance(value, dict) and "\x00ours" in value


def _parse_hint(hint: Any) -> tuple[str, list[Any], dict[str, Any]]:
    """`x-faker: company`, `x-faker: internet.email` or `{method: pyint, args: {...}}`."""
    if isinstance(hint, Mapping):
        method = str(hint.get("method", ""))
        args = hint.get("args", hint.get("kwargs", {}))
        positional = list(args) if isinstance(args, list) else []
        keywords = dict(args) if isinstance(args, Mapping) else {}
    else:
        method, positional, keywords = str(hint), [], {}
    method = method.rsplit(".", 1)[-1]
    method = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", method).lower()
    return method, positional, keywords


def _coerce(value: Any, node: _Node) -> Any:
    """A Faker result as the JSON type the schema wants."""
    value = _jsonable(value)
    if isinstance(value, (set, frozenset)):
        value = list(value)
    if isinstance(value, bytes):
        value = base64.b64encode(value).decode()
    types = node.types or frozenset(node.inferred)
    if "string" in types and not isinstance(value, str) and _json_type(value) not in types:
        return render(value, node.fmt)
    if "integer" in types and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
