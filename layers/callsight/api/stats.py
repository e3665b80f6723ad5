"""Statistics over the calls a caller may see in a period (pure aggregation + a by-day reader).

Topic shares, outcomes, calls per day, average duration, short-call and missed-call rates, per-agent
conversion and quality, sentiment by day. Calls are read one UTC day at a time through the
``by-day`` index (never a scan); large tenants want precomputed daily aggregates (issue 9).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from statistics import fmean

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callsight.auth.access import can_see_call
from callsight.auth.tokens import Principal
from callsight.models.call import CallRecord, CallStatus
from callsight.storage.call_repository import record_of
from callsight.storage.tables import CallItem

MAX_DAYS = 92
SHORT_CALL_S = 45


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
    checkpoints_met: float | None = Field(description="Average share of script checkpoints met.")


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


def read_calls(principal: Principal, query: StatsQuery) -> list[CallRecord]:
    calls: list[CallRecord] = []
    day = query.since
    while day <= query.until:
        for item in CallItem.by_day.query(day.isoformat()):
            call = record_of(item)
            if can_see_call(principal, call):
                calls.append(call)
        day += timedelta(days=1)
    return calls


def build_stats(calls: list[CallRecord], since: date, until: date) -> Stats:
    analysed = [c for c in calls if c.analysis is not None]
    tags = Counter(tag for c in analysed for tag in c.tags)
    durations = [c.audio.duration_s for c in calls if c.audio is not None]
    per_day: dict[str, list[float]] = defaultdict(list)
    for call in analysed:
        assert call.analysis is not None
        day = (call.started_at or call.created_at).astimezone(UTC).date().isoformat()
        per_day[day].append(
            call.analysis.sentiment_customer
            if call.analysis.sentiment_customer is not None
            else call.analysis.sentiment_overall
        )
    by_agent: dict[str, list[CallRecord]] = defaultdict(list)
    for call in analysed:
        if call.agent_id:
            by_agent[call.agent_id].append(call)
    return Stats(
        since=since, until=until, calls=len(calls), analysed=len(analysed),
        topic_shares={tag: round(n / len(analysed), 3) for tag, n in tags.most_common()} if analysed else {},
        outcomes=dict(Counter(c.analysis.outcome for c in analysed if c.analysis)),
        calls_per_day=dict(sorted(Counter((c.started_at or c.created_at).astimezone(UTC).date().isoformat() for c in calls).items())),
        sentiment_per_day={day: round(fmean(values), 3) for day, values in sorted(per_day.items())},
        avg_duration_s=round(fmean(durations), 1) if durations else None,
        short_call_rate=round(sum(d < SHORT_CALL_S for d in durations) / len(durations), 3) if durations else None,
        missed_call_rate=round(sum(not _spoke(c) for c in calls) / len(calls), 3) if calls else None,
        agents=[_agent(agent, group) for agent, group in sorted(by_agent.items())],
    )  # fmt: skip


def _spoke(call: CallRecord) -> bool:
    return (
        call.transcription is None
        or call.transcription.word_count > 0
        or call.status is CallStatus.QUARANTINED
    )


def _agent(agent_id: str, calls: list[CallRecord]) -> AgentStats:
    summaries = [c.analysis for c in calls if c.analysis is not None]
    sentiments = [s.sentiment_customer for s in summaries if s.sentiment_customer is not None]
    checkpoints = [sum(s.checkpoints.values()) / len(s.checkpoints) for s in summaries if s.checkpoints]
    return AgentStats(
        agent_id=agent_id, calls=len(calls),
        conversion=round(sum(s.outcome == "success" for s in summaries) / len(summaries), 3) if summaries else 0.0,
        avg_sentiment=round(fmean(sentiments), 3) if sentiments else None,
        checkpoints_met=round(fmean(checkpoints), 3) if checkpoints else None,
    )  # fmt: skip


def today() -> date:
    return datetime.now(UTC).date()
