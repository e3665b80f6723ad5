"""Reading ingest queue messages: an SQS body is an S3 notification, an S3 test event, or poison.

Turns a body into the objects to ingest and routes each to the service. Poison (a body that is not
an S3 notification) raises :class:`PoisonMessage`, so the batch reports it failed and SQS moves it
to the dead-letter queue after its retries; nothing is dropped silently.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from callsight.models.call import SourceObject
from callsight.models.s3_events import S3EventNotification, S3TestEvent
from callsight.stages.ingest.metadata import is_sidecar_key
from callsight.stages.ingest.outcome import IngestOutcome, OutcomeKind
from callsight.stages.ingest.service import IngestService


class PoisonMessage(ValueError):
    """A message no retry can fix; it goes to the dead-letter queue with this explanation."""


class ObjectEvent(BaseModel):
    """One S3 ObjectCreated notification reduced to what identifies the object."""

    model_config = ConfigDict(frozen=True)

    event_name: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    event_time: datetime | None = None


def parse_body(body: str) -> list[ObjectEvent] | None:
    """Objects announced by an ingest message; ``None`` for an ``s3:TestEvent``."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise PoisonMessage(f"message body is not JSON: {exc}") from exc
    if isinstance(document, dict) and document.get("Event") == "s3:TestEvent":
        S3TestEvent.model_validate(document)
        return None
    try:
        notification = S3EventNotification.model_validate(document)
    except ValidationError as exc:
        raise PoisonMessage(f"message body is not an S3 event notification: {exc.errors()[:3]}") from exc
    return [
        ObjectEvent(
            event_name=record.event_name,
            bucket=record.s3.bucket.name,
            key=record.s3.object.key,
            version_id=record.s3.object.version_id,
            etag=record.s3.object.etag,
            size=record.s3.object.size,
            event_time=record.event_time,
        )
        for record in notification.records
    ]


def route_object_event(event: ObjectEvent, service: IngestService) -> IngestOutcome:
    """ObjectCreated under the recordings prefix → sidecar or recording; everything else is ignored."""
    prefix = service.settings.recordings_prefix
    if not event.event_name.startswith("ObjectCreated"):
        return IngestOutcome(
            kind=OutcomeKind.IGNORED, key=event.key, detail=f"event {event.event_name} is not handled"
        )
    if prefix and not event.key.startswith(prefix):
        return IngestOutcome(kind=OutcomeKind.IGNORED, key=event.key, detail=f"key is outside {prefix!r}")
    if is_sidecar_key(event.key):
        return service.ingest_sidecar(event.bucket, event.key)
    return service.ingest_recording(
        SourceObject(
            bucket=event.bucket,
            key=event.key,
            version_id=event.version_id,
            etag=event.etag,
            size=event.size,
            uploaded_at=event.event_time,
        )
    )
