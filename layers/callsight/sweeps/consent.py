"""The consent registry's operations: add, remove and list stop-list entries, each audited.

Adding ``consent_revoked`` runs :class:`~callsight.sweeps.erasure.SubjectErasure`
(past calls deleted, later uploads fenced by tombstones); removing it, or turning it into
``opted_out``, lifts the fence for later uploads (what was erased stays erased). What ingest does
with a listed number is :func:`callsight.models.consent.ingest_verdict`; the table is
:mod:`callsight.storage.consent_registry`. No raw number is stored, logged or audited: entries and
audit entries name the subject by keyed hash (``subject:<hash>``) and show it masked.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from callsight.config import Settings
from callsight.models.consent import ConsentEntry, ConsentState, RegistrySubject, registry_subject
from callsight.storage.consent_registry import ConsentRegistry
from callsight.sweeps.deletion import Actor, DeletionResult, SweepReport
from callsight.sweeps.erasure import SubjectErasure

logger = logging.getLogger(__name__)


class ConsentMissing(LookupError):
    """No registry entry for that subject."""


class ConsentChange(BaseModel):
    entry: ConsentEntry
    previous_state: ConsentState | None = Field(description="The state before (null: newly listed).")
    erasure: SweepReport | None = Field(
        default=None, description="consent_revoked: the erasure of the subject's past calls."
    )
    fence_lifted: bool = Field(
        default=False, description="consent_revoked → opted_out: later uploads are no longer fenced."
    )


class ConsentRemoval(BaseModel):
    phone_hash: str
    removed_state: ConsentState
    fence_lifted: bool = Field(description="The entry was consent_revoked: later uploads are recorded again.")


class ConsentPage(BaseModel):
    items: list[ConsentEntry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class ConsentService:
    def __init__(self, settings: Settings, erasure: SubjectErasure | None = None) -> None:
        self.settings = settings
        self.erasure = erasure or SubjectErasure(settings)
        self.registry = ConsentRegistry(settings)
        self.audit = self.erasure.audit

    def subject(self, phone: str) -> RegistrySubject:
        """The validated subject of ``phone`` (raises ``InvalidSubjectPhone`` naming the problem)."""
        key = self.settings.phone_hash_key.get_secret_value().encode("utf-8")
        return registry_subject(phone, self.settings.phone_region, key)

    def add(
        self,
        phone: str,
        state: ConsentState,
        source: str,
        who: Actor,
        *,
        expires_at: datetime | None = None,
    ) -> ConsentChange:
        """List the subject (or update their entry: state, source, time, who). The entry is written
        before the erasure runs, so ingest fences the subject even if the erasure is interrupted;
        adding again reruns it (idempotent)."""
        subject = self.subject(phone)
        previous = self.registry.get(subject.phone_hash, consistent=True)
        entry = ConsentEntry(
            phone_hash=subject.phone_hash, state=state, source=source, set_at=datetime.now(UTC),
            set_by=who.actor, phone_masked=subject.masked, other_hashes=subject.other_hashes,
            expires_at=expires_at,
        )  # fmt: skip
        self.registry.put(entry)
        change = ConsentChange(entry=entry, previous_state=previous.state if previous else None)
        if state is ConsentState.CONSENT_REVOKED:
            change.erasure = self.erasure.erase(phone, who, fence_until=expires_at)
        elif previous is not None and previous.state is ConsentState.CONSENT_REVOKED:
            change.fence_lifted = self._lift_fence(previous)
        erasure = change.erasure
        self.audit.record(
            actor=who.actor, role=who.role, action="consent.add", target=f"subject:{subject.phone_hash}",
            request_id=who.request_id,
            details={
                "state": state.value, "source": source, "previous_state": previous.state.value if previous else None,
                "expires_at": expires_at.isoformat() if expires_at else None, "fence_lifted": change.fence_lifted,
                "erased_calls": erasure.count(DeletionResult.DELETED) if erasure else None,
                "held_calls": erasure.count(DeletionResult.HELD) if erasure else None,
            },
        )  # fmt: skip
        logger.info("consent entry set", extra={"state": state.value, "source": source})
        return change

    def remove(
        self, who: Actor, *, phone: str | None = None, phone_hash: str | None = None
    ) -> ConsentRemoval:
        """Take the subject (by number or by the hash a listing shows) off the registry. Removing
        ``consent_revoked`` lifts the fence on later uploads; past erasures stay done."""
        if (phone is None) == (phone_hash is None):
            raise ValueError("give exactly one of phone or phone_hash")
        key = self.subject(phone).phone_hash if phone is not None else str(phone_hash)
        entry = self.registry.get(key, consistent=True, include_expired=True)
        target = f"subject:{key}"
        if entry is None or not self.registry.delete(key):
            self.audit.record(
                actor=who.actor, role=who.role, action="consent.remove", target=target,
                request_id=who.request_id, outcome="not_found",
            )  # fmt: skip
            raise ConsentMissing("no consent registry entry for this subject")
        lifted = self._lift_fence(entry) if entry.state is ConsentState.CONSENT_REVOKED else False
        self.audit.record(
            actor=who.actor, role=who.role, action="consent.remove", target=target, request_id=who.request_id,
            details={"removed_state": entry.state.value, "source": entry.source, "fence_lifted": lifted},
        )  # fmt: skip
        logger.info("consent entry removed", extra={"state": entry.state.value, "fence_lifted": lifted})
        return ConsentRemoval(phone_hash=key, removed_state=entry.state, fence_lifted=lifted)

    def list(
        self, who: Actor, *, limit: int = 50, cursor: str | None = None, state: ConsentState | None = None
    ) -> ConsentPage:
        items, after = self.registry.page(limit, cursor, state)
        self.audit.record(
            actor=who.actor, role=who.role, action="consent.list", target="consent", request_id=who.request_id,
            details={"state": state.value if state else None, "returned": len(items), "continued": cursor is not None},
        )  # fmt: skip
        return ConsentPage(items=items, next_cursor=after)

    def _lift_fence(self, entry: ConsentEntry) -> bool:
        """Remove the erasure tombstones of every form of the subject's number (the entry itself,
        which ingest also fences by, is replaced or deleted by the caller)."""
        for phone_hash in [entry.phone_hash, *entry.other_hashes]:
            self.erasure.policies.lift_subject_erased(phone_hash)
        return True
