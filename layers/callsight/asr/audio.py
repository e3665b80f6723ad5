"""Decode a recording into what Whisper hears: 16 kHz mono float32, one array per channel.

Stereo call recordings keep one party per channel, so the channels are decoded apart (passing a
stereo file straight to Whisper silently mixes it down). 8 kHz telephony needs no resampling by
the caller; FFmpeg (inside PyAV) resamples. More than two channels are mixed to two by FFmpeg.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from faster_whisper.audio import decode_audio

SAMPLE_RATE = 16_000

Samples = npt.NDArray[np.float32]


class AudioUndecodable(Exception):
    """The decoder could not read the recording (the message says why)."""


@dataclass(frozen=True)
class DecodedAudio:
    channels: tuple[Samples, ...]
    source_channels: int

    @property
    def duration_s(self) -> float:
        return len(self.channels[0]) / SAMPLE_RATE if self.channels else 0.0

    @property
    def is_stereo(self) -> bool:
        return len(self.channels) == 2

    def mixdown(self, max_seconds: float | None = None) -> Samples:
        """All channels averaged into one (the first ``max_seconds`` only, when given)."""
        end = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
        if len(self.channels) == 1:
            return self.channels[0][:end]
        mixed: Samples = (
            np.sum(np.stack([c[:end] for c in self.channels]), axis=0) / len(self.channels)
        ).astype(np.float32)
        return mixed


def _channel_count(path: Path) -> int:
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.audio:
                raise AudioUndecodable(f"{path.name}: no audio stream")
            if container.streams.audio[0].codec_context is None:
                raise AudioUndecodable(f"{path.name}: no decoder for the audio stream's codec")
            return int(container.streams.audio[0].codec_context.channels)
    except av.error.FFmpegError as exc:
        raise AudioUndecodable(f"{path.name}: {getattr(exc, 'strerror', None) or exc}") from exc


def decode_channels(path: Path) -> DecodedAudio:
    """Every channel of ``path`` (mono: one, stereo or more: two) at 16 kHz."""
    source_channels = _channel_count(path)
    try:
        if source_channels >= 2:
            left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            channels: tuple[Samples, ...] = (left, right)
        else:
            channels = (decode_audio(str(path), sampling_rate=SAMPLE_RATE),)
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioUndecodable(f"{path.name}: {getattr(exc, 'strerror', None) or exc}") from exc
    if not len(channels[0]):
        raise AudioUndecodable(f"{path.name}: decoded to no samples")
    return DecodedAudio(channels=channels, source_channels=source_channels)
