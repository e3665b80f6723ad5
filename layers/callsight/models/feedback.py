"""QA label corrections: the labels a reviewer sets on a call, the review kept on the call record, and
the training example built from it. Pure pydantic (no AWS): training code imports it without boto3.

The label vocabulary is ``tests/fixtures/analysis/corpus/LABELS.md``'s; which category, purpose,
outcome and refusal-reason ids are valid depends on the deployed rule set and is checked by the API
(``callsight.api.labels``), not here. Stored and read by ``callsight.storage.call_repository``;
:class:`LabelFeedback` items come from ``callsight.api.labels.label_feedback``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from callsight.models.transcript import Speaker

#: The customer's mood at the end of the call (LABELS.md).
SentimentLabel = Literal["positive", "neutral", "negative"]
REFUSAL = "refusal"
MAX_NOTE = 500
_ID = r"^[a-z][a-z0-9_]{0,63}$"


class LabelVocabulary(BaseModel):
    """The ids a label may take, from the deployed rule set (``callsight.api.labels.vocabulary_of``)."""

    model_config = ConfigDict(frozen=True)

    category: tuple[str, ...]
    purpose: tuple[str, ...]
    outcome: tuple[str, ...]
    refusal_reason: tuple[str, ...]


class CallLabels(BaseModel):
    """One call's labels as LABELS.md defines them (entities aside).

    Validated with ``context={"vocabulary": LabelVocabulary}``, every id must be one of the vocabulary's
    (the error names the valid ones); without it, any id of the right shape passes (stored reviews)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: list[str] = Field(
        max_length=64, description="The full set of category tags that apply (0..n, no repeats)."
    )
    purpose: str = Field(max_length=64)
    outcome: str = Field(max_length=64)
    refusal_reason: str | None = Field(
        default=None, max_length=64, description="Required when outcome is 'refusal', otherwise null."
    )
    customer_sentiment: SentimentLabel = Field(description="The customer's mood at the end of the call.")

    @field_validator("categories", "purpose", "outcome", "refusal_reason")
    @classmethod
    def _known(cls, value: list[str] | str | None, info: ValidationInfo) -> list[str] | str | None:
        vocabulary = (info.context or {}).get("vocabulary")
        if value is None or not isinstance(vocabulary, LabelVocabulary):
            return value
        kind = "category" if info.field_name == "categories" else str(info.field_name)
        valid: tuple[str, ...] = getattr(vocabulary, kind)
        unknown = [v for v in ([value] if isinstance(value, str) else value) if v not in valid]
        if unknown:
            named = ", ".join(repr(v[:64]) for v in unknown[:5])
            raise ValueError(f"unknown {kind.replace('_', ' ')} {named}; valid: {', '.join(valid)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CallLabels:
        repeated = sorted({c for c in self.categories if self.categories.count(c) > 1})
        if repeated:
            raise ValueError(f"categories repeated: {', '.join(repeated)}")
        if self.outcome == REFUSAL and self.refusal_reason is None:
            raise ValueError(
                "refusal_reason is required when outcome is 'refusal' ('other' if none was given)"
            )
        if self.outcome != REFUSAL and self.refusal_reason is not None:
            raise ValueError(
                f"refusal_reason must be null unless outcome is 'refusal' (outcome is {self.outcome!r})"
            )
        return self


class LabelCorrection(CallLabels):
    """``PUT /calls/{call_id}/labels``: the corrected labels and an optional short note (no PII)."""

    note: str | None = Field(default=None, max_length=MAX_NOTE, description="Why, briefly; never logged.")


class LabelReview(BaseModel):
    """The latest QA correction of a call, kept on its record (and erased with it)."""

    labels: CallLabels
    note: str | None = None
    reviewer: str = Field(description="The reviewer's principal (token subject).")
    reviewer_role: str
    reviewed_at: datetime
    rules_version: str = Field(description="The rule set of the analysis this corrects.")
    analysed_at: datetime | None = Field(default=None, description="When that analysis was made.")


class FeedbackTurn(BaseModel):
    """A turn of the call as QA sees it: PII masked."""

    model_config = ConfigDict(frozen=True)

    speaker: Speaker
    start: float
    end: float
    text: str


class LabelFeedback(BaseModel):
    """A training example: a reviewed call's corrected labels beside its masked turns."""

    call_id: str
    language: str | None
    labels: CallLabels
    rules_version: str
    reviewed_at: datetime
    turns: list[FeedbackTurn]
