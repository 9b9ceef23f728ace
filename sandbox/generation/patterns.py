"""Strings that match a regular expression, built from the pattern instead of guessed. Patterns
are parsed once with Python's own regex parser into a small tree that knows the shortest and
longest string each part can match, so a target length can be shared out and minLength/maxLength
are met by construction instead of by luck. `regex_string` makes a string; `cached_pattern`
compiles a source once (None when Python cannot parse it) for the checks."""

from __future__ import annotations

import importlib
import random
import re
from collections.abc import Sequence
from typing import Any

from sandbox.generation.numeric import INF

# Python's own regex parser. Imported by name: typeshed declares ``re`` as one module, so mypy
# sees ``re._parser`` only when something else imported it first (a whole-tree run passed and
# a run over this file alone failed); as Any the check is the same in every order.
_sc: Any = importlib.import_module("re._constants")
_sp: Any = importlib.import_module("re._parser")

LOWER = "abcdefghijklmnopqrstuvwxyz"
_LIT, _SET, _SEQ, _ALT, _REP, _GRP, _REF, _NIL = range(8)
_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
_LATIN = "àáâäçèéêëìíîïñòóôöùúûüßæøå"
_DIGITS = "0123456789"
WORDCH = LOWER + LOWER.upper() + _DIGITS + "_"
_CATEGORY_CHARS = {
    _sc.CATEGORY_DIGIT: _DIGITS,
    _sc.CATEGORY_WORD: WORDCH,
    _sc.CATEGORY_SPACE: " ",
    _sc.CATEGORY_NOT_DIGIT: "".join(c for c in _PRINTABLE if c not in _DIGITS),
    _sc.CATEGORY_NOT_WORD: "".join(c for c in _PRINTABLE if c not in WORDCH),
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
        return _Rx(_SEQ, None, kids, sum(k.lo for k in kids), min(INF, sum(k.hi for k in kids)))

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
            top = INF if high is _sc.MAXREPEAT else high
            return _Rx(_REP, (low, top), (kid,), low * kid.lo, min(INF, top * kid.hi))
        if op is _sc.GROUPREF:
            group = self.groups.get(av)
            return _Rx(_REF, av, (), group.lo if group else 0, group.hi if group else INF)
        if op is getattr(_sc, "ATOMIC_GROUP", None):
            return self.seq(av)
        if op is _sc.GROUPREF_EXISTS:
            yes = self.seq(av[1])
            no = self.seq(av[2]) if av[2] is not None else _Rx(_NIL)
            return _Rx(_ALT, None, [yes, no], min(yes.lo, no.lo), max(yes.hi, no.hi))
        return _Rx(_NIL)  # anchors, lookarounds: zero width (the final search checks them)


class _Pattern:
    """A compiled pattern: generation tree, anchoring and the real regex for checking."""

    __slots__ = ("end", "fixed", "regex", "root", "start")

    def __init__(self, source: str) -> None:
        parsed = list(_sp.parse(source))
        self.root = _RxCompiler().seq(parsed)
        self.start = bool(parsed) and parsed[0][0] is _sc.AT and parsed[0][1] in _STARTS
        self.end = bool(parsed) and parsed[-1][0] is _sc.AT and parsed[-1][1] in _ENDS
        self.regex = re.compile(source)
        self.fixed = _fixed_parts(self.root)


# A fixed-length pattern of literals, classes and classes repeated a fixed number of times
# (``^req_[A-Za-z0-9]{16}$``): the parts, a literal as its text, a class as (characters,
# count, repeated). ``regex_string`` makes these with the same draws the tree walk makes,
# without walking it (an envelope's requestId: 16 µs -> ~6 µs).
_Part = str | tuple[str, int, bool]


def _fixed_parts(root: _Rx) -> list[_Part] | None:
    parts: list[_Part] = []
    for node in root.kids if root.op == _SEQ else [root]:
        if node.op == _LIT:
            parts.append(node.arg)
        elif node.op == _SET:
            parts.append((node.arg, 1, False))
        elif node.op == _REP and node.kids[0].op == _SET and node.arg[0] == node.arg[1]:
            parts.append((node.kids[0].arg, node.arg[0], True))
        else:
            return None
    return parts


_PATTERNS: dict[str, _Pattern | None] = {}


def cached_pattern(source: str) -> _Pattern | None:
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
    n_lo = max(low, -(-target // each_hi)) if each_hi < INF else max(low, 1 if target else 0)
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
    pat = cached_pattern(source)
    if pat is None:
        return None
    root = pat.root
    if pat.fixed is not None and not also and min_len <= root.lo and root.hi <= max_len:
        text = _fixed_string(pat.fixed, root.lo, rng)
        if pat.regex.search(text):
            return text
    low, high = max(min_len, root.lo), min(max_len, root.hi)
    checks = [p for p in (cached_pattern(a) for a in also) if p is not None]
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


def _fixed_string(parts: list[_Part], length: int, rng: random.Random) -> str:
    """What the tree walk makes of a fixed pattern, drawing what it draws: the length, then
    each part in order (a repeat's count, then its characters). A plain ``random.Random``
    draws them without ``randint``'s and ``choices``' argument handling (~1 µs a call, four
    calls in every create's id and answer's requestId): the same words of its stream,
    taken the same way (``_no_choice``, ``_letters``)."""
    plain = type(rng) is random.Random
    _no_choice(rng, length) if plain else rng.randint(length, length)
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part[2]:
            if plain:
                _no_choice(rng, part[1])
                out.append(_letters(rng, part[0], part[1]))
            else:
                rng.randint(part[1], part[1])
                out.append("".join(rng.choices(part[0], k=part[1])))
        else:
            out.append(rng.choice(part[0]))
    return "".join(out)


def _no_choice(rng: random.Random, value: int) -> int:
    """``rng.randint(value, value)``: one bit drawn until it is 0 (``randrange`` of a range
    of one, by ``_randbelow_with_getrandbits``, as ``random.Random`` does it)."""
    bits = rng.getrandbits
    while bits(1):
        pass
    return value


def _letters(rng: random.Random, chars: str, count: int) -> str:
    """``"".join(rng.choices(chars, k=count))``: ``choices`` without weights takes
    ``floor(random() * n)``, which for these non-negative values is ``int()``."""
    draw, n = rng.random, float(len(chars))
    return "".join([chars[int(draw() * n)] for _ in range(count)])


def _pad(text: str, min_len: int, pat: _Pattern, rng: random.Random) -> str:
    """Lengthen a match on a side the pattern does not anchor."""
    need = min_len - len(text)
    if need <= 0:
        return text
    filler = "".join(rng.choices(LOWER, k=need))
    if not pat.end:
        return text + filler
    if not pat.start:
        return filler + text
    return text
