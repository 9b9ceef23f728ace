"""Numbers within a schema's bounds and `multipleOf`: multiples are found exactly (fractions
where float division would drift, and checked the way jsonschema checks them), bounds given as
(value, exclusive) pairs become inclusive integer bounds, and a property's realistic range is
clipped to the schema's. `INF` stands for "no upper bound" wherever a length, size or count has
none."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction

INF = 1 << 40


def is_multiple(value: float, step: float) -> bool:
    """`multipleOf` exactly as jsonschema checks it (float division for float steps)."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(step)).denominator == 1
    return value % step == 0


def lcm_step(a: float, b: float) -> float:
    """The smallest step both `multipleOf` values divide (exact, via fractions)."""
    fa, fb = Fraction(str(a)), Fraction(str(b))
    lcm = Fraction(math.lcm(fa.numerator, fb.numerator), math.gcd(fa.denominator, fb.denominator))
    return int(lcm) if lcm.denominator == 1 else float(lcm)


def window(
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


def int_bounds(
    lo: tuple[float, bool] | None, hi: tuple[float, bool] | None
) -> tuple[int | None, int | None]:
    """Inclusive integer bounds from (value, exclusive) pairs."""
    low = high = None
    if lo is not None and math.isfinite(lo[0]):
        low = math.floor(lo[0]) + 1 if lo[1] else math.ceil(lo[0])
    if hi is not None and math.isfinite(hi[0]):
        high = math.ceil(hi[0]) - 1 if hi[1] else math.floor(hi[0])
    return low, high


def int_step(step: float) -> int:
    """The smallest positive integer that is a multiple of `step` (2.5 -> 5, 0.5 -> 1)."""
    fraction = abs(Fraction(str(step)))
    return fraction.numerator if fraction else 1


def _decimals(step: float) -> int:
    """How many decimals a step like 0.01 has."""
    exponent = Decimal(repr(step)).as_tuple().exponent
    return max(0, -int(exponent))


def in_bounds(value: float, lo: tuple[float, bool] | None, hi: tuple[float, bool] | None) -> bool:
    if lo is not None and (value < lo[0] or (lo[1] and value == lo[0])):
        return False
    return not (hi is not None and (value > hi[0] or (hi[1] and value == hi[0])))


def multiple_in(
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
            if ok(value) and is_multiple(value, step):
                return value
    return None


def _multiple_values(k: int, step: float, places: int) -> Iterator[float]:
    if isinstance(step, int):
        yield k * step
        return
    yield round(k * step, places)
    yield k * step


def float_in(
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
