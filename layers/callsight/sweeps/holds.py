"""Legal holds: a held call, or every call of a held subject, is kept past retention and erasure
(:meth:`~callsight.sweeps.deletion.CallDeleter.held` checks both). Setting and releasing are audited."""

from __future__ import annotations

from callsight.config import Settings
from callsight.storage.audit_log import AuditLog
from callsight.storage.call_repository import CallUpdates
from callsight.storage.policy_store import PolicyStore
from callsight.sweeps.deletion import Actor
from callsight.sweeps.erasure import subject_hashes


class LegalHolds:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.updates = CallUpdates(settings)
        self.policies = PolicyStore(settings)
        self.audit = AuditLog(settings)

    def hold_call(self, call_id: str, who: Actor, *, release: bool = False, reason: str = "") -> None:
        self.updates.set_legal_hold(call_id, not release)
        self.audit.record(
            actor=who.actor, role=who.role, action="legal_hold.release" if release else "legal_hold.set",
            target=f"call:{call_id}", request_id=who.request_id, details={"reason": reason},
        )  # fmt: skip

    def hold_subject(self, phone: str, who: Actor, *, release: bool = False, reason: str = "") -> None:
        hashes = subject_hashes(phone, self.settings)
        for phone_hash in hashes:  # every form the subject's calls may be stored under
            if release:
                self.policies.release_subject_hold(phone_hash)
            else:
                self.policies.set_subject_hold(phone_hash, who.actor, reason)
        self.audit.record(
            actor=who.actor, role=who.role, action="legal_hold.release" if release else "legal_hold.set",
            target=f"subject:{hashes[0]}", request_id=who.request_id, details={"reason": reason},
        )  # fmt: skip
