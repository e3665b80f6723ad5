"""What the reconciler reads (the inventory) and what it reports, as pydantic models.

The inventory is a snapshot of three places: the recordings bucket (every object version under the
recordings prefix), the calls table (a projection of each call) and the stage queues (depths, and
the messages sitting in their dead-letter queues). The report says, for that snapshot, which
recordings have no call, which calls have no recording, which recordings have several calls, which
calls are still in progress (and why, and whether they are stuck), and what the DLQs hold.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from callsight.models.call import CallStatus

#: States from which no message moves a call any further.
TERMINAL_STATUSES = frozenset(
    {CallStatus.ANALYZED, CallStatus.QUARANTINED, CallStatus.FAILED, CallStatus.DELETED}
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- inventory ---------------------------------------------------------------------------------------


class ObjectVersion(_Frozen):
    """One version of a recording in the bucket (delete markers are not versions of a recording)."""

    bucket: str
    key: str
    version_id: str | None = Field(description="None in an unversioned bucket (S3 says 'null').")
    etag: str | None = None
    size: int = 0
    last_modified: datetime
    is_latest: bool = True


class CallEntry(_Frozen):
    """The projection of a call the reconciler reads (never the transcript, analysis or PII)."""

    call_id: str
    status: CallStatus
    status_reason: str | None = None
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    created_at: datetime | None = None
    updated_at: datetime
    expires_at: datetime | None = None
    masked_at: datetime | None = None
    redacted_audio_key: str | None = None
    superseded_by: str | None = None


class QueueDepth(_Frozen):
    queue: str = Field(description="Logical name: ingest, transcribe, analyze, or <name>-dlq.")
    visible: int
    in_flight: int

    @property
    def idle(self) -> bool:
        return self.visible == 0 and self.in_flight == 0


class DeadLetter(_Frozen):
    """One message in a dead-letter queue and what it names."""

    queue: str = Field(description="Logical name of the DLQ, e.g. transcribe-dlq.")
    message_id: str
    receive_count: int | None = None
    sent_at: datetime | None = None
    call_ids: list[str] = Field(default_factory=list, description="Calls the message names or derives.")
    keys: list[str] = Field(default_factory=list, description="Recording keys an ingest message names.")
    summary: str = Field(description="What the body is, or why it cannot be read (first 200 characters).")


class Inventory(_Frozen):
    bucket: str
    prefix: str
    objects: list[ObjectVersion]
    calls: list[CallEntry]
    queues: list[QueueDepth]
    dead_letters: list[DeadLetter]
    dead_letters_complete: bool = Field(
        default=True, description="False when a DLQ held more messages than were peeked."
    )


# --- thresholds ----------------------------------------------------------------------------------------


class Thresholds(_Frozen):
    """When a missing call or an unfinished one becomes a problem (seconds).

    Defaults come from :mod:`callsight.resources` (see :func:`callsight.reconcile.logic.default_thresholds`).
    """

    ingest_grace_s: float = Field(
        description="An object without a call younger than this is still awaiting ingest, not lost."
    )
    stuck_after_s: dict[CallStatus, float] = Field(
        description="A call in this in-progress status for longer is stuck, whatever the queues say."
    )
    stall_grace_s: float = Field(
        description="A call older than this whose stage queue is idle (nothing visible or in flight) "
        "and whose message is not dead-lettered has nothing left to move it: stalled."
    )


# --- report --------------------------------------------------------------------------------------------


class CallRef(_Frozen):
    call_id: str
    status: CallStatus
    status_reason: str | None = None
    key: str
    version_id: str | None = None

    @classmethod
    def of(cls, call: CallEntry) -> CallRef:
        return cls(
            call_id=call.call_id,
            status=call.status,
            status_reason=call.status_reason,
            key=call.key,
            version_id=call.version_id,
        )


class MissingCall(_Frozen):
    """A recording version that no call record stands for."""

    object: ObjectVersion
    expected_call_id: str
    age_s: float
    dead_lettered: bool = Field(description="An ingest DLQ message names this key.")


class OrphanCall(_Frozen):
    """A call whose recording version is gone, with nothing on the record to explain why."""

    call: CallRef
    detail: str


class DuplicateCalls(_Frozen):
    """More than one call record for one recording version, or (``version_id`` None) more than one
    live call for one recording key."""

    key: str
    version_id: str | None
    calls: list[CallRef]


class InProgressCall(_Frozen):
    call: CallRef
    stage_queue: str
    age_s: float
    threshold_s: float
    stuck: bool
    reason: str
    dead_letter_queue: str | None = Field(default=None, description="The DLQ holding its message, if any.")


class Fix(_Frozen):
    call_id: str
    action: str
    done: bool
    detail: str


class ReconcileReport(BaseModel):
    """The reconciler's verdict on one snapshot; ``problems`` is what needs a person (or ``--fix``)."""

    checked_at: datetime
    bucket: str
    prefix: str
    thresholds: Thresholds
    objects: int = Field(description="Recording versions checked (sidecars excluded).")
    calls: int = Field(description="Call records whose recording lies in the checked bucket and prefix.")
    calls_out_of_scope: int = Field(
        default=0, description="Calls whose recording is elsewhere (not checked)."
    )
    by_status: dict[str, int]
    lost: list[MissingCall] = Field(default_factory=list, description="Recording without a call: lost.")
    awaiting_ingest: list[MissingCall] = Field(
        default_factory=list, description="Recording without a call yet, younger than the ingest grace."
    )
    orphans: list[OrphanCall] = Field(default_factory=list)
    explained_missing_sources: dict[str, int] = Field(
        default_factory=dict,
        description="Calls whose recording is gone for a recorded reason (masked, expired, gone before ingest).",
    )
    duplicates: list[DuplicateCalls] = Field(default_factory=list)
    superseded_versions: int = Field(
        default=0,
        description="Older versions of a key that has a newer one: one call per key, the newest wins.",
    )
    in_progress: list[InProgressCall] = Field(default_factory=list)
    dead_letters: list[DeadLetter] = Field(default_factory=list)
    dead_letters_complete: bool = True
    queues: list[QueueDepth] = Field(default_factory=list)
    fixes: list[Fix] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stuck(self) -> int:
        return sum(entry.stuck for entry in self.in_progress)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def problems(self) -> int:
        """Lost recordings, orphan calls, duplicates, stuck calls and dead letters."""
        return len(self.lost) + len(self.orphans) + len(self.duplicates) + self.stuck + len(self.dead_letters)

    @property
    def ok(self) -> bool:
        return self.problems == 0
