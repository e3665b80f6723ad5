"""The retention sweep and retention-policy changes.

The sweep pages through the ``by-expiry`` index (calls due by now, oldest first) — never a table
scan — and deletes each due call with :class:`~callsight.sweeps.deletion.CallDeleter` (held calls
are kept). A policy change recomputes every call's expiry, resumably. Every action writes the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from callsight.compliance.policies import RetentionPolicy, retention_for
from callsight.config import Settings
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository, CallUpdates
from callsight.storage.idempotency_records import IdempotencyRecords
from callsight.storage.policy_store import PolicyStore
from callsight.sweeps.deletion import (
    Actor,
    CallDeleter,
    DeletionReason,
    DeletionResult,
    SweepReport,
    purge_idempotency,
)

SYSTEM = Actor(actor="retention-sweep", role="system")


class RetentionSweep:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deleter = CallDeleter(settings)
        self.calls = CallRepository(settings)
        self.updates = CallUpdates(settings)
        self.policies = PolicyStore(settings)
        self.audit = AuditLog(settings)
        self.idempotency = IdempotencyRecords(settings)

    def run(self, *, now: datetime | None = None, dry_run: bool = False, who: Actor = SYSTEM) -> SweepReport:
        """Delete the calls due by ``now`` (held ones kept); a dry run only reports them."""
        report = SweepReport(dry_run=dry_run)
        due = self.calls.ids_expiring_by(now or datetime.now(UTC))
        for call_id in due:
            report.checked += 1
            report.outcomes.append(
                self.deleter.delete(call_id, DeletionReason.RETENTION, who, dry_run=dry_run)
            )
        if not dry_run:
            purge_idempotency(self.idempotency, report)
            self.audit.record(
                actor=who.actor, role=who.role, action="retention.sweep", target="calls", request_id=who.request_id,
                details={"due": report.checked, "deleted": report.count(DeletionResult.DELETED),
                         "held": report.count(DeletionResult.HELD)},
            )  # fmt: skip
        return report

    def set_policy(self, policy: RetentionPolicy, who: Actor, *, page_size: int = 100) -> int:
        """Store ``policy`` and recompute ``expires_at`` of every call, resumably (a checkpoint per
        page: a rerun after a crash continues where it stopped). Returns calls changed."""
        self.policies.put_retention(policy, who.actor)
        self.audit.record(
            actor=who.actor, role=who.role, action="retention_policy.update", target=f"policy:{policy.policy_id}",
            request_id=who.request_id, details=policy.model_dump(mode="json"),
        )  # fmt: skip
        return self.recompute_expiries(who, page_size=page_size)

    def recompute_expiries(self, who: Actor, *, page_size: int = 100) -> int:
        name = "recompute-expiries"
        state: dict[str, Any] = self.policies.checkpoint(name) or {"changed": 0}
        policies = self.policies.retention_policies()
        last_key = state.get("last_key")
        changed = int(state.get("changed", 0))
        while True:
            page, last_key = self.calls.ids_page(page_size, last_key)
            for call_id in page:
                call = self.calls.get(call_id)
                if call is None or call.status.value == "DELETED":
                    continue
                policy, expires_at = retention_for(call, policies)
                current = int(call.expires_at.timestamp()) if call.expires_at else None
                if (policy.policy_id, int(expires_at.timestamp())) != (call.retention_policy, current):
                    self.updates.set_retention(call.call_id, policy.policy_id, expires_at)
                    changed += 1
            if not last_key:
                break
            self.policies.save_checkpoint(name, {"last_key": last_key, "changed": changed})
        self.policies.save_checkpoint(name, None)
        self.audit.record(
            actor=who.actor, role=who.role, action="retention.recompute", target="calls", request_id=who.request_id,
            details={"changed": changed},
        )  # fmt: skip
        return changed
