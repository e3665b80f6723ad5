"""Request and response models of the API (pydantic), PII masked unless the caller's role holds it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callsight.models.analysis import LabelEvidence, StoredEntity, TalkMetrics
from callsight.models.call import CallRecord, CallStatus, Direction, StatusChange
from callsight.models.feedback import LabelReview

MAX_PAGE = 100
_INSTANT = (
    "ISO 8601 with an offset (2026-11-20T11:30:00Z, 2026-11-20T14:30:00+03:00); a date (2026-11-20) "
    "means its midnight UTC and a date-time without an offset is read as UTC."
)


def _to_utc(value: datetime | None) -> datetime | None:
    """Every bound in UTC, so it compares with the stored (UTC) start times."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise ValueError("out of range once converted to UTC") from exc


class ListQuery(BaseModel):
    """``GET /calls`` query string. Unknown parameters are refused, so a typo is a 400, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=25, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=2048)
    status: CallStatus | None = None
    agent: str | None = Field(default=None, max_length=64)
    team: str | None = Field(default=None, max_length=64)
    queue: str | None = Field(default=None, max_length=64)
    tag: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    direction: Direction | None = None
    outcome: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    sentiment_min: float | None = Field(default=None, ge=-1, le=1, description="Customer sentiment, -1..1.")
    sentiment_max: float | None = Field(default=None, ge=-1, le=1)
    min_duration_s: float | None = Field(default=None, ge=0, le=86400)
    max_duration_s: float | None = Field(default=None, ge=0, le=86400)
    since: datetime | None = Field(
        default=None, description=f"Calls started at or after this instant. {_INSTANT}"
    )
    until: datetime | None = Field(default=None, description=f"Calls started before this instant. {_INSTANT}")
    include_superseded: bool = Field(
        default=False,
        description="Also list calls of recordings that were uploaded again (their key's newest call stands).",
    )

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _to_utc(value)

    @model_validator(mode="after")
    def _ranges(self) -> ListQuery:
        for low, high in (
            ("sentiment_min", "sentiment_max"),
            ("min_duration_s", "max_duration_s"),
            ("since", "until"),
        ):
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is not None and high_value is not None and low_value > high_value:
                raise ValueError(f"{low} is greater than {high}")
        return self


class CallSummary(BaseModel):
    call_id: str
    status: CallStatus
    started_at: datetime | None
    direction: Direction
    agent_id: str | None
    team: str | None
    queue: str | None
    customer_phone: str | None = Field(
        description="Masked (+7903*****67): call records never hold the raw number."
    )
    duration_s: float | None
    no_speech: bool = Field(
        default=False,
        description="Analysed and nothing was said: language, outcome, sentiment and risk are null.",
    )
    language: str | None
    tags: list[str]
    outcome: str | None
    sentiment: float | None
    risk_score: float | None
    superseded_by: str | None = Field(
        default=None,
        description="The call of a newer upload of the same recording key, which replaces this one.",
    )
    updated_at: datetime
    alerts: list[str] = Field(
        default_factory=list, description="Per-call alert rules the call tripped (ids of the rule set)."
    )

    @classmethod
    def of(cls, call: CallRecord) -> CallSummary:
        analysis = call.analysis
        no_speech = analysis is not None and analysis.no_speech
        return cls(
            call_id=call.call_id, status=call.status, started_at=call.started_at, direction=call.direction,
            agent_id=call.agent_id, team=call.team, queue=call.queue, customer_phone=call.customer_phone_masked,
            duration_s=call.audio.duration_s if call.audio else None, no_speech=no_speech,
            language=call.transcription.language if call.transcription and not no_speech else None, tags=call.tags,
            outcome=analysis.outcome if analysis else None,
            sentiment=analysis.headline_sentiment if analysis else None,
            risk_score=analysis.risk_score if analysis else None, superseded_by=call.superseded_by,
            updated_at=call.updated_at, alerts=analysis.alerts if analysis else [],
        )  # fmt: skip


class CallPage(BaseModel):
    items: list[CallSummary]
    next_cursor: str | None


class AlertsQuery(BaseModel):
    """``GET /alerts``: calls that tripped a per-call alert rule, newest start first."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=25, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=2048)
    since: datetime | None = Field(
        default=None, description=f"Calls started at or after this instant. {_INSTANT}"
    )
    until: datetime | None = Field(default=None, description=f"Calls started before this instant. {_INSTANT}")

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _to_utc(value)

    @model_validator(mode="after")
    def _range(self) -> AlertsQuery:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since is greater than until")
        return self


class DetailQuery(BaseModel):
    """``GET /calls/{call_id}``: ``include=audio`` adds the audio URL (what ``/audio`` answers)."""

    model_config = ConfigDict(extra="forbid")

    include: Literal["audio"] | None = None


class AudioUrl(BaseModel):
    url: str
    expires_in_s: int
    redacted: bool


class CallDetail(CallSummary):
    status_history: list[StatusChange]
    purpose: str | None
    refusal_reason: str | None
    checkpoints: dict[str, bool]
    metrics: TalkMetrics | None
    entities: list[StoredEntity]
    masked: bool = Field(description="True when PII in this view is masked for the caller's role.")
    labels: list[LabelEvidence] = Field(
        default_factory=list,
        description="Why each label is on the call: rules, model or both, the model's score, the evidence turns.",
    )
    customer_mood: str | None = Field(default=None, description="The customer's mood at the end of the call.")
    review: LabelReview | None = Field(
        default=None,
        description="The latest QA correction of the labels above (PUT /calls/{call_id}/labels), if any.",
    )
    audio: AudioUrl | None = Field(
        default=None,
        description="With ?include=audio: the presigned URL GET /calls/{call_id}/audio would give (audited alike).",
    )
    audio_unavailable: str | None = Field(
        default=None,
        description="With ?include=audio and no URL for this role or call: why (the 403/404 message).",
    )

    @classmethod
    def of_call(cls, call: CallRecord, *, lookup_hashes: bool = False) -> CallDetail:
        """Entities come from the call record, which stores PII masked, so this view is always masked.
        A phone's lookup hash links the calls of one customer: kept only with ``lookup_hashes`` (roles
        that hold PII)."""
        analysis = call.analysis
        entities = analysis.entities if analysis else []
        if not lookup_hashes:
            entities = [e.model_copy(update={"lookup_hash": None}) if e.lookup_hash else e for e in entities]
        summary: dict[str, Any] = CallSummary.of(call).model_dump()
        return cls(
            **summary, status_history=call.status_history, purpose=analysis.purpose if analysis else None,
            refusal_reason=analysis.refusal_reason if analysis else None,
            checkpoints=analysis.checkpoints if analysis else {}, metrics=analysis.metrics if analysis else None,
            entities=entities, masked=True, review=call.review, labels=analysis.labels if analysis else [],
            customer_mood=analysis.customer_mood if analysis else None,
        )  # fmt: skip


class ApiError(BaseModel):
    error: str
    message: str


class SearchQuery(BaseModel):
    """``GET /search``: every term must occur in the call (AND); stems match inflections."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=200)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    speaker: Literal["agent", "customer"] | None = None
    limit: int = Field(default=25, ge=1, le=MAX_PAGE)


class SearchHit(BaseModel):
    call: CallSummary
    terms: dict[str, list[float]] = Field(
        description="Each query term and the offsets (s) where it was said."
    )


class SearchResults(BaseModel):
    query: str
    items: list[SearchHit] = Field(description="Newest calls first (by start time).")
    complete: bool = Field(
        default=True,
        description=(
            "False when a read limit (2,000 index entries per word, 1,000 calls examined) stopped the "
            "search before it was sure these are the newest matching calls: narrow the query."
        ),
    )


class FeedQuery(BaseModel):
    """``GET /feed``: calls changed since the cursor, oldest change first (at-least-once)."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=2048)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
