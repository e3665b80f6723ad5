"""Fault-injection tools: a stand-in transcriber, process death, transport faults, and the checks.

The transcriber is replaced in this suite because it is about **delivery**, not recognition: the
real Whisper model would spend seconds per call on decoding we do not look at here (the model
itself is covered by ``tests/integration/test_transcribe_pipeline.py`` and ``tests/asr``). Ingest
(real decoding of real WAVs), analysis, every AWS call, every queue and every handler are the real
ones.

Transport faults are injected below botocore, at ``URLLib3Session.send``, which every client of
the process goes through (boto3's, PynamoDB's, Powertools'): botocore's own retry logic sees them
exactly as it would see a refused connection, a dropped response or a throttled write.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.httpsession import URLLib3Session
from callsight.local.runner import LocalRunner, load_function_module
from callsight.models.call import CallStatus
from callsight.models.transcript import Transcript
from callsight.reconcile.logic import uniform_thresholds
from callsight.reconcile.models import ReconcileReport
from callsight.reconcile.service import run_reconcile
from callsight.resources import EVENT_BUS, EVENT_SOURCE, QUEUES
from callsight.storage import aws

from tests.analysis_fixtures import build_transcript
from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack

PIPELINE = ("ingest", "transcribe", "analyze")

#: What the stand-in transcriber "hears" in every call (English, stereo: agent left, customer right).
DIALOGUE = [
    {"speaker": "agent", "start": 0.0, "end": 2.5, "text": "Hello, thank you for calling, my name is Anna."},
    {
        "speaker": "customer",
        "start": 3.0,
        "end": 6.0,
        "text": "Hi, my order is late and I want to cancel it.",
    },
    {"speaker": "agent", "start": 6.5, "end": 9.0, "text": "I am sorry, I will cancel it now. Goodbye."},
]


class WorkerKilled(BaseException):
    """The process running the handler dies at this point: nothing after it runs — no SQS delete, no
    ``release_after_error``, no Powertools clean-up. A ``BaseException`` so that no ``except
    Exception`` in the handler or the runner can catch it, exactly like a SIGKILL."""


def function_module(name: str) -> ModuleType:
    module = load_function_module(name)
    assert module is not None, f"functions/{name}/app.py"
    return module


class FakeTranscriber:
    """Stands in for Whisper (see the module notes). ``before(call_id)`` runs first on every call:
    a test makes it raise to kill or fail an attempt while the model "runs"."""

    def __init__(self, before: Callable[[str], None] | None = None) -> None:
        self.before = before
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def transcribe_file(
        self, path: Path, options: Any, *, call_id: str | None = None, **_: Any
    ) -> Transcript:
        assert call_id is not None and path.stat().st_size > 0, "the recording was downloaded"
        with self._lock:
            self.calls.append(call_id)
        if self.before is not None:
            self.before(call_id)
        return build_transcript(DIALOGUE, "en", 2, call_id=call_id)


def use_fake_transcriber(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTranscriber | None = None
) -> FakeTranscriber:
    fake = fake or FakeTranscriber()
    monkeypatch.setattr(function_module("transcribe").service, "_transcriber", lambda: fake)
    return fake


# --- uploads and draining ----------------------------------------------------------------------------


def recording_name(i: int) -> str:
    """A FreePBX MixMonitor name (metadata from the file name), unique per ``i``."""
    return f"in-2{i % 100:02d}-+1415555{i:04d}-20261120-1130{i % 60:02d}-1795174200.{i}.wav"


def upload(env: Stack, count: int, *, seconds: float = 1.0, start: int = 0) -> list[dict[str, Any]]:
    body = pcm_wav(seconds=seconds)
    return [env.put(recording_name(i), body) for i in range(start, start + count)]


def pipeline(env: Stack, visibility_s: int = 2, stages: tuple[str, ...] = PIPELINE) -> LocalRunner:
    """A runner over ``stages`` whose functions time out in a third of the visibility timeout (AWS
    wants the visibility timeout well above the function timeout), so that a dead attempt's
    in-progress idempotency record has expired by the time its message comes back."""
    queues = tuple(spec for spec in QUEUES if spec.logical in stages)
    return LocalRunner(
        env.settings, visibility_timeout_s=visibility_s, queues=queues, function_timeout_s=visibility_s / 3
    )


def drain(
    make_runner: Callable[[], LocalRunner],
    *,
    max_seconds: float = 120,
    survive: tuple[type[BaseException], ...] = (),
    pause_s: float = 0.5,
) -> int:
    """Drain with a fresh runner, starting a new one whenever the poller itself dies of ``survive``
    (as Lambda's event source mapping restarts its pollers); returns how many pollers died."""
    deadline = time.monotonic() + max_seconds
    deaths = 0
    while time.monotonic() < deadline:
        try:
            if make_runner().drain(max_seconds=deadline - time.monotonic()):
                return deaths
        except survive:
            deaths += 1
            time.sleep(pause_s)
    raise AssertionError(f"the pipeline did not drain in {max_seconds} s ({deaths} poller deaths)")


# --- transport faults --------------------------------------------------------------------------------

Rule = Callable[[AWSPreparedRequest, Callable[[], AWSResponse]], AWSResponse]


@contextmanager
def transport(monkeypatch: pytest.MonkeyPatch, rule: Rule) -> Iterator[None]:
    """Route every botocore HTTP request of this process through ``rule(request, send)``."""
    original = URLLib3Session.send

    def send(session: URLLib3Session, request: AWSPreparedRequest) -> AWSResponse:
        return rule(request, lambda: original(session, request))

    with monkeypatch.context() as patch:
        patch.setattr(URLLib3Session, "send", send)
        yield


def _header(request: AWSPreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class Outage:
    """The endpoint goes away for ``duration_s``, starting at the ``start_after``-th request.

    ``mode="refused"``: requests never arrive (botocore's ``EndpointConnectionError``, what a
    stopped server gives). ``mode="lost_response"``: requests arrive and are applied, but the
    connection drops before the answer (``ConnectionClosedError``): the nastier case, since a
    retried conditional write then meets its own earlier success.
    """

    start_after: int
    duration_s: float
    mode: str = "refused"
    requests: int = 0
    failed: int = 0
    started: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: AWSPreparedRequest, send: Callable[[], AWSResponse]) -> AWSResponse:
        with self._lock:
            self.requests += 1
            if self.started is None and self.requests > self.start_after:
                self.started = time.monotonic()
            down = self.started is not None and time.monotonic() - self.started < self.duration_s
            self.failed += down
        if not down:
            return send()
        if self.mode == "refused":
            raise EndpointConnectionError(endpoint_url=request.url, error="[Errno 111] Connection refused")
        send()
        raise ConnectionClosedError(endpoint_url=request.url)

    @property
    def over(self) -> bool:
        return self.started is not None and time.monotonic() - self.started >= self.duration_s


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


@dataclass
class Throttle:
    """DynamoDB answers a ``fraction`` of write requests with ``ProvisionedThroughputExceededException``
    (HTTP 400, the body DynamoDB sends); the request is not applied, as with the real thing."""

    fraction: float
    seed: int = 7
    writes: int = 0
    throttled: int = 0
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def __call__(self, request: AWSPreparedRequest, send: Callable[[], AWSResponse]) -> AWSResponse:
        target = _header(request, "X-Amz-Target")
        if not target.startswith("DynamoDB_") or target.split(".")[-1] not in DYNAMODB_WRITES:
            return send()
        with self._lock:
            self.writes += 1
            throttle = self._random.random() < self.fraction
            self.throttled += throttle
        if not throttle:
            return send()
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput for the table was exceeded.",
            }
        ).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault-injection"}
        return AWSResponse(request.url, 400, headers, _Body(body))


# --- what went out ---------------------------------------------------------------------------------


class EventTap:
    """An SQS queue subscribed to the event bus: which calls were announced (``CallAnalyzed``)."""

    def __init__(self, env: Stack) -> None:
        self.env = env
        self.url = env.sqs.create_queue(QueueName=env.settings.name("faults-events-tap"))["QueueUrl"]
        arn = env.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events: Any = aws.client("events", env.settings)
        bus = env.settings.name(EVENT_BUS)
        events.put_rule(
            Name="faults-tap", EventBusName=bus, EventPattern=json.dumps({"source": [EVENT_SOURCE]})
        )
        events.put_targets(Rule="faults-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])

    def announced(self) -> Counter[str]:
        """How often each call id was announced (``CallAnalyzed``), draining the tap."""
        seen: Counter[str] = Counter()
        while True:
            batch = self.env.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return seen
            for message in batch:
                event = json.loads(message["Body"])
                if event.get("detail-type") == "CallAnalyzed":
                    seen[event["detail"]["call_id"]] += 1
                self.env.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


# --- the verdict ---------------------------------------------------------------------------------------


def reconcile_drained(env: Stack) -> ReconcileReport:
    """The reconciler after the pipeline drained: no grace for anything (all thresholds 0)."""
    return run_reconcile(env.settings, thresholds=uniform_thresholds(0))


def assert_exactly_one_call_each(report: ReconcileReport, objects: int, *, dead_letters: int = 0) -> None:
    """Zero lost, zero duplicated, zero orphaned, nothing stuck; ``dead_letters`` DLQ messages."""
    assert report.objects == objects
    assert report.lost == [], [m.object.key for m in report.lost]
    assert report.awaiting_ingest == []
    assert report.duplicates == [], report.duplicates
    assert report.orphans == [], report.orphans
    assert report.calls == objects
    assert [e for e in report.in_progress if e.stuck] == []
    assert len(report.dead_letters) == dead_letters, [d.summary for d in report.dead_letters]


def statuses(env: Stack) -> dict[str, CallStatus]:
    return {c.call_id: c.status for c in env.all_calls()}
