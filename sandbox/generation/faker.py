"""Schema-first, realism-second fake data for OpenAPI 3.0 / 3.1 schemas.

Every value is built to satisfy its schema by construction: `$ref`s and `allOf` are flattened into
one set of constraints, then types, formats, patterns, bounds and object/array rules drive the
generator. Within those constraints `x-faker` hints, spec examples and the property's name choose
realistic values. Keywords that can't be satisfied by construction (`not`, exclusive `oneOf`,
`if`, `dependentSchemas`, ...) are checked with a cached validator and retried.

Output depends only on (schema, name, mode, rng): Faker is driven by the rng we are handed.

`DataFaker` is the façade: it keeps the precedence and the check-and-retry loop, and hands the
rest to its collaborators: resolution.py (parts, compiled nodes, plans, validators),
precedence.py (x-faker, examples, defaults, enums), combinators.py (oneOf/anyOf/if) and
generators.py (a value per JSON type).
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sandbox.errors import UnsatisfiableSchema
from sandbox.generation.combinators import Combinators
from sandbox.generation.formats import fit
from sandbox.generation.generators import Arrays, Objects, Scalars
from sandbox.generation.jsonvalues import clone
from sandbox.generation.kinds import Realism
from sandbox.generation.names import kind_for
from sandbox.generation.nodes import MISS, SCALARS, Ctx, Mode, Node
from sandbox.generation.patterns import regex_string
from sandbox.generation.precedence import SpecValues
from sandbox.generation.resolution import Resolver

_RETRIES = 8
_NULL_P = 0.1
_DEFAULT_P = 0.25


def stable_rng(*parts: object) -> random.Random:
    """A `random.Random` seeded from a hashlib digest of the parts, stable across restarts.

    `hash()` is salted per process, so it would give different data after a restart.
    """
    return rng_of_text(stable_text(*parts))


def stable_text(*parts: object) -> str:
    """What ``stable_rng`` digests: each part's type and repr, joined by ``\x1f`` (so the
    text of some parts and then more is the first text, ``\x1f``, the rest's)."""
    return "\x1f".join(f"{type(part).__name__}:{part!r}" for part in parts)


def rng_of_text(text: str) -> random.Random:
    """``stable_rng`` of the parts ``text`` is made of (``stable_text``)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


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
        self._resolver = Resolver(resolve, self.v30)
        self._offered = SpecValues(self._resolver)
        self._combinators = Combinators(self._resolver, self._checked, max_depth)
        scalars = self._scalars = Scalars()
        self._by_type: dict[str, Callable[[Node, Ctx], Any]] = {
            "string": scalars.string,
            "integer": scalars.integer,
            "number": scalars.number,
            "boolean": lambda node, ctx: ctx.rng.random() < 0.5,
            "null": lambda node, ctx: None,
            "array": Arrays(self._resolver, self._gen, max_depth).array,
            "object": Objects(self._resolver, self._gen, max_depth).object,
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
        ctx = Ctx(rng, mode, real, 0, name, {}, fresh)
        return self._gen(schema, ctx)

    def fresh_maker(self, schema: Any, name: str | None = None) -> Callable[[random.Random], Any]:
        """``lambda rng: generate(schema, rng=rng, name=name, fresh=True)``, the same values
        from the same draws, for a schema made again and again (a created record's id, an
        envelope's ``status``). Where the schema is an enum (or const) with no x-faker or
        check, the maker picks one of its valid values as ``_value`` does; where it is a
        pattern-made text, and nothing else decides (no x-faker, enum, composition, check,
        other type, and no realistic guess for the name can match the pattern), it goes
        straight to the pattern: the way there (context, node, precedence, type) was ~3 µs
        of every create. Anything else is ``generate``."""
        node = self._resolver.node(schema)
        if node.xfaker is None and node.enum is not None and not node.check:
            valid = self._offered.valid_enum(node)
            if valid:  # one of the schema's values: what _value picks for a fresh value

                def pick(rng: random.Random) -> Any:
                    self._realism().gen.random = rng  # as generate leaves it
                    return clone(rng.choice(valid))

                return pick
        plain = (
            node.xfaker is None and node.enum is None and not node.groups and not node.check
            and node.types is not None and sorted(node.types) == ["string"]
            and bool(node.patterns)
        )  # fmt: skip
        kind = kind_for(name)
        if plain and kind is not None and kind.text is not None:
            probe = Ctx(random.Random(0), "response", self._realism(), 0, name, {}, True)
            plain = not self._scalars._guessable(node, kind, probe)
        if not plain:
            return lambda rng: self.generate(schema, rng=rng, name=name, fresh=True)
        patterns, low, high = node.patterns, node.min_len, node.max_len

        def make(rng: random.Random) -> Any:
            real = self._realism()
            real.gen.random = rng  # as generate leaves it
            made = regex_string(patterns[0], low, high, rng, patterns[1:])
            if made is not None:
                return made
            return fit(" ".join(real.gen.words(rng.randint(1, 3))), low, high, rng)

        return make

    def is_valid(self, schema: Any, value: Any) -> bool:
        """Whether `value` validates against `schema` (cached OpenAPI validator, formats on)."""
        return self._resolver.valid(schema, value)

    # plumbing -----------------------------------------------------------------------------

    def _realism(self) -> Realism:
        real = getattr(self._local, "real", None)
        if real is None:
            real = self._local.real = Realism(self.locale, self.seed, self.anchor)
        return real

    # generation ---------------------------------------------------------------------------

    def _gen(self, schema: Any, ctx: Ctx) -> Any:
        if ctx.depth > self.max_depth + 40:
            raise UnsatisfiableSchema("schema requires unbounded nesting")
        return self._checked(self._resolver.node(schema), ctx)

    def _checked(self, node: Node, ctx: Ctx) -> Any:
        """Generate; when the node has keywords we only satisfy best-effort, verify and retry."""
        value = self._value(node, ctx)
        if not node.check:
            return value
        for _ in range(_RETRIES):
            if self._resolver.valid(node.src, value):
                return value
            value = self._value(node, ctx)
        return value

    def _value(self, node: Node, ctx: Ctx) -> Any:
        """Precedence: x-faker > example > default (sometimes) > enum/const > composition > type."""
        if node.xfaker is not None:
            value = self._offered.xfaker(node, ctx)
            if value is not MISS:
                return value
        if (
            node.examples
            and not ctx.fresh
            and (self.example_rate >= 1 or ctx.rng.random() < self.example_rate)
        ):
            valid = self._offered.valid_examples(node, ctx.mode)
            if valid:
                return clone(ctx.rng.choice(valid))
        if (
            node.default is not MISS
            and not ctx.fresh
            and ctx.rng.random() < _DEFAULT_P
            and (self._offered.default_ok(node))
        ):
            return clone(node.default)
        if node.enum is not None:
            valid = self._offered.valid_enum(node)
            if valid:
                return clone(ctx.rng.choice(valid))
        if node.groups:
            return self._combinators.branch(node, ctx)
        return self._by_type[self._pick_type(node, ctx)](node, ctx)

    def _pick_type(self, node: Node, ctx: Ctx) -> str:
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
            rest = [t for t in rest if t in SCALARS] or rest
        return ctx.rng.choice(rest)
