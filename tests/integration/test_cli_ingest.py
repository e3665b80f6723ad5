"""``callsight ingest`` uploads what it is given the way a PBX would: sidecars first, each file under
the recordings prefix with its content type, through :class:`callsight.storage.recordings.RecordingUploads`;
a missing path is a clear error and uploads nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callsight.cli import app
from callsight.resources import RECORDINGS_BUCKET
from callsight.storage import aws
from typer.testing import CliRunner

from tests.audio_factory import pcm_wav
from tests.integration.conftest import Stack


def _objects(env: Stack) -> dict[str, str]:
    s3: Any = aws.client("s3", env.settings)
    bucket = RECORDINGS_BUCKET.physical(env.settings)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.head_object(Bucket=bucket, Key=o["Key"])["ContentType"] for o in listed}


def test_ingest_uploads_recordings_and_sidecars_under_the_prefix(env: Stack, tmp_path: Path) -> None:
    (tmp_path / "call-1.wav").write_bytes(pcm_wav(1.0))
    (tmp_path / "call-1.json").write_text(json.dumps({"agent_id": "201"}))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "uploaded 2 objects" in result.output
    prefix = env.settings.recordings_prefix
    assert _objects(env) == {f"{prefix}call-1.wav": "audio/wav", f"{prefix}call-1.json": "application/json"}


def test_ingest_of_a_missing_path_uploads_nothing(env: Stack, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "nope.wav")], terminal_width=400)
    assert result.exit_code == 2  # a usage error, before any upload
    assert "nope.wavdoesnotexist" in "".join(result.output.replace("│", "").split())  # rich wraps the box
    assert _objects(env) == {}
