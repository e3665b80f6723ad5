"""(e) A burst of 500 uploads at once (a PBX flushing its backlog): small generated WAVs, some with a
sidecar, some not audio at all. Ingest only — the transcribe queue is where the burst waits. Every
recording becomes exactly one call (RECEIVED or QUARANTINED with its reason), every RECEIVED call
has exactly one transcribe message waiting, and the reconciler explains each RECEIVED call by that
queue."""

from __future__ import annotations

import json

from callsight.models.call import CallStatus, QuarantineReason
from callsight.models.messages import TranscribeRequest
from callsight.reconcile.service import run_reconcile
from callsight.resources import INGEST_QUEUE, TRANSCRIBE_QUEUE

from tests.audio_factory import pcm_wav
from tests.faults.harness import drain, pipeline, recording_name
from tests.integration.conftest import Stack

BURST = 500
NOT_AUDIO = 10
WITH_SIDECAR = 25


def test_a_burst_of_500_uploads_makes_500_calls(env: Stack) -> None:
    wav = pcm_wav(seconds=0.6)
    for i in range(BURST):
        name = recording_name(i)
        if i < WITH_SIDECAR:  # a sidecar first, as PBXs that write one do
            env.put(name + ".json", json.dumps({"agent_id": f"9{i:03d}", "team": "burst"}).encode())
        env.put(name, b"<html>gateway timeout</html>" * 40 if i >= BURST - NOT_AUDIO else wav)
    drain(lambda: pipeline(env, 5, (INGEST_QUEUE.logical,)), max_seconds=240)

    report = run_reconcile(env.settings)  # the queues' own thresholds: RECEIVED calls are on their way
    assert report.objects == BURST and report.calls == BURST
    assert (
        report.lost == []
        and report.awaiting_ingest == []
        and report.duplicates == []
        and report.orphans == []
    )
    assert report.by_status == {"QUARANTINED": NOT_AUDIO, "RECEIVED": BURST - NOT_AUDIO}
    assert report.problems == 0 and report.dead_letters == []
    waiting = {q.queue: q for q in report.queues}[TRANSCRIBE_QUEUE.logical]
    assert (waiting.visible, waiting.in_flight) == (BURST - NOT_AUDIO, 0)
    assert len(report.in_progress) == BURST - NOT_AUDIO
    assert all(
        e.reason.startswith("waiting for transcription; transcribe queue: 490 waiting")
        for e in report.in_progress
    )

    calls = env.all_calls()  # the 1,000 most recent: all of them
    assert len(calls) == BURST
    quarantined = [c for c in calls if c.status is CallStatus.QUARANTINED]
    assert {c.status_reason for c in quarantined} == {QuarantineReason.NOT_AUDIO.value}
    assert (
        sum(c.team == "burst" and c.metadata_sources.get("team") == "sidecar" for c in calls) == WITH_SIDECAR
    )
    requests = [TranscribeRequest.model_validate_json(body) for body in _waiting_messages(env)]
    assert sorted(r.call_id for r in requests) == sorted(
        c.call_id for c in calls if c.status is CallStatus.RECEIVED
    )


def _waiting_messages(env: Stack) -> list[str]:
    """Every body on the transcribe queue (received ten at a time and left invisible, not deleted)."""
    url = env.sqs.get_queue_url(QueueName=TRANSCRIBE_QUEUE.physical(env.settings))["QueueUrl"]
    bodies: list[str] = []
    while batch := env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
        "Messages", []
    ):
        bodies.extend(m["Body"] for m in batch)
    return bodies
