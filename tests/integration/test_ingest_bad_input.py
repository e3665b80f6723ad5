"""Every bad input named by the foundation issue, through the real ingest handler on the emulator.

Each ends as a QUARANTINED record with a reason, or a clearly logged outcome; the batch survives.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import pytest
from callsight.models.call import CallStatus, QuarantineReason
from callsight.stages.ingest.service import IngestService

from tests.audio_factory import pcm_wav, reencode
from tests.conftest import load_event
from tests.integration.conftest import Stack

NAME = "in-202-+14155550123-20261120-113000-1795174200.15.wav"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>this is an error page, not a recording</html>" * 20, QuarantineReason.NOT_AUDIO),
        (b"", QuarantineReason.EMPTY_OBJECT),
        (pcm_wav(seconds=3)[:30000], QuarantineReason.TRUNCATED),
        (reencode(pcm_wav(seconds=2), "adpcm_ima_wav"), QuarantineReason.UNSUPPORTED_CODEC),
    ],
    ids=["not-audio", "zero-bytes", "truncated", "unsupported-codec"],
)
def test_bad_recordings_are_quarantined_with_a_reason(
    env: Stack, body: bytes, reason: QuarantineReason
) -> None:
    call = env.ingest(NAME, body)
    assert call.status is CallStatus.QUARANTINED
    assert call.status_reason == reason.value
    assert call.status_detail
    assert call.status_history[-1].reason == reason.value
    # metadata is still recorded, and the object is kept
    assert call.agent_id == "202"
    assert env.s3.head_object(Bucket=env.bucket, Key=call.source.key)
    assert env.transcribe_requests() == []


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ({"max_object_bytes": 1000}, QuarantineReason.TOO_LARGE),
        ({"max_duration_s": 1.0}, QuarantineReason.TOO_LONG),
    ],
)
def test_limits(
    env: Stack, monkeypatch: pytest.MonkeyPatch, limits: dict[str, Any], reason: QuarantineReason
) -> None:
    # The handler module's service, rebuilt with lower limits (the handler code itself is unchanged)
    monkeypatch.setattr(
        sys.modules["callsight_function_ingest"],
        "service",
        IngestService(env.settings.model_copy(update=limits)),
    )
    call = env.ingest(NAME, pcm_wav(seconds=2))
    assert (call.status, call.status_reason) == (CallStatus.QUARANTINED, reason.value)
    assert str(next(iter(limits.values()))).split(".")[0] in call.status_detail


def test_malformed_sidecar_quarantines_and_a_corrected_one_releases(env: Stack) -> None:
    env.put(NAME + ".json", b'{"agent_id": "301", "started_at": ')
    call = env.ingest(NAME, pcm_wav())
    assert (call.status, call.status_reason) == (
        CallStatus.QUARANTINED,
        QuarantineReason.SIDECAR_INVALID.value,
    )
    assert "is not valid JSON" in (call.status_detail or "")
    # When the PBX uploads a corrected sidecar, its event ingests the recording again
    fixed = env.put(NAME + ".json", json.dumps({"agent_id": "301", "team": "support"}).encode())
    env.clear_ingest_queue()
    assert env.invoke(env.event_for(fixed)) == {"batchItemFailures": []}
    [again] = env.all_calls()
    assert (again.call_id, again.status, again.agent_id) == (call.call_id, CallStatus.RECEIVED, "301")
    assert [h.status for h in again.status_history] == [CallStatus.QUARANTINED, CallStatus.RECEIVED]
    assert len(env.transcribe_requests()) == 1


def test_sidecar_without_its_audio_waits_and_audio_arriving_later_uses_it(env: Stack) -> None:
    sidecar = env.put(
        "call-42.json", json.dumps({"agent_id": "77", "started_at": "2026-11-20T09:00:00Z"}).encode()
    )
    env.clear_ingest_queue()
    assert env.invoke(env.event_for(sidecar)) == {"batchItemFailures": []}
    assert env.all_calls() == []
    call = env.ingest("call-42.wav", pcm_wav())
    assert (call.status, call.agent_id) == (CallStatus.RECEIVED, "77")
    assert call.metadata_sources["started_at"] == "sidecar"
    # the name matches no pattern: said plainly, not silently replaced by "now"
    assert any("does not match the filename pattern" in w for w in call.metadata_warnings)


def test_sidecar_arriving_after_its_audio_updates_the_call(env: Stack) -> None:
    call = env.ingest(NAME, pcm_wav())
    assert call.agent_id == "202" and call.metadata_sources["agent_id"] == "filename"
    sidecar = env.put(NAME + ".json", json.dumps({"agent_id": "555", "team": "vip"}).encode())
    env.clear_ingest_queue()
    assert env.invoke(env.event_for(sidecar)) == {"batchItemFailures": []}
    [updated] = env.all_calls()
    assert (updated.agent_id, updated.team, updated.status) == ("555", "vip", CallStatus.RECEIVED)
    assert updated.metadata_sources["agent_id"] == "sidecar"
    assert updated.updated_at > call.updated_at


def test_sidecar_racing_its_audio_is_retried_not_lost(env: Stack) -> None:
    audio = env.put(NAME, pcm_wav())
    sidecar = env.put(NAME + ".json", json.dumps({"agent_id": "999"}).encode())
    env.clear_ingest_queue()
    # The sidecar's event is processed before the recording's: it asks to be retried
    sidecar_event = env.event_for(sidecar)
    result = env.invoke(sidecar_event)
    assert result == {"batchItemFailures": [{"itemIdentifier": sidecar_event["Records"][0]["messageId"]}]}
    env.invoke(env.event_for(audio))
    env.invoke(sidecar_event)
    [call] = env.all_calls()
    assert call.agent_id == "999"


def test_url_encoded_keys_with_spaces_plus_and_cyrillic(env: Stack) -> None:
    name = "звонок клиента +7 916.wav"
    obj = env.put(name, pcm_wav())
    env.clear_ingest_queue()
    event = load_event("ingest/s3_object_created_encoded_key_via_sqs.json")
    body = json.loads(event["Records"][0]["body"])
    assert body["Records"][0]["s3"]["object"]["key"] != obj["key"]  # the sample is URL-encoded
    body["Records"][0]["s3"]["object"].update(eTag=obj["etag"], size=obj["size"], versionId=obj["version_id"])
    body["Records"][0]["s3"]["bucket"]["name"] = env.bucket
    event["Records"][0]["body"] = json.dumps(body)
    assert env.invoke(event) == {"batchItemFailures": []}
    [call] = env.all_calls()
    assert call.source.key == "recordings/звонок клиента +7 916.wav"
    assert call.status is CallStatus.RECEIVED


def test_the_same_event_twice_makes_one_record_and_one_message(env: Stack) -> None:
    obj = env.put(NAME, pcm_wav())
    env.clear_ingest_queue()
    event = env.event_for(obj)
    env.invoke(event)
    env.invoke(event)
    env.invoke(env.event_for(obj))  # a fresh delivery (new message id) of the same object
    assert len(env.all_calls()) == 1
    assert len(env.transcribe_requests()) == 1


def test_the_same_event_concurrently_makes_one_record(env: Stack) -> None:
    obj = env.put(NAME, pcm_wav())
    env.clear_ingest_queue()
    results: list[dict[str, Any]] = []
    deliveries = [env.event_for(obj) for _ in range(4)]
    threads = [threading.Thread(target=lambda e=e: results.append(env.invoke(e))) for e in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Deliveries that found another one in progress ask to be retried; retrying them changes nothing
    retried = [d for d, r in zip(deliveries, results, strict=True) if r["batchItemFailures"]]
    for delivery in retried:
        assert env.invoke(delivery) == {"batchItemFailures": []}
    assert len(env.all_calls()) == 1
    assert len(env.transcribe_requests()) == 1


def test_object_deleted_before_ingest_reads_it_leaves_a_trace(env: Stack) -> None:
    obj = env.put(NAME, pcm_wav())
    env.clear_ingest_queue()
    env.s3.delete_object(Bucket=env.bucket, Key=obj["key"], VersionId=obj["version_id"])
    assert env.invoke(env.event_for(obj)) == {"batchItemFailures": []}
    [call] = env.all_calls()
    assert (call.status, call.status_reason) == (
        CallStatus.QUARANTINED,
        QuarantineReason.OBJECT_DELETED.value,
    )
    assert call.agent_id is None and call.source.etag == obj["etag"]


def test_non_recording_events_and_keys_outside_the_prefix_are_ignored(env: Stack) -> None:
    event = load_event("ingest/s3_object_created_via_sqs.json")
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    event["Records"][0]["body"] = json.dumps(body)
    assert env.invoke(event) == {"batchItemFailures": []}
    body["Records"][0]["eventName"] = "ObjectCreated:Put"
    body["Records"][0]["s3"]["object"]["key"] = "elsewhere/x.wav"
    event["Records"][0]["body"] = json.dumps(body)
    assert env.invoke(event) == {"batchItemFailures": []}
    assert env.all_calls() == []
