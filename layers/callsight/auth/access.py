"""Who may see what (pure). Denials of a call are answered like absence, so nothing leaks existence.

- ``admin``: every call, unmasked PII, audio, admin actions.
- ``crm`` (service client): every call's detail and the change feed, unmasked PII (it owns the
  customer relationship), no admin actions.
- ``qa``: calls of the teams or queues in its token only; PII masked; redacted audio.
- ``agent``: own calls only (``agent_id``); PII masked; audio only if the policy allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from callsight.auth.tokens import Principal, Role
from callsight.models.call import CallRecord, CallStatus

PII_ROLES = frozenset({Role.ADMIN, Role.CRM})


def can_see_call(principal: Principal, call: CallRecord) -> bool:
    """A DELETED call (claimed by retention or erasure, maybe not fully gone yet) is nobody's."""
    if call.status is CallStatus.DELETED:
        return False
    return can_see_owner(principal, call.agent_id, call.team, call.queue)


@dataclass(frozen=True, order=True)
class Owner:
    """Who a call belongs to, as far as visibility goes (kept beside sums and index entries too)."""

    agent_id: str | None
    team: str | None
    queue: str | None

    @classmethod
    def of(cls, call: CallRecord) -> Owner:
        return cls(call.agent_id, call.team, call.queue)

    def visible_to(self, principal: Principal) -> bool:
        return can_see_owner(principal, self.agent_id, self.team, self.queue)


def can_see_owner(principal: Principal, agent_id: str | None, team: str | None, queue: str | None) -> bool:
    """Whether calls of this agent, team and queue are the principal's to see (one rule for calls
    and for the statistics cells that sum them)."""
    if principal.role in (Role.ADMIN, Role.CRM):
        return True
    if principal.role is Role.QA:
        return bool({team, queue} & set(principal.teams) - {None})
    return principal.agent_id is not None and agent_id == principal.agent_id


def may_see_pii(principal: Principal) -> bool:
    return principal.role in PII_ROLES


def may_get_audio(principal: Principal, *, agents_may_download: bool = False) -> bool:
    if principal.role is Role.AGENT:
        return agents_may_download
    return principal.role in (Role.ADMIN, Role.QA)


def is_admin(principal: Principal) -> bool:
    return principal.role is Role.ADMIN
