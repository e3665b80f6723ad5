"""The real ingest handler on the emulator: S3 notifications, samples, the runner, partial batches."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from callsight.models.call import CallStatus, Direction

from tests.audio_factory import pcm_wav
from tests.conftest import SAMPLES, load_event
from tests.integration.conftest import Stack

MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())


def test_s3_notifications_reach_the_ingest_queue_and_every_sample_is_received(env: Stack) -> None:
    # Given every bundled sample (sidecars first, as the CLI uploads them) put into the bucket
    files = sorted((SAMPLES / "recordings").iterdir(), key=lambda p: (p.suffix != ".json", p.name))
    for path in files:
        env.put(path.name, path.read_bytes())
    # When the runner routes the emulator's own S3 → SQS notifications to the ingest handler
    runner = env.runner()
    assert runner.drain(max_seconds=60)
    # Then every recording is RECEIVED with the audio facts of the manifest, once
    calls = {Path(c.source.key).name: c for c in env.all_calls()}
    assert len(calls) == len(MANIFEST)
    for entry in MANIFEST:
        call = calls[Path(entry["file"]).name]
        assert call.status is CallStatus.RECEIVED, call.status_detail
        assert call.audio is not None
        assert (call.audio.codec, call.audio.sample_rate, call.audio.channels) == (
            entry["codec"], entry["sample_rate"], entry["channels"],
        )  # fmt: skip
        assert call.audio.duration_s == pytest.approx(entry["duration_s"], abs=0.05)
        assert call.direction is Direction(entry["direction"])
        assert call.source.sha256 and len(call.source.sha256) == 64
        assert call.customer_phone_masked and "*" in call.customer_phone_masked
    requests = env.transcribe_requests()
    assert sorted(r["call_id"] for r in requests) == sorted(c.call_id for c in calls.values())
    # The sidecar's event may be retried once (its recording not yet ingested); nothing is dead-lettered.
    assert runner.stats["ingest"].handler_errors == 0
    assert env.drain_queue("ingest-dlq") == []


def test_sidecar_metadata_wins_and_is_attributed(env: Stack) -> None:
    [entry] = [e for e in MANIFEST if e["sidecar"]]
    audio = SAMPLES / entry["file"]
    sidecar = SAMPLES / entry["sidecar"]
    env.put(sidecar.name, sidecar.read_bytes())
    env.put(audio.name, audio.read_bytes())
    assert env.runner().drain(max_seconds=30)
    [call] = env.all_calls()
    document = json.loads(sidecar.read_text())
    assert call.agent_id == document["agent_id"] and call.team == document["team"]
    assert call.metadata_sources["agent_id"] == "sidecar"
    assert call.metadata_sources["queue"] == "sidecar"
    assert call.language_hint == "ru"
    assert call.customer_phone_masked == "+7903*****67"
    # The raw number is stored nowhere but in the PBX's own object key (which names the object).
    assert "+79031234567" not in call.model_dump_json(exclude={"source"})


def test_partial_batch_failure_reports_only_the_poison_message(env: Stack) -> None:
    good = env.put("out-1-201-20261120-101500-1.1.wav", pcm_wav())
    env.clear_ingest_queue()
    event = env.event_for(good)
    poison = load_event("ingest/poison_message_via_sqs.json")["Records"][0]
    event["Records"].insert(0, poison)
    result = env.invoke(event)
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    [call] = env.all_calls()
    assert call.status is CallStatus.RECEIVED


def test_poison_message_ends_in_the_dlq_after_its_retries(env: Stack) -> None:
    url = env.sqs.get_queue_url(QueueName=env.settings.name("ingest"))["QueueUrl"]
    env.clear_ingest_queue()
    env.sqs.send_message(QueueUrl=url, MessageBody="this is not an S3 event")
    runner = env.runner(visibility_timeout_s=0)
    assert runner.drain(max_seconds=30)
    dead = env.drain_queue("ingest-dlq")
    assert [m["body"] for m in dead] == ["this is not an S3 event"]
    assert runner.stats["ingest"].failed >= 1
    assert env.all_calls() == []


def test_s3_test_event_is_acknowledged_and_changes_nothing(env: Stack) -> None:
    result = env.invoke(load_event("ingest/s3_test_event_via_sqs.json"))
    assert result == {"batchItemFailures": []}
    assert env.all_calls() == []


def test_logs_carry_the_call_id(env: Stack) -> None:
    # Powertools' handler writes to the stdout it saw at import; point it at a buffer for this test.
    handler = sys.modules["callsight_function_ingest"].logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        obj = env.put("out-1-201-20261120-101500-1.1.wav", pcm_wav())
        env.invoke(env.event_for(obj))
    finally:
        handler.setStream(previous)
    [call] = env.all_calls()
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    received = [line for line in lines if line["message"] == "recording received"]
    assert received and received[0]["call_id"] == call.call_id
    assert received[0]["service"] == "ingest"
    assert received[0]["function_request_id"]
