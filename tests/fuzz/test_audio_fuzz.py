"""Decoder input fuzzing: broken recordings never crash ingest and never lose a record.

Three levels, cheapest first: the probe ingest runs on every upload (``probe_audio``) answers with
facts or a quarantine reason, never another exception; what it accepts the transcriber's decoder
decodes or rejects as undecodable (the two outcomes the transcribe stage handles); and through the
real ingest handler on the emulator every upload ends as exactly one call, RECEIVED or QUARANTINED
with a reason.
"""

from __future__ import annotations

import struct
import tempfile
import uuid
from pathlib import Path

from callsight.asr.audio import AudioUndecodable, decode_channels
from callsight.config import Settings
from callsight.models.call import CallStatus, QuarantineReason
from callsight.stages.ingest.audio_probe import AudioRejected, probe_audio
from hypothesis import HealthCheck, example, given, settings

from tests.audio_factory import pcm_wav
from tests.fuzz.strategies import recordings
from tests.integration.conftest import Stack

DEFAULTS = Settings()
REASONS = {reason.value for reason in QuarantineReason}


def _probe(data: bytes, suffix: str) -> tuple[bool, Path, tempfile.TemporaryDirectory[str]]:
    folder = tempfile.TemporaryDirectory(prefix="callsight-fuzz-")
    path = Path(folder.name) / f"recording{suffix}"
    path.write_bytes(data)
    try:
        facts = probe_audio(
            path,
            accepted_codecs=DEFAULTS.accepted_codec_set,
            max_duration_s=DEFAULTS.max_duration_s,
            min_duration_s=DEFAULTS.min_duration_s,
        )
    except AudioRejected as rejected:
        assert rejected.reason in QuarantineReason and rejected.detail
        return False, path, folder
    assert facts.duration_s >= DEFAULTS.min_duration_s and facts.sample_rate > 0 and facts.channels > 0
    return True, path, folder


def _unknown_codec() -> bytes:
    """A valid WAV whose format tag (0) no decoder knows: FFmpeg opens it but gives no codec."""
    data = bytearray(pcm_wav(seconds=0.6))
    struct.pack_into("<H", data, 20, 0)
    return bytes(data)


@settings(max_examples=200, deadline=None)
@given(recordings)
@example(("pcm16-mono.wav", _unknown_codec()))
def test_the_probe_answers_facts_or_a_reason(recording: tuple[str, bytes]) -> None:
    base, data = recording
    accepted, path, folder = _probe(data, Path(base).suffix or ".wav")
    with folder:
        if accepted:  # what ingest lets through, the transcriber decodes or calls undecodable
            try:
                audio = decode_channels(path)
            except AudioUndecodable:
                return
            assert audio.channels and all(len(c) for c in audio.channels)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recording=recordings)
@example(recording=("pcm16-mono.wav", _unknown_codec()))
def test_every_broken_upload_is_one_call_with_a_verdict(env: Stack, recording: tuple[str, bytes]) -> None:
    base, data = recording
    name = f"in-202-+14155550123-20261120-113000-{uuid.uuid4().int % 10**10}.1{Path(base).suffix or '.wav'}"
    call = env.ingest(name, data)  # asserts the handler reported no failure
    assert call.status in (CallStatus.RECEIVED, CallStatus.QUARANTINED)
    if call.status is CallStatus.QUARANTINED:
        assert call.status_reason in REASONS and call.status_detail
    else:
        assert call.audio is not None and call.audio.duration_s >= DEFAULTS.min_duration_s
    assert call.agent_id == "202"  # the file name's metadata is kept whatever the audio
    assert env.calls.get(call.call_id) == call
