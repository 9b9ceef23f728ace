"""Combinators: `oneOf`, `anyOf` and `if/then/else` as choices between branches. One branch is
picked per group (among those the discriminator can name; the cheapest once max_depth is reached,
else at random), merged into the rest of the schema and generated from as one node. A value that
matches several branches of a `oneOf` is made again from the other branches, or made to fail
them. `allOf` never gets here (merging.py flattens it), and `not` is met by banning its types and
by the check."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.generation.jsonvalues import json_type
from sandbox.generation.merging import merge_parts
from sandbox.generation.nodes import SCALARS, Ctx, Node
from sandbox.generation.resolution import Resolver, disc_key, ref_of


class Combinators:
    """Generates a node with oneOf/anyOf/if groups through the branches it picks."""

    def __init__(
        self, resolver: Resolver, checked: Callable[[Node, Ctx], Any], max_depth: int
    ) -> None:
        self._resolver = resolver
        self._checked = checked
        self.max_depth = max_depth

    def branch(self, node: Node, ctx: Ctx) -> Any:
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

    def _from_picks(self, node: Node, picks: tuple[int, ...], ctx: Ctx) -> tuple[Any, bool]:
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
        return sum(1 for branch in branches if self._resolver.valid(branch, value)) <= 1

    def _choose(self, branches: list[Any], disc: Any, ctx: Ctx) -> int:
        indices = list(range(len(branches)))
        if disc:
            keyed = [i for i in indices if disc_key(ref_of(branches[i]), disc) is not None]
            indices = keyed or indices
        if ctx.depth >= self.max_depth:
            return min(indices, key=lambda i: self._cost(branches[i], ()))
        return ctx.rng.choice(indices)

    def _merge_branches(self, node: Node, picks: tuple[int, ...]) -> Node:
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
            parts += self._resolver.parts(branch, frozenset())
            key = disc_key(ref_of(branch), disc) if disc else None
            if key is not None:
                force[disc["propertyName"]] = key
        merged = Node(node.src, parts, merge_parts(parts, self._resolver.v30))
        if force:  # a spec may constrain the property to other values than the schema's name
            plan = self._resolver.plan(merged)
            force = {
                name: key
                for name, key in force.items()
                if (prop := plan.byname.get(name)) is None or self._resolver.valid(prop.schema, key)
            }
        merged.force = force
        merged.check = merged.check and not node.check
        return merged

    def _exclude_others(self, value: Any, branches: list[Any], pick: int, merged: Node) -> None:
        """Make an object fail the oneOf branches it was not built from (open objects overlap).

        Adds a property another branch declares, with a value of a type it forbids, where the
        chosen branch allows extra properties. Only runs when the value matches several.
        """
        if not isinstance(value, dict):
            return
        for i, branch in enumerate(branches):
            if i == pick or not self._resolver.valid(branch, value):
                continue
            self._poison(value, self._resolver.node(branch), merged)

    def _poison(self, value: dict[str, Any], other: Node, merged: Node) -> None:
        plan, mine = self._resolver.plan(other), self._resolver.plan(merged)
        if mine.extra is False:
            return
        for prop in plan.props:
            if prop.name in value or prop.name in mine.byname or prop.schema is False:
                continue
            if any(re.search(p, prop.name) for p in mine.patterns):
                continue
            allowed = self._resolver.node(prop.schema).types
            bad_values: tuple[Any, ...] = ("", 0, True, [], {})
            for bad in bad_values:
                if (
                    allowed is not None
                    and json_type(bad) not in allowed
                    and (mine.extra is True or self._resolver.valid(mine.extra, bad))
                ):
                    value[prop.name] = bad
                    return

    def _cost(self, schema: Any, stack: tuple[int, ...]) -> int:
        """How much nesting the smallest valid value needs (cycles count as huge)."""
        node = self._resolver.node(schema)
        if node.cost is not None:
            return node.cost
        if id(node) in stack or len(stack) > 30:
            return 1000
        stack = (*stack, id(node))
        cost = self._cost_of(node, stack)
        node.cost = cost
        return cost

    def _cost_of(self, node: Node, stack: tuple[int, ...]) -> int:
        types = node.types if node.types is not None else (node.inferred or ("string",))
        if node.enum or node.examples or any(t in types for t in (*SCALARS, "null")):
            return 0
        cost = sum(
            min((self._cost(b, stack) for b in branches), default=0)
            for _, branches, _ in node.groups
        )
        if "object" in types:
            plan = self._resolver.plan(node)
            cost += sum(1 + self._cost(p.schema, stack) for p in plan.props if p.required)
        if "array" in types and node.min_items:
            cost += 1 + self._cost(node.items if node.items is not None else {}, stack)
        return cost
