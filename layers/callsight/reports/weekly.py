"""The weekly report: top reasons for calling, top-10 customer questions, agent ranking, sentiment trend.

One builder, :func:`weekly_report_from`, serves both ``GET /reports/weekly`` (scoped to what the
caller may see) and the scheduled ``weekly_report`` function (every call, written to the reports
bucket). Pure: it takes the week's daily cells (:mod:`callsight.stats.cells`: from the daily rollup
for closed days, folded from the calls for the others) and returns a :class:`WeeklyReport`;
:func:`build_weekly_report` is the same over call records. :func:`report_csv` lays the same figures
out as one CSV table (a ``section`` column says which part a row belongs to). Every ranking breaks
ties by name, so the report does not depend on the order calls or cells were read in.

Agent ranking score = 0.5 x conversion + 0.3 x script checkpoints met + 0.2 x customer sentiment
(rescaled from -1..1 to 0..1); a missing part counts as 0.5 (neither good nor bad).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callsight.models.call import CallRecord
from callsight.stats.cells import Cell, Sums, cells_of, merge
from callsight.stats.summary import AgentStats, stats_from

TOP_QUESTIONS = 10
TOP_REASONS = 10
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class WeeklyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week: str | None = Field(
        default=None,
        description="ISO week, e.g. 2026-W47 (Monday to Sunday, UTC); default: the last complete week.",
        pattern=r"^\d{4}-W\d{2}$",
    )
    format: str = Field(default="json", pattern="^(json|csv)$")

    @field_validator("week")
    @classmethod
    def _real_week(cls, value: str | None) -> str | None:
        if value is not None:
            week_start(value)
        return value


def week_start(week: str) -> date:
    """Monday of an ISO week ("2026-W47"); ValueError for a week that does not exist."""
    match = _ISO_WEEK.match(week)
    if match is None:
        raise ValueError(f"{week!r} is not an ISO week like 2026-W47")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"{week!r} is not a week of that year") from exc
    try:
        monday + timedelta(days=6)
    except OverflowError as exc:  # 9999-W52 ends in the year 10000
        raise ValueError(f"{week!r} ends after the last representable day (9999-12-31)") from exc
    return monday


def last_complete_week(today: date | None = None) -> str:
    day = (today or datetime.now(UTC).date()) - timedelta(days=7)
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class CountShare(BaseModel):
    name: str
    calls: int
    share: float


class QuestionCount(BaseModel):
    question: str = Field(description="The most common wording of the question.")
    calls: int
    languages: list[str]


class AgentRank(AgentStats):
    rank: int
    score: float


class WeeklyReport(BaseModel):
    week: str
    since: date
    until: date
    generated_at: datetime
    scope: str = Field(description="Whose calls: 'all' or the teams/queues of the QA user.")
    calls: int
    analysed: int
    top_reasons: list[CountShare] = Field(description="Why customers called (purpose), most common first.")
    top_topics: list[CountShare] = Field(description="Categories (tags), most common first.")
    outcomes: dict[str, int]
    top_questions: list[QuestionCount]
    agent_ranking: list[AgentRank]
    sentiment_trend: dict[str, float] = Field(description="Average customer sentiment per day.")
    avg_duration_s: float | None
    short_call_rate: float | None
    missed_call_rate: float | None


def build_weekly_report(calls: list[CallRecord], week: str, scope: str = "all") -> WeeklyReport:
    """The report of ``week`` over ``calls`` (read live): the same as from their daily cells."""
    return weekly_report_from(cells_of(calls), week, scope)


def weekly_report_from(cells: list[Cell], week: str, scope: str = "all") -> WeeklyReport:
    """The report of ``week`` from the daily cells of its calls (cells of version 2: see
    :data:`callsight.stats.cells.CELL_VERSION`), whether rolled up or folded from calls just read."""
    since = week_start(week)
    until = since + timedelta(days=6)
    stats = stats_from(cells, since, until)
    total, _ = merge(cells)
    return WeeklyReport(
        week=week,
        since=since,
        until=until,
        generated_at=datetime.now(UTC),
        scope=scope,
        calls=stats.calls,
        analysed=stats.analysed,
        top_reasons=_shares(total.purposes, total.summarised),
        top_topics=_shares(total.summarised_tags, total.summarised),
        outcomes=stats.outcomes,
        top_questions=_top_questions(total),
        agent_ranking=_ranking(stats.agents),
        sentiment_trend=stats.sentiment_per_day,
        avg_duration_s=stats.avg_duration_s,
        short_call_rate=stats.short_call_rate,
        missed_call_rate=stats.missed_call_rate,
    )


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Most frequent first, ties by name (the same order however the counts were summed)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _shares(counts: dict[str, int], total: int) -> list[CountShare]:
    return [
        CountShare(name=name, calls=n, share=round(n / total, 3)) for name, n in _ranked(counts)[:TOP_REASONS]
    ]


def _top_questions(total: Sums) -> list[QuestionCount]:
    """Questions grouped by language and key, counted once per call; a group's most common wording
    represents it (ties: the one used first in the week, then by text)."""
    return [
        QuestionCount(question=_wording(total, key), calls=n, languages=[key.partition(":")[0]])
        for key, n in _ranked(total.questions)[:TOP_QUESTIONS]
    ]


def _wording(total: Sums, key: str) -> str:
    texts, first = total.wordings[key], total.first_worded.get(key, {})
    return min(texts, key=lambda text: (-texts[text], first.get(text, ""), text))


def _ranking(agents: list[AgentStats]) -> list[AgentRank]:
    def score(agent: AgentStats) -> float:
        sentiment = 0.5 if agent.avg_sentiment is None else (agent.avg_sentiment + 1) / 2
        checkpoints = 0.5 if agent.checkpoints_met is None else agent.checkpoints_met
        return round(0.5 * agent.conversion + 0.3 * checkpoints + 0.2 * sentiment, 3)

    ordered = sorted(agents, key=lambda a: (-score(a), -a.calls, a.agent_id))
    return [
        AgentRank(**agent.model_dump(), rank=rank, score=score(agent))
        for rank, agent in enumerate(ordered, start=1)
    ]


CSV_COLUMNS = ("section", "rank", "name", "calls", "share", "value", "conversion", "sentiment", "checkpoints")


def report_csv(report: WeeklyReport) -> str:
    """The report as one CSV table; ``section`` is summary, reason, topic, outcome, question, agent or
    sentiment. Spreadsheet formulas in text cells are neutralised (CSV injection)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    summary = {
        "week": report.week, "since": report.since, "until": report.until, "scope": report.scope,
        "calls": report.calls, "analysed": report.analysed, "avg_duration_s": report.avg_duration_s,
        "short_call_rate": report.short_call_rate, "missed_call_rate": report.missed_call_rate,
    }  # fmt: skip
    for name, value in summary.items():
        writer.writerow({"section": "summary", "name": name, "value": value})
    for section, items in (("reason", report.top_reasons), ("topic", report.top_topics)):
        for rank, item in enumerate(items, start=1):
            writer.writerow(
                {
                    "section": section,
                    "rank": rank,
                    "name": item.name,
                    "calls": item.calls,
                    "share": item.share,
                }
            )
    for name, count in sorted(report.outcomes.items(), key=lambda kv: -kv[1]):
        writer.writerow({"section": "outcome", "name": name, "calls": count})
    for rank, question in enumerate(report.top_questions, start=1):
        writer.writerow(
            {"section": "question", "rank": rank, "name": _cell(question.question), "calls": question.calls}
        )
    for agent in report.agent_ranking:
        writer.writerow({
            "section": "agent", "rank": agent.rank, "name": _cell(agent.agent_id), "calls": agent.calls,
            "value": agent.score, "conversion": agent.conversion, "sentiment": agent.avg_sentiment,
            "checkpoints": agent.checkpoints_met,
        })  # fmt: skip
    for day, value in report.sentiment_trend.items():
        writer.writerow({"section": "sentiment", "name": day, "sentiment": value})
    return out.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
