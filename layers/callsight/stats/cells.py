"""Statistics as mergeable cells: one per (UTC day, agent, team, queue), sums and counts only.

Everything ``GET /stats`` reports is a sum, a count or a ratio of two, so the calls of a day fold
into a few cells (one per agent, team and queue that worked that day) and any period's statistics are
the merge of its cells. The same code folds calls read live and cells read from the daily rollup,
in the same (sorted) order, so both give the same figures to the last digit.

The weekly report (:mod:`callsight.reports.weekly`) is built from the same cells: they also count
the purposes and tags of every call with an analysis and the customer questions (per language and
key: calls, and how often each wording was used). Those sums arrived with cell version 2
(``CELL_VERSION``); a cell decoded from an older rollup says ``version`` 1 and lacks them, so a
reader that needs them reads that day live instead (:func:`callsight.sweeps.rolled_cells.period_cells`).
A call claimed for deletion (``DELETED``) is nobody's (:func:`callsight.auth.access.can_see_call`):
it is in no cell.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date
from typing import Any

from callsight.auth.access import Owner
from callsight.models.analysis import AnalysisSummary
from callsight.models.call import CallRecord, CallStatus

#: The version of the cells :func:`cells_of` makes; 2 added the weekly report's sums (``summarised``,
#: ``purposes``, ``summarised_tags``, ``questions``, ``wordings``, ``first_worded``).
CELL_VERSION = 2
#: A call shorter than this counts as short.
SHORT_CALL_S = 45
#: Checkpoints that are not the agent's script: reported as their own share (``checkpoint_met`` /
#: ``checkpoint_calls``) but left out of the agent's average ``checkpoints_sum`` — the recording notice
#: may be the IVR's, or played before the recording starts (then it is never heard in the call).
NOT_SCRIPT_CHECKPOINTS = frozenset({"recording_notice"})


@dataclass
class Sums:
    """The sums and counts every statistic is computed from; merged field by field."""

    calls: int = 0
    with_duration: int = 0
    duration_sum: float = 0.0
    short: int = 0
    missed: int = 0
    analysed: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    sentiment_sum: float = 0.0  # customer sentiment where known, else overall; one per analysed call
    success: int = 0
    customer_sentiment_sum: float = 0.0
    customer_sentiment_n: int = 0
    checkpoints_sum: float = 0.0
    checkpoints_n: int = 0
    checkpoint_calls: dict[str, int] = field(default_factory=dict)  # calls where the checkpoint was checked
    checkpoint_met: dict[str, int] = field(default_factory=dict)  # ... and met
    # The weekly report's (cell version 2): over every call with an analysis summary, spoken or not.
    summarised: int = 0
    purposes: dict[str, int] = field(default_factory=dict)
    summarised_tags: dict[str, int] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)  # "<language>:<key>" → calls that asked it
    wordings: dict[str, dict[str, int]] = field(default_factory=dict)  # "<language>:<key>" → text → times
    first_worded: dict[str, dict[str, str]] = field(default_factory=dict)  # ... → text → first use (asked_at)

    def absorb(self, other: Sums) -> None:
        """Add ``other``'s sums and counts to these (per key for the counted tags, outcomes, ...)."""
        for name in (f.name for f in fields(Sums)):
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, dict):
                _add_counts(mine, theirs)
            else:
                setattr(self, name, mine + theirs)


def _add_counts(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Counts add up (per key, nested too); a text (a time of first use) keeps the earliest."""
    for key, count in theirs.items():
        if isinstance(count, dict):
            _add_counts(mine.setdefault(key, {}), count)
        elif isinstance(count, str):
            mine[key] = min(mine.get(key, count), count)
        else:
            mine[key] = mine.get(key, 0) + count


@dataclass
class Cell(Sums):
    """Sums and counts over the calls of one day and owner."""

    day: str = field(kw_only=True)
    owner: Owner = field(kw_only=True)
    version: int = field(default=CELL_VERSION, kw_only=True)

    def add(self, call: CallRecord) -> None:
        self.calls += 1
        if call.audio is not None:
            self.with_duration += 1
            self.duration_sum += call.audio.duration_s
            self.short += call.audio.duration_s < SHORT_CALL_S
        self.missed += not _spoke(call)
        summary = call.analysis
        if summary is not None:
            self._add_report_sums(call, summary)
        if summary is None or summary.outcome is None or summary.sentiment_overall is None:
            return  # not analysed yet, or nothing was said (no outcome, no mood: counted in ``missed``)
        self.analysed += 1
        for tag in call.tags:
            self.tags[tag] = self.tags.get(tag, 0) + 1
        self.outcomes[summary.outcome] = self.outcomes.get(summary.outcome, 0) + 1
        customer = summary.sentiment_customer
        self.sentiment_sum += summary.headline_sentiment or 0.0
        self.success += summary.outcome == "success"
        if customer is not None:
            self.customer_sentiment_sum += customer
            self.customer_sentiment_n += 1
        script = {
            name: met for name, met in summary.checkpoints.items() if name not in NOT_SCRIPT_CHECKPOINTS
        }
        if script:
            self.checkpoints_sum += sum(script.values()) / len(script)
            self.checkpoints_n += 1
        for name, met in summary.checkpoints.items():
            self.checkpoint_calls[name] = self.checkpoint_calls.get(name, 0) + 1
            self.checkpoint_met[name] = self.checkpoint_met.get(name, 0) + met

    def _add_report_sums(self, call: CallRecord, summary: AnalysisSummary) -> None:
        """What the weekly report counts of every call with an analysis summary."""
        self.summarised += 1
        if summary.purpose:
            self.purposes[summary.purpose] = self.purposes.get(summary.purpose, 0) + 1
        for tag in call.tags:
            self.summarised_tags[tag] = self.summarised_tags.get(tag, 0) + 1
        if summary.language is None:
            return
        asked: set[str] = set()
        for n, question in enumerate(summary.customer_questions):
            key = f"{summary.language}:{question.key}"
            texts = self.wordings.setdefault(key, {})
            texts[question.text] = texts.get(question.text, 0) + 1
            first = self.first_worded.setdefault(key, {})
            at = asked_at(call, n)
            first[question.text] = min(first.get(question.text, at), at)
            if key not in asked:
                asked.add(key)
                self.questions[key] = self.questions.get(key, 0) + 1

    def key(self) -> tuple[str, Owner]:
        return (self.day, self.owner)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Cell:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cell:
        """The cell of a decoded :meth:`to_json` (one of a day's list of cells, too). A cell of an older
        rollup (no ``version``) is version 1: its later sums are left empty, and ``version`` says so;
        fields this code does not know (a newer rollup's) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {"version": 1, **{k: v for k, v in data.items() if k in known}}
        return cls(**{**values, "owner": Owner(**data["owner"])})


def asked_at(call: CallRecord, n: int) -> str:
    """When the call's ``n``-th question was asked, as a text that sorts in time (call start, then
    its place in the call): what "first used" means for a question's wording."""
    return f"{(call.started_at or call.created_at).astimezone(UTC).isoformat()}#{n:04d}"


def call_day(call: CallRecord) -> str:
    return (call.started_at or call.created_at).astimezone(UTC).date().isoformat()


def cells_of(calls: list[CallRecord]) -> list[Cell]:
    """Fold calls into cells, sorted by (day, owner); calls claimed for deletion are left out."""
    cells: dict[tuple[str, Owner], Cell] = {}
    for call in calls:
        if call.status is CallStatus.DELETED:
            continue  # claimed for deletion: nobody's call any more
        owner = Owner.of(call)
        day = call_day(call)
        cells.setdefault((day, owner), Cell(day=day, owner=owner)).add(call)
    return [cells[key] for key in sorted(cells, key=_sort_key)]


def _sort_key(key: tuple[str, Owner]) -> tuple[str, str, str, str]:
    day, owner = key
    return (day, owner.agent_id or "", owner.team or "", owner.queue or "")


def _spoke(call: CallRecord) -> bool:
    return (
        call.transcription is None
        or call.transcription.word_count > 0
        or call.status is CallStatus.QUARANTINED
    )


@dataclass
class Totals(Sums):
    """A merge of cells (a period, or one agent's share of it), with what is kept per day."""

    calls_per_day: dict[str, int] = field(default_factory=dict)
    sentiment_per_day: dict[str, list[float]] = field(default_factory=dict)  # day → [sum, n]

    def add(self, cell: Cell) -> None:
        self.absorb(cell)
        self.calls_per_day[cell.day] = self.calls_per_day.get(cell.day, 0) + cell.calls
        if cell.analysed:
            day = self.sentiment_per_day.setdefault(cell.day, [0.0, 0])
            day[0] += cell.sentiment_sum
            day[1] += cell.analysed


def merge(cells: list[Cell]) -> tuple[Totals, dict[str, Totals]]:
    """The period's totals and each agent's (cells in (day, owner) order, as ``cells_of`` sorts)."""
    total = Totals()
    agents: dict[str, Totals] = {}
    for cell in sorted(cells, key=lambda c: _sort_key(c.key())):
        total.add(cell)
        if cell.owner.agent_id and cell.analysed:
            agents.setdefault(cell.owner.agent_id, Totals()).add(cell)
    return total, agents


def by_team(cells: list[Cell]) -> dict[str, Totals]:
    """Each team's totals (cells in (day, owner) order; calls without a team are not a team)."""
    teams: dict[str, Totals] = {}
    for cell in sorted(cells, key=lambda c: _sort_key(c.key())):
        if cell.owner.team and cell.analysed:
            teams.setdefault(cell.owner.team, Totals()).add(cell)
    return teams


def checkpoint_shares(sums: Sums) -> dict[str, float]:
    """Share of the calls where each checkpoint was checked that met it (by name)."""
    return {
        name: round(sums.checkpoint_met.get(name, 0) / checked, 3)
        for name, checked in sorted(sums.checkpoint_calls.items())
        if checked
    }


def ratio(part: float, whole: float, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


def period_days(since: date, until: date) -> list[date]:
    return [date.fromordinal(n) for n in range(since.toordinal(), until.toordinal() + 1)]
