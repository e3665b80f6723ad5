"""Purging Powertools idempotency records that mention deleted calls.

Their keys are hashes, so records are found by what their stored result mentions (the call id).
The table only holds a day of records (``CALLSIGHT_IDEMPOTENCY_TTL_S``), so one paged scan per
sweep or erasure is bounded.
"""

from __future__ import annotations

from callsight.config import Settings
from callsight.resources import IDEMPOTENCY_TABLE
from callsight.storage import aws


class IdempotencyRecords:
    def __init__(self, settings: Settings) -> None:
        self._dynamodb = aws.client("dynamodb", settings)
        self.table = settings.name(IDEMPOTENCY_TABLE)

    def purge_mentions(self, call_ids: set[str]) -> int:
        if not call_ids:
            return 0
        purged = 0
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.table, ProjectionExpression="id, #d", ExpressionAttributeNames={"#d": "data"}
        ):
            for item in page.get("Items", []):
                data = item.get("data", {}).get("S", "")
                if any(call_id in data for call_id in call_ids):
                    self._dynamodb.delete_item(TableName=self.table, Key={"id": item["id"]})
                    purged += 1
        return purged
