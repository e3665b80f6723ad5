"""Erasure by subject: every call of a phone number's owner deleted, later uploads fenced.

The subject's calls are found through the ``by-customer`` and ``by-customer-alt`` indexes by the
keyed hashes of every form the number may be stored under (the raw number is never stored); each
call goes through :class:`~callsight.sweeps.deletion.CallDeleter` (held calls are kept). A preview
(dry run) looks a person up, so it is audited like the erasure itself.
"""

from __future__ import annotations

from datetime import datetime

from callsight.config import Settings
from callsight.phone import lookup_forms, phone_forms, phone_lookup_hash
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallRepository
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


class InvalidPhone(ValueError):
    """The phone number cannot be normalised for the configured region."""


def subject_hashes(phone: str, settings: Settings) -> list[str]:
    """Keyed hashes of every form the subject's number may be stored under (its E.164 form first,
    the one audit entries name). A number with two plausible readings is refused."""
    region = settings.phone_region
    forms = phone_forms(phone, region)
    if not forms:
        raise InvalidPhone(f"{phone!r} is not a valid phone number for region {region}")
    if len(forms) > 1:
        raise InvalidPhone(
            f"{phone!r} is ambiguous ({' or '.join(forms)}): give it with + and the country code"
        )
    key = settings.phone_hash_key.get_secret_value().encode()
    return [phone_lookup_hash(form, key) for form in lookup_forms(phone, region)]


class SubjectErasure:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deleter = CallDeleter(settings)
        self.calls = CallRepository(settings)
        self.policies = PolicyStore(settings)
        self.audit = AuditLog(settings)
        self.idempotency = IdempotencyRecords(settings)

    def subject_hash(self, phone: str) -> str:
        """The keyed hash audit entries name the subject by (``subject:<hash>``)."""
        return subject_hashes(phone, self.settings)[0]

    def calls_of(self, hashes: list[str]) -> list[str]:
        """Call ids of a subject: by every stored form, under the likeliest or the second reading."""
        found: dict[str, None] = {}
        for phone_hash in hashes:
            found.update(dict.fromkeys(self.calls.ids_of_customer(phone_hash)))
        return list(found)

    def erase(
        self, phone: str, who: Actor, *, dry_run: bool = False, fence_until: datetime | None = None
    ) -> SweepReport:
        """Delete every call of ``phone``'s subject (held ones kept) and fence their later uploads
        (until ``fence_until``, or until lifted: :meth:`PolicyStore.lift_subject_erased`)."""
        hashes = subject_hashes(phone, self.settings)
        subject = hashes[0]
        report = SweepReport(dry_run=dry_run)
        if not dry_run:  # first: an upload or message racing this erasure is fenced by ingest
            for phone_hash in hashes:
                self.policies.set_subject_erased(phone_hash, who.actor, fence_until)
        call_ids = self.calls_of(hashes)
        for call_id in call_ids:
            report.checked += 1
            report.outcomes.append(self.deleter.delete(call_id, DeletionReason.ERASURE, who, dry_run=dry_run))
        if not dry_run:
            purge_idempotency(self.idempotency, report)
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
