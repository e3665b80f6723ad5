"""Powertools idempotency for a function: its key expression, TTL and the shared DynamoDB table."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from callsight.config import Settings
from callsight.resources import IDEMPOTENCY_TABLE
from callsight.storage import aws


def idempotency_for(
    settings: Settings, key_jmespath: str
) -> tuple[IdempotencyConfig, DynamoDBPersistenceLayer]:
    """Config (records kept ``CALLSIGHT_IDEMPOTENCY_TTL_S``) and persistence on the idempotency table."""
    config = IdempotencyConfig(
        event_key_jmespath=key_jmespath, expires_after_seconds=settings.idempotency_ttl_s
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.name(IDEMPOTENCY_TABLE), boto3_client=aws.client("dynamodb", settings)
    )
    return config, persistence
