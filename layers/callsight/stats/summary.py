"""Statistics of a period as the API returns them: the query, the per-agent and per-team figures,
and how they are built from daily cells (:mod:`callsight.stats.cells`). Pure: reading the cells is
the caller's job (the API's :mod:`callsight.api.stats`, the weekly report)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callsight.models.call import CallRecord
from callsight.stats.cells import Cell, Totals, by_team, cells_of, checkpoint_shares, merge, ratio

MAX_DAYS = 92


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: date
    until: date

    @model_validator(mode="after")
    def _period(self) -> StatsQuery:
        if self.until < self.since:
            raise ValueError("until is before since")
        if (self.until - self.since).days >= MAX_DAYS:
            raise ValueError(f"at most {MAX_DAYS} days per request")
        return self


class AgentStats(BaseModel):
    agent_id: str
    calls: int
    conversion: float = Field(description="Share of the agent's analysed calls with outcome success.")
    avg_sentiment: float | None
    checkpoints_met: float | None = Field(
        description="Average share of script checkpoints met (the recording notice is not the agent's script)."
    )
    checkpoint_shares: dict[str, float] = Field(
        default_factory=dict,
        description="Per checkpoint (greeting, ..., recording_notice): share of the analysed calls that met it.",
    )


class TeamStats(BaseModel):
    team: str
    calls: int
    checkpoint_shares: dict[str, float] = Field(
        description="Per checkpoint: share of the team's analysed calls that met it (e.g. recording_notice)."
    )


class Stats(BaseModel):
    since: date
    until: date
    calls: int
    analysed: int
    topic_shares: dict[str, float]
    outcomes: dict[str, int]
    calls_per_day: dict[str, int]
    sentiment_per_day: dict[str, float]
    avg_duration_s: float | None
    short_call_rate: float | None
    missed_call_rate: float | None = Field(description="Calls with no recognised speech.")
    agents: list[AgentStats]
    checkpoint_shares: dict[str, float] = Field(
        default_factory=dict,
        description="Per checkpoint: share of the analysed calls that met it (recording_notice: told it is recorded).",
    )
    teams: list[TeamStats] = Field(default_factory=list)


def build_stats(calls: list[CallRecord], since: date, until: date) -> Stats:
    return stats_from(cells_of(calls), since, until)


def stats_from(cells: list[Cell], since: date, until: date) -> Stats:
    total, agents = merge(cells)
    return Stats(
        since=since, until=until, calls=total.calls, analysed=total.analysed,
        topic_shares={tag: round(n / total.analysed, 3) for tag, n in _ranked(total.tags)} if total.analysed else {},
        outcomes=dict(_ranked(total.outcomes)),
        calls_per_day=dict(sorted(total.calls_per_day.items())),
        sentiment_per_day={day: round(s / n, 3) for day, (s, n) in sorted(total.sentiment_per_day.items())},
        avg_duration_s=ratio(total.duration_sum, total.with_duration, 1),
        short_call_rate=ratio(total.short, total.with_duration),
        missed_call_rate=ratio(total.missed, total.calls),
        agents=[_agent(agent, agents[agent]) for agent in sorted(agents)],
        checkpoint_shares=checkpoint_shares(total),
        teams=[TeamStats(team=team, calls=totals.analysed, checkpoint_shares=checkpoint_shares(totals))
               for team, totals in sorted(by_team(cells).items())],
    )  # fmt: skip


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Most frequent first, ties by name (the same order whichever way the counts were summed)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _agent(agent_id: str, totals: Totals) -> AgentStats:
    return AgentStats(
        agent_id=agent_id, calls=totals.analysed,
        conversion=ratio(totals.success, totals.analysed) or 0.0,
        avg_sentiment=ratio(totals.customer_sentiment_sum, totals.customer_sentiment_n),
        checkpoints_met=ratio(totals.checkpoints_sum, totals.checkpoints_n),
        checkpoint_shares=checkpoint_shares(totals),
    )  # fmt: skip


def today() -> date:
    return datetime.now(UTC).date()
