"""Audio probing on generated files: what is accepted, what is rejected and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from callsight.config import Settings
from callsight.models.call import QuarantineReason
from callsight.stages.ingest.audio_probe import AudioRejected, probe_audio

from tests.audio_factory import pcm_wav, reencode, write
from tests.conftest import SAMPLES

SETTINGS = Settings()


def probe(path: Path, max_duration_s: float = 3600, min_duration_s: float = 0.5):  # type: ignore[no-untyped-def]
    return probe_audio(
        path,
        accepted_codecs=SETTINGS.accepted_codec_set,
        max_duration_s=max_duration_s,
        min_duration_s=min_duration_s,
    )


@pytest.mark.parametrize(
    ("codec", "container", "name"),
    [
        ("pcm_mulaw", "wav", "ulaw.wav"),
        ("pcm_alaw", "wav", "alaw.wav"),
        ("flac", "flac", "a.flac"),
        ("libopus", "ogg", "a.ogg"),
        ("libmp3lame", "mp3", "a.mp3"),
    ],
)
def test_accepted_codecs(tmp_path: Path, codec: str, container: str, name: str) -> None:
    rate = 48000 if codec == "libopus" else 8000
    facts = probe(write(tmp_path / name, reencode(pcm_wav(seconds=2, rate=rate), codec, container)))
    assert facts.duration_s == pytest.approx(2.0, abs=0.1)
    assert facts.sample_rate == rate


def test_stereo_pcm(tmp_path: Path) -> None:
    facts = probe(write(tmp_path / "s.wav", pcm_wav(seconds=1.5, rate=16000, channels=2)))
    assert (facts.codec, facts.sample_rate, facts.channels, facts.duration_s) == ("pcm_s16le", 16000, 2, 1.5)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is plainly not audio " * 50, QuarantineReason.NOT_AUDIO),
        (bytes(range(256)) * 64, QuarantineReason.NOT_AUDIO),
        (pcm_wav(seconds=2)[:20000], QuarantineReason.TRUNCATED),
        (pcm_wav(seconds=2)[:44], QuarantineReason.TRUNCATED),
        (reencode(pcm_wav(seconds=1), "adpcm_ima_wav"), QuarantineReason.UNSUPPORTED_CODEC),
        (pcm_wav(seconds=0.1), QuarantineReason.TOO_SHORT),
    ],
)
def test_rejections(tmp_path: Path, data: bytes, reason: QuarantineReason) -> None:
    with pytest.raises(AudioRejected) as caught:
        probe(write(tmp_path / "x.wav", data))
    assert caught.value.reason is reason
    assert caught.value.detail
    assert str(tmp_path) not in caught.value.detail


def test_too_long(tmp_path: Path) -> None:
    with pytest.raises(AudioRejected) as caught:
        probe(write(tmp_path / "x.wav", pcm_wav(seconds=3)), max_duration_s=2)
    assert caught.value.reason is QuarantineReason.TOO_LONG


def test_bundled_samples_match_their_manifest() -> None:
    import json

    for entry in json.loads((SAMPLES / "manifest.json").read_text()):
        facts = probe(SAMPLES / entry["file"])
        assert facts.codec == entry["codec"]
        assert facts.sample_rate == entry["sample_rate"]
        assert facts.channels == entry["channels"]
        assert facts.duration_s == pytest.approx(entry["duration_s"], abs=0.05)
