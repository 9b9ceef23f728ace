"""The form a spec's own examples give a list's links: paths or URLs.

Twilio declares ``uri``, ``first_page_uri`` and ``next_page_uri`` as ``format: uri`` (an
absolute URI), while its examples, its API and its SDK use paths
(``/2010-04-01/Accounts.json?Page=0``): the SDK prefixes ``next_page_uri`` with its domain, so
an absolute one is requested as ``/http://...``. The examples are the spec's word on what the
real API sends, so the sandbox answers links in the form they show (sandbox.resources.
presenting); where that form breaks the declared ``format``, ``sandbox check`` says so
(``link_form_conflicts``), as a contradiction in the spec, like a discriminator conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.spec.model import Operation, Spec
from sandbox.spec.schemas import merged
from sandbox.spec.words import norm

NEXT_LINKS = frozenset({"next", "nextpageuri", "nextpageurl", "nexturl", "nextlink", "nexthref"})
PREVIOUS_LINKS = frozenset({"previous", "prev", "previouspageuri", "previouspageurl",
                            "previousurl", "prevurl", "previouslink", "prevlink"})  # fmt: skip
FIRST_LINKS = frozenset({"first", "firstpageuri", "firstpageurl", "firsturl", "firstlink"})
LAST_LINKS = frozenset({"last", "lastpageuri", "lastpageurl", "lasturl", "lastlink"})
SELF_LINKS = frozenset({"uri", "url", "self", "href"})
_ABSOLUTE_FORMATS = ("uri", "url", "iri")


def is_link_name(name: str) -> bool:
    """A field that links to a page of the list or to the list itself, by its name."""
    key = norm(name)
    pages = NEXT_LINKS | PREVIOUS_LINKS | FIRST_LINKS | LAST_LINKS
    return key in pages | SELF_LINKS or key.endswith(("pageuri", "pageurl"))


def shown_link_form(examples: list[Any]) -> str | None:
    """The form the examples give link fields (``uri``, ``first_page_uri``, ``next``,
    ``href``...) anywhere in them: "relative" where every one shown is a path, "absolute"
    where every one is a URL, None where they show none or both."""
    return _form(_shown_links(examples))


def _shown_links(examples: list[Any]) -> list[tuple[str, str]]:
    """(field, value) of every link field with a text value in the examples."""
    found: list[tuple[str, str]] = []
    stack = list(examples)
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for name, value in node.items():
                if isinstance(value, str) and is_link_name(name):
                    found.append((name, value))
                elif isinstance(value, dict | list):
                    stack.append(value)
    return found


def _form(links: list[tuple[str, str]]) -> str | None:
    forms = {
        "relative" if value.startswith("/") else "absolute"
        for _name, value in links
        if value.startswith(("/", "http://", "https://"))
    }
    return forms.pop() if len(forms) == 1 else None


def response_examples(spec: Spec, operation: Operation) -> list[Any]:
    """The example answers an operation's success responses show (the media's ``example``,
    its ``examples`` values, the schema's ``example``)."""
    shown = []
    for status in operation.success_statuses or [200]:
        for media_type, media in _content(operation, status).items():
            if not isinstance(media, dict) or "json" not in media_type:
                continue
            shown.append(media.get("example"))
            examples = media.get("examples")
            for example in examples.values() if isinstance(examples, dict) else ():
                shown.append(_field(spec.deref(example), "value"))
            shown.append(_field(spec.deref(media.get("schema")), "example"))
    return [example for example in shown if example is not None]


def _content(operation: Operation, status: int) -> dict[str, Any]:
    """A declared response's media types; empty where the spec gives something else (a
    hand-written or mangled spec may put a boolean or a list anywhere)."""
    found = operation.response_for(status)
    response = found[1] if found else None
    content = response.get("content") if isinstance(response, dict) else None
    return content if isinstance(content, dict) else {}


def _field(node: Any, name: str) -> Any:
    return node.get(name) if isinstance(node, dict) else None


@dataclass(frozen=True)
class LinkFormConflict:
    """An operation whose examples show its list's links as paths where its schema says
    ``format: uri``."""

    operation: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.fields)
        return (
            f"{self.operation}: the examples show {shown} as paths where the schema says "
            "format: uri; the sandbox answers paths, as the examples (and the API's clients) "
            "have them"
        )


def link_form_conflicts(spec: Spec) -> list[LinkFormConflict]:
    """Each operation whose examples' link form (paths) breaks its links' declared
    ``format``: what the sandbox answers there is the examples' form, not the schema's."""
    found = []
    for operation in spec.operations:
        examples = response_examples(spec, operation)
        if not examples or shown_link_form(examples) != "relative":
            continue
        fields = _absolute_fields(spec, operation)
        if fields:
            found.append(LinkFormConflict(f"{operation.method} {operation.path}", fields))
    return found


def _absolute_fields(spec: Spec, operation: Operation) -> tuple[str, ...]:
    """The answer's top-level link fields whose schema asks for an absolute URI."""
    for status in operation.success_statuses or [200]:
        for media_type, media in _content(operation, status).items():
            if "json" not in media_type or not isinstance(media, dict):
                continue
            properties = _field(merged(spec.deref, media.get("schema")), "properties")
            return tuple(
                name
                for name, prop in (properties if isinstance(properties, dict) else {}).items()
                if is_link_name(name) and _field(spec.deref(prop), "format") in _ABSOLUTE_FORMATS
            )
    return ()
