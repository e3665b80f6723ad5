"""QA label corrections without AWS: the vocabulary comes from the rule set, every bad body is a clear
error, and the service checks role, visibility, body and state in that order, auditing each attempt once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from callsight.analysis.rules import load_rules
from callsight.api.labels import LabelsApi, vocabulary_of
from callsight.api.service import BadRequest, CallsApi, Conflict, Forbidden, NotFound
from callsight.auth.tokens import Principal, Role
from callsight.models.analysis import AnalysisSummary, TalkMetrics
from callsight.models.call import CallRecord, CallStatus, SourceObject
from callsight.models.feedback import LabelCorrection, LabelReview
from callsight.models.transcript import Speaker
from callsight.storage.call_repository import StaleCallVersion
from pydantic import ValidationError

RULES = load_rules()
VOCABULARY = vocabulary_of(RULES)
GOOD: dict[str, Any] = {
    "categories": ["price_complaint", "callback_request"],
    "purpose": "order",
    "outcome": "refusal",
    "refusal_reason": "too_expensive",
    "customer_sentiment": "negative",
    "note": "customer objected to the price, then asked for a call back",
}
NOW = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)


def test_the_vocabulary_is_the_rule_sets_and_labels_md() -> None:
    # The ids of LABELS.md (tests/fixtures/analysis/corpus): 12 categories, the analyzer's fallbacks included
    assert len(VOCABULARY.category) == 12 and "fraud_suspicion" in VOCABULARY.category
    assert set(VOCABULARY.purpose) == {"order", "consultation", "complaint"}
    assert set(VOCABULARY.outcome) == {"success", "refusal", "callback", "none"}
    assert set(VOCABULARY.refusal_reason) == {
        "found_elsewhere", "too_expensive", "no_longer_needed", "delivery_terms", "other",
    }  # fmt: skip
    assert VOCABULARY.category == tuple(r.id for r in RULES.of_kind("category"))


def parse(body: Any) -> LabelCorrection:
    return LabelCorrection.model_validate(body, context={"vocabulary": VOCABULARY})


def first_error(body: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        parse(body)
    error = caught.value.errors()[0]
    return ".".join(str(p) for p in error["loc"]) + ": " + error["msg"]


def test_a_good_correction_parses_and_a_null_refusal_reason_goes_with_other_outcomes() -> None:
    assert parse(GOOD).categories == ["price_complaint", "callback_request"]
    success = GOOD | {"outcome": "success", "refusal_reason": None, "categories": []}
    assert parse(success).refusal_reason is None
    assert parse({k: v for k, v in success.items() if k not in ("note", "refusal_reason")}).note is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"categories": ["price_complaint", "shipping"]},
            "categories: Value error, unknown category 'shipping'; valid: price_complaint, delivery_problem",
        ),
        (
            {"purpose": "sales"},
            "purpose: Value error, unknown purpose 'sales'; valid: complaint, order, consultation",
        ),
        (
            {"outcome": "refused"},
            "outcome: Value error, unknown outcome 'refused'; valid: success, refusal, callback, none",
        ),
        (
            {"refusal_reason": "colour"},
            "refusal_reason: Value error, unknown refusal reason 'colour'; valid: found_elsewhere",
        ),
        (
            {"customer_sentiment": "angry"},
            "customer_sentiment: Input should be 'positive', 'neutral' or 'negative'",
        ),
        (
            {"outcome": "success"},
            "refusal_reason must be null unless outcome is 'refusal' (outcome is 'success')",
        ),
        ({"refusal_reason": None}, "refusal_reason is required when outcome is 'refusal'"),
        ({"categories": ["urgency", "urgency"]}, "categories repeated: urgency"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"categories": "price_complaint"}, "categories: Input should be a valid list"),
        ({"categories": [1]}, "categories.0: Input should be a valid string"),
        ({"purpose": 3}, "purpose: Input should be a valid string"),
        ({"note": "x" * 501}, "note: String should have at most 500 characters"),
    ],
)
def test_bad_corrections_are_refused_with_a_message(change: dict[str, Any], expected: str) -> None:
    assert expected in first_error(GOOD | change)


def test_an_empty_body_names_the_missing_fields() -> None:
    assert first_error({}) == "categories: Field required"
    assert "valid dictionary" in first_error([])


# --- the service, with the storage and audit log faked ---------------------------------------------


def analysed(
    call_id: str = "call-0001", *, team: str = "sales-ru", status: CallStatus = CallStatus.ANALYZED
) -> CallRecord:
    analysis = AnalysisSummary(
        analysis_bucket="b", analysis_key="k", rules_version="default-2026.11", language="ru",
        language_supported=True, checkpoints={}, entities=[], warnings=[], analyzed_at=NOW,
        metrics=TalkMetrics(duration_s=10, speech_s=8, silence_s=2, longest_silence_s=1, words_per_minute=100,
                            short_call=True, longest_monologue_s=4, longest_monologue_speaker=Speaker.CUSTOMER),
    )  # fmt: skip
    return CallRecord(
        call_id=call_id, status=status, source=SourceObject(bucket="r", key=f"{call_id}.wav"), agent_id="204",
        team=team, analysis=analysis if status is CallStatus.ANALYZED else None, created_at=NOW, updated_at=NOW,
        version=3,
    )  # fmt: skip


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, **entry: Any) -> None:
        self.entries.append(entry)


class FakeCalls:
    """What LabelsApi uses of CallsApi: ``lookup`` (the real one, over a dict) and ``audit``."""

    def __init__(self, *calls: CallRecord) -> None:
        self.by_id = {c.call_id: c for c in calls}
        self.audit = FakeAudit()
        self.calls = self  # CallsApi.lookup reads self.calls.get

    def get(self, call_id: str) -> CallRecord | None:
        return self.by_id.get(call_id)

    def lookup(self, principal: Principal, call_id: str) -> tuple[CallRecord | None, str]:
        return CallsApi.lookup(self, principal, call_id)  # type: ignore[arg-type]


class FakeUpdates:
    def __init__(self, stale: bool = False) -> None:
        self.stored: list[tuple[str, LabelReview]] = []
        self.stale = stale

    def set_review(self, call: CallRecord, review: LabelReview) -> CallRecord:
        if self.stale:
            raise StaleCallVersion(call.call_id)
        self.stored.append((call.call_id, review))
        return call.model_copy(update={"review": review})


def service(*calls: CallRecord, stale: bool = False) -> tuple[LabelsApi, FakeCalls, FakeUpdates]:
    fake, updates = FakeCalls(*calls), FakeUpdates(stale)
    return LabelsApi(fake, RULES, updates), fake, updates  # type: ignore[arg-type]


QA = Principal(subject="qa-1", role=Role.QA, teams=["sales-ru"])


def test_qa_corrects_a_call_of_its_team_and_the_review_names_who_and_what_it_corrects() -> None:
    labels, fake, updates = service(analysed())
    review = labels.correct(QA, "call-0001", lambda: GOOD, "req-1")
    assert review.labels.outcome == "refusal" and review.note == GOOD["note"]
    assert (review.reviewer, review.reviewer_role, review.rules_version) == ("qa-1", "qa", "default-2026.11")
    assert updates.stored == [("call-0001", review)]
    [entry] = fake.audit.entries
    assert (
        entry["action"] == "labels.correct"
        and entry["outcome"] == "ok"
        and entry["target"] == "call:call-0001"
    )
    assert entry["details"]["categories"] == GOOD["categories"] and entry["details"]["note"] is True
    assert GOOD["note"] not in repr(fake.audit.entries)  # the note text is never audited


def refused(labels: LabelsApi, principal: Principal, call_id: str, body: Any) -> type[Exception]:
    with pytest.raises((Forbidden, NotFound, BadRequest, ValidationError, Conflict)) as caught:
        labels.correct(principal, call_id, lambda: body)
    return type(caught.value)


@pytest.mark.parametrize(
    ("principal", "call_id", "body", "error", "outcome"),
    [
        (Principal(subject="a", role=Role.AGENT, agent_id="204"), "call-0001", GOOD, Forbidden, "denied"),
        (Principal(subject="c", role=Role.CRM), "call-0001", GOOD, Forbidden, "denied"),
        (Principal(subject="q", role=Role.QA, teams=["support-en"]), "call-0001", GOOD, NotFound, "denied"),
        (QA, "call-9999", GOOD, NotFound, "not_found"),
        (QA, "call-0002", GOOD, NotFound, "denied"),  # DELETED: nobody's
        (QA, "call-0001", GOOD | {"outcome": "nope"}, ValidationError, "invalid"),
        (QA, "call-0003", GOOD, Conflict, "conflict"),  # transcribed, not analysed
    ],
)
def test_refusals_change_nothing_and_are_audited_once(
    principal: Principal, call_id: str, body: Any, error: type[Exception], outcome: str
) -> None:
    labels, fake, updates = service(
        analysed(),
        analysed("call-0002", status=CallStatus.DELETED),
        analysed("call-0003", status=CallStatus.TRANSCRIBED),
    )
    assert refused(labels, principal, call_id, body) is error
    assert updates.stored == []
    assert [e["outcome"] for e in fake.audit.entries] == [outcome]


def test_a_body_that_is_not_json_is_audited_as_invalid() -> None:
    labels, fake, updates = service(analysed())

    def unreadable() -> Any:
        raise BadRequest("the request body is not valid JSON")

    with pytest.raises(BadRequest):
        labels.correct(QA, "call-0001", unreadable)
    assert fake.audit.entries[0]["outcome"] == "invalid" and updates.stored == []


def test_a_call_changed_meanwhile_is_a_conflict() -> None:
    labels, fake, _ = service(analysed(), stale=True)
    with pytest.raises(Conflict, match="changed while"):
        labels.correct(QA, "call-0001", lambda: GOOD)
    assert [e["outcome"] for e in fake.audit.entries] == ["conflict"]
