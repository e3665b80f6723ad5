"""The reconciler itself: its rules on hand-made snapshots (no AWS), its readers on the wire formats,
and ``callsight reconcile`` (as a Typer command) on the emulator — report, exit status, ``--fix``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

import pytest
import typer
from callsight.models.call import CallStatus, QuarantineReason
from callsight.reconcile.command import reconcile_command
from callsight.reconcile.inventory import call_entry, dead_letter
from callsight.reconcile.logic import default_thresholds, reconcile, uniform_thresholds
from callsight.reconcile.models import CallEntry, DeadLetter, Inventory, ObjectVersion, QueueDepth
from callsight.reconcile.service import run_reconcile
from callsight.resources import ANALYZE_QUEUE, INGEST_QUEUE, TRANSCRIBE_QUEUE
from callsight.stages.ingest.call_id import derive_call_id
from typer.testing import CliRunner

from tests.faults.harness import PIPELINE, drain, pipeline, upload, use_fake_transcriber
from tests.integration.conftest import Stack

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BUCKET = "callsight-local-recordings"


def obj(key: str, version: str | None = "v1", etag: str = "e1", age_s: float = 3600) -> ObjectVersion:
    return ObjectVersion(
        bucket=BUCKET, key=f"recordings/{key}", version_id=version, etag=etag, size=100,
        last_modified=NOW - timedelta(seconds=age_s),
    )  # fmt: skip


def call(
    key: str,
    status: CallStatus = CallStatus.ANALYZED,
    version: str | None = "v1",
    etag: str = "e1",
    age_s: float = 3000,
    **extra: Any,
) -> CallEntry:
    full = f"recordings/{key}"
    return CallEntry(
        call_id=extra.pop("call_id", derive_call_id(BUCKET, full, version, etag)), status=status,
        bucket=BUCKET, key=full, version_id=version, etag=etag, updated_at=NOW - timedelta(seconds=age_s),
        **extra,
    )  # fmt: skip


def depths(**busy: tuple[int, int]) -> list[QueueDepth]:
    names = [q.logical for q in (INGEST_QUEUE, TRANSCRIBE_QUEUE, ANALYZE_QUEUE)]
    return [
        QueueDepth(queue=name, visible=busy.get(name, (0, 0))[0], in_flight=busy.get(name, (0, 0))[1])
        for name in names + [f"{n}-dlq" for n in names]
    ]


def snapshot(objects: list[ObjectVersion], calls: list[CallEntry], **extra: Any) -> Inventory:
    return Inventory(
        bucket=BUCKET, prefix="recordings/", objects=objects, calls=calls,
        queues=extra.pop("queues", depths()), dead_letters=extra.pop("dead_letters", []), **extra,
    )  # fmt: skip


# --- the rules, pure ---------------------------------------------------------------------------------


def test_one_call_per_key_the_newest_version_wins() -> None:
    reuploaded = [obj("a.wav", "v1", "e1"), obj("a.wav", "v2", "e2", age_s=60)]
    newest = call("a.wav", version="v2", etag="e2")
    superseded = call("a.wav", version="v1", superseded_by=newest.call_id)
    report = reconcile(snapshot(reuploaded, [superseded, newest]), default_thresholds(), NOW)
    assert report.ok and report.objects == 2 and report.calls == 2 and report.superseded_versions == 1
    # the older version needs no call of its own (ingest makes none for it once the newer one exists)
    only_newest = reconcile(snapshot(reuploaded, [newest]), default_thresholds(), NOW)
    assert only_newest.ok and only_newest.lost == [] and only_newest.superseded_versions == 1
    # ... but the newest one does
    [missing] = reconcile(snapshot(reuploaded, [superseded]), default_thresholds(), NOW).awaiting_ingest
    assert missing.object.version_id == "v2" and missing.expected_call_id == newest.call_id
    # two live calls for one key break the rule
    [dup] = reconcile(snapshot(reuploaded, [call("a.wav"), newest]), default_thresholds(), NOW).duplicates
    assert dup.key == "recordings/a.wav" and dup.version_id is None and len(dup.calls) == 2
    # a superseded call whose recording versions are gone (the newest call was masked) is explained
    gone = reconcile(
        snapshot([], [superseded, newest.model_copy(update={"masked_at": NOW})]), default_thresholds(), NOW
    )
    assert gone.ok and gone.explained_missing_sources == {
        "original removed by the masking sweep": 1, "superseded by a newer upload of its key": 1,
    }  # fmt: skip


def test_a_call_without_a_version_id_matches_its_version_by_etag() -> None:
    objects = [obj("a.wav", "v1", "e1"), obj("a.wav", "v2", "e2")]
    calls = [
        call("a.wav", version=None, etag="e1", superseded_by="x"),
        call("a.wav", version="v2", etag="e2"),
    ]
    assert reconcile(snapshot(objects, calls), default_thresholds(), NOW).ok


def test_lost_versus_awaiting_ingest_is_the_ingest_retry_budget() -> None:
    young, old = obj("young.wav", age_s=10), obj("old.wav", age_s=3600)
    report = reconcile(snapshot([young, old], []), default_thresholds(), NOW)
    assert [m.object.key for m in report.lost] == ["recordings/old.wav"]
    assert [m.object.key for m in report.awaiting_ingest] == ["recordings/young.wav"]
    assert (
        default_thresholds().ingest_grace_s
        == INGEST_QUEUE.visibility_timeout_s * INGEST_QUEUE.max_receive_count
    )
    letter = DeadLetter(queue="ingest-dlq", message_id="m", keys=["recordings/young.wav"], summary="S3 event")
    dead = reconcile(snapshot([young], [], dead_letters=[letter]), default_thresholds(), NOW)
    assert dead.lost[0].dead_lettered and dead.problems == 2  # the lost recording and its dead letter


def test_duplicates_both_ways() -> None:
    by_version_and_etag = [call("a.wav"), call("a.wav", version=None, call_id="etag-id")]
    report = reconcile(snapshot([obj("a.wav")], by_version_and_etag), default_thresholds(), NOW)
    [dup] = report.duplicates
    assert {c.call_id for c in dup.calls} == {by_version_and_etag[0].call_id, "etag-id"}
    gone = reconcile(
        snapshot([], [call("b.wav", call_id="x"), call("b.wav", call_id="y")]), default_thresholds(), NOW
    )
    assert len(gone.duplicates) == 1 and len(gone.orphans) == 2


def test_orphans_unless_the_record_explains_the_missing_recording() -> None:
    calls = [
        call("orphan.wav"),
        call("masked.wav", masked_at=NOW),
        call("expired.wav", expires_at=NOW - timedelta(days=1)),
        call("kept.wav", expires_at=NOW + timedelta(days=1)),
        call("deleted.wav", status=CallStatus.DELETED),
        call("ghost.wav", status=CallStatus.QUARANTINED, status_reason=QuarantineReason.OBJECT_DELETED.value),
        call("elsewhere.wav").model_copy(update={"bucket": "other-bucket"}),
    ]
    report = reconcile(snapshot([], calls), default_thresholds(), NOW)
    assert sorted(o.call.key for o in report.orphans) == ["recordings/kept.wav", "recordings/orphan.wav"]
    assert report.explained_missing_sources == {
        "deleted": 1, "gone before ingest": 1, "original removed by the masking sweep": 1,
        "past its retention expiry": 1,
    }  # fmt: skip
    assert report.calls_out_of_scope == 1 and report.calls == 6


def test_in_progress_calls_have_a_reason_and_become_stuck() -> None:
    objects = [obj(f"{i}.wav") for i in range(4)]
    calls = [
        call("0.wav", CallStatus.RECEIVED, age_s=30),
        call("1.wav", CallStatus.TRANSCRIBING, age_s=TRANSCRIBE_QUEUE.visibility_timeout_s * 3 + 1),
        call("2.wav", CallStatus.TRANSCRIBED, age_s=120),
        call("3.wav", CallStatus.RECEIVED, age_s=10),
    ]
    busy = depths(transcribe=(1, 1))
    letter = DeadLetter(queue="transcribe-dlq", message_id="m", call_ids=[calls[3].call_id], summary="x")
    report = reconcile(
        snapshot(objects, calls, queues=busy, dead_letters=[letter]), default_thresholds(), NOW
    )
    reasons = {e.call.key.split("/")[-1]: e for e in report.in_progress}
    assert not reasons["0.wav"].stuck and reasons["0.wav"].reason.startswith("waiting for transcription")
    assert "1 waiting, 1 in flight" in reasons["0.wav"].reason
    assert reasons["1.wav"].stuck and "longer than 16200 s" in reasons["1.wav"].reason
    assert not reasons["2.wav"].stuck, "the pipeline is busy: something may still move it"
    assert reasons["3.wav"].stuck and reasons["3.wav"].dead_letter_queue == "transcribe-dlq"
    idle = reconcile(snapshot(objects, calls, dead_letters=[letter]), default_thresholds(), NOW)
    stalled = {e.call.key.split("/")[-1]: e for e in idle.in_progress}
    assert stalled["2.wav"].stuck and stalled["2.wav"].reason.startswith("stalled")
    assert not stalled["0.wav"].stuck, "younger than the stall grace"
    assert idle.problems == 3 + 1  # three stuck calls and the dead letter


# --- the readers, on wire formats ------------------------------------------------------------------------


def test_a_projected_call_row_is_read_as_stored() -> None:
    """The row as CallRepository.identity_rows yields it (wire format deserialised: numbers as
    Decimal, PynamoDB's datetime text)."""
    row = {
        "call_id": "c1", "status": "TRANSCRIBED",
        "source": {"bucket": BUCKET, "key": "recordings/a.wav", "version_id": "v1", "etag": "e1", "size": Decimal(12)},
        "updated_at": "2026-11-20T10:15:00.000000+0000", "expires_at": Decimal(1795000000),
    }  # fmt: skip
    entry = call_entry(row)
    assert (entry.status, entry.key, entry.version_id) == (CallStatus.TRANSCRIBED, "recordings/a.wav", "v1")
    assert entry.updated_at == datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
    assert entry.expires_at == datetime.fromtimestamp(1795000000, UTC)


@pytest.mark.parametrize(
    ("queue", "body", "call_ids", "summary"),
    [
        ("transcribe-dlq", json.dumps({"schema_version": 1, "call_id": "c9"}), ["c9"], "message for call c9"),
        ("analyze-dlq", "{broken", [], "not JSON"),
        ("ingest-dlq", "{broken", [], "message body is not JSON"),
        ("ingest-dlq", json.dumps({"Records": [{"x": 1}]}), [], "message body is not an S3 event"),
    ],
)
def test_dead_letters_name_what_they_can(queue: str, body: str, call_ids: list[str], summary: str) -> None:
    letter = dead_letter(
        queue,
        {
            "MessageId": "m1",
            "Body": body,
            "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1795000000000"},
        },
    )
    assert letter.call_ids == call_ids and letter.summary.startswith(summary) and letter.receive_count == 3


# --- the command, on the emulator --------------------------------------------------------------------------


def cli() -> typer.Typer:
    """A tiny app with the command registered as ``callsight reconcile`` registers it."""
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("reconcile")(reconcile_command)
    return app


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli(), ["reconcile", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_the_command_reports_fixes_and_exits_non_zero_on_problems(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_transcriber(monkeypatch)
    upload(env, 3)
    drain(lambda: pipeline(env, 1), max_seconds=60)
    code, output = invoke()
    assert code == 0 and "3 recording versions, 3 calls (ANALYZED 3)" in output and "consistent" in output

    # A recording whose S3 event was lost, and a call whose transcribe message was lost.
    lost = upload(env, 1, start=10)[0]
    env.clear_ingest_queue()
    received = env.ingest("in-250-+14155550250-20261120-113010-1795174200.20.wav", b"RIFF" + b"\x00" * 40)
    assert received.status is CallStatus.QUARANTINED  # (not audio: terminal, not a problem)
    stuck = upload(env, 1, start=20)[0]
    drain(lambda: pipeline(env, 1, ("ingest",)), max_seconds=60)
    assert len(env.transcribe_requests()) == 1  # ... and lost

    before = _state(env)
    code, output = invoke("--json", "--stuck-after", "0")
    assert code == 1
    report = json.loads(output)
    assert [m["object"]["key"] for m in report["lost"]] == [lost["key"]]
    assert [e["call"]["key"] for e in report["in_progress"] if e["stuck"]] == [stuck["key"]]
    assert report["problems"] == 2 and report["fixes"] == []
    assert _state(env) == before, "without --fix the reconciler changes nothing"

    code, output = invoke("--fix", "--stuck-after", "0")
    assert (
        code == 1 and "resent TranscribeRequest" in output and "resent S3 ObjectCreated to ingest" in output
    )
    drain(lambda: pipeline(env, 1), max_seconds=60)
    code, output = invoke("--stuck-after", "0")
    assert code == 0, output
    assert {c.status for c in env.all_calls()} == {CallStatus.ANALYZED, CallStatus.QUARANTINED}


def test_fix_waits_while_the_pipeline_is_busy_and_never_touches_dead_letters(env: Stack) -> None:
    [pending] = upload(env, 1)
    env.clear_ingest_queue()
    transcribe = env.sqs.get_queue_url(QueueName=TRANSCRIBE_QUEUE.physical(env.settings))["QueueUrl"]
    env.sqs.send_message(QueueUrl=transcribe, MessageBody=json.dumps({"call_id": str(uuid.uuid4())}))
    report = run_reconcile(env.settings, thresholds=uniform_thresholds(0), fix=True)
    [fix] = report.fixes
    assert fix.action == "none" and not fix.done and "busy" in fix.detail
    assert report.lost[0].object.key == pending["key"]
    assert env.drain_queue(INGEST_QUEUE.logical) == []  # nothing was re-sent
    env.drain_queue(TRANSCRIBE_QUEUE.logical)
    dead_url = env.sqs.get_queue_url(QueueName=INGEST_QUEUE.dlq_physical(env.settings))["QueueUrl"]
    env.sqs.send_message(QueueUrl=dead_url, MessageBody=json.dumps(_s3_event(env, pending)))
    report = run_reconcile(env.settings, thresholds=uniform_thresholds(0), fix=True)
    [fix] = report.fixes
    assert not fix.done and "redrive the ingest DLQ" in fix.detail
    assert report.lost[0].dead_lettered and len(report.dead_letters) == 1


def _s3_event(env: Stack, uploaded: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {"eventName": "ObjectCreated:Put", "eventTime": NOW.isoformat(),
             "s3": {"bucket": {"name": env.bucket}, "object": {"key": quote_plus(uploaded["key"], safe="/"), "eTag": uploaded["etag"]}}}
        ]
    }  # fmt: skip


def _state(env: Stack) -> tuple[Any, ...]:
    calls = sorted((c.call_id, c.status, c.updated_at, c.version) for c in env.all_calls())
    depth = []
    for name in ("ingest", "transcribe", "analyze", "ingest-dlq", "transcribe-dlq", "analyze-dlq"):
        url = env.sqs.get_queue_url(QueueName=env.settings.name(name))["QueueUrl"]
        attributes = env.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        depth.append(attributes["Attributes"]["ApproximateNumberOfMessages"])
    versions = env.s3.list_object_versions(Bucket=env.bucket).get("Versions", [])
    return calls, depth, sorted(v["VersionId"] for v in versions), PIPELINE
