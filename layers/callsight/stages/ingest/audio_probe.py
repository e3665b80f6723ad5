"""Prove a file is a recording we can transcribe: container, codec, rate, channels, real duration.

Uses PyAV (FFmpeg bundled in its wheel). The whole stream is decoded once, because only decoding
shows a truncated file or a corrupt stream; telephony audio decodes at hundreds of times real time.
Raises :class:`AudioRejected` with a :class:`QuarantineReason` and a human detail.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av

from callsight.models.call import AudioFacts, QuarantineReason

#: A decoded duration shorter than this share of the header's duration means the file was cut off.
TRUNCATION_TOLERANCE = 0.98


class AudioRejected(Exception):
    def __init__(self, reason: QuarantineReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def probe_audio(
    path: Path, *, accepted_codecs: frozenset[str], max_duration_s: float, min_duration_s: float
) -> AudioFacts:
    """Open, check and fully decode ``path``; return what it is or raise :class:`AudioRejected`."""
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioRejected(
            QuarantineReason.NOT_AUDIO,
            f"no audio container could be recognised ({getattr(exc, 'strerror', None) or exc})",
        ) from exc
    with container:
        if not container.streams.audio:
            raise AudioRejected(
                QuarantineReason.NOT_AUDIO, f"container {container.format.name!r} holds no audio stream"
            )
        stream = container.streams.audio[0]
        if stream.codec_context is None:  # e.g. a WAV format tag no FFmpeg decoder knows
            raise AudioRejected(
                QuarantineReason.UNSUPPORTED_CODEC,
                f"container {container.format.name!r} holds audio in a codec that no decoder here knows",
            )
        codec = stream.codec_context.name
        if codec not in accepted_codecs:
            raise AudioRejected(
                QuarantineReason.UNSUPPORTED_CODEC,
                f"codec {codec!r} is not accepted (accepted: {', '.join(sorted(accepted_codecs))})",
            )
        declared_s = _declared_duration(container, stream)
        if container.format.name == "wav":
            _check_riff_length(path)
        if declared_s is not None and declared_s > max_duration_s:
            raise AudioRejected(
                QuarantineReason.TOO_LONG,
                f"declared duration {declared_s:.0f} s exceeds the limit {max_duration_s:.0f} s",
            )
        decoded_s, decode_error = _decoded_duration(container, stream, max_duration_s)
        facts = AudioFacts(
            container=container.format.name,
            codec=codec,
            sample_rate=stream.codec_context.sample_rate,
            channels=stream.codec_context.channels,
            duration_s=round(decoded_s, 3),
        )
    _check_decoded(facts, declared_s, decode_error, max_duration_s, min_duration_s)
    return facts


#: Streaming writers put these in the data-chunk size while a recording is still open: "unknown".
_RIFF_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})


def _check_riff_length(path: Path) -> None:
    """FFmpeg trims a WAV's duration to the bytes present; compare the ``data`` chunk's size instead."""
    file_size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
            return
        offset = 12
        while offset + 8 <= file_size:
            handle.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                available = file_size - offset - 8
                if chunk_size not in _RIFF_UNKNOWN_SIZES and available < chunk_size:
                    raise AudioRejected(
                        QuarantineReason.TRUNCATED,
                        f"WAV data chunk declares {chunk_size} bytes but only {available} are present",
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)


def _declared_duration(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / av.time_base
    return None


def _decoded_duration(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream, max_duration_s: float
) -> tuple[float, str | None]:
    samples = 0
    rate = stream.codec_context.sample_rate or 1
    try:
        for frame in container.decode(stream):
            samples += frame.samples
            if samples / rate > max_duration_s:
                break
    except av.error.FFmpegError as exc:
        return samples / rate, str(exc)
    return samples / rate, None


def _check_decoded(
    facts: AudioFacts,
    declared_s: float | None,
    decode_error: str | None,
    max_duration_s: float,
    min_duration_s: float,
) -> None:
    if facts.duration_s > max_duration_s:
        raise AudioRejected(
            QuarantineReason.TOO_LONG, f"decoded duration exceeds the limit {max_duration_s:.0f} s"
        )
    if facts.duration_s == 0:
        raise AudioRejected(
            QuarantineReason.NOT_AUDIO, f"no audio could be decoded ({decode_error or 'empty stream'})"
        )
    if decode_error is not None:
        raise AudioRejected(
            QuarantineReason.TRUNCATED, f"decoding stopped after {facts.duration_s:.2f} s: {decode_error}"
        )
    if declared_s and facts.duration_s < declared_s * TRUNCATION_TOLERANCE:
        raise AudioRejected(
            QuarantineReason.TRUNCATED,
            f"header declares {declared_s:.2f} s but only {facts.duration_s:.2f} s of audio is present",
        )
    if facts.duration_s < min_duration_s:
        raise AudioRejected(
            QuarantineReason.TOO_SHORT,
            f"{facts.duration_s:.2f} s is shorter than the minimum {min_duration_s:.2f} s",
        )
