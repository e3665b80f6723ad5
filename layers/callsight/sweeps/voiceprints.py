"""Per-agent voice prints as personal data: opt-in, show, erase and enrollment, each audited.

A voice print is biometric: it is made only for an agent an admin opted in (their consent
recorded), only from a stereo call of that agent (the agent channel is known truth; the
transcriber does it, :meth:`VoicePrintService.enroll`), and erased with the entry on request
(:meth:`VoicePrintService.remove`; no other copy exists: transcripts keep only similarities).
Audit entries name the agent (``agent:<id>``) and never carry the vector. The table is
:mod:`callsight.storage.voiceprints`.
"""

from __future__ import annotations

import logging

import numpy.typing as npt
from pydantic import BaseModel, Field

from callsight.config import Settings
from callsight.models.voiceprint import VoicePrint, VoicePrintState, VoicePrintView
from callsight.storage.audit_log import AuditLog
from callsight.storage.voiceprints import VoicePrintStore
from callsight.sweeps.deletion import Actor

logger = logging.getLogger(__name__)

#: The actor named in the audit entry of an enrollment (the transcriber, on a call of the agent).
TRANSCRIBER = Actor(actor="system:transcriber", role="system")


class VoicePrintMissing(LookupError):
    """No voice-print entry (neither consent nor print) for that agent."""


class VoicePrintChange(BaseModel):
    entry: VoicePrintView
    created: bool = Field(description="False: the agent was already opted in (or enrolled); nothing changed.")


class VoicePrintRemoval(BaseModel):
    agent_id: str
    removed_state: VoicePrintState
    print_erased: bool = Field(description="An enrolled print was erased (not only the consent).")


def target(agent_id: str) -> str:
    return f"agent:{agent_id}"


class VoicePrintService:
    def __init__(self, settings: Settings, audit: AuditLog | None = None) -> None:
        self.store = VoicePrintStore(settings)
        self.audit = audit or AuditLog(settings)

    def opt_in(self, agent_id: str, who: Actor, note: str | None = None) -> VoicePrintChange:
        """Record the agent's consent; their next stereo call enrolls a print. Idempotent."""
        entry, created = self.store.opt_in(agent_id, who.actor, note)
        self.audit.record(
            actor=who.actor, role=who.role, action="voiceprint.opt_in", target=target(agent_id),
            request_id=who.request_id, details={"created": created, "state": entry.state.value},
        )  # fmt: skip
        logger.info("voice print opt-in recorded", extra={"agent_id": agent_id, "created": created})
        return VoicePrintChange(entry=entry, created=created)

    def show(self, agent_id: str, who: Actor) -> VoicePrintView:
        entry = self.store.get(agent_id, consistent=True)
        self.audit.record(
            actor=who.actor, role=who.role, action="voiceprint.read", target=target(agent_id),
            request_id=who.request_id, outcome="ok" if entry else "not_found",
        )  # fmt: skip
        if entry is None:
            raise VoicePrintMissing(f"agent {agent_id!r} is not opted in to voice prints (no entry)")
        return entry

    def remove(self, agent_id: str, who: Actor) -> VoicePrintRemoval:
        """Withdraw the opt-in and erase the print, if any (the only copy)."""
        entry = self.store.delete(agent_id)
        if entry is None:
            self.audit.record(
                actor=who.actor, role=who.role, action="voiceprint.remove", target=target(agent_id),
                request_id=who.request_id, outcome="not_found",
            )  # fmt: skip
            raise VoicePrintMissing(f"agent {agent_id!r} has no voice-print entry to remove")
        erased = entry.state is VoicePrintState.ENROLLED
        self.audit.record(
            actor=who.actor, role=who.role, action="voiceprint.remove", target=target(agent_id),
            request_id=who.request_id, details={"removed_state": entry.state.value, "print_erased": erased},
        )  # fmt: skip
        logger.info("voice print entry removed", extra={"agent_id": agent_id, "print_erased": erased})
        return VoicePrintRemoval(agent_id=agent_id, removed_state=entry.state, print_erased=erased)

    # --- the transcriber's side -------------------------------------------------------------------
    def wants_enrollment(self, agent_id: str | None) -> bool:
        """Whether a stereo call of this agent should make a print: only while ``opted_in`` (an
        enrolled print is not refreshed; remove and opt in again to re-enroll)."""
        entry = self.store.get(agent_id)
        return entry is not None and entry.state is VoicePrintState.OPTED_IN

    def enroll(
        self, agent_id: str, embedding: npt.ArrayLike, *, encoder: str, call_id: str, speech_s: float
    ) -> bool:
        """Store the print made from ``call_id`` if the agent is still opted in; audited either way."""
        stored = self.store.enroll(
            agent_id, embedding, encoder=encoder, source_call_id=call_id, speech_s=speech_s
        )
        self.audit.record(
            actor=TRANSCRIBER.actor, role=TRANSCRIBER.role, action="voiceprint.enroll", target=target(agent_id),
            outcome="ok" if stored else "skipped",
            details={"call_id": call_id, "encoder": encoder, "speech_s": round(speech_s, 2)}
            | ({} if stored else {"why": "no longer opted in"}),
        )  # fmt: skip
        return stored

    def enrolled_print(self, agent_id: str | None) -> VoicePrint | None:
        """The print used on the agent's mono calls (reads are by the transcriber, for that call only)."""
        return self.store.enrolled_print(agent_id)
