"""Producing reports for a caller (the API route) or for everyone (the weekly schedule).

Calls are read day by day through the ``by-day`` index and filtered by what the principal may
see; the scheduled run reads as the system (every call), stores JSON + CSV in the reports bucket,
announces the report on the alerts topic (severity ``info``, no call data in the message) and
audits the run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel

from callsight.auth.tokens import Principal, Role
from callsight.config import Settings
from callsight.reports.weekly import WeeklyReport, build_weekly_report, last_complete_week, week_start
from callsight.stats.summary import StatsQuery
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository
from callsight.storage.notifications import AlertPublisher
from callsight.storage.reports import ReportStore
from callsight.sweeps.deletion import Actor
from callsight.sweeps.stats_rollup import visible_calls

logger = logging.getLogger(__name__)


class WeeklyReportRun(BaseModel):
    week: str
    calls: int
    analysed: int
    bucket: str
    json_key: str
    csv_key: str
    message_id: str | None


def scope_of(principal: Principal) -> str:
    if principal.role is Role.QA:
        return "teams/queues: " + ", ".join(sorted(principal.teams))
    if principal.role is Role.AGENT:
        return f"agent: {principal.agent_id}"
    return "all"


def weekly_report_for(calls: CallRepository, principal: Principal, week: str | None = None) -> WeeklyReport:
    """The report of ``week`` (default: the last complete week) over the calls ``principal`` may see."""
    week = week or last_complete_week()
    since = week_start(week)
    visible = visible_calls(calls, principal, StatsQuery(since=since, until=since + timedelta(days=6)))
    return build_weekly_report(visible, week, scope_of(principal))


class WeeklyReports:
    """The scheduled job: build over every call, store, announce, audit."""

    SYSTEM = Principal(subject="weekly-report", role=Role.ADMIN)

    def __init__(
        self,
        settings: Settings,
        store: ReportStore | None = None,
        alerts: AlertPublisher | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.calls = CallRepository(settings)
        self.store = store or ReportStore(settings)
        self.alerts = alerts or AlertPublisher(settings)
        self.audit = audit or AuditLog(settings)

    def run(self, who: Actor, week: str | None = None, announce: bool = True) -> WeeklyReportRun:
        report = weekly_report_for(self.calls, self.SYSTEM, week)
        json_key, csv_key = self.store.put_weekly(report)
        message_id = None
        if announce:
            message_id = self.alerts.publish(
                f"Callsight weekly report {report.week}",
                {
                    "kind": "weekly_report", "week": report.week, "calls": report.calls,
                    "analysed": report.analysed, "bucket": self.store.bucket,
                    "json_key": json_key, "csv_key": csv_key,
                },
                severity="info",
            )  # fmt: skip
        self.audit.record(
            actor=who.actor, role=who.role, action="report.weekly.generate", target=f"report:weekly/{report.week}",
            request_id=who.request_id, details={"calls": report.calls, "json_key": json_key, "csv_key": csv_key},
        )  # fmt: skip
        logger.info("weekly report %s: %d calls, %d analysed", report.week, report.calls, report.analysed)
        return WeeklyReportRun(
            week=report.week, calls=report.calls, analysed=report.analysed, bucket=self.store.bucket,
            json_key=json_key, csv_key=csv_key, message_id=message_id,
        )  # fmt: skip
