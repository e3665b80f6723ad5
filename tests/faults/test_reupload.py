"""Re-uploading a recording to the same key: one call per key, the newest version wins.

A PBX that uploads a file again (a retry, a re-export) makes a new *version* of the same key. The
rule everything agrees on: a key is one call; the call of its newest version stands; older
versions are superseded — ingest makes no call for them, marks a call it made for one before as
``superseded_by`` the newer one, reconcile counts them as superseded (not lost, not duplicates),
``--fix`` re-announces nothing, and the sweeps never let a superseded call take the winner's audio.

On the embedded emulator S3 notifications carry no ``versionId``: both events of a quick double
upload resolve to the newest version.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from callsight.api.models import ListQuery
from callsight.api.service import CallsApi
from callsight.auth.tokens import Principal, Role
from callsight.models.call import CallStatus
from callsight.reconcile.logic import uniform_thresholds
from callsight.reconcile.service import run_reconcile
from callsight.sweeps.deletion import Actor, CallDeleter, DeletionReason
from callsight.sweeps.masking_sweep import MaskingSweep

from tests.audio_factory import pcm_wav
from tests.faults.harness import drain, pipeline, recording_name, use_fake_transcriber
from tests.integration.conftest import Stack

LATER = datetime.now(UTC) + timedelta(days=60)  # past the masking window of the 2026-11-20 calls


def versions(env: Stack, key: str) -> list[str]:
    listed = env.s3.list_object_versions(Bucket=env.bucket, Prefix=key).get("Versions", [])
    return [v["VersionId"] for v in listed if v["Key"] == key]


def reconciled(env: Stack) -> tuple[int, int, int]:
    report = run_reconcile(env.settings, thresholds=uniform_thresholds(0), fix=True)
    assert report.ok, report.model_dump_json(indent=1)
    assert [f for f in report.fixes if f.done] == [], "--fix must create nothing"
    return report.objects, report.calls, report.superseded_versions


@pytest.mark.parametrize("same_bytes", [True, False], ids=["same-file", "changed-file"])
def test_a_quick_double_upload_makes_one_call_and_reconciles(
    env: Stack, monkeypatch: pytest.MonkeyPatch, same_bytes: bool
) -> None:
    use_fake_transcriber(monkeypatch)
    name = recording_name(1)
    env.put(name, pcm_wav(seconds=1.0))
    second = env.put(name, pcm_wav(seconds=1.0 if same_bytes else 1.5))
    drain(lambda: pipeline(env, 1), max_seconds=60)
    [call] = env.all_calls()
    assert call.status is CallStatus.ANALYZED and call.source.version_id == second["version_id"]
    assert reconciled(env) == (2, 1, 1)
    drain(lambda: pipeline(env, 1), max_seconds=60)
    assert len(env.all_calls()) == 1, "reconcile --fix made a second call"

    [masked] = MaskingSweep(env.settings).run(now=LATER).outcomes
    assert masked.call_id == call.call_id and masked.redacted_key, "the call kept its audio to bleep"
    assert reconciled(env) == (0, 1, 0)


def test_a_later_reupload_supersedes_the_first_call_and_the_sweeps_spare_the_winner(
    env: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_transcriber(monkeypatch)
    name = recording_name(2)
    env.put(name, pcm_wav(seconds=1.0))
    drain(lambda: pipeline(env, 1), max_seconds=60)
    [first] = env.all_calls()
    newer = env.put(name, pcm_wav(seconds=1.5))
    drain(lambda: pipeline(env, 1), max_seconds=60)
    calls = {c.call_id: c for c in env.all_calls()}
    [winner] = [c for c in calls.values() if c.call_id != first.call_id]
    assert winner.status is CallStatus.ANALYZED and winner.source.version_id == newer["version_id"]
    assert calls[first.call_id].superseded_by == winner.call_id
    assert reconciled(env) == (2, 2, 1)
    # the API lists one call for the recording unless asked for the superseded one too
    api, admin = CallsApi(env.settings), Principal(subject="admin-user", role=Role.ADMIN)
    assert [c.call_id for c in api.list_calls(admin, ListQuery()).items] == [winner.call_id]
    listed = {c.call_id: c for c in api.list_calls(admin, ListQuery(include_superseded=True)).items}
    assert set(listed) == {first.call_id, winner.call_id}
    assert listed[first.call_id].superseded_by == winner.call_id

    # the superseded call's deletion (retention, erasure) leaves the winner's recording alone
    outcome = CallDeleter(env.settings).delete(
        first.call_id, DeletionReason.RETENTION, Actor(actor="test", role="system")
    )
    assert outcome.result.value == "deleted"  # its own transcript, analysis and index entries
    assert versions(env, newer["key"]) == [newer["version_id"], first.source.version_id]
    [masked] = MaskingSweep(env.settings).run(now=LATER).outcomes
    assert masked.call_id == winner.call_id and masked.redacted_key
    assert reconciled(env) == (0, 1, 0)


def test_an_event_for_an_older_version_makes_no_call(env: Stack) -> None:
    name = recording_name(3)
    older = env.put(name, pcm_wav(seconds=1.0))
    newer = env.put(name, pcm_wav(seconds=1.5))
    env.clear_ingest_queue()
    assert env.invoke(env.event_for(older)) == {"batchItemFailures": []}  # S3's event, with its versionId
    assert env.all_calls() == []
    assert env.invoke(env.event_for(newer)) == {"batchItemFailures": []}
    [call] = env.all_calls()
    assert call.source.version_id == newer["version_id"]
    report = run_reconcile(env.settings, thresholds=uniform_thresholds(0))
    assert report.lost == [] and report.superseded_versions == 1
