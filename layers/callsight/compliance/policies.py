"""Retention and masking policies (pure): validation, and which retention applies to a call.

Retention: a default period plus policies matched by tag (category) or queue; when several apply,
the longest wins (a finance call tagged for 3 years is never cut to the 180-day default).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from callsight.models.call import CallRecord

DEFAULT_RETENTION_ID = "default"
DEFAULT_RETENTION_DAYS = 180


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    days: int = Field(gt=0, le=36500, description="Keep calls this many days after they started.")
    tags: list[str] = Field(default_factory=list, description="Applies to calls with any of these tags.")
    queues: list[str] = Field(default_factory=list, description="Applies to calls of these PBX queues.")
    description: str | None = None

    def applies_to(self, call: CallRecord) -> bool:
        if self.policy_id == DEFAULT_RETENTION_ID:
            return True
        return bool(set(self.tags) & set(call.tags)) or (call.queue is not None and call.queue in self.queues)


class MaskingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entity_types: list[str] = Field(
        default_factory=lambda: ["phone", "card", "email", "person", "passport", "snils", "inn"]
    )
    mask_after_days: int = Field(default=30, ge=0)
    keep_unmasked_transcript: bool = False
    keep_original_audio: bool = False
    mask_order_numbers: bool = False


DEFAULT_RETENTION = RetentionPolicy(policy_id=DEFAULT_RETENTION_ID, days=DEFAULT_RETENTION_DAYS)


def retention_for(call: CallRecord, policies: list[RetentionPolicy]) -> tuple[RetentionPolicy, datetime]:
    """The longest applicable policy and the moment the call expires under it."""
    applicable = [p for p in policies if p.applies_to(call)] or [DEFAULT_RETENTION]
    chosen = max(applicable, key=lambda p: p.days)
    start = call.started_at or call.created_at
    return chosen, start + timedelta(days=chosen.days)


def with_retention(call: CallRecord, policies: list[RetentionPolicy]) -> CallRecord:
    """The record with the longest applicable retention policy and its expiry set."""
    policy, expires_at = retention_for(call, policies)
    return call.model_copy(update={"retention_policy": policy.policy_id, "expires_at": expires_at})
