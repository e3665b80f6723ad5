"""Who may see what (pure). Denials of a call are answered like absence, so nothing leaks existence.

- ``admin``: every call, unmasked PII, audio, admin actions.
- ``crm`` (service client): every call's detail and the change feed, unmasked PII (it owns the
  customer relationship), no admin actions.
- ``qa``: calls of the teams or queues in its token only; PII masked; redacted audio.
- ``agent``: own calls only (``agent_id``); PII masked; audio only if the policy allows.
"""

from __future__ import annotations

from callsight.auth.tokens import Principal, Role
from callsight.models.call import CallRecord

PII_ROLES = frozenset({Role.ADMIN, Role.CRM})


def can_see_call(principal: Principal, call: CallRecord) -> bool:
    if principal.role in (Role.ADMIN, Role.CRM):
        return True
    if principal.role is Role.QA:
        return bool({call.team, call.queue} & set(principal.teams) - {None})
    return principal.agent_id is not None and call.agent_id == principal.agent_id


def may_see_pii(principal: Principal) -> bool:
    return principal.role in PII_ROLES


def may_get_audio(principal: Principal, *, agents_may_download: bool = False) -> bool:
    if principal.role is Role.AGENT:
        return agents_may_download
    return principal.role in (Role.ADMIN, Role.QA)


def is_admin(principal: Principal) -> bool:
    return principal.role is Role.ADMIN
