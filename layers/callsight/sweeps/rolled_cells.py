"""A period's daily cells as a principal may see them: from the daily rollup for each closed day that
has one and has not changed since, from the day's calls otherwise (today, marked days, days never
rolled up, days rolled up by an older rollup whose cells lack sums the reader needs).

``GET /stats`` and the weekly report (route and schedule) read this way; the cells of either source
are the same (:func:`callsight.stats.cells.cells_of`), so the figures are the same to the last digit.
Visibility is per cell owner (agent, team, queue), the rule calls are shown by.
"""

from __future__ import annotations

from datetime import date

from callsight.auth.tokens import Principal
from callsight.stats.cells import Cell, period_days
from callsight.stats.summary import today
from callsight.storage.call_repository import CallRepository
from callsight.storage.daily_stats import DailyStatsStore
from callsight.sweeps.stats_rollup import live_cells


def period_cells(
    principal: Principal,
    since: date,
    until: date,
    store: DailyStatsStore | None,
    calls: CallRepository,
    *,
    now: date | None = None,
    min_version: int = 1,
) -> tuple[list[Cell], int]:
    """The cells of [since, until] that ``principal`` may see, and how many days came from the rollup.

    A rolled-up day is used only if every cell of it is at least ``min_version`` (the weekly report
    needs 2); otherwise, and without a ``store``, the day is read live through the ``by-day`` index."""
    current = now or today()
    cells: list[Cell] = []
    rolled = 0
    markers = store.markers(since, min(until, current)) if store is not None and since < current else {}
    days = period_days(since, until)
    closed = [day for day in days if day < current and day not in markers]
    stored_days = store.read_days(closed) if store is not None and closed else {}
    for day in days:
        stored = stored_days.get(day)
        if stored is not None and all(cell.version >= min_version for cell in stored.cells):
            cells += stored.cells
            rolled += 1
        else:
            cells += live_cells(calls, day)
    return [cell for cell in cells if cell.owner.visible_to(principal)], rolled
