"""``pagination``: a page holds at most ``limit`` items, says which page it is, adds up with
its totals, and walking the pages never shows an item twice."""

from __future__ import annotations

import math
import re
from typing import Any

from contracts.checks._base import Seen, contract_check
from contracts.checks._shapes import first, identity, items_of, meta_of
from contracts.facts import Paging

MAX_WALK_PAGES = 5
TOTAL_NAMES = ("total", "total_count", "totalCount", "total_items", "totalItems")


@contract_check
def pagination(seen: Seen) -> bool | None:
    """A page holds at most ``limit`` items, says which page it is, and adds up with its
    totals; walking the pages never shows an item twice."""
    if not seen.ordinary or seen.operation.method != "GET" or not 200 <= seen.status < 300:
        return None
    paging = seen.run.facts.paging(seen.operation)
    body = seen.body()
    items = items_of(body)
    if paging is None or items is None:
        return None
    query = seen.case.query or {}
    limit = _asked(query.get(paging.limit_param), paging.default_limit) if paging.limit_param \
        else None  # fmt: skip
    page = _asked(query.get(paging.page_param), paging.first_page) if paging.page_param else None
    _judge_page(seen, body, items, limit, page, paging.first_page)
    _walk_once(seen, paging, body)
    return True


def _asked(value: Any, default: int | None) -> int | None:
    if value is None:
        return default
    text = str(value[0] if isinstance(value, list) else value)
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


def _judge_page(seen: Seen, body: Any, items: list[Any], limit: int | None,
                page: int | None, first_page: int) -> None:  # fmt: skip
    if limit is not None and limit > 0 and len(items) > limit:
        seen.fail("Page larger than the limit", f"Asked for limit={limit}; got {len(items)} items.")
    meta = meta_of(body)
    echoed = first(meta, "page", "current_page", "currentPage", "page_number")
    if page is not None and isinstance(echoed, int) and echoed != page:
        seen.fail("Page number not echoed", f"Asked for page {page}; the body says page {echoed}.")
    total = first(meta, *TOTAL_NAMES)
    size = first(meta, "limit", "per_page", "perPage", "page_size", "pageSize")
    size = size if isinstance(size, int) and size > 0 else limit
    pages = first(meta, "total_pages", "totalPages", "page_count", "pageCount")
    more = first(meta, "has_more", "hasMore", "has_next", "hasNext")
    if not isinstance(total, int) or isinstance(total, bool) or not size:
        return
    expected_pages = math.ceil(total / size)
    if isinstance(pages, int) and pages != expected_pages and not (total == 0 and pages in (0, 1)):
        seen.fail("totalPages does not add up",
                  f"total {total} at {size} per page is {expected_pages} pages; the body says "
                  f"{pages}.")  # fmt: skip
    current = echoed if isinstance(echoed, int) else page
    if current is None:
        return
    before = (current - first_page) * size  # items on the pages before this one
    expected_items = max(0, min(size, total - before))
    if len(items) != expected_items:
        seen.fail("Page holds the wrong number of items",
                  f"Page {current} of {total} items at {size} per page holds {expected_items}; "
                  f"got {len(items)}.")  # fmt: skip
    if isinstance(more, bool) and more != (before + size < total):
        seen.fail("has_more contradicts the totals",
                  f"Page {current} of {expected_pages}: has_more should be "
                  f"{before + size < total}; got {more}.")  # fmt: skip


def _walk_once(seen: Seen, paging: Paging, body: Any) -> None:
    """Walk the first pages once per operation, when there is more than a page to walk."""
    if paging.page_param is None:
        return
    size = max(paging.min_limit, 2)
    if paging.max_limit is not None:
        size = min(size, paging.max_limit)
    total = first(meta_of(body), *TOTAL_NAMES)
    if isinstance(total, int) and total <= size:
        return  # nothing to walk yet; a later response may have more
    run = seen.run
    with run.lock:
        if seen.operation.key in run.walked:
            return
        run.walked.add(seen.operation.key)
    where: dict[str, int] = {}
    path = seen.case.formatted_path
    for number in range(paging.first_page, paging.first_page + MAX_WALK_PAGES):
        params: dict[str, Any] = {paging.page_param: number}
        if paging.limit_param:
            params[paging.limit_param] = size
        answer = run.target.request("GET", path, params=params)
        items = items_of(answer.json()) if answer.status == 200 else None
        if not items:
            return
        for item in items:
            key = identity(item)
            if key is None:
                return
            if key in where:
                seen.fail("Walking the pages repeats an item",
                          f"Item {key} is on page {where[key]} and again on page {number} "
                          f"({paging.limit_param or 'limit'}={size}).")  # fmt: skip
            where[key] = number
        if len(items) < size:
            return
