"""(c) Poison on every queue: a body that is not JSON, JSON of the wrong shape, and a well-formed
message naming a call that does not exist. Each is retried up to its queue's max receives, then
moved to that queue's DLQ untouched; the recordings travelling with them are not affected, and the
reconciler reports exactly these dead letters (with the call ids they name). The transcriber is a
stand-in (see ``harness``): this is about delivery."""

from __future__ import annotations

import json
import uuid

import pytest
from callsight.models.call import CallStatus, QuarantineReason
from callsight.models.messages import AnalyzeRequest, TranscribeRequest
from callsight.resources import ANALYZE_QUEUE, INGEST_QUEUE, TRANSCRIBE_QUEUE

from tests.conftest import load_event
from tests.faults.harness import (
    PIPELINE,
    drain,
    pipeline,
    reconcile_drained,
    upload,
    use_fake_transcriber,
)
from tests.integration.conftest import Stack

CALLS = 2


def _poison(env: Stack) -> dict[str, list[str]]:
    """The poison bodies sent to each queue, by logical queue name."""
    nobody = str(uuid.uuid4())
    never_uploaded = load_event("ingest/s3_object_created_via_sqs.json")["Records"][0]["body"]
    ghost = json.loads(never_uploaded)
    ghost["Records"][0]["s3"]["bucket"]["name"] = env.bucket
    ghost["Records"][0]["s3"]["object"]["key"] = "recordings/never-uploaded.wav"
    bodies = {
        INGEST_QUEUE.logical: [
            "this is not JSON {",
            json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {}}}]}),
        ],
        TRANSCRIBE_QUEUE.logical: [
            "ÿþ binary-looking junk",
            json.dumps({"schema_version": 2, "call_id": nobody, "bucket": env.bucket}),
            TranscribeRequest(call_id=nobody, bucket=env.bucket, key="recordings/x.wav").model_dump_json(),
        ],
        ANALYZE_QUEUE.logical: [
            "[1, 2, 3",
            json.dumps(["not", "an", "object"]),
            AnalyzeRequest(
                call_id=nobody, transcript_bucket="b", transcript_key="k", language="en"
            ).model_dump_json(),
        ],
    }
    for logical, messages in bodies.items():
        url = env.sqs.get_queue_url(QueueName=env.settings.name(logical))["QueueUrl"]
        for body in messages:
            env.sqs.send_message(QueueUrl=url, MessageBody=body)
    # Not poison: an S3 event for an object that never existed is a QUARANTINED call with the reason.
    url = env.sqs.get_queue_url(QueueName=INGEST_QUEUE.physical(env.settings))["QueueUrl"]
    env.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(ghost))
    return bodies


def test_poison_goes_to_the_dlqs_and_nothing_else_is_affected(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_transcriber(monkeypatch)
    upload(env, CALLS)
    poison = _poison(env)
    # visibility 0: each failed receive comes straight back, so the DLQs fill within seconds
    drain(lambda: pipeline(env, 0, PIPELINE), max_seconds=120)

    report = reconcile_drained(env)
    assert report.objects == CALLS and report.lost == [] and report.duplicates == [] and report.orphans == []
    assert report.explained_missing_sources == {"gone before ingest": 1}
    assert report.in_progress == []
    assert sorted(report.by_status.items()) == [("ANALYZED", CALLS), ("QUARANTINED", 1)]
    assert len(report.dead_letters) == sum(len(b) for b in poison.values()) and report.dead_letters_complete
    assert report.problems == len(report.dead_letters)
    named = [letter for letter in report.dead_letters if letter.call_ids]
    assert {letter.queue for letter in named} == {"transcribe-dlq", "analyze-dlq"}
    assert all(letter.receive_count and letter.summary for letter in report.dead_letters)

    calls = env.all_calls()
    ghost = next(c for c in calls if c.source.key == "recordings/never-uploaded.wav")
    assert (ghost.status, ghost.status_reason) == (
        CallStatus.QUARANTINED,
        QuarantineReason.OBJECT_DELETED.value,
    )
    for call in calls:
        if call is not ghost:
            assert [h.status for h in call.status_history][-1] is CallStatus.ANALYZED
            assert CallStatus.FAILED not in [h.status for h in call.status_history]
    # The reconciler only peeked: every poison message is still in its DLQ, body unchanged.
    for logical, bodies in poison.items():
        dead = [m["body"] for m in env.drain_queue(f"{logical}-dlq")]
        assert sorted(dead) == sorted(bodies), logical
