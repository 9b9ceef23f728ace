"""Generators per JSON type, each building a value that meets its node by construction.
`Scalars` makes strings (from the patterns, the format or the property name's kind, fitted to
the lengths) and integers and numbers (a realistic range clipped to the bounds, `multipleOf`
exact). `Arrays` sizes a list within its bounds, keeps items unique where asked and meets
`contains`; `Objects` picks required and likely optional properties under the mode's
readOnly/writeOnly rule, adds what `dependentRequired` asks for and extra keys for maps.
Containers generate their children through the callback they are given, so precedence and
checks apply at every level."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.generation.formats import FORMATS, fit, render, stretch
from sandbox.generation.jsonvalues import freeze
from sandbox.generation.kinds import KINDS, Kind, Realism, Scope
from sandbox.generation.names import kind_for, singular
from sandbox.generation.nodes import Ctx, Node, Plan, Prop
from sandbox.generation.numeric import (
    float_in,
    in_bounds,
    int_step,
    is_multiple,
    multiple_in,
    window,
)
from sandbox.generation.patterns import cached_pattern, regex_string
from sandbox.generation.resolution import Resolver

_OPTIONAL_P = 0.85
_INT_NATURAL = (1, 1000)
_NUM_NATURAL = (1.0, 1000.0, 2)


class Scalars:
    """Strings, integers and numbers."""

    def string(self, node: Node, ctx: Ctx) -> str:
        kind = kind_for(ctx.name)
        low, high = node.min_len, node.max_len
        if node.patterns:
            return self._pattern_string(node, kind, ctx)
        if node.fmt:
            text = self._format_string(node, kind, ctx)
            if text is not None:
                return text
        if kind is not None and kind.text is not None:
            text = render(kind.text(ctx.real, ctx.scope), None)
            if node.id_prefix is not None and kind is KINDS["id"]:  # ids as the spec shows them
                text = node.id_prefix + _alnum(ctx.rng, 14)
            return fit(text, low, high, ctx.rng)
        return fit(self._words(ctx), low, high, ctx.rng)

    def _pattern_string(self, node: Node, kind: Kind | None, ctx: Ctx) -> str:
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
        return made if made is not None else fit(self._words(ctx), low, high, ctx.rng)

    def _guessable(self, node: Node, kind: Kind, ctx: Ctx) -> bool:
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

    def _format_string(self, node: Node, kind: Kind | None, ctx: Ctx) -> str | None:
        fmt = node.fmt
        assert fmt is not None
        maker: Callable[[Realism, Scope], Any] | None
        if kind is not None and kind.text is not None and fmt in kind.formats:
            maker = kind.text
        else:
            maker = FORMATS.get(fmt)
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
        return stretch(fmt, low, high, ctx.rng) or text

    def _words(self, ctx: Ctx) -> str:
        return " ".join(ctx.real.gen.words(ctx.rng.randint(1, 3)))

    def integer(self, node: Node, ctx: Ctx) -> int:
        kind = kind_for(ctx.name)
        natural = kind.integer if kind is not None and kind.integer is not None else _INT_NATURAL
        if callable(natural):
            natural = natural(ctx.real)
        low, high = node.int_lo, node.int_hi
        a, b = window(low, high, natural[0], natural[1])
        a, b = math.ceil(a), math.floor(b)
        step = node.multiple
        if step is None:
            return ctx.rng.randint(a, b) if a <= b else a
        base = int_step(step)

        def ok(v: float) -> bool:
            return is_multiple(v, step)

        value = multiple_in(a, b, base, ctx.rng, ok)
        if value is None and (low is not None or high is not None):
            wide_lo = low if low is not None else a - 1000 * base
            wide_hi = high if high is not None else b + 1000 * base
            value = multiple_in(wide_lo, wide_hi, base, ctx.rng, ok)
        return int(value) if value is not None else 0

    def number(self, node: Node, ctx: Ctx) -> float | int:
        kind = kind_for(ctx.name)
        nat_lo, nat_hi, places = kind.number if kind is not None and kind.number else _NUM_NATURAL
        lo, hi = node.lo, node.hi
        a, b = window(lo[0] if lo else None, hi[0] if hi else None, nat_lo, nat_hi)
        as_float = node.fmt in ("float", "double") or places > 0

        def ok(v: float) -> bool:
            return in_bounds(v, lo, hi)

        if node.multiple is not None:
            value = multiple_in(a, b, node.multiple, ctx.rng, ok)
            if value is None:
                value = multiple_in(
                    lo[0] if lo else a - 1e6, hi[0] if hi else b + 1e6, node.multiple, ctx.rng, ok
                )
            value = value if value is not None else a
        else:
            value = float_in(a, b, places, ctx.rng, ok)
            if value is None and (lo or hi):
                value = float_in(
                    lo[0] if lo else b - 1000, hi[0] if hi else a + 1000, places, ctx.rng, ok
                )
            value = value if value is not None else a
        return float(value) if as_float or isinstance(value, float) else int(value)


class Arrays:
    """Lists within their size bounds, unique where asked, with `contains` met."""

    def __init__(self, resolver: Resolver, gen: Callable[[Any, Ctx], Any], max_depth: int) -> None:
        self._resolver = resolver
        self._gen = gen
        self.max_depth = max_depth

    def array(self, node: Node, ctx: Ctx) -> list[Any]:
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
                key = freeze(value)
                if key in seen:
                    continue
                seen.add(key)
            out.append(value)
        if node.contains is not None:
            self._add_contained(node, ctx, out, items, item_name)
        return out

    def _array_size(self, node: Node, ctx: Ctx) -> int:
        low, high = node.min_items, node.max_items
        if node.contains is not None:
            low = max(0, low - node.min_contains)
        if ctx.depth >= self.max_depth:
            return low
        start = max(low, 1 if high >= 1 else 0)
        size = ctx.rng.randint(start, max(start, min(high, start + 2)))
        if node.unique and node.items is not None:
            enum = self._resolver.node(node.items).enum
            if enum is not None:
                size = max(low, min(size, len(enum)))
        return size

    def _add_contained(
        self, node: Node, ctx: Ctx, out: list[Any], items: Any, name: str | None
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


class Objects:
    """Objects from their plan: which properties, in which order, and extra keys."""

    def __init__(self, resolver: Resolver, gen: Callable[[Any, Ctx], Any], max_depth: int) -> None:
        self._resolver = resolver
        self._gen = gen
        self.max_depth = max_depth

    def object(self, node: Node, ctx: Ctx) -> dict[str, Any]:
        plan = self._resolver.plan(node)
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

    def _choose_props(self, node: Node, plan: Plan, ctx: Ctx) -> list[Prop]:
        bound = ctx.depth >= self.max_depth
        rng, mode = ctx.rng, ctx.mode
        chosen: list[Prop] = []
        optional: list[Prop] = []
        for prop in plan.props:
            if prop.name in node.force:
                chosen.append(prop)
            elif prop.schema is False or self._resolver.blocked(prop, mode):
                continue
            elif prop.required or (not bound and (prop.read or rng.random() < _OPTIONAL_P)):
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
        self, plan: Plan, chosen: list[Prop], optional: list[Prop]
    ) -> list[Prop]:
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

    def _extra_keys(self, plan: Plan, ctx: Ctx, chosen: list[Prop]) -> list[tuple[str, Any]]:
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
            schema = self._resolver.extra_schema(plan, key) if key is not None else False
            if key is None or key in taken or schema is False:
                continue
            taken.add(key)
            out.append((key, schema))
        return out

    def _extra_name(self, plan: Plan, ctx: Ctx) -> str | None:
        if plan.names is not None and plan.names is not True:
            name = self._gen(plan.names, ctx.child(None, {}))
            return name if isinstance(name, str) else None
        if plan.patterns and (plan.extra is False or ctx.rng.random() < 0.7):
            source = ctx.rng.choice(sorted(plan.patterns))
            name = regex_string(source, 1, 40, ctx.rng)
            longer = f"{name}{ctx.real.gen.word()}"
            pat = cached_pattern(source)
            if name is not None and pat is not None and len(name) < 4 and pat.regex.search(longer):
                return longer
            return name
        return str(ctx.real.gen.word())

    def _apply_soft(self, node: Node, plan: Plan, out: dict[str, Any]) -> None:
        """Subtype objects get their discriminator set to their own mapping key when allowed."""
        assert node.soft is not None
        prop_name, key = node.soft
        prop = plan.byname.get(prop_name)
        if prop_name in out and prop is not None and self._resolver.valid(prop.schema, key):
            out[prop_name] = key


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _alnum(rng: random.Random, size: int) -> str:
    return "".join(rng.choices(_ALNUM, k=size))


def _fits(node: Node, text: str) -> bool:
    """Whether a string meets the node's length bounds and every pattern."""
    if not node.min_len <= len(text) <= node.max_len:
        return False
    for source in node.patterns:
        compiled = cached_pattern(source)
        if compiled is None or not compiled.regex.search(text):
            return False
    return True
