"""Access anomalies in the audit log (pure): who read or exported far more calls than usual, who read
calls out of working hours, who was denied again and again.

Input: the audit entries of one window and each principal's counts over the baseline days before it;
output: findings that name the principal, the rule, the counts, what they were compared with and the
window — never a call id, a phone number, a search term or anything said in a call. Reading the log,
remembering which alerts went out and publishing them is :mod:`callsight.sweeps.access_check`'s job.

What counts:

- **calls touched** (rule ``volume``): one per successful read of one call (``call.read``,
  ``transcript.read``, ``audio.url``), the calls a listing returned (``calls.list``, ``search``,
  ``feed.read``: ``details.returned``) and the calls an export held (``report.weekly.export``,
  ``labels.export``: ``details.calls``). Flagged when the window's count reaches the absolute floor
  *and* ``volume_factor`` times the principal's baseline (mean calls touched per window in which it
  touched any, over the baseline days). A principal with no history is held to the floor alone.
- **reads out of hours** (rule ``out_of_hours``): successful read/export requests whose time, in the
  tenant's time zone (DST included), falls outside the working hours or days; only for the roles
  configured (the CRM service client reads around the clock).
- **denials** (rule ``denials``): entries with outcome ``denied`` (403s, and calls asked for that the
  caller may not see, answered 404), any action.

Entries of ``role: system`` (sweeps, ingest, reports, this check itself) are never principals here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from callsight.compliance.audit import AuditEntry
from callsight.config import Settings

READ_ONE = frozenset({"call.read", "transcript.read", "audio.url"})
READ_MANY = frozenset({"calls.list", "search", "feed.read"})  # calls in ``details.returned``
EXPORTS = frozenset({"report.weekly.export", "labels.export"})  # calls in ``details.calls``
SYSTEM_ROLE = "system"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

RuleName = Literal["volume", "out_of_hours", "denials"]


class AccessRulesError(ValueError):
    """A setting of the access-anomaly rules that cannot be used; the message names it."""


class AccessRules(BaseModel):
    """Thresholds and working time, from ``CALLSIGHT_ACCESS_*`` (:meth:`from_settings`)."""

    window_minutes: int = Field(default=60, gt=0)
    baseline_days: int = Field(default=14, ge=1)
    volume_factor: float = Field(default=5.0, gt=1)
    volume_floor: int = Field(default=200, ge=1)
    timezone: str = "UTC"
    work_start: time = time(8, 0)
    work_end: time = time(20, 0)
    work_days: frozenset[int] = frozenset(range(5))  # Monday = 0
    out_of_hours_roles: frozenset[str] = frozenset({"admin", "qa", "agent"})
    out_of_hours_min_reads: int = Field(default=1, ge=1)
    denials_threshold: int = Field(default=5, ge=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessRules:
        start, end = parse_working_hours(settings.access_working_hours)
        return cls(
            window_minutes=settings.access_window_minutes, baseline_days=settings.access_baseline_days,
            volume_factor=settings.access_volume_factor, volume_floor=settings.access_volume_floor,
            timezone=settings.access_timezone, work_start=start, work_end=end,
            work_days=parse_working_days(settings.access_working_days),
            out_of_hours_roles=frozenset(r.strip() for r in settings.access_out_of_hours_roles.split(",") if r.strip()),
            out_of_hours_min_reads=settings.access_out_of_hours_min_reads,
            denials_threshold=settings.access_denials_threshold,
        )  # fmt: skip

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)

    def is_working_time(self, at: datetime) -> bool:
        """Whether ``at`` falls inside the working hours and days in the tenant's time zone. A range
        whose end is before its start runs over midnight (``22:00-06:00``: a night shift, which
        belongs to the day it started)."""
        local = at.astimezone(ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        if self.work_start <= self.work_end:
            return local.weekday() in self.work_days and self.work_start <= clock < self.work_end
        if clock >= self.work_start:
            return local.weekday() in self.work_days
        return clock < self.work_end and (local.weekday() - 1) % 7 in self.work_days


def parse_working_hours(text: str) -> tuple[time, time]:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise AccessRulesError(
            f"CALLSIGHT_ACCESS_WORKING_HOURS={text!r}: expected HH:MM-HH:MM, e.g. 08:00-20:00"
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
        raise AccessRulesError(f"CALLSIGHT_ACCESS_WORKING_HOURS={text!r}: not a range of the day")
    return _clock(h1, m1), _clock(h2, m2)


def _clock(hour: int, minute: int) -> time:
    return time(23, 59, 59, 999999) if hour == 24 else time(hour, minute)


def parse_working_days(text: str) -> frozenset[int]:
    """``mon-fri``, ``mon,wed,fri``, ``sun-thu`` (a range may wrap the week) → weekday numbers."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        ends = [e.strip() for e in part.split("-")]
        if not part or len(ends) > 2 or any(e not in DAYS for e in ends):
            raise AccessRulesError(
                f"CALLSIGHT_ACCESS_WORKING_DAYS={text!r}: expected days such as mon-fri or mon,wed,fri"
            )
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


# --- windows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def key(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def __contains__(self, at: datetime) -> bool:
        return self.start <= at < self.end


def window_before(at: datetime, rules: AccessRules, settle: timedelta = timedelta(minutes=2)) -> Window:
    """The last whole window (aligned on multiples of the window length since midnight UTC) that
    ended at least ``settle`` before ``at``: entries of its last seconds have been written."""
    length = rules.window
    moment = at.astimezone(UTC) - settle
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    end = midnight + ((moment - midnight) // length) * length
    return Window(end - length, end)


def bucket_of(at: datetime, rules: AccessRules) -> int:
    """Index of the window holding ``at`` (windows counted from the epoch, UTC)."""
    return int((at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // rules.window)


# --- counting --------------------------------------------------------------------------------------


def calls_touched(entry: AuditEntry) -> int:
    """How many calls a successful read or export entry gave its principal (0 for anything else)."""
    if entry.outcome != "ok":
        return 0
    if entry.action in READ_ONE:
        return 1
    if entry.action in READ_MANY:
        return _count(entry.details.get("returned"))
    if entry.action in EXPORTS:
        return _count(entry.details.get("calls"))
    return 0


def is_read(entry: AuditEntry) -> bool:
    return entry.outcome == "ok" and entry.action in READ_ONE | READ_MANY | EXPORTS


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def principals(entries: Iterable[AuditEntry]) -> Iterable[AuditEntry]:
    return (e for e in entries if e.role != SYSTEM_ROLE)


def profile(entries: Iterable[AuditEntry], rules: AccessRules) -> dict[str, dict[int, int]]:
    """Calls touched per principal per window (``bucket_of``): the baseline's raw material, also
    what the check keeps per closed day so later runs need not read the log again."""
    counts: dict[str, dict[int, int]] = {}
    for entry in principals(entries):
        touched = calls_touched(entry)
        if touched:
            buckets = counts.setdefault(entry.actor, {})
            bucket = bucket_of(entry.at, rules)
            buckets[bucket] = buckets.get(bucket, 0) + touched
    return counts


@dataclass
class Baseline:
    """A principal's history: calls touched in each active window of the baseline days."""

    windows: list[int] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return sum(self.windows) / len(self.windows) if self.windows else 0.0


def baselines(
    profiles: Iterable[dict[str, dict[int, int]]], window: Window, rules: AccessRules
) -> dict[str, Baseline]:
    """Per principal, the active windows of the ``baseline_days`` before ``window`` (from day profiles)."""
    first = bucket_of(window.start - timedelta(days=rules.baseline_days), rules)
    last = bucket_of(window.start, rules)  # exclusive: the window itself is not its own baseline
    result: dict[str, Baseline] = {}
    for day in profiles:
        for actor, buckets in day.items():
            for bucket, count in buckets.items():
                if first <= bucket < last and count > 0:
                    result.setdefault(actor, Baseline()).windows.append(count)
    return result


# --- findings --------------------------------------------------------------------------------------


class Finding(BaseModel):
    """One anomaly: who, which rule, how many against what, when. No call contents, no phone numbers."""

    rule: RuleName
    principal: str
    role: str
    window_start: datetime
    window_end: datetime
    count: int
    threshold: float = Field(description="The count that trips the rule for this principal in this window.")
    baseline: float | None = Field(default=None, description="volume: mean calls touched per active window.")
    history_windows: int | None = Field(
        default=None, description="volume: active windows in the baseline days."
    )
    actions: dict[str, int] = Field(
        default_factory=dict, description="Entries per audited action in the window."
    )
    detail: str

    def key(self) -> str:
        """Identity of the alert: one per principal, rule and window, however often the window is checked."""
        return f"{self.rule}#{self.window_start.isoformat()}#{self.window_end.isoformat()}#{self.principal}"


def detect(
    window: Window, entries: Iterable[AuditEntry], history: dict[str, Baseline], rules: AccessRules
) -> list[Finding]:
    """Every finding in ``window`` (entries outside it are ignored), sorted by rule then principal."""
    inside = [e for e in principals(entries) if e.at in window]
    by_actor: dict[str, list[AuditEntry]] = {}
    for entry in inside:
        by_actor.setdefault(entry.actor, []).append(entry)
    findings: list[Finding] = []
    for actor in sorted(by_actor):
        mine = by_actor[actor]
        findings += [
            f for f in (
                _volume(actor, mine, history.get(actor, Baseline()), window, rules),
                _out_of_hours(actor, mine, window, rules),
                _denials(actor, mine, window, rules),
            ) if f is not None
        ]  # fmt: skip
    return sorted(findings, key=lambda f: (f.rule, f.principal))


def _finding(rule: RuleName, actor: str, entries: list[AuditEntry], window: Window, **values: Any) -> Finding:
    return Finding(
        rule=rule, principal=actor, role=entries[-1].role, window_start=window.start, window_end=window.end,
        actions=dict(sorted(Counter(e.action for e in entries).items())), **values,
    )  # fmt: skip


def _volume(
    actor: str, entries: list[AuditEntry], baseline: Baseline, window: Window, rules: AccessRules
) -> Finding | None:
    touched = sum(calls_touched(e) for e in entries)
    threshold = max(float(rules.volume_floor), rules.volume_factor * baseline.mean)
    if touched < threshold:
        return None
    usual = (
        f"{rules.volume_factor:g}× their mean of {baseline.mean:.1f} per active window over "
        f"{len(baseline.windows)} windows of the last {rules.baseline_days} days"
        if baseline.windows else f"no history in the last {rules.baseline_days} days"
    )  # fmt: skip
    reads = [e for e in entries if calls_touched(e)]
    return _finding(
        "volume", actor, reads, window, count=touched, threshold=threshold, baseline=round(baseline.mean, 2),
        history_windows=len(baseline.windows),
        detail=f"{actor} read or exported {touched} calls in the window; threshold {threshold:g} "
        f"(floor {rules.volume_floor}; {usual})",
    )  # fmt: skip


def _out_of_hours(
    actor: str, entries: list[AuditEntry], window: Window, rules: AccessRules
) -> Finding | None:
    late = [
        e
        for e in entries
        if is_read(e) and e.role in rules.out_of_hours_roles and not rules.is_working_time(e.at)
    ]
    if len(late) < rules.out_of_hours_min_reads:
        return None
    hours = f"{rules.work_start:%H:%M}-{rules.work_end:%H:%M}"
    return _finding(
        "out_of_hours", actor, late, window, count=len(late), threshold=rules.out_of_hours_min_reads,
        detail=f"{actor} ({late[-1].role}) made {len(late)} read or export request(s) outside working hours "
        f"{hours} ({', '.join(DAYS[d] for d in sorted(rules.work_days))}, {rules.timezone})",
    )  # fmt: skip


def _denials(actor: str, entries: list[AuditEntry], window: Window, rules: AccessRules) -> Finding | None:
    denied = [e for e in entries if e.outcome == "denied"]
    if len(denied) < rules.denials_threshold:
        return None
    return _finding(
        "denials", actor, denied, window, count=len(denied), threshold=rules.denials_threshold,
        detail=f"{actor} was denied {len(denied)} time(s) in the window (threshold {rules.denials_threshold})",
    )  # fmt: skip
