"""Audit entries, their keyed hash chain and the anchors of its heads (pure).

Every entry carries the HMAC-SHA256 (key: ``Settings.audit_key``, from Secrets Manager in AWS) of
the previous entry of its chain, so changing or removing an entry breaks the chain at that point,
and someone who can write the table but does not hold the key cannot re-seal an edited chain.
Chains are per UTC day and shard (``2026-11-23#3``): each writer appends to a shard picked at
random, so concurrent Lambdas almost never contend for the same chain head, and
:func:`verify_chain` checks each chain on its own.

What a chain cannot show by itself is its own end: dropping its last entries, a whole shard's
chain or a whole day leaves nothing behind to disagree. :class:`AuditAnchor` records the heads
(last ``seq`` and hash) of every chain of a day, sealed with the same key, in a place the table's
writers cannot rewrite (an Object-Lock bucket); :func:`check_anchors` then finds every chain, entry
or day that an anchor says existed and that is gone or different.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
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

    def compute_hash(self, key: bytes) -> str:
        """HMAC-SHA256 of every field but ``entry_hash`` (``prev_hash`` included: the chain)."""
        return _mac(key, self.model_dump(mode="json", exclude={"entry_hash"}))

    def sealed(self, key: bytes) -> AuditEntry:
        return self.model_copy(update={"entry_hash": self.compute_hash(key)})


def _mac(key: bytes, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


class BrokenLink(BaseModel):
    chain_id: str
    seq: int
    reason: str


def chain_id_for(at: datetime, shard: int) -> str:
    return f"{at.date().isoformat()}#{shard}"


def verify_chain(entries: list[AuditEntry], key: bytes) -> BrokenLink | None:
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
        if not hmac.compare_digest(entry.compute_hash(key), entry.entry_hash):
            return BrokenLink(
                chain_id=entry.chain_id, seq=entry.seq, reason="content was changed after it was written"
            )
        previous_hash = entry.entry_hash
        expected_seq += 1
    return None


class ChainHead(BaseModel):
    chain_id: str
    seq: int = Field(ge=1)
    entry_hash: str


class AuditAnchor(BaseModel):
    """The heads of every non-empty chain of ``day`` as they were ``at``, sealed with the audit key.

    Written after the day (and during it: a later anchor of the same day only adds entries), to
    storage the table's writers cannot change or delete. A day with no entries is anchored too,
    with no heads, so a day without any anchor is visibly unanchored rather than silently empty.
    """

    day: date
    at: datetime
    heads: list[ChainHead] = Field(default_factory=list)
    mac: str = ""

    def compute_mac(self, key: bytes) -> str:
        return _mac(key, self.model_dump(mode="json", exclude={"mac"}))

    def sealed(self, key: bytes) -> AuditAnchor:
        return self.model_copy(update={"mac": self.compute_mac(key)})


def heads_of(day: date, chains: dict[str, list[AuditEntry]]) -> list[ChainHead]:
    """The head of each non-empty chain (``chain_id`` → entries in ``seq`` order) of ``day``."""
    return [
        ChainHead(chain_id=chain_id, seq=entries[-1].seq, entry_hash=entries[-1].entry_hash)
        for chain_id, entries in sorted(chains.items())
        if entries and chain_id.startswith(f"{day.isoformat()}#")
    ]


def check_anchors(
    anchors: list[AuditAnchor], chains: dict[str, list[AuditEntry]], key: bytes
) -> list[BrokenLink]:
    """Every place where the chains (``chain_id`` → entries in ``seq`` order) no longer hold what an
    anchor recorded: a forged anchor, a missing chain (a dropped shard or day), a chain shorter
    than its anchored head (entries dropped from its end) or a head entry that differs."""
    problems: list[BrokenLink] = []
    for anchor in anchors:
        if not hmac.compare_digest(anchor.compute_mac(key), anchor.mac):
            problems.append(
                BrokenLink(chain_id=f"{anchor.day.isoformat()}#*", seq=0, reason=f"anchor of {anchor.at.isoformat()} is not sealed with the audit key")
            )  # fmt: skip
            continue
        for head in anchor.heads:
            entries = chains.get(head.chain_id, [])
            by_seq = {e.seq: e for e in entries}
            if not entries:
                reason = f"chain is missing: anchored with {head.seq} entries at {anchor.at.isoformat()}"
            elif head.seq not in by_seq:
                reason = (
                    f"entries {max(by_seq) + 1}..{head.seq} are missing (anchored at {anchor.at.isoformat()})"
                )
            elif not hmac.compare_digest(by_seq[head.seq].entry_hash, head.entry_hash):
                reason = f"differs from its anchor of {anchor.at.isoformat()}"
            else:
                continue
            problem = BrokenLink(chain_id=head.chain_id, seq=head.seq, reason=reason)
            if problem not in problems:
                problems.append(problem)
    return problems
