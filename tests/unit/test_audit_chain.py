"""The keyed audit chain and its anchors, pure (no AWS)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from callsight.compliance.audit import GENESIS, AuditAnchor, AuditEntry, check_anchors, heads_of, verify_chain

KEY = b"k" * 32
DAY = date(2026, 12, 4)
AT = datetime(2026, 12, 4, 10, tzinfo=UTC)


def chain(n: int, chain_id: str = "2026-12-04#0", key: bytes = KEY) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for seq in range(1, n + 1):
        entry = AuditEntry(
            chain_id=chain_id, seq=seq, at=AT, actor="a", role="qa", action="call.read",
            target=f"call:{seq}", outcome="ok", prev_hash=entries[-1].entry_hash if entries else GENESIS,
        ).sealed(key)  # fmt: skip
        entries.append(entry)
    return entries


def test_the_seal_is_keyed() -> None:
    entries = chain(3)
    assert verify_chain(entries, KEY) is None
    broken = verify_chain(entries, b"another key")
    assert broken is not None and broken.seq == 1 and "changed" in broken.reason
    assert verify_chain(chain(3, key=b"another key"), KEY) is not None  # re-sealed without the key


def test_anchors_find_missing_chains_cut_tails_changed_heads_and_forgeries() -> None:
    chains = {"2026-12-04#0": chain(3), "2026-12-04#1": chain(2, "2026-12-04#1")}
    anchor = AuditAnchor(day=DAY, at=AT, heads=heads_of(DAY, chains)).sealed(KEY)
    assert [h.seq for h in anchor.heads] == [3, 2]
    assert check_anchors([anchor], chains, KEY) == []
    assert check_anchors([anchor], {**chains, "2026-12-04#0": chain(5)}, KEY) == []  # grown since

    [missing] = check_anchors([anchor], {"2026-12-04#0": chains["2026-12-04#0"]}, KEY)
    assert missing.chain_id == "2026-12-04#1" and "chain is missing" in missing.reason
    [cut] = check_anchors([anchor], {**chains, "2026-12-04#0": chains["2026-12-04#0"][:1]}, KEY)
    assert cut.seq == 3 and "entries 2..3 are missing" in cut.reason
    other = chain(3, key=b"x")
    [changed] = check_anchors([anchor], {**chains, "2026-12-04#0": other}, KEY)
    assert "differs from its anchor" in changed.reason
    assert len(check_anchors([anchor], {}, KEY)) == 2  # an emptied log
    [forged] = check_anchors([anchor.model_copy(update={"heads": []})], chains, KEY)
    assert "not sealed with the audit key" in forged.reason
