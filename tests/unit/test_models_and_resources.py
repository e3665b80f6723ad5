"""Status life cycle, S3 event parsing, and that resources and table schemas agree."""

from __future__ import annotations

import itertools
import json

import pytest
from callsight import resources
from callsight.config import Settings
from callsight.models.call import ALLOWED_TRANSITIONS, CallStatus, can_transition
from callsight.stages.ingest.events import PoisonMessage, parse_body
from callsight.storage.tables import TABLE_MODELS, CallItem

from tests.conftest import load_event


def test_happy_path_and_terminal_states() -> None:
    path = [CallStatus.RECEIVED, CallStatus.TRANSCRIBING, CallStatus.TRANSCRIBED, CallStatus.ANALYZED]
    assert all(can_transition(a, b) for a, b in itertools.pairwise(path))
    assert not can_transition(CallStatus.DELETED, CallStatus.RECEIVED)
    assert not can_transition(CallStatus.RECEIVED, CallStatus.ANALYZED)
    assert can_transition(CallStatus.QUARANTINED, CallStatus.RECEIVED)
    assert set(ALLOWED_TRANSITIONS) == set(CallStatus)
    assert all(can_transition(s, CallStatus.DELETED) for s in CallStatus if s is not CallStatus.DELETED)


def test_sample_s3_event_parses_and_decodes_keys() -> None:
    event = load_event("ingest/s3_object_created_encoded_key_via_sqs.json")
    [parsed] = parse_body(event["Records"][0]["body"]) or []
    assert parsed.key == "recordings/звонок клиента +7 916.wav"
    assert parsed.event_name == "ObjectCreated:Put"


def test_test_event_is_recognised() -> None:
    event = load_event("ingest/s3_test_event_via_sqs.json")
    assert parse_body(event["Records"][0]["body"]) is None


@pytest.mark.parametrize(
    "body", ["this is not an S3 event", "[]", json.dumps({"Records": [{"nope": 1}]}), "{}"]
)
def test_poison_bodies_raise(body: str) -> None:
    with pytest.raises(PoisonMessage):
        parse_body(body)


def test_every_declared_table_has_a_model_and_every_queue_a_dlq() -> None:
    assert set(TABLE_MODELS) == set(resources.TABLES)
    settings = Settings(prefix="acme-prod")
    names = {spec.physical(settings) for spec in resources.QUEUES} | {
        spec.dlq_physical(settings) for spec in resources.QUEUES
    }
    assert len(names) == 2 * len(resources.QUEUES)
    assert all(name.startswith("acme-prod-") for name in names)
    for spec in resources.QUEUES:
        assert spec.max_receive_count >= 1 and spec.visibility_timeout_s > 0


def test_calls_table_declares_the_required_indexes_and_ttl() -> None:
    schema = CallItem._get_schema()
    indexes = {
        index["index_name"]: [
            k["AttributeName"] for k in sorted(index["key_schema"], key=lambda k: k["KeyType"] != "HASH")
        ]
        for index in schema["global_secondary_indexes"]
    }
    assert indexes == {
        "by-agent": ["agent_id", "started_at"],
        "by-day": ["call_day", "started_at"],
        "by-update": ["feed_shard", "updated_at"],
        "by-customer": ["customer_phone_hash", "started_at"],
        "by-customer-alt": ["customer_phone_alt_hash", "started_at"],
        "by-expiry": ["expiry_shard", "expires_at"],
        "alerts": ["alert_shard", "alert_at"],
    }
    assert CallItem._ttl_attribute().attr_name == "ttl"
