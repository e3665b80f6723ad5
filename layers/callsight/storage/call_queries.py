"""Newest-first reads of several index partitions of the calls table as one listing.

A QA user's calls live in the partitions of their teams and queues (``by-team``, ``by-queue``); the
alerting calls of a scope in the sparse ``alerts*`` indexes. Each partition is one DynamoDB Query in
descending range-key order; :func:`newest_first` merges them into a single order — (range key,
``call_id``) descending — and hands out each item with its :class:`Position`, so a page resumes
exactly after the last item it showed, however many partitions there are (a key condition on the
range key: nothing before the position is read again). A call found in two partitions (its team and
its queue both in scope) comes out once. This module reads only; the calls it lists are the
repository's (:func:`callsight.storage.call_repository.record_of`).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callsight.storage.tables import CallItem

#: Index name → (the index, its range attribute's name) for the listings this module serves.
_RANGE_OF = {
    "by-team": "updated_at",
    "by-queue": "updated_at",
    "by-update": "updated_at",
    "alerts": "alert_at",
    "alerts-by-team": "alert_at",
    "alerts-by-queue": "alert_at",
    "alerts-by-agent": "alert_at",
}
STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"  # as UTCDateTimeAttribute stores a datetime


@dataclass(frozen=True, order=True)
class Position:
    """Where a merged listing stands: the range key as stored, then the call id (the tie-break)."""

    at: str
    call_id: str


@dataclass(frozen=True)
class Partition:
    """One partition of one index: ``index`` (e.g. ``by-team``) and its hash key value."""

    index: str
    key: str


def stored(moment: datetime) -> str:
    """A datetime as the range key stores it (so positions compare as strings)."""
    return str(CallItem.updated_at.serialize(moment))


def parse_stored(text: str) -> datetime:
    """The datetime of a stored range key; ``ValueError`` if ``text`` is not one."""
    if not text.endswith("+0000"):
        raise ValueError("not a stored UTC instant")
    return datetime.strptime(text, STORED_FORMAT)


def index_model(index: str) -> Any:
    """The PynamoDB index object named ``index`` (one of :data:`_RANGE_OF`)."""
    return getattr(CallItem, index.replace("-", "_"))


def _range_condition(attribute: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None and until is not None:
        return attribute.between(since, until)
    if since is not None:
        return attribute >= since
    if until is not None:
        return attribute <= until
    return None


def _partition_items(
    partition: Partition, since: datetime | None, until: datetime | None, page_size: int
) -> Iterator[tuple[Position, CallItem]]:
    """One partition newest first, equal range keys ordered by call id (descending) like the merge."""
    range_name = _RANGE_OF[partition.index]
    attribute = getattr(CallItem, range_name)
    pages = index_model(partition.index).query(
        partition.key,
        _range_condition(attribute, since, until),
        scan_index_forward=False,
        page_size=page_size,
    )
    positioned = ((Position(stored(getattr(item, range_name)), item.call_id), item) for item in pages)
    for _, group in itertools.groupby(positioned, key=lambda pair: pair[0].at):
        yield from sorted(group, key=lambda pair: pair[0], reverse=True)


def newest_first(
    partitions: Iterable[Partition],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    after: Position | None = None,
    page_size: int = 25,
) -> Iterator[tuple[Position, CallItem]]:
    """Every item of ``partitions`` whose range key lies in [since, until], strictly after ``after``,
    newest first, each once. Partitions are read lazily, a page (``page_size`` items) at a time."""
    if after is not None:
        bound = parse_stored(after.at)
        until = bound if until is None or bound < until else until
        if since is not None and until < since:
            return
    streams = [_partition_items(p, since, until, page_size) for p in dict.fromkeys(partitions)]
    previous: Position | None = None
    for position, item in heapq.merge(*streams, key=lambda pair: pair[0], reverse=True):
        if position == previous or (after is not None and position >= after):
            continue
        previous = position
        yield position, item
