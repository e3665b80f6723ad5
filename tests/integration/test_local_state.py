"""Local mode keeps its state in memory only, says so, and lets ``audit verify`` notice the loss.

moto (5.2.5) has no persistence: a restarted emulator is empty. ``callsight local up`` prints that
plainly, and keeps the audit anchors as files too (``CALLSIGHT_AUDIT_ANCHOR_DIR``), so after a
restart ``callsight audit verify`` reports the audit chains that went with the old process instead
of calling an empty log intact. (Reconcile cannot notice: recordings and calls went together.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from callsight.cli import app
from callsight.config import Settings, reset_settings
from callsight.local import api_server
from callsight.local import runner as local_runner
from callsight.local.emulator import MEMORY_ONLY
from callsight.reconcile.logic import uniform_thresholds
from callsight.reconcile.service import run_reconcile
from callsight.resources import RECORDINGS_BUCKET
from callsight.storage import aws
from callsight.storage.audit_log import AuditLog
from callsight.storage.provisioning import provision
from callsight.storage.tables import AuditEntryItem, CallItem
from callsight.sweeps.audit_verify import AuditVerifier
from typer.testing import CliRunner

from tests.audio_factory import pcm_wav
from tests.conftest import utc_today_clear_of_midnight
from tests.integration.conftest import BACKEND, Stack

pytestmark = pytest.mark.skipif(BACKEND != "embedded", reason="about the embedded emulator")
LAYERS = Path(__file__).resolve().parents[2] / "layers"
TODAY = datetime.now(UTC).date()


@pytest.fixture(autouse=True)
def _today() -> None:
    """The audit day is taken when each test starts (a run can cross midnight UTC after import)."""
    global TODAY
    TODAY = utc_today_clear_of_midnight()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatorProcess:
    """``python -m callsight.local.emulator`` in its own process, as ``callsight local up`` runs it."""

    def __init__(self, port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(LAYERS)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "callsight.local.emulator", "--port", str(port)],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("emulator at "), line
        self.endpoint = line.split()[-1]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def own_process(tmp_path: Path) -> Iterator[tuple[int, Settings]]:
    port = free_port()
    settings = Settings(
        aws_endpoint=f"http://127.0.0.1:{port}", prefix="callsight-restart", audit_anchor_dir=tmp_path
    )
    yield port, settings
    aws.reset_clients()


def test_a_restart_loses_everything_and_audit_verify_reports_the_lost_chains(
    env: Stack, own_process: tuple[int, Settings]
) -> None:
    port, settings = own_process
    first = EmulatorProcess(port)
    try:
        provision(settings)
        s3: Any = aws.client("s3", settings)
        bucket = RECORDINGS_BUCKET.physical(settings)
        s3.put_object(Bucket=bucket, Key="recordings/a.wav", Body=pcm_wav(seconds=0.6))
        log = AuditLog(settings)
        for i in range(3):
            log.record(actor="qa", role="qa", action="call.read", target=f"call:{i}")
        verifier = AuditVerifier(settings)
        verifier.anchor(TODAY)
        assert verifier.verify(TODAY, TODAY).intact
    finally:
        first.stop()

    second = EmulatorProcess(port)  # `callsight local up` again
    try:
        aws.reset_clients()
        provision(settings)
        assert aws.client("s3", settings).list_object_versions(Bucket=bucket).get("Versions", []) == []
        assert list(AuditEntryItem.scan()) == [] and list(CallItem.scan()) == []
        report = AuditVerifier(settings).verify(TODAY, TODAY)
        assert report.checked == 0 and not report.intact
        assert {p.reason.split(":")[0] for p in report.problems} == {"chain is missing"}
        # what reconcile sees is an empty, consistent stack: it cannot know what was lost
        assert run_reconcile(settings, thresholds=uniform_thresholds(0)).ok
    finally:
        second.stop()
    provision(env.settings)  # bind the tables to the test stack again


def test_local_up_says_state_is_memory_only_and_anchors_before_stopping(
    env: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = tmp_path / "callsight-banner" / "audit-anchors" / "2026-11-30"
    earlier.mkdir(parents=True)
    (earlier / "old.json").write_text("{}")
    for name, value in {
        "CALLSIGHT_PREFIX": "callsight-banner",
        "CALLSIGHT_AUDIT_ANCHOR_DIR": str(tmp_path),
        "CALLSIGHT_AWS_ENDPOINT": env.settings.aws_endpoint or "",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)  # restored afterwards, whatever `local up` sets

    class NoApi:
        def __init__(self, **_: Any) -> None:
            self.url = "http://127.0.0.1:1"

        def start(self) -> str:
            return self.url

    def serve_briefly(self: Any, stop: Any) -> None:  # someone used the stack, then pressed Ctrl-C
        AuditLog(self.settings).record(actor="qa", role="qa", action="call.read", target="call:x")

    monkeypatch.setattr(api_server, "LocalApi", NoApi)
    monkeypatch.setattr(local_runner.LocalRunner, "run_forever", serve_briefly)
    try:
        result = CliRunner().invoke(app, ["local", "up", "--port", "0", "--no-verbose"])
    finally:
        reset_settings()
        aws.reset_clients()
        provision(env.settings)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert " ".join(MEMORY_ONLY.split()) in flat
    assert "1 audit anchors of earlier sessions" in flat
    assert f"CALLSIGHT_AUDIT_ANCHOR_DIR={tmp_path}" in flat
    assert "audit chain heads anchored" in flat
    assert list((tmp_path / "callsight-banner" / "audit-anchors" / TODAY.isoformat()).glob("*.json"))
