"""The access-anomaly check: one window of the audit log against each principal's baseline, alerts to
the access-alerts topic, once per principal, rule and window, and an audit entry saying what was checked.

Reads: the window's UTC day from the audit log (the window and that day's earlier hours), and each
closed day of the baseline from its stored profile (computed from the log once, the first time a run
needs it). The rules themselves are pure (:mod:`callsight.compliance.access_anomaly`).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, Field

from callsight.compliance.access_anomaly import (
    AccessRules,
    Finding,
    Window,
    baselines,
    detect,
    principals,
    profile,
    window_before,
)
from callsight.config import Settings
from callsight.storage.access_alerts import AccessAlertPublisher, AccessProfiles, SentAlerts
from callsight.storage.audit_log import AuditLog
from callsight.sweeps.deletion import Actor

logger = logging.getLogger(__name__)

ACTION = "access_anomaly.check"


class CheckReport(BaseModel):
    window_start: datetime
    window_end: datetime
    entries: int = Field(description="Audit entries of principals (not system) in the window.")
    principals: int = Field(description="Principals with any entry in the window.")
    baseline_days_read: list[date] = Field(
        description="Closed baseline days read from the audit log this run."
    )
    baseline_days_stored: int = Field(description="Closed baseline days taken from their stored profile.")
    findings: list[Finding]
    sent: list[str] = Field(description="Keys of the alerts published by this run.")
    already_sent: list[str] = Field(description="Keys found in this window that an earlier run published.")
    seconds: float = 0.0


class AccessAnomalyCheck:
    def __init__(
        self,
        settings: Settings,
        audit: AuditLog | None = None,
        sent: SentAlerts | None = None,
        profiles: AccessProfiles | None = None,
        publisher: AccessAlertPublisher | None = None,
    ) -> None:
        self.rules = AccessRules.from_settings(settings)  # AccessRulesError: the function does not start
        self.audit = audit or AuditLog(settings)
        self.sent = sent or SentAlerts(settings)
        self.profiles = profiles or AccessProfiles(settings)
        self.publisher = publisher or AccessAlertPublisher(settings)

    def window_ending(self, end: datetime) -> Window:
        """The window that ends at ``end``, which must be on a window boundary (UTC)."""
        window = window_before(end, self.rules, settle=timedelta(0))
        if window.end != end.astimezone(UTC):
            raise ValueError(
                f"window_end {end.isoformat()} is not on a {self.rules.window_minutes}-minute boundary (UTC)"
            )
        return window

    def run(self, at: datetime, who: Actor) -> CheckReport:
        """Check the last whole window before ``at`` (the schedule's time)."""
        return self.check(window_before(at, self.rules), who)

    def check(self, window: Window, who: Actor) -> CheckReport:
        started = time.perf_counter()
        day_start = window.start.replace(hour=0, minute=0, second=0, microsecond=0)
        recent = list(self.audit.entries_between(day_start, window.end))  # the window's day up to its end
        history = [profile((e for e in recent if e.at < window.start), self.rules)]
        read: list[date] = []
        stored = 0
        first_day = (window.start - timedelta(days=self.rules.baseline_days)).date()
        day = first_day
        while day < day_start.date():
            cached = self.profiles.get(day, self.rules.window_minutes)
            if cached is None:
                midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
                cached = profile(
                    self.audit.entries_between(midnight, midnight + timedelta(days=1)), self.rules
                )
                self.profiles.put(day, self.rules.window_minutes, cached)
                read.append(day)
            else:
                stored += 1
            history.append(cached)
            day += timedelta(days=1)
        inside = [e for e in principals(recent) if e.at in window]
        findings = detect(window, inside, baselines(history, window, self.rules), self.rules)
        sent, already = self._alert(findings)
        report = CheckReport(
            window_start=window.start, window_end=window.end, entries=len(inside),
            principals=len({e.actor for e in inside}), baseline_days_read=read, baseline_days_stored=stored,
            findings=findings, sent=sent, already_sent=already,
        )  # fmt: skip
        self.audit.record(
            actor=who.actor, role=who.role, action=ACTION, target=f"window:{window.key()}",
            request_id=who.request_id,
            details={
                "entries": report.entries, "principals": report.principals,
                "baseline_days": self.rules.baseline_days, "baseline_days_read": len(read),
                "findings": [{"rule": f.rule, "principal": f.principal, "count": f.count} for f in findings],
                "sent": len(sent), "already_sent": len(already),
            },
        )  # fmt: skip
        report.seconds = round(time.perf_counter() - started, 3)
        logger.info(
            "access window checked",
            extra={
                "window": window.key(),
                "entries": report.entries,
                "findings": len(findings),
                "sent": len(sent),
            },
        )
        return report

    def _alert(self, findings: list[Finding]) -> tuple[list[str], list[str]]:
        sent: list[str] = []
        already: list[str] = []
        for finding in findings:
            key = finding.key()
            if not self.sent.claim(key):
                already.append(key)
                continue
            try:
                self.publisher.publish(
                    f"Callsight access alert: {finding.rule} by {finding.principal}",
                    {"kind": "access_anomaly", **finding.model_dump(mode="json")},
                )
            except Exception:
                self.sent.release(key)  # not sent: the next run of this window sends it
                raise
            sent.append(key)
        return sent, already
