"""Statistics over the calls a caller may see in a period.

Topic shares, outcomes, calls per day, average duration, short-call and missed-call rates, per-agent
conversion and quality, sentiment by day. Computed from daily cells (:mod:`callsight.stats.cells`):
a closed day's cells come from the daily rollup (a few items, however many calls), today's and any
day changed since its rollup from its calls through the ``by-day`` index (never a scan).
"""

from __future__ import annotations

from datetime import date

from callsight.api.audited import audited
from callsight.auth.tokens import Principal
from callsight.config import Settings
from callsight.stats.summary import Stats, StatsQuery, stats_from
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository
from callsight.storage.daily_stats import DailyStatsStore
from callsight.sweeps.rolled_cells import period_cells

__all__ = ["Stats", "StatsApi", "StatsQuery", "read_stats"]


def read_stats(
    principal: Principal,
    query: StatsQuery,
    store: DailyStatsStore,
    calls: CallRepository,
    now: date | None = None,
) -> tuple[Stats, int]:
    """Statistics of the period from the daily rollup where a closed day has one and has not changed
    since, from the calls themselves otherwise (today, marked days, days not yet rolled up).
    Returns the statistics and how many days came from the rollup."""
    cells, rolled = period_cells(principal, query.since, query.until, store, calls, now=now)
    return stats_from(cells, query.since, query.until), rolled


class StatsApi:
    """``GET /stats``: every role may ask (each sees the statistics of the calls it may see); each
    request is one ``stats.read`` audit entry with the period and how many days came from the rollup."""

    def __init__(self, settings: Settings) -> None:
        self.store = DailyStatsStore(settings)
        self.calls = CallRepository(settings)
        self.audit = AuditLog(settings)

    def read(self, principal: Principal, query: StatsQuery, request_id: str | None = None) -> Stats:
        with audited(self.audit, principal, "stats.read", "calls", request_id) as action:
            result, rolled_up_days = read_stats(principal, query, self.store, self.calls)
            action.details.update(
                since=str(query.since), until=str(query.until), rolled_up_days=rolled_up_days
            )
        return result
