"""Bounded, server-filtered pages of one index partition of the calls table, newest first.

A listing with a selective scope (a QA user's teams and queues, an agent's alerting calls) asks DynamoDB to
filter the partition it reads (a FilterExpression), so one Query request usually fills a page
however few of the partition's calls are in scope. :func:`read_page` stops once ``budget`` items
have been read (a filter that matches nothing never walks the whole partition in one API request)
and says where to resume: the key of the last item it returned, or DynamoDB's ``LastEvaluatedKey``
when the budget ran out. This module reads only; the calls it lists are the repository's
(:func:`callsight.storage.call_repository.record_of`).

The listings the API pages through live here, so the API never builds a DynamoDB query itself:

* :func:`calls_by_day` — every call newest start first: the ``by-day`` index (partition = UTC day,
  sort = start time) day by day, from the last call day back to the first (the bounds the daily-stats
  table keeps, :func:`callsight.storage.daily_stats.call_day_bounds`), at most ``MAX_DAYS`` days and
  ``budget`` items per request. Calls without a start time have no day and are not listed there.
* :func:`calls_by_agent` — one agent's calls newest start first (``by-agent``);
* :func:`calls_by_update` — newest change first (``by-update``), where no bounds exist yet;
* :func:`alerting_calls`, :func:`agent_alerting_calls` — the alert list;
* :func:`feed_page` — the change feed, oldest change first.

Cursor positions are DynamoDB start keys; :func:`start_key_fits` says whether a decoded one is a
position in a given listing (a signed cursor from an older version must still be a 400).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from callsight.models.call import CallRecord, CallStatus
from callsight.storage.call_repository import record_of
from callsight.storage.daily_stats import DayBounds
from callsight.storage.tables import CallItem

#: Days one ``calls_by_day`` request reads at most (a selective filter over a long quiet range
#: answers a short page with a cursor rather than walking months in one request).
MAX_DAYS = 31
#: Listing names (cursor scopes) and the start keys of their indexes: partition attribute (and the one
#: partition value, where fixed), range attribute.
_KEYS = {
    "by-day": ("call_day", None, "started_at"),
    "by-agent": ("agent_id", None, "started_at"),
    "by-update": ("feed_shard", "0", "updated_at"),
    "alerts": ("alert_shard", "0", "alert_at"),
}


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


@dataclass(frozen=True)
class CallsPage:
    """Calls accepted, in listing order, and where the next page starts (None: nothing more)."""

    calls: list[CallRecord]
    next_key: dict[str, Any] | None


def listing_condition(scope_teams: Collection[str] | None, team: str | None, queue: str | None) -> Any:
    """The FilterExpression of a listing: a QA user's scope (``scope_teams``; None: no scope) and a team
    or queue filter; None where there is none."""
    condition = scope_filter(scope_teams) if scope_teams is not None else None
    for wanted in (
        CallItem.team == team if team is not None else None,
        CallItem.queue == queue if queue is not None else None,
    ):
        if wanted is not None:
            condition = wanted if condition is None else condition & wanted
    return condition


def between(attribute: Any, since: datetime | None, until: datetime | None) -> Any:
    """Range condition [since, until] on a datetime range key (None: no bounds)."""
    if since is not None and until is not None:
        return attribute.between(since, until)
    if since is not None:
        return attribute >= since
    if until is not None:
        return attribute <= until
    return None


def _records(page: IndexPage) -> CallsPage:
    return CallsPage([record_of(item) for item in page.items], page.next_key)


def _accepting(accept: Callable[[CallRecord], bool]) -> Callable[[CallItem], bool]:
    return lambda item: accept(record_of(item))


def calls_by_agent(
    agent: str, *, since: datetime | None, until: datetime | None, start: dict[str, Any] | None,
    page_size: int, limit: int, budget: int, accept: Callable[[CallRecord], bool],
) -> CallsPage:  # fmt: skip
    """One agent's calls by start time, newest first (their ``by-agent`` partition)."""
    page = read_page(
        CallItem.by_agent, agent, range_key_condition=between(CallItem.started_at, since, until), start=start,
        page_size=page_size, limit=limit, budget=budget, accept=_accepting(accept),
    )  # fmt: skip
    return _records(page)


def calls_by_update(
    *, condition: Any, start: dict[str, Any] | None, page_size: int, limit: int, budget: int,
    accept: Callable[[CallRecord], bool],
) -> CallsPage:  # fmt: skip
    """Every call by last change, newest first (the ``by-update`` feed partition)."""
    page = read_page(
        CallItem.by_update, "0", filter_condition=condition, start=start, page_size=page_size,
        limit=limit, budget=budget, accept=_accepting(accept),
    )  # fmt: skip
    return _records(page)


def calls_by_day(
    bounds: DayBounds, *, since: datetime | None, until: datetime | None, condition: Any,
    start: dict[str, Any] | None, page_size: int, limit: int, budget: int,
    accept: Callable[[CallRecord], bool], max_days: int = MAX_DAYS,
) -> CallsPage:  # fmt: skip
    """Every call by start time, newest first: the ``by-day`` partitions from the last call day (or
    ``until``'s) back to the first (or ``since``'s), one Query each (more where a day holds more than a
    page), at most ``max_days`` days and ``budget`` items read. The next key is a position in a day's
    partition, or ``{"call_day": day}`` alone: start at the top of that day."""
    first = max(bounds.earliest, since.date().isoformat()) if since is not None else bounds.earliest
    day = min(bounds.latest, until.date().isoformat()) if until is not None else bounds.latest
    position: dict[str, Any] | None = None
    if start is not None:
        day = start["call_day"]["S"]
        position = start if len(start) > 1 else None
    found: list[CallRecord] = []
    read = 0
    range_condition = between(CallItem.started_at, since, until)
    for _ in range(max_days):
        if day < first:
            return CallsPage(found, None)
        page = read_page(
            CallItem.by_day, day, range_key_condition=range_condition, filter_condition=condition,
            start=position, page_size=max(1, min(page_size, budget - read)), limit=limit - len(found),
            budget=budget - read, accept=_accepting(accept),
        )  # fmt: skip
        found += [record_of(item) for item in page.items]
        read += page.read
        if page.next_key is not None:  # the page is full, or the budget ran out within the day
            return CallsPage(found, page.next_key)
        day, position = _day_before(day), None
        if len(found) >= limit or read >= budget:
            break
    return CallsPage(found, {"call_day": {"S": day}} if day >= first else None)


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def alerting_calls(
    *, scope_teams: Collection[str] | None, since: datetime | None, until: datetime | None,
    start: dict[str, Any] | None, page_size: int, limit: int, budget: int,
) -> IndexPage:  # fmt: skip
    """A page of the sparse ``alerts`` index (keys, ``agent_id``, ``team``, ``queue`` only: read the
    calls by id), filtered to a QA user's scope where ``scope_teams`` is given."""
    return read_page(
        CallItem.alerts, "0", range_key_condition=between(CallItem.alert_at, since, until),
        filter_condition=scope_filter(scope_teams) if scope_teams is not None else None, start=start,
        page_size=page_size, limit=limit, budget=budget,
    )  # fmt: skip


def agent_alerting_calls(
    agent: str, *, since: datetime | None, until: datetime | None, start: dict[str, Any] | None,
    page_size: int, limit: int, budget: int,
) -> CallsPage:  # fmt: skip
    """An agent's alerting calls: their own ``by-agent`` partition (every attribute projected)
    filtered to those carrying ``alert_at``; no BatchGetItem needed."""
    page = read_page(
        CallItem.by_agent, agent, range_key_condition=between(CallItem.started_at, since, until),
        filter_condition=CallItem.alert_at.exists(), start=start, page_size=page_size, limit=limit,
        budget=budget,
    )  # fmt: skip
    return _records(page)


def feed_page(start: dict[str, Any] | None, limit: int) -> CallsPage:
    """Calls in the order they last changed (``by-update``, oldest first) from ``start``; calls being
    deleted are skipped, never served. The next key is that of the last item read."""
    pages = CallItem.by_update.query("0", scan_index_forward=True, last_evaluated_key=start, page_size=limit)
    calls: list[CallRecord] = []
    next_key = start
    for item in pages:
        call = record_of(item)
        if call.status is not CallStatus.DELETED:
            calls.append(call)
        serialized = item.serialize()
        next_key = {name: serialized[name] for name in ("call_id", "feed_shard", "updated_at")}
        if len(calls) >= limit:
            break
    return CallsPage(calls, next_key)


def start_key_fits(key: dict[str, Any], index: str, partition: str | None = None) -> bool:
    """Whether ``key`` is a start key of ``index`` (a name of ``_KEYS``) in ``partition`` (or the index's
    one partition): exactly the index's key attributes, each one string, a stored timestamp. For
    ``by-day`` also ``{"call_day": day}`` alone (the top of that day) and the timestamp must fall on
    the day."""
    partition_name, fixed, moment = _KEYS[index]
    wanted = fixed if fixed is not None else partition
    values: dict[str, str] = {}
    for name, typed in key.items():
        if not (isinstance(typed, dict) and list(typed) == ["S"] and isinstance(typed["S"], str)):
            return False
        values[name] = typed["S"]
    if index == "by-day" and set(values) == {"call_day"}:
        return _is_day(values["call_day"])
    if set(values) != {"call_id", partition_name, moment} or not 0 < len(values["call_id"]) <= 64:
        return False
    if wanted is not None and values[partition_name] != wanted:
        return False
    try:  # as UTCDateTimeAttribute stores it: 2026-11-20T11:30:01.000000+0000
        at = datetime.strptime(values[moment], "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return False
    if index == "by-day" and not (
        _is_day(values["call_day"]) and at.date().isoformat() == values["call_day"]
    ):
        return False
    return values[moment].endswith("+0000")


def _is_day(value: str) -> bool:
    try:
        return date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False
