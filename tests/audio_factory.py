"""Test audio made on the spot with the standard library and PyAV (no fixtures to download)."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import av


def pcm_wav(seconds: float = 2.0, rate: int = 8000, channels: int = 1, tone_hz: float = 440.0) -> bytes:
    """A sine tone as 16-bit PCM WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            sample = struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone_hz * i / rate)))
            frames += sample * channels
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def reencode(wav_bytes: bytes, codec: str, container: str = "wav") -> bytes:
    """Re-encode a PCM WAV with another codec (e.g. ``adpcm_ima_wav``) using PyAV's FFmpeg."""
    source = av.open(io.BytesIO(wav_bytes))
    target_buffer = io.BytesIO()
    target = av.open(target_buffer, mode="w", format=container)
    in_stream = source.streams.audio[0]
    sample_format = av.codec.Codec(codec, "w").audio_formats[0].name
    layout = "stereo" if in_stream.channels == 2 else "mono"
    out_stream = target.add_stream(codec, rate=in_stream.rate, layout=layout, format=sample_format)
    resampler = av.AudioResampler(
        format=sample_format,
        layout=layout,
        rate=in_stream.rate,
        frame_size=out_stream.codec_context.frame_size or None,
    )
    for frame in source.decode(in_stream):
        for converted in resampler.resample(frame):
            converted.pts = None
            for packet in out_stream.encode(converted):
                target.mux(packet)
    for packet in out_stream.encode(None):
        target.mux(packet)
    target.close()
    source.close()
    return target_buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
