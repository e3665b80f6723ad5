"""The audit-log table: append with optimistic chain heads, read chains, find entries by target.

Appending reads the head of a random shard's chain for today, writes ``seq + 1`` with a condition
that the slot is free, and retries on the rare collision: writers never lock or wait on each other.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from callsight.compliance.audit import GENESIS, SHARDS, AuditEntry, chain_id_for
from callsight.config import Settings
from callsight.storage.tables import AuditEntryItem, bind_tables, condition_failed

MAX_ATTEMPTS = 20
#: DynamoDB numbers hold magnitudes in 1e-130 .. 1e126; details outside (a caller's 3e-233) are kept as text.
_NUMBER_RANGE = (1e-129, 1e125)


def _storable(value: Any) -> Any:
    """``value`` with every float DynamoDB cannot store (NaN, infinities, out of range) as its text."""
    if isinstance(value, dict):
        return {str(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    if isinstance(value, float) and value != 0 and not (_NUMBER_RANGE[0] < abs(value) < _NUMBER_RANGE[1]):
        return repr(value)  # also NaN and inf, whose comparisons are all False
    return value


class AuditLog:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self.key = settings.audit_key.get_secret_value().encode("utf-8")

    def record(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        target: str,
        outcome: str = "ok",
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Append one entry (who, role, action, target, outcome) to today's chain of a random shard."""
        when = at or datetime.now(UTC)
        details = _storable(details or {})
        chain_id = chain_id_for(when, random.randrange(SHARDS))  # spreading load, not security
        for _ in range(MAX_ATTEMPTS):
            head = next(
                iter(AuditEntryItem.query(chain_id, scan_index_forward=False, limit=1, consistent_read=True)),
                None,
            )
            entry = AuditEntry(
                chain_id=chain_id, seq=(int(head.seq) + 1) if head else 1, at=when, actor=actor, role=role,
                action=action, target=target, request_id=request_id, outcome=outcome, details=details,
                prev_hash=head.entry_hash if head else GENESIS,
            ).sealed(self.key)  # fmt: skip
            item = AuditEntryItem(chain_id, entry.seq, **entry.model_dump(exclude={"chain_id", "seq"}))
            try:
                item.save(condition=AuditEntryItem.seq.does_not_exist())
                return entry
            except PutError as exc:
                if not condition_failed(exc):
                    raise
        raise RuntimeError(f"audit chain {chain_id}: could not append after {MAX_ATTEMPTS} attempts")

    def chain(self, chain_id: str) -> list[AuditEntry]:
        return [_entry(item) for item in AuditEntryItem.query(chain_id, consistent_read=True)]

    def chains_between(self, first: date, last: date) -> Iterator[str]:
        day = first
        while day <= last:
            for shard in range(SHARDS):
                yield f"{day.isoformat()}#{shard}"
            day += timedelta(days=1)

    def entries_between(self, start: datetime, end: datetime) -> Iterator[AuditEntry]:
        """Every entry with ``start <= at < end``: the chains of each UTC day the span touches, the
        span applied as a filter (an entry's chain is the UTC day of its ``at``; a chain is read whole)."""
        first, last = start.astimezone(UTC).date(), (end.astimezone(UTC) - timedelta(microseconds=1)).date()
        inside = (AuditEntryItem.at >= start.astimezone(UTC)) & (AuditEntryItem.at < end.astimezone(UTC))
        for chain_id in self.chains_between(first, last):
            for item in AuditEntryItem.query(chain_id, filter_condition=inside, consistent_read=True):
                yield _entry(item)

    def for_target(self, target: str) -> list[AuditEntry]:
        return [_entry(item) for item in AuditEntryItem.by_target.query(target)]


def _entry(item: AuditEntryItem) -> AuditEntry:
    data = item.attribute_values.copy()
    data["details"] = item.details.as_dict() if item.details else {}
    return AuditEntry.model_validate(data)
