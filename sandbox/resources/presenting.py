"""Stored records as an operation answers with them.

A stored record is complete; the answer is what the operation's response schema asks for:
``writeOnly`` and secret fields left out, the record fitted to the response's own item schema
where it is not the resource's, put in its slot of the envelope with the envelope's other
fields generated, and for a list the real page facts (total, pages, next cursor) wherever the
envelope has a field that means one. What the spec says of each operation's envelope is read
once, never per request.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.resources.inference import Binding, Resource
from sandbox.resources.shapes import Shapes
from sandbox.spec.links import (
    FIRST_LINKS,
    LAST_LINKS,
    NEXT_LINKS,
    PREVIOUS_LINKS,
    SELF_LINKS,
    response_examples,
    shown_link_form,
)
from sandbox.spec.schemas import merged
from sandbox.spec.words import norm

_META = frozenset({"meta", "pagination", "paging", "hasmore", "nextcursor", "total",
                    "totalcount", "page", "links", "pagesize", "start", "end", "key",
                    "next", "nextpageuri", "nextpageurl", "uri", "url", "pages"})  # fmt: skip


def _is_meta(name: str) -> bool:
    return norm(name) in _META


# the page a link field's (normalized) name points at, as RFC 8288 names it; the first
# relation that claims a name keeps it
_RELATIONS = {
    name: relation
    for relation, names in reversed(
        (
            ("next", NEXT_LINKS),
            ("prev", PREVIOUS_LINKS),
            ("first", FIRST_LINKS),
            ("last", LAST_LINKS),
        )
    )
    for name in names
}


class _LazyMeta:
    """A nested envelope's meta plan, worked out the first time a response has that field
    (a recursive schema would otherwise be walked to the depth limit up front)."""

    __slots__ = ("_depth", "_plan", "_presenter", "_schema")

    def __init__(self, presenter: Presenter, schema: Any, depth: int) -> None:
        self._presenter, self._schema, self._depth = presenter, schema, depth
        self._plan: list[tuple[str, str, Any, bool, Any]] | None = None

    @property
    def plan(self) -> list[tuple[str, str, Any, bool, Any]]:
        if self._plan is None:
            self._plan = self._presenter._meta_plan(self._schema, self._depth)
        return self._plan


@dataclass(frozen=True)
class _AnswerPlan:
    compose: list[tuple[str, bool, Any]]
    meta: list[tuple[str, str, Any, bool, Any]]
    links: str | None = None  # "relative" / "absolute": the form the spec's examples show


def _formatless(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "format"} if "format" in schema else schema


@dataclass
class PageFacts:
    page: int
    limit: int
    total: int
    count: int
    offset: int = 0
    has_more: bool = False
    next_cursor: str | None = None
    next_query: str | None = None  # the next page's query string (None: no next page)
    prev_query: str | None = None  # the previous, first and last pages' (None: no such page)
    first_query: str | None = None
    last_query: str | None = None
    self_query: str = ""
    path: str = ""  # the request's path: links point at the sandbox itself
    origin: str = ""  # the request's scheme and host, for links that must be absolute
    key: str | None = None  # the name of the field the list is in (Twilio's meta.key)

    def links(self, name: str, shown: str | None = None) -> list[Any] | None:
        """The values a link field may take, most fitting first (None: not a link): the
        next, previous, first or last page's link (None where there is no such page), or
        the list's own; absolute on the
        request's host, or a path where the spec's examples show paths (``shown``
        "relative") or, when they show none, where the name says ``uri`` (Twilio's
        ``next_page_uri``)."""
        return self.links_of(norm(name), shown)

    def links_of(self, key: str, shown: str | None = None) -> list[Any] | None:
        """``links`` for a field whose name is already normalized (``key``)."""
        relation = _RELATIONS.get(key)
        if relation is not None:
            query = self._query_of(relation)
            if query is None:
                return [None]
            relative = f"{self.path}?{query}"
        elif key in SELF_LINKS:
            relative = self.path
        else:
            return None
        absolute = self.origin.rstrip("/") + relative
        if shown is not None:
            return [relative] if shown == "relative" else [absolute]
        return [relative, absolute] if key.endswith("uri") else [absolute, relative]

    def _query_of(self, relation: str) -> str | None:
        return {
            "next": self.next_query, "prev": self.prev_query,
            "first": self.first_query, "last": self.last_query,
        }[relation]  # fmt: skip

    def link_header(self) -> str | None:
        """The page's RFC 8288 ``Link`` header (GitHub's paging): absolute links to the
        next, last, previous and first pages that exist; None for a single page, which
        sends none."""
        parts = []
        for relation in ("next", "last", "prev", "first"):
            query = self._query_of(relation)
            if query is not None and (query or relation != "next"):
                parts.append(f'<{self.origin.rstrip("/")}{self.path}?{query}>; rel="{relation}"')
        return ", ".join(parts) or None

    def table(self) -> dict[str, Any]:
        pages = math.ceil(self.total / self.limit) if self.limit else 0
        return {
            "page": self.page, "pagenumber": self.page, "currentpage": self.page,
            "limit": self.limit, "perpage": self.limit, "pagesize": self.limit,
            "total": self.total, "totalcount": self.total, "totalitems": self.total,
            "totalresults": self.total, "totalrecords": self.total,
            "totalpages": pages, "pagecount": pages, "pages": pages,
            "hasmore": self.has_more, "hasnext": self.has_more, "hasnextpage": self.has_more,
            "nextcursor": self.next_cursor, "offset": self.offset, "count": self.count,
            "start": self.offset, "end": self.offset + max(0, self.count - 1), "key": self.key,
        }  # fmt: skip


class Presenter:
    """Stored records as the operation answers with them."""

    def __init__(
        self, shapes: Shapes, secret_fields: Mapping[str, tuple[str, Callable[[], str]]]
    ) -> None:
        self.shapes, self.secret_fields = shapes, secret_fields
        self.spec, self.faker, self.checks = shapes.spec, shapes.faker, shapes.checks
        # read from the spec on first use, never per request (see _answer_plan, _shown_schema)
        self._answers: dict[str, tuple[Binding, _AnswerPlan]] = {}
        self._shown: dict[tuple[str, bool], Any] = {}
        # an envelope's sibling schema and name -> how its value is made (DataFaker.fresh_maker)
        self._makers: dict[tuple[int, str], tuple[Any, Callable[[random.Random], Any]]] = {}

    def present(
        self, resource: Resource, stored: dict[str, Any], *, reveal: bool = False,
        fresh: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """The stored object as clients see it (writeOnly and secret fields left out); a
        copy, unless ``fresh`` says nobody else holds ``stored`` and nothing is hidden."""
        hidden = self.shapes.of(resource).hidden
        if resource.recorded:  # the parents it was made under (sandbox.resources.under)
            hidden = hidden | resource.recorded
        secret = self.secret_fields.get(resource.name)
        if secret is not None and not reveal:
            hidden = hidden | {secret[0]}
        if not hidden:
            return stored if fresh else dict(stored)
        return {k: v for k, v in stored.items() if k not in hidden}

    def one(
        self, binding: Binding, stored: dict[str, Any], rng: random.Random, *,
        reveal: bool = False,
    ) -> Any:  # fmt: skip
        """One stored record as the operation answers with it."""
        return self.envelope(binding, self.present(binding.resource, stored, reveal=reveal), rng)

    def envelope(
        self, binding: Binding, value: Any, rng: random.Random, *, total: int | None = None,
        facts: PageFacts | None = None,
    ) -> Any:  # fmt: skip
        shown = self._shown_schema(binding, isinstance(value, list))
        if shown is not None:
            if isinstance(value, list):
                value = [self.shapes.fit(shown, item, rng) for item in value]
            else:
                value = self.shapes.fit(shown, value, rng)
        if not binding.slot:
            return value
        plan = self._answer_plan(binding)
        many = isinstance(value, list)
        envelope = self._compose(plan.compose, value, rng, lazy=many)
        if not many:
            return envelope
        if facts is None:
            facts = PageFacts(page=1, limit=max(1, total or 1), total=total or 0, count=total or 0)
        values = facts.table()
        self._fill_meta(plan.meta, envelope, facts, values, plan.links)
        if self._complete(plan.compose, envelope, rng):
            self._fill_meta(plan.meta, envelope, facts, values, plan.links)  # over the generated
        return envelope

    def deleted(
        self, binding: Binding, last: dict[str, Any], rng: random.Random
    ) -> dict[str, Any] | None:
        """A delete's answer where the operation declares a body (``{id, deleted, object}``):
        the deleted record's id, ``deleted: true``, and what else of the record fits; None
        where it declares none (a 204)."""
        schema = self._response_schema(binding)
        if schema is None:
            return None
        answer = self.faker.generate(schema, rng=rng, mode="response", fresh=True)
        shape = merged(self.spec.deref, schema)
        if not isinstance(answer, dict) or not isinstance(shape, dict):
            return None
        id_field = binding.resource.id_field
        for name, prop in (shape.get("properties") or {}).items():
            key = norm(name)
            if name == id_field or key == norm(id_field) or key == "id":
                wanted = last.get(id_field)
            elif key in ("deleted", "isdeleted", "success"):
                wanted = True
            elif name in last:
                wanted = last[name]
            else:
                continue
            if self.checks.is_valid(self.spec.deref(prop), wanted):
                answer[name] = wanted
        return answer

    def _answer_plan(self, binding: Binding) -> _AnswerPlan:
        """The binding's envelope and page fields, read once."""
        key = binding.operation.operation_id
        cached = self._answers.get(key)
        if cached is not None and cached[0] is binding:
            return cached[1]
        schema = self._response_schema(binding)
        plan = _AnswerPlan(
            compose=self._compose_plan(schema, binding.slot) if binding.slot else [],
            meta=self._meta_plan(schema, 0),
            links=shown_link_form(response_examples(self.spec, binding.operation)),
        )
        self._answers[key] = (binding, plan)
        return plan

    def _response_schema(self, binding: Binding) -> Any:
        if binding.envelope is not None:
            return binding.envelope
        operation = binding.operation
        for status in operation.success_statuses or [200]:
            found = operation.response_for(status)
            if found:
                for media_type, media in ((found[1] or {}).get("content") or {}).items():
                    if isinstance(media, dict) and "json" in media_type:
                        return media.get("schema")
        return None

    def _compose_plan(self, schema: Any, slot: list[str]) -> list[tuple[str, bool, Any]]:
        """The envelope's fields in order: (name, False, schema) for a sibling to generate,
        (name, True, inner plan or None) for the step towards the slot (None: the value)."""
        shape = merged(self.spec.deref, schema) or {}
        properties = shape.get("properties") or {}
        required = set(shape.get("required") or [])
        plan: list[tuple[str, bool, Any]] = []
        for name, prop in properties.items():
            if name == slot[0]:
                plan.append((name, True, self._compose_plan(prop, slot[1:]) if slot[1:] else None))
            elif name in required or _is_meta(name):
                plan.append((name, False, prop))
        return plan

    def _compose(
        self, plan: list[tuple[str, bool, Any]], value: Any, rng: random.Random,
        lazy: bool = False,
    ) -> Any:  # fmt: skip
        """The envelope around ``value``: siblings generated, the slot filled with ours.
        ``lazy`` (a page) leaves out the siblings named for page facts (``meta``, ``links``,
        ``total``...): the facts fill them, and ``_complete`` generates only what they could
        not. Generating them to overwrite them was a tenth of a list's CPU."""
        envelope: dict[str, Any] = {}
        for name, is_slot, payload in plan:
            if is_slot:
                envelope[name] = (
                    value if payload is None else self._compose(payload, value, rng, lazy)
                )
            elif not (lazy and _is_meta(name)):
                envelope[name] = self._sibling(payload, name, rng)
        return envelope

    def _complete(
        self, plan: list[tuple[str, bool, Any]], envelope: Any, rng: random.Random
    ) -> bool:
        """Generate the siblings a lazy ``_compose`` left out that the page facts did not
        fill; True when there were any."""
        added = False
        for name, is_slot, payload in plan:
            if is_slot:
                if payload is not None and isinstance(envelope.get(name), dict):
                    added = self._complete(payload, envelope[name], rng) or added
            elif name not in envelope:
                envelope[name] = self._sibling(payload, name, rng)
                added = True
        return added

    def _sibling(self, schema: Any, name: str, rng: random.Random) -> Any:
        # fresh: a spec example here (a fixed requestId, say) would repeat on every call;
        # made by the faker's maker for this schema and name (an enum's pick made at once)
        key = (id(schema), name)
        held = self._makers.get(key)
        if held is None or held[0] is not schema:
            if len(self._makers) >= 1024:
                self._makers.clear()
            held = self._makers[key] = (schema, self.faker.fresh_maker(schema, name))
        return held[1](rng)

    def _meta_plan(self, schema: Any, depth: int) -> list[tuple[str, str, Any, bool, Any]]:
        """The envelope's fields that may mean a page fact: (name, normalized name, schema,
        required, nested plan), three levels deep."""
        if depth > 2:
            return []
        shape = merged(self.spec.deref, schema) or {}
        required = set(shape.get("required") or [])
        properties = dict(shape.get("properties") or {})
        for branch in shape.get("anyOf") or shape.get("oneOf") or []:
            # "forward links or backward links" (DigitalOcean's links.pages): any branch's
            # field may be a page fact; what is filled in is validated against the whole
            properties.update((merged(self.spec.deref, branch) or {}).get("properties") or {})
        plan = []
        for name, prop in properties.items():
            prop = self.spec.deref(prop)
            plan.append(
                (name, norm(name), prop, name in required, _LazyMeta(self, prop, depth + 1))
            )
        return plan

    def _fill_meta(
        self, plan: list[tuple[str, str, Any, bool, Any]], node: Any, facts: PageFacts,
        values: dict[str, Any], shown: str | None = None,
    ) -> None:  # fmt: skip
        """Put the real page facts (``values``: ``facts.table()``, worked out once per page)
        wherever the envelope has a field that means one."""
        if not isinstance(node, dict):
            return
        for name, key, prop, required, nested in plan:
            links = facts.links_of(key, shown)
            if links is not None and isinstance(prop, dict):
                # a form the examples show is taken even where `format` says otherwise
                checked = prop if shown is None else _formatless(prop)
                fits = [link for link in links if self.checks.is_valid(checked, link)]
                if fits:
                    node[name] = fits[0]
                elif links == [None] and name in node and not required:
                    del node[name]  # no next page, and the field cannot say null
                continue
            if isinstance(node.get(name), dict):
                self._fill_meta(nested.plan, node[name], facts, values, shown)
                continue
            if key in _META and nested.plan:
                # an object of page facts the generator left out or made something else of
                # (DigitalOcean's links.pages, "forward or backward links or anything"): a
                # pager reads it, so it is there wherever it can be filled
                built: dict[str, Any] = {}
                self._fill_meta(nested.plan, built, facts, values, shown)
                if built and self.checks.is_valid(prop, built):
                    node[name] = built
                    continue
            wanted = values.get(key)
            if wanted is not None and isinstance(prop, dict) and self.checks.is_valid(prop, wanted):
                node[name] = wanted
            elif key == "nextcursor" and name in node and facts.next_cursor is None:
                if self.checks.is_valid(prop, None):
                    node[name] = None
                elif not required:
                    del node[name]

    def _shown_schema(self, binding: Binding, many: bool) -> Any:
        """The schema this response gives a record where it is not the resource's own (one
        path listing another shape of the same records, as Spotify's and Twilio's do), or
        None where they agree. Worked out once per operation."""
        key = (binding.operation.operation_id, many)
        if key not in self._shown:
            schema = self._response_schema(binding)
            for name in binding.slot:
                shape = merged(self.spec.deref, schema) or {}
                schema = (shape.get("properties") or {}).get(name)
            if many:
                schema = (merged(self.spec.deref, schema) or {}).get("items")
            schema = self.spec.deref(schema)
            own = binding.resource.item_schema
            same = not isinstance(schema, dict) or schema is own or schema == own
            self._shown[key] = None if same else schema
        return self._shown[key]
