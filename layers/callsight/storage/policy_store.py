"""Policies and subject legal holds in the policies table (``policy_kind`` + ``policy_id``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from callsight.compliance.policies import DEFAULT_RETENTION, MaskingPolicy, RetentionPolicy
from callsight.config import Settings
from callsight.storage.tables import PolicyItem, bind_tables, get_or_none

RETENTION = "retention"
MASKING = "masking"
SUBJECT_HOLD = "legal_hold"
ERASED_SUBJECT = "erased_subject"
CHECKPOINT = "checkpoint"


class PolicyStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    # --- retention / masking ---------------------------------------------------------------------
    def retention_policies(self) -> list[RetentionPolicy]:
        stored = [RetentionPolicy.model_validate(i.document.as_dict()) for i in PolicyItem.query(RETENTION)]
        if not any(p.policy_id == DEFAULT_RETENTION.policy_id for p in stored):
            stored.append(DEFAULT_RETENTION)
        return stored

    def put_retention(self, policy: RetentionPolicy, actor: str) -> None:
        self._put(RETENTION, policy.policy_id, policy.model_dump(mode="json"), actor)

    def masking_policy(self) -> MaskingPolicy:
        item = get_or_none(PolicyItem, MASKING, "default")
        return MaskingPolicy.model_validate(item.document.as_dict()) if item is not None else MaskingPolicy()

    def put_masking(self, policy: MaskingPolicy, actor: str) -> None:
        self._put(MASKING, "default", policy.model_dump(mode="json"), actor)

    # --- subject legal holds ---------------------------------------------------------------------
    def subject_on_hold(self, phone_hash: str | None) -> bool:
        if not phone_hash:
            return False
        return get_or_none(PolicyItem, SUBJECT_HOLD, phone_hash) is not None

    def set_subject_hold(self, phone_hash: str, actor: str, reason: str) -> None:
        self._put(SUBJECT_HOLD, phone_hash, {"reason": reason}, actor)

    def release_subject_hold(self, phone_hash: str) -> bool:
        return _delete(get_or_none(PolicyItem, SUBJECT_HOLD, phone_hash))

    # --- erased subjects (tombstones: ingest fences their later uploads and messages) ------------
    def subject_erased(self, *phone_hashes: str | None) -> str | None:
        """The first of ``phone_hashes`` whose subject was erased (and whose fence has not expired), else None."""
        for phone_hash in phone_hashes:
            if not phone_hash:
                continue
            item = get_or_none(PolicyItem, ERASED_SUBJECT, phone_hash)
            if item is not None:
                until = item.document.as_dict().get("fenced_until")
                if until is None or datetime.fromisoformat(until) > datetime.now(UTC):
                    return phone_hash
        return None

    def set_subject_erased(self, phone_hash: str, actor: str, until: datetime | None = None) -> None:
        """Leave (or renew) the tombstone; ``until``: the fence lapses then (none: until lifted)."""
        document = {"erased_at": datetime.now(UTC).isoformat()}
        if until is not None:
            document["fenced_until"] = until.astimezone(UTC).isoformat()
        self._put(ERASED_SUBJECT, phone_hash, document, actor)

    def lift_subject_erased(self, phone_hash: str) -> bool:
        """Remove the tombstone: later uploads of the subject are recorded again (what was erased
        stays erased). False when there was none."""
        return _delete(get_or_none(PolicyItem, ERASED_SUBJECT, phone_hash))

    # --- resumable batch checkpoints ---------------------------------------------------------------
    def checkpoint(self, name: str) -> dict[str, Any] | None:
        item = get_or_none(PolicyItem, CHECKPOINT, name)
        return dict(item.document.as_dict()) if item is not None else None

    def save_checkpoint(self, name: str, state: dict[str, Any] | None) -> None:
        if state is None:
            _delete(get_or_none(PolicyItem, CHECKPOINT, name))
            return
        self._put(CHECKPOINT, name, state, "system")

    def _put(self, kind: str, policy_id: str, document: dict[str, Any], actor: str) -> None:
        """Create or replace (read first: the item's version attribute guards concurrent edits)."""
        item = get_or_none(PolicyItem, kind, policy_id, consistent_read=True)
        if item is None:
            item = PolicyItem(kind, policy_id)
        item.document = document
        item.updated_at = datetime.now(UTC)
        item.updated_by = actor
        item.save()


def _delete(item: PolicyItem | None) -> bool:
    """Delete ``item`` if there is one; whether there was."""
    if item is None:
        return False
    item.delete()
    return True


class CachedRetentionPolicies:
    """Retention policies re-read at most every ``ttl_s`` seconds (a warm Lambda sees a change within a minute)."""

    def __init__(self, store: PolicyStore, ttl_s: float = 60.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._loaded_at = -ttl_s
        self._policies: list[RetentionPolicy] = []

    def policies(self) -> list[RetentionPolicy]:
        if time.monotonic() - self._loaded_at >= self.ttl_s:
            self._policies = self.store.retention_policies()
            self._loaded_at = time.monotonic()
        return self._policies
