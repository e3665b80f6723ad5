"""The call record as the domain sees it: status life cycle, source object, PBX metadata, audio facts.

Pure data and rules (which status may follow which); storage mapping lives in ``callsight.storage``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from callsight.models.analysis import AnalysisSummary
from callsight.models.feedback import LabelReview
from callsight.models.transcript import TranscriptionFacts


class CallStatus(StrEnum):
    RECEIVED = "RECEIVED"
    TRANSCRIBING = "TRANSCRIBING"
    TRANSCRIBED = "TRANSCRIBED"
    ANALYZED = "ANALYZED"
    FAILED = "FAILED"
    QUARANTINED = "QUARANTINED"
    DELETED = "DELETED"


#: Which status may follow which. FAILED and QUARANTINED calls may be retried (back to RECEIVED)
#: once the cause is fixed (e.g. a corrected sidecar); DELETED is final.
ALLOWED_TRANSITIONS: dict[CallStatus, frozenset[CallStatus]] = {
    CallStatus.RECEIVED: frozenset(
        {CallStatus.TRANSCRIBING, CallStatus.FAILED, CallStatus.QUARANTINED, CallStatus.DELETED}
    ),
    CallStatus.TRANSCRIBING: frozenset(
        {
            CallStatus.TRANSCRIBED,
            CallStatus.FAILED,
            CallStatus.QUARANTINED,  # audio that ingest accepted but the decoder cannot read
            CallStatus.RECEIVED,  # an attempt failed and the queue will retry
            CallStatus.DELETED,
        }
    ),
    CallStatus.TRANSCRIBED: frozenset({CallStatus.ANALYZED, CallStatus.FAILED, CallStatus.DELETED}),
    CallStatus.ANALYZED: frozenset({CallStatus.ANALYZED, CallStatus.DELETED}),
    CallStatus.FAILED: frozenset({CallStatus.RECEIVED, CallStatus.DELETED}),
    CallStatus.QUARANTINED: frozenset({CallStatus.RECEIVED, CallStatus.DELETED}),
    CallStatus.DELETED: frozenset(),
}


def can_transition(current: CallStatus, new: CallStatus) -> bool:
    return new in ALLOWED_TRANSITIONS[current]


#: Longest error text kept on a record (the full trace is in the logs).
MAX_ERROR_DETAIL = 1000


def error_detail(error: BaseException) -> str:
    """An exception as stored in ``status_detail``: its type and message, bounded."""
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_DETAIL]


class QuarantineReason(StrEnum):
    """Why a recording was kept aside instead of transcribed. Each comes with a human detail."""

    EMPTY_OBJECT = "empty_object"
    NOT_AUDIO = "not_audio"
    TRUNCATED = "truncated"
    UNSUPPORTED_CODEC = "unsupported_codec"
    TOO_LARGE = "too_large"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    SIDECAR_INVALID = "sidecar_invalid"
    OBJECT_DELETED = "object_deleted_before_ingest"
    START_TIME_UNKNOWN = "start_time_unknown"
    UNDECODABLE = "undecodable"
    OPTED_OUT = "opted_out"  # the number is on the stop list (kept, never transcribed: policy keep)


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


class MetadataSource(StrEnum):
    SIDECAR = "sidecar"
    USER_METADATA = "s3_user_metadata"
    FILENAME = "filename"
    UPLOAD_TIME = "upload_time"


class SourceObject(BaseModel):
    """The S3 object a call came from, exactly as the event named it."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    sha256: str | None = None
    uploaded_at: datetime | None = None


class AudioFacts(BaseModel):
    """What decoding the recording proved about it."""

    model_config = ConfigDict(frozen=True)

    container: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float


class CallMetadata(BaseModel):
    """PBX metadata merged from sidecar, S3 user metadata and filename (first source wins per field).

    ``customer_phone`` is the raw number and never leaves memory: storage keeps it masked plus a
    keyed hash for lookups.
    """

    direction: Direction = Direction.UNKNOWN
    agent_id: str | None = None
    team: str | None = None
    queue: str | None = None
    customer_phone: str | None = Field(default=None, repr=False)
    started_at: datetime | None = None
    pbx_call_id: str | None = None
    language_hint: str | None = None
    agent_channel: str | None = None
    sources: dict[str, MetadataSource] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class StatusChange(BaseModel):
    status: CallStatus
    at: datetime
    reason: str | None = None
    detail: str | None = None


class CallRecord(BaseModel):
    """A call as stored (PII already masked)."""

    call_id: str
    status: CallStatus
    status_reason: str | None = None
    status_detail: str | None = None
    status_history: list[StatusChange] = Field(default_factory=list)
    source: SourceObject
    audio: AudioFacts | None = None
    direction: Direction = Direction.UNKNOWN
    agent_id: str | None = None
    team: str | None = None
    queue: str | None = None
    customer_phone_masked: str | None = None
    customer_phone_hash: str | None = None
    #: the keyed hash of the number's second plausible reading, if it has one (see ``phone_forms``)
    customer_phone_alt_hash: str | None = None
    pbx_call_id: str | None = None
    language_hint: str | None = None
    agent_channel: str | None = None
    metadata_sources: dict[str, str] = Field(default_factory=dict)
    metadata_warnings: list[str] = Field(default_factory=list)
    started_at: datetime | None = None
    transcription: TranscriptionFacts | None = None
    analysis: AnalysisSummary | None = None
    tags: list[str] = Field(default_factory=list)
    #: The latest QA correction of the analysis labels (``PUT /calls/{call_id}/labels``), if any.
    review: LabelReview | None = None
    created_at: datetime
    updated_at: datetime
    retention_policy: str | None = None
    expires_at: datetime | None = None
    legal_hold: bool = False
    masked_at: datetime | None = None
    redacted_audio_key: str | None = None
    #: One call per recording key, the newest version wins: the call of a newer version of this key.
    superseded_by: str | None = None
    version: int | None = None
