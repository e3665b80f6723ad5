"""Reading the snapshot the reconciler checks: paged, projected, and without changing anything.

* Recordings: ``list_object_versions`` under the recordings prefix, page by page (1,000 a page);
  delete markers, sidecars (``.json``) and the masking sweep's ``redacted/`` copies are left out.
* Calls: a paged ``Scan`` of the calls table (:meth:`CallRepository.identity_rows`), consistent, projected to the identity, status and
  the few fields that explain a missing recording (no transcript facts, analysis or PII).
* Queues: approximate depths of every stage queue and its DLQ.
* Dead letters: each DLQ is *peeked*: messages are received with a short visibility timeout (so
  that repeated receives return new ones) and made visible again at once afterwards; none is ever
  deleted. Peeking raises their receive count, which a DLQ (it has no redrive policy) ignores. A DLQ
  is not touched at all when its depth is zero.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from callsight.config import Settings
from callsight.models.call import CallStatus
from callsight.models.recording_keys import is_sidecar_key
from callsight.reconcile.models import CallEntry, DeadLetter, Inventory, ObjectVersion, QueueDepth
from callsight.resources import INGEST_QUEUE, QUEUES, RECORDINGS_BUCKET
from callsight.stages.ingest.call_id import derive_call_id
from callsight.stages.ingest.events import PoisonMessage, parse_body
from callsight.storage.call_repository import CallRepository
from callsight.storage.queues import StageQueue
from callsight.storage.recordings import RecordingStore

#: The masking sweep's redacted copies live here in the recordings bucket; they are not recordings.
REDACTED_PREFIX = "redacted/"
#: How long a peeked DLQ message stays hidden if this process dies before making it visible again.
PEEK_VISIBILITY_S = 30


def _when(value: Any) -> datetime | None:
    """PynamoDB's UTC datetime text (``2026-11-20T10:15:00.000000+0000``) or epoch seconds."""
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return datetime.fromtimestamp(float(value), UTC)
    return datetime.fromisoformat(str(value))


def call_entry(plain: dict[str, Any]) -> CallEntry:
    """A projected call row (:meth:`CallRepository.identity_rows`) as a :class:`CallEntry`."""
    source = plain.get("source") or {}
    updated = _when(plain.get("updated_at")) or _when(plain.get("created_at"))
    return CallEntry(
        call_id=str(plain["call_id"]),
        status=CallStatus(plain["status"]),
        status_reason=plain.get("status_reason"),
        bucket=str(source.get("bucket", "")),
        key=str(source.get("key", "")),
        version_id=source.get("version_id"),
        etag=source.get("etag"),
        created_at=_when(plain.get("created_at")),
        updated_at=updated or datetime.fromtimestamp(0, UTC),
        expires_at=_when(plain.get("expires_at")),
        masked_at=_when(plain.get("masked_at")),
        redacted_audio_key=plain.get("redacted_audio_key"),
        superseded_by=plain.get("superseded_by"),
    )


def dead_letter(queue: str, message: dict[str, Any]) -> DeadLetter:
    """What a dead-lettered message names: call ids (attribute or body) and, for ingest, keys."""
    body = str(message.get("Body", ""))
    attributes = message.get("Attributes", {})
    call_ids: list[str] = []
    keys: list[str] = []
    tagged = message.get("MessageAttributes", {}).get("call_id", {}).get("StringValue")
    if tagged:
        call_ids.append(str(tagged))
    summary = _describe(queue, body, call_ids, keys)
    sent = attributes.get("SentTimestamp")
    count = attributes.get("ApproximateReceiveCount")
    return DeadLetter(
        queue=queue,
        message_id=str(message.get("MessageId", "")),
        receive_count=int(count) if count is not None else None,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        call_ids=list(dict.fromkeys(call_ids)),
        keys=list(dict.fromkeys(keys)),
        summary=summary[:200],
    )


def _describe(queue: str, body: str, call_ids: list[str], keys: list[str]) -> str:
    """A one-line description of a DLQ body; fills ``call_ids`` and ``keys`` with what it names."""
    if queue == INGEST_QUEUE.dlq_logical:
        try:
            events = parse_body(body)
        except PoisonMessage as exc:
            return str(exc)
        if events is None:
            return "s3:TestEvent"
        for event in events:
            keys.append(event.key)
            call_ids.append(derive_call_id(event.bucket, event.key, event.version_id, event.etag))
        return f"S3 event for {', '.join(e.key for e in events) or 'no object'}"
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return f"not JSON: {body[:120]!r}"
    if isinstance(document, dict) and isinstance(document.get("call_id"), str):
        call_ids.append(document["call_id"])
        return f"message for call {document['call_id']} (schema_version {document.get('schema_version')!r})"
    return f"JSON {type(document).__name__} without a call_id: {body[:120]}"


class InventoryReader:
    """Reads a snapshot of the stack named by ``settings``; never writes (see the module notes on DLQs)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.recordings = RecordingStore(settings)
        self.call_rows = CallRepository(settings)
        self.bucket = RECORDINGS_BUCKET.physical(settings)
        self._queues = {spec.logical: StageQueue(spec, settings) for spec in QUEUES}
        self._dlqs = {spec.dlq_logical: StageQueue(spec, settings, dead_letters=True) for spec in QUEUES}

    def read(
        self, *, prefix: str | None = None, current_only: bool = False, dead_letter_limit: int = 1000
    ) -> Inventory:
        """Queue depths first, then objects, calls and dead letters (see :func:`objects`)."""
        scope = self.settings.recordings_prefix if prefix is None else prefix
        queues = self.queue_depths()
        objects = self.objects(scope, current_only=current_only)
        calls = self.calls()
        letters, complete = self.dead_letters(queues, dead_letter_limit)
        return Inventory(
            bucket=self.bucket,
            prefix=scope,
            objects=objects,
            calls=calls,
            queues=queues,
            dead_letters=letters,
            dead_letters_complete=complete,
        )

    def objects(self, prefix: str, *, current_only: bool = False) -> list[ObjectVersion]:
        """Every recording version under ``prefix`` (or only the current ones)."""
        return [
            ObjectVersion(
                bucket=self.bucket,
                key=listed.key,
                version_id=listed.version_id,
                etag=listed.etag,
                size=listed.size,
                last_modified=listed.last_modified,
                is_latest=listed.is_latest,
            )
            for listed in self.recordings.listed_versions(self.bucket, prefix)
            if not (is_sidecar_key(listed.key) or listed.key.startswith(REDACTED_PREFIX))
            and (listed.is_latest or not current_only)
        ]

    def calls(self) -> list[CallEntry]:
        """Every call, through a paged, consistent, projected scan."""
        return [call_entry(row) for row in self.call_rows.identity_rows()]

    def queue_depths(self) -> list[QueueDepth]:
        depths: list[QueueDepth] = []
        for spec in QUEUES:
            for logical, queue in (
                (spec.logical, self._queues[spec.logical]),
                (spec.dlq_logical, self._dlqs[spec.dlq_logical]),
            ):
                visible, in_flight = queue.depth()
                depths.append(QueueDepth(queue=logical, visible=visible, in_flight=in_flight))
        return depths

    def dead_letters(self, depths: list[QueueDepth], limit: int) -> tuple[list[DeadLetter], bool]:
        """Peek every non-empty DLQ, at most ``limit`` messages each; ``False`` if any was cut short."""
        by_name = {depth.queue: depth for depth in depths}
        letters: list[DeadLetter] = []
        complete = True
        for spec in QUEUES:
            depth = by_name.get(spec.dlq_logical)
            wanted = limit
            if depth is not None:
                if depth.idle:
                    continue
                wanted = min(limit, depth.visible)
                if depth.in_flight or depth.visible > limit:
                    complete = False  # someone else holds some, or there are more than we read
            messages = self._dlqs[spec.dlq_logical].peek(wanted, PEEK_VISIBILITY_S) if wanted else []
            if len(messages) < wanted:
                complete = False
            letters.extend(dead_letter(spec.dlq_logical, m) for m in messages)
        return letters, complete
