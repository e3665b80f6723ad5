"""The daily statistics rollup table: per closed day, the generation of cells in force; and the
markers of closed days whose calls changed since (those are read live until rolled up again).

A day's new cells are written under a new generation, then its ``meta`` item switches to that
generation in one write, then the old generation's cells are deleted: a reader that queries the day
sees either the old cells or the new ones, never half of each. The ``meta`` item also carries the
generation's cells inline (one JSON list) while they fit in ``INLINE_MAX_BYTES``: a reader then
queries the ``meta`` item alone — one item per day instead of one per (agent, team, queue) cell,
which is what a 30-day ``GET /stats`` mostly spent its time parsing. A day rolled up before inline
copies existed, or too large for one item, is read from its cell items as before.

Markers: every write that changes a call of a closed (past UTC) day first puts the day's marker
with a fresh token (``mark_changed``). The rollup clears a marker only if its token is still the one
it read before reading the day, and only once it is older than ``MARKER_SETTLE_S`` (so that the
change it announces has reached the ``by-day`` index the rollup reads, which is eventually
consistent). A marker is put *before* the call write: a write that then fails costs a needless
rebuild, never a stale day.

Call-day bounds: partition ``call-days`` holds ``earliest`` and ``latest``, the first and last UTC day
(``data``) any call started on. ``GET /calls`` lists the ``by-day`` index day by day from ``latest``
back to ``earliest`` and reads them first (one Query). Creating or replacing a call widens them
(:func:`include_call_day`: a conditional PutItem only when the day lies outside them); they never
shrink (a day with no calls left costs the listing one empty Query). A deployment whose calls
predate the bounds has none, and a new call does not start them there (its day would hide the
older calls): the listing falls back to the ``by-update`` feed index until
:func:`backfill_call_days` has set them from the stored calls.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pynamodb.exceptions import DeleteError, PutError

from callsight.config import Settings
from callsight.stats.cells import Cell
from callsight.storage.tables import CallItem, DailyStatsItem, bind_tables, condition_failed

DIRTY = "dirty"
META = "meta"
CALL_DAYS = "call-days"
EARLIEST = "earliest"
LATEST = "latest"
#: A marker younger than this is left in place by the rollup (the day stays live one more round).
MARKER_SETTLE_S = 900
#: The largest inline copy of a day's cells kept in its ``meta`` item (DynamoDB items hold 400 KB).
INLINE_MAX_BYTES = 300_000


@dataclass(frozen=True)
class Marker:
    day: date
    token: str
    at: datetime


@dataclass(frozen=True)
class RolledDay:
    generation: str
    computed_at: datetime
    calls: int
    cells: list[Cell]


def _today() -> date:
    return datetime.now(UTC).date()


def mark_changed(call_day: str | None) -> None:
    """Before a write that changes a call of ``call_day``: mark the day if it is closed. One small
    PutItem, only for calls of past days (late uploads, re-analysis, erasure): calls processed on
    their own day never pay it, and a backfill pays one write per call change beside ~300 index writes."""
    if not call_day or call_day >= _today().isoformat():
        return
    DailyStatsItem(DIRTY, call_day, token=uuid.uuid4().hex, at=datetime.now(UTC)).save()


@dataclass(frozen=True)
class DayBounds:
    """The first and last UTC day (ISO dates) any call started on."""

    earliest: str
    latest: str


def call_day_bounds(*, consistent: bool = True) -> DayBounds | None:
    """The stored call-day bounds (one Query), or None where none were written yet."""
    found = {
        item.item_key: item.data
        for item in DailyStatsItem.query(CALL_DAYS, consistent_read=consistent)
        if item.item_key in (EARLIEST, LATEST) and item.data
    }
    earliest, latest = found.get(EARLIEST), found.get(LATEST)
    if earliest is None or latest is None:
        return None
    return DayBounds(earliest, latest)


def include_call_day(call_day: str | None) -> None:
    """Before a call of ``call_day`` is created or replaced: widen the stored bounds to take it in. One
    Query of the bounds (eventually consistent: bounds only widen, so a stale read can only cost a
    needless write), and a conditional write only for a day outside them (a late upload, a backfill,
    the first call of a new day). A call without a start time has no day and is not listed by day."""
    if not call_day:
        return
    bounds = call_day_bounds(consistent=False)
    if bounds is None and _calls_stored():
        return  # calls written before the bounds existed: they need backfill_call_days() first
    if bounds is None or not bounds.earliest <= call_day <= bounds.latest:
        widen_call_days(call_day)


def _calls_stored() -> bool:
    """Whether the calls table holds any call (a Scan of one item)."""
    return any(True for _ in CallItem.scan(limit=1, attributes_to_get=["call_id"]))


def backfill_call_days(page_size: int = 1000) -> DayBounds | None:
    """Set the bounds from every stored call's day: a projected scan of the calls table, once, for a
    deployment whose calls predate the bounds (until then ``GET /calls`` lists by last change)."""
    days = {
        item.call_day
        for item in CallItem.scan(attributes_to_get=["call_id", "call_day"], page_size=page_size)
        if item.call_day
    }
    for day in (min(days), max(days)) if days else ():
        widen_call_days(day)
    return call_day_bounds()


def widen_call_days(call_day: str) -> None:
    """Widen the stored bounds to take in ``call_day``: per bound, one PutItem conditional on the stored
    day being absent or narrower (a concurrent wider write wins the race: it holds ``call_day`` too)."""
    for item_key, wider in (
        (EARLIEST, DailyStatsItem.data > call_day),
        (LATEST, DailyStatsItem.data < call_day),
    ):
        try:
            DailyStatsItem(CALL_DAYS, item_key, data=call_day).save(
                condition=DailyStatsItem.data.does_not_exist() | wider
            )
        except PutError as exc:
            if not condition_failed(exc):
                raise


class DailyStatsStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def backfill_call_days(self) -> DayBounds | None:
        """Set the call-day bounds from every stored call (``callsight stats call-days``)."""
        return backfill_call_days()

    def markers(self, since: date, until: date) -> dict[date, Marker]:
        """Markers of the days in [since, until] (one Query)."""
        items = DailyStatsItem.query(
            DIRTY, DailyStatsItem.item_key.between(since.isoformat(), until.isoformat())
        )
        return {
            date.fromisoformat(i.item_key): Marker(date.fromisoformat(i.item_key), i.token or "", i.at or _epoch())
            for i in items
        }  # fmt: skip

    def read_day(self, day: date) -> RolledDay | None:
        """The day's cells in force, or None if it was never rolled up: one Query of the ``meta`` item
        (its inline cells), or a second one of the generation's cell items where it has none."""
        key = day.isoformat()
        meta = next(
            iter(DailyStatsItem.query(key, DailyStatsItem.item_key == META, consistent_read=True)), None
        )
        return self._rolled(meta)

    def read_days(self, days: Iterable[date]) -> dict[date, RolledDay]:
        """The cells in force of each rolled-up day among ``days`` (a day never rolled up is absent):
        one strongly consistent BatchGetItem of their ``meta`` items, 100 days a request, instead of a
        Query per day; a day whose ``meta`` has no inline copy costs one Query of its cell items."""
        keys = [(day.isoformat(), META) for day in sorted(set(days))]
        found: dict[date, RolledDay] = {}
        for meta in DailyStatsItem.batch_get(keys, consistent_read=True) if keys else ():
            rolled = self._rolled(meta)
            if rolled is not None:
                found[date.fromisoformat(meta.day_key)] = rolled
        return found

    @staticmethod
    def _rolled(meta: DailyStatsItem | None) -> RolledDay | None:
        """The day a ``meta`` item names: its inline cells, or its generation's cell items."""
        if meta is None or meta.generation is None:
            return None
        if meta.data is not None:
            cells = [Cell.from_dict(cell) for cell in json.loads(meta.data)]
        else:
            prefix = f"cell#{meta.generation}#"
            items = DailyStatsItem.query(
                meta.day_key, DailyStatsItem.item_key.startswith(prefix), consistent_read=True
            )
            cells = [Cell.from_json(i.data or "{}") for i in items]
        return RolledDay(meta.generation, meta.at or _epoch(), int(meta.calls or 0), cells)

    def write_day(self, day: date, cells: list[Cell], calls: int) -> str:
        """Replace the day's cells (new generation, switch, drop the old); returns the generation."""
        key = day.isoformat()
        old = [i.item_key for i in DailyStatsItem.query(key, consistent_read=True) if i.item_key != META]
        generation = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        with DailyStatsItem.batch_write() as batch:
            for n, cell in enumerate(cells):
                batch.save(DailyStatsItem(key, f"cell#{generation}#{n:05d}", data=cell.to_json()))
        inline = "[" + ",".join(cell.to_json() for cell in cells) + "]"
        DailyStatsItem(
            key, META, generation=generation, at=datetime.now(UTC), calls=calls,
            data=inline if len(inline.encode()) <= INLINE_MAX_BYTES else None,
        ).save()  # fmt: skip
        self._delete(key, old)
        return generation

    def clear_marker(self, marker: Marker) -> bool:
        """Delete the day's marker if it is still the one read; False if the day changed again."""
        item = DailyStatsItem(DIRTY, marker.day.isoformat())
        try:
            item.delete(condition=DailyStatsItem.token == marker.token)
        except DeleteError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def marker_settled(self, marker: Marker, now: datetime) -> bool:
        return now - marker.at >= timedelta(seconds=MARKER_SETTLE_S)

    def _delete(self, day_key: str, item_keys: Iterable[str]) -> None:
        with DailyStatsItem.batch_write() as batch:
            for item_key in item_keys:
                batch.delete(DailyStatsItem(day_key, item_key))


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)
