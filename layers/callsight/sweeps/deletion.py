"""Deleting a call and everything it left behind, with a receipt in the audit log.

Used by the retention sweep and by erasure. Safe to run twice or concurrently: the call is first
marked DELETED (a claim that survives a crash, so a rerun resumes: a sweep once the lease has run
out, an erasure at once), deletions of things already gone
are no-ops, the receipt is written once (looked up by target before writing), and the call item
goes last so an interrupted run is always found again through the expiry or customer index.
"""

from __future__ import annotations

import logging
from collections import Counter
from enum import StrEnum

from pydantic import BaseModel, Field

from callsight.config import Settings
from callsight.models.call import CallRecord
from callsight.models.recording_keys import sidecar_keys_for
from callsight.storage.artefacts import CallArtefacts, key_digest
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository, CallUpdates
from callsight.storage.idempotency_records import IdempotencyRecords
from callsight.storage.policy_store import PolicyStore
from callsight.storage.search_index import SearchIndex

logger = logging.getLogger(__name__)


class DeletionReason(StrEnum):
    RETENTION = "retention"
    ERASURE = "erasure"
    OPT_OUT = "opt_out"  # the number was found on the stop list after the call was recorded


class DeletionResult(StrEnum):
    DELETED = "deleted"
    HELD = "held"  # legal hold on the call or its subject: kept
    GONE = "gone"  # nothing left to delete
    WOULD_DELETE = "would_delete"  # dry run


class DeletionOutcome(BaseModel):
    call_id: str
    result: DeletionResult
    objects: int = 0
    index_entries: int = 0
    detail: str | None = None
    #: digests of the deleted object keys (idempotency records name keys by digest); not reported
    key_digests: list[str] = Field(default_factory=list, exclude=True)


class Actor(BaseModel):
    actor: str
    role: str
    request_id: str | None = None


class SweepReport(BaseModel):
    """What a retention sweep or an erasure did (or, on a dry run, would do) to each call."""

    dry_run: bool
    checked: int = 0
    outcomes: list[DeletionOutcome] = Field(default_factory=list)

    def count(self, result: DeletionResult) -> int:
        return sum(o.result is result for o in self.outcomes)

    @property
    def incomplete(self) -> list[DeletionOutcome]:
        """Calls another run is still deleting (their data may still be there)."""
        return [o for o in self.outcomes if o.result is DeletionResult.GONE and o.detail]


def purge_idempotency(records: IdempotencyRecords, report: SweepReport) -> None:
    """Forget the idempotency records that name a deleted call (or its object keys' digests)."""
    deleted = [o for o in report.outcomes if o.result is DeletionResult.DELETED]
    records.purge_mentions(
        {o.call_id for o in deleted} | {digest for o in deleted for digest in o.key_digests}
    )


class CallDeleter:
    def __init__(self, settings: Settings) -> None:
        self.calls = CallRepository(settings)
        self.updates = CallUpdates(settings)
        self.artefacts = CallArtefacts(settings)
        self.index = SearchIndex(settings)
        self.audit = AuditLog(settings)
        self.policies = PolicyStore(settings)

    def held(self, call: CallRecord) -> str | None:
        if call.legal_hold:
            return "legal hold on the call"
        if any(
            self.policies.subject_on_hold(h) for h in (call.customer_phone_hash, call.customer_phone_alt_hash)
        ):
            return "legal hold on the customer"
        return None

    def delete(
        self,
        call_id: str,
        reason: DeletionReason,
        who: Actor,
        *,
        dry_run: bool = False,
        policy: str | None = None,
    ) -> DeletionOutcome:
        call = self.calls.get(call_id)
        if call is None:
            return DeletionOutcome(call_id=call_id, result=DeletionResult.GONE)
        hold = self.held(call)
        if hold:
            if not dry_run:
                self.audit.record(
                    actor=who.actor, role=who.role, action=f"{reason.value}.skip", target=f"call:{call_id}",
                    outcome="held", request_id=who.request_id, details={"why": hold},
                )  # fmt: skip
            return DeletionOutcome(call_id=call_id, result=DeletionResult.HELD, detail=hold)
        if dry_run:  # counts exactly what the run below deletes
            return DeletionOutcome(
                call_id=call_id,
                result=DeletionResult.WOULD_DELETE,
                objects=len(self.artefacts.versions(call)),
                index_entries=self.index.count_call(call_id),
            )
        # An erasure is a person's request: it takes over a lease left by a killed run instead of
        # reporting success while the call's data is still there (every step below is idempotent).
        take_over = reason in (DeletionReason.ERASURE, DeletionReason.OPT_OUT)
        if not self.updates.claim_deletion(call_id, reason.value, take_over=take_over):
            return DeletionOutcome(
                call_id=call_id, result=DeletionResult.GONE, detail="another sweep is deleting it"
            )
        deleted = self.artefacts.delete_all(call)
        entries = self.index.delete_call(call_id)
        self._receipt(call, reason, who, deleted, entries, policy)
        self.updates.delete(call_id)
        logger.info(
            "call deleted", extra={"call_id": call_id, "reason": reason.value, "objects": len(deleted)}
        )
        return DeletionOutcome(
            call_id=call_id, result=DeletionResult.DELETED, objects=len(deleted), index_entries=entries,
            key_digests=sorted({key_digest(key) for key in [call.source.key, *sidecar_keys_for(call.source.key)]}
                               | {key_digest(key) for _, key, _ in deleted}),
        )  # fmt: skip

    def _receipt(
        self,
        call: CallRecord,
        reason: DeletionReason,
        who: Actor,
        deleted: list[tuple[str, str, str]],
        entries: int,
        policy: str | None,
    ) -> None:
        target = f"call:{call.call_id}"
        action = f"{reason.value}.delete"
        if any(e.action == action for e in self.audit.for_target(target)):
            return  # a previous, interrupted run already wrote it
        per_bucket = Counter(bucket for bucket, _, _ in deleted)
        self.audit.record(
            actor=who.actor, role=who.role, action=action, target=target, request_id=who.request_id,
            details={
                "policy": policy or call.retention_policy, "expired_at": call.expires_at.isoformat() if call.expires_at else None,
                "object_versions": dict(per_bucket), "keys": sorted({key_digest(key) for _, key, _ in deleted}),
                "index_entries": entries, "call_item": True, "started_at": call.started_at.isoformat() if call.started_at else None,
            },
        )  # fmt: skip
