"""(b) Every message delivered twice: S3's notifications to ingest, ingest's to transcribe, transcribe's
to analyze (SQS standard queues are at-least-once). One call per recording, transcribed and analysed
once, announced once — with one poller, and with two pollers that take copies of a message at the
same time. The transcriber is a stand-in (see ``harness``): this is about delivery."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from callsight.models.call import CallStatus
from callsight.resources import INGEST_QUEUE
from callsight.storage.queues import StageQueue

from tests.faults.harness import (
    PIPELINE,
    EventTap,
    FakeTranscriber,
    assert_exactly_one_call_each,
    drain,
    pipeline,
    reconcile_drained,
    upload,
    use_fake_transcriber,
)
from tests.integration.conftest import Stack

CALLS = 4


@pytest.fixture
def twice(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every stage message (ingest → transcribe, transcribe → analyze) is sent twice."""
    sent: list[str] = []
    original = StageQueue.send

    def send_twice(queue: StageQueue, message: Any, *, correlation_id: str | None = None) -> str:
        sent.append(type(message).__name__)
        original(queue, message, correlation_id=correlation_id)
        return original(queue, message, correlation_id=correlation_id)

    monkeypatch.setattr(StageQueue, "send", send_twice)
    yield sent


def duplicate_s3_notifications(env: Stack) -> int:
    """Replace each S3 notification on the ingest queue by two copies of it; returns how many."""
    bodies = [m["body"] for m in env.drain_queue(INGEST_QUEUE.logical)]
    url = env.sqs.get_queue_url(QueueName=INGEST_QUEUE.physical(env.settings))["QueueUrl"]
    for body in bodies + bodies:
        env.sqs.send_message(QueueUrl=url, MessageBody=body)
    return len(bodies)


def check(env: Stack, fake: FakeTranscriber, tap: EventTap) -> None:
    assert_exactly_one_call_each(reconcile_drained(env), CALLS)
    calls = env.all_calls()
    assert {c.status for c in calls} == {CallStatus.ANALYZED}
    for call in calls:
        history = [h.status for h in call.status_history]
        assert history == [
            CallStatus.RECEIVED, CallStatus.TRANSCRIBING, CallStatus.TRANSCRIBED, CallStatus.ANALYZED
        ], history  # fmt: skip
    assert sorted(fake.calls) == sorted(c.call_id for c in calls), "each call transcribed exactly once"
    assert tap.announced() == {c.call_id: 1 for c in calls}


def test_every_message_twice_one_poller(
    env: Stack, monkeypatch: pytest.MonkeyPatch, twice: list[str]
) -> None:
    tap = EventTap(env)
    fake = use_fake_transcriber(monkeypatch)
    upload(env, CALLS)
    assert duplicate_s3_notifications(env) == CALLS + 1  # and the s3:TestEvent
    drain(lambda: pipeline(env, 1), max_seconds=90)
    assert twice.count("TranscribeRequest") == CALLS and twice.count("AnalyzeRequest") == CALLS
    check(env, fake, tap)


def test_every_message_twice_two_pollers_at_once(
    env: Stack, monkeypatch: pytest.MonkeyPatch, twice: list[str]
) -> None:
    """Two pollers (as Lambda runs several concurrent executions of a function) take the two copies
    of a message at the same time; the model is slow enough for their attempts to overlap."""
    tap = EventTap(env)
    fake = use_fake_transcriber(monkeypatch, FakeTranscriber(before=lambda _: time.sleep(0.4)))
    upload(env, CALLS)
    duplicate_s3_notifications(env)
    errors: list[BaseException] = []
    env.runner(stages=PIPELINE)  # cold start: load the functions once, before the pollers share them

    def poller() -> None:
        try:
            drain(lambda: pipeline(env, 2), max_seconds=120)
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    drain(lambda: pipeline(env, 2), max_seconds=60)
    check(env, fake, tap)
