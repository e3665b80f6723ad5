"""Every AWS resource Callsight needs, declared once.

The local runner provisions exactly these, the tests use them, and the SAM template in
``infrastructure/`` is checked against them. DynamoDB table schemas (keys, GSIs, TTL) live on the
PynamoDB models in :mod:`callsight.storage.tables`; this module names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from callsight.config import Settings


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket; ``notify_queue`` receives its ObjectCreated events for ``notify_prefix``."""

    logical: str
    versioned: bool = True
    notify_queue: str | None = None
    notify_prefix_setting: str | None = None
    #: S3 Object Lock (write once): COMPLIANCE in the template, GOVERNANCE on the local emulator.
    object_lock: bool = False

    def physical(self, settings: Settings) -> str:
        return settings.name(self.logical)


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue, its dead-letter queue and the function its event source mapping feeds.

    ``visibility_timeout_s`` must exceed the consuming function's timeout (AWS's rule, six times
    is recommended); after ``max_receive_count`` failed receives the message moves to the DLQ.
    """

    logical: str
    function: str | None
    batch_size: int
    visibility_timeout_s: int
    max_receive_count: int
    dlq_retention_s: int = 14 * 24 * 3600

    @property
    def dlq_logical(self) -> str:
        return f"{self.logical}-dlq"

    def physical(self, settings: Settings) -> str:
        return settings.name(self.logical)

    def dlq_physical(self, settings: Settings) -> str:
        return settings.name(self.dlq_logical)

    def is_last_attempt(self, receive_count: int | str) -> bool:
        """Whether a message received this often goes to the DLQ if it fails now."""
        return int(receive_count) >= self.max_receive_count


@dataclass(frozen=True)
class TopicSpec:
    logical: str

    def physical(self, settings: Settings) -> str:
        return settings.name(self.logical)


RECORDINGS_BUCKET = BucketSpec("recordings", notify_queue="ingest", notify_prefix_setting="recordings_prefix")
TRANSCRIPTS_BUCKET = BucketSpec("transcripts")
REPORTS_BUCKET = BucketSpec("reports")
AUDIT_ANCHORS_BUCKET = BucketSpec("audit-anchors", object_lock=True)  # audit chain heads, write once
BUCKETS: tuple[BucketSpec, ...] = (
    RECORDINGS_BUCKET,
    TRANSCRIPTS_BUCKET,
    REPORTS_BUCKET,
    AUDIT_ANCHORS_BUCKET,
)

INGEST_QUEUE = QueueSpec(
    "ingest", function="ingest", batch_size=10, visibility_timeout_s=360, max_receive_count=5
)
TRANSCRIBE_QUEUE = QueueSpec(
    "transcribe", function="transcribe", batch_size=1, visibility_timeout_s=5400, max_receive_count=3
)
ANALYZE_QUEUE = QueueSpec(
    "analyze", function="analyze", batch_size=10, visibility_timeout_s=600, max_receive_count=5
)
QUEUES: tuple[QueueSpec, ...] = (INGEST_QUEUE, TRANSCRIBE_QUEUE, ANALYZE_QUEUE)

ALERTS_TOPIC = TopicSpec("alerts")
#: Access anomalies found in the audit log (functions/access_anomaly); for security staff.
ACCESS_ALERTS_TOPIC = TopicSpec("access-alerts")
TOPICS: tuple[TopicSpec, ...] = (ALERTS_TOPIC, ACCESS_ALERTS_TOPIC)

#: EventBridge bus for domain events (``CallAnalyzed``); consumers subscribe with rules.
EVENT_BUS = "events"
EVENT_SOURCE = "callsight"

#: Logical table names; the schema of each is its PynamoDB model (``callsight.storage.tables``).
CALLS_TABLE = "calls"
SEARCH_INDEX_TABLE = "search-index"
AUDIT_LOG_TABLE = "audit-log"
POLICIES_TABLE = "policies"
IDEMPOTENCY_TABLE = "idempotency"
COUNTERS_TABLE = "counters"
DAILY_STATS_TABLE = "daily-stats"
#: The consent registry / stop list (``callsight.storage.consent_registry``), by keyed phone hash.
CONSENT_TABLE = "consent"
#: Per-agent enrolled voice prints, opt-in and erasable (``callsight.storage.voiceprints``), by agent id.
VOICEPRINTS_TABLE = "voiceprints"
TABLES: tuple[str, ...] = (
    CALLS_TABLE,
    SEARCH_INDEX_TABLE,
    AUDIT_LOG_TABLE,
    POLICIES_TABLE,
    IDEMPOTENCY_TABLE,
    COUNTERS_TABLE,
    DAILY_STATS_TABLE,
    CONSENT_TABLE,
    VOICEPRINTS_TABLE,
)


def queue_by_logical(logical: str) -> QueueSpec:
    for spec in QUEUES:
        if spec.logical == logical:
            return spec
    raise KeyError(f"no queue named {logical!r}; known: {[q.logical for q in QUEUES]}")
