"""What ingest did with one S3 object: the answer logged, counted and returned per record."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class OutcomeKind(StrEnum):
    RECEIVED = "received"  # new call, queued for transcription
    QUARANTINED = "quarantined"  # kept aside with a reason
    DUPLICATE = "duplicate"  # record already existed; nothing written twice
    TEST_EVENT = "test_event"  # s3:TestEvent, nothing to do
    IGNORED = "ignored"  # not an ObjectCreated event or outside the recordings prefix
    SIDECAR_WAITING = "sidecar_waiting"  # sidecar stored; its recording has not arrived yet
    SIDECAR_APPLIED = "sidecar_applied"  # late sidecar merged into an existing call


class IngestOutcome(BaseModel):
    kind: OutcomeKind
    key: str | None = None
    call_id: str | None = None
    reason: str | None = None
    detail: str | None = None
