"""``GET /reports/weekly``: the weekly report over the calls an admin or QA user may see, as JSON or
CSV; agents and the CRM client get 403. Closed days come from the daily statistics rollup, the
others live (:mod:`callsight.sweeps.weekly_reports`). Each export is one ``report.weekly.export``
audit entry (format, number of calls, scope, days from the rollup) under ``report:weekly/<week>``.
"""

from __future__ import annotations

from callsight.api.audited import audited
from callsight.api.service import Forbidden
from callsight.auth.tokens import Principal, Role
from callsight.config import Settings
from callsight.reports.weekly import WeeklyQuery, WeeklyReport
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository
from callsight.storage.daily_stats import DailyStatsStore
from callsight.sweeps.weekly_reports import read_weekly_report

#: Roles the weekly report is for.
READERS = frozenset({Role.ADMIN, Role.QA})


def csv_headers(report: WeeklyReport) -> dict[str, str | list[str]]:
    """The response headers of the CSV download of ``report``."""
    return {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="callsight-weekly-{report.week}.csv"',
    }


class ReportsApi:
    def __init__(self, settings: Settings) -> None:
        self.calls = CallRepository(settings)
        self.daily_stats = DailyStatsStore(settings)
        self.audit = AuditLog(settings)

    def weekly(self, principal: Principal, query: WeeklyQuery, request_id: str | None = None) -> WeeklyReport:
        """The report of ``query.week`` (default: the last complete week) over the caller's calls."""
        if principal.role not in READERS:
            raise Forbidden("the weekly report is for admin and QA roles")  # not audited (as before)
        with audited(self.audit, principal, "report.weekly.export", "report:weekly", request_id) as action:
            report, rolled_up_days = read_weekly_report(self.calls, principal, query.week, self.daily_stats)
            action.target = f"report:weekly/{report.week}"
            action.details.update(
                format=query.format, calls=report.calls, scope=report.scope, rolled_up_days=rolled_up_days
            )
        return report
