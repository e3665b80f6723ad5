"""The daily statistics rollup: fold each closed day's calls into cells once, so ``GET /stats``
reads a few cells per day instead of every call (flat in the number of calls; issue 9's benchmark).

Run hourly by ``functions/stats_rollup`` (and ``callsight stats rollup`` for a backfill): it rolls
up yesterday once it has closed, and every earlier day marked as changed since its rollup (late
uploads, re-analysis, erasure, retention). A marker younger than ``MARKER_SETTLE_S`` is kept (the
day is rolled up but read live until a later run finds the marker settled); a marker that changed
while the day was being rolled up is kept. A day is never rolled up before it has ended (UTC):
today is always read live. When a run first rolls up yesterday (once a day) it also rolls up again
the ``OUTDATED_DAYS`` days before it whose cells an older rollup wrote (version below
``CELL_VERSION``: no weekly report counts), so that after an upgrade the weekly report of the last
complete week reads its days from the rollup again within a day (until then it reads them live).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, Field

from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.stats.cells import CELL_VERSION, Cell, cells_of
from callsight.storage.call_repository import CallRepository
from callsight.storage.daily_stats import DailyStatsStore, Marker

EARLIEST = date(1970, 1, 1)
#: Days before yesterday checked, once a day, for cells of an older version (two weeks: the last
#: complete week, the weekly report's default, and the current one).
OUTDATED_DAYS = 13


class RollupReport(BaseModel):
    rolled_up: list[date] = Field(default_factory=list, description="Days whose cells were (re)written.")
    waiting: list[date] = Field(
        default_factory=list,
        description="Rolled up but still marked (changed too recently to be sure): read live until the next run.",
    )
    changed_again: list[date] = Field(
        default_factory=list, description="Days that changed while being rolled up: still marked."
    )
    refused: list[date] = Field(default_factory=list, description="Days not yet over (UTC): never rolled up.")
    outdated: list[date] = Field(
        default_factory=list, description="Days rolled up again because an older rollup wrote their cells."
    )
    calls: int = 0
    cells: int = 0
    seconds: float = 0.0


def live_calls(calls: CallRepository, day: date) -> list[CallRecord]:
    """Every call of a UTC day, through the ``by-day`` index (never a scan)."""
    return list(calls.started_on(day))


def live_cells(calls: CallRepository, day: date) -> list[Cell]:
    return cells_of(live_calls(calls, day))


class StatsRollup:
    def __init__(self, settings: Settings) -> None:
        self.calls = CallRepository(settings)
        self.store = DailyStatsStore(settings)

    def run(self, now: datetime | None = None, days: list[date] | None = None) -> RollupReport:
        """Roll up what is due (yesterday if not yet, marked days), or exactly ``days``."""
        now = now or datetime.now(UTC)
        today = now.astimezone(UTC).date()
        yesterday = today - timedelta(days=1)
        report = RollupReport()
        started = time.perf_counter()
        markers = self.store.markers(EARLIEST, yesterday)
        if days is None:
            due = set(markers)
            if self.store.read_day(yesterday) is None:
                due.add(yesterday)
                report.outdated = self._outdated(yesterday)
                due.update(report.outdated)
        else:
            due = set(days)
        for day in sorted(due):
            if day >= today:
                report.refused.append(day)
                continue
            self._roll_up(day, markers.get(day), now, report)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _outdated(self, yesterday: date) -> list[date]:
        """The ``OUTDATED_DAYS`` days before ``yesterday`` rolled up with cells below ``CELL_VERSION``."""
        days = [yesterday - timedelta(days=n) for n in range(OUTDATED_DAYS, 0, -1)]
        return [
            day for day in days
            if (stored := self.store.read_day(day)) is not None
            and any(cell.version < CELL_VERSION for cell in stored.cells)
        ]  # fmt: skip

    def _roll_up(self, day: date, marker: Marker | None, now: datetime, report: RollupReport) -> None:
        calls = live_calls(self.calls, day)
        cells = cells_of(calls)
        self.store.write_day(day, cells, len(calls))
        report.rolled_up.append(day)
        report.calls += len(calls)
        report.cells += len(cells)
        if marker is None:
            return
        if not self.store.marker_settled(marker, now):
            report.waiting.append(day)  # the change may not be in the by-day index yet: stays live
        elif not self.store.clear_marker(marker):
            report.changed_again.append(day)
