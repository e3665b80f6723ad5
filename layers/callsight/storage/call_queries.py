"""Bounded, server-filtered pages of one index partition of the calls table, newest first.

A listing with a selective scope (a QA user's teams and queues, an agent's alerting calls) asks DynamoDB to
filter the partition it reads (a FilterExpression), so one Query request usually fills a page
however few of the partition's calls are in scope. :func:`read_page` stops once ``budget`` items
have been read (a filter that matches nothing never walks the whole partition in one API request)
and says where to resume: the key of the last item it returned, or DynamoDB's ``LastEvaluatedKey``
when the budget ran out. This module reads only; the calls it lists are the repository's
(:func:`callsight.storage.call_repository.record_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from callsight.storage.tables import CallItem


@dataclass(frozen=True)
class IndexPage:
    """Items accepted, in index order, and the start key of the next page (None: nothing more)."""

    items: list[CallItem]
    next_key: dict[str, Any] | None
    read: int


def scope_filter(teams: Collection[str]) -> Any:
    """The FilterExpression of a QA user's scope: calls whose team or queue is one of ``teams``. A
    superset of what the caller may see: visibility is still checked on every call read."""
    names = sorted(teams) or [""]  # no team: a filter that matches nothing, never "every call"
    return CallItem.team.is_in(*names) | CallItem.queue.is_in(*names)


def read_page(
    index: Any,
    hash_key: str,
    *,
    range_key_condition: Any = None,
    filter_condition: Any = None,
    start: dict[str, Any] | None = None,
    page_size: int,
    limit: int,
    budget: int,
    accept: Callable[[CallItem], bool] = lambda _: True,
) -> IndexPage:
    """Up to ``limit`` accepted items of ``index``'s partition ``hash_key``, newest first, from
    ``start``; at most ``budget`` items read (DynamoDB's ScannedCount, filtered-out ones included)."""
    pages = index.query(
        hash_key, range_key_condition, filter_condition, scan_index_forward=False,
        last_evaluated_key=start, page_size=page_size,
    )  # fmt: skip
    raw_pages = pages.page_iter
    found: list[CallItem] = []
    read = 0
    for page in raw_pages:
        raw_items = page.get("Items", [])
        read += int(page.get("ScannedCount", len(raw_items)))
        for raw in raw_items:
            item = CallItem.from_raw_data(raw)
            if accept(item):
                found.append(item)
                if len(found) >= limit:
                    return IndexPage(found, {name: raw[name] for name in raw_pages.key_names}, read)
        if raw_pages.last_evaluated_key is None:
            break
        if read >= budget:
            return IndexPage(found, raw_pages.last_evaluated_key, read)
    return IndexPage(found, None, read)
