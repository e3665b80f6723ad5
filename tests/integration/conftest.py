"""Integration fixtures: the real ingest handler, S3 helpers and the local runner on the emulator.

``CALLSIGHT_TEST_BACKEND=localstack`` runs the same tests against the LocalStack at
``CALLSIGHT_AWS_ENDPOINT`` (DynamoDB at ``CALLSIGHT_DYNAMODB_ENDPOINT``): ``make test-localstack``.
That emulator is shared by the xdist workers and cannot be reset as a whole, so each worker owns a
resource prefix and ``stack`` empties that prefix before each test instead.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from callsight.config import Settings
from callsight.local.bootstrap import fresh_settings
from callsight.local.runner import LambdaContext, LocalRunner, load_handler
from callsight.resources import INGEST_QUEUE, QUEUES, RECORDINGS_BUCKET, TRANSCRIBE_QUEUE
from callsight.storage import aws
from callsight.storage.call_repository import CallRepository
from callsight.storage.provisioning import forget_prefix, provision
from pynamodb.connection.base import Connection

from tests.conftest import load_event

BACKEND = os.environ.get("CALLSIGHT_TEST_BACKEND", "embedded")
if BACKEND not in ("embedded", "localstack"):
    raise pytest.UsageError(f"CALLSIGHT_TEST_BACKEND={BACKEND!r}: expected 'embedded' or 'localstack'")
if BACKEND == "localstack" and not os.environ.get("CALLSIGHT_AWS_ENDPOINT"):
    raise pytest.UsageError(
        "CALLSIGHT_TEST_BACKEND=localstack needs CALLSIGHT_AWS_ENDPOINT (LocalStack's URL)"
    )


class Stack:
    """The provisioned stack plus the handful of operations the tests need."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket = RECORDINGS_BUCKET.physical(settings)
        self.s3: Any = aws.client("s3", settings)
        self.sqs: Any = aws.client("sqs", settings)
        self.calls = CallRepository(settings)
        self.handler = load_handler("ingest")
        assert self.handler is not None

    def put(self, name: str, body: bytes, **extra: Any) -> dict[str, Any]:
        key = self.settings.recordings_prefix + name
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **extra)
        return {
            "key": key,
            "etag": response["ETag"].strip('"'),
            "version_id": response.get("VersionId"),
            "size": len(body),
        }

    def event_for(self, *objects: dict[str, Any]) -> dict[str, Any]:
        """The sample SQS event of ``events/``, one record per object, naming these objects."""
        template = load_event("ingest/s3_object_created_via_sqs.json")["Records"][0]
        records = []
        for obj in objects:
            record = copy.deepcopy(template)
            body = json.loads(record["body"])
            s3 = body["Records"][0]["s3"]
            s3["bucket"]["name"] = self.bucket
            s3["bucket"]["arn"] = f"arn:aws:s3:::{self.bucket}"
            s3["object"].update(
                key=quote_plus(obj["key"], safe="/"),
                eTag=obj["etag"],
                size=obj["size"],
                versionId=obj["version_id"],
            )
            record["body"] = json.dumps(body)
            record["messageId"] = str(uuid.uuid4())
            records.append(record)
        return {"Records": records}

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.handler is not None
        result: dict[str, Any] = self.handler(event, LambdaContext(function_name="ingest", timeout_s=180))
        return result

    def ingest(self, name: str, body: bytes, **extra: Any) -> Any:
        """Upload ``name`` and deliver its event to the handler directly; returns the call record."""
        obj = self.put(name, body, **extra)
        self.clear_ingest_queue()
        assert self.invoke(self.event_for(obj)) == {"batchItemFailures": []}
        [call] = [c for c in self.all_calls() if c.source.key == obj["key"]]
        return call

    def runner(self, visibility_timeout_s: int = 1, stages: tuple[str, ...] = ("ingest",)) -> LocalRunner:
        """A runner routing ``stages`` only (ingest tests stop at the transcribe queue)."""
        queues = tuple(spec for spec in QUEUES if spec.logical in stages)
        return LocalRunner(self.settings, visibility_timeout_s=visibility_timeout_s, queues=queues)

    def drain_queue(self, logical: str) -> list[dict[str, Any]]:
        """Receive and delete every message waiting in a stage queue (or its DLQ: ``<name>-dlq``)."""
        url = self.sqs.get_queue_url(QueueName=self.settings.name(logical))["QueueUrl"]
        bodies: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not batch:
                return bodies
            for message in batch:
                bodies.append({"body": message["Body"]})
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def transcribe_requests(self) -> list[dict[str, Any]]:
        return [json.loads(m["body"]) for m in self.drain_queue(TRANSCRIBE_QUEUE.logical)]

    def clear_ingest_queue(self) -> None:
        """Drop the notifications S3 sent for uploads, when a test delivers events by hand."""
        self.drain_queue(INGEST_QUEUE.logical)

    def all_calls(self) -> list[Any]:
        return list(self.calls.recent(1000))

    def transcribed(self, call_id: str, transcript: Any, versions: int = 1) -> tuple[str, str | None]:
        """Store ``transcript`` (``versions`` times, as re-transcriptions leave) and move the RECEIVED
        call to TRANSCRIBED with its facts, as the transcribe stage does; returns (key, version)."""
        from datetime import UTC, datetime

        from callsight.models.call import CallStatus
        from callsight.models.transcript import LanguageSource, TranscriptionFacts
        from callsight.storage.transcripts import TranscriptStore

        store = TranscriptStore(self.settings)
        key, version = store.put(transcript)
        for _ in range(versions - 1):
            store.put(transcript)
        facts = TranscriptionFacts(
            transcript_bucket=store.bucket, transcript_key=key, transcript_version_id=version,
            language=transcript.language.code, language_source=LanguageSource.CALL_HINT, model_id="fixture@0",
            device="cpu", compute_type="int8", real_time_factor=0.1, processing_s=1.0,
            word_count=len(transcript.words), speaker_attribution=transcript.speaker_attribution,
            transcribed_at=datetime.now(UTC),
        )  # fmt: skip
        self.calls.transition(call_id, CallStatus.TRANSCRIBING)
        self.calls.transition(call_id, CallStatus.TRANSCRIBED, transcription=facts)
        return key, version


@pytest.fixture
def env(stack: Settings) -> Stack:
    return Stack(stack)


class DynamoDBRequests(Counter[str]):
    """DynamoDB requests counted at PynamoDB's connection (where the benchmark counts them too),
    keyed ``"<table> <Operation>"`` with the deployment prefix left out of the table name."""

    def of(self, operation: str) -> int:
        """Requests of one operation, on every table."""
        return sum(n for key, n in self.items() if key.endswith(f" {operation}"))


@pytest.fixture
def requests(env: Stack, monkeypatch: pytest.MonkeyPatch) -> DynamoDBRequests:
    counted = DynamoDBRequests()
    original = Connection._make_api_call

    def counting(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        # A batch request names its tables in RequestItems, not TableName.
        names = (
            [operation_kwargs["TableName"]]
            if "TableName" in operation_kwargs
            else list(operation_kwargs.get("RequestItems", {}))
        )
        for name in names or [""]:
            counted[f"{str(name).removeprefix(env.settings.prefix + '-')} {operation_name}"] += 1
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)
    return counted


if BACKEND == "localstack":

    @pytest.fixture(scope="session", autouse=True)
    def worker_prefix() -> Iterator[str]:
        """This worker's resource prefix on the shared LocalStack (set before any handler loads)."""
        prefix = f"cstest-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CALLSIGHT_PREFIX", prefix)
            yield prefix

    @pytest.fixture
    def stack(emulator_endpoint: str, worker_prefix: str) -> Settings:
        """Overrides ``tests/conftest.py``'s: this worker's prefix emptied, then provisioned afresh."""
        settings = fresh_settings()
        forget_prefix(settings)
        provision(settings)
        return settings
