"""Anchoring the audit chains' daily heads and verifying the chains against them.

:meth:`AuditVerifier.anchor` reads every chain of a day and writes their heads, sealed with the
audit key, to the Object-Lock anchors bucket (the retention sweep does it daily for yesterday and
today; ``callsight audit anchor`` on demand). :meth:`AuditVerifier.verify` checks every chain of a
period link by link (HMAC-SHA256) and against every anchor of each day: a chain, a day or the tail
of a chain that an anchor saw and that is gone is reported, as is an empty log where anchors say
entries existed. A day with no anchor at all is listed as unanchored (a warning, not a failure:
today's entries are anchored only at the next run); its chains are checked by their links alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import overload

from pydantic import BaseModel, Field

from callsight.compliance.audit import (
    SHARDS,
    AuditAnchor,
    AuditEntry,
    BrokenLink,
    check_anchors,
    heads_of,
    verify_chain,
)
from callsight.config import Settings
from callsight.storage.audit_anchors import AuditAnchorStore
from callsight.storage.audit_log import AuditLog


class AuditVerification(BaseModel):
    first: date
    last: date
    checked: int = 0
    anchors: int = 0
    problems: list[BrokenLink] = Field(default_factory=list)
    unanchored_days: list[date] = Field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


class AuditVerifier:
    def __init__(self, settings: Settings, audit: AuditLog | None = None) -> None:
        self.audit = audit or AuditLog(settings)
        self.key = self.audit.key
        self.anchors = AuditAnchorStore(settings)

    def _chains(self, day: date) -> dict[str, list[AuditEntry]]:
        return {
            f"{day.isoformat()}#{shard}": self.audit.chain(f"{day.isoformat()}#{shard}")
            for shard in range(SHARDS)
        }

    @overload
    def anchor(self, day: date, *, now: datetime | None = None) -> AuditAnchor: ...
    @overload
    def anchor(self, day: date, *, now: datetime | None = None, skip_empty: bool) -> AuditAnchor | None: ...
    def anchor(
        self, day: date, *, now: datetime | None = None, skip_empty: bool = False
    ) -> AuditAnchor | None:
        """Write the current heads of ``day``'s chains (none: an empty day, anchored as such unless
        ``skip_empty``)."""
        anchor = AuditAnchor(day=day, at=now or datetime.now(UTC), heads=heads_of(day, self._chains(day)))
        if skip_empty and not anchor.heads:
            return None
        sealed = anchor.sealed(self.key)
        self.anchors.put(sealed)
        return sealed

    def verify(self, first: date, last: date) -> AuditVerification:
        report = AuditVerification(first=first, last=last)
        day = first
        while day <= last:
            chains = self._chains(day)
            for entries in chains.values():
                report.checked += len(entries)
                broken = verify_chain(entries, self.key)
                if broken is not None:
                    report.problems.append(broken)
            anchors = self.anchors.for_day(day)
            report.anchors += len(anchors)
            if not anchors:
                report.unanchored_days.append(day)
            report.problems += [
                p for p in check_anchors(anchors, chains, self.key) if p not in report.problems
            ]
            day += timedelta(days=1)
        return report

    def first_problem(self, first: date, last: date) -> tuple[int, BrokenLink | None]:
        """Entries checked over the days ``first``..``last`` and the first problem found (``None``:
        every chain holds and matches its anchors)."""
        report = self.verify(first, last)
        return report.checked, (report.problems[0] if report.problems else None)
