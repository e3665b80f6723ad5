"""A redacted copy of a recording: PII word spans replaced by a 1 kHz tone, same format and rate.

Decoded and re-encoded with PyAV's FFmpeg. Stereo recordings are bleeped on the channel that said
the words only (the other party stays audible); mono on its one channel. Codecs PyAV cannot encode
(MP3 without LAME, …) fall back to FLAC, and the returned facts say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from callsight.compliance.masking import MaskedSpan

TONE_HZ = 1000.0
TONE_LEVEL = 0.3
#: Word timestamps are ±20 ms; a little margin so no syllable survives at the edges.
PAD_S = 0.08


@dataclass(frozen=True)
class RedactionFacts:
    container: str
    codec: str
    sample_rate: int
    channels: int
    bleeped_s: float


def _layout(channels: int) -> str:
    return "stereo" if channels == 2 else "mono"


def redact_audio(source: Path, target: Path, spans: list[MaskedSpan]) -> RedactionFacts:
    with av.open(str(source)) as container:
        stream = container.streams.audio[0]
        codec, rate, channels = (
            stream.codec_context.name,
            stream.codec_context.sample_rate,
            stream.codec_context.channels,
        )
        container_format = container.format.name.split(",")[0]
        resampler = av.AudioResampler(format="fltp", layout=_layout(channels), rate=rate)
        chunks = [f.to_ndarray() for frame in container.decode(stream) for f in resampler.resample(frame)]
    samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), dtype=np.float32)
    bleeped = 0
    for span in spans:
        first = max(0, int((span.start - PAD_S) * rate))
        last = min(samples.shape[1], int((span.end + PAD_S) * rate))
        if last <= first:
            continue
        tone = (TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * np.arange(first, last) / rate)).astype(np.float32)
        rows = [span.channel] if channels > 1 and span.channel < channels else range(channels)
        for row in rows:
            samples[row, first:last] = tone
        bleeped += last - first
    try:
        _encode(samples, target, container_format, codec, rate, channels)
    except (av.error.FFmpegError, ValueError):  # no encoder for this codec here: keep the audio, as FLAC
        container_format, codec = "flac", "flac"
        _encode(samples, target, "flac", "flac", rate, channels)
    return RedactionFacts(container_format, codec, rate, channels, round(bleeped / rate, 3))


def _encode(
    samples: np.ndarray, target: Path, container_format: str, codec: str, rate: int, channels: int
) -> None:
    formats = av.codec.Codec(codec, "w").audio_formats
    if not formats:
        raise ValueError(f"no audio encoder for {codec}")
    encoder_format = formats[0].name
    with av.open(str(target), mode="w", format=container_format) as output:
        stream: Any = output.add_stream(codec, rate=rate, layout=_layout(channels), format=encoder_format)
        resampler = av.AudioResampler(
            format=encoder_format,
            layout=_layout(channels),
            rate=rate,
            frame_size=stream.codec_context.frame_size or None,
        )
        step = 4096
        for start in range(0, samples.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start : start + step]),
                format="fltp",
                layout=_layout(channels),
            )
            frame.sample_rate = rate
            for converted in resampler.resample(frame):
                converted.pts = None
                for packet in stream.encode(converted):
                    output.mux(packet)
        for converted in resampler.resample(None):
            converted.pts = None
            for packet in stream.encode(converted):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
