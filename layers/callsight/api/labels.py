"""QA label corrections (``PUT /calls/{call_id}/labels``) and the training examples they accumulate.

Admins, and QA for the calls they may see (their teams, exactly as ``GET /calls/{call_id}``: another
team's call is a 404), correct a call's category tags, purpose, outcome, refusal reason and customer
sentiment; agents and the CRM client get 403. The ids are checked against the deployed rule set
(:func:`vocabulary_of`); the correction is stored on the call record (the last one wins; erased with the
call) with the reviewer and the ``rules_version`` it corrects. Every attempt, refused or not, is one
``labels.correct`` audit entry (ids and outcome only: never the note). :func:`label_feedback` turns the
reviewed calls into :class:`~callsight.models.feedback.LabelFeedback` for ``callsight train``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, get_args

from pydantic import ValidationError

from callsight.analysis.rules import LabelKind, RulePack
from callsight.api.audited import audited
from callsight.api.service import BadRequest, CallsApi, Conflict, Forbidden, NotFound
from callsight.auth.tokens import Principal, Role
from callsight.models.call import CallRecord, CallStatus
from callsight.models.feedback import (
    CallLabels,
    FeedbackTurn,
    LabelCorrection,
    LabelFeedback,
    LabelReview,
    LabelVocabulary,
)
from callsight.storage.call_repository import CallUpdates, StaleCallVersion

ACTION = "labels.correct"
#: Roles that may correct labels (QA within its teams, as it sees calls).
CORRECTORS = frozenset({Role.ADMIN, Role.QA})


def vocabulary_of(rules: RulePack) -> LabelVocabulary:
    """The ids each label may take under ``rules`` (what the analyzer itself can answer)."""
    return LabelVocabulary(**{kind: tuple(rules.label_values(kind)) for kind in get_args(LabelKind)})


class LabelsApi:
    def __init__(self, calls: CallsApi, rules: RulePack, updates: CallUpdates | None = None) -> None:
        self.calls = calls
        self.updates = updates or CallUpdates(calls.settings)
        self.vocabulary = vocabulary_of(rules)

    def parse(self, body: Any) -> LabelCorrection:
        """``body`` as a correction whose ids the rule set knows (:class:`ValidationError` if not)."""
        return LabelCorrection.model_validate(body, context={"vocabulary": self.vocabulary})

    def correct(
        self, principal: Principal, call_id: str, body: Callable[[], Any], request_id: str | None = None
    ) -> LabelReview:
        """Check who, which call, the body and the call's state, in that order; store; audit once.

        ``body`` reads the request body (:class:`BadRequest` if it is not JSON): called only once the
        caller may correct this call, so a refused caller learns nothing from its body's errors."""

        target = f"call:{call_id[:64]}"
        with audited(self.calls.audit, principal, ACTION, target, request_id) as action:
            if principal.role not in CORRECTORS:
                raise Forbidden("label corrections are for QA and admins")
            call, outcome = self.calls.lookup(principal, call_id)
            if call is None:
                action.outcome = outcome  # denied (not theirs) or not_found: both answered 404
                raise NotFound(f"no call {call_id[:64]!r}")
            try:
                correction = self.parse(body())
            except BadRequest:
                action.details["field"] = "body"
                raise
            except ValidationError as exc:
                action.details["field"] = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "request"
                raise
            if call.status is not CallStatus.ANALYZED or call.analysis is None:
                action.details["status"] = call.status.value
                raise Conflict(
                    f"call {call_id} is not analysed yet (status {call.status.value}): there are no labels to correct"
                )
            review = LabelReview(
                labels=CallLabels.model_validate(correction.model_dump(exclude={"note"})),
                note=correction.note,
                reviewer=principal.subject,
                reviewer_role=principal.role.value,
                reviewed_at=datetime.now(UTC),
                rules_version=call.analysis.rules_version,
                analysed_at=call.analysis.analyzed_at,
            )
            try:
                self.updates.set_review(call, review)
            except StaleCallVersion as exc:
                action.details["status"] = "changed"
                raise Conflict(
                    f"call {call_id} changed while it was being corrected: read it again and retry"
                ) from exc
            action.details.update(
                rules_version=review.rules_version, replaced=call.review is not None, note=review.note is not None,
                **review.labels.model_dump(exclude_none=True),
            )  # fmt: skip
        return review


def label_feedback(calls: CallsApi) -> Iterator[LabelFeedback]:
    """Every reviewed call as a training example: the corrected labels and the call's turns with PII
    masked, as QA sees them. Calls without a transcript (none should have a review) are skipped."""
    for call in calls.calls.reviewed():
        example = feedback_of(calls, call)
        if example is not None:
            yield example


def feedback_of(calls: CallsApi, call: CallRecord) -> LabelFeedback | None:
    if call.review is None or call.transcription is None:
        return None
    transcript = calls.transcript_as_shown(call, pii=False)
    language = call.analysis.language if call.analysis and call.analysis.language else None
    return LabelFeedback(
        call_id=call.call_id,
        language=language or call.transcription.language,
        labels=call.review.labels,
        rules_version=call.review.rules_version,
        reviewed_at=call.review.reviewed_at,
        turns=[
            FeedbackTurn(speaker=t.speaker, start=t.start, end=t.end, text=t.text) for t in transcript.turns
        ],
    )
