"""Retention, erasure, legal holds, policy changes and the audit chain on the embedded emulator.

Each call is built through the real stages (ingest handler → transcript in S3 → analyze service), so
it owns every artefact production would leave: recording and sidecar versions, transcript, analysis
document, keyword-index items, idempotency records, the call item. Completeness is checked by
listing every object version in every bucket and scanning every table afterwards.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callsight.analysis.analyzer import Analyzer
from callsight.analysis.rules import load_rules
from callsight.compliance.policies import RetentionPolicy
from callsight.models.call import CallRecord, CallStatus
from callsight.models.messages import AnalyzeRequest
from callsight.resources import BUCKETS, TABLES
from callsight.stages.analyze.service import AnalyzeService
from callsight.storage import aws
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository, CallUpdates
from callsight.storage.policy_store import PolicyStore
from callsight.storage.tables import AuditEntryItem, CallItem
from callsight.storage.transcripts import TranscriptStore
from callsight.sweeps.audit_verify import AuditVerifier
from callsight.sweeps.deletion import Actor, DeletionResult
from callsight.sweeps.erasure import InvalidPhone, SubjectErasure
from callsight.sweeps.holds import LegalHolds
from callsight.sweeps.retention import RetentionSweep
from pydantic import ValidationError

from tests.analysis_fixtures import build_transcript
from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack

ADMIN = Actor(actor="dpo@example.com", role="admin", request_id="req-1")


def make_call(env: Stack, phone: str, *, days_ago: int, secret: str, tags_text: str = "") -> CallRecord:
    """A call of ``phone`` that started ``days_ago`` days ago, through ingest and analysis."""
    started = datetime.now(UTC) - timedelta(days=days_ago)
    name = f"in-202-{phone}-{started:%Y%m%d-%H%M%S}-{uuid.uuid4().int % 10**9}.1.wav"
    call = env.ingest(name, pcm_wav(seconds=2))
    env.transcribe_requests()
    turns = [
        {"speaker": "agent", "start": 0.0, "end": 2.0, "text": "Здравствуйте, чем могу помочь?"},
        {
            "speaker": "customer",
            "start": 2.5,
            "end": 9.0,
            "text": f"Мой телефон {phone}, кодовое слово {secret}. {tags_text}",
        },
    ]
    transcript = build_transcript(turns, "ru", 2, call_id=call.call_id)
    store = TranscriptStore(env.settings)
    key, version = env.transcribed(call.call_id, transcript, versions=2)
    service = AnalyzeService(env.settings, Analyzer(load_rules(), "RU", lambda p: p[-4:]))
    service.handle(AnalyzeRequest(call_id=call.call_id, transcript_bucket=store.bucket, transcript_key=key,
                                  transcript_version_id=version, language="ru"))  # fmt: skip
    after = env.calls.get(call.call_id)
    assert after is not None and after.status is CallStatus.ANALYZED
    return after


def everything(env: Stack) -> str:
    """Every object version (key + body) in every bucket and every item of every table but the audit log."""
    parts: list[str] = []
    for spec in BUCKETS:
        bucket = spec.physical(env.settings)
        listing = env.s3.list_object_versions(Bucket=bucket)
        for version in listing.get("Versions", []):
            body = env.s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])[
                "Body"
            ].read()
            parts.append(version["Key"])
            parts.append(body.decode("utf-8", errors="ignore"))
        parts.extend(marker["Key"] for marker in listing.get("DeleteMarkers", []))
    dynamodb: Any = aws.client("dynamodb", env.settings)
    for table in TABLES:
        if table == "audit-log":
            continue
        for page in dynamodb.get_paginator("scan").paginate(TableName=env.settings.name(table)):
            parts.append(json.dumps(page.get("Items", []), ensure_ascii=False))
    return "\n".join(parts)


def traces(call: CallRecord, phone: str, secret: str) -> list[str]:
    return [call.call_id, phone, phone.lstrip("+"), secret]


def test_the_retention_sweep_deletes_every_trace_of_expired_calls_only(env: Stack) -> None:
    old = make_call(env, "+79031234567", days_ago=200, secret="лимонадзвезда")
    fresh = make_call(env, "+79161234567", days_ago=3, secret="апельсинкомета")
    assert (
        old.retention_policy == "default"
        and old.expires_at is not None
        and old.expires_at < datetime.now(UTC)
    )
    before = everything(env)
    assert all(t in before for t in traces(old, "+79031234567", "лимонадзвезда"))

    dry = RetentionSweep(env.settings).run(dry_run=True)
    assert [(o.call_id, o.result) for o in dry.outcomes] == [(old.call_id, DeletionResult.WOULD_DELETE)]
    assert dry.outcomes[0].objects == 4  # recording, two transcript versions, analysis document
    assert env.calls.get(old.call_id) is not None

    report = RetentionSweep(env.settings).run()
    assert [(o.call_id, o.result) for o in report.outcomes] == [(old.call_id, DeletionResult.DELETED)]
    after = everything(env)
    for trace in traces(old, "+79031234567", "лимонадзвезда"):
        assert trace not in after, (
            f"{trace!r} survived the retention sweep: ...{after[max(0, after.find(trace) - 300) : after.find(trace) + 100]}"
        )
    for trace in traces(fresh, "+79161234567", "апельсинкомета"):
        assert trace in after, f"{trace!r} of the fresh call was touched"
    [receipt] = [
        e for e in AuditLog(env.settings).for_target(f"call:{old.call_id}") if e.action == "retention.delete"
    ]
    assert receipt.details["policy"] == "default" and receipt.details["index_entries"] > 0
    assert sum(receipt.details["object_versions"].values()) == 4
    assert "9031234567" not in json.dumps(receipt.model_dump(mode="json"))  # receipts carry no PII

    again = RetentionSweep(env.settings).run()  # safe to run twice
    assert again.outcomes == []


def test_legal_hold_blocks_retention_until_released(env: Stack) -> None:
    old = make_call(env, "+79031234567", days_ago=400, secret="x1")
    LegalHolds(env.settings).hold_call(old.call_id, ADMIN, reason="litigation 42")
    report = RetentionSweep(env.settings).run()
    assert [(o.result, o.detail) for o in report.outcomes] == [
        (DeletionResult.HELD, "legal hold on the call")
    ]
    assert env.calls.get(old.call_id) is not None
    LegalHolds(env.settings).hold_call(old.call_id, ADMIN, release=True)
    assert RetentionSweep(env.settings).run().count(DeletionResult.DELETED) == 1
    actions = [e.action for e in AuditLog(env.settings).for_target(f"call:{old.call_id}")]
    assert actions[:4] == ["legal_hold.set", "retention.skip", "legal_hold.release", "retention.delete"]


def test_a_sweep_killed_halfway_is_finished_by_the_next_one(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = make_call(env, "+79031234567", days_ago=200, secret="kill1")

    def crash(self: Any, call_id: str) -> bool:
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(
        CallUpdates, "delete", crash
    )  # the process dies after S3 and the index, before the item
    with pytest.raises(RuntimeError):
        RetentionSweep(env.settings).run()
    half = env.calls.get(old.call_id)
    assert half is not None and half.status is CallStatus.DELETED  # claimed, still findable
    monkeypatch.undo()
    early = RetentionSweep(env.settings).run()  # the crashed sweep's lease still runs
    assert [o.detail for o in early.outcomes] == ["another sweep is deleting it"]
    item = CallItem.get(old.call_id)
    item.update(
        actions=[CallItem.deletion_lease.set(int(datetime.now(UTC).timestamp()) - 1)]
    )  # 15 minutes later
    report = RetentionSweep(env.settings).run()
    assert report.count(DeletionResult.DELETED) == 1
    assert old.call_id not in everything(env)
    receipts = [
        e for e in AuditLog(env.settings).for_target(f"call:{old.call_id}") if e.action == "retention.delete"
    ]
    assert len(receipts) == 1


def test_concurrent_sweeps_delete_each_call_once(env: Stack) -> None:
    calls = [make_call(env, f"+7903123456{i}", days_ago=300, secret=f"c{i}") for i in range(3)]
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            RetentionSweep(env.settings).run()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    remaining = everything(env)
    audit = AuditLog(env.settings)
    for call in calls:
        assert call.call_id not in remaining
        receipts = [e for e in audit.for_target(f"call:{call.call_id}") if e.action == "retention.delete"]
        assert len(receipts) == 1


def test_erasure_by_phone_removes_the_subject_everywhere_except_held_calls(env: Stack) -> None:
    first = make_call(env, "+79031234567", days_ago=5, secret="erase1")
    second = make_call(env, "+79031234567", days_ago=1, secret="erase2")
    held = make_call(env, "+79031234567", days_ago=2, secret="erase3")
    other = make_call(env, "+79161234567", days_ago=5, secret="keep1")
    LegalHolds(env.settings).hold_call(held.call_id, ADMIN, reason="court order")
    report = SubjectErasure(env.settings).erase(
        "8 (903) 123-45-67", ADMIN
    )  # another spelling of the same number
    results = {o.call_id: o.result for o in report.outcomes}
    assert results == {first.call_id: DeletionResult.DELETED, second.call_id: DeletionResult.DELETED,
                       held.call_id: DeletionResult.HELD}  # fmt: skip
    remaining = everything(env)
    for call, secret in ((first, "erase1"), (second, "erase2")):
        assert call.call_id not in remaining and secret not in remaining
    assert held.call_id in remaining and other.call_id in remaining and "keep1" in remaining
    subject = SubjectErasure(env.settings).subject_hash("+79031234567")
    [request] = AuditLog(env.settings).for_target(f"subject:{subject}")
    assert request.action == "erasure.request" and request.details["held"] == [held.call_id]
    assert "9031234567" not in json.dumps(request.model_dump(mode="json"))


def test_erasure_of_an_unknown_or_malformed_phone(env: Stack) -> None:
    report = SubjectErasure(env.settings).erase("+79990001122", ADMIN)
    assert report.outcomes == []
    [entry] = AuditLog(env.settings).for_target(
        f"subject:{SubjectErasure(env.settings).subject_hash('+79990001122')}"
    )
    assert entry.outcome == "no_calls_found"
    with pytest.raises(InvalidPhone, match="not a valid phone number"):
        SubjectErasure(env.settings).erase("call me maybe", ADMIN)


def test_a_subject_hold_blocks_erasure(env: Stack) -> None:
    call = make_call(env, "+79031234567", days_ago=5, secret="sh1")
    LegalHolds(env.settings).hold_subject("+7 903 123 45 67", ADMIN, reason="regulator inquiry")
    report = SubjectErasure(env.settings).erase("+79031234567", ADMIN)
    assert [(o.result, o.detail) for o in report.outcomes] == [
        (DeletionResult.HELD, "legal hold on the customer")
    ]
    LegalHolds(env.settings).hold_subject("+79031234567", ADMIN, release=True)
    assert SubjectErasure(env.settings).erase("+79031234567", ADMIN).count(DeletionResult.DELETED) == 1
    assert call.call_id not in everything(env)


def test_a_longer_policy_recomputes_expiries_resumably(env: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    finance = make_call(
        env, "+79031234567", days_ago=10, secret="f1", tags_text="Хочу вернуть деньги, отмените заказ."
    )
    plain = make_call(env, "+79161234567", days_ago=10, secret="p1")
    assert "cancellation_refund" in finance.tags and "cancellation_refund" not in plain.tags
    policy = RetentionPolicy(policy_id="finance", days=3 * 365, tags=["cancellation_refund"])
    reads = {"n": 0}
    original = CallRepository.get

    def crash_on_second_page(self: Any, call_id: str) -> Any:
        reads["n"] += 1
        if reads["n"] == 2:  # page 1 done and checkpointed; the process dies on page 2
            raise RuntimeError("interrupted")
        return original(self, call_id)

    monkeypatch.setattr(CallRepository, "get", crash_on_second_page)
    with pytest.raises(RuntimeError):
        RetentionSweep(env.settings).set_policy(policy, ADMIN, page_size=1)
    assert PolicyStore(env.settings).checkpoint("recompute-expiries") is not None
    reads["n"] = 10
    RetentionSweep(env.settings).recompute_expiries(ADMIN, page_size=1)  # resumes from the checkpoint
    assert reads["n"] == 11, "the rerun read only the call the crashed run had not reached"
    monkeypatch.undo()
    assert PolicyStore(env.settings).checkpoint("recompute-expiries") is None
    after = env.calls.get(finance.call_id)
    assert after is not None and after.retention_policy == "finance"
    assert after.expires_at is not None and after.expires_at > datetime.now(UTC) + timedelta(days=900)
    unchanged = env.calls.get(plain.call_id)
    assert unchanged is not None and unchanged.retention_policy == "default"
    assert [e.action for e in AuditLog(env.settings).for_target("policy:finance")] == [
        "retention_policy.update"
    ]


@pytest.mark.parametrize("days", [0, -30])
def test_a_policy_with_a_non_positive_period_is_rejected(days: int) -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        RetentionPolicy(policy_id="broken", days=days)


def test_the_audit_chain_detects_tampering_and_missing_entries(env: Stack) -> None:
    writers = [
        threading.Thread(target=lambda i=i: [AuditLog(env.settings).record(actor=f"user{i}", role="qa", action="call.read", target=f"call:{j}") for j in range(10)])
        for i in range(4)
    ]  # fmt: skip
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    today = datetime.now(UTC).date()
    checked, broken = AuditVerifier(env.settings).first_problem(today, today)
    assert (checked, broken) == (40, None)  # 40 entries over 8 shard chains: some have 3+

    items = list(AuditEntryItem.scan())
    long_chains = {i.chain_id for i in items if i.seq == 3}  # deleting a chain's last entry is not detectable
    victim = next(item for item in items if item.seq == 2 and item.chain_id in long_chains)
    victim.update(actions=[AuditEntryItem.actor.set("someone-else")])  # rewrite history
    _, broken = AuditVerifier(env.settings).first_problem(today, today)
    assert broken is not None and broken.chain_id == victim.chain_id and broken.seq == 2
    assert "changed" in broken.reason

    victim.delete()
    _, broken = AuditVerifier(env.settings).first_problem(today, today)
    assert broken is not None and broken.seq == 2 and "missing" in broken.reason
