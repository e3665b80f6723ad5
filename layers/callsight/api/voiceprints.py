"""Voice-print routes (admin only): opt an agent in, show their entry, erase it.

``/agents/{agent_id}/voiceprint``: POST records the agent's consent (``consent_confirmed`` must be
true), GET shows state and dates, DELETE withdraws the opt-in and erases the print. The operations
and their audit entries are :class:`callsight.sweeps.voiceprints.VoicePrintService`'s; this
module checks the role (a refusal is audited under the attempted action with outcome ``denied``)
and maps domain errors to 400/404. No answer ever carries the vector.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callsight.api.admin import admin_actor
from callsight.api.audited import audited
from callsight.api.service import BadRequest, NotFound
from callsight.auth.tokens import Principal
from callsight.config import Settings
from callsight.models.voiceprint import AGENT_ID_PATTERN, VoicePrintView
from callsight.sweeps.deletion import Actor
from callsight.sweeps.voiceprints import (
    VoicePrintChange,
    VoicePrintMissing,
    VoicePrintRemoval,
    VoicePrintService,
    target,
)

CONSENT_REQUIRED = (
    "a voice print is biometric data: record the agent's consent first and send "
    '{"consent_confirmed": true} (optionally with a "note", e.g. the consent form\'s reference)'
)


class VoicePrintOptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consent_confirmed: bool = Field(
        default=False, description="Must be true: the agent has consented to a voice print."
    )
    note: str | None = Field(default=None, max_length=500, description="E.g. the consent form's reference.")


def _agent(agent_id: str) -> str:
    if not re.fullmatch(AGENT_ID_PATTERN, agent_id):
        raise BadRequest(
            "agent_id must be 1-128 letters, digits or . _ @ + - (as the call metadata names the agent)"
        )
    return agent_id


class VoicePrintApi:
    def __init__(self, settings: Settings) -> None:
        self.service = VoicePrintService(settings)

    def _admin(self, principal: Principal, action: str, agent_id: str, request_id: str | None) -> Actor:
        return admin_actor(self.service.audit, principal, action, target(agent_id), request_id)

    def opt_in(
        self,
        principal: Principal,
        agent_id: str,
        read_body: Callable[[], dict[str, Any]],
        request_id: str | None = None,
    ) -> VoicePrintChange:
        """The body is read and validated after the role check: a non-admin learns nothing but 403."""
        who = self._admin(principal, "voiceprint.opt_in", agent_id, request_id)
        _agent(agent_id)
        body = VoicePrintOptIn.model_validate(read_body())
        if not body.consent_confirmed:
            audit = self.service.audit
            with audited(audit, principal, "voiceprint.opt_in", target(agent_id), request_id) as action:
                action.outcome, action.details["why"] = "refused", "consent not confirmed"
                raise BadRequest(CONSENT_REQUIRED)
        return self.service.opt_in(agent_id, who, body.note)

    def show(self, principal: Principal, agent_id: str, request_id: str | None = None) -> VoicePrintView:
        who = self._admin(principal, "voiceprint.read", agent_id, request_id)
        try:
            return self.service.show(_agent(agent_id), who)
        except VoicePrintMissing as exc:
            raise NotFound(str(exc)) from exc

    def remove(self, principal: Principal, agent_id: str, request_id: str | None = None) -> VoicePrintRemoval:
        who = self._admin(principal, "voiceprint.remove", agent_id, request_id)
        try:
            return self.service.remove(_agent(agent_id), who)
        except VoicePrintMissing as exc:
            raise NotFound(str(exc)) from exc
