"""Audio redaction (``callsight.compliance.redaction``) on real encoded files, without the emulator:
the tone lands on the span (with its margin) and on the channel that said the words only, the rest of
the recording is untouched, and the format, rate and channel count are kept."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest
from callsight.compliance.masking import MaskedSpan
from callsight.compliance.redaction import PAD_S, TONE_HZ, redact_audio

RATE = 8000


def write_wav(path: Path, channels: np.ndarray) -> None:
    """16-bit PCM WAV from float rows in [-1, 1] (one row per channel)."""
    interleaved = (np.clip(channels.T, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels.shape[0])
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(interleaved.tobytes())


def read(path: Path) -> tuple[np.ndarray, int, str, str]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate, codec = stream.codec_context.sample_rate, stream.codec_context.name
        fmt = container.format.name
        rows = [frame.to_ndarray() for frame in container.decode(stream)]
    samples = np.concatenate(rows, axis=1)
    if samples.dtype.kind == "i":  # packed s16: one row of interleaved samples
        channels = stream.codec_context.channels
        samples = samples.reshape(-1, channels).T.astype(np.float32) / 32768
    return samples, rate, codec, fmt


def low_noise(seed: int, seconds: float, channels: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.05, 0.05, size=(channels, int(seconds * RATE))).astype(np.float32)


def tone_power(samples: np.ndarray) -> float:
    """Share of the signal's energy at the bleep's frequency."""
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / RATE)
    near = np.abs(freqs - TONE_HZ) < 20
    return float(spectrum[near].sum() / spectrum.sum())


def span(channel: int, start: float, end: float) -> MaskedSpan:
    return MaskedSpan(type="phone", channel=channel, start=start, end=end, display="[PHONE]", words=3)


def test_stereo_bleeps_only_the_speaking_channel_inside_the_padded_span(tmp_path: Path) -> None:
    original = low_noise(1, 4.0, 2)
    write_wav(tmp_path / "in.wav", original)
    facts = redact_audio(tmp_path / "in.wav", tmp_path / "out.wav", [span(1, 1.0, 2.0)])

    out, rate, codec, fmt = read(tmp_path / "out.wav")
    assert (facts.container, facts.codec, facts.sample_rate, facts.channels) == ("wav", "pcm_s16le", RATE, 2)
    assert (rate, codec, fmt) == (RATE, "pcm_s16le", "wav") and out.shape == original.shape
    assert facts.bleeped_s == pytest.approx(1.0 + 2 * PAD_S, abs=0.001)

    inside = slice(int((1.0 - PAD_S) * RATE) + 1, int((2.0 + PAD_S) * RATE) - 1)
    assert tone_power(out[1, inside]) > 0.95  # the speaking channel is the tone only
    assert np.abs(out[0, inside] - original[0, inside]).max() < 1e-3  # the other party stays audible
    before, after = slice(0, int((1.0 - PAD_S) * RATE) - 1), slice(int((2.0 + PAD_S) * RATE) + 1, None)
    for part in (before, after):
        assert np.abs(out[:, part] - original[:, part]).max() < 1e-3


def test_mono_bleeps_its_one_channel_and_spans_outside_the_audio_change_nothing(tmp_path: Path) -> None:
    original = low_noise(2, 2.0, 1)
    write_wav(tmp_path / "in.wav", original)
    spans = [
        span(1, 0.5, 0.7),
        span(0, 5.0, 6.0),
        span(0, 1.9, 9.0),
    ]  # channel 1 of a mono call: its one channel
    facts = redact_audio(tmp_path / "in.wav", tmp_path / "out.wav", spans)

    out, *_ = read(tmp_path / "out.wav")
    assert facts.channels == 1
    assert tone_power(out[0, int(0.45 * RATE) : int(0.75 * RATE)]) > 0.95
    assert tone_power(out[0, int(1.9 * RATE) :]) > 0.95  # clipped at the end of the recording
    assert (
        np.abs(
            out[0, int(0.9 * RATE) : int(1.7 * RATE)] - original[0, int(0.9 * RATE) : int(1.7 * RATE)]
        ).max()
        < 1e-3
    )
    assert facts.bleeped_s == pytest.approx((0.2 + 2 * PAD_S) + (2.0 - 1.9 + PAD_S), abs=0.002)


def test_no_spans_keeps_the_audio(tmp_path: Path) -> None:
    original = low_noise(3, 1.0, 2)
    write_wav(tmp_path / "in.wav", original)
    facts = redact_audio(tmp_path / "in.wav", tmp_path / "out.wav", [])
    out, *_ = read(tmp_path / "out.wav")
    assert facts.bleeped_s == 0 and np.abs(out - original).max() < 1e-3


def test_a_compressed_recording_keeps_its_codec_or_falls_back_to_flac(tmp_path: Path) -> None:
    """An Ogg/Vorbis or MP3 upload: re-encoded in its own codec where PyAV's FFmpeg has an encoder,
    else kept as FLAC (lossless), and the facts say which."""
    write_wav(tmp_path / "in.wav", low_noise(4, 2.0, 1))
    with av.open(str(tmp_path / "in.wav")) as source, av.open(str(tmp_path / "in.mp3"), "w") as target:
        stream = target.add_stream("libmp3lame" if "libmp3lame" in av.codecs_available else "mp2", rate=RATE)
        for frame in source.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    facts = redact_audio(tmp_path / "in.mp3", tmp_path / "out.audio", [span(0, 0.5, 1.0)])
    out, rate, codec, _ = read(tmp_path / "out.audio")
    assert codec == facts.codec and rate == facts.sample_rate == RATE
    assert facts.container in ("mp3", "flac")
    assert tone_power(out[0, int(0.5 * RATE) : int(1.0 * RATE)]) > 0.8
