"""Audit entries and their hash chain (pure).

Every entry carries the SHA-256 of the previous entry of its chain, so changing or removing an
entry breaks the chain at that point. Chains are per UTC day and shard (``2026-11-23#3``): each
writer appends to a shard picked at random, so concurrent Lambdas almost never contend for the
same chain head, and :func:`verify_chain` checks each chain on its own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

GENESIS = "0" * 64
SHARDS = 8


class AuditEntry(BaseModel):
    chain_id: str
    seq: int = Field(ge=1)
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    request_id: str | None = None
    outcome: str
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    entry_hash: str = ""

    def compute_hash(self) -> str:
        body = self.model_dump(mode="json", exclude={"entry_hash"})
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def sealed(self) -> AuditEntry:
        return self.model_copy(update={"entry_hash": self.compute_hash()})


class BrokenLink(BaseModel):
    chain_id: str
    seq: int
    reason: str


def chain_id_for(at: datetime, shard: int) -> str:
    return f"{at.date().isoformat()}#{shard}"


def verify_chain(entries: list[AuditEntry]) -> BrokenLink | None:
    """The first broken link of one chain (entries in ``seq`` order), or ``None`` if it is intact."""
    previous_hash = GENESIS
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            return BrokenLink(
                chain_id=entry.chain_id, seq=expected_seq, reason=f"entry {expected_seq} is missing"
            )
        if entry.prev_hash != previous_hash:
            return BrokenLink(
                chain_id=entry.chain_id,
                seq=entry.seq,
                reason="does not follow the previous entry (prev_hash differs)",
            )
        if entry.compute_hash() != entry.entry_hash:
            return BrokenLink(
                chain_id=entry.chain_id, seq=entry.seq, reason="content was changed after it was written"
            )
        previous_hash = entry.entry_hash
        expected_seq += 1
    return None
