"""What ingest did with one S3 object: the answer logged, counted and returned per record."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, computed_field, field_serializer

from callsight.logs import redact_numbers
from callsight.storage.artefacts import key_digest


class OutcomeKind(StrEnum):
    RECEIVED = "received"  # new call, queued for transcription
    QUARANTINED = "quarantined"  # kept aside with a reason
    DUPLICATE = "duplicate"  # record already existed; nothing written twice
    TEST_EVENT = "test_event"  # s3:TestEvent, nothing to do
    IGNORED = "ignored"  # not an ObjectCreated event or outside the recordings prefix
    SIDECAR_WAITING = "sidecar_waiting"  # sidecar stored; its recording has not arrived yet
    SIDECAR_APPLIED = "sidecar_applied"  # late sidecar merged into an existing call
    FENCED = "fenced"  # object of an erased subject: deleted, not recorded (audited)
    OPTED_OUT = "opted_out"  # number on the stop list: not transcribed; deleted or kept per policy (audited)


class IngestOutcome(BaseModel):
    kind: OutcomeKind
    key: str | None = None
    call_id: str | None = None
    reason: str | None = None
    detail: str | None = None
    #: A received call: whether it had a caller number (checked against the stop list) or none
    #: (nothing to check; counted as ``Ingest_no_caller_number``).
    caller_number: bool | None = None

    # Outcomes are returned to the batch processor and stored in idempotency records: the key is
    # written with its numbers masked, plus a digest that finds the record again (erasure purge).
    @field_serializer("key", "detail")
    def _masked(self, value: str | None) -> str | None:
        return redact_numbers(value) if value else value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key_digest(self) -> str | None:
        return key_digest(self.key) if self.key else None
