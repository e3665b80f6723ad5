"""An audited action: one audit entry per attempt, written when the action ends, whatever its end.

::

    with audited(self.audit, principal, "stats.read", "calls", request_id) as action:
        stats, rolled = read_stats(...)
        action.details["rolled_up_days"] = rolled

The entry's outcome is ``ok`` when the block finishes; when it raises one of the API's refusals the
outcome follows the exception (:func:`outcome_of`: ``Forbidden`` → ``denied``, ``NotFound`` →
``not_found``, a bad body or query → ``invalid``, ``Conflict`` → ``conflict``) and the exception goes
on to the route, which answers 403/404/400/409. An outcome the block sets itself
(``action.outcome = "denied"`` before raising ``NotFound``: a call that exists but is not the
caller's is answered as absent, audited as denied) wins over the exception's. Any other exception (a
failure, not a refusal) propagates without an entry, as before this helper.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from callsight.api.errors import BadRequest, Conflict, Forbidden, NotFound
from callsight.auth.tokens import Principal
from callsight.storage.audit_log import AuditLog

#: The audit outcome of each refusal a route answers (4xx), most specific first.
REFUSALS: tuple[tuple[type[Exception], str], ...] = (
    (Forbidden, "denied"),
    (NotFound, "not_found"),
    (Conflict, "conflict"),
    (BadRequest, "invalid"),
    (ValidationError, "invalid"),
)


def outcome_of(exc: BaseException) -> str | None:
    """The audit outcome of a refusal, ``None`` for anything else (an error is not an outcome)."""
    return next((outcome for kind, outcome in REFUSALS if isinstance(exc, kind)), None)


@dataclass
class AuditedAction:
    """The entry an audited block will write: its target, outcome and details may change on the way
    (a target known only once the action has run, details of what it did)."""

    action: str
    target: str
    outcome: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(
    audit: AuditLog,
    principal: Principal,
    action: str,
    target: str,
    request_id: str | None,
    **details: Any,
) -> Iterator[AuditedAction]:
    """Run the block as ``principal``'s ``action`` on ``target``; write its one audit entry at the end."""
    entry = AuditedAction(action=action, target=target, details=dict(details))
    try:
        yield entry
    except Exception as exc:
        outcome = entry.outcome or outcome_of(exc)
        if outcome is not None:
            _write(audit, principal, entry, outcome, request_id)
        raise
    _write(audit, principal, entry, entry.outcome or "ok", request_id)


def _write(
    audit: AuditLog, principal: Principal, entry: AuditedAction, outcome: str, request_id: str | None
) -> None:
    audit.record(
        actor=principal.subject, role=principal.role.value, action=entry.action, target=entry.target,
        request_id=request_id, outcome=outcome, details=entry.details,
    )  # fmt: skip
