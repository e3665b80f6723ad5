"""Producing reports for a caller (the API route) or for everyone (the weekly schedule).

The week is read as ``GET /stats`` reads a period (:func:`callsight.sweeps.rolled_cells.period_cells`):
each closed day from its daily rollup cells when it has them (version 2: with the report's question,
purpose and tag sums) and has not changed since, every other day (today, marked days, days not yet
rolled up or rolled up before version 2) from its calls through the ``by-day`` index; cells are kept
to those the principal may see. The result equals the report over the week's calls read live. The
scheduled run reads as the system (every call), stores JSON + CSV in the reports bucket, announces
the report on the alerts topic (severity ``info``, no call data in the message) and audits the run.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from pydantic import BaseModel

from callsight.auth.tokens import Principal, Role
from callsight.config import Settings
from callsight.reports.weekly import WeeklyReport, last_complete_week, week_start, weekly_report_from
from callsight.stats.cells import CELL_VERSION
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository
from callsight.storage.daily_stats import DailyStatsStore
from callsight.storage.notifications import AlertPublisher
from callsight.storage.reports import ReportStore
from callsight.sweeps.deletion import Actor
from callsight.sweeps.rolled_cells import period_cells

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


def weekly_report_for(
    calls: CallRepository,
    principal: Principal,
    week: str | None = None,
    store: DailyStatsStore | None = None,
    now: date | None = None,
) -> WeeklyReport:
    """The report of ``week`` (default: the last complete week) over the calls ``principal`` may see;
    closed days from the daily rollup where ``store`` has them, the rest (everything without a
    ``store``) live."""
    return read_weekly_report(calls, principal, week, store, now)[0]


def read_weekly_report(
    calls: CallRepository,
    principal: Principal,
    week: str | None = None,
    store: DailyStatsStore | None = None,
    now: date | None = None,
) -> tuple[WeeklyReport, int]:
    """:func:`weekly_report_for`, and how many of the week's days came from the rollup."""
    week = week or last_complete_week(now)
    since = week_start(week)
    cells, rolled = period_cells(
        principal, since, since + timedelta(days=6), store, calls, now=now, min_version=CELL_VERSION
    )
    return weekly_report_from(cells, week, scope_of(principal)), rolled


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
        self.daily_stats = DailyStatsStore(settings)
        self.store = store or ReportStore(settings)
        self.alerts = alerts or AlertPublisher(settings)
        self.audit = audit or AuditLog(settings)

    def run(self, who: Actor, week: str | None = None, announce: bool = True) -> WeeklyReportRun:
        report, rolled_up_days = read_weekly_report(self.calls, self.SYSTEM, week, self.daily_stats)
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
            request_id=who.request_id, details={"calls": report.calls, "json_key": json_key, "csv_key": csv_key,
                     "rolled_up_days": rolled_up_days},
        )  # fmt: skip
        logger.info(
            "weekly report %s: %d calls, %d analysed, %d day(s) from the rollup",
            report.week, report.calls, report.analysed, rolled_up_days,
        )  # fmt: skip
        return WeeklyReportRun(
            week=report.week, calls=report.calls, analysed=report.analysed, bucket=self.store.bucket,
            json_key=json_key, csv_key=csv_key, message_id=message_id,
        )  # fmt: skip
