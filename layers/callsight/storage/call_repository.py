"""Where a call is written and read: the ``calls`` table behind domain models.

Creates are conditional (one record per ``call_id`` however often an event is delivered); updates
use the item's version attribute (optimistic locking) and always move ``updated_at`` forward so the
CRM change feed sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.update import Action

from callsight.config import Settings
from callsight.models.analysis import AnalysisSummary
from callsight.models.call import (
    AudioFacts,
    CallRecord,
    CallStatus,
    SourceObject,
    StatusChange,
    can_transition,
)
from callsight.models.feedback import LabelReview
from callsight.models.transcript import TranscriptionFacts
from callsight.resources import CALLS_TABLE
from callsight.storage import aws
from callsight.storage.daily_stats import include_call_day, mark_changed
from callsight.storage.tables import (
    AudioFactsMap,
    CallItem,
    SourceObjectMap,
    StatusChangeMap,
    TranscriptionFactsMap,
    bind_tables,
    condition_failed,
    get_or_none,
)


class CallAlreadyExists(Exception):
    """A record with this ``call_id`` exists (a duplicate delivery)."""


class CallNotFound(Exception):
    pass


class StaleCallVersion(Exception):
    """Someone else changed the call since it was read; read again and retry."""


class IllegalTransition(Exception):
    pass


#: DynamoDB TTL removes an item this long after its retention expiry, only if the sweep did not.
TTL_BACKSTOP = timedelta(days=30)


#: What :meth:`CallRepository.identity_rows` reads of a call (``status`` and ``source`` are
#: DynamoDB reserved words).
IDENTITY_PROJECTION = (
    "call_id, #status, status_reason, #source, created_at, updated_at, expires_at, masked_at, redacted_audio_key, "
    "superseded_by"
)
_DESERIALIZER = TypeDeserializer()


def _now() -> datetime:
    return datetime.now(UTC)


def _to_item(record: CallRecord) -> CallItem:
    item = CallItem(record.call_id)
    item.status = record.status.value
    item.status_reason = record.status_reason
    item.status_detail = record.status_detail
    item.status_history = [
        StatusChangeMap(**change.model_dump(mode="python")) for change in record.status_history
    ]
    item.source = SourceObjectMap(**record.source.model_dump())
    item.audio = AudioFactsMap(**record.audio.model_dump()) if record.audio else None
    item.transcription = _transcription_map(record.transcription) if record.transcription else None
    if record.analysis is not None:
        when = record.started_at or record.created_at
        for name, value in _analysis_attributes(record.analysis, record.tags, when).items():
            setattr(item, name, value)
    if record.review is not None:
        item.review = _review_map(record.review)
    for name in (
        "agent_id", "team", "queue", "customer_phone_masked", "customer_phone_hash", "customer_phone_alt_hash",
        "pbx_call_id",
        "language_hint", "agent_channel", "started_at", "created_at", "updated_at", "retention_policy",
        "legal_hold", "masked_at", "redacted_audio_key", "superseded_by",
    ):  # fmt: skip
        setattr(item, name, getattr(record, name))
    item.direction = record.direction.value
    item.metadata_sources = dict(record.metadata_sources)
    item.metadata_warnings = list(record.metadata_warnings)  # type: ignore[arg-type]
    item.call_day = record.started_at.astimezone(UTC).date().isoformat() if record.started_at else None
    if record.expires_at is not None:
        item.expires_at = int(record.expires_at.timestamp())
        item.expiry_shard = "0"
        item.ttl = record.expires_at + TTL_BACKSTOP
    return item


def _review_map(review: LabelReview) -> dict[str, Any]:
    return review.model_dump(mode="json", exclude_none=True)


def _transcription_map(facts: TranscriptionFacts) -> TranscriptionFactsMap:
    return TranscriptionFactsMap(**facts.model_dump(mode="python"))


def _analysis_attributes(summary: AnalysisSummary, tags: list[str], started_at: datetime) -> dict[str, Any]:
    """The analysis map plus the top-level attributes listing and filtering use. A call that tripped
    an alert rule gets ``alert_at`` (its start) and ``alert_shard``, which put it in the sparse alert
    indexes; a re-analysis that trips none removes them (the transition removes None attributes)."""
    alerting = bool(summary.alerts)
    return {
        "alert_at": started_at if alerting else None,
        "alert_shard": "0" if alerting else None,
        "analysis": summary.model_dump(mode="json", exclude_none=True),
        "tags": set(tags) or None,
        "outcome": summary.outcome,
        "purpose": summary.purpose,
        "sentiment": summary.headline_sentiment,
        "risk_score": summary.risk_score,
    }


def _retention_actions(policy_id: str, expires_at: datetime) -> list[Action]:
    return [
        CallItem.retention_policy.set(policy_id),
        CallItem.expires_at.set(int(expires_at.timestamp())),
        CallItem.expiry_shard.set("0"),
        CallItem.ttl.set(expires_at + TTL_BACKSTOP),
    ]


def _to_record(item: CallItem) -> CallRecord:
    data: dict[str, Any] = item.attribute_values.copy()
    data["source"] = SourceObject(**item.source.as_dict())
    data["audio"] = AudioFacts(**item.audio.as_dict()) if item.audio else None
    data["transcription"] = TranscriptionFacts(**item.transcription.as_dict()) if item.transcription else None
    data["status_history"] = [StatusChange(**change.as_dict()) for change in item.status_history or []]
    data["metadata_sources"] = item.metadata_sources.as_dict() if item.metadata_sources else {}
    data["expires_at"] = datetime.fromtimestamp(item.expires_at, UTC) if item.expires_at is not None else None
    data["analysis"] = AnalysisSummary.model_validate(item.analysis.as_dict()) if item.analysis else None
    data["tags"] = sorted(item.tags or [])
    data["review"] = LabelReview.model_validate(item.review.as_dict()) if item.review else None
    for derived in (
        "call_day",
        "feed_shard",
        "expiry_shard",
        "ttl",
        "outcome",
        "purpose",
        "sentiment",
        "risk_score",
        "alert_at",
        "alert_shard",
    ):
        data.pop(derived, None)
    return CallRecord.model_validate(data)


class CallRepository:
    """Create, read and change call records."""

    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._dynamodb = aws.client("dynamodb", settings)
        self._table = settings.name(CALLS_TABLE)

    def get(self, call_id: str) -> CallRecord | None:
        item = get_or_none(CallItem, call_id, consistent_read=True)
        return _to_record(item) if item is not None else None

    def get_many(self, call_ids: list[str]) -> dict[str, CallRecord]:
        """The records that exist among ``call_ids``, by id (BatchGetItem: 100 keys a request,
        strongly consistent, unprocessed keys retried by PynamoDB)."""
        unique = list(dict.fromkeys(call_ids))
        return {item.call_id: _to_record(item) for item in CallItem.batch_get(unique, consistent_read=True)}

    def create(self, record: CallRecord) -> CallRecord:
        """Write a new record; :class:`CallAlreadyExists` if the id is taken."""
        item = _to_item(record)
        mark_changed(item.call_day)
        include_call_day(item.call_day)  # GET /calls lists days within bounds
        try:
            item.save(condition=CallItem.call_id.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                raise CallAlreadyExists(record.call_id) from exc
            raise
        return _to_record(item)

    def replace(self, record: CallRecord) -> CallRecord:
        """Overwrite a record read earlier (re-ingest of a quarantined call); fails if it changed since."""
        item = _to_item(record)
        item.version = record.version
        mark_changed(_stored_day(record.call_id))
        mark_changed(item.call_day)
        include_call_day(item.call_day)  # GET /calls lists days within bounds
        try:
            item.save()
        except PutError as exc:
            if condition_failed(exc):
                raise StaleCallVersion(record.call_id) from exc
            raise
        return _to_record(item)

    def transition(
        self,
        call_id: str,
        new_status: CallStatus,
        *,
        reason: str | None = None,
        detail: str | None = None,
        transcription: TranscriptionFacts | None = None,
        analysis: tuple[AnalysisSummary, list[str]] | None = None,
        retention: tuple[str, datetime] | None = None,
    ) -> CallRecord:
        """Move a call to ``new_status`` with a history entry, if the life cycle allows it.

        ``transcription`` is stored in the same conditional write (TRANSCRIBED and its facts
        appear together or not at all); likewise ``analysis`` (summary, tags) for ANALYZED."""
        item = get_or_none(CallItem, call_id, consistent_read=True)
        if item is None:
            raise CallNotFound(call_id)
        current = CallStatus(item.status)
        if not can_transition(current, new_status):
            raise IllegalTransition(f"call {call_id}: {current.value} → {new_status.value} is not allowed")
        mark_changed(item.call_day)
        now = _now()
        change = StatusChangeMap(status=new_status.value, at=now, reason=reason, detail=detail)
        actions: list[Action] = [
            CallItem.status.set(new_status.value),
            CallItem.status_reason.set(reason),  # type: ignore[arg-type]  # None removes it
            CallItem.status_detail.set(detail),  # type: ignore[arg-type]
            CallItem.status_history.set(CallItem.status_history.append([change])),
            CallItem.updated_at.set(now),
        ]
        if transcription is not None:
            actions.append(CallItem.transcription.set(_transcription_map(transcription)))
        if retention is not None:
            policy_id, expires_at = retention
            actions += _retention_actions(policy_id, expires_at)
        if analysis is not None:
            for name, value in _analysis_attributes(*analysis, item.started_at or item.created_at).items():
                attribute = getattr(CallItem, name)
                actions.append(attribute.set(value) if value is not None else attribute.remove())
        try:
            item.update(actions=actions)
        except UpdateError as exc:
            if condition_failed(exc):
                raise StaleCallVersion(call_id) from exc
            raise
        return _to_record(item)

    def recent(self, limit: int = 50) -> Iterator[CallRecord]:
        """Most recently changed calls first (the change-feed index, newest end)."""
        for item in CallItem.by_update.query("0", scan_index_forward=False, limit=limit):
            yield _to_record(item)

    def started_on(self, day: date, *, until: datetime | None = None) -> Iterator[CallRecord]:
        """Every call of a UTC day (optionally only those started by ``until``), through the
        ``by-day`` index, never a scan."""
        condition = CallItem.started_at <= until if until is not None else None
        for item in CallItem.by_day.query(day.isoformat(), condition):
            yield _to_record(item)

    def ids_expiring_by(self, cutoff: datetime) -> list[str]:
        """Calls whose retention expiry is at or before ``cutoff`` (the ``by-expiry`` index)."""
        limit = int(cutoff.timestamp())
        return [item.call_id for item in CallItem.by_expiry.query("0", CallItem.expires_at <= limit)]

    def ids_of_customer(self, phone_hash: str) -> list[str]:
        """Calls whose customer number hashes to ``phone_hash`` under its likeliest or its second
        reading (both customer indexes)."""
        found: dict[str, None] = {}
        for index in (CallItem.by_customer, CallItem.by_customer_alt):
            found.update((item.call_id, None) for item in index.query(phone_hash))
        return list(found)

    def ids_page(
        self, page_size: int, start: dict[str, Any] | None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """One page of every call id (a scan, for resumable whole-table jobs) and where the next
        page starts (``None``: that was the last)."""
        page = CallItem.scan(limit=page_size, last_evaluated_key=start)
        ids = [item.call_id for item in page]
        return ids, page.last_evaluated_key

    def identity_rows(self) -> Iterator[dict[str, Any]]:
        """Every call as a plain dict of its identity, status and the few fields that explain a
        missing recording (no transcript facts, analysis or PII): a paged, consistent, projected
        scan of the wire items (the reconciler's snapshot; datetimes as stored, text or epoch)."""
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            ProjectionExpression=IDENTITY_PROJECTION,
            ExpressionAttributeNames={"#status": "status", "#source": "source"},
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                yield {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}

    def reviewed(self, page_size: int = 100) -> Iterator[CallRecord]:
        """Every call with a QA label correction, in no particular order, DELETED ones left out.

        A filtered scan of the table (read capacity of every item, paid only by the training export,
        which runs rarely and offline): no index to keep for a handful of reviewed calls."""
        condition = CallItem.review.exists() & (CallItem.status != CallStatus.DELETED.value)
        for item in CallItem.scan(condition, page_size=page_size):
            yield _to_record(item)


def new_status_change(
    status: CallStatus, reason: str | None = None, detail: str | None = None
) -> StatusChange:
    return StatusChange(status=status, at=_now(), reason=reason, detail=detail)


class CallUpdates:
    """Field changes that are not status moves (legal hold, retention), each moving ``updated_at``."""

    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def set_legal_hold(self, call_id: str, hold: bool) -> CallRecord:
        return self._update(call_id, [CallItem.legal_hold.set(hold)])

    def set_masked(
        self, call_id: str, transcription: TranscriptionFacts, redacted_audio_key: str | None
    ) -> CallRecord:
        """Record a finished masking: the masked transcript version, the redacted audio, when."""
        actions: list[Action] = [
            CallItem.masked_at.set(_now()),
            CallItem.transcription.set(_transcription_map(transcription)),
        ]
        if redacted_audio_key:
            actions.append(CallItem.redacted_audio_key.set(redacted_audio_key))
        return self._update(call_id, actions)

    def set_superseded(self, call_id: str, by: str) -> CallRecord:
        """A newer version of the call's recording key has its own call: ``by``."""
        return self._update(call_id, [CallItem.superseded_by.set(by)])

    def set_retention(self, call_id: str, policy_id: str, expires_at: datetime) -> CallRecord:
        return self._update(call_id, _retention_actions(policy_id, expires_at))

    def set_review(self, call: CallRecord, review: LabelReview) -> CallRecord:
        """Store ``review`` on ``call`` (replacing an earlier one), only if the call is still as it was
        read: :class:`StaleCallVersion` if it changed since (re-analysed, claimed for deletion, gone)."""
        item = CallItem(call.call_id)
        item.version = call.version
        try:
            item.update(
                actions=[CallItem.review.set(_review_map(review)), CallItem.updated_at.set(_now())],
                condition=CallItem.status == CallStatus.ANALYZED.value,
            )
        except UpdateError as exc:
            if condition_failed(exc):
                raise StaleCallVersion(call.call_id) from exc
            raise
        return _to_record(item)

    def _update(self, call_id: str, actions: list[Action]) -> CallRecord:
        item = get_or_none(CallItem, call_id, consistent_read=True)
        if item is None:
            raise CallNotFound(call_id)
        item.update(actions=[*actions, CallItem.updated_at.set(_now())])
        return _to_record(item)

    def claim_deletion(
        self, call_id: str, reason: str, lease_s: int = 900, *, take_over: bool = False
    ) -> bool:
        """Mark the call DELETED and take a deletion lease; ``False`` if another sweep holds it now.

        A fresh call moves to DELETED (history entry); a call left DELETED by a crashed sweep is
        re-claimed only once that sweep's lease has run out, or at once with ``take_over`` (erasure).
        Conditional writes decide the race."""
        item = get_or_none(CallItem, call_id, consistent_read=True)
        if item is None:
            return False
        now = _now()
        until = int(now.timestamp()) + lease_s
        actions: list[Action] = [CallItem.deletion_lease.set(until), CallItem.updated_at.set(now)]
        condition = None
        if item.status != CallStatus.DELETED.value:
            change = StatusChangeMap(status=CallStatus.DELETED.value, at=now, reason=reason, detail=None)
            actions += [
                CallItem.status.set(CallStatus.DELETED.value),
                CallItem.status_reason.set(reason),
                CallItem.status_history.set(CallItem.status_history.append([change])),
            ]
        elif take_over:  # never recreate a stub of an item another run has just removed
            condition = CallItem.call_id.exists()
        else:
            if item.deletion_lease is not None and item.deletion_lease > int(now.timestamp()):
                return False
            condition = CallItem.deletion_lease.does_not_exist() | (
                CallItem.deletion_lease <= int(now.timestamp())
            )
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def delete(self, call_id: str) -> bool:
        """Remove the call item; ``False`` if it was already gone."""
        mark_changed(_stored_day(call_id))
        try:
            CallItem(call_id).delete(condition=CallItem.call_id.exists(), add_version_condition=False)
            return True
        except DeleteError as exc:
            if condition_failed(exc):
                return False
            raise


def _stored_day(call_id: str) -> str | None:
    """The ``call_day`` of the stored call (None if there is none): a change to it changes that day's
    statistics, which :func:`mark_changed` records for the daily rollup."""
    item = get_or_none(CallItem, call_id, consistent_read=True, attributes_to_get=["call_day"])
    return item.call_day if item is not None else None


def record_of(item: CallItem) -> CallRecord:
    """A call record from an item read by a query elsewhere (API listing)."""
    return _to_record(item)
