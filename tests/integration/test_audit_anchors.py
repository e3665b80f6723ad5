"""The audit chain is keyed (HMAC-SHA256) and its daily heads are anchored in a write-once bucket.

Someone who can write the audit table but holds neither the key nor the anchors bucket cannot edit
and re-seal an entry, drop a shard's chain or a day, cut a chain's tail or empty the log without
``callsight audit verify`` saying so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callsight.cli import app
from callsight.compliance.audit import AuditAnchor, AuditEntry, ChainHead
from callsight.config import reset_settings
from callsight.resources import AUDIT_ANCHORS_BUCKET
from callsight.storage import aws
from callsight.storage.audit_anchors import AuditAnchorStore
from callsight.storage.audit_log import _entry
from callsight.storage.tables import AuditEntryItem
from callsight.sweeps.audit_verify import AuditVerifier
from typer.testing import CliRunner

from tests.conftest import utc_today_clear_of_midnight
from tests.integration.conftest import Stack

TODAY = datetime.now(UTC).date()


@pytest.fixture(autouse=True)
def _today() -> None:
    """The audit day is taken when each test starts (a run can cross midnight UTC after import)."""
    global TODAY
    TODAY = utc_today_clear_of_midnight()


def write_log(env: Stack, entries: int = 40) -> AuditVerifier:
    verifier = AuditVerifier(env.settings)
    for i in range(entries):
        verifier.audit.record(actor=f"user{i % 4}", role="qa", action="call.read", target=f"call:{i}")
    verifier.anchor(TODAY)
    return verifier


def items_by_chain() -> dict[str, list[AuditEntryItem]]:
    chains: dict[str, list[AuditEntryItem]] = {}
    for item in AuditEntryItem.scan():
        chains.setdefault(item.chain_id, []).append(item)
    return {c: sorted(items, key=lambda i: int(i.seq)) for c, items in sorted(chains.items())}


def rewrite(entry: AuditEntry) -> None:
    AuditEntryItem(entry.chain_id, entry.seq, **entry.model_dump(exclude={"chain_id", "seq"})).save()


def plain_sha256(entry: AuditEntry) -> str:
    """The old, unkeyed seal: what anyone who can write the table can compute."""
    body = entry.model_dump(mode="json", exclude={"entry_hash"})
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_an_intact_anchored_log_verifies(env: Stack) -> None:
    verifier = write_log(env)
    report = verifier.verify(TODAY, TODAY)
    assert report.intact, report.problems
    assert report.checked == 40 and report.anchors == 1 and report.unanchored_days == []
    assert AuditVerifier(env.settings).first_problem(TODAY, TODAY) == (40, None)


@pytest.mark.parametrize("seal", ["sha256", "other-key"])
def test_an_edited_and_resealed_entry_is_found(env: Stack, seal: str) -> None:
    verifier = write_log(env)
    chain_id, items = next((c, i) for c, i in items_by_chain().items() if len(i) >= 3)
    chain = [_entry(item) for item in items]
    # rewrite history from entry 2 on and re-seal every later link, as a table writer could
    previous = chain[0].entry_hash
    for n, entry in enumerate(chain[1:], start=2):
        changed = entry.model_copy(update={"prev_hash": previous})
        if n == 2:
            changed = changed.model_copy(update={"actor": "someone-else"})
        digest = plain_sha256(changed) if seal == "sha256" else changed.compute_hash(b"a guessed key")
        rewrite(changed.model_copy(update={"entry_hash": digest}))
        previous = digest
    report = verifier.verify(TODAY, TODAY)
    assert not report.intact
    first = report.problems[0]
    assert (first.chain_id, first.seq) == (chain_id, 2) and "changed" in first.reason
    assert any(p.chain_id == chain_id and "anchor" in p.reason for p in report.problems)  # head differs too


def test_a_dropped_shard_chain_is_reported_missing(env: Stack) -> None:
    verifier = write_log(env)
    chain_id, items = next(iter(items_by_chain().items()))
    for item in items:
        item.delete()
    report = verifier.verify(TODAY, TODAY)
    assert [(p.chain_id, p.seq) for p in report.problems] == [(chain_id, len(items))]
    assert "chain is missing" in report.problems[0].reason


def test_a_cut_tail_is_reported(env: Stack) -> None:
    verifier = write_log(env)
    chain_id, items = next((c, i) for c, i in items_by_chain().items() if len(i) >= 3)
    items[-1].delete()
    items[-2].delete()  # the chain that is left is intact link by link
    report = verifier.verify(TODAY, TODAY)
    assert [(p.chain_id, p.seq) for p in report.problems] == [(chain_id, len(items))]
    assert f"entries {len(items) - 1}..{len(items)} are missing" in report.problems[0].reason


def test_an_emptied_log_with_anchors_fails(env: Stack) -> None:
    verifier = write_log(env)
    chains = items_by_chain()
    for items in chains.values():
        for item in items:
            item.delete()
    report = verifier.verify(TODAY - timedelta(days=1), TODAY)
    assert report.checked == 0 and not report.intact
    assert sorted(p.chain_id for p in report.problems) == sorted(chains)
    assert report.unanchored_days == [TODAY - timedelta(days=1)]  # listed, not a failure by itself


def test_a_forged_anchor_is_reported_and_anchors_cannot_be_deleted(env: Stack) -> None:
    verifier = write_log(env, entries=3)
    store = AuditAnchorStore(env.settings)
    forged = AuditAnchor(
        day=TODAY, at=datetime.now(UTC), heads=[ChainHead(chain_id=f"{TODAY}#0", seq=1, entry_hash="0" * 64)]
    ).sealed(b"not the audit key")
    store.put(forged)
    report = verifier.verify(TODAY, TODAY)
    assert [p.reason for p in report.problems] == [
        f"anchor of {forged.at.isoformat()} is not sealed with the audit key"
    ]
    s3: Any = aws.client("s3", env.settings)
    bucket = AUDIT_ANCHORS_BUCKET.physical(env.settings)
    version = s3.list_object_versions(Bucket=bucket)["Versions"][0]
    with pytest.raises(Exception, match="AccessDenied"):  # Object Lock
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


def test_cli_verify_exits_1_on_an_emptied_log(env: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    for field, value in env.settings.model_dump(exclude_none=True).items():
        if isinstance(value, str | int | float | bool):
            monkeypatch.setenv(f"CALLSIGHT_{field.upper()}", str(value))
    reset_settings()
    try:
        write_log(env, entries=5)
        runner = CliRunner()
        ok = runner.invoke(app, ["audit", "verify", "--since", TODAY.isoformat()])
        assert ok.exit_code == 0, ok.output
        assert "5 audit entries" in ok.output and "1 anchors" in ok.output
        for items in items_by_chain().values():
            for item in items:
                item.delete()
        broken = runner.invoke(app, ["audit", "verify", "--since", TODAY.isoformat()])
        assert broken.exit_code == 1 and "chain is missing" in broken.output
    finally:
        reset_settings()
