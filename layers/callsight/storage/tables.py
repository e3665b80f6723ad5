"""DynamoDB tables as PynamoDB models: the single definition of keys, GSIs and TTL attributes.

The local runner creates tables from these models, and the template test compares against them.
Table names are bound at start-up from settings (:func:`bind_tables`), never hard-coded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from callsight import resources
from callsight.config import Settings
from callsight.storage.aws import emulator_credentials

# --- calls ----------------------------------------------------------------------------------------


class StatusChangeMap(MapAttribute[str, Any]):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    reason = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)


class SourceObjectMap(MapAttribute[str, Any]):
    bucket = UnicodeAttribute()
    key = UnicodeAttribute()
    version_id = UnicodeAttribute(null=True)
    etag = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    uploaded_at = UTCDateTimeAttribute(null=True)


class AudioFactsMap(MapAttribute[str, Any]):
    container = UnicodeAttribute()
    codec = UnicodeAttribute()
    sample_rate = NumberAttribute()
    channels = NumberAttribute()
    duration_s = NumberAttribute()


class TranscriptionFactsMap(MapAttribute[str, Any]):
    transcript_bucket = UnicodeAttribute()
    transcript_key = UnicodeAttribute()
    transcript_version_id = UnicodeAttribute(null=True)
    language = UnicodeAttribute()
    language_probability = NumberAttribute(null=True)
    language_source = UnicodeAttribute()
    model_id = UnicodeAttribute()
    device = UnicodeAttribute()
    compute_type = UnicodeAttribute()
    real_time_factor = NumberAttribute()
    processing_s = NumberAttribute()
    word_count = NumberAttribute()
    speaker_attribution = UnicodeAttribute()
    transcribed_at = UTCDateTimeAttribute()


class CallsByAgentIndex(GlobalSecondaryIndex["CallItem"]):
    """An agent's calls by start time (agent's own view, per-agent stats)."""

    class Meta:
        index_name = "by-agent"
        projection = AllProjection()

    agent_id = UnicodeAttribute(hash_key=True)
    started_at = UTCDateTimeAttribute(range_key=True)


class CallsByDayIndex(GlobalSecondaryIndex["CallItem"]):
    """All calls of one UTC day by start time (listing, daily stats)."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    call_day = UnicodeAttribute(hash_key=True)
    started_at = UTCDateTimeAttribute(range_key=True)


class CallsByUpdateIndex(GlobalSecondaryIndex["CallItem"]):
    """Change feed for the CRM: every change of a call moves it to the end of its shard."""

    class Meta:
        index_name = "by-update"
        projection = AllProjection()

    feed_shard = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class CallsByCustomerIndex(GlobalSecondaryIndex["CallItem"]):
    """Every call of a subject, by the keyed hash of their phone (erasure, history)."""

    class Meta:
        index_name = "by-customer"
        projection = KeysOnlyProjection()

    customer_phone_hash = UnicodeAttribute(hash_key=True)
    started_at = UTCDateTimeAttribute(range_key=True)


class CallsByCustomerAltIndex(GlobalSecondaryIndex["CallItem"]):
    """Calls whose number has a second plausible reading (``84955551234``: Moscow with the trunk 8,
    or Vietnam), by that reading's keyed hash; sparse (only such calls have the attribute)."""

    class Meta:
        index_name = "by-customer-alt"
        projection = KeysOnlyProjection()

    customer_phone_alt_hash = UnicodeAttribute(hash_key=True)
    started_at = UTCDateTimeAttribute(range_key=True)


class CallsByExpiryIndex(GlobalSecondaryIndex["CallItem"]):
    """Calls ordered by retention expiry, so the sweep pages through the due ones only."""

    class Meta:
        index_name = "by-expiry"
        projection = KeysOnlyProjection()

    expiry_shard = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute(range_key=True)


class AlertsIndex(GlobalSecondaryIndex["CallItem"]):
    """Sparse: only calls that tripped a per-call alert rule carry ``alert_at`` (their start time) and
    ``alert_shard``, so the index holds the alerting calls alone, by start time. One index serves every
    role: a QA user's or an agent's alert list filters this small set by the projected ``team``,
    ``queue`` and ``agent_id`` (a FilterExpression), then reads its page of calls with one BatchGetItem.
    (One index, not one per scope: CloudFormation adds a single GSI per table update.)"""

    class Meta:
        index_name = "alerts"
        projection = IncludeProjection(["agent_id", "team", "queue"])

    alert_shard = UnicodeAttribute(hash_key=True)
    alert_at = UTCDateTimeAttribute(range_key=True)


class CallItem(Model):
    """One call. PII is stored masked; the raw customer number never is."""

    class Meta:
        table_name = "unbound-calls"
        billing_mode = "PAY_PER_REQUEST"

    call_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    status_detail = UnicodeAttribute(null=True)
    status_history = ListAttribute(of=StatusChangeMap, default=list)
    source = SourceObjectMap()
    audio = AudioFactsMap(null=True)
    direction = UnicodeAttribute(default="unknown")
    agent_id = UnicodeAttribute(null=True)
    team = UnicodeAttribute(null=True)
    queue = UnicodeAttribute(null=True)
    customer_phone_masked = UnicodeAttribute(null=True)
    customer_phone_hash = UnicodeAttribute(null=True)
    customer_phone_alt_hash = UnicodeAttribute(null=True)
    pbx_call_id = UnicodeAttribute(null=True)
    language_hint = UnicodeAttribute(null=True)
    agent_channel = UnicodeAttribute(null=True)
    metadata_sources = MapAttribute[str, Any](default=dict)
    metadata_warnings = ListAttribute(of=UnicodeAttribute, default=list)
    started_at = UTCDateTimeAttribute(null=True)
    call_day = UnicodeAttribute(null=True)
    transcription = TranscriptionFactsMap(null=True)
    #: Analysis summary (``callsight.models.analysis.AnalysisSummary`` as a map); the full document is in S3.
    analysis = MapAttribute[str, Any](null=True)
    tags = UnicodeSetAttribute(null=True)
    #: The latest QA label correction (``callsight.models.feedback.LabelReview`` as a map).
    review = MapAttribute[str, Any](null=True)
    outcome = UnicodeAttribute(null=True)
    purpose = UnicodeAttribute(null=True)
    sentiment = NumberAttribute(null=True)
    risk_score = NumberAttribute(null=True)
    #: Set only while the analysis tripped a per-call alert rule (``AnalysisSummary.alerts``): the call's
    #: start time, and the one partition of the ``alerts`` index. Derived in the call repository.
    alert_at = UTCDateTimeAttribute(null=True)
    alert_shard = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    feed_shard = UnicodeAttribute(default="0")
    retention_policy = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    expiry_shard = UnicodeAttribute(null=True)
    legal_hold = BooleanAttribute(default=False)
    masked_at = UTCDateTimeAttribute(null=True)
    redacted_audio_key = UnicodeAttribute(null=True)
    superseded_by = UnicodeAttribute(null=True)
    #: While a sweep deletes the call's artefacts: until when it holds the call (epoch seconds).
    deletion_lease = NumberAttribute(null=True)
    #: DynamoDB TTL, only a backstop behind the retention sweep (set past ``expires_at``).
    ttl = TTLAttribute(null=True)
    version = VersionAttribute()

    by_agent = CallsByAgentIndex()
    by_day = CallsByDayIndex()
    by_update = CallsByUpdateIndex()
    by_customer = CallsByCustomerIndex()
    by_customer_alt = CallsByCustomerAltIndex()
    by_expiry = CallsByExpiryIndex()
    alerts = AlertsIndex()


# --- search index, audit log, policies, idempotency ------------------------------------------------


class SearchEntriesByCallIndex(GlobalSecondaryIndex["SearchEntryItem"]):
    """All index entries of one call, so deleting a call deletes its entries without a scan."""

    class Meta:
        index_name = "by-call"
        projection = KeysOnlyProjection()

    call_id = UnicodeAttribute(hash_key=True)
    term_key = UnicodeAttribute(range_key=True)


class SearchEntryItem(Model):
    """Keyword index, one item per (stem, call): ``term_key`` = ``<lang>#<stem>``,
    ``entry_ref`` = ``<started_at>#<call_id>`` (newest calls last); where and by whom it was said."""

    class Meta:
        table_name = "unbound-search-index"
        billing_mode = "PAY_PER_REQUEST"

    term_key = UnicodeAttribute(hash_key=True)
    entry_ref = UnicodeAttribute(range_key=True)
    call_id = UnicodeAttribute()
    speakers = UnicodeSetAttribute(null=True)
    offsets = ListAttribute(of=NumberAttribute, default=list)
    hits = NumberAttribute(default=0)
    #: JSON ``[agent_id, team, queue]`` of the call: search skips calls the caller may not see
    #: before reading them (absent on entries written before it existed: those calls are read).
    owner = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)

    by_call = SearchEntriesByCallIndex()


class AuditByTargetIndex(GlobalSecondaryIndex["AuditEntryItem"]):
    """Who touched a given call (or subject), in time order."""

    class Meta:
        index_name = "by-target"
        projection = AllProjection()

    target = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class AuditEntryItem(Model):
    """Append-only audit record; ``prev_hash``/``entry_hash`` chain entries within ``chain_id``."""

    class Meta:
        table_name = "unbound-audit-log"
        billing_mode = "PAY_PER_REQUEST"

    chain_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    role = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()
    details = MapAttribute[str, Any](default=dict)
    prev_hash = UnicodeAttribute()
    entry_hash = UnicodeAttribute()

    by_target = AuditByTargetIndex()


class PolicyItem(Model):
    """Retention and masking policies: ``policy_kind`` (retention|masking) + ``policy_id``."""

    class Meta:
        table_name = "unbound-policies"
        billing_mode = "PAY_PER_REQUEST"

    policy_kind = UnicodeAttribute(hash_key=True)
    policy_id = UnicodeAttribute(range_key=True)
    document = MapAttribute[str, Any](default=dict)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()
    version = VersionAttribute()


class IdempotencyItem(Model):
    """Powertools idempotency records (its default attribute names); declared here to be provisioned."""

    class Meta:
        table_name = "unbound-idempotency"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


class CounterItem(Model):
    """Rolling counters (e.g. calls per tag per hour for alert rules); expire by TTL."""

    class Meta:
        table_name = "unbound-counters"
        billing_mode = "PAY_PER_REQUEST"

    counter_id = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
    ttl = TTLAttribute(null=True)


class DailyStatsItem(Model):
    """Daily statistics rollup (``callsight.stats``). Partition ``<YYYY-MM-DD>``: a ``meta`` item naming
    the current generation (with its cells inline, a JSON list, while they fit) and its cells
    ``cell#<generation>#<n>`` (JSON of sums and counts).
    Partition ``dirty``: one marker per closed day whose calls changed after it was rolled up.
    Partition ``call-days``: items ``earliest`` and ``latest``, the first and last UTC day (``data``) a
    call started on, widened when a call is created or replaced (``GET /calls`` lists the ``by-day``
    index between them; ``callsight.storage.daily_stats``)."""

    class Meta:
        table_name = "unbound-daily-stats"
        billing_mode = "PAY_PER_REQUEST"

    day_key = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    data = UnicodeAttribute(null=True)
    generation = UnicodeAttribute(null=True)
    token = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    calls = NumberAttribute(null=True)


class ConsentItem(Model):
    """One subject on the consent registry / stop list, by the keyed hash of their number (never the
    number): ``state`` opted_out | consent_revoked, where it came from, when and by whom."""

    class Meta:
        table_name = "unbound-consent"
        billing_mode = "PAY_PER_REQUEST"

    phone_hash = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()
    source = UnicodeAttribute()
    set_at = UTCDateTimeAttribute()
    set_by = UnicodeAttribute()
    phone_masked = UnicodeAttribute()
    #: Keyed hashes of the other forms the number may be stored under (erasure tombstones are lifted by them).
    other_hashes = ListAttribute(of=UnicodeAttribute, default=list)
    #: When the entry stops applying (epoch seconds; read filters on it, TTL removes it later).
    expires_at = NumberAttribute(null=True)
    ttl = TTLAttribute(null=True)


class VoicePrintItem(Model):
    """One agent's enrolled voice print (or their recorded consent awaiting one), by agent id.

    ``embedding``: the L2-normalised speaker embedding as float16 bytes (biometric data: never
    logged, never returned by the API; ``callsight.models.voiceprint``)."""

    class Meta:
        table_name = "unbound-voiceprints"
        billing_mode = "PAY_PER_REQUEST"

    agent_id = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()
    consented_by = UnicodeAttribute()
    consented_at = UTCDateTimeAttribute()
    note = UnicodeAttribute(null=True)
    embedding = BinaryAttribute(null=True, legacy_encoding=False)
    encoder = UnicodeAttribute(null=True)
    enrolled_at = UTCDateTimeAttribute(null=True)
    source_call_id = UnicodeAttribute(null=True)
    speech_s = NumberAttribute(null=True)


#: Logical table name (``callsight.resources``) → its model.
TABLE_MODELS: dict[str, type[Model]] = {
    resources.CALLS_TABLE: CallItem,
    resources.SEARCH_INDEX_TABLE: SearchEntryItem,
    resources.AUDIT_LOG_TABLE: AuditEntryItem,
    resources.POLICIES_TABLE: PolicyItem,
    resources.IDEMPOTENCY_TABLE: IdempotencyItem,
    resources.COUNTERS_TABLE: CounterItem,
    resources.DAILY_STATS_TABLE: DailyStatsItem,
    resources.CONSENT_TABLE: ConsentItem,
    resources.VOICEPRINTS_TABLE: VoicePrintItem,
}


def bind_tables(settings: Settings) -> None:
    """Point every model at its physical table, region and endpoint (idempotent, cheap)."""
    creds = emulator_credentials(settings)
    host = settings.endpoint_for("dynamodb")
    for logical, model in TABLE_MODELS.items():
        meta: Any = model.Meta
        name = settings.name(logical)
        if (
            meta.table_name == name
            and getattr(meta, "host", None) == host
            and getattr(meta, "region", None) == settings.region
        ):
            continue
        meta.table_name = name
        meta.host = host
        meta.region = settings.region
        meta.aws_access_key_id = creds.get("aws_access_key_id")
        meta.aws_secret_access_key = creds.get("aws_secret_access_key")
        model._connection = None


_M = TypeVar("_M", bound=Model)


def condition_failed(exc: Exception) -> bool:
    """Whether a PynamoDB write failed on its condition (ConditionalCheckFailedException), not on AWS."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def get_or_none(
    model: type[_M],
    hash_key: Any,
    range_key: Any = None,
    *,
    consistent_read: bool = False,
    attributes_to_get: Sequence[str] | None = None,
) -> _M | None:
    """The item with this key, or None when there is none (``Model.get`` raises ``DoesNotExist``)."""
    try:
        return model.get(
            hash_key, range_key, consistent_read=consistent_read, attributes_to_get=attributes_to_get
        )
    except model.DoesNotExist:
        return None
