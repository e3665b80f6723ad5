"""Hypothesis strategies: broken recordings and broken sidecars, as a PBX (or an attacker) could upload.

Recordings start from small valid files of every accepted kind (PCM, µ-law and A-law WAV, stereo,
FLAC, MP3, Ogg/Opus) and get their header fields set to edge values (channels, sample rate, byte
rate, block align, bits, format tag, RIFF and data sizes larger or smaller than the file), bytes
flipped, the file cut short anywhere, junk appended — or are random bytes outright.

Sidecars are JSON objects whose every metadata field may hold any JSON value (wrong types, huge
strings, unicode, nesting, NaN), plausible-but-edge values (whitespace, impossible dates and time
zones), unknown keys, and raw bytes around the JSON (BOM, truncation, lone surrogates, non-UTF-8).
"""

from __future__ import annotations

import json
import struct
from functools import cache
from typing import Any

from hypothesis import strategies as st

from tests.audio_factory import pcm_wav, reencode


@cache
def base_recordings() -> dict[str, bytes]:
    mono = pcm_wav(seconds=0.6)
    return {
        "pcm16-mono.wav": mono,
        "pcm16-stereo.wav": pcm_wav(seconds=0.6, channels=2),
        "mulaw.wav": reencode(mono, "pcm_mulaw"),
        "alaw.wav": reencode(mono, "pcm_alaw"),
        "flac.flac": reencode(mono, "flac", container="flac"),
        "mp3.mp3": reencode(mono, "mp3", container="mp3"),
        "opus.ogg": reencode(mono, "libopus", container="ogg"),
    }


#: (offset, struct format) of the canonical RIFF/WAVE fmt chunk fields (``fmt `` right after ``WAVE``).
WAV_FIELDS = {
    "riff_size": (4, "<I"),
    "fmt_size": (16, "<I"),
    "format_tag": (20, "<H"),
    "channels": (22, "<H"),
    "sample_rate": (24, "<I"),
    "byte_rate": (28, "<I"),
    "block_align": (32, "<H"),
    "bits_per_sample": (34, "<H"),
}
EDGE_U16 = [0, 1, 2, 3, 6, 7, 8, 16, 24, 32, 64, 255, 256, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
EDGE_U32 = [0, 1, 2, 8000, 16000, 44100, 192000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]


@st.composite
def mutated_recording(draw: st.DrawFn) -> tuple[str, bytes]:
    """(name of the base it came from, bytes)."""
    name = draw(st.sampled_from(sorted(base_recordings())))
    data = bytearray(base_recordings()[name])
    if name.endswith(".wav"):
        for field in draw(st.lists(st.sampled_from(sorted(WAV_FIELDS)), max_size=3, unique=True)):
            offset, layout = WAV_FIELDS[field]
            edges, bits = (EDGE_U16, 16) if layout == "<H" else (EDGE_U32, 32)
            struct.pack_into(layout, data, offset, draw(st.sampled_from(edges) | st.integers(0, 2**bits - 1)))
        data_chunk = data.find(b"data")
        if data_chunk > 0 and draw(st.booleans()):  # data size larger or smaller than what is there
            present = len(data) - data_chunk - 8
            size = draw(
                st.sampled_from([0, 1, present - 1, present + 1, present * 2, 0xFFFFFFFF])
                | st.integers(0, 2**32 - 1)
            )
            struct.pack_into("<I", data, data_chunk + 4, max(0, size))
    for _ in range(draw(st.integers(0, 4))):  # flipped bytes, mostly in the headers
        at = draw(st.integers(0, min(len(data), 128) - 1))
        data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):  # cut short anywhere: a short read, an upload that stopped
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 4)) == 0:
        data += draw(st.binary(min_size=1, max_size=512))
    return name, bytes(data)


recordings = st.one_of(
    mutated_recording(),
    st.binary(max_size=2048).map(lambda raw: ("random", raw)),
    st.binary(max_size=512).map(lambda raw: ("riff-prefixed", b"RIFF\x24\x00\x00\x00WAVEfmt " + raw)),
)

# --- sidecars ------------------------------------------------------------------------------------------

FIELDS = (
    "direction", "agent_id", "team", "queue", "customer_phone", "started_at", "pbx_call_id", "language",
    "agent_channel",
)  # fmt: skip

text = st.text(max_size=40)
huge = st.integers(1_000, 70_000).map(lambda n: "é" * n)
edge_text = st.sampled_from(["", " ", "\t\n", "\u200b", "null", "None", "0", "-1", "ü" * 600, "x" * 2100])
json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | text | edge_text
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
EDGE_TIMES = [
    "2026-11-20T10:15:00+03:00", "2026-11-20T10:15:00", "2026-02-30T10:00:00Z", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z", "yesterday", "1795174200", "",
]  # fmt: skip
timestamps = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(EDGE_TIMES),
    st.integers(-(2**63), 2**63),
    st.floats(),
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "direction": st.sampled_from(
        ["inbound", "outbound", "internal", "unknown", "INBOUND", " inbound ", "sideways"]
    ),
    "agent_channel": st.sampled_from(["left", "right", "Left", "", "both"]),
    "customer_phone": st.from_regex(r"\+?[0-9 ()\-]{0,24}", fullmatch=True),
    "started_at": timestamps,
    "language": st.sampled_from(["ru", "en", "RU", "xx", "", "ru-RU"]),
}


def field_value(name: str) -> st.SearchStrategy[Any]:
    return FIELD_VALUES.get(name, text | edge_text) | json_value | huge


sidecar_documents = st.fixed_dictionaries(
    {}, optional={name: field_value(name) for name in FIELDS} | {"extra": json_value, "": json_value}
)


@st.composite
def sidecar_bytes(draw: st.DrawFn) -> bytes:
    """A sidecar as stored in S3: mostly a JSON object, sometimes anything but."""
    kind = draw(
        st.sampled_from(["object", "object", "object", "other_json", "bytes", "surrogate", "truncated"])
    )
    if kind == "other_json":
        return json.dumps(draw(json_value)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    document = draw(sidecar_documents)
    raw = json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if kind == "surrogate":  # a lone UTF-16 surrogate escape, legal JSON, not a legal string
        raw = raw.replace(b"{", b'{"team": "\\udc80", ', 1) if raw != b"{}" else b'{"agent_id": "\\ud800"}'
    if kind == "truncated":
        raw = raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    if draw(st.integers(0, 5)) == 0:
        raw = b"\xef\xbb\xbf" + raw  # a byte-order mark, as Windows tools write
    return raw
