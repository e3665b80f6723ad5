"""The analysis of one call (schema version 1): what the analyze stage stores and the API serves.

The whole document goes to S3 beside the transcript; the call item keeps the summary (tags,
scores, outcome, metrics, masked entities) that listing and filtering need.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from callsight.models.transcript import Speaker

ANALYSIS_SCHEMA_VERSION: Literal[1] = 1


class Evidence(BaseModel):
    """Where in the call something was seen: the turn, its speaker and time, and the words."""

    model_config = ConfigDict(frozen=True)

    turn: int
    speaker: Speaker
    start: float
    text: str


LabelSource = Literal["rules", "model", "rules+model"]
Mood = Literal["positive", "neutral", "negative"]


class CategoryMatch(BaseModel):
    id: str
    kind: str  # category | purpose | outcome | refusal_reason | checkpoint | risk_trigger
    value: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    source: LabelSource = Field(
        default="rules",
        description="What said it: a rule's phrases (evidence given), the learned model (score given), or both.",
    )
    score: float | None = Field(default=None, description="The learned model's probability, when it ran.")


class LabelDecision(BaseModel):
    """Which layer decided a one-value field (purpose, outcome, refusal reason, customer mood)."""

    value: str | None
    source: LabelSource
    score: float | None = Field(default=None, description="The model's probability for ``value``.")
    rules_said: str | None = Field(default=None, description="The rules' value, when the model overruled it.")


class LabelEvidence(BaseModel):
    """Why a label is on the call, without the words: which turns said it (the transcript shows them,
    masked per role), which layer decided, and the model's score."""

    label: str = Field(description="A category id, or purpose | outcome | refusal_reason | customer_mood.")
    value: str | None = None
    source: LabelSource
    score: float | None = None
    turns: list[int] = Field(default_factory=list, description="Indices into the transcript's turns.")
    starts: list[float] = Field(
        default_factory=list, description="Where in the call each evidence starts (s)."
    )


def label_evidence(analysis: CallAnalysis) -> list[LabelEvidence]:
    """The categories and one-value decisions of ``analysis`` as text-free evidence."""
    labels = [
        LabelEvidence(
            label=m.id,
            source=m.source,
            score=m.score,
            turns=[e.turn for e in m.evidence],
            starts=[e.start for e in m.evidence],
        )
        for m in analysis.categories
    ]
    labels += [
        LabelEvidence(label=name, value=d.value, source=d.source, score=d.score)
        for name, d in analysis.decisions.items()
    ]
    return labels


class SentimentSummary(BaseModel):
    per_turn: list[float]
    agent: float | None
    customer: float | None
    overall: float
    #: last third minus first third of the call (customer when known, else everyone): > 0 improved.
    trend: float
    first_third: float
    last_third: float
    customer_mood: Mood | None = Field(
        default=None,
        description="The customer's mood at the end of the call (model when it ran, else the sign of the "
        "customer's or everyone's mean turn sentiment).",
    )


class Entity(BaseModel):
    type: str  # order_number | money | date | phone | email | card | person | place
    #: The normalised value. For PII types it never leaves the analyzer unmasked (see ``display``).
    value: str
    display: str = Field(description="What may be shown and stored: masked for PII types.")
    pii: bool
    speaker: Speaker
    start: float
    lookup_hash: str | None = Field(
        default=None, description="Keyed hash of a phone number (erasure lookups)."
    )


class KeywordHit(BaseModel):
    term: str
    category: str
    speaker: Speaker
    start: float
    stage: Literal["opening", "middle", "closing"]
    negated: bool = False


class TalkMetrics(BaseModel):
    duration_s: float
    speech_s: float
    silence_s: float
    longest_silence_s: float
    words_per_minute: float
    short_call: bool
    agent_talk_s: float | None = None
    customer_talk_s: float | None = None
    talk_listen_ratio: float | None = Field(default=None, description="agent talk / customer talk")
    longest_monologue_s: float
    longest_monologue_speaker: Speaker
    overtalk_s: float | None = None
    interruptions: int | None = None
    agent_interruptions: int | None = None
    time_to_first_agent_word_s: float | None = None
    #: Metrics that need speaker separation and could not be computed for this call, with why.
    unavailable: dict[str, str] = Field(default_factory=dict)


class CustomerQuestion(BaseModel):
    """A customer's question with nothing personal in it (see ``callsight.analysis.questions``)."""

    key: str = Field(description="Stems of its longer words: the same question worded alike.")
    text: str
    start: float


class Risk(BaseModel):
    score: float = Field(ge=0, le=1)
    level: Literal["low", "medium", "high"]
    evidence: list[str]


NO_SPEECH = (
    "True when nothing was said (the transcript has no words): then there is no language, sentiment, "
    "purpose, outcome or risk, only talk metrics."
)


class CallAnalysis(BaseModel):
    schema_version: Literal[1] = ANALYSIS_SCHEMA_VERSION
    call_id: str | None = None
    no_speech: bool = Field(default=False, description=NO_SPEECH)
    language: str | None = Field(description="The analysed language; None when there was no speech.")
    language_supported: bool
    rules_version: str
    tags: list[str]
    categories: list[CategoryMatch]
    purpose: str | None
    outcome: str | None
    refusal_reason: str | None
    checkpoints: dict[str, bool]
    checkpoint_evidence: list[CategoryMatch]
    sentiment: SentimentSummary | None
    entities: list[Entity]
    keyword_hits: list[KeywordHit]
    metrics: TalkMetrics
    risk: Risk | None
    warnings: list[str]
    analyzed_at: datetime
    customer_questions: list[CustomerQuestion] = Field(default_factory=list)
    label_model: str | None = Field(
        default=None, description="Version of the learned label model used, if any."
    )
    decisions: dict[str, LabelDecision] = Field(
        default_factory=dict,
        description="Per one-value field: which layer decided it, with the model's score.",
    )
    overruled: list[CategoryMatch] = Field(
        default_factory=list,
        description="Categories a rule matched but the learned model overruled (its score below the "
        "category's veto): not tags; kept with the rule's evidence and the model's score for review.",
    )


class StoredEntity(BaseModel):
    """An entity as kept on the call record: masked for PII types, with the phone lookup hash."""

    type: str
    display: str
    speaker: Speaker
    start: float
    lookup_hash: str | None = None


class AnalysisSummary(BaseModel):
    """What the call record keeps of its analysis (the full document is in S3)."""

    analysis_bucket: str
    analysis_key: str
    analysis_version_id: str | None = None
    transcript_version_id: str | None = None
    rules_version: str
    no_speech: bool = Field(default=False, description=NO_SPEECH)
    language: str | None = None
    language_supported: bool
    purpose: str | None = None
    outcome: str | None = None
    refusal_reason: str | None = None
    sentiment_overall: float | None = None
    sentiment_customer: float | None = None
    sentiment_agent: float | None = None
    sentiment_trend: float | None = None
    customer_mood: Mood | None = None
    labels: list[LabelEvidence] = Field(
        default_factory=list,
        description="Each category and one-value field: which layer, score, evidence turns.",
    )
    risk_score: float | None = None
    risk_level: str | None = None
    checkpoints: dict[str, bool]
    metrics: TalkMetrics
    entities: list[StoredEntity]
    warnings: list[str]
    analyzed_at: datetime
    customer_questions: list[CustomerQuestion] = Field(default_factory=list)
    alerts: list[str] = Field(
        default_factory=list,
        description="Ids of the per-call alert rules this call tripped (the dashboard's alert list).",
    )

    @property
    def headline_sentiment(self) -> float | None:
        """The one sentiment a call is listed, filtered, counted and published by: the customer's
        where speakers are known, else the whole call's."""
        return self.sentiment_customer if self.sentiment_customer is not None else self.sentiment_overall


def stored_entities(entities: list[Entity]) -> list[StoredEntity]:
    return [
        StoredEntity(
            type=e.type, display=e.display, speaker=e.speaker, start=e.start, lookup_hash=e.lookup_hash
        )
        for e in entities
    ]


def without_pii(analysis: CallAnalysis) -> CallAnalysis:
    """The analysis with every PII entity's value replaced by its masked display (what is stored)."""
    entities = [e.model_copy(update={"value": e.display}) if e.pii else e for e in analysis.entities]
    return analysis.model_copy(update={"entities": entities})
