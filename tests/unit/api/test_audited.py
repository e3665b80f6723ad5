"""The audited-action helper without AWS: one entry per attempt, its outcome from how the block ended
(a refusal's kind, or what the block set), none for a failure that is not a refusal."""

from __future__ import annotations

from typing import Any, cast

import pytest
from callsight.api.audited import audited, outcome_of
from callsight.api.service import BadRequest, Conflict, Forbidden, NotFound
from callsight.auth.tokens import Principal, Role
from callsight.storage.audit_log import AuditLog
from pydantic import BaseModel, ValidationError

QA = Principal(subject="qa-1", role=Role.QA, teams=["sales"])


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, **entry: Any) -> None:
        self.entries.append(entry)


def _log() -> tuple[FakeAudit, AuditLog]:
    fake = FakeAudit()
    return fake, cast(AuditLog, fake)


def test_a_finished_block_is_one_ok_entry_with_its_details() -> None:
    fake, log = _log()
    with audited(log, QA, "stats.read", "calls", "req-1", since="2026-11-01") as action:
        action.details["rolled_up_days"] = 3
    assert fake.entries == [
        {
            "actor": "qa-1", "role": "qa", "action": "stats.read", "target": "calls", "request_id": "req-1",
            "outcome": "ok", "details": {"since": "2026-11-01", "rolled_up_days": 3},
        }
    ]  # fmt: skip


def test_the_target_may_be_known_only_at_the_end() -> None:
    fake, log = _log()
    with audited(log, QA, "report.weekly.export", "report:weekly", None) as action:
        action.target = "report:weekly/2026-W47"
    assert [e["target"] for e in fake.entries] == ["report:weekly/2026-W47"]


class _Body(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Body.model_validate({"n": "x"})
    except ValidationError as exc:
        return exc
    raise AssertionError("validates")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (Forbidden("no"), "denied"),
        (NotFound("no"), "not_found"),
        (Conflict("no"), "conflict"),
        (BadRequest("no"), "invalid"),
        (_validation_error(), "invalid"),
    ],
)
def test_a_refusal_is_audited_by_its_kind_and_still_raised(error: Exception, outcome: str) -> None:
    fake, log = _log()
    with pytest.raises(type(error)), audited(log, QA, "labels.correct", "call:c1", "req-2"):
        raise error
    assert [(e["action"], e["outcome"]) for e in fake.entries] == [("labels.correct", outcome)]
    assert outcome_of(error) == outcome


def test_an_outcome_the_block_sets_wins_over_the_exceptions() -> None:
    """A call that exists but is not the caller's is answered 404 and audited as denied."""
    fake, log = _log()
    with pytest.raises(NotFound), audited(log, QA, "labels.correct", "call:c1", None) as action:
        action.outcome = "denied"
        raise NotFound("no call 'c1'")
    with audited(log, QA, "audio.url", "call:c1", None) as action:
        action.outcome = "not_found"  # a refusal answered in the body, not raised
    assert [e["outcome"] for e in fake.entries] == ["denied", "not_found"]


def test_a_failure_that_is_no_refusal_writes_nothing() -> None:
    fake, log = _log()
    with pytest.raises(RuntimeError), audited(log, QA, "stats.read", "calls", None):
        raise RuntimeError("DynamoDB is down")
    assert fake.entries == []
    assert outcome_of(RuntimeError()) is None
