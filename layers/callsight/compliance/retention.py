"""The retention sweep, erasure by subject, legal holds and policy changes.

The sweep pages through the ``by-expiry`` index (calls due by now, oldest first) — never a table
scan — and deletes each due call with :class:`~callsight.compliance.deletion.CallDeleter`. Erasure
finds a subject's calls through the ``by-customer`` and ``by-customer-alt`` indexes by the keyed
hashes of every form the number may be stored under (the raw number is never stored). Every action writes the audit log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from callsight.compliance.audit import BrokenLink
from callsight.compliance.audit_verify import AuditVerifier
from callsight.compliance.deletion import Actor, CallDeleter, DeletionOutcome, DeletionReason, DeletionResult
from callsight.compliance.policies import RetentionPolicy, retention_for
from callsight.config import Settings
from callsight.phone import lookup_forms, phone_forms, phone_lookup_hash
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository, CallUpdates
from callsight.storage.idempotency_records import IdempotencyRecords
from callsight.storage.policy_store import PolicyStore

SYSTEM = Actor(actor="retention-sweep", role="system")


class InvalidPhone(ValueError):
    """The phone number cannot be normalised for the configured region."""


class SweepReport(BaseModel):
    dry_run: bool
    checked: int = 0
    outcomes: list[DeletionOutcome] = Field(default_factory=list)

    def count(self, result: DeletionResult) -> int:
        return sum(o.result is result for o in self.outcomes)

    @property
    def incomplete(self) -> list[DeletionOutcome]:
        """Calls another run is still deleting (their data may still be there)."""
        return [o for o in self.outcomes if o.result is DeletionResult.GONE and o.detail]


class Compliance:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deleter = CallDeleter(settings)
        self.calls = CallRepository(settings)
        self.updates = CallUpdates(settings)
        self.policies = PolicyStore(settings)
        self.audit = AuditLog(settings)
        self.idempotency = IdempotencyRecords(settings)

    # --- retention ----------------------------------------------------------------------------------
    def retention_sweep(
        self, *, now: datetime | None = None, dry_run: bool = False, who: Actor = SYSTEM
    ) -> SweepReport:
        report = SweepReport(dry_run=dry_run)
        due = self.calls.ids_expiring_by(now or datetime.now(UTC))
        for call_id in due:
            report.checked += 1
            report.outcomes.append(
                self.deleter.delete(call_id, DeletionReason.RETENTION, who, dry_run=dry_run)
            )
        if not dry_run:
            self._purge_idempotency(report)
            self.audit.record(
                actor=who.actor, role=who.role, action="retention.sweep", target="calls", request_id=who.request_id,
                details={"due": report.checked, "deleted": report.count(DeletionResult.DELETED),
                         "held": report.count(DeletionResult.HELD)},
            )  # fmt: skip
        return report

    def _purge_idempotency(self, report: SweepReport) -> None:
        deleted = [o for o in report.outcomes if o.result is DeletionResult.DELETED]
        self.idempotency.purge_mentions(
            {o.call_id for o in deleted} | {digest for o in deleted for digest in o.key_digests}
        )

    # --- erasure --------------------------------------------------------------------------------------
    def subject_hashes(self, phone: str) -> list[str]:
        """Keyed hashes of every form the subject's number may be stored under (its E.164 form
        first, the one audit entries name). A number with two plausible readings is refused."""
        region = self.settings.phone_region
        forms = phone_forms(phone, region)
        if not forms:
            raise InvalidPhone(f"{phone!r} is not a valid phone number for region {region}")
        if len(forms) > 1:
            raise InvalidPhone(
                f"{phone!r} is ambiguous ({' or '.join(forms)}): give it with + and the country code"
            )
        key = self.settings.phone_hash_key.get_secret_value().encode()
        return [phone_lookup_hash(form, key) for form in lookup_forms(phone, region)]

    def subject_hash(self, phone: str) -> str:
        return self.subject_hashes(phone)[0]

    def subject_calls(self, hashes: list[str]) -> list[str]:
        """Call ids of a subject: by every stored form, under the likeliest or the second reading."""
        found: dict[str, None] = {}
        for phone_hash in hashes:
            found.update(dict.fromkeys(self.calls.ids_of_customer(phone_hash)))
        return list(found)

    def erase_subject(
        self, phone: str, who: Actor, *, dry_run: bool = False, fence_until: datetime | None = None
    ) -> SweepReport:
        """Delete every call of ``phone``'s subject (held ones kept) and fence their later uploads
        (until ``fence_until``, or until lifted: :meth:`PolicyStore.lift_subject_erased`)."""
        hashes = self.subject_hashes(phone)
        subject = hashes[0]
        report = SweepReport(dry_run=dry_run)
        if not dry_run:  # first: an upload or message racing this erasure is fenced by ingest
            for phone_hash in hashes:
                self.policies.set_subject_erased(phone_hash, who.actor, fence_until)
        call_ids = self.subject_calls(hashes)
        for call_id in call_ids:
            report.checked += 1
            report.outcomes.append(self.deleter.delete(call_id, DeletionReason.ERASURE, who, dry_run=dry_run))
        if not dry_run:
            self._purge_idempotency(report)
        # A preview looks up a person's calls: audited like the erasure itself.
        outcome = "no_calls_found" if not call_ids else ("incomplete" if report.incomplete else "ok")
        self.audit.record(
            actor=who.actor, role=who.role, action="erasure.preview" if dry_run else "erasure.request",
            target=f"subject:{subject}", request_id=who.request_id, outcome=outcome,
            details={"calls": report.checked, "deleted": report.count(DeletionResult.DELETED),
                     "would_delete": report.count(DeletionResult.WOULD_DELETE),
                     "incomplete": [o.call_id for o in report.incomplete],
                     "held": [o.call_id for o in report.outcomes if o.result is DeletionResult.HELD]},
        )  # fmt: skip
        return report

    # --- legal holds ------------------------------------------------------------------------------------
    def hold_call(self, call_id: str, who: Actor, *, release: bool = False, reason: str = "") -> None:
        self.updates.set_legal_hold(call_id, not release)
        self.audit.record(
            actor=who.actor, role=who.role, action="legal_hold.release" if release else "legal_hold.set",
            target=f"call:{call_id}", request_id=who.request_id, details={"reason": reason},
        )  # fmt: skip

    def hold_subject(self, phone: str, who: Actor, *, release: bool = False, reason: str = "") -> None:
        hashes = self.subject_hashes(phone)
        subject = hashes[0]
        for phone_hash in hashes:  # every form the subject's calls may be stored under
            if release:
                self.policies.release_subject_hold(phone_hash)
            else:
                self.policies.set_subject_hold(phone_hash, who.actor, reason)
        self.audit.record(
            actor=who.actor, role=who.role, action="legal_hold.release" if release else "legal_hold.set",
            target=f"subject:{subject}", request_id=who.request_id, details={"reason": reason},
        )  # fmt: skip

    # --- policy changes ---------------------------------------------------------------------------------
    def set_retention_policy(self, policy: RetentionPolicy, who: Actor, *, page_size: int = 100) -> int:
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

    # --- audit ---------------------------------------------------------------------------------------------
    def verify_audit(self, first: date, last: date) -> tuple[int, BrokenLink | None]:
        """Check every chain of the days ``first``..``last``, by its keyed links and against the
        anchored daily heads; (entries checked, first problem). The full report:
        :class:`~callsight.compliance.audit_verify.AuditVerifier`."""
        report = AuditVerifier(self.settings, self.audit).verify(first, last)
        return report.checked, (report.problems[0] if report.problems else None)
